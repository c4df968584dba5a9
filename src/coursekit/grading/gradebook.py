"""Store results in nbgrader's gradebook, so formgrader, ``nbgrader export`` and feedback work.

Only the parent process writes, one submission at a time (SQLite is safest with one writer).
The rules that keep a person's work safe:

* a manual score (``Grade.manual_score``) and manual comments are never written here, so
  they survive any number of regrades;
* a test cell whose auto score changes while a person had overridden it is flagged
  ``needs_manual_grade`` so the override is looked at again;
* a written answer is flagged ``needs_manual_grade`` until a person grades it (an answer left
  as the released stub gets 0 automatically, as in nbgrader);
* a notebook that could not be graded keeps whatever scores it had and is flagged
  ``needs_manual_grade``, so it never silently turns into a zero;
* a notebook that was graded but needs attention (tampering with the checks) has all its test
  cells flagged.

Two processes may write the same submission at once: two teaching assistants grading the same
student, or two hosts given overlapping ``--shard`` settings. nbgrader creates the student and
submission rows by looking them up and inserting them when missing, so the slower of two first
gradings hits a unique constraint of the database. :func:`save_result` then rolls back and
writes again: the second attempt finds the rows the other process made and updates them, so
no row is lost or duplicated. Both processes graded the same files, and grading is
deterministic, so whichever writes last writes the same grades.

A SQLite gradebook may also be locked by another process for a while (another grading process
writing, a formgrader or an ``sqlite3`` shell in the middle of a transaction). The write then
waits and is tried again from the start (see
:func:`~coursekit.grading.database.wait_while_locked`); if the file stays locked,
:func:`save_result` raises :class:`~coursekit.grading.database.GradebookLocked` and the batch
reports the student as not saved.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from nbgrader.api import Gradebook, InvalidEntry, MissingEntry
from sqlalchemy.exc import DBAPIError, IntegrityError, SAWarning

from coursekit.grading import cells as nbcells
from coursekit.grading.database import wait_while_locked
from coursekit.grading.submission import SubmissionResult

SAVE_ATTEMPTS = 5
"""Writes of one submission before a conflict with another process is reported as an error."""
_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected


def read_timestamp(submitted_dir: Path) -> str | None:
    """The submission time from ``timestamp.txt`` (as nbgrader writes it), if readable."""
    from nbgrader.utils import parse_utc

    from coursekit.grading.submitted_files import RefusedFile, read_regular_file

    try:
        raw = read_regular_file(submitted_dir, "timestamp.txt", submitted_dir.parent.parent)
    except (OSError, RefusedFile):
        return None  # missing, a link, or not a plain file: no submission time
    text = raw.decode("utf-8", errors="replace").strip()
    try:
        parse_utc(text)
    except Exception:
        return None
    return text


def assignment_matches(gb: Gradebook, assignment: str, sources: dict[str, list]) -> bool:
    """True if the gradebook knows the assignment with exactly the source's graded cells.

    Args:
        sources: ``{notebook name: list of its cells}``.
    """
    try:
        stored = gb.find_assignment(assignment)
    except MissingEntry:
        return False
    if {nb.name for nb in stored.notebooks} != set(sources):
        return False
    for name, cells in sources.items():
        notebook = gb.find_notebook(name, assignment)
        graded = {c.name for c in notebook.grade_cells} | {c.name for c in notebook.task_cells}
        answers = {c.name for c in notebook.solution_cells}
        if graded != {nbcells.grade_id(c) for c in cells if nbcells.is_graded(c)}:
            return False
        if answers != {nbcells.grade_id(c) for c in cells if nbcells.is_answer(c)}:
            return False
    return True


def _conflict(exc: BaseException) -> bool:
    """True if ``exc`` (or what it was raised from) says another writer got there first."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, IntegrityError):
            return True
        if isinstance(seen, DBAPIError):
            if getattr(seen.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
                return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextlib.contextmanager
def _quiet_nbgrader() -> Iterator[None]:
    """Keep nbgrader from logging a traceback for each database error it re-raises: the
    errors are handled (retried or reported) by the caller."""
    log = logging.getLogger("tornado.application")  # nbgrader.api's app_log
    was = log.disabled
    log.disabled = True
    try:
        yield
    finally:
        log.disabled = was


def save_result(
    gb: Gradebook,
    result: SubmissionResult,
    timestamp: str | None,
    *,
    say: Callable[[str], object] | None = None,
) -> str | None:
    """Write one submission's grades (see the module docstring for what is kept).

    Args:
        say: prints the line saying that the write waits for a SQLite gradebook locked by
            another process (default: standard error); it waits up to
            :data:`~coursekit.grading.database.LOCK_WAIT` seconds.

    Returns:
        None, or what happened when another process wrote the same submission at the same
        time (the rows are then correct; the batch prints the note).

    Raises:
        GradebookLocked: the SQLite gradebook stayed locked for the whole wait. The gradebook
            keeps the grades it had for this submission (nbgrader may have added the student
            and submission rows, without scores); a later write replaces them.
        InvalidEntry, DBAPIError: a database error other than a conflict with another writer,
            or a conflict still there after :data:`SAVE_ATTEMPTS` writes.
    """
    url = gb.engine.url.render_as_string(hide_password=False)
    for attempt in range(1, SAVE_ATTEMPTS + 1):
        try:
            with _quiet_nbgrader():
                wait_while_locked(
                    lambda: _write_result(gb, result, timestamp),
                    url,
                    result.student,
                    undo=gb.db.rollback,
                    say=say,
                )
        except (InvalidEntry, DBAPIError) as exc:
            gb.db.rollback()
            if attempt == SAVE_ATTEMPTS or not _conflict(exc):
                raise
            time.sleep(0.1 * attempt)  # let the other writer commit what it started
            continue
        if attempt == 1:
            return None
        return (
            "another grading process wrote this submission's rows at the same moment (two "
            "people or hosts grading the same student: check --shard); written again over "
            f"them after {attempt - 1} conflict(s), with no row lost or duplicated"
        )
    raise AssertionError("unreachable: the last attempt returns or raises")


def _write_result(gb: Gradebook, result: SubmissionResult, timestamp: str | None) -> None:
    gb.update_or_create_student(result.student)
    extra = {"timestamp": timestamp} if timestamp else {}
    with warnings.catch_warnings():
        # nbgrader's add_submission builds its rows before adding them to the session, which
        # SQLAlchemy reports as a warning; the rows are committed correctly.
        warnings.simplefilter("ignore", category=SAWarning)
        gb.update_or_create_submission(result.assignment, result.student, **extra)
    for outcome in result.notebooks:
        try:
            submitted = gb.find_submission_notebook(outcome.name, result.assignment, result.student)
        except MissingEntry:
            continue
        if not outcome.graded:
            for grade in submitted.grades:
                grade.needs_manual_grade = True
            continue
        for score in outcome.scores:
            grade = gb.find_grade(score.grade_id, outcome.name, result.assignment, result.student)
            if score.manual:
                grade.auto_score = None if score.answered else 0.0
                grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
            else:
                changed = grade.auto_score is not None and grade.auto_score != score.points
                grade.auto_score = score.points
                grade.needs_manual_grade = bool(outcome.attention) or (
                    grade.manual_score is not None and changed
                )
        for gid, answered in outcome.answered.items():
            try:
                comment = gb.find_comment(gid, outcome.name, result.assignment, result.student)
            except MissingEntry:
                continue
            comment.auto_comment = None if answered else "No response."
    gb.db.commit()


def manual_scores(gb: Gradebook, assignment: str, student: str) -> tuple[float | None, float]:
    """``(manual score, manual maximum)`` over the cells a person grades.

    The score is None until every such cell has a manual score (an answer left as the stub
    counts as graded with 0). The maximum is the sum of their points.
    """
    try:
        submission = gb.find_submission(assignment, student)
    except MissingEntry:
        return None, 0.0
    total, maximum, complete = 0.0, 0.0, True
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            cell = grade.cell
            is_manual = cell.type == "TaskCell" or (
                cell.type == "GradeCell" and _is_answer_cell(cell)
            )
            if not is_manual:
                continue
            maximum += grade.max_score or 0.0
            if grade.manual_score is not None:
                total += grade.manual_score + (grade.extra_credit or 0.0)
            elif grade.auto_score is not None:
                total += grade.auto_score
            else:
                complete = False
    if maximum == 0:
        return None, 0.0
    return (total if complete else None), maximum


def _is_answer_cell(grade_cell) -> bool:
    """True if a GradeCell is also a solution cell (graded by a person)."""
    notebook = grade_cell.notebook
    return any(s.name == grade_cell.name for s in notebook.solution_cells)
