"""Chapter pages show few `assert` lines: checks that teach stay visible, build guards are hidden.

A reader sees every code cell that is not tagged ``remove-cell``. A check that teaches (a gradient
against finite differences) belongs on the page; a check that only guards the build (a glued number,
a slider app's internal state) goes in a ``remove-cell`` cell, which the build still executes, so a
wrong number still fails ``make book``. The budget is at most five visible assert lines per chapter.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
BUDGET = 5


def visible_assert_lines(nb: dict) -> list[tuple[int, str]]:
    """(cell index, source line) of each assert statement a reader sees on the page.

    An assert written over several lines counts once, at its first line. Cells that are not valid
    Python (IPython magics) are scanned line by line.
    """
    found = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code" or "remove-cell" in cell.get("metadata", {}).get("tags", []):
            continue
        source = "".join(cell["source"])
        lines = source.splitlines()
        try:
            starts = sorted(
                node.lineno for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Assert)
            )
        except SyntaxError:
            starts = [n for n, line in enumerate(lines, 1) if line.lstrip().startswith("assert ")]
        found.extend((index, lines[n - 1].strip()) for n in starts)
    return found


def code_cell(source: str, tags: list[str] | None = None) -> dict:
    return {
        "cell_type": "code",
        "metadata": {"tags": tags or []},
        "source": source.splitlines(keepends=True),
    }


def test_counter_sees_visible_asserts_and_skips_hidden_ones():
    nb = {
        "cells": [
            code_cell("x = 1\nassert x == 1\nfor i in range(3):\n    assert i < 3\n"),
            code_cell("assert (\n    x\n    == 1\n)\n"),
            code_cell("assert x == 1\nassert x > 0\n", tags=["remove-cell"]),
            {"cell_type": "markdown", "metadata": {}, "source": ["assert in prose is not code\n"]},
            code_cell("%matplotlib inline\nassert x\n"),
        ]
    }
    assert [index for index, _ in visible_assert_lines(nb)] == [0, 0, 1, 4]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_at_most_five_visible_asserts(path):
    found = visible_assert_lines(json.loads(path.read_text(encoding="utf-8")))
    listing = "\n".join(f"  cell {index}: {line}" for index, line in found)
    assert len(found) <= BUDGET, (
        f"{path.name} shows {len(found)} assert lines (budget {BUDGET}); "
        f"move the build guards to a cell tagged remove-cell:\n{listing}"
    )
