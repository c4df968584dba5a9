"""The website as a student reads it, on a phone (390x844) and a laptop (1280x900).

Navigation works at both sizes, and every table a chapter computes arrives as a table with its
maths typeset.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import builtsite

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}
SIZES = {"phone": PHONE, "laptop": LAPTOP}

START = "chapters/02_linear_discriminants.html"

# Chapter-list links a reader can see: inside the viewport and not hidden.
_VISIBLE_CHAPTER_LINKS = """() => [...document
    .querySelectorAll('nav.bd-docs-nav a.reference.internal')]
    .filter((a) => {
        const box = a.getBoundingClientRect();
        return a.checkVisibility({visibilityProperty: true, opacityProperty: true}) && box.width > 0
            && box.right > 0 && box.left < window.innerWidth
            && box.bottom > 0 && box.top < window.innerHeight;
    })
    .map((a) => ({text: a.textContent.trim(), href: a.getAttribute('href')}))"""

_VISIBLE_CONTENTS_LINKS = _VISIBLE_CHAPTER_LINKS.replace(
    "nav.bd-docs-nav a.reference.internal", "#pst-page-toc-nav a"
)


def _light_context(browser, viewport: dict):
    """A context without MathJax and the widget libraries: navigation does not need them."""
    context = browser.new_context(viewport=viewport)
    context.route(re.compile(r"/_static/(mathjax|widgets)/"), lambda route: route.abort())
    return context


def _light_page(browser, base_url: str, path: str, viewport: dict = PHONE):
    """A light context (390x844 unless told) with the page loaded: for what needs no maths."""
    context = _light_context(browser, viewport)
    page = context.new_page()
    page.goto(base_url + path, wait_until="load")
    return context, page


@pytest.mark.parametrize("size", SIZES)
def test_hamburger_opens_the_chapter_list_and_a_link_reaches_its_chapter(
    browser, base_url: str, size: str
) -> None:
    context = _light_context(browser, SIZES[size])
    try:
        page = context.new_page()
        page.goto(base_url + START, wait_until="load")
        hamburger = page.locator(".primary-toggle:visible")
        assert hamburger.count() == 1, (
            f"{size}: expected one visible chapter-list button, found {hamburger.count()}"
        )
        if size == "phone":
            assert page.evaluate(_VISIBLE_CHAPTER_LINKS) == [], (
                "phone: the chapter list shows before the hamburger is tapped"
            )
        else:  # the list is shown beside the page; the button hides it and brings it back
            assert page.evaluate(_VISIBLE_CHAPTER_LINKS), (
                "laptop: the chapter list is not shown beside the page"
            )
            hamburger.click()
            page.wait_for_function(
                f"() => ({_VISIBLE_CHAPTER_LINKS})().length === 0", timeout=5_000
            )
        hamburger.click()
        page.wait_for_function(f"() => ({_VISIBLE_CHAPTER_LINKS})().length > 0", timeout=5_000)
        links = page.evaluate(_VISIBLE_CHAPTER_LINKS)
        target = next(link for link in links if "softmax" in link["href"])
        page.locator(f"nav.bd-docs-nav a.reference.internal[href='{target['href']}']").first.click()
        page.wait_for_url("**/chapters/05_softmax_and_cross_entropy.html", timeout=10_000)
        title = page.locator("article h1").first.inner_text().replace("#", "").strip()
        assert title == target["text"], (
            f"{size}: the link {target['text']!r} opened a page titled {title!r}"
        )
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_contents_of_the_page_are_reachable(browser, base_url: str, size: str) -> None:
    context = _light_context(browser, SIZES[size])
    try:
        page = context.new_page()
        page.goto(base_url + START, wait_until="load")
        if size == "phone":
            assert page.evaluate(_VISIBLE_CONTENTS_LINKS) == [], (
                "phone: the page contents show before they are asked for"
            )
            button = page.locator(".secondary-toggle:visible")
            assert button.count() == 1, (
                f"phone: expected one visible contents button, found {button.count()}"
            )
            button.click()
            page.wait_for_function(f"() => ({_VISIBLE_CONTENTS_LINKS})().length > 0", timeout=5_000)
        entries = page.evaluate(_VISIBLE_CONTENTS_LINKS)
        assert any("Two regions" in entry["text"] for entry in entries), (
            f"{size}: the page contents list no sections: {entries}"
        )
        section = entries[0]["href"]
        page.locator(f"#pst-page-toc-nav a[href='{section}']").first.click()
        page.wait_for_function(f"() => location.hash === {section!r}", timeout=5_000)
    finally:
        context.close()


def test_top_bar_has_no_second_search_box(browser, base_url: str) -> None:
    context = _light_context(browser, LAPTOP)
    try:
        page = context.new_page()
        page.goto(base_url + START, wait_until="load")
        fields = page.locator(".search-button-field:visible")
        assert fields.count() == 1, (
            f"laptop: {fields.count()} search boxes are shown, expected the sidebar's one"
        )
    finally:
        context.close()


def test_no_page_shows_a_raw_markdown_table(site: Path) -> None:
    """A table left as Markdown text shows up as a paragraph of pipes."""
    raw = {}
    for path in builtsite.pages(site):
        html = (site / path).read_text(encoding="utf-8")
        found = re.findall(r"<p>\s*(\|[^<]{0,60})", html)
        if found:
            raw[path] = found[0]
    assert raw == {}, f"pages with a raw Markdown table: {raw}"


def _pages_with_tables(site: Path) -> list[str]:
    return [
        path
        for path in builtsite.pages(site)
        if "<table" in (site / path).read_text(encoding="utf-8")
    ]


def test_table_cells_have_their_maths_typeset(open_page, site: Path) -> None:
    """Every computed table cell holding maths shows typeset maths, never ``$`` or TeX."""
    checked = 0
    for path in _pages_with_tables(site):
        if "$" not in (site / path).read_text(encoding="utf-8"):
            continue
        cells = open_page(path).page.evaluate("""() => [...document
            .querySelectorAll('article table td, article table th')]
            .map((cell) => ({math: cell.querySelectorAll('mjx-container').length,
                             text: cell.cloneNode(true).textContent}))""")
        checked += sum(cell["math"] for cell in cells)
        untypeset = [cell["text"] for cell in cells if "$" in cell["text"] or "\\" in cell["text"]]
        assert untypeset == [], f"{path}: table cells with raw TeX: {untypeset[:3]}"
    assert checked > 0, "no table cell holds typeset maths; the chapters' tables have $...$ headers"


# --- what a phone, a screen reader and a static page need -------------------------------------

_FILE_NAME = re.compile(r"(^|/)[\w.-]+\.(png|svg|jpe?g|gif|webp)$", re.IGNORECASE)


def _rendered_page(browser, base_url: str, path: str, viewport: dict = PHONE):
    """A context (390x844 unless told) with the page fully rendered (maths and widgets change
    the width)."""
    from site_browser import wait_until_rendered

    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(base_url + path, wait_until="load")
    wait_until_rendered(page)
    return context, page


@pytest.mark.slow
def test_no_page_scrolls_sideways_on_a_phone(browser, base_url: str, page_path: str) -> None:
    context, page = _rendered_page(browser, base_url, page_path)
    try:
        widths = page.evaluate(
            "() => ({page: document.documentElement.scrollWidth, window: window.innerWidth})"
        )
        if widths["page"] > widths["window"]:
            culprits = page.evaluate("""() => [...document.querySelectorAll('article *')]
                .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(-3)
                .map((el) => el.tagName + ' ' + (el.textContent || '').trim().slice(0, 40))""")
            pytest.fail(
                f"{page_path} scrolls sideways at 390 px ({widths['page']} px wide): {culprits}"
            )
    finally:
        context.close()


#: Descriptions that name no content: a section's title stands in, or a bare word.
_PLACEHOLDER_ALT = re.compile(
    r"^(figure|image|plot|graph)?\s*$|^figure of the section", re.IGNORECASE
)


def _undescribed(alt: str | None) -> bool:
    text = (alt or "").strip()
    return not text or bool(_FILE_NAME.search(text) or _PLACEHOLDER_ALT.search(text))


def test_every_image_says_what_it_shows(open_page, page_path: str) -> None:
    """No image is described by a file name, a section title or a bare "Figure"."""
    images = open_page(page_path).page.evaluate(
        "() => [...document.querySelectorAll('img')]"
        ".map((img) => ({alt: img.getAttribute('alt'), src: img.src}))"
    )
    bad = [image for image in images if _undescribed(image["alt"])]
    assert bad == [], f"{page_path}: images without a description: {bad[:3]}"


def test_the_alt_text_check_catches_placeholders() -> None:
    for placeholder in [
        "",
        "  ",
        "Figure",
        "figure of the section \u201cTraining\u201d",
        "abc123.png",
        "_images/x.svg",
    ]:
        assert _undescribed(placeholder), placeholder
    assert not _undescribed("Figure: loss during training: mean cross-entropy against step")


def test_a_slider_figure_says_what_it_shows_in_its_current_state(
    browser, base_url: str, site: Path, widget_page: str
) -> None:
    """Each player's picture names what it shows and the controls' values, kept up to date."""
    from site_browser import wait_until_rendered

    players = builtsite.page_info(site, widget_page).players
    assert players, f"{widget_page}: no frame player"
    context = browser.new_context(viewport=LAPTOP)
    try:
        page = context.new_page()
        page.goto(base_url + widget_page, wait_until="load")
        wait_until_rendered(page)
        for player in players:
            frame = page.locator(f"#ck-{player['id']} img.ck-frame")
            alt = frame.get_attribute("alt") or ""
            assert not _undescribed(alt) and " = " in alt, (
                f"{widget_page}, app {player['id']}: the figure is described as {alt!r}"
            )
        player = next((p for p in players if any(a["kind"] == "range" for a in p["axes"])), None)
        assert player is not None, f"{widget_page}: no app with a slider the website varies"
        axis = next(a for a in player["axes"] if a["kind"] == "range")
        frame = page.locator(f"#ck-{player['id']} img.ck-frame")
        before = frame.get_attribute("alt")
        end = len(axis["keys"]) - 1 if axis["default"] != len(axis["keys"]) - 1 else 0
        slider = page.locator(f"#ck-{player['id']}-{axis['name']}")
        slider.scroll_into_view_if_needed()
        slider.focus()
        page.keyboard.press("End" if end else "Home")
        page.wait_for_function(
            "([el, old]) => el.getAttribute('alt') !== old",
            arg=[frame.element_handle(), before],
            timeout=5_000,
        )
        after = frame.get_attribute("alt") or ""
        assert f"{axis['label']} = {axis['texts'][end]}" in after, (
            f"{widget_page}, app {player['id']}: after moving {axis['label']!r} the figure is "
            f"described as {after!r}"
        )
    finally:
        context.close()


def test_every_slider_is_named_by_its_full_label(open_page, widget_page: str) -> None:
    page = open_page(widget_page).page
    # ipywidgets handles, and the range inputs of the frame players (named by their <label>)
    sliders = page.evaluate("""() => [
        ...document.querySelectorAll('[role="slider"], input[type="range"]'),
    ].map((handle) => {
        if (handle.matches('input')) {
            const label = handle.labels && handle.labels[0];
            const text = label ? label.textContent.trim() : '';
            return {name: text, label: text,
                    cut: label ? label.scrollWidth > label.clientWidth + 1 : false};
        }
        const control = handle.closest('.widget-slider');
        const label = control && control.querySelector('.widget-label');
        return {name: handle.getAttribute('aria-label') || '',
                label: label ? label.textContent.trim() : '',
                cut: label ? label.scrollWidth > label.clientWidth + 1 : false};
    })""")
    for slider in sliders:
        assert slider["name"], (
            f"{widget_page}: a slider has no accessible name (label {slider['label']!r})"
        )
        assert slider["name"] == slider["label"], (
            f"{widget_page}: slider named {slider['name']!r} but labelled {slider['label']!r}"
        )
        assert not slider["cut"], f"{widget_page}: the label {slider['label']!r} is cut off"
        assert page.get_by_role("slider", name=slider["name"], exact=True).count() >= 1


def test_a_static_slider_never_shows_a_readout_the_figure_does_not_match(
    browser, base_url: str, widget_page: str
) -> None:
    """A slider redraws the figure when moved, or is disabled and the note says how to go live."""
    from site_browser import wait_until_rendered

    from coursekit.widgets.app import LIVE_APP_NOTE

    context = browser.new_context(viewport=LAPTOP)
    try:
        page = context.new_page()
        page.goto(base_url + widget_page, wait_until="load")
        wait_until_rendered(page)
        # ipywidgets apps, or the frame players that replaced them (native range inputs)
        apps = page.locator(".cell_output:has([role='slider'], input[type='range'])")
        assert apps.count() > 0, f"{widget_page}: no slider app rendered"
        for index in range(apps.count()):
            app = apps.nth(index)

            def figure(app=app) -> str:
                return app.evaluate(
                    "(el) => [...el.querySelectorAll('img')].map((img) => img.src).join()"
                )

            def readouts(app=app) -> str:
                return app.evaluate(
                    "(el) => [...el.querySelectorAll('.widget-readout, output')]"
                    ".map((r) => r.textContent).join('|')"
                )

            handles = app.locator("[role='slider'], input[type='range']")
            for h in range(handles.count()):
                handle = handles.nth(h)
                before_figure, before_readouts = figure(), readouts()
                handle.scroll_into_view_if_needed()
                box = handle.bounding_box()
                page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
                page.mouse.down()
                page.mouse.move(box["x"] + 120, box["y"] + box["height"] / 2, steps=4)
                page.mouse.up()
                page.wait_for_timeout(100)
                # a slider that starts at its minimum is back at its initial value after "Home"
                redrawn = figure() != before_figure
                handle.focus()
                page.keyboard.press("ArrowRight")
                page.keyboard.press("ArrowLeft")
                page.keyboard.press("Home")
                page.wait_for_timeout(100)
                if redrawn or figure() != before_figure:
                    continue
                name = handle.get_attribute("aria-label") or handle.get_attribute("id")
                assert readouts() == before_readouts, (
                    f"{widget_page}: slider {name!r} moved its readout but not the figure"
                )
                disabled = handle.get_attribute("aria-disabled") == "true" or handle.is_disabled()
                assert disabled, f"{widget_page}: slider {name!r} looks live but cannot redraw"
                notes = app.locator("p.course-live-note")
                assert notes.count() == 1 and notes.inner_text().strip() == LIVE_APP_NOTE, (
                    f"{widget_page}: the disabled slider app has no note saying how to get it live"
                )
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_errata_claims_tables_show_every_column_without_scrolling(
    browser, base_url: str, size: str
) -> None:
    """Each quantity of the errata's tables sits next to the notes' and the recomputed value."""
    from site_browser import wait_until_rendered

    context = browser.new_context(viewport=SIZES[size])
    try:
        page = context.new_page()
        page.goto(base_url + "chapters/errata.html", wait_until="load")
        wait_until_rendered(page)
        tables = page.evaluate("""() => [
            ...document.querySelectorAll('article .course-claims table')].map((table) => {
                const box = table.parentElement;
                return {columns: table.rows[0].cells.length,
                        right: table.getBoundingClientRect().right,
                        box: box.getBoundingClientRect().right,
                        scrolls: box.scrollWidth > box.clientWidth + 1};
            })""")
        assert len(tables) == 2, f"{size}: expected a table per example, found {len(tables)}"
        for table in tables:
            assert table["columns"] == 3
            assert not table["scrolls"] and table["right"] <= table["box"] + 1, (
                f"{size}: a claims table is wider than the page and scrolls in its box: {table}"
            )
    finally:
        context.close()


# tex(container): the TeX source of a typeset equation, which MathJax keeps for every equation.
_TEX_OF_EQUATION = """const items = Array.from(MathJax.startup.document.math);
    const tex = (container) => {
        const item = items.find((math) => math.typesetRoot === container);
        return (item ? item.math : container.textContent).replace(/\\s+/g, ' ').trim();
    };"""

# Display equations wider than the column they sit in (MathJax lets them scroll inside their box,
# so a reader sees them cut off). Each is named by its number, if it has one, and by its TeX.
_WIDE_DISPLAY_EQUATIONS = """() => {
    TEX_OF_EQUATION
    const containers = [...document.querySelectorAll('article mjx-container[display="true"]')];
    const wide = containers.filter((container) => {
        const column = container.parentElement.clientWidth;
        return container.scrollWidth > container.clientWidth + 1
            || container.getBoundingClientRect().width > column + 1;
    }).map((container) => {
        const number = container.parentElement.querySelector(':scope > .eqno');
        return {number: number ? number.firstChild.textContent.trim() : '',
                tex: tex(container).slice(0, 90), width: container.scrollWidth,
                column: container.clientWidth};
    });
    return {count: containers.length, wide};
}""".replace("TEX_OF_EQUATION", _TEX_OF_EQUATION)


@pytest.mark.slow
def test_every_display_equation_fits_a_phone_column(
    browser, base_url: str, chapter_notebook_page: str
) -> None:
    """At 390 px no display equation of a chapter is cut off: each fits the width it is given."""
    context, page = _rendered_page(browser, base_url, chapter_notebook_page)
    try:
        found = page.evaluate(_WIDE_DISPLAY_EQUATIONS)
        assert found["count"] > 0, f"{chapter_notebook_page}: no display equation was typeset"
        wide = [
            f"{eq['number'] or 'unnumbered'} {eq['tex']!r} ({eq['width']} px in {eq['column']} px)"
            for eq in found["wide"]
        ]
        if wide:
            pytest.fail(
                f"{chapter_notebook_page}: {len(wide)} display equations are wider than their "
                "column at 390 px:\n  " + "\n  ".join(wide)
            )
    finally:
        context.close()


# The inline equations of the page that reach past the right edge of the paragraph (or list
# item, table cell) they sit in: MathJax does not break an inline equation, and the page hides
# what sticks out, so a reader sees it cut off.
_CUT_OFF_INLINE_EQUATIONS = """() => {
    TEX_OF_EQUATION
    const inline = 'article mjx-container:not([display="true"])';
    const containers = [...document.querySelectorAll(inline)];
    const cut = containers.filter((container) => {
        const block = container.closest('p, li, td, th, dd, dt') || container.parentElement;
        const style = getComputedStyle(block);
        const right = block.getBoundingClientRect().right - parseFloat(style.paddingRight);
        return !container.closest('.cell_output, table')
            && container.getBoundingClientRect().right > right + 1;
    }).map((container) => ({tex: tex(container).slice(0, 90),
                            width: Math.round(container.getBoundingClientRect().width)}));
    return {count: containers.length, cut};
}""".replace("TEX_OF_EQUATION", _TEX_OF_EQUATION)


@pytest.mark.slow
def test_no_inline_equation_is_cut_off_on_a_phone(browser, base_url: str, math_page: str) -> None:
    """At 390 px every inline equation of a page ends inside its paragraph: one too long for a
    line is written as pieces the line can break between."""
    context, page = _rendered_page(browser, base_url, math_page)
    try:
        found = page.evaluate(_CUT_OFF_INLINE_EQUATIONS)
        cut = [f"{eq['tex']!r} ({eq['width']} px)" for eq in found["cut"]]
        if cut:
            pytest.fail(
                f"{math_page}: {len(cut)} inline equations run past their paragraph at 390 px:\n  "
                + "\n  ".join(cut)
            )
    finally:
        context.close()


# Every printed output of the page at 390 px: whether it is marked a table, how wide its text is
# against its box, and for a table whether each row stayed on one line.
_PRINTED_OUTPUTS = """() => [...document.querySelectorAll('article div.output.stream')]
.map((output) => {
    const pre = output.querySelector('pre');
    const lines = pre.textContent.replace(/\\n$/, '').split('\\n').length;
    const lineHeight = parseFloat(getComputedStyle(pre).lineHeight);
    const padding = parseFloat(getComputedStyle(pre).paddingTop)
        + parseFloat(getComputedStyle(pre).paddingBottom);
    return {table: output.classList.contains('course-table-output'),
            text: pre.textContent.trim().slice(0, 60), width: pre.scrollWidth,
            box: pre.clientWidth, rows: Math.round((pre.clientHeight - padding) / lineHeight),
            lines};
})"""


def test_printed_text_is_read_without_scrolling_sideways_on_a_phone(
    browser, base_url: str, chapter_notebook_page: str
) -> None:
    """At 390 px what a cell prints wraps inside its box; a printed table keeps its rows whole."""
    context, page = _light_page(browser, base_url, chapter_notebook_page)
    try:
        outputs = page.evaluate(_PRINTED_OUTPUTS)
        assert outputs, f"{chapter_notebook_page}: no printed output found"
        cut = [
            f"{o['text']!r} ({o['width']} px in {o['box']} px)"
            for o in outputs
            if not o["table"] and o["width"] > o["box"] + 1
        ]
        assert cut == [], (
            f"{chapter_notebook_page}: printed text cut at the right edge at 390 px:\n  "
            + "\n  ".join(cut)
        )
        scrambled = [o["text"] for o in outputs if o["table"] and o["rows"] != o["lines"]]
        assert scrambled == [], f"{chapter_notebook_page}: printed tables with wrapped rows"
    finally:
        context.close()


# Code cells whose longest line is wider than their box (the box then scrolls sideways, and a
# reader sees the line cut off), with the hidden sources opened first; each is named by its
# first line and its widest line.
_WIDE_CODE_CELLS = """() => {
    document.querySelectorAll('article details').forEach((d) => { d.open = true; });
    const cells = [...document.querySelectorAll('article .cell_input pre')];
    const wide = cells.filter((pre) => pre.scrollWidth > pre.clientWidth + 1).map((pre) => {
        const lines = pre.textContent.split('\\n');
        const widest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
        return {first: lines[0].slice(0, 50), widest: widest.trim().slice(0, 60),
                width: pre.scrollWidth, box: pre.clientWidth};
    });
    return {count: cells.length, wide};
}"""


@pytest.mark.slow
def test_every_code_cell_fits_a_laptop_column(
    browser, base_url: str, chapter_notebook_page: str
) -> None:
    """At 1280x900 a chapter's code is read without scrolling sideways inside a cell."""
    context, page = _rendered_page(browser, base_url, chapter_notebook_page, LAPTOP)
    try:
        found = page.evaluate(_WIDE_CODE_CELLS)
        assert found["count"] > 0, f"{chapter_notebook_page}: no code cell found"
        wide = [
            f"cell starting {cell['first']!r}: {cell['widest']!r} "
            f"({cell['width']} px in {cell['box']} px)"
            for cell in found["wide"]
        ]
        if wide:
            pytest.fail(
                f"{chapter_notebook_page}: {len(wide)} of {found['count']} code cells scroll "
                "sideways at 1280 px:\n  " + "\n  ".join(wide)
            )
    finally:
        context.close()


# Every figure a chapter's code draws (not the frames of a slider app), once loaded: how wide
# its image is and how wide it is drawn, where, its alt text, and which cell tagged side-by-side
# holds it (-1: none).
_CHAPTER_FIGURES = """async () => {
    const images = [...document.querySelectorAll('article .cell_output img:not(.ck-frame)')];
    images.forEach((img) => { img.loading = 'eager'; });
    await Promise.all(images.map((img) => img.decode().catch(() => null)));
    const cells = [...document.querySelectorAll('article .tag_side-by-side')];
    return images.map((img) => {
        const box = img.getBoundingClientRect();
        return {natural: img.naturalWidth, width: box.width, height: box.height,
                left: box.left, top: box.top + window.scrollY, alt: img.alt,
                cell: cells.findIndex((cell) => cell.contains(img))};
    });
}"""
#: The smallest fraction of its own size a figure may be drawn at: at half size the ten-point
#: text of a Matplotlib figure is still 7 px tall.
MIN_FIGURE_SCALE = 0.5
#: A computation graph is as wide as the graph is deep; on a phone it opens full size on a tap.
WIDE_DIAGRAM = "Figure: computation graph"
#: The narrowest a figure a reader needs whole may be drawn on a phone (the column is 358 px).
MIN_PHONE_PANEL = 330


def _chapter_figures(browser, base_url: str, path: str, size: str) -> list[dict]:
    context, page = _light_page(browser, base_url, path, SIZES[size])
    try:
        return page.evaluate(_CHAPTER_FIGURES)
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_no_figure_is_drawn_at_less_than_half_its_size(
    browser, base_url: str, chapter_notebook_page: str, size: str
) -> None:
    """A figure of several panels in a row, shrunk to a phone's column, turns its labels into
    specks: every figure a chapter draws keeps at least half its size on a phone and a laptop."""
    figures = _chapter_figures(browser, base_url, chapter_notebook_page, size)
    assert figures, f"{chapter_notebook_page}: no figure found"
    assert all(f["natural"] > 0 for f in figures), f"{chapter_notebook_page}: a figure did not load"
    small = [
        f"{f['alt'][:70]!r}: {f['width']:.0f} px for an image {f['natural']} px wide"
        for f in figures
        if f["width"] < MIN_FIGURE_SCALE * f["natural"] and not f["alt"].startswith(WIDE_DIAGRAM)
    ]
    if small:
        pytest.fail(
            f"{chapter_notebook_page} at {size} size: {len(small)} figures are drawn at less than "
            f"{MIN_FIGURE_SCALE:.0%} of their size:\n  " + "\n  ".join(small)
        )


def _side_by_side_cells(notebook_source: str | None) -> int:
    cells = json.loads(notebook_source or "{}").get("cells", [])
    return sum("side-by-side" in cell.get("metadata", {}).get("tags", []) for cell in cells)


@pytest.mark.parametrize("size", SIZES)
def test_figures_drawn_side_by_side_stack_on_a_phone(
    browser, base_url: str, site: Path, chapter_notebook_page: str, size: str
) -> None:
    """A cell tagged side-by-side draws its figures in one row on a laptop, and one above the
    other on a phone, each the column's width; each figure is described on its own."""
    info = builtsite.page_info(site, chapter_notebook_page)
    expected = _side_by_side_cells(info.notebook_source)
    figures = _chapter_figures(browser, base_url, chapter_notebook_page, size)
    cells = [[f for f in figures if f["cell"] == k] for k in range(expected)]
    assert all(len(cell) >= 2 for cell in cells), (
        f"{chapter_notebook_page}: {expected} cells are tagged side-by-side, but the page shows "
        f"{[len(cell) for cell in cells]} figures in them"
    )
    for cell in cells:
        for figure in cell:
            assert " panels" not in figure["alt"], figure["alt"]
        pairs = list(zip(cell, cell[1:]))
        if size == "phone":
            assert min(f["width"] for f in cell) >= MIN_PHONE_PANEL, cell
            assert all(b["top"] >= a["top"] + a["height"] - 1 for a, b in pairs), (
                f"not stacked: {cell}"
            )
        else:
            assert all(abs(a["top"] - b["top"]) < 2 for a, b in pairs), (
                f"not in one row on a laptop: {cell}"
            )
            assert all(b["left"] >= a["left"] + a["width"] - 1 for a, b in pairs), cell


#: The chapter whose slider app draws its two panels one above the other.
STACKED_APP = "chapters/10_worked_examples.html"
#: The figures of the app, where each sits and how large it is drawn.
_PANEL_IMAGES = """(selector) => [...document.querySelectorAll(selector)].map((img) => {
    const box = img.getBoundingClientRect();
    return {left: box.left + window.scrollX, top: box.top + window.scrollY, width: box.width,
            height: box.height, alt: img.alt};
})"""


def test_the_worked_step_app_draws_its_panels_one_above_the_other_on_a_phone(
    browser, base_url: str
) -> None:
    """Chapter 10's app: its figure fills the phone's column and is taller than wide, so each
    of its two panels (loss curve, parameter changes) gets the whole width."""
    context, page = _light_page(browser, base_url, STACKED_APP)
    try:
        figure = page.locator(".ck-figure img").first
        figure.scroll_into_view_if_needed()
        figure.wait_for(state="visible")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.ck-figure img')].every((i) => i.complete)"
        )
        (image,) = page.evaluate(_PANEL_IMAGES, ".ck-figure img")
        assert image["width"] >= MIN_PHONE_PANEL, image
        assert image["height"] > image["width"], f"the panels sit side by side: {image}"
    finally:
        context.close()


# The right-aligned (numeric) cells of the tables the chapter's code cells compute, without maths,
# and on how many lines each cell's text is drawn.
_NUMBER_CELLS = """() => [...document.querySelectorAll('article .cell_output td.text-right')]
.filter((cell) => !cell.querySelector('.math, mjx-container') && cell.textContent.trim())
.map((cell) => {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    const tops = new Set();
    for (let text = walker.nextNode(); text; text = walker.nextNode()) {
        const range = document.createRange();
        range.selectNodeContents(text);
        for (const rect of range.getClientRects()) {
            if (rect.width > 0) tops.add(Math.round(rect.top));
        }
    }
    return {text: cell.textContent.trim(), lines: tops.size};
})"""


def test_numbers_in_computed_tables_stay_on_one_line_on_a_phone(
    browser, base_url: str, chapter_notebook_page: str
) -> None:
    """At 390 px no number of a computed table is broken across lines (3.31e- / 05)."""
    context, page = _light_page(browser, base_url, chapter_notebook_page)
    try:
        broken = [c["text"] for c in page.evaluate(_NUMBER_CELLS) if c["lines"] > 1]
        assert broken == [], f"{chapter_notebook_page}: numbers split across lines: {broken[:8]}"
    finally:
        context.close()
