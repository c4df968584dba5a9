"""Maths is typeset by the site's own MathJax: no raw TeX left on any page that has formulas."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

import builtsite

# A numbered display equation and its number, and a reference to one (Sphinx's HTML).
_EQUATION = re.compile(
    r'<div class="math[^"]*" id="(equation-[^"]+)">\s*<span class="eqno">(\([^<]+\))'
)
_EQ_REFERENCE = re.compile(
    r'<a class="reference internal" href="([^"]*#equation-[^"]+)">(\([^<]+\))</a>'
)

# TeX that must never be readable as text once MathJax has run.
RAW_TEX = ("$$", "\\frac", "\\begin", "\\mathbf", "\\sum", "\\partial", "\\sigma")

# The article's visible prose: code cells, their outputs' code blocks and rendered maths removed.
_PROSE_TEXT = """() => {
    const article = document.querySelector('article') || document.body;
    const copy = article.cloneNode(true);
    copy.querySelectorAll('pre, code, script, style, mjx-container, .cell_input, .highlight')
        .forEach((node) => node.remove());
    return copy.textContent;
}"""

_MATH_STATUS = """() => {
    const nodes = [...document.querySelectorAll('article .math')];
    const untypeset = nodes.filter((node) => !node.querySelector('mjx-container'))
        .map((node) => node.textContent.slice(0, 80));
    const errors = [...document.querySelectorAll('article mjx-merror, article [data-mjx-error]')]
        .map((node) => node.getAttribute('data-mjx-error') || node.textContent);
    return {count: nodes.length, untypeset, errors};
}"""


def test_mathjax_typesets_every_formula(open_page, math_page: str) -> None:
    opened = open_page(math_page)
    page = opened.page
    # The local MathJax 3 ran (the conftest already awaited MathJax.startup.promise).
    assert page.evaluate("() => window.MathJax && window.MathJax.version").startswith("3."), (
        "MathJax 3 did not load"
    )
    status = page.evaluate(_MATH_STATUS)
    assert status["count"] > 0
    assert status["untypeset"] == [], f"{math_page}: formulas left as raw TeX"
    assert status["errors"] == [], f"{math_page}: MathJax reported TeX errors"
    prose = page.evaluate(_PROSE_TEXT)
    leftovers = {
        tex: prose[max(prose.find(tex) - 40, 0) : prose.find(tex) + 40]
        for tex in RAW_TEX
        if tex in prose
    }
    assert leftovers == {}, f"{math_page}: raw TeX visible in the text"


def test_equation_references_point_at_equations_with_that_number(site: Path) -> None:
    """Every {eq} reference on every page links to an existing equation showing the same number."""
    pages = builtsite.pages(site)
    html = {path: (site / path).read_text(encoding="utf-8") for path in pages}
    numbers = {  # (page, equation id) -> the number the equation shows
        (path, match.group(1)): match.group(2)
        for path, text in html.items()
        for match in _EQUATION.finditer(text)
    }
    references = [
        (path, match.group(1), match.group(2))
        for path, text in html.items()
        for match in _EQ_REFERENCE.finditer(text)
    ]
    assert references, "no page references a numbered equation; the chapters use {eq} references"
    for path, href, shown in references:
        target, _, anchor = href.partition("#")
        target_page = (
            posixpath.normpath(posixpath.join(posixpath.dirname(path), target)) if target else path
        )
        assert (target_page, anchor) in numbers, (
            f"{path}: reference {shown} points at missing {target_page}#{anchor}"
        )
        assert numbers[(target_page, anchor)] == shown, (
            f"{path}: reference shows {shown} but {target_page}#{anchor} is numbered "
            f"{numbers[(target_page, anchor)]}"
        )
