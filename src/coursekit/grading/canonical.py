"""Build the notebook that is actually graded from the source notebook and a submission.

A submitted notebook cannot be trusted to have the assignment's structure: students delete,
duplicate, reorder, split and retype cells, rename a ``grade_id`` by accident, edit a test, or
open the notebook in an editor that strips all metadata. So the graded notebook is always the
**source notebook's cell skeleton** (its order, test cells with hidden tests, points and
read-only cells) with the student's **answer cells** put in, plus the **code cells the student
added**, at their place: what Restart & Run All of the student's notebook would run, with the
instructor's cells taken from the source. Nothing a student does to the structure can lower or
raise a score; only the code they wrote counts.

Each answer cell of the source is matched to submitted cells in this order, and every step
other than the first is reported as a note:

1. by ``grade_id``; if the cell appears several times (duplicated, or split in two by the
   editor), every copy that differs from the released stub runs, in the student's order;
2. by the functions and classes the solution defines (a renamed ``grade_id``, or the answer
   written into a new code cell);
3. by position among submitted answer cells of the same type whose ``grade_id`` is unknown;
4. by its place: the submitted cell right after the one that holds the source cell before it
   (a notebook whose metadata an editor removed);
5. otherwise the released stub is graded, i.e. the task counts as unanswered, unless the
   notebook has no grading metadata at all: then a written answer that cannot be placed is left
   for a person to grade from the submitted file rather than recorded as missing.

A submitted cell that has no known ``grade_id`` and whose text is that of a read-only or test
cell of the assignment (as released) is that cell, metadata lost; it is not run twice. Every
other code cell the student added is run right after the cell it follows in the student's
notebook, as student code (:data:`coursekit.grading.blind.ADDED_KEY`).

The answer cells and added cells are also linted (:mod:`coursekit.grading.lint`): tampering
with the answer checks is reported. The rule that the course's own implementation earns no
credit is not a lint: student code cannot import it while it is graded
(:mod:`coursekit.grading.kernel_harness`).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import nbformat

from coursekit.grading import cells as nbcells
from coursekit.grading.blind import ADDED_KEY
from coursekit.grading.lint import check_tampering


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
        nb: the notebook, in the source's cell order with the student's added code cells in
            place, with no outputs.
        notes: what the instructor should know (fallback matches, missing cells, ...).
        answered: ``{answer grade_id: True if the answer differs from the released stub}``.
        tampering: descriptions of answer cells that interfere with the answer checks.
        names: ``{cell index in nb: how to name it in messages}`` for answer and added cells.
    """

    nb: nbformat.NotebookNode
    notes: list[str] = field(default_factory=list)
    answered: dict[str, bool] = field(default_factory=dict)
    tampering: list[str] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)


def _describe_names(names: set[str]) -> str:
    return ", ".join(f"{n}()" for n in sorted(names))


def _released_text(cell: Any) -> str:
    """What a student received of an instructor's cell (a test cell without its hidden tests)."""
    text = nbcells.source_text(cell)
    return nbcells.split_hidden(text)[0] if nbcells.is_test(cell) else text


def has_grading_metadata(nb: nbformat.NotebookNode) -> bool:
    """True if any cell of ``nb`` carries nbgrader metadata."""
    return any(nbcells.grade_id(c) for c in nb.cells if isinstance(c, dict))


def canonicalise(
    source: nbformat.NotebookNode, student: nbformat.NotebookNode, stubs: dict[str, str]
) -> Canonical:
    """Put the student's answers and added code into the source notebook's skeleton.

    Args:
        source: the instructor's notebook (with solutions and hidden tests).
        student: the submitted notebook.
        stubs: ``{answer grade_id: released text of that cell}``, used for unanswered cells
            and to tell an answered cell from an untouched one.
    """
    answers = [(i, c) for i, c in enumerate(source.cells) if nbcells.is_answer(c)]
    answer_ids = {nbcells.source_grade_id(c) for _, c in answers}
    source_index = {
        nbcells.grade_id(c): i for i, c in enumerate(source.cells) if nbcells.grade_id(c)
    }
    submitted = [c for c in student.cells if isinstance(c, dict)]
    with_metadata = has_grading_metadata(student)
    # The released text of every instructor cell that has something to say.
    fixed_text = {
        _norm(_released_text(c)): i
        for i, c in enumerate(source.cells)
        if not nbcells.is_answer(c) and len(_norm(_released_text(c))) > 0
    }

    anchor: dict[int, int] = {}  # submitted index -> source index it stands for
    by_id: dict[str, list[int]] = defaultdict(list)
    free: list[int] = []  # submitted cells that may hold a misplaced answer, or added code
    for j, cell in enumerate(submitted):
        gid = nbcells.grade_id(cell)
        if gid is not None and gid in answer_ids:
            by_id[gid].append(j)
        elif gid in source_index:
            anchor[j] = source_index[gid]  # a test or read-only cell: it comes from the source
        elif (
            _norm(nbcells.source_text(cell)) in fixed_text
            and cell.get("cell_type")
            == source.cells[fixed_text[_norm(nbcells.source_text(cell))]].cell_type
        ):
            anchor[j] = fixed_text[_norm(nbcells.source_text(cell))]  # the same, metadata lost
        else:
            free.append(j)

    result = Canonical(nb=copy.deepcopy(source))
    chosen: dict[str, list[int]] = {}
    for _, cell in answers:
        gid = nbcells.source_grade_id(cell)
        candidates = by_id.get(gid, [])
        if len(candidates) == 1:
            chosen[gid] = candidates
        elif candidates:
            edited = [
                j for j in candidates
                if _norm(nbcells.source_text(submitted[j])) != _norm(stubs.get(gid))
            ]  # fmt: skip
            chosen[gid] = edited or candidates[-1:]
            untouched = len(candidates) - len(edited)
            if edited and untouched:
                how = (
                    f"the {len(edited)} edited cop{'y' if len(edited) == 1 else 'ies'} "
                    f"{'was' if len(edited) == 1 else 'were'} run and the untouched "
                    f"one{'s' if untouched > 1 else ''} left out"
                )
            elif edited:
                how = "every copy was run, in the notebook's order"
            else:
                how = "none was edited"
            result.notes.append(f"answer cell '{gid}' appears {len(candidates)} times; {how}")

    used = {j for js in chosen.values() for j in js}
    # Fallback 1: the functions and classes the solution defines.
    for _, cell in answers:
        gid = nbcells.source_grade_id(cell)
        if gid in chosen or cell.cell_type != "code":
            continue
        wanted = nbcells.defined_names(nbcells.source_text(cell))
        if not wanted:
            continue
        best, best_overlap = None, 0
        for j in free:
            if j in used or not (
                submitted[j].get("cell_type") == "code" or nbcells.is_answer(submitted[j])
            ):
                continue  # prose that merely mentions "def f" is not an answer
            overlap = len(wanted & nbcells.defined_names(nbcells.source_text(submitted[j])))
            if overlap >= best_overlap and overlap > 0:  # ties: the later cell, as in a kernel
                best, best_overlap = j, overlap
        if best is not None:
            chosen[gid] = [best]
            used.add(best)
            other = nbcells.grade_id(submitted[best])
            where = f"the cell with id '{other}'" if other else "a cell without grading metadata"
            defined = nbcells.defined_names(nbcells.source_text(submitted[best]))
            result.notes.append(
                f"answer cell '{gid}' was not found by its id; graded {where}, which defines "
                f"{_describe_names(wanted & defined)}"
            )
    # Fallback 2: position among answer cells of the same type with an unknown id (a renamed
    # grade_id): the k-th unmatched answer cell of the source gets the k-th such cell.
    renamed = [j for j in free if j not in used and nbcells.is_answer(submitted[j])]
    for _, cell in answers:
        gid = nbcells.source_grade_id(cell)
        same_type = [j for j in renamed if submitted[j].get("cell_type") == cell.cell_type]
        if gid in chosen or not same_type:
            continue
        j = same_type[0]
        renamed.remove(j)
        chosen[gid] = [j]
        used.add(j)
        result.notes.append(
            f"answer cell '{gid}' was not found by its id; graded the answer cell in its place "
            f"(id '{nbcells.grade_id(submitted[j])}')"
        )
    # Fallback 3: the cell right after the one standing for the source cell before the answer.
    where_is = {s: j for j, s in anchor.items()}
    for i, cell in answers:
        gid = nbcells.source_grade_id(cell)
        if gid in chosen or i == 0 or (i - 1) not in where_is:
            continue
        j = where_is[i - 1] + 1
        if j in free and j not in used and submitted[j].get("cell_type") == cell.cell_type:
            chosen[gid] = [j]
            used.add(j)
            previous = nbcells.grade_id(source.cells[i - 1]) or f"cell {i - 1}"
            result.notes.append(
                f"answer cell '{gid}' was not found by its id; graded the cell after '{previous}'"
            )

    # Code cells the student added, after the cell they follow in the student's notebook.
    place: dict[int, int] = dict(anchor)  # submitted index -> source index
    for gid, js in chosen.items():
        for j in js:
            place[j] = source_index[gid]
    added_after: dict[int, list[int]] = defaultdict(list)  # source index (-1: first) -> added
    last = -1
    for j, cell in enumerate(submitted):
        if j in place:
            last = place[j]
        elif (
            j in free
            and j not in used
            and cell.get("cell_type") == "code"
            and nbcells.source_text(cell).strip()
        ):
            added_after[last].append(j)

    cells: list[Any] = [result.nb.cells[k] for k in range(len(result.nb.cells))]
    extra_parts: dict[int, list[Any]] = defaultdict(list)  # source index -> more answer copies
    for i, cell in answers:
        gid = nbcells.source_grade_id(cell)
        new = cells[i]
        if gid in chosen:
            texts = [nbcells.source_text(submitted[j]) for j in chosen[gid]]
            retyped = [
                submitted[j].get("cell_type")
                for j in chosen[gid]
                if submitted[j].get("cell_type") != cell.cell_type
            ]
            if retyped:
                result.notes.append(
                    f"answer cell '{gid}' had been changed into a {retyped[0]} cell; "
                    f"its text was graded as a {cell.cell_type} cell"
                )
            if cell.cell_type == "code":
                text = texts[0]
                for k, more in enumerate(texts[1:], start=2):
                    part = nbformat.v4.new_code_cell(
                        more, metadata={ADDED_KEY: {"part_of": gid, "part": k}}
                    )
                    extra_parts[i].append(part)
            else:
                text = "\n\n".join(texts)
        else:
            text = stubs.get(gid, "")
            if not with_metadata and nbcells.is_manual(cell):
                result.notes.append(
                    f"the notebook has no grading metadata (an editor removed it) and answer cell "
                    f"'{gid}' could not be placed; grade it by reading the submitted notebook"
                )
            else:
                result.notes.append(
                    f"answer cell '{gid}' is missing from the submission; graded as unanswered"
                )
        new.source = text
        answered = _norm(text) != _norm(stubs.get(gid))
        if gid not in chosen and not with_metadata and nbcells.is_manual(cell):
            answered = True  # a person must look; never a silent "No response"
        result.answered[gid] = answered

    out: list[Any] = []
    names: dict[int, str] = {}

    def add_student_cells(after: int) -> None:
        for j in added_after.get(after, []):
            text = nbcells.source_text(submitted[j])
            names[len(out)] = f"added code cell (cell {j + 1} of the submitted notebook)"
            out.append(nbformat.v4.new_code_cell(text, metadata={ADDED_KEY: {"cell": j + 1}}))

    add_student_cells(-1)
    for k, cell in enumerate(cells):
        if nbcells.is_answer(cell):
            names[len(out)] = f"answer cell '{nbcells.grade_id(cell)}'"
        out.append(cell)
        for part in extra_parts.get(k, []):
            names[len(out)] = (
                f"answer cell '{part.metadata[ADDED_KEY]['part_of']}' "
                f"(copy {part.metadata[ADDED_KEY]['part']})"
            )
            out.append(part)
        add_student_cells(k)
    result.nb.cells = out
    result.names = names

    for cell in result.nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("collapsed", None)

    _lint(source, result)
    return result


def _lint(source: nbformat.NotebookNode, result: Canonical) -> None:
    """Collect tampering reports from the student's code (answer and added cells)."""
    originals = {
        nbcells.grade_id(c): nbcells.source_text(c) for c in source.cells if nbcells.is_answer(c)
    }
    for i, cell in enumerate(result.nb.cells):
        if cell.cell_type != "code" or not (
            nbcells.is_answer(cell) or cell.metadata.get(ADDED_KEY)
        ):
            continue
        original = (
            originals.get(nbcells.grade_id(cell) or "", "") if nbcells.is_answer(cell) else ""
        )
        for finding in sorted(set(check_tampering(cell.source)) - set(check_tampering(original))):
            result.tampering.append(f"{result.names.get(i, f'cell {i}')} {finding}")


def release_stubs(source: nbformat.NotebookNode, config: Any = None) -> dict[str, str]:
    """The released text of every answer cell, made with nbgrader's own ClearSolutions."""
    from nbgrader.preprocessors import ClearSolutions

    nb = copy.deepcopy(source)
    clear = ClearSolutions(config=config) if config is not None else ClearSolutions()
    nb, _ = clear.preprocess(nb, {})
    return {nbcells.source_grade_id(c): c.source for c in nb.cells if nbcells.is_answer(c)}
