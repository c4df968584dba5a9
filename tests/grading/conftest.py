"""Fixtures for the grader tests: one graded corpus per test session.

Grading the corpus takes about a minute, so it happens once per session even when the tests
are spread over several pytest-xdist workers: the first worker to get the lock builds it in the
session's shared temporary folder, the others wait and reuse it. Tests that change a course
(regrading, manual scores) work on a copy.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from grading_corpus import (
    A1,
    A2,
    A3,
    Corpus,
    build_corpus,
    built_once,
    cases,
    coursekit,
    make_course,
)

CELL_TIMEOUT = "10"  # seconds; the infinite-loop cases cost this much


def _build(root: Path) -> dict:
    course = make_course(root)
    build_corpus(course)
    runs = {}
    for assignment in (A1, A2, A3):
        start = time.monotonic()
        done = coursekit(
            "grade",
            assignment,
            "--course-dir",
            str(course),
            "--jobs",
            "2",
            "--timeout",
            CELL_TIMEOUT,
        )
        runs[assignment] = {
            "returncode": done.returncode,
            "seconds": time.monotonic() - start,
            "stdout": done.stdout,
            "stderr": done.stderr[-5000:],
        }
    return runs


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Corpus:
    root, runs = built_once(tmp_path_factory, "grading-corpus", _build)
    return Corpus(course=root / "course", cases=cases(), runs=runs)
