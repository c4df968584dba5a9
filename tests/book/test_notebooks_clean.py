"""Every chapter notebook is stored clean and has the parts a chapter must have.

Chapters are executed when the book is built, so a stored output would be stale (and would hide
whether the code still runs). Each chapter must also be reachable from the table of contents,
start with a numbered title and its learning goals, offer exercises with solutions, and show at
least one slider app.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "_ext"))
from book_toc import toc_pages  # noqa: E402

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def toc_files() -> set[str]:
    """All pages of _toc.yml (any nesting of parts/chapters/sections), without suffix."""
    return set(toc_pages(ROOT))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def sources(nb: dict, kind: str) -> list[str]:
    return ["".join(cell["source"]) for cell in nb["cells"] if cell["cell_type"] == kind]


def test_there_are_chapters():
    assert CHAPTERS, "no notebooks found in chapters/"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
class TestChapterNotebook:
    def test_stored_without_outputs_or_execution_counts(self, path):
        nb = load(path)
        dirty = [
            i
            for i, cell in enumerate(nb["cells"])
            if cell["cell_type"] == "code"
            and (cell.get("outputs") or cell.get("execution_count") is not None)
        ]
        assert not dirty, (
            f"{path.name}: code cells {dirty} have stored outputs or execution counts; clear them"
        )

    def test_python3_kernel(self, path):
        assert load(path)["metadata"].get("kernelspec", {}).get("name") == "python3", (
            f"{path.name}: kernel must be python3"
        )

    def test_listed_in_the_table_of_contents(self, path):
        entry = f"chapters/{path.stem}"
        assert entry in toc_files(), (
            f"{entry} is not listed in _toc.yml (the book would not build it)"
        )

    def test_numbered_title_then_learning_goals(self, path):
        markdown = sources(load(path), "markdown")
        assert markdown, f"{path.name}: no markdown cells"
        number = int(path.name.split("_")[0])
        first_line = markdown[0].lstrip().splitlines()[0]
        assert re.fullmatch(rf"# {number}\. \S.*", first_line), (
            f"{path.name}: title should read '# {number}. ...', got {first_line!r}"
        )
        opening = "\n".join(markdown[:2])
        goals = re.search(r"learning goals\**\s*\n+((?:\s*[-*] .+\n?)+)", opening, re.IGNORECASE)
        assert goals, (
            f"{path.name}: learning goals (a heading and a bulleted list) must open the chapter"
        )

    def test_exercises_have_solutions(self, path):
        text = "\n".join(sources(load(path), "markdown"))
        labels = re.findall(r"```\{exercise\}[^\n]*\n:label: ([\w-]+)", text)
        solved = set(re.findall(r"```\{solution(?:-start)?\} ([\w-]+)", text))
        assert labels, f"{path.name}: no exercise with a :label:"
        unsolved = [label for label in labels if label not in solved]
        assert not unsolved, f"{path.name}: exercises without a solution: {unsolved}"
        unknown = solved - set(labels)
        assert not unknown, f"{path.name}: solutions for unknown exercises: {sorted(unknown)}"
        starts = len(re.findall(r"```\{solution-start\}", text))
        ends = len(re.findall(r"```\{solution-end\}", text))
        assert starts == ends, f"{path.name}: {starts} solution-start but {ends} solution-end"

    def test_shows_a_slider_app(self, path):
        code = sources(load(path), "code")
        made = {
            name
            for cell in code
            for name, cls in re.findall(r"^(\w+) = (\w+App)\(", cell, re.MULTILINE)
        }
        assert any("coursekit.widgets" in cell for cell in code), (
            f"{path.name}: no slider app imported from coursekit.widgets"
        )
        shown = [
            cell
            for cell in code
            if cell.strip()
            and (
                cell.strip().splitlines()[-1].strip() in made
                or re.search(r"display\((\w+)\)", cell)
            )
        ]
        assert made and shown, (
            f"{path.name}: a slider app must be created (name = SomeApp(...)) and displayed"
        )
