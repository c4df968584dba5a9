"""Build the notebook that is actually graded from the source notebook and a submission.

A submitted notebook cannot be trusted to have the assignment's structure: students delete,
duplicate, reorder and retype cells, rename a ``grade_id`` by accident, or edit a test. So the
graded notebook is always the **source notebook's cell skeleton** (its order, test cells with
hidden tests, points and read-only cells) with only the **answer cells** taken from the
submission. Nothing a student does to the structure can then lower or raise a score; only
what they wrote in the answer cells counts.

Each answer cell of the source is matched to a submitted cell in this order, and every step
other than the first is reported as a note:

1. by ``grade_id`` (if the cell was duplicated, the last copy that differs from the released
   stub wins);
2. by the functions and classes the solution defines (a renamed ``grade_id``, or the answer
   written into a new code cell);
3. by position among submitted answer cells of the same type whose ``grade_id`` is unknown;
4. otherwise the released stub is graded, i.e. the task counts as unanswered.

Cells a student added (without nbgrader metadata) are not graded and not run.

The answer cells are also linted (:mod:`coursekit.grading.lint`): a task whose answer uses the
course's reference implementation gets no credit for its tests, and tampering with the answer
checks is reported.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import nbformat

from coursekit.grading import cells as nbcells
from coursekit.grading.lint import check_tampering, reference_modules_used


class UnreadableNotebook(Exception):
    """The submitted file is not a notebook the grader can read."""


def read_notebook_file(path) -> nbformat.NotebookNode:
    """Read a notebook file, turning every way it can be broken into one exception.

    Raises:
        UnreadableNotebook: with a reason a person can act on.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError as exc:
        raise UnreadableNotebook(f"{path.name} is missing from the submission") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableNotebook(f"{path.name} could not be read: {exc}") from exc
    return parse_notebook(text, path.name)


def parse_notebook(text: str | bytes, name: str) -> nbformat.NotebookNode:
    """Parse a notebook's text (``name`` is only used in messages).

    Raises:
        UnreadableNotebook: with a reason a person can act on.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnreadableNotebook(f"{name} could not be read: {exc}") from exc
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises JSON, validation and version errors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnreadableNotebook(f"{name} is not a valid notebook ({first})") from exc
    cells = nb.get("cells")
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        raise UnreadableNotebook(f"{name} is not a valid notebook (it has no list of cells)")
    return nb


def _norm(text: str | None) -> str:
    return "\n".join(line.rstrip() for line in (text or "").strip().splitlines())


@dataclass
class Canonical:
    """The notebook to grade and what was done to build it.

    Attributes:
        nb: the notebook, in the source's cell order, with no outputs.
        notes: what the instructor should know (fallback matches, missing cells, ...).
        answered: ``{answer grade_id: True if the answer differs from the released stub}``.
        blocked: ``{test grade_id: reason}`` for tests that get no credit because their task's
            answer uses the course's reference implementation.
        tampering: descriptions of answer cells that interfere with the answer checks.
    """

    nb: nbformat.NotebookNode
    notes: list[str] = field(default_factory=list)
    answered: dict[str, bool] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)
    tampering: list[str] = field(default_factory=list)


def _describe_names(names: set[str]) -> str:
    return ", ".join(f"{n}()" for n in sorted(names))


def canonicalise(
    source: nbformat.NotebookNode, student: nbformat.NotebookNode, stubs: dict[str, str]
) -> Canonical:
    """Put the student's answers into the source notebook's skeleton.

    Args:
        source: the instructor's notebook (with solutions and hidden tests).
        student: the submitted notebook.
        stubs: ``{answer grade_id: released text of that cell}``, used for unanswered cells
            and to tell an answered cell from an untouched one.
    """
    answers = [(i, c) for i, c in enumerate(source.cells) if nbcells.is_answer(c)]
    answer_ids = {nbcells.grade_id(c) for _, c in answers}
    source_ids = {nbcells.grade_id(c) for c in source.cells if nbcells.grade_id(c)}
    submitted = [c for c in student.cells if isinstance(c, dict)]

    by_id: dict[str, list[int]] = defaultdict(list)
    free: list[int] = []  # submitted cells that may hold a misplaced answer
    for j, cell in enumerate(submitted):
        gid = nbcells.grade_id(cell)
        if gid in answer_ids:
            by_id[gid].append(j)
        elif gid in source_ids:
            continue  # a test or read-only cell: those always come from the source
        else:
            free.append(j)

    result = Canonical(nb=copy.deepcopy(source))
    chosen: dict[str, int] = {}
    for _, cell in answers:
        gid = nbcells.grade_id(cell)
        candidates = by_id.get(gid, [])
        if len(candidates) == 1:
            chosen[gid] = candidates[0]
        elif candidates:
            edited = [
                j for j in candidates
                if _norm(nbcells.source_text(submitted[j])) != _norm(stubs.get(gid))
            ]  # fmt: skip
            chosen[gid] = (edited or candidates)[-1]
            which = "last edited copy" if edited else "last copy"
            result.notes.append(f"answer cell '{gid}' appears {len(candidates)} times; the {which} was graded")

    used = set(chosen.values())
    # Fallback 1: the functions and classes the solution defines.
    for _, cell in answers:
        gid = nbcells.grade_id(cell)
        if gid in chosen or cell.cell_type != "code":
            continue
        wanted = nbcells.defined_names(nbcells.source_text(cell))
        if not wanted:
            continue
        best, best_overlap = None, 0
        for j in free:
            if j in used or not (submitted[j].get("cell_type") == "code" or nbcells.is_answer(submitted[j])):
                continue  # prose that merely mentions "def f" is not an answer
            overlap = len(wanted & nbcells.defined_names(nbcells.source_text(submitted[j])))
            if overlap >= best_overlap and overlap > 0:  # ties: the later cell, as in a kernel
                best, best_overlap = j, overlap
        if best is not None:
            chosen[gid] = best
            used.add(best)
            other = nbcells.grade_id(submitted[best])
            where = f"the cell with id '{other}'" if other else "a cell without grading metadata"
            result.notes.append(
                f"answer cell '{gid}' was not found by its id; graded {where}, which defines "
                f"{_describe_names(wanted & nbcells.defined_names(nbcells.source_text(submitted[best])))}"
            )
    # Fallback 2: position among answer cells of the same type with an unknown id (a renamed
    # grade_id): the k-th unmatched answer cell of the source gets the k-th such cell.
    renamed = [j for j in free if j not in used and nbcells.is_answer(submitted[j])]
    for _, cell in answers:
        gid = nbcells.grade_id(cell)
        same_type = [j for j in renamed if submitted[j].get("cell_type") == cell.cell_type]
        if gid in chosen or not same_type:
            continue
        j = same_type[0]
        renamed.remove(j)
        chosen[gid] = j
        used.add(j)
        result.notes.append(
            f"answer cell '{gid}' was not found by its id; graded the answer cell in its place "
            f"(id '{nbcells.grade_id(submitted[j])}')"
        )

    for i, cell in answers:
        gid = nbcells.grade_id(cell)
        new = result.nb.cells[i]
        if gid in chosen:
            theirs = submitted[chosen[gid]]
            text = nbcells.source_text(theirs)
            if theirs.get("cell_type") != cell.cell_type:
                result.notes.append(
                    f"answer cell '{gid}' had been changed into a {theirs.get('cell_type')} cell; "
                    f"its text was graded as a {cell.cell_type} cell"
                )
        else:
            text = stubs.get(gid, "")
            result.notes.append(f"answer cell '{gid}' is missing from the submission; graded as unanswered")
        new.source = text
        result.answered[gid] = _norm(text) != _norm(stubs.get(gid))

    for cell in result.nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("collapsed", None)

    _lint(source, result)
    return result


def _lint(source: nbformat.NotebookNode, result: Canonical) -> None:
    """Apply the reference-implementation rule and collect tampering reports."""
    current_answer: tuple[str, set[str]] | None = None
    for i, cell in enumerate(result.nb.cells):
        if nbcells.is_answer(cell) and cell.cell_type == "code":
            gid = nbcells.grade_id(cell)
            text = cell.source
            original = nbcells.source_text(source.cells[i])
            # What the instructor's own solution imports is allowed.
            used = reference_modules_used(text) - reference_modules_used(original)
            current_answer = (gid, used) if used else None
            if used:
                result.notes.append(
                    f"answer cell '{gid}' uses {', '.join(sorted(used))} (the course's own "
                    f"implementation); the tests of this task get no credit"
                )
            for finding in sorted(set(check_tampering(text)) - set(check_tampering(original))):
                result.tampering.append(f"answer cell '{gid}' {finding}")
        elif nbcells.is_test(cell) and current_answer is not None:
            gid, used = current_answer
            result.blocked[nbcells.grade_id(cell)] = (
                f"no credit: answer cell '{gid}' uses {', '.join(sorted(used))}, "
                f"the course's own implementation"
            )


def release_stubs(source: nbformat.NotebookNode, config: Any = None) -> dict[str, str]:
    """The released text of every answer cell, made with nbgrader's own ClearSolutions."""
    from nbgrader.preprocessors import ClearSolutions

    nb = copy.deepcopy(source)
    clear = ClearSolutions(config=config) if config is not None else ClearSolutions()
    nb, _ = clear.preprocess(nb, {})
    return {nbcells.grade_id(c): c.source for c in nb.cells if nbcells.is_answer(c)}
