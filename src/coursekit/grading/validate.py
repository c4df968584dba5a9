"""``coursekit validate``: run a notebook with its visible tests and say what passes.

The notebook runs in working mode (``check()`` compares at once and raises on a wrong answer)
in the same runner the grader uses, with the same time limits. Like the grader, it runs only
the cells that belong to the assignment: cells a student added are left out (and counted), so
a notebook that only works because of an extra cell fails here rather than at grading time.
The same lint as in grading is applied to the answer cells.

Hidden tests exist only in the instructor's copy, so a passing validation is necessary, not
sufficient, for full marks.
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from coursekit.grading import cells as nbcells
from coursekit.grading import runner as rn
from coursekit.grading.canonical import read_notebook_file
from coursekit.grading.course import CourseError
from coursekit.grading.lint import check_tampering, reference_modules_used
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
    if not any(nbcells.is_test(c) for c in nb.cells):
        raise CourseError(f"{path} is not an assignment notebook: it has no test cells")

    run_nb = copy.deepcopy(nb)
    added = [c for c in run_nb.cells if c.get("cell_type") == "code" and not nbcells.nbgrader_meta(c)]
    run_nb.cells = [c for c in run_nb.cells if c.get("cell_type") != "code" or nbcells.nbgrader_meta(c)]
    report = Validation()
    if added:
        report.lines.append(
            f"note: {len(added)} code cell(s) you added were not run; the grader ignores them "
            f"too, so put helper code inside an answer cell"
        )
    with tempfile.TemporaryDirectory(prefix="coursekit-validate-") as tmp:
        result = rn.run_notebook(run_nb, Path(tmp), limits, record=False, files_from=path.parent)
    if result.failure:
        raise CourseError(f"{path} could not be run: {result.failure}")

    for i, cell in enumerate(run_nb.cells):
        gid = nbcells.grade_id(cell) or f"cell {i}"
        cell_run = result.cells.get(i)
        if nbcells.is_answer(cell) and cell.cell_type == "code":
            used = reference_modules_used(cell.source)
            if used:
                report.problems += 1
                report.lines.append(
                    f"PROBLEM answer cell '{gid}' uses {', '.join(sorted(used))}; the grader gives "
                    f"no credit for a task solved with the course's own implementation"
                )
            for finding in check_tampering(cell.source):
                report.problems += 1
                report.lines.append(f"PROBLEM answer cell '{gid}' {finding}; the tests rely on check()")
            if cell_run and cell_run.status != rn.OK:
                report.problems += 1
                report.lines.append(f"ERROR answer cell '{gid}': {_why(cell_run, result.stopped)}")
        elif nbcells.is_test(cell):
            points = nbcells.points(cell)
            if cell_run and cell_run.status == rn.OK:
                report.passed += 1
                report.lines.append(f"PASS  {gid} ({points:g} points)")
            else:
                report.failed += 1
                report.lines.append(f"FAIL  {gid} ({points:g} points): {_why(cell_run, result.stopped)}")
    if result.stopped:
        report.lines.append(f"note: {result.stopped}")
    total = report.passed + report.failed
    verdict = "all visible tests pass" if report.ok else "there are failures"
    report.lines.append(f"{report.passed} of {total} test cells passed; {verdict} (hidden tests run only when graded)")
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
