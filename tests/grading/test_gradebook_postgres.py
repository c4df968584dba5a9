"""A PostgreSQL gradebook shared by two grading processes (``--db URL --shard K/N``).

A private PostgreSQL server (Debian's ``postgresql`` package, installed by ``make sysdeps``) is
started on a Unix socket in a temporary folder, with no TCP port. Submissions
that the session's grading corpus graded in one ``coursekit grade`` run into its SQLite gradebook
are graded again by two processes started at the same moment with ``--shard 1/2`` and
``--shard 2/2`` into an empty PostgreSQL database, so they also race to create its tables,
record the assignment and compute the reference answers. The shared gradebook must hold exactly
one row per student and cell with the scores of the single run, and plain ``nbgrader export``
must read it.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from grading_corpus import A1, COURSEKIT, REPO, make_course, read_csv

from coursekit.grading.cli import main
from coursekit.grading.shards import Shard, shard_number

# Submissions of the session's grading corpus (grading_corpus.py): full marks, partial marks,
# zero, an exception, a missing answer cell (graded with a reason); shards 1/2 and 2/2 get 3 and 2.
STUDENTS = ("correct", "sign_error", "untouched_release", "exception", "deleted_answer")
CELL_TIMEOUT = "10"  # as in conftest.py, where the corpus is graded
PROBE = """import os as _os

for _path in ("{socket}", "/run/postgresql/.s.PGSQL.5432"):
    if _os.path.exists(_path):
        raise RuntimeError("the gradebook server's socket is visible: " + _path)

"""


# ---- a private server ------------------------------------------------------------------------
def _pg_bin() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4])
    )
    if not found:
        pytest.fail(
            "PostgreSQL's server programs are not installed (no /usr/lib/postgresql/*/bin/initdb); "
            "`make sysdeps` installs Debian's postgresql package"
        )
    return Path(found[-1]).parent


def _as_server_user(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; as root, run it as ``nobody``."""
    if os.geteuid() != 0:
        return cmd
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *cmd]


@contextlib.contextmanager
def private_server(home: Path):
    """A PostgreSQL server listening only on a Unix socket in ``home``; yields a URL maker.

    ``home`` must not be under pytest's temporary folder: that one is private to root, and the
    server user must reach its data folder.
    """
    bindir = _pg_bin()
    if os.geteuid() == 0:
        shutil.chown(home, "nobody", "nogroup")
    data, log = home / "data", home / "server.log"
    subprocess.run(
        _as_server_user([
            str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--no-sync",
        ]),
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    options = f"-k {home} -c listen_addresses='' -F"
    subprocess.run(
        _as_server_user([
            str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", options, "start",
        ]),
        check=True, capture_output=True, text=True,
    )  # fmt: skip

    def url(database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={home}"

    try:
        yield url
    finally:
        subprocess.run(
            _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )  # fmt: skip
        shutil.rmtree(home, ignore_errors=True)


def _create_database(url: str, name: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    host = make_url(url("postgres")).query["host"]
    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url(name)


# ---- the two gradings --------------------------------------------------------------------------
def _grade_two_shards_at_once(course: Path, db: str) -> list[str]:
    """``coursekit grade --db db --shard 1/2`` and ``2/2`` started together; their outputs."""
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "coursekit.grading",
                "grade",
                A1,
                "--course-dir",
                str(course),
                "--db",
                db,
                "--shard",
                f"{k}/2",
                "--timeout",
                CELL_TIMEOUT,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=str(REPO),
        )  # fmt: skip
        for k in (1, 2)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    for k, (proc, (_, err)) in enumerate(zip(procs, outputs), start=1):
        assert proc.returncode == 0, f"shard {k}/2: {err[-3000:]}"
    return [out for out, _ in outputs]


def _rows(url: str, students: tuple[str, ...], assignment: str = A1) -> dict[str, list[tuple]]:
    """The rows of ``students`` for ``assignment`` in a gradebook, as sorted comparable values."""
    from nbgrader.api import Gradebook

    grades, comments, submissions = [], [], []
    with Gradebook(url, "nn-basics") as gb:
        for sub in gb.find_assignment(assignment).submissions:
            if sub.student.id not in students:
                continue
            submissions.append((sub.student.id, sub.score, sub.max_score, len(sub.notebooks)))
            for nb in sub.notebooks:
                for g in nb.grades:
                    grades.append(
                        (
                            sub.student.id,
                            nb.name,
                            g.name,
                            g.auto_score,
                            g.manual_score,
                            g.needs_manual_grade,
                        )
                    )
                for c in nb.comments:
                    comments.append((sub.student.id, nb.name, c.name, c.auto_comment))
        cells = sum(len(nb.grade_cells) for nb in gb.find_assignment(assignment).notebooks)
        answers = sum(len(nb.solution_cells) for nb in gb.find_assignment(assignment).notebooks)
    return {
        "submissions": sorted(submissions),
        "grades": sorted(grades, key=repr),
        "comments": sorted(comments, key=repr),
        "cells": cells,
        "answers": answers,
    }


def _count(url: str, table: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(f'SELECT COUNT(*) FROM "{table}"')).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.slow
def test_two_shards_at_once_fill_one_postgres_gradebook(corpus, tmp_path, capsys):
    """Two processes, two shards, one empty PostgreSQL database: every student graded once,
    the rows and scores of the single SQLite run, and plain nbgrader reads the result.

    One test rather than several sharing a fixture: under pytest-xdist the tests of a module
    may run in two workers, and each would start its own server and grade everything again.
    """
    course = make_course(tmp_path, (A1,))
    for student in STUDENTS:
        shutil.copytree(
            corpus.course / "submitted" / student / A1, course / "submitted" / student / A1
        )
    single_db = f"sqlite:///{corpus.course / 'gradebook.db'}"
    home = Path(tempfile.mkdtemp(prefix="coursekit-pg-"))
    # One more student, not in the corpus: a correct notebook whose first answer fails if the
    # kernel can see the server's socket (here or where Debian puts it).
    probe = nbformat.read(str(course / "submitted" / "correct" / A1 / f"{A1}.ipynb"), as_version=4)
    first = next(
        c
        for c in probe.cells
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "sigmoid"
    )
    first.source = PROBE.format(socket=home / ".s.PGSQL.5432") + first.source
    (course / "submitted" / "reaches_gradebook" / A1).mkdir(parents=True)
    nbformat.write(probe, str(course / "submitted" / "reaches_gradebook" / A1 / f"{A1}.ipynb"))
    everyone = (*STUDENTS, "reaches_gradebook")
    with private_server(home) as url:
        # A database that does not exist: refused before anything is graded.
        code = main(
            ["grade", A1, "--course-dir", str(course), "--db", url("no_such_database"), "--quiet"]
        )
        err = capsys.readouterr().err
        assert code == 2 and 'database "no_such_database" does not exist' in err, err
        assert not (course / "autograded").exists()

        db = _create_database(url, "gradebook")
        outputs = _grade_two_shards_at_once(course, db)

        # Each student was graded by exactly one of the two processes, and both had work.
        seen = []
        for k, out in enumerate(outputs, start=1):
            names = [line.split()[0] for line in out.splitlines() if line.strip()]
            assert names, f"shard {k}/2 graded nobody"
            assert all(shard_number(n, 2) == k for n in names), (k, names)
            seen += names
        assert sorted(seen) == sorted(everyone)

        # No row lost or duplicated: one assignment, one submission per student, one grade per
        # student and graded cell, one comment per student and answer cell.
        rows = _rows(db, everyone)
        n = len(everyone)
        assert _count(db, "assignment") == 1
        assert _count(db, "submitted_assignment") == n
        assert _count(db, "grade") == n * rows["cells"] == len(rows["grades"])
        assert _count(db, "comment") == n * rows["answers"] == len(rows["comments"])
        assert [s for s, *_ in rows["submissions"]] == sorted(everyone)

        # The scores, flags and comments of the single run, and the same CSV rows: both shards
        # wrote into this course folder's CSV and neither lost the other's rows.
        assert _rows(db, STUDENTS) == _rows(single_db, STUDENTS)
        single, shared = read_csv(corpus.course, A1), read_csv(course, A1)
        assert {s: shared[s] for s in STUDENTS} == {s: single[s] for s in STUDENTS}
        assert shared["correct"]["auto_score"] == shared["correct"]["auto_max"]
        assert shared["untouched_release"]["auto_score"] == "0"
        # Student code did not see the server (the sandbox has no network and a private /tmp).
        assert shared["reaches_gradebook"] == {**shared["correct"], "student": "reaches_gradebook"}

        # Plain nbgrader, with the URL in nbgrader_config.py, exports what coursekit wrote.
        config = course / "nbgrader_config.py"
        config.write_text(config.read_text() + f"\nc.CourseDirectory.db_url = {db!r}\n")
        out = tmp_path / "export.csv"
        done = subprocess.run(
            [str(Path(sys.executable).parent / "nbgrader"), "export", f"--to={out}"],
            cwd=str(course), capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        with open(out, newline="", encoding="utf-8") as fh:
            exported = {
                r["student_id"]: (float(r["score"]), float(r["max_score"]))
                for r in csv.DictReader(fh)
            }
        assert exported == {s: (score, maximum) for s, score, maximum, _ in rows["submissions"]}


def _waiting_on_student_table(db: str) -> list[str]:
    """The statements of the sessions waiting for a lock on nbgrader's ``student`` table."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text(
                        "SELECT a.query FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                        "WHERE NOT l.granted AND l.relation = 'student'::regclass"
                    )
                ).scalars()
            )
    finally:
        engine.dispose()


@pytest.mark.slow
def test_two_first_gradings_of_one_student_at_once_lose_no_row(tmp_path):
    """Two ``coursekit grade`` processes write the same student's first grading at the same
    moment (two people grading, or overlapping shards). The test holds a lock on the student
    table that lets both look the student up but stops both inserts; once both wait there, it
    lets them go, so the slower insert always meets the faster one's row. Neither crashes, the
    one that lost says so, and the gradebook holds the rows of a single run, once."""
    from attack_corpus import ASSIGNMENT, SIGMOID_ONLY, WRONG_SQUARE, Attack, attacks, Context
    from attack_corpus import make_course as make_probe_course
    from attack_corpus import release as release_probe
    from attack_corpus import write_submission
    from sqlalchemy import create_engine, text

    course = make_probe_course(tmp_path)
    release_probe(course)
    correct = next(a for a in attacks(Context(course, 0, tmp_path)) if a.student == "correct")
    write_submission(course, correct)
    write_submission(
        course, Attack("partial", "a wrong square", "", (), SIGMOID_ONLY, square=WRONG_SQUARE)
    )
    grade = [
        *COURSEKIT,
        "grade",
        ASSIGNMENT,
        "--course-dir",
        str(course),
        "--timeout",
        CELL_TIMEOUT,
    ]
    single = subprocess.run(grade, capture_output=True, text=True, timeout=600, cwd=str(REPO))
    assert single.returncode == 0, single.stderr[-3000:]
    single_rows = _rows(f"sqlite:///{course / 'gradebook.db'}", ("correct", "partial"), ASSIGNMENT)
    single_csv = read_csv(course, ASSIGNMENT)
    shutil.rmtree(course / "grades")

    home = Path(tempfile.mkdtemp(prefix="coursekit-pg-"))
    with private_server(home) as url:
        db = _create_database(url, "gradebook")
        # The tables and the assignment, so that the test can lock the student table.
        done = subprocess.run(
            [*COURSEKIT, "release", ASSIGNMENT, "--course-dir", str(course), "--db", db],
            capture_output=True, text=True, timeout=300, cwd=str(REPO),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        engine = create_engine(db)
        holder = engine.connect()
        try:
            # SHARE mode: lookups (SELECT) pass, inserts and updates wait.
            holder.execute(text("LOCK TABLE student IN SHARE MODE"))
            procs = [
                subprocess.Popen(
                    [*grade, "--db", db],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    cwd=str(REPO),
                )  # fmt: skip
                for _ in range(2)
            ]
            deadline = time.monotonic() + 300
            while len(waiting := _waiting_on_student_table(db)) < 2:
                assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
                assert time.monotonic() < deadline, "the two gradings never reached the gradebook"
                time.sleep(0.2)
            assert all("INSERT INTO student" in q for q in waiting), waiting
            holder.commit()  # both inserts go ahead at once
        finally:
            holder.close()
            engine.dispose()
        outputs = [p.communicate(timeout=600) for p in procs]
        for proc, (_, err) in zip(procs, outputs):
            assert proc.returncode == 0, err[-3000:]
        notes = [
            line
            for _, err in outputs
            for line in err.splitlines()
            if "another grading process wrote this submission's rows at the same moment" in line
        ]
        assert notes and all(line.split(":")[0] in ("correct", "partial") for line in notes), [
            err for _, err in outputs
        ]
        # One row each, with the grades of the single run; the CSV agrees.
        assert _count(db, "student") == 2 and _count(db, "submitted_assignment") == 2
        rows = _rows(db, ("correct", "partial"), ASSIGNMENT)
        assert _count(db, "grade") == 2 * rows["cells"] == len(rows["grades"])
        assert _count(db, "comment") == 2 * rows["answers"] == len(rows["comments"])
        assert rows == single_rows
        assert read_csv(course, ASSIGNMENT) == single_csv


def test_db_url_from_config_is_used(tmp_path):
    """``postgresql://`` in the config reaches nbgrader as psycopg 3's URL."""
    from coursekit.grading.course import Course

    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.db_url = 'postgresql://grader:pw@db.example.org/nn'\n"
    )
    course = Course.open(tmp_path)
    assert course.db_url == "postgresql+psycopg://grader:pw@db.example.org/nn"
    assert course.config.CourseDirectory.db_url == course.db_url
    course.use_database("postgres://other@db.example.org/nn2")  # as --db
    assert course.db_url == "postgresql+psycopg://other@db.example.org/nn2"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("2", "expected K/N"),
        ("1/2/3", "expected K/N"),
        ("one/two", "expected K/N"),
        ("0/2", "between 1 and 2, got 0"),
        ("3/2", "between 1 and 2, got 3"),
        ("1/0", "at least 1, got 0"),
    ],
)
def test_malformed_shard_is_refused(spec, message, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["grade", A1, "--shard", spec])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--shard" in err and message in err, err


def test_unreachable_database_is_refused_before_grading(tmp_path, capsys):
    """An unreachable server or a malformed URL: exit 2 before any grading, the URL named
    without its password."""
    course = make_course(tmp_path, (A1,))
    for db, why in [
        (
            "postgresql://grader:s3cret@127.0.0.1:1/gradebook",
            "cannot connect to the gradebook database postgresql+psycopg://grader:***@127.0.0.1:1/gradebook",
        ),
        ("not a url", "--db: 'not a url' is not a database URL"),
    ]:
        code = main(["grade", A1, "--course-dir", str(course), "--db", db, "--quiet"])
        err = capsys.readouterr().err
        assert code == 2, err
        assert why in err and "s3cret" not in err, err
    assert not (course / "grades").exists() and not (course / "autograded").exists()
    assert not (course / "gradebook.db").exists()


def test_shards_are_stable_by_student_id():
    """The split depends on the id only: pinned values (a change moves students between hosts)."""
    assert [shard_number(s, 3) for s in ("alice", "bob", "carol", "dave")] == [3, 3, 3, 2]
    students = [f"s{i:03d}" for i in range(300)]
    shards = [Shard(k, 3).select(students) for k in (1, 2, 3)]
    assert sorted(sum(shards, [])) == students
    assert all(70 <= len(s) <= 130 for s in shards), [len(s) for s in shards]
    assert Shard(1, 3).select(list(reversed(students))) == list(reversed(shards[0]))
