"""No chapter uses a symbol in a meaning the notation page reserves for something else.

chapters/notation.md gives each symbol one meaning for the whole course. This file reads the
page's glossary, and for each symbol a known second meaning has crept in before, a pattern that
recognises the symbol *in that other meaning* (the likelihood written ``L(\\theta) = \\prod ...``,
a Hessian written ``H``, a generic function written ``f(x, y)``). Every piece of math a reader
can meet is scanned: the markdown and code cells of the chapter notebooks (figure labels and
table headers are math strings in code), the other pages of the book and the docstrings and
labels of the coursekit modules that chapters show (``chapters``, ``display``, ``widgets``).

The patterns are deliberately narrow: each names one wrong use, so a hit is a real clash and not
a style question. A new clash of a different shape needs a new pattern here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTATION = ROOT / "chapters" / "notation.md"
# The errata page names values as the lecture notes do (delta^L, w^2_00), so that an instructor
# can find them in the notes; it is the one page that quotes another notation on purpose.
PAGES = [ROOT / "intro.md"] + [
    p for p in sorted((ROOT / "chapters").glob("*.md")) if p.name != "errata.md"
]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
MODULES = sorted(
    path
    for package in ("chapters", "display", "widgets")
    for path in (ROOT / "src" / "coursekit" / package).rglob("*.py")
)

# Inline and display math in markdown and Python strings, and reStructuredText math in docstrings.
MATH = re.compile(
    r"\$\$(?P<display>.+?)\$\$|\$(?P<inline>[^$\n]+?)\$|:math:`(?P<role>[^`]+)`|"
    r"\.\. math::(?P<directive>[^\n]*(?:\n[ \t]+[^\n]*)*)",
    re.S,
)


def alone(symbol: str) -> str:
    """A pattern for ``symbol`` on its own: not part of a longer name, not inside a command."""
    return r"(?<![\\\w{])" + re.escape(symbol) + r"(?![\w}])"


@dataclass(frozen=True)
class Clash:
    """A symbol used in a meaning other than the one its glossary entry gives it."""

    symbol: str  # as the glossary writes it in math
    term: str  # the glossary term that reserves it
    other: str  # the other meaning the pattern recognises
    pattern: str  # a regular expression, matched against math only
    bad: tuple[str, ...]  # math the pattern must catch
    good: tuple[str, ...]  # correct uses it must leave alone


F = alone("f")
CLASHES = [
    Clash(
        "L",
        "loss",
        "the likelihood",
        rf"{alone('L')}\s*\(\s*\\theta\s*\)\s*&?=\s*\\prod|\\log\s*{alone('L')}",
        (r"L(\theta) &= \prod_{i} \hat y_i", r"\ell(\theta) = -\log L(\theta)"),
        (r"\operatorname{lik}(\theta) = \prod_i \hat y_i", r"L = \frac1n \sum_i \ell_i"),
    ),
    Clash(
        "L",
        "loss",
        "the number or index of a network's last layer",
        r"_L(?!\w)|_\{L\}|\^\{?L\b|\{L\s*-\s*1\}",
        (
            r"\hat y = h_L",
            r"\delta_L = (\hat y - y)\, f_L'(z_L)",
            r"\sum_{l=1}^{L}",
            r"(g/4)^{L-1}",
        ),
        (r"\partial L/\partial W_l", r"\lVert \delta_1 \rVert_F", r"L_{\text{sum}}", r"h_{D+1}"),
    ),
    Clash(
        r"\ell",
        "loss",
        "a loss summed over all samples, a function of all parameters",
        r"\\ell\s*\(\s*\\theta|\\nabla\s*\(?-?\\ell\b|\\ell\s*/\s*n\b",
        (r"\ell(\theta) = -\log", r"\nabla_\theta\, \ell(\theta)", r"\nabla(\ell/n)"),
        (
            r"\ell(\hat y_i, y_i)",
            r"\nabla_z \ell = s - t",
            r"\partial \ell/\partial z",
            r"L_{\text{sum}}/n",
        ),
    ),
    Clash(
        "H",
        "hidden activations",
        "the Hessian",
        rf"{alone('H')}\s*(?:\\,)?\s*\((?!Z)|\\nabla\^?2?\s*f\s*\\approx\s*H",
        (r"\nabla f \approx H\,(p - p^\star)", r"-\eta H (p - p^\star)"),
        (r"H = f(Z)", r"\nabla^2 F(q^\star)\,(q - q^\star)", r"\delta_1 = \partial L/\partial H"),
    ),
    Clash(
        "f",
        "activation function",
        "a generic function or its value",
        rf"\\partial\s*{F}|\\nabla\S*\s*{F}|{F}\s*\(\s*x\b|{F}\s*(?:\\approx|\\to\s*-?\s*\\infty|<|>)|"
        rf"{F}\s*=\s*(?:-|\d|[a-z](?![a-z])|\\max|\\sigma\s*\()",
        (
            r"f(x) = \frac12 a x^2",
            r"f(x, y) = -x^3",
            r"\partial f/\partial m",
            r"\nabla f(x_t)",
            r"f \to -\infty",
            r"f = c\,m",
            r"f = 2\max(xy + z, w)",
            r"f = \sigma(w_1 x_1 + b)",
            r"f = -y^6",
        ),
        (
            r"\hat y = f(z)",
            r"h_1 = f(W_1 x + b_1)",
            r"f'(z_1)",
            r"\xrightarrow{\ f = \text{ReLU}\ }",
            r"\text{Linear} \to f \to \text{Linear}",
            r"f_{\text{out}}(Z_2)",
            r"F(x, y) = -x^3",
        ),
    ),
]


def glossary(text: str) -> dict[str, str]:
    """Term -> definition for every entry of the page's ``{glossary}`` blocks."""
    entries: dict[str, str] = {}
    for block in re.findall(r"```\{glossary\}\n(.*?)```", text, re.S):
        term = None
        for line in block.splitlines():
            if line and not line[0].isspace():
                term = line.strip()
                entries[term] = ""
            elif term is not None:
                entries[term] += line.strip() + " "
    return entries


def math_spans(text: str) -> list[str]:
    return [next(g for g in m.groups() if g is not None) for m in MATH.finditer(text)]


def sources() -> list[tuple[str, str]]:
    """(where, text) for every place a reader meets the course's math."""
    found = [(p.name, p.read_text()) for p in PAGES]
    for path in NOTEBOOKS:
        for index, cell in enumerate(json.loads(path.read_text())["cells"]):
            text = "".join(cell["source"])
            if cell["cell_type"] == "code":
                text = text.replace("\\\\", "\\")  # "$\\eta$" in a Python string is $\eta$
            found.append((f"{path.name} cell {index}", text))
    for path in MODULES:
        text = path.read_text().replace("\\\\", "\\")
        found.append((str(path.relative_to(ROOT)), text))
    return found


@pytest.mark.parametrize("clash", CLASHES, ids=lambda c: f"{c.symbol} as {c.other}")
def test_the_notation_page_reserves_the_symbol(clash: Clash) -> None:
    entries = glossary(NOTATION.read_text())
    assert clash.term in entries, f"the notation page has no entry {clash.term!r}"
    assert any(re.search(alone(clash.symbol), span) for span in math_spans(entries[clash.term])), (
        f"the notation page's entry {clash.term!r} does not define ${clash.symbol}$"
    )


@pytest.mark.parametrize("clash", CLASHES, ids=lambda c: f"{c.symbol} as {c.other}")
def test_the_pattern_tells_the_other_meaning_from_the_reserved_one(clash: Clash) -> None:
    pattern = re.compile(clash.pattern)
    assert [bad for bad in clash.bad if not pattern.search(bad)] == []
    assert [good for good in clash.good if pattern.search(good)] == []


@pytest.mark.parametrize("clash", CLASHES, ids=lambda c: f"{c.symbol} as {c.other}")
def test_no_page_uses_the_symbol_in_another_meaning(clash: Clash) -> None:
    pattern = re.compile(clash.pattern)
    hits = [
        f"{where}: ${span.strip()[:80]}$"
        for where, text in sources()
        for span in math_spans(text)
        if pattern.search(span)
    ]
    assert hits == [], f"${clash.symbol}$ is the {clash.term}, not {clash.other}:\n" + "\n".join(
        hits
    )


def test_every_source_is_scanned() -> None:
    names = {where.split(" cell ")[0] for where, _ in sources()}
    assert {p.name for p in NOTEBOOKS} <= names and "notation.md" in names
    assert "src/coursekit/widgets/descent.py" in names
    # the scan sees math in every kind of place it claims to read
    kinds = {"display", "inline", "role", "directive"}
    seen = {kind for _, text in sources() for m in MATH.finditer(text) for kind in kinds if m[kind]}
    assert seen == kinds
