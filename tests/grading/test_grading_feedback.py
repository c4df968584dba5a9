"""Feedback HTML: scores and visible tests, no hidden-test code and no hidden traceback lines."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from grading_corpus import A1, SOURCES, built_once, copy_course, coursekit, meta

from coursekit.grading.feedback import HIDDEN_NOTE, html_text


def hidden_lines() -> set[str]:
    """Lines of assignment 1's hidden tests that appear nowhere else in the source."""
    source = nbformat.read(str(SOURCES / A1 / f"{A1}.ipynb"), as_version=4)
    hidden, public = set(), set()
    for cell in source.cells:
        text = cell.source
        if "### BEGIN HIDDEN TESTS" in text:
            visible, rest = text.split("### BEGIN HIDDEN TESTS")
            secret, after = rest.split("### END HIDDEN TESTS")
            hidden |= {" ".join(x.split()) for x in secret.split("\n")}
            public |= {" ".join(x.split()) for x in (visible + after).split("\n")}
        else:
            public |= {" ".join(x.split()) for x in text.split("\n")}
    return {s for s in hidden - public if len(s) > 3 and not s.startswith("#")}


def answer_lines(course, student) -> set[str]:
    nb = nbformat.read(str(course / "autograded" / student / A1 / f"{A1}.ipynb"), as_version=4)
    return {
        " ".join(x.split())
        for c in nb.cells
        if meta(c).get("solution")
        for x in c.source.split("\n")
    }


STUDENTS = (
    "correct", "unstable_sigmoid", "sign_error", "syntax_error", "loop_based", "ignores_interrupt",
    "untouched_release", "tampers_with_check", "prints_history", "prints_a_hidden_line",
)  # fmt: skip


def _make_feedback(corpus, root: Path) -> dict:
    course = copy_course(corpus, root)
    chosen = [arg for student in STUDENTS for arg in ("--student", student)]
    done = coursekit("feedback", A1, "--course-dir", str(course), "--jobs", "2", *chosen)
    return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr[-5000:]}


@pytest.fixture(scope="session")
def feedback_course(corpus, tmp_path_factory):
    """The corpus's feedback pages, made once per session even across pytest-xdist workers
    (as a module fixture each worker running a test of this module made them again). The
    tests only read this course; one that writes works on a copy."""
    root, done = built_once(tmp_path_factory, "feedback", lambda root: _make_feedback(corpus, root))
    assert done["returncode"] == 1, done["stdout"] + done["stderr"]  # one page withheld
    return root / "course", done["stdout"]


def page(course, student) -> str:
    return html_text(
        (course / "feedback" / student / A1 / f"{A1}.html").read_text(encoding="utf-8")
    )


@pytest.mark.slow
def test_feedback_for_every_graded_submission_and_none_for_those_needing_attention(feedback_course):
    course, stdout = feedback_course
    assert "tampers_with_check: skipped: the submission needs attention" in stdout
    assert not (course / "feedback" / "tampers_with_check").exists()
    assert "correct: written (a written answer is not graded yet and shows as 0)" in stdout
    for student in (
        "correct",
        "unstable_sigmoid",
        "sign_error",
        "ignores_interrupt",
        "untouched_release",
    ):
        assert (course / "feedback" / student / A1 / f"{A1}.html").exists()


@pytest.mark.slow
def test_a_page_that_shows_a_hidden_line_is_withheld_for_that_student_only(feedback_course):
    course, stdout = feedback_course
    assert "prints_a_hidden_line: withheld: " in stdout and "showed hidden-test code" in stdout
    assert not (course / "feedback" / "prints_a_hidden_line" / A1 / f"{A1}.html").exists()
    assert "prints_history: written" in stdout


@pytest.mark.slow
def test_code_history_printed_by_an_answer_holds_no_hidden_test(feedback_course):
    # The page comes from a run without hidden tests, so the history it prints has none,
    # in plain text or encoded.
    import base64
    import re
    import zlib

    course, _ = feedback_course
    text = page(course, "prints_history")
    blob = max(re.findall(r"[A-Za-z0-9+/=]{200,}", text), key=len)
    decoded = " ".join(zlib.decompress(base64.b64decode(blob)).decode().split())
    for shown in (text, decoded):
        assert "sigmoid(0.0)" in shown  # the visible tests are there
        assert [line for line in hidden_lines() if line in shown] == []


@pytest.mark.slow
def test_hidden_results_are_given_by_task_and_count(feedback_course):
    course, _ = feedback_course
    text = page(course, "unstable_sigmoid")
    assert "[grader] 0 of 4 points; hidden checks: " in text
    assert "[grader] 5 of 5 points; hidden checks: 5 of 5 matched the reference answer" in text


@pytest.mark.slow
@pytest.mark.parametrize(
    "student", ["correct", "unstable_sigmoid", "sign_error", "syntax_error", "loop_based"]
)
def test_feedback_shows_no_hidden_test_line(feedback_course, student):
    course, _ = feedback_course
    text = page(course, student)
    leaked = [line for line in hidden_lines() - answer_lines(course, student) if line in text]
    assert leaked == []
    assert "BEGIN HIDDEN TESTS" not in text and "sigmoid/extreme-limits" not in text
    assert HIDDEN_NOTE in text


@pytest.mark.slow
def test_failures_in_hidden_tests_are_counted_without_their_code(feedback_course):
    course, _ = feedback_course
    text = page(course, "unstable_sigmoid")
    assert "FloatingPointError" not in text  # raised only by a hidden test: not shown
    assert "extreme = sigmoid(np.array([-1000.0, -50.0, 50.0, 1000.0]))" not in text
    assert "Score: 15.0 / 30.0" in text  # 15 of 26 autograded, the written answer not graded yet


@pytest.mark.slow
def test_visible_check_failures_are_explained(feedback_course):
    course, _ = feedback_course
    text = page(course, "sign_error")
    # From the run without hidden tests, in working mode: compared with the test cell's value.
    assert (
        "check 'bce_grad/values' failed: expected -0.16694037889175" in text
        and "got 0.1669403788917547" in text
    )
    assert "[grader] 0 of 7 points; hidden checks: " in text


@pytest.mark.slow
def test_plain_nbgrader_feedback_is_safe_with_the_course_config(feedback_course, tmp_path):
    # nbgrader rewrites the student's page: on a copy, as other tests read the shared one.
    course = tmp_path / "course"
    shutil.copytree(feedback_course[0], course, symlinks=True)
    env = dict(
        os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    )
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_feedback", A1,
         "--student", "unstable_sigmoid", "--force"],
        cwd=course, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = page(course, "unstable_sigmoid")
    assert [
        line for line in hidden_lines() - answer_lines(course, "unstable_sigmoid") if line in text
    ] == []
    assert HIDDEN_NOTE in text
