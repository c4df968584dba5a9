"""Every page in light and dark mode: screenshots (JPEG) under ``_build/screenshots/`` that are not
blank, a dark mode that is really dark, and text (prose, admonitions, exercise and solution boxes,
code, widget labels) readable against its background in both modes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageStat

import builtsite

# A page of one flat colour has variance 0; real pages with text and figures are far above this.
MIN_PIXEL_VARIANCE = 200.0
# WCAG 2 contrast ratio for body text (AA is 4.5); 3.0 is AA for large text and UI labels.
MIN_TEXT_CONTRAST = 4.5
MIN_LARGE_TEXT_CONTRAST = 3.0

# For every visible element with its own text: the text colour, the colour behind it (background
# layers blended up to the first opaque one), and whether the text counts as large (WCAG: 24px, or
# 18.66px bold).
_TEXT_CONTRAST = """() => {
    const parse = (css) => {
        const m = css.match(/rgba?\\(([^)]+)\\)/);
        if (!m) return null;
        const [r, g, b, a = 1] = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
        return {r, g, b, a};
    };
    const over = (top, bottom) => {
        const a = top.a + bottom.a * (1 - top.a);
        if (a === 0) return {r: 0, g: 0, b: 0, a: 0};
        const mix = (k) => (top[k] * top.a + bottom[k] * bottom.a * (1 - top.a)) / a;
        return {r: mix('r'), g: mix('g'), b: mix('b'), a};
    };
    const background = (element) => {
        const layers = [];
        for (let node = element; node; node = node.parentElement) {
            const color = parse(getComputedStyle(node).backgroundColor);
            if (color && color.a > 0) { layers.push(color); if (color.a >= 1) break; }
        }
        let result = {r: 255, g: 255, b: 255, a: 1};  // the canvas
        for (const layer of layers.reverse()) result = over(layer, result);
        return result;
    };
    const luminance = ({r, g, b}) => {
        const channel = (v) => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const results = [];
    const skipped = 'mjx-container, svg, script, style, .headerlink, .visually-hidden, .sr-only';
    for (const element of document.querySelectorAll('article *')) {
        if (element.closest(skipped)) continue;
        const ownText = [...element.childNodes].filter((n) => n.nodeType === 3)
            .map((n) => n.textContent).join('').trim();
        if (!ownText) continue;
        const style = getComputedStyle(element);
        const box = element.getBoundingClientRect();
        if (style.visibility !== 'visible' || Number(style.opacity) === 0) continue;
        if (box.width === 0 || box.height === 0) continue;
        const text = parse(style.color);
        const behind = background(element);
        const fg = over(text, behind);
        const [l1, l2] = [luminance(fg), luminance(behind)].sort((x, y) => y - x);
        const size = parseFloat(style.fontSize);
        const bold = Number(style.fontWeight) >= 700;
        results.push({
            text: ownText.slice(0, 40), tag: element.tagName.toLowerCase(),
            cls: String(element.className).slice(0, 60),
            contrast: (l1 + 0.05) / (l2 + 0.05), large: size >= 24 || (bold && size >= 18.66),
        });
    }
    return results;
}"""

_OUTPUT_IMAGE_BACKGROUNDS = """() => [...document.querySelectorAll('article .cell_output img')]
.map((img) => {
    for (let node = img; node; node = node.parentElement) {
        const m = getComputedStyle(node).backgroundColor.match(/rgba?\\(([^)]+)\\)/);
        const [r, g, b, a = 1] = m
            ? m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number) : [0, 0, 0, 0];
        if (a > 0) return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    }
    return null;
})"""


def _stats(jpeg: bytes) -> tuple[float, float]:
    """(mean, variance) of the screenshot's grey levels (decoded at 1/4 scale for tall pages)."""
    image = Image.open(io.BytesIO(jpeg))
    image.draft("L", (image.width // 4, image.height // 4))
    stat = ImageStat.Stat(image.convert("L"))
    return stat.mean[0], stat.var[0]


def test_screenshots_light_and_dark(open_page, page_path: str) -> None:
    folder = builtsite.screenshot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stem = page_path.removesuffix(".html").replace("/", "__")
    stats = {}
    for scheme in ("light", "dark"):
        page = open_page(page_path, color_scheme=scheme).page
        assert page.evaluate("() => document.documentElement.dataset.theme") == scheme, (
            f"{page_path}: not in {scheme} mode"
        )
        shot = page.screenshot(
            full_page=True, type="jpeg", quality=85, path=str(folder / f"{stem}-{scheme}.jpg")
        )
        stats[scheme] = _stats(shot)
        assert stats[scheme][1] > MIN_PIXEL_VARIANCE, (
            f"{page_path} looks blank in {scheme} mode (variance {stats[scheme][1]:.0f})"
        )
    (light_mean, _), (dark_mean, _) = stats["light"], stats["dark"]
    assert dark_mean < light_mean, (
        f"{page_path}: dark mode (mean grey {dark_mean:.0f}) is not darker than light "
        f"({light_mean:.0f})"
    )
    assert dark_mean < 110 < light_mean, (
        f"{page_path}: mean grey light {light_mean:.0f}, dark {dark_mean:.0f}"
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_is_readable(open_page, page_path: str, scheme: str) -> None:
    page = open_page(page_path, color_scheme=scheme).page
    texts = page.evaluate(_TEXT_CONTRAST)
    assert len(texts) > 10, f"{page_path}: found almost no text to check"
    poor = [
        f"{t['tag']}.{t['cls']} {t['text']!r}: {t['contrast']:.2f}"
        for t in texts
        if t["contrast"] < (MIN_LARGE_TEXT_CONTRAST if t["large"] else MIN_TEXT_CONTRAST)
    ]
    assert poor == [], f"{page_path} ({scheme}): text with too little contrast"


def test_figures_keep_a_light_background_in_dark_mode(
    open_page, chapter_notebook_page: str
) -> None:
    """Matplotlib draws dark text and axes: in dark mode output images must be on a light card."""
    page_path = chapter_notebook_page
    page = open_page(page_path, color_scheme="dark").page
    backgrounds = page.evaluate(_OUTPUT_IMAGE_BACKGROUNDS)
    assert backgrounds, f"{page_path}: a chapter without a single figure"
    dark = [index for index, grey in enumerate(backgrounds) if grey is None or grey < 0.6]
    assert dark == [], f"{page_path}: output images {dark} sit on a dark background in dark mode"


# Every icon the page draws with the Font Awesome fonts: its code point and the font family and
# weight the browser picked for it (from the computed style, not from the theme's stylesheet).
_ICONS = """() => [...document.querySelectorAll('*')].flatMap((el) => ['::before', '::after']
    .map((pseudo) => {
        const style = getComputedStyle(el, pseudo);
        const content = style.content;
        if (!/Font Awesome/.test(style.fontFamily) || !content || content === 'none'
            || content === 'normal') return null;
        const text = content.replace(/^["']|["']$/g, '');
        const where = typeof el.className === 'string' && el.className ? el.className : el.tagName;
        return text.length
            ? {code: text.codePointAt(0), family: style.fontFamily, weight: style.fontWeight, where}
            : null;
    })).filter(Boolean)"""


def _icon_font_cmaps(site: Path) -> dict[str, set[int]]:
    from fontTools.ttLib import TTFont

    folder = site / "_static" / "vendor" / "fontawesome" / "webfonts"
    return {
        path.stem: set(TTFont(path).getBestCmap())
        for path in folder.glob("*.woff2")  # what browsers load; the .ttf is the fallback
    }


def test_every_icon_on_the_page_is_in_the_icon_font(open_page, site: Path, page_path: str) -> None:
    """The site's icon fonts are cut down to the icons it uses: none a page shows may be missing."""
    cmaps = _icon_font_cmaps(site)
    icons = open_page(page_path).page.evaluate(_ICONS)
    assert icons, f"{page_path}: no Font Awesome icon found (the header has several)"
    missing = []
    for icon in icons:
        font = (
            "fa-brands-400"
            if "Brands" in icon["family"]
            else ("fa-solid-900" if int(icon["weight"]) >= 900 else "fa-regular-400")
        )
        if icon["code"] not in cmaps[font]:
            missing.append((hex(icon["code"]), font, icon["where"]))
    assert missing == [], f"{page_path}: icons missing from the site's icon fonts: {missing[:5]}"
