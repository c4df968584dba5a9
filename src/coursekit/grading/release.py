"""Make the student version of an assignment and prove that it gives nothing away.

``nbgrader generate_assignment`` writes ``D/release/A/`` and registers the assignment's cells
in the gradebook. It replaces solution regions by stubs and removes hidden tests, but only
where the delimiters are spelled right: a mistyped ``### BEGIN SOLUTON`` ships the solution.
So the release is checked line by line afterwards. A *secret line* is a meaningful line inside
a solution or hidden-tests region of the source that appears nowhere outside such a region;
no secret line, no delimiter and no output may appear in a released notebook. If one does,
the release folder is deleted and :class:`ReleaseError` names the leaks.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat

from coursekit.grading import cells as nbcells
from coursekit.grading.course import Course


class ReleaseError(Exception):
    """The release could not be made or would leak solutions or hidden tests."""


_DELIMITERS = (nbcells.BEGIN_SOLUTION, nbcells.END_SOLUTION, nbcells.BEGIN_HIDDEN, nbcells.END_HIDDEN)


def _normalise(line: str) -> str:
    return re.sub(r"\s+", " ", line.strip())


def secret_lines(source: nbformat.NotebookNode, *, solutions: bool = True, hidden: bool = True) -> set[str]:
    """Meaningful source lines that exist only inside solution and/or hidden-test regions."""
    inside: set[str] = set()
    outside: set[str] = set()
    for cell in source.cells:
        text = nbcells.source_text(cell)
        rest = text
        if solutions and nbcells.is_answer(cell) and nbcells.BEGIN_SOLUTION not in text:
            # nbgrader replaces an answer cell without solution markers as a whole.
            inside.update(_normalise(x) for x in nbcells.meaningful_lines(text.split("\n")))
            continue
        if solutions:
            rest, sol = nbcells.split_region(rest, nbcells.BEGIN_SOLUTION, nbcells.END_SOLUTION)
            inside.update(_normalise(x) for x in nbcells.meaningful_lines(sol))
        if hidden:
            rest, hid = nbcells.split_hidden(rest)
            inside.update(_normalise(x) for x in nbcells.meaningful_lines(hid))
        if not solutions:  # solution regions are neither secret nor public here
            rest, _ = nbcells.split_region(rest, nbcells.BEGIN_SOLUTION, nbcells.END_SOLUTION)
        outside.update(_normalise(x) for x in rest.split("\n"))
    return inside - outside


def find_leaks(source: nbformat.NotebookNode, released: nbformat.NotebookNode) -> list[str]:
    """Describe everything in ``released`` that must not be there (empty list: clean)."""
    secrets = secret_lines(source)
    leaks = []
    for index, cell in enumerate(released.cells):
        name = nbcells.grade_id(cell) or f"cell {index}"
        text = nbcells.source_text(cell)
        for delimiter in _DELIMITERS:
            if delimiter in text:
                leaks.append(f"{name} contains the marker '{delimiter}'")
        for line in text.split("\n"):
            if _normalise(line) in secrets:
                leaks.append(f"{name} contains the line {line.strip()!r}")
        if cell.get("outputs"):
            leaks.append(f"{name} has outputs")
    return leaks


def release(course: Course, assignment: str) -> list[Path]:
    """Run ``nbgrader generate_assignment`` and verify the result.

    Returns:
        The released notebooks.

    Raises:
        CourseError: if the assignment does not exist.
        ReleaseError: if nbgrader fails or the release leaks (the release folder is removed).
    """
    sources = course.source_notebooks(assignment)
    api = course.nbgrader_api()
    outcome = api.generate_assignment(assignment, force=True, create=True)
    if not outcome.get("success"):
        detail = "\n".join(x for x in (outcome.get("log"), outcome.get("error")) if x).strip()
        raise ReleaseError(f"nbgrader generate_assignment failed for {assignment!r}:\n{detail}")
    released = []
    problems = []
    for source_path in sources:
        target = course.release_dir(assignment) / source_path.name
        if not target.exists():
            problems.append(f"{target} was not created")
            continue
        leaks = find_leaks(
            nbformat.read(str(source_path), as_version=4), nbformat.read(str(target), as_version=4)
        )
        problems.extend(f"{source_path.name}: {leak}" for leak in leaks)
        released.append(target)
    if problems:
        shutil.rmtree(course.release_dir(assignment), ignore_errors=True)
        raise ReleaseError(
            f"the release of {assignment!r} would give away solutions or hidden tests, so "
            f"{course.release_dir(assignment)} was removed:\n  " + "\n  ".join(problems)
        )
    return released
