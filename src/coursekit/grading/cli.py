"""The ``coursekit`` command line.

Commands (``--course-dir`` defaults to ``assignments``)::

    coursekit release A      make D/release/A with nbgrader and check that it leaks nothing
    coursekit grade A        grade D/submitted/*/A, write the gradebook and D/grades/A.csv
                             (--shard K/N: only this host's share of the students)
    coursekit feedback A     write D/feedback/S/A/*.html without hidden tests
    coursekit validate NB    run a notebook's visible tests and report per test cell

Exit codes: 0 success; 1 the command ran but something failed (a submission needs attention or
could not be saved in the gradebook, a SQLite gradebook stayed locked by another process, a
test failed, a release leaked); 2 bad input (missing course directory, assignment, source
notebook or file, a malformed ``--shard``, a gradebook database that cannot be reached).

``--db URL`` (release, grade, feedback) names the gradebook, overriding ``CourseDirectory.db_url``
in ``nbgrader_config.py``; without either it is the SQLite file ``D/gradebook.db``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from coursekit.grading.course import Course, CourseError
from coursekit.grading.database import GradebookLocked

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _shard(text: str):
    from coursekit.grading.shards import Shard

    try:
        return Shard.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coursekit",
        description="Release, grade and give feedback on the course's nbgrader assignments.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def course_dir(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--course-dir", default="assignments", metavar="D",
            help="nbgrader course directory (default: assignments)",
        )  # fmt: skip

    def database(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--db", metavar="URL",
            help="gradebook database, e.g. postgresql+psycopg://grader@host/course "
            "(default: CourseDirectory.db_url in nbgrader_config.py, else D/gradebook.db)",
        )  # fmt: skip

    p = sub.add_parser("release", help="make the student version of an assignment")
    p.add_argument("assignment", metavar="A")
    course_dir(p)
    database(p)

    p = sub.add_parser("grade", help="grade every submission of an assignment")
    p.add_argument("assignment", metavar="A")
    course_dir(p)
    database(p)
    p.add_argument(
        "--jobs", type=_positive_int, default=1, metavar="N", help="parallel worker processes"
    )
    who = p.add_mutually_exclusive_group()
    who.add_argument("--student", metavar="S", help="grade only this student")
    who.add_argument(
        "--shard", type=_shard, metavar="K/N",
        help="grade only shard K of N (split by a hash of the student id; run 1/N..N/N on N hosts)",
    )  # fmt: skip
    p.add_argument(
        "--timeout", type=_positive_float, metavar="SEC",
        help="seconds a cell may run (default: Execute.timeout in nbgrader_config.py)",
    )  # fmt: skip
    p.add_argument(
        "--no-sandbox", action="store_true",
        help=(
            "run student code without the sandbox: with your rights, network and files "
            "(not recommended)"
        ),
    )  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no progress bar and no table")

    p = sub.add_parser("feedback", help="write HTML feedback without hidden tests")
    p.add_argument("assignment", metavar="A")
    course_dir(p)
    database(p)
    p.add_argument(
        "--student", metavar="S", action="append", help="only this student (may be repeated)"
    )
    p.add_argument(
        "--jobs",
        type=_positive_int,
        default=1,
        metavar="N",
        help="feedback notebooks run at the same time",
    )
    p.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run the feedback notebooks without the sandbox (not recommended)",
    )

    p = sub.add_parser("validate", help="run a notebook's visible tests")
    p.add_argument("notebook", metavar="NOTEBOOK")
    p.add_argument(
        "--timeout",
        type=_positive_float,
        default=None,
        metavar="SEC",
        help="seconds a cell may run (default 30)",
    )
    return parser


def _open_course(args) -> Course:
    course = Course.open(args.course_dir)
    if args.db:
        course.use_database(args.db)
    return course


def _release(args) -> int:
    from coursekit.grading.reference import load_reference
    from coursekit.grading.release import ReleaseError, release

    course = _open_course(args)
    course.check_database()
    with course.exclusive(args.assignment):
        try:
            released = release(course, args.assignment)
        except ReleaseError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        for path in course.source_notebooks(args.assignment):
            load_reference(course, args.assignment, path, course.limits())
    for path in released:
        print(f"released {path} (no solutions, no hidden tests; the solution passes its tests)")
    return EXIT_OK


def _grade(args) -> int:
    from coursekit.grading.batch import grade_assignment

    course = _open_course(args)
    if args.no_sandbox:
        print(
            "warning: grading without the sandbox; student code runs with your rights and can read "
            "the solutions, the gradebook and the network",
            file=sys.stderr,
        )
    if args.shard and course.db_url.startswith("sqlite"):
        print(
            f"note: shard {args.shard} writes to the SQLite gradebook "
            f"{course.db_url.removeprefix('sqlite:///')}, which only processes "
            "on this host share; to grade on several hosts into one gradebook, "
            "use a PostgreSQL one (--db URL or CourseDirectory.db_url)",
            file=sys.stderr,
        )
    report = grade_assignment(
        course,
        args.assignment,
        jobs=args.jobs,
        student=args.student,
        timeout=args.timeout,
        sandbox=not args.no_sandbox,
        progress=not args.quiet,
        shard=args.shard,
    )
    if not args.quiet:
        for r in report.results:
            row = next(x for x in report.rows if x["student"] == r.student)
            score = f"{row['auto_score'] or '-'}/{row['auto_max']}"
            line = f"{r.student:<24} {score:>9}  {r.status}"
            print(line + (f"  {r.reason}" if r.reason else ""))
        per = report.seconds / len(report.results) if report.results else 0.0
        print(
            (f"shard {args.shard}: " if args.shard else "")
            + f"{len(report.results)} submission(s) in {report.seconds:.1f} s ({per:.1f} s each); "
            f"grades in {course.grades_csv(args.assignment)}",
            file=sys.stderr,
        )
    if report.needs_attention:
        names = ", ".join(r.student for r in report.needs_attention)
        print(
            f"{len(report.needs_attention)} submission(s) need attention: {names}", file=sys.stderr
        )
        return EXIT_FAILED
    return EXIT_OK


def _feedback(args) -> int:
    from coursekit.grading.feedback import generate_feedback

    course = _open_course(args)
    course.check_database()
    report = generate_feedback(
        course, args.assignment, args.student, sandbox=not args.no_sandbox, jobs=args.jobs
    )
    failed = False
    for student, what in sorted(report.items()):
        print(f"{student}: {what}")
        failed = failed or what.startswith(("failed", "withheld"))
    return EXIT_FAILED if failed else EXIT_OK


def _validate(args) -> int:
    from coursekit.grading.runner import RunLimits
    from coursekit.grading.validate import validate_notebook

    limits = RunLimits() if args.timeout is None else RunLimits(timeout=args.timeout)
    report = validate_notebook(Path(args.notebook), limits)
    for line in report.lines:
        print(line)
    return EXIT_OK if report.ok else EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    """Run the ``coursekit`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    handler = {"release": _release, "grade": _grade, "feedback": _feedback, "validate": _validate}[
        args.command
    ]
    try:
        return handler(args)
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except GradebookLocked as exc:  # the command ran, but could not use the gradebook
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
