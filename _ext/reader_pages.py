"""Sphinx extension: the pages as a reader meets them, on a phone, a slow line or a screen reader.

* **Navigation on phones.** pydata-sphinx-theme 0.17 renders a top bar of its own with a
  hidden chapter-list button and a hidden contents button, ahead of the two buttons
  sphinx-book-theme shows. Both themes' scripts bind their handler to the *first*
  ``.primary-toggle`` / ``.secondary-toggle`` in the page, the hidden ones, so the visible
  hamburger and contents buttons do nothing (upstream: pydata-sphinx-theme issue #2451). The
  top bar holds nothing else this book uses but a second search box (the sidebar has one and
  the article header a search button), so it is switched off: pydata-sphinx-theme renders the
  bar only when one of its ``navbar_*`` lists is non-empty, and sphinx-book-theme empties all
  but ``navbar_persistent``. Remove this once the upstream issue is fixed.
* **Slider apps on the static site.** The page embeds each app's controls and the figure drawn
  at build time, but without a kernel nothing redraws the figure: a slider that moved would show
  a readout the figure does not match. Every control of an app is therefore stored *disabled*
  in the page's widget state, and under the app the page says, in one sentence
  (:data:`coursekit.widgets.app.LIVE_APP_NOTE`, the same on every page), how to get it live.
  The note is plain HTML, so it shows before any widget script has run.
* **Figures.** A figure a code cell draws has no caption, and Sphinx then uses its file path as
  the ``alt`` text, which tells a screen reader nothing. The description comes from the figure
  itself: every notebook kernel of the build runs ``figure_descriptions_startup.py`` (through
  ``$PYTHONSTARTUP``), which has IPython store what each displayed figure shows (titles, axis
  labels, legends, read off the matplotlib Figure after the cell drew it; see
  :mod:`coursekit.display.descriptions`) in the output's metadata as
  ``{"image/png": {"alt": ...}}``. myst-nb 1.4 takes only ``width`` and ``height`` from an
  output's metadata, and ``alt`` only from cell metadata (``mystnb: image: alt:``, one text for
  every image of the cell) or a ``glue:figure`` directive, so :func:`figure_alt_text` finds the
  output behind each ``<img>`` (myst-nb names the file by the SHA-256 of its bytes) and copies
  the text. A chapter's own words win (cell metadata, Markdown alt text), then the figure's
  description, then the figure's caption; an image with none of these fails the build. Every
  figure is also a link to the full-size image, so a phone reader can tap it open and zoom,
  and loads lazily (a figure far down the page is fetched when the reader scrolls near it).
* **Launch buttons.** sphinx-book-theme gives every executable page Binder and Colab buttons
  that open it in the public student repository. That repository holds the chapter notebooks
  (the ``.ipynb`` pages, see ``student_edition.py``) and nothing else, so on a page written as a
  MyST Markdown notebook, such as the instructors' errata, the buttons would open a file that
  does not exist there: they are removed from such pages. The download button stays; it serves
  the page's own files from this site.
* **Page weight.** A reader's first visit loads, uncompressed, at most 2.5 MB a page
  (``bench/bench_pages.py``). What the theme would add beyond what a page uses is left out:

  - pydata-sphinx-theme puts ``fontawesome.js`` (1.5 MB) on every page; its stylesheet already
    draws the same icons with web fonts, so ``templates/layout.html`` leaves the script out
    (filter ``course_without_script``);
  - it also loads Sphinx's search scripts and the whole search index (110 kB, before the page
    can render) on every page, for its search-as-you-type box; that option is off here, the
    search box opens ``search.html``, which loads them itself, so the layout leaves them out
    while ``search_as_you_type`` is off;
  - the Font Awesome web fonts (157 kB solid, 118 kB brands) hold about 2 000 icons; the site
    uses some 20, so after the build :func:`subset_icon_fonts` cuts each font down to the icons
    the site's pages, scripts and stylesheets name (:func:`icons_in_use`), about 10 kB in all;
  - sphinx-design's stylesheet and tab script (63 kB) stay off pages that use none of its
    components (:func:`drop_unused_assets`).

  The slider apps' scripts load lazily (``_ext/static/course-widgets-loader.js``, see
  ``offline_assets.py``). MathJax stays the full ``tex-chtml`` component: its 1.2 MB include
  the context menu (show and copy the TeX, zoom, speech settings), which readers use.
"""

from __future__ import annotations

import binascii
import hashlib
import html
import json
import os
import re
from pathlib import Path
from typing import Any

from markupsafe import Markup

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging

from coursekit.display.descriptions import IMAGE_MIME_TYPES
from coursekit.widgets.app import LIVE_APP_NOTE

logger = logging.getLogger(__name__)

WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
#: Widget models a reader can change (sliders, menus, toggles, text fields).
CONTROL_MODELS = frozenset(
    {
        "FloatSliderModel",
        "IntSliderModel",
        "FloatLogSliderModel",
        "FloatRangeSliderModel",
        "IntRangeSliderModel",
        "SelectionSliderModel",
        "SelectionRangeSliderModel",
        "DropdownModel",
        "RadioButtonsModel",
        "ToggleButtonsModel",
        "ToggleButtonModel",
        "CheckboxModel",
        "SelectModel",
        "SelectMultipleModel",
        "FloatTextModel",
        "IntTextModel",
        "BoundedFloatTextModel",
        "BoundedIntTextModel",
        "TextModel",
        "PlayModel",
        "ButtonModel",
    }
)
_VIEW_SCRIPT = re.compile(
    rf'<script type="{re.escape(WIDGET_VIEW_MIME)}">(.*?)</script>', re.DOTALL
)
#: The note's HTML; its class lets the site's CSS and tests find it.
NOTE_CLASS = "course-live-note"
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Run by every notebook kernel of the build: makes it store each figure's description.
KERNEL_STARTUP = Path(__file__).resolve().parent / "figure_descriptions_startup.py"
#: Image types stored base64-encoded in a notebook (the others, SVG, as text).
BASE64_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif"})


def configure(app: Sphinx, config: Config) -> None:
    """Theme options that keep the phone navigation working (see the module docstring)."""
    options = dict(config.html_theme_options or {})
    # An explicit empty list: left unset, pydata-sphinx-theme fills in its search field and with
    # it renders the top bar and its hidden toggle buttons (pydata-sphinx-theme #2451).
    options.setdefault("navbar_persistent", [])
    config.html_theme_options = options
    if str(TEMPLATES) not in config.templates_path:
        config.templates_path = [*config.templates_path, str(TEMPLATES)]


def without_script(html_text: str, path: str) -> Markup:
    """``html_text`` without the ``<script>`` elements whose ``src`` ends in ``path`` (+ query)."""
    pattern = re.compile(
        rf'\s*<script[^>]*\ssrc="[^"]*{re.escape(path)}(\?[^"]*)?"[^>]*>\s*</script>'
    )
    return Markup(pattern.sub("", str(html_text)))


def add_template_filters(app: Sphinx) -> None:
    templates = getattr(app.builder, "templates", None)
    if templates is not None and hasattr(templates, "environment"):
        templates.environment.filters["course_without_script"] = without_script


def _models_under(state: dict[str, Any], model_id: str) -> list[str]:
    """The model and every model it references (children, outputs, ...), each once."""
    found: list[str] = []
    stack = [model_id]
    while stack:
        current = stack.pop()
        if current in found or current not in state:
            continue
        found.append(current)
        for value in state[current].get("state", {}).values():
            for ref in value if isinstance(value, list) else [value]:
                if isinstance(ref, str) and ref.startswith("IPY_MODEL_"):
                    stack.append(ref.removeprefix("IPY_MODEL_"))
    return found


def freeze_controls(state: dict[str, Any]) -> set[str]:
    """Disable every control in a page's widget state; return the ids of the disabled models."""
    frozen = set()
    for model_id, model in state.items():
        if model.get("model_name") in CONTROL_MODELS:
            model.setdefault("state", {})["disabled"] = True
            frozen.add(model_id)
    return frozen


def add_live_notes(body: str, state: dict[str, Any], frozen: set[str], pagename: str) -> str:
    """Put the note under every displayed widget tree that holds a disabled control."""

    def note_after(match: re.Match[str]) -> str:
        try:
            model_id = json.loads(match.group(1))["model_id"]
        except (ValueError, KeyError) as error:
            raise ExtensionError(
                f"reader_pages: {pagename}: unreadable widget view {match.group(1)[:80]!r}"
            ) from error
        if frozen.isdisjoint(_models_under(state, model_id)):
            return match.group(0)
        return (
            f'{match.group(0)}<p class="{NOTE_CLASS}" role="note">{html.escape(LIVE_APP_NOTE)}</p>'
        )

    return _VIEW_SCRIPT.sub(note_after, body)


def static_widgets(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Disable the page's controls in its embedded widget state and add the note under each app."""
    assets = context.get("script_files")
    if not isinstance(assets, list):
        return
    for index, asset in enumerate(assets):
        attributes = dict(getattr(asset, "attributes", {}))
        if attributes.get("type") != WIDGET_STATE_MIME or "body" not in attributes:
            continue
        try:
            embedded = json.loads(attributes["body"])
        except ValueError as error:
            raise ExtensionError(
                f"reader_pages: {pagename}: the embedded widget state is not JSON: {error}"
            ) from error
        state = embedded.get("state", {})
        frozen = freeze_controls(state)
        # The escaping myst-nb applies: "</script>" inside the JSON would end the element early.
        attributes["body"] = json.dumps(embedded).replace("</script>", r"<\/script>")
        assets[index] = type(asset)(asset.filename, priority=asset.priority, **attributes)
        if "body" in context:
            context["body"] = add_live_notes(context["body"], state, frozen, pagename)


#: Where a figure's description comes from, as the build warning lists them.
_HOW_TO_DESCRIBE = (
    "its output metadata has no alt text: a notebook run before figure descriptions existed "
    "(remove _build/.jupyter_cache and build again), or a figure with no title, axis labels, "
    "legend or coursekit.display.descriptions.describe_axes text to read; then give the cell "
    "metadata mystnb: {image: {alt: ...}} or a caption (mystnb: {figure: {caption: ...}})"
)


def set_kernel_startup(app: Sphinx) -> None:
    """Make the notebook kernels of this build describe their figures (see the module docstring).

    The kernels (myst-nb's and parallel_execution's) inherit the build's environment and run
    ``$PYTHONSTARTUP`` when they start.
    """
    os.environ["PYTHONSTARTUP"] = str(KERNEL_STARTUP)


def _image_bytes(mime: str, data: Any) -> bytes:
    """An image output's file content, exactly as myst-nb writes it (its name is their SHA-256)."""
    if mime in BASE64_IMAGES:
        return binascii.a2b_base64(data)
    text = "".join(data) if isinstance(data, list) else str(data)
    return os.linesep.join(text.splitlines()).encode("utf-8")


def output_descriptions(notebook: Any) -> dict[str, str]:
    """``{SHA-256 of an image output: its alt text}`` from the outputs' metadata.

    The kernel stored each figure's description as ``metadata[mime]["alt"]``
    (:func:`coursekit.display.descriptions.describe_figures_in_outputs`); myst-nb names the
    image file it writes by the SHA-256 of its bytes, which is how an ``<img>`` finds its text.
    """
    found = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            data, metadata = output.get("data", {}), output.get("metadata", {})
            for mime in IMAGE_MIME_TYPES:
                alt = (metadata.get(mime) or {}).get("alt")
                if mime in data and isinstance(alt, str) and alt.strip():
                    found[hashlib.sha256(_image_bytes(mime, data[mime])).hexdigest()] = alt.strip()
    return found


def executed_notebook(app: Sphinx, docname: str) -> Any:
    """The notebook behind ``docname`` with the outputs myst-nb rendered (``None``: not a notebook).

    With ``execute_notebooks: cache`` (this book) the outputs are the cached run's, which
    myst-nb merged in as jupyter-cache does here (the notebook it writes to
    ``_build/jupyter_execute`` has none when it came from the cache); otherwise the outputs
    stored in the source file.
    """
    from myst_nb.core.read import create_nb_reader

    config = getattr(app.env, "mystnb_config", None)
    path = Path(app.env.doc2path(docname))
    if config is None or not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    reader = create_nb_reader(str(path), app.env.myst_config, config, text)
    if reader is None:
        return None
    notebook = reader.read(text)
    if config.execution_mode == "cache":
        from jupyter_cache import get_cache

        try:
            _, notebook = get_cache(config.execution_cache_path).merge_match_into_notebook(notebook)
        except KeyError:  # not in the cache: no run to take descriptions from
            pass
    return notebook


def _caption(image: nodes.image) -> str:
    """The caption of the figure ``image`` is in ('' if none), as plain text."""
    figure = image.parent
    while figure is not None and not isinstance(figure, nodes.figure):
        figure = figure.parent
    if figure is None:
        return ""
    return " ".join(c.astext() for c in figure.findall(nodes.caption)).strip()


def figure_alt_text(app: Sphinx, doctree: nodes.document) -> None:
    """Give every image without alt text the description of what it shows.

    In order: the chapter's own words (cell metadata ``mystnb: image: alt:``, which myst-nb has
    already applied, or Markdown ``![alt](...)``), the description the kernel read off the
    figure, the figure's caption. An image with none of them is a build warning (an error
    under ``-W``), never a file name or a generic "Figure".
    """
    descriptions: dict[str, str] | None = None
    for image in doctree.findall(nodes.image):
        if image.get("alt", "").strip():
            continue
        if descriptions is None:
            notebook = executed_notebook(app, app.env.docname)
            descriptions = output_descriptions(notebook) if notebook else {}
        uri = str(image.get("uri", ""))
        description = descriptions.get(Path(uri).stem) or _caption(image)
        if description:
            image["alt"] = (
                description if description.startswith("Figure") else f"Figure: {description}"
            )
        else:
            logger.warning(
                "reader_pages: the image %s has no description; %s",
                uri,
                _HOW_TO_DESCRIBE,
                location=image,
                type="reader_pages",
                subtype="alt",
            )


_OUTPUT_IMAGE = re.compile(
    r'(<div class="cell_output docutils container">\s*)?(<img '
    r'[^>]*src="([^"]+\.(?:png|svg|jpg|jpeg|gif))"[^>]*/?>)'
)


#: sphinx-design's page assets and the class prefix of the HTML its components produce.
DESIGN_ASSETS = ("sphinx-design.min.css", "design-tabs.js")
_DESIGN_MARKUP = re.compile(r'class="(?:[^"]*\s)?sd-')


def drop_unused_assets(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Leave sphinx-design's stylesheet and script off a page that uses none of its components."""
    body = context.get("body")
    if not isinstance(body, str) or _DESIGN_MARKUP.search(body):
        return
    for key in ("css_files", "script_files"):
        assets = context.get(key)
        if isinstance(assets, list):
            assets[:] = [
                asset
                for asset in assets
                if not str(getattr(asset, "filename", asset) or "").endswith(DESIGN_ASSETS)
            ]


#: Font Awesome's web fonts as the theme ships them (``.woff2``; ``.ttf`` for old browsers).
ICON_FONTS = "_static/vendor/fontawesome/webfonts"
#: The theme stylesheet, which maps icon classes to code points (``.fa-github:before{...}``).
ICON_CSS = "_static/styles/pydata-sphinx-theme.css"
#: Files that are on the site but never loaded by a page (so the icons they name are not used):
#: the script the layout drops, and the embed manager, which ships Font Awesome 4 of its own.
NOT_LOADED = ("_static/scripts/fontawesome.js", "_static/widgets/")
_ICON_RULE = re.compile(
    r'((?:\.fa-[a-z0-9-]+:{1,2}(?:before|after),?)+)\{content:"\\([0-9a-f]+)"\}'
)
_ICON_NAME = re.compile(r"\bfa-([a-z0-9-]+)")
_CSS_ESCAPE = re.compile(r'"\\([0-9a-fA-F]{4,5})"')
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def icons_in_use(site: Path) -> set[int]:
    """The code points of every Font Awesome icon the site can show.

    An icon is named by a class (``fa-github``) in a page or a script that pages load, mapped to
    its code point by the theme's stylesheet, or written as a code point straight into a
    stylesheet (the theme's admonition and link icons, ``content: "\\f107"``).
    """
    stylesheet = (site / ICON_CSS).read_text(encoding="utf-8")
    by_name: dict[str, int] = {}
    for rule in _ICON_RULE.finditer(stylesheet):
        for name in _ICON_NAME.findall(rule.group(1)):
            by_name[name] = int(rule.group(2), 16)
    used: set[int] = set()
    for path in site.rglob("*"):
        relative = path.relative_to(site).as_posix()
        if path.suffix not in {".html", ".js", ".css"} or relative.startswith(NOT_LOADED):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".css":  # code points written directly, outside the class table
            text = _ICON_RULE.sub("", text)
            used.update(int(code, 16) for code in _CSS_ESCAPE.findall(text))
            used.update(ord(char) for char in _PRIVATE_USE.findall(text))
        used.update(by_name[name] for name in _ICON_NAME.findall(text) if name in by_name)
    return used


def subset_icon_fonts(app: Sphinx, exception: Exception | None) -> None:
    """Cut the site's Font Awesome fonts down to the icons it uses (see the module docstring).

    Runs after every build: Sphinx copies the theme's full fonts again each time.
    """
    if exception is not None or app.builder is None or app.builder.format != "html":
        return
    from fontTools import subset

    site = Path(app.outdir)
    fonts = sorted((site / ICON_FONTS).glob("*.*")) if (site / ICON_CSS).is_file() else []
    if not fonts:
        return
    used = icons_in_use(site)
    for path in fonts:
        if path.suffix not in {".woff2", ".ttf"}:
            continue
        options = subset.Options()
        options.flavor = "woff2" if path.suffix == ".woff2" else None
        options.layout_features = ["*"]
        font = subset.load_font(str(path), options)
        available = set(font.getBestCmap())
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(used & available))
        subsetter.subset(font)
        subset.save_font(font, str(path), options)


def link_figures(body: str) -> str:
    """Wrap every image a cell drew in a link to the full-size file (tap to open, then zoom)."""

    def wrap(match: re.Match[str]) -> str:
        lead, tag, src = match.group(1) or "", match.group(2), match.group(3)
        if "_images/" not in src:
            return match.group(0)
        if " loading=" not in tag:
            tag = tag.replace("<img ", '<img loading="lazy" ', 1)
        return (
            f'{lead}<a class="course-figure-link" href="{src}" title="Open the figure full '
            f'size">{tag}</a>'
        )

    return _OUTPUT_IMAGE.sub(wrap, body)


#: The class of a printed output laid out as a table; every other printed output wraps its lines.
TABLE_OUTPUT_CLASS = "course-table-output"
_STREAM_OUTPUT = re.compile(
    r'(<div class="output stream[^"]*)("><div class="highlight"><pre>)(.*?)(</pre>)', re.DOTALL
)
# A column of a printed table starts where a run of at least two spaces ends inside a line.
_COLUMN_START = re.compile(r"(?<=\S)  +(?=\S)")


def _column_starts(line: str) -> set[int]:
    return {match.end() for match in _COLUMN_START.finditer(line)}


def is_table(text: str) -> bool:
    """Whether printed text is a table: two of its lines start two columns at the same places.

    One shared column is a label and its value ("shared s:  largest ... = 1.1e-14"), which reads
    as well wrapped; two or more are rows of a table, which wrapping would scramble.
    """
    starts = [_column_starts(line) for line in text.splitlines()]
    return any(len(starts[i] & starts[j]) >= 2 for i in range(len(starts)) for j in range(i))


def mark_table_outputs(body: str) -> str:
    """Give the printed outputs laid out as tables a class, so the CSS keeps their lines whole.

    Everything else a cell prints wraps at the edge of its box (``course.css``): on a phone a
    sentence such as "the path leaves the valley floor at step ..." is then read without
    scrolling sideways, while a table keeps its columns aligned and scrolls in its box.
    """

    def mark(match: re.Match[str]) -> str:
        text = html.unescape(re.sub(r"<[^>]+>", "", match.group(3)))
        if not is_table(text):
            return match.group(0)
        return (
            f"{match.group(1)} {TABLE_OUTPUT_CLASS}{match.group(2)}{match.group(3)}{match.group(4)}"
        )

    return _STREAM_OUTPUT.sub(mark, body)


def figure_links(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if "body" in context:
        context["body"] = mark_table_outputs(link_figures(context["body"]))


#: The ``label`` sphinx-book-theme gives the header group holding its Binder and Colab buttons.
LAUNCH_BUTTONS_GROUP = "launch-buttons"


def without_launch_buttons(buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page's header buttons without sphinx-book-theme's group of launch buttons."""
    return [button for button in buttons if button.get("label") != LAUNCH_BUTTONS_GROUP]


def launch_buttons_for_published_pages(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Keep the launch buttons only on ``.ipynb`` pages, the ones the student repository holds."""
    buttons = context.get("header_buttons")
    if not isinstance(buttons, list) or Path(app.env.doc2path(pagename)).suffix == ".ipynb":
        return
    context["header_buttons"] = without_launch_buttons(buttons)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-read", figure_alt_text)
    app.connect("html-page-context", figure_links)
    app.connect("html-page-context", drop_unused_assets)
    app.connect("build-finished", subset_icon_fonts)
    app.connect("config-inited", configure)
    app.connect("builder-inited", add_template_filters)
    app.connect("builder-inited", set_kernel_startup)
    # After myst-nb has added the page's widget state (at the default priority, 500).
    app.connect("html-page-context", static_widgets, priority=800)
    # After sphinx-book-theme has added the header buttons (priority 501).
    app.connect("html-page-context", launch_buttons_for_published_pages, priority=600)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
