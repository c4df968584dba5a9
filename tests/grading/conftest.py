"""Fixtures for the grader tests: one graded corpus per test session.

Grading the corpus takes about a minute, so it happens once per session even when the tests
are spread over several pytest-xdist workers: the first worker to get the lock builds it in the
session's shared temporary folder, the others wait and reuse it. Tests that change a course
(regrading, manual scores) work on a copy.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from grading_corpus import A1, A2, A3, Corpus, build_corpus, cases, coursekit, make_course

CELL_TIMEOUT = "10"  # seconds; the infinite-loop cases cost this much


def _shared_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _build(root: Path) -> dict:
    course = make_course(root)
    build_corpus(course)
    runs = {}
    for assignment in (A1, A2, A3):
        start = time.monotonic()
        done = coursekit("grade", assignment, "--course-dir", str(course), "--jobs", "2", "--timeout", CELL_TIMEOUT)
        runs[assignment] = {
            "returncode": done.returncode,
            "seconds": time.monotonic() - start,
            "stdout": done.stdout,
            "stderr": done.stderr[-5000:],
        }
    return runs


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Corpus:
    shared = _shared_dir(tmp_path_factory)
    root = shared / "grading-corpus"
    with open(shared / "grading-corpus.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            done = root / "runs.json"
            if not done.exists():
                shutil.rmtree(root, ignore_errors=True)  # left over by a worker that crashed
                root.mkdir(parents=True)
                runs = _build(root)
                done.write_text(json.dumps(runs), encoding="utf-8")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return Corpus(course=root / "course", cases=cases(), runs=json.loads(done.read_text(encoding="utf-8")))
