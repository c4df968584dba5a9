"""A SQLite gradebook that another process holds locked while ``coursekit grade`` writes.

The test itself plays the other process (another shard, a formgrader, an ``sqlite3`` shell):
it opens the gradebook with Python's sqlite3 module and starts a write transaction (``BEGIN
IMMEDIATE``), which lets others read but not write, exactly when it wants, and ends it exactly
when it wants. The grading must wait for it, say which file and which process it waits for,
and save every result once the lock is gone; if the lock stays, every result must still be
reported (CSV, report, exit code naming the students) and be saved by grading again.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from attack_corpus import (
    ASSIGNMENT,
    FULL,
    RIGHT_SQUARE,
    SIGMOID_ONLY,
    WRONG_SQUARE,
    Attack,
    make_course,
    release,
    write_submission,
)
from grading_corpus import COURSEKIT, REPO, read_csv

from coursekit.grading import database
from coursekit.grading.cli import main

CELL_TIMEOUT = "10"
SCORES = {"correct": FULL, "partial": SIGMOID_ONLY}


def _course(tmp_path: Path) -> Path:
    """The probe course, released (so the gradebook exists), with two submissions."""
    course = make_course(tmp_path)
    release(course)
    write_submission(course, Attack("correct", "right answers", "", (), FULL, square=RIGHT_SQUARE))
    write_submission(
        course, Attack("partial", "a wrong square", "", (), SIGMOID_ONLY, square=WRONG_SQUARE)
    )
    return course


def _hold(db: Path) -> sqlite3.Connection:
    """A connection of this process in a write transaction on ``db``: others may read, none
    may write until it ends."""
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def _saved_scores(db: Path) -> dict[str, float | None]:
    """``{student: total auto score}`` of the submissions the gradebook holds."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT sa.student_id, SUM(g.auto_score) FROM grade g "
            "JOIN submitted_notebook sn ON g.notebook_id = sn.id "
            "JOIN submitted_assignment sa ON sn.assignment_id = sa.id GROUP BY sa.student_id"
        ).fetchall()
    return dict(rows)


def _grade(course: Path) -> list[str]:
    return ["grade", ASSIGNMENT, "--course-dir", str(course), "--timeout", CELL_TIMEOUT, "--quiet"]


@pytest.mark.slow
def test_grading_waits_for_a_locked_gradebook_and_saves_every_result(tmp_path):
    """``coursekit grade`` meets the gradebook locked: it says once that it waits, naming the
    file and this test's process, goes on when the lock ends, and saves both results."""
    course = _course(tmp_path)
    db = course / "gradebook.db"
    holder = _hold(db)
    lines: list[str] = []
    try:
        proc = subprocess.Popen(
            [*COURSEKIT, *_grade(course)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(REPO),
        )  # fmt: skip
        reader = threading.Thread(target=lambda: lines.extend(proc.stderr or []), daemon=True)
        reader.start()
        deadline = time.monotonic() + 300
        while not any("is locked by another process" in line for line in lines):
            assert proc.poll() is None, "".join(lines)[-3000:]  # it must wait, not give up
            assert time.monotonic() < deadline, "the grading never reached the gradebook"
            time.sleep(0.2)
    finally:
        holder.rollback()
        holder.close()
    proc.wait(timeout=600)
    reader.join(timeout=30)
    err = "".join(lines)
    assert proc.returncode == 0, err[-3000:]
    waiting = [line for line in lines if "is locked by another process" in line]
    assert len(waiting) == 1, err  # said once
    assert str(db) in waiting[0] and f"pid {os.getpid()} (" in waiting[0], waiting
    assert "database is locked" not in err and "Traceback" not in err, err
    assert _saved_scores(db) == SCORES
    rows = read_csv(course, ASSIGNMENT)
    assert {s: (rows[s]["auto_score"], rows[s]["status"], rows[s]["reason"]) for s in rows} == {
        s: (f"{v:g}", "graded", "") for s, v in SCORES.items()
    }


@pytest.mark.slow
def test_a_gradebook_locked_throughout_loses_no_result(tmp_path, monkeypatch, capsys):
    """The lock outlasts every wait (shortened here): the command exits 1 naming both
    students, the CSV and the reports hold their scores with the reason, the gradebook holds
    none of them, and grading again once the lock is gone saves them."""
    monkeypatch.setattr(database, "LOCK_WAIT", 1.0)
    monkeypatch.setattr(database, "BUSY_TIMEOUT", 0.2)
    course = _course(tmp_path)
    db = course / "gradebook.db"
    holder = _hold(db)
    try:
        code = main(_grade(course))
    finally:
        holder.rollback()
        holder.close()
    err = capsys.readouterr().err
    assert code == 1, err
    assert "2 submission(s) need attention: correct, partial" in err, err
    assert "Traceback" not in err, err
    # Said when the first write began to wait, then not again for each submission.
    waiting = [line for line in err.splitlines() if "is locked by another process" in line]
    assert len(waiting) == 2 and all(w.startswith(f"correct: the gradebook {db}") for w in waiting)
    assert _saved_scores(db) == {}
    rows = read_csv(course, ASSIGNMENT)
    for student, score in SCORES.items():
        row = rows[student]
        assert (row["auto_score"], row["status"]) == (f"{score:g}", "needs-attention"), row
        reason = row["reason"]
        assert f"not saved in the gradebook: the gradebook {db} stayed locked" in reason, row
        assert f"pid {os.getpid()} (this process, another connection)" in reason, row
        assert f"{course / 'grades' / ASSIGNMENT / student}.json;" in reason, row
        assert f"--student {student}" in reason, row
        report = json.loads((course / "grades" / ASSIGNMENT / f"{student}.json").read_text())
        assert report["not_saved"] and report["notebooks"][0]["scores"], report

    assert main(_grade(course)) == 0, capsys.readouterr().err
    assert _saved_scores(db) == SCORES
    assert {read_csv(course, ASSIGNMENT)[s]["status"] for s in SCORES} == {"graded"}
    assert (
        json.loads((course / "grades" / ASSIGNMENT / "correct.json").read_text())["not_saved"]
        is None
    )


@pytest.mark.slow
def test_results_kept_while_the_gradebook_was_locked_are_saved_at_the_end(
    tmp_path, monkeypatch, capsys
):
    """The first save gives up (short wait); the lock ends right after. The second result is
    kept without another wait, and both are saved when the grading is done."""
    monkeypatch.setattr(database, "LOCK_WAIT", 1.0)
    monkeypatch.setattr(database, "BUSY_TIMEOUT", 0.2)
    course = _course(tmp_path)
    db = course / "gradebook.db"
    holder = _hold(db)
    reports = course / "grades" / ASSIGNMENT
    released = threading.Event()

    def release_after_first_failure() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            for path in reports.glob("*.json") if reports.is_dir() else []:
                try:
                    failed = json.loads(path.read_text()).get("not_saved")
                except ValueError:
                    continue  # being replaced
                if failed:
                    holder.rollback()
                    released.set()
                    return
            time.sleep(0.05)

    watcher = threading.Thread(target=release_after_first_failure, daemon=True)
    watcher.start()
    try:
        code = main(_grade(course))
    finally:
        watcher.join(timeout=5)
        if not released.is_set():
            holder.rollback()
        holder.close()
    err = capsys.readouterr().err
    assert released.is_set(), err
    assert code == 0, err
    assert "2 result(s) not in the gradebook yet; trying again" in err, err
    assert _saved_scores(db) == SCORES
    rows = read_csv(course, ASSIGNMENT)
    assert {s: (rows[s]["status"], rows[s]["reason"]) for s in SCORES} == {
        s: ("graded", "") for s in SCORES
    }


# ---- the pieces -----------------------------------------------------------------------------
_HOLD_IN_CHILD = """import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
for statement in sys.argv[2].split(";"):
    conn.execute(statement).fetchall()
print("holding", flush=True)
sys.stdin.read()
"""


@pytest.mark.parametrize(
    "hold",
    [
        "BEGIN IMMEDIATE",  # a writer in the middle of its transaction: no other writer
        "BEGIN;SELECT * FROM t",  # a reader in the middle of its transaction: no commit
    ],
    ids=["writer", "reader"],
)
def test_the_holder_of_a_lock_is_named_and_the_error_recognised(tmp_path, hold):
    db = tmp_path / "gradebook.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (x)")
    url = f"sqlite:///{db}"
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD_IN_CHILD, str(db), hold],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None and child.stdout.readline() == "holding\n"
        holders = database.lock_holders(db)
        assert len(holders) == 1 and holders[0].startswith(f"pid {child.pid} ("), holders
        # Its command line, on one line and shortened.
        assert f"{sys.executable} -c import sqlite3, sys conn = " in holders[0], holders
        assert holders[0].endswith("...)") and "\n" not in holders[0], holders
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import OperationalError

        engine = create_engine(url + "?timeout=0")
        tries = []

        def insert() -> None:
            tries.append(time.monotonic())
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (1)"))

        with pytest.raises(OperationalError) as failed:
            insert()
        assert database.is_locked(failed.value)
        said: list[str] = []
        with pytest.raises(database.GradebookLocked) as gave_up:
            database.wait_while_locked(insert, url, "alice", say=said.append, wait=0.5)
        engine.dispose()
        assert len(tries) >= 3 and 0.5 <= tries[-1] - tries[1] < 5  # retried for the wait
        assert len(said) == 1 and said[0].startswith(f"alice: the gradebook {db} is locked"), said
        assert f"pid {child.pid} (" in said[0]
        message = str(gave_up.value)
        assert f"the gradebook {db} stayed locked by another process for 0.5 s" in message
        assert f"pid {child.pid} (" in message
    finally:
        child.communicate(input="", timeout=30)
    assert database.lock_holders(db) == []
    assert not database.is_locked(ValueError("database is locked"))  # only SQLite's own error


def test_the_busy_timeout_goes_into_sqlite_urls_only():
    assert database.with_busy_timeout("sqlite:////c/gradebook.db") == (
        f"sqlite:////c/gradebook.db?timeout={database.BUSY_TIMEOUT:g}"
    )
    assert (
        database.with_busy_timeout("sqlite:////c/g.db?timeout=1") == "sqlite:////c/g.db?timeout=1"
    )
    server = "postgresql+psycopg://grader@db.example.org/nn"
    assert database.with_busy_timeout(server) == server
    assert database.sqlite_path(server) is None and database.sqlite_path("sqlite://") is None
