"""``coursekit validate``: run a notebook with its visible tests and say what passes.

The notebook runs as Restart & Run All would run it, in working mode (``check()`` compares at
once and raises on a wrong answer), in the same runner the grader uses, with the same time
limits and the same rules for student code: cells the student added run at their place, and
an answer may import only the ``coursekit`` modules the assignment's own cells import. The
same lint as in grading is applied to the student's code.

A notebook whose metadata an editor removed is still validated: its cells that call
``check()`` are taken as its test cells, and the import rule cannot be applied (nothing tells
the student's cells from the instructor's); the report says so. The grader places such a
notebook's answers by their functions and their place (:mod:`coursekit.grading.canonical`).

Hidden tests exist only in the instructor's copy, so a passing validation is necessary, not
sufficient, for full marks.
"""

from __future__ import annotations

import copy
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from coursekit.grading import cells as nbcells
from coursekit.grading import runner as rn
from coursekit.grading.canonical import read_notebook_file
from coursekit.grading.course import CourseError
from coursekit.grading.blind import ADDED_KEY
from coursekit.grading.canonical import has_grading_metadata
from coursekit.grading.lint import check_tampering
from coursekit.grading.scoring import error_summary


@dataclass
class Validation:
    """Result of validating one notebook.

    Attributes:
        lines: the report, one line per test cell and problem.
        passed: number of test cells that passed.
        failed: number of test cells that failed.
        problems: answer-cell problems (errors, use of the reference implementation).
    """

    lines: list[str] = field(default_factory=list)
    passed: int = 0
    failed: int = 0
    problems: int = 0

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.problems == 0


def validate_notebook(path: Path, limits: rn.RunLimits) -> Validation:
    """Run ``path`` with its visible tests and summarise.

    Raises:
        CourseError: the file is missing, unreadable or not an assignment notebook.
    """
    from coursekit.grading.canonical import UnreadableNotebook

    path = Path(path)
    try:
        nb = read_notebook_file(path)
    except UnreadableNotebook as exc:
        raise CourseError(str(exc)) from exc
    run_nb = copy.deepcopy(nb)
    report = Validation()
    if has_grading_metadata(nb):
        for cell in run_nb.cells:
            if cell.get("cell_type") == "code" and not nbcells.nbgrader_meta(cell):
                cell.metadata[ADDED_KEY] = {"validate": True}  # the student's own: run as such
    else:
        calls_check = [
            c for c in run_nb.cells
            if c.get("cell_type") == "code"
            and re.search(r"\bcheck(_raises)?\(", nbcells.source_text(c))
        ]  # fmt: skip
        if not calls_check:
            raise CourseError(
                f"{path} is not an assignment notebook: it has no test cells and no check() calls"
            )
        for n, cell in enumerate(calls_check, start=1):
            cell.metadata["nbgrader"] = {
                "grade": True,
                "solution": False,
                "grade_id": f"test cell {n}",
                "points": 0,
            }
        report.lines.append(
            "note: this notebook has no grading metadata (an editor removed it); the cells that "
            "call check() were taken as its test cells, and the rule on importing coursekit "
            "could not be checked. Download the assignment again and copy your answers into it."
        )
    with tempfile.TemporaryDirectory(prefix="coursekit-validate-") as tmp:
        result = rn.run_notebook(run_nb, Path(tmp), limits, record=False, files_from=path.parent)
    if result.failure:
        raise CourseError(f"{path} could not be run: {result.failure}")

    for i, cell in enumerate(run_nb.cells):
        gid = nbcells.grade_id(cell) or f"cell {i}"
        cell_run = result.cells.get(i)
        student_code = cell.cell_type == "code" and (
            nbcells.is_answer(cell) or ADDED_KEY in cell.metadata
        )
        if student_code:
            name = f"answer cell '{gid}'" if nbcells.is_answer(cell) else f"your added cell {i + 1}"
            for finding in check_tampering(cell.source):
                report.problems += 1
                report.lines.append(f"PROBLEM {name} {finding}; the tests rely on check()")
            if cell_run and cell_run.status != rn.OK:
                report.problems += 1
                report.lines.append(f"ERROR {name}: {_why(cell_run, result.stopped)}")
        elif nbcells.is_test(cell):
            points = nbcells.points(cell)
            if cell_run and cell_run.status == rn.OK:
                report.passed += 1
                report.lines.append(f"PASS  {gid} ({points:g} points)")
            else:
                report.failed += 1
                report.lines.append(
                    f"FAIL  {gid} ({points:g} points): {_why(cell_run, result.stopped)}"
                )
    if result.stopped:
        report.lines.append(f"note: {result.stopped}")
    total = report.passed + report.failed
    verdict = "all visible tests pass" if report.ok else "there are failures"
    report.lines.append(
        f"{report.passed} of {total} test cells passed; "
        f"{verdict} (hidden tests run only when graded)"
    )
    return report


def _why(cell_run: rn.CellRun | None, stopped: str | None) -> str:
    if cell_run is None or cell_run.status == rn.NOT_RUN:
        return f"not run ({stopped or 'execution stopped earlier'})"
    if cell_run.status == rn.KERNEL_DIED:
        return "the kernel died"
    summary = error_summary(cell_run.outputs) or cell_run.status
    if summary.startswith("NotImplementedError"):
        summary += " (an answer this test uses is not written yet)"
    return summary
