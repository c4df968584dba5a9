"""HTML feedback for students, without the hidden tests.

``nbgrader generate_feedback`` renders the graded notebook as it is, hidden tests included,
and a traceback from a hidden test shows the hidden line that failed. Feedback is therefore
rendered through nbgrader's own converter with one more preprocessor in front,
:class:`HideHiddenTests`, which for every test cell with a hidden region

* removes the region from the source shown,
* keeps only error outputs (prints and plots from hidden code are dropped), and
* replaces every traceback entry and error message that contains a hidden line.

The same preprocessor is named in ``assignments/nbgrader_config.py`` so that a plain
``nbgrader generate_feedback`` is safe too. After rendering, each HTML file is searched for
every secret hidden-test line; if one is found the file is deleted and an error raised.
"""

from __future__ import annotations

import csv
import html
import re
from typing import Any

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from coursekit.grading import cells as nbcells
from coursekit.grading.course import Course, CourseError
from coursekit.grading.release import secret_lines
from coursekit.grading.scoring import strip_ansi

HIDDEN_NOTE = "(hidden test code is not shown)"


class FeedbackLeak(Exception):
    """Rendered feedback contained hidden-test code."""


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


def generate_feedback(course: Course, assignment: str, student: str | None = None) -> dict[str, str]:
    """Render feedback for every graded submission (or one student).

    Returns:
        ``{student: "written" | reason it was skipped}``.

    Raises:
        CourseError: unknown assignment, or nothing graded yet.
        FeedbackLeak: a rendered page contained hidden-test code (the page is deleted).
    """
    sources = course.source_notebooks(assignment)
    statuses = _graded_students(course, assignment)
    base = course.root / "autograded"
    students = sorted(p.parent.name for p in base.glob(f"*/{assignment}") if p.is_dir())
    if student is not None:
        if student not in students:
            raise CourseError(f"no graded submission of {assignment!r} for student {student!r}")
        students = [student]
    if not students:
        raise CourseError(f"no graded submissions of {assignment!r}; run 'coursekit grade {assignment}' first")

    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    course.config.GenerateFeedback.preprocessors = [HideHiddenTests, GetGrades, CSSHTMLHeaderPreprocessor]
    api = course.nbgrader_api()

    secrets: set[str] = set()
    for path in sources:
        secrets |= secret_lines(nbformat.read(str(path), as_version=4), solutions=False, hidden=True)

    report: dict[str, str] = {}
    for name in students:
        if statuses.get(name) == "needs-attention":
            report[name] = "skipped: the submission needs attention (see grades CSV)"
            continue
        outcome = api.generate_feedback(assignment, name, force=True)
        if not outcome.get("success"):
            report[name] = f"failed: {(outcome.get('error') or outcome.get('log') or '').strip()[-500:]}"
            continue
        # A line the student wrote in an answer cell is theirs to see, even if a hidden test
        # happens to contain the same line.
        own = _answer_lines(course.autograded_dir(name, assignment))
        for page in course.feedback_dir(name, assignment).glob("*.html"):
            text = html_text(page.read_text(encoding="utf-8", errors="replace"))
            leaked = sorted(s for s in secrets - own if s in text)
            if leaked:
                page.unlink()
                raise FeedbackLeak(f"{page} showed hidden-test code ({leaked[0]!r}); it was deleted")
        report[name] = "written"
        if _manual_pending(course, assignment, name):
            report[name] += " (a written answer is not graded yet and shows as 0)"
    return report


def _manual_pending(course: Course, assignment: str, student: str) -> bool:
    from nbgrader.api import Gradebook

    from coursekit.grading.gradebook import manual_scores

    with Gradebook(course.db_url, course.course_id) as gb:
        score, maximum = manual_scores(gb, assignment, student)
    return maximum > 0 and score is None
