"""The robustness corpus, graded as one batch per assignment with ``--jobs 2``.

Every synthetic submission (see grading_corpus.py) must get exactly its expected score or a
clear needs-attention reason, whatever the other submissions in the batch do; grading again
must give the same result; a person's manual score must survive a regrade; the gradebook must
agree with the CSV and never turn an ungraded submission into a silent zero.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from grading_corpus import A1, A2, A3, SOURCES, cases, copy_course, coursekit, meta, read_csv
from nbgrader.api import Gradebook

from coursekit.grading.blind import ADDED_KEY

CASES = cases()


def _fmt(value):
    return "" if value is None else f"{value:g}"


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[f"{c.assignment[:2]}-{c.student}" for c in CASES])
def test_each_submission_gets_its_expected_score(corpus, case):
    row = read_csv(corpus.course, case.assignment)[case.student]
    assert row["auto_score"] == _fmt(case.score), row
    assert row["status"] == case.status, row
    if case.reason:
        assert case.reason in row["reason"], row
    else:
        assert row["reason"] == "", row


@pytest.mark.slow
def test_csv_has_exactly_the_required_columns_and_one_row_per_submission(corpus):
    for assignment in (A1, A2, A3):
        header = (corpus.course / "grades" / f"{assignment}.csv").read_text().splitlines()[0]
        assert (
            header == "student,assignment,auto_score,auto_max,manual_score,manual_max,status,reason"
        )
        rows = read_csv(corpus.course, assignment)
        assert sorted(rows) == sorted(c.student for c in CASES if c.assignment == assignment)
        assert {r["assignment"] for r in rows.values()} == {assignment}


@pytest.mark.slow
def test_maxima_come_from_the_source_notebook(corpus):
    for assignment in (A1, A2, A3):
        nb = nbformat.read(str(SOURCES / assignment / f"{assignment}.ipynb"), as_version=4)
        auto = sum(
            meta(c)["points"]
            for c in nb.cells
            if meta(c).get("grade") and not meta(c).get("solution")
        )
        manual = sum(
            meta(c)["points"] for c in nb.cells if meta(c).get("grade") and meta(c).get("solution")
        )
        for row in read_csv(corpus.course, assignment).values():
            assert (row["auto_max"], row["manual_max"]) == (f"{auto:g}", f"{manual:g}")


@pytest.mark.slow
def test_exit_code_is_nonzero_only_when_a_submission_needs_attention(corpus):
    assert corpus.runs[A1]["returncode"] == 1
    assert (
        "need attention: folder_links_to_source, invalid_json, missing_notebook, "
        "patches_errstate_member, tampers_with_check"
    ) in corpus.runs[A1]["stderr"]
    assert corpus.runs[A2]["returncode"] == 0, corpus.runs[A2]["stderr"]
    assert corpus.runs[A3]["returncode"] == 0, corpus.runs[A3]["stderr"]


@pytest.mark.slow
def test_written_answers_wait_for_a_person_unless_left_empty(corpus):
    rows = read_csv(corpus.course, A1)
    assert rows["correct"]["manual_score"] == ""  # answered: a person has to grade it
    assert rows["untouched_release"]["manual_score"] == "0"  # the stub: no response, 0
    assert rows["stripped_metadata"]["manual_score"] == ""  # placed, not a silent "No response"


@pytest.mark.slow
def test_graded_notebook_has_the_source_structure_whatever_the_submission_did(corpus):
    source = nbformat.read(str(SOURCES / A1 / f"{A1}.ipynb"), as_version=4)
    expected = [(c.cell_type, meta(c).get("grade_id")) for c in source.cells]
    for student in (
        "reordered_cells",
        "deleted_tests_and_text",
        "duplicated_cells",
        "retyped_cells",
        "renamed_grade_id",
    ):
        graded = nbformat.read(
            str(corpus.course / "autograded" / student / A1 / f"{A1}.ipynb"), as_version=4
        )
        # Copies of an answer the student edited run too, right after it, as added code.
        cells = [c for c in graded.cells if ADDED_KEY not in c.metadata]
        assert [(c.cell_type, meta(c).get("grade_id")) for c in cells] == expected, student
        tests = {
            meta(c)["grade_id"]: c.source
            for c in graded.cells
            if meta(c).get("grade") and not meta(c).get("solution")
        }
        assert tests == {
            meta(c)["grade_id"]: c.source
            for c in source.cells
            if meta(c).get("grade") and not meta(c).get("solution")
        }


@pytest.mark.slow
def test_failed_checks_are_explained_in_the_graded_notebook(corpus):
    graded = nbformat.read(
        str(corpus.course / "autograded" / "sign_error" / A1 / f"{A1}.ipynb"), as_version=4
    )
    cell = next(c for c in graded.cells if meta(c).get("grade_id") == "test_bce_grad_theta")
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert errors and errors[0].ename == "CheckFailed"
    assert "check 'bce_grad/values'" in errors[0].evalue


@pytest.mark.slow
def test_huge_output_is_truncated_in_the_graded_notebook(corpus):
    path = corpus.course / "autograded" / "huge_output" / A1 / f"{A1}.ipynb"
    assert path.stat().st_size < 200_000  # the cell printed more than 5 MB
    graded = nbformat.read(str(path), as_version=4)
    cell = next(c for c in graded.cells if meta(c).get("grade_id") == "sigmoid")
    assert "output truncated" in "".join(o.get("text", "") for o in cell.outputs)


@pytest.mark.slow
def test_gradebook_agrees_with_the_csv_and_flags_ungraded_submissions(corpus):
    rows = read_csv(corpus.course, A1)
    with Gradebook(f"sqlite:///{corpus.course / 'gradebook.db'}", "nn-basics") as gb:
        for student, row in rows.items():
            grades = gb.find_submission(A1, student).notebooks[0].grades
            tests = [g for g in grades if g.cell.type == "GradeCell" and g.cell.cell_type == "code"]
            if row["auto_score"]:
                assert sum(g.auto_score for g in tests) == float(row["auto_score"]), student
            else:  # not gradable: no invented zero, flagged for a person instead
                assert all(g.auto_score is None and g.needs_manual_grade for g in tests), student
        flagged = gb.find_submission(A1, "tampers_with_check").notebooks[0].grades
        assert all(g.needs_manual_grade for g in flagged)


@pytest.mark.slow
def test_reports_keep_every_message_for_the_instructor(corpus):
    report = json.loads((corpus.course / "grades" / A1 / "unstable_sigmoid.json").read_text())
    scores = {s["grade_id"]: s for s in report["notebooks"][0]["scores"]}
    assert "FloatingPointError" in scores["test_sigmoid"]["messages"][0]
    assert scores["test_bce"]["points"] == scores["test_bce"]["max_points"]


@pytest.mark.slow
def test_regrading_gives_the_same_result_and_keeps_manual_scores(corpus, tmp_path):
    course = copy_course(corpus, tmp_path)
    before = read_csv(course, A1)
    db = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(db, "nn-basics") as gb:
        gb.find_grade("written_answer", A1, A1, "correct").manual_score = 3.5
        gb.find_grade("test_bce", A1, A1, "sign_error").manual_score = 1.0  # an override
        gb.db.commit()
    done = coursekit(
        "grade", A1, "--course-dir", str(course), "--jobs", "2", "--timeout", "10", "--quiet"
    )
    assert done.returncode == 1, done.stderr
    after = read_csv(course, A1)
    for student in before:
        for column in ("auto_score", "auto_max", "status", "reason", "manual_max"):
            assert after[student][column] == before[student][column], (student, column)
    assert after["correct"]["manual_score"] == "3.5"
    with Gradebook(db, "nn-basics") as gb:
        override = gb.find_grade("test_bce", A1, A1, "sign_error")
        assert override.manual_score == 1.0 and override.auto_score == 5.0
        assert not override.needs_manual_grade  # the auto score did not change
        written = gb.find_grade("written_answer", A1, A1, "correct")
        assert written.manual_score == 3.5 and not written.needs_manual_grade


@pytest.mark.slow
def test_one_student_can_be_regraded_alone(corpus, tmp_path):
    course = copy_course(corpus, tmp_path)
    before = read_csv(course, A2)
    done = coursekit(
        "grade", A2, "--course-dir", str(course), "--student", "unstable_softmax", "--quiet"
    )
    assert done.returncode == 0, done.stderr
    assert read_csv(course, A2) == before


@pytest.mark.slow
def test_formgrader_lists_and_renders_the_graded_notebooks(corpus):
    from nbconvert.exporters import HTMLExporter
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(corpus.course)
    config.CourseDirectory.course_id = "nn-basics"
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    listed = {s["student"]: s for s in api.get_notebook_submissions(A1, A1)}
    rows = read_csv(corpus.course, A1)
    assert set(listed) == {name for name, row in rows.items() if row["auto_score"]}
    assert listed["sign_error"]["code_score"] == float(rows["sign_error"]["auto_score"])
    assert listed["sign_error"]["failed_tests"] and listed["sign_error"]["needs_manual_grade"]

    config.HTMLExporter.template_name = "formgrade"  # what the formgrader renders with
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {
        "assignment_id": A1, "notebook_id": A1, "submission_id": listed["sign_error"]["id"],
        "index": 0, "total": len(listed), "base_url": "", "student": "sign_error",
        "last_name": None, "first_name": None,
        "notebook_path": f"autograded/sign_error/{A1}/{A1}.ipynb",
    }  # fmt: skip
    html, _ = HTMLExporter(config=config).from_filename(
        str(corpus.course / resources["notebook_path"]), resources=resources
    )
    assert "CheckFailed" in html and "bce_grad/values" in html
