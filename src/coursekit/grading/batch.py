"""Grade every submission of an assignment: the ``coursekit grade`` command.

1. Make sure the gradebook knows the assignment's cells (running the release step if not).
2. Load the reference answers (cached per source hash, see :mod:`coursekit.grading.reference`).
3. Grade submissions in ``jobs`` worker processes, one submission per task; a worker never
   raises, so one bad submission cannot stop the batch.
4. As each result arrives, the parent writes it to the gradebook (the only writer of this
   process) and writes a per-student JSON report with every message in ``D/grades/A/S.json``
   (outside ``autograded/`` so it never reaches a student).
5. Write ``D/grades/A.csv``.

A SQLite gradebook that another process keeps locked is waited for (up to
:data:`~coursekit.grading.database.LOCK_WAIT` seconds). A result that still cannot be written
is not lost: it is kept, the results after it are kept too without waiting again, and all of
them are tried once more, with one more wait, when the grading is done. What still cannot be
written is marked ``needs-attention`` in the CSV and the report, with the reason (the file,
the processes holding it, the command that grades the student again), so the command exits
non-zero naming the students.

The CSV columns are ``student,assignment,auto_score,auto_max,manual_score,manual_max,status,
reason``. ``auto_score`` is empty for a submission that could not be graded, so it can never be
mistaken for a zero; ``manual_score`` is empty until a person has graded every written answer.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import nbformat

from coursekit.grading import cells as nbcells
from coursekit.grading import database
from coursekit.grading.canonical import release_stubs
from coursekit.grading.course import Course, CourseError
from coursekit.grading.database import GradebookLocked, file_lock, open_gradebook, wait_while_locked
from coursekit.grading.gradebook import (
    assignment_matches,
    manual_scores,
    read_timestamp,
    save_result,
)
from coursekit.grading.reference import load_reference
from coursekit.grading.release import release
from coursekit.grading.shards import Shard
from coursekit.grading.submission import (
    NotebookJob,
    SubmissionJob,
    SubmissionResult,
    grade_submission,
)

COLUMNS = [
    "student",
    "assignment",
    "auto_score",
    "auto_max",
    "manual_score",
    "manual_max",
    "status",
    "reason",
]


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


@dataclass
class BatchReport:
    """What :func:`grade_assignment` did."""

    rows: list[dict[str, str]]
    results: list[SubmissionResult]
    seconds: float

    @property
    def needs_attention(self) -> list[SubmissionResult]:
        return [r for r in self.results if r.needs_attention]


def _ensure_released(course: Course, assignment: str, sources: list[Path]) -> None:
    cells = {p.stem: nbformat.read(str(p), as_version=4).cells for p in sources}
    with open_gradebook(course.db_url, course.course_id) as gb:
        ok = wait_while_locked(
            lambda: assignment_matches(gb, assignment, cells),
            course.db_url,
            assignment,
            undo=gb.db.rollback,
        )
    if not ok:
        print(
            f"{assignment}: the gradebook does not match the source yet; releasing it first",
            file=sys.stderr,
        )
        release(course, assignment)


def _progress(total: int):
    from tqdm import tqdm

    return tqdm(total=total, file=sys.stderr, unit="submission", desc="grading", leave=True)


def _run_jobs(jobs: list[SubmissionJob], workers: int, on_result) -> None:
    """Run ``grade_submission`` over ``jobs``; call ``on_result`` in this process per result.

    If a worker process dies (which grade_submission cannot prevent, e.g. the OOM killer),
    the pool is rebuilt and the remaining jobs run again; the job that was running when it
    died is reported as needing attention after a second failure.
    """
    pending = list(jobs)
    attempts: dict[str, int] = {}
    while pending:
        if workers <= 1:
            for job in pending:
                on_result(grade_submission(job))
            return
        context = multiprocessing.get_context("spawn")
        done: set[str] = set()
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                futures = {pool.submit(grade_submission, job): job for job in pending}
                for future in as_completed(futures):
                    job = futures[future]
                    on_result(future.result())
                    done.add(job.student)
            return
        except BrokenProcessPool:
            still = []
            for job in pending:
                if job.student in done:
                    continue
                attempts[job.student] = attempts.get(job.student, 0) + 1
                if attempts[job.student] >= 2:
                    on_result(
                        SubmissionResult(
                            assignment=job.assignment,
                            student=job.student,
                            notebooks=[],
                            crash="the grading worker process died twice",
                        )
                    )
                else:
                    still.append(job)
            pending = still


def grade_assignment(
    course: Course,
    assignment: str,
    *,
    jobs: int = 1,
    student: str | None = None,
    timeout: float | None = None,
    sandbox: bool = True,
    progress: bool = True,
    shard: Shard | None = None,
) -> BatchReport:
    """Grade the submissions of ``assignment`` (see the module docstring).

    With ``sandbox`` (the default) every submission's kernel runs in the operating-system
    sandbox of :mod:`coursekit.grading.sandbox`. The reference solution runs without it: it is
    the instructor's own code, and its answers are usually cached by ``coursekit release``.

    With ``shard`` only the students of that shard are graded (see :mod:`coursekit.grading.shards`);
    N processes with shards 1/N..N/N grade every student once, into one gradebook (a PostgreSQL
    server when they run on several hosts). The steps that write rows shared by all students
    (creating the gradebook, recording the assignment, caching the reference answers) run under
    :func:`~coursekit.grading.database.exclusive`, so processes started at once do them one
    after the other.

    Raises:
        CourseError: unknown assignment, missing source notebook, unknown student, a source
            notebook that fails its own tests, ``sandbox`` asked for where none can be made, or a
            gradebook server that cannot be reached.
        GradebookLocked: a SQLite gradebook locked by another process for
            :data:`~coursekit.grading.database.LOCK_WAIT` seconds before grading starts, or
            when the CSV is written (the message then says where the results are).
    """
    start = time.monotonic()
    if jobs < 1:
        raise CourseError(f"--jobs must be at least 1, got {jobs}")
    sources = course.source_notebooks(assignment)
    course.check_database()
    limits = course.limits(timeout)
    reference_limits = limits
    if sandbox:
        from coursekit.grading.sandbox import SandboxUnavailable, require_sandbox

        try:
            require_sandbox()
        except SandboxUnavailable as exc:
            raise CourseError(str(exc)) from exc
        limits = replace(limits, sandbox=course.sandbox_limits())
    if student is not None:
        if not course.submitted_dir(student, assignment).is_dir():
            raise CourseError(
                f"no submission of {assignment!r} for student {student!r} "
                f"({course.submitted_dir(student, assignment)} does not exist)"
            )
        students = [student]
    else:
        students = course.submitted_students(assignment)
    if shard is not None:
        students = shard.select(students)

    notebooks = []
    with course.exclusive(assignment):
        _ensure_released(course, assignment, sources)
        for path in sources:
            source = nbformat.read(str(path), as_version=4)
            notebooks.append(
                NotebookJob(
                    name=path.stem,
                    source_path=path,
                    stubs=release_stubs(source, course.config),
                    reference=load_reference(course, assignment, path, reference_limits),
                )
            )
    auto_max = sum(
        nbcells.points(c)
        for p in sources
        for c in nbformat.read(str(p), as_version=4).cells
        if nbcells.is_test(c)
    )

    job_list = [
        SubmissionJob(
            assignment=assignment,
            student=name,
            submitted_dir=course.submitted_dir(name, assignment),
            autograded_dir=course.autograded_dir(name, assignment),
            source_dir=course.source_dir(assignment),
            notebooks=notebooks,
            limits=limits,
        )
        for name in students
    ]
    results: list[SubmissionResult] = []
    report_dir = course.root / "grades" / assignment
    report_dir.mkdir(parents=True, exist_ok=True)
    bar = _progress(len(job_list)) if progress and job_list else None

    def say(line: str) -> None:
        if bar is not None:
            bar.write(line, file=sys.stderr)  # keeps the bar intact
        else:
            print(line, file=sys.stderr)

    unsaved: list[SubmissionResult] = []
    with open_gradebook(course.db_url, course.course_id) as gb:

        def not_saved(result: SubmissionResult, why: GradebookLocked) -> None:
            result.not_saved = (
                f"not saved in the gradebook: {why}; the grades are in "
                f"{report_dir / result.student}.json; to save them, grade again with "
                f"--student {result.student}"
            )
            _write_report(report_dir, result)

        def store(result: SubmissionResult) -> GradebookLocked | None:
            """Write ``result`` to the gradebook (or mark it as not saved), then its report."""
            try:
                note = save_result(
                    gb,
                    result,
                    read_timestamp(course.submitted_dir(result.student, assignment)),
                    say=say,
                )
            except GradebookLocked as exc:
                not_saved(result, exc)
                return exc
            result.not_saved = None
            if note:
                say(f"{result.student}: {note}")
            _write_report(report_dir, result)
            return None

        def on_result(result: SubmissionResult) -> None:
            if unsaved:
                # The gradebook was locked for a whole wait a moment ago: keep this result for
                # the retry at the end instead of waiting that long for every submission.
                result.not_saved = "not saved in the gradebook yet: it was locked"
                _write_report(report_dir, result)
            else:
                store(result)
            if result.not_saved:
                unsaved.append(result)
            results.append(result)
            if bar is not None:
                bar.update(1)

        try:
            _run_jobs(job_list, min(jobs, max(1, len(job_list))), on_result)
        finally:
            if bar is not None:
                bar.close()
        if unsaved:
            print(
                f"{len(unsaved)} result(s) not in the gradebook yet; trying again for up to "
                f"{database.LOCK_WAIT:g} s",
                file=sys.stderr,
            )
            # One more wait at most: once a write gives up, the others would meet the same lock.
            locked: GradebookLocked | None = None
            for result in unsaved:
                if locked is None:
                    locked = store(result)
                else:
                    not_saved(result, locked)
        # Other shards grading in the same course directory read and write this file too.
        with file_lock(course.grades_csv(assignment).with_suffix(".csv.lock")):
            try:
                rows = wait_while_locked(
                    lambda: _csv_rows(course, assignment, gb, results, auto_max),
                    course.db_url,
                    str(course.grades_csv(assignment)),
                    undo=gb.db.rollback,
                )
            except GradebookLocked as exc:
                missing = sorted(r.student for r in results if r.not_saved)
                raise GradebookLocked(
                    f"{exc}; {course.grades_csv(assignment)} was not updated; every result of "
                    f"this run is in {report_dir}/STUDENT.json"
                    + (f"; not in the gradebook: {', '.join(missing)}" if missing else "")
                ) from exc
            _write_csv(course.grades_csv(assignment), rows)
    return BatchReport(
        rows=rows,
        results=sorted(results, key=lambda r: r.student),
        seconds=time.monotonic() - start,
    )


def _csv_rows(course, assignment, gb, results, auto_max) -> list[dict[str, str]]:
    """New rows for graded students, earlier rows for the others, manual columns refreshed."""
    previous = {}
    path = course.grades_csv(assignment)
    if path.exists():
        with open(path, newline="", encoding="utf-8") as fh:
            previous = {row["student"]: row for row in csv.DictReader(fh)}
    rows = dict(previous)
    for result in results:
        rows[result.student] = {
            "student": result.student,
            "assignment": assignment,
            "auto_score": _fmt(result.auto_score),
            "auto_max": _fmt(auto_max),
            "status": result.status,
            "reason": result.reason,
        }
    for name, row in rows.items():
        manual, manual_max = manual_scores(gb, assignment, name)
        row["manual_score"] = _fmt(manual)
        row["manual_max"] = _fmt(manual_max)
    return [{k: rows[name].get(k, "") for k in COLUMNS} for name in sorted(rows)]


def _write_report(report_dir: Path, result: SubmissionResult) -> None:
    _replace_text(
        report_dir / f"{result.student}.json", json.dumps(asdict(result), indent=1, default=str)
    )


def _replace_text(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all, even with another process writing it at once."""
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as fh:
        fh.write(text)
    os.chmod(fh.name, 0o644)
    Path(fh.name).replace(path)


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
