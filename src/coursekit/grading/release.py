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


# Marker lines, matched loosely so that a misspelt marker (which nbgrader does not recognise,
# and therefore releases) is still treated as the start or end of a secret region.
_BEGIN_SOLUTION = re.compile(r"\bBEGIN\W*SOLU", re.I)
_END_SOLUTION = re.compile(r"\bEND\W*SOLU", re.I)
_BEGIN_HIDDEN = re.compile(r"\bBEGIN\W*HIDDEN", re.I)
_END_HIDDEN = re.compile(r"\bEND\W*HIDDEN", re.I)
_ANY_MARKER = re.compile(r"\b(BEGIN|END)\W*(SOLU|HIDDEN)", re.I)


def _normalise(line: str) -> str:
    return re.sub(r"\s+", " ", line.strip())


def _split(text: str, begin: re.Pattern, end: re.Pattern) -> tuple[list[str], list[str]]:
    """``(lines outside, lines inside)`` of loosely delimited regions; markers belong to neither."""
    outside: list[str] = []
    inside: list[str] = []
    in_region = False
    for line in text.split("\n"):
        if begin.search(line):
            in_region = True
        elif end.search(line):
            in_region = False
        else:
            (inside if in_region else outside).append(line)
    return outside, inside


def secret_lines(
    source: nbformat.NotebookNode, *, solutions: bool = True, hidden: bool = True
) -> set[str]:
    """Meaningful source lines that exist only inside solution and/or hidden-test regions.

    An answer cell without solution markers counts as secret as a whole (nbgrader replaces it
    entirely). With ``solutions=False``, solution regions are neither secret nor public.
    """
    inside: set[str] = set()
    outside: set[str] = set()
    for cell in source.cells:
        text = nbcells.source_text(cell)
        if nbcells.is_answer(cell) and not _BEGIN_SOLUTION.search(text):
            if solutions:
                inside.update(_normalise(x) for x in nbcells.meaningful_lines(text.split("\n")))
            continue
        rest, sol = _split(text, _BEGIN_SOLUTION, _END_SOLUTION)
        if solutions:
            inside.update(_normalise(x) for x in nbcells.meaningful_lines(sol))
        rest, hid = _split("\n".join(rest), _BEGIN_HIDDEN, _END_HIDDEN)
        if hidden:
            inside.update(_normalise(x) for x in nbcells.meaningful_lines(hid))
        outside.update(_normalise(x) for x in rest)
    return inside - outside


def find_leaks(source: nbformat.NotebookNode, released: nbformat.NotebookNode) -> list[str]:
    """Describe everything in ``released`` that must not be there (empty list: clean)."""
    secrets = secret_lines(source)
    leaks = []
    for index, cell in enumerate(released.cells):
        name = nbcells.grade_id(cell) or f"cell {index}"
        for line in nbcells.source_text(cell).split("\n"):
            if _ANY_MARKER.search(line):
                leaks.append(f"{name} contains the marker line {line.strip()!r}")
            elif _normalise(line) in secrets:
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
