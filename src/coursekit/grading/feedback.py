"""HTML feedback for students, from a run that never saw the hidden tests.

Once hidden test code has run in a kernel, student code in that kernel can find its text (the
input history, ``linecache``, frames) and print it, encoded so that no search recognises it.
So nothing on a feedback page comes from the graded run's kernel. For each student,
:func:`generate_feedback`

1. runs the graded notebook again (the source's cells with the student's answers and added
   cells, see :mod:`coursekit.grading.canonical`) with the hidden regions of its test cells
   removed, in working mode and in the same sandbox as grading: the outputs students see come
   from this run only;
2. adds to every test cell a summary written by the grader's own process from the grades: the
   points, and for the hidden checks only how many there are and how many did not match (never
   their keys, values or error messages);
3. renders it through nbgrader's converter (scores from the gradebook), with
   :class:`HideHiddenTests` in front as a second line of defence;
4. searches each page for every secret hidden-test line. A page that still shows one is
   withheld for that student only, with the reason; the other students get theirs.

The same preprocessor is named in ``assignments/nbgrader_config.py`` so that a plain
``nbgrader generate_feedback`` (which renders the graded run, outputs included) at least hides
the hidden regions and their tracebacks.
"""

from __future__ import annotations

import copy
import csv
import html
import re
import shutil
from typing import Any

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from coursekit.grading import cells as nbcells
from coursekit.grading.course import Course, CourseError
from coursekit.grading.release import secret_lines
from coursekit.grading.scoring import strip_ansi

HIDDEN_NOTE = "(hidden test code is not shown)"


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden tests from test cells and from their error messages (see module doc)."""

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> tuple[Any, Any]:
        if cell.cell_type != "code" or not nbcells.has_hidden(cell.source):
            return cell, resources
        visible, hidden = nbcells.split_hidden(cell.source)
        secrets = {_normalise(x) for x in nbcells.meaningful_lines(hidden)}
        secrets -= {_normalise(x) for x in visible.split("\n")}
        cell.source = visible.rstrip() + f"\n# {HIDDEN_NOTE}"
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") != "error":
                continue
            out["traceback"] = [_hide(entry, secrets) for entry in out.get("traceback", [])]
            out["evalue"] = _hide(str(out.get("evalue", "")), secrets)
            kept.append(out)
        cell.outputs = kept
        return cell, resources


def _hide(text: str, secrets: set[str]) -> str:
    plain = _normalise(strip_ansi(text))
    return HIDDEN_NOTE if any(secret in plain for secret in secrets) else text


def _graded_students(course: Course, assignment: str) -> dict[str, str]:
    """``{student: status}`` from ``grades/A.csv`` (empty if it does not exist yet)."""
    path = course.grades_csv(assignment)
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["student"]: row["status"] for row in csv.DictReader(fh)}


def _answer_lines(folder) -> set[str]:
    """Normalised lines of every answer cell in the graded notebooks of one submission."""
    lines: set[str] = set()
    for path in folder.glob("*.ipynb"):
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            if nbcells.is_answer(cell):
                lines.update(_normalise(x) for x in cell.source.split("\n"))
    return lines


def html_text(page: str) -> str:
    """The visible text of an HTML page, whitespace-normalised (for leak checks)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return _normalise(html.unescape(re.sub(r"<[^>]+>", "", page)))


FEEDBACK_RUNS = ".coursekit_feedback"
"""Folder of the course directory holding the notebooks feedback is rendered from."""
HIDDEN_FAILED = "a hidden check did not match the reference answer"


def _summary(cell_score: dict, hidden_total: int) -> str:
    """The grader's summary line of one test cell for the student (no hidden detail)."""
    points = cell_score.get("points") or 0.0
    text = f"[grader] {points:g} of {cell_score.get('max_points', 0):g} points"
    messages = cell_score.get("student_messages", [])
    if hidden_total:
        failed = sum(1 for m in messages if m == HIDDEN_FAILED)
        checked = any(
            m.startswith("check ") or m == HIDDEN_FAILED for m in messages
        ) or points == cell_score.get("max_points")
        if checked:
            text += (
                f"; hidden checks: {hidden_total - failed} of {hidden_total} matched the "
                "reference answer"
            )
        else:
            text += (
                f"; hidden checks: {hidden_total}, "
                "not compared (the cell did not run to its end when graded)"
            )
    return text + "\n"


def _feedback_notebook(
    course: Course, assignment: str, student: str, name: str, limits, reference
) -> nbformat.NotebookNode:
    """The graded notebook with the outputs of a run without hidden tests (see module doc)."""
    import json
    import tempfile
    from pathlib import Path

    from coursekit.grading import runner as rn

    graded = nbformat.read(
        str(course.autograded_dir(student, assignment) / f"{name}.ipynb"), as_version=4
    )
    report = json.loads(
        (course.root / "grades" / assignment / f"{student}.json").read_text(encoding="utf-8")
    )
    scores = {
        s["grade_id"]: s
        for n in report.get("notebooks", [])
        if n.get("name") == name
        for s in n.get("scores", [])
    }  # fmt: skip
    visible = copy.deepcopy(graded)
    had_hidden = set()
    for i, cell in enumerate(visible.cells):
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if nbcells.is_test(cell) and nbcells.has_hidden(cell.source):
            cell.source, _ = nbcells.split_hidden(cell.source)
            had_hidden.add(i)
    with tempfile.TemporaryDirectory(prefix=f"coursekit-feedback-{student}-") as tmp:
        run = rn.run_notebook(
            visible, Path(tmp), limits, record=False, files_from=course.source_dir(assignment)
        )
    if run.failure:
        raise RuntimeError(run.failure)
    for i, cell in enumerate(visible.cells):
        if cell.cell_type != "code":
            continue
        cell_run = run.cells.get(i)
        cell.outputs = [nbformat.from_dict(o) for o in (cell_run.outputs if cell_run else [])]
        cell.execution_count = cell_run.execution_count if cell_run else None
        if i in had_hidden:
            cell.source = cell.source.rstrip() + f"\n# {HIDDEN_NOTE}"
        gid = nbcells.grade_id(cell)
        if nbcells.is_test(cell) and gid in scores:
            hidden_total = len(reference.get(gid).hidden_keys) if gid in reference else 0
            cell.outputs.append(
                nbformat.v4.new_output(
                    "stream", name="stdout", text=_summary(scores[gid], hidden_total)
                )
            )
    if run.stopped:
        visible.cells.append(nbformat.v4.new_markdown_cell(f"**Note:** {run.stopped}."))
    return visible


def generate_feedback(
    course: Course,
    assignment: str,
    student: str | list[str] | None = None,
    *,
    sandbox: bool = True,
    jobs: int = 1,
) -> dict[str, str]:
    """Render feedback for every graded submission (or the given students).

    Args:
        sandbox: run the feedback notebooks in the grading sandbox (as grading does).
        jobs: notebooks run at the same time.

    Returns:
        ``{student: "written ..." | "skipped: ..." | "withheld: ..." | "failed: ..."}``.

    Raises:
        CourseError: unknown assignment, nothing graded yet, or no sandbox can be made.
    """
    from concurrent.futures import ThreadPoolExecutor
    from dataclasses import replace

    from coursekit.grading.reference import load_reference

    sources = course.source_notebooks(assignment)
    statuses = _graded_students(course, assignment)
    base = course.root / "autograded"
    students = sorted(p.parent.name for p in base.glob(f"*/{assignment}") if p.is_dir())
    if student is not None:
        wanted = [student] if isinstance(student, str) else list(student)
        for name in wanted:
            if name not in students:
                raise CourseError(f"no graded submission of {assignment!r} for student {name!r}")
        students = sorted(set(wanted))
    if not students:
        raise CourseError(
            f"no graded submissions of {assignment!r}; run 'coursekit grade {assignment}' first"
        )
    limits = course.limits()
    if sandbox:
        from coursekit.grading.sandbox import SandboxUnavailable, require_sandbox

        try:
            require_sandbox()
        except SandboxUnavailable as exc:
            raise CourseError(str(exc)) from exc
        limits = replace(limits, sandbox=course.sandbox_limits())
    references = {p.stem: load_reference(course, assignment, p, course.limits()) for p in sources}

    report: dict[str, str] = {}
    runs_dir = course.root / FEEDBACK_RUNS
    todo = []
    for name in students:
        if statuses.get(name) == "needs-attention":
            report[name] = "skipped: the submission needs attention (see grades CSV)"
        else:
            todo.append(name)

    def prepare(name: str) -> str | None:
        """Write the student's feedback notebooks; a reason if that failed."""
        target = runs_dir / name / assignment
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        try:
            for path in sources:
                if not (course.autograded_dir(name, assignment) / f"{path.stem}.ipynb").exists():
                    continue
                nb = _feedback_notebook(
                    course, assignment, name, path.stem, limits, references[path.stem]
                )
                nbformat.write(nb, str(target / f"{path.stem}.ipynb"))
        except Exception as exc:  # one student's problem must not stop the others
            return f"the feedback run failed ({type(exc).__name__}: {exc})"
        stamp = course.autograded_dir(name, assignment) / "timestamp.txt"
        if stamp.is_file():
            shutil.copy2(stamp, target / "timestamp.txt")
        return None

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        problems = dict(zip(todo, pool.map(prepare, todo)))

    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    course.config.GenerateFeedback.preprocessors = [
        HideHiddenTests,
        GetGrades,
        CSSHTMLHeaderPreprocessor,
    ]
    course.config.CourseDirectory.autograded_directory = FEEDBACK_RUNS
    api = course.nbgrader_api()

    secrets: set[str] = set()
    for path in sources:
        secrets |= secret_lines(
            nbformat.read(str(path), as_version=4), solutions=False, hidden=True
        )

    for name in todo:
        if problems.get(name):
            report[name] = f"failed: {problems[name]}"
            continue
        outcome = api.generate_feedback(assignment, name, force=True)
        if not outcome.get("success"):
            report[name] = (
                f"failed: {(outcome.get('error') or outcome.get('log') or '').strip()[-500:]}"
            )
            continue
        # A line the student wrote in an answer cell is theirs to see, even if a hidden test
        # happens to contain the same line.
        own = _answer_lines(course.autograded_dir(name, assignment))
        leaked: list[str] = []
        for page in course.feedback_dir(name, assignment).glob("*.html"):
            text = html_text(page.read_text(encoding="utf-8", errors="replace"))
            found = sorted(s for s in secrets - own if s in text)
            if found:
                page.unlink()
                leaked.append(f"{page.name} showed hidden-test code ({found[0]!r})")
        if leaked:
            report[name] = f"withheld: {'; '.join(leaked)}; the page was deleted"
            continue
        report[name] = "written"
        if _manual_pending(course, assignment, name):
            report[name] += " (a written answer is not graded yet and shows as 0)"
    return report


def _manual_pending(course: Course, assignment: str, student: str) -> bool:
    from coursekit.grading.database import open_gradebook, wait_while_locked
    from coursekit.grading.gradebook import manual_scores

    with open_gradebook(course.db_url, course.course_id) as gb:
        score, maximum = wait_while_locked(
            lambda: manual_scores(gb, assignment, student),
            course.db_url,
            student,
            undo=gb.db.rollback,
        )
    return maximum > 0 and score is None
