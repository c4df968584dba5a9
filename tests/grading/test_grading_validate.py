"""``coursekit validate`` and the command line's error handling."""

from __future__ import annotations

import copy

import nbformat
import pytest
from grading_corpus import A1, SOURCES, coursekit, make_course, meta, solution_text

from coursekit.grading.canonical import release_stubs


def student_copy(*, solved: bool) -> nbformat.NotebookNode:
    """Assignment 1 as a student has it: no hidden tests, answers solved or left as stubs."""
    source = nbformat.read(str(SOURCES / A1 / f"{A1}.ipynb"), as_version=4)
    stubs = release_stubs(source)
    nb = copy.deepcopy(source)
    for cell in nb.cells:
        if meta(cell).get("solution"):
            cell.source = solution_text(cell.source) if solved else stubs[meta(cell)["grade_id"]]
        elif meta(cell).get("grade"):
            cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0]
    return nb


def validate(tmp_path, nb) -> object:
    path = tmp_path / f"{A1}.ipynb"
    nbformat.write(nb, str(path))
    return coursekit("validate", str(path))


@pytest.mark.slow
def test_a_correct_notebook_passes_with_a_line_per_test_cell(tmp_path):
    done = validate(tmp_path, student_copy(solved=True))
    assert done.returncode == 0, done.stdout + done.stderr
    for test in (
        "test_sigmoid",
        "test_add_bias_column",
        "test_bce",
        "test_bce_grad_theta",
        "test_gradient_descent",
    ):
        assert f"PASS  {test} (" in done.stdout
    assert "5 of 5 test cells passed; all visible tests pass" in done.stdout


@pytest.mark.slow
def test_a_wrong_answer_fails_and_names_the_check(tmp_path):
    nb = student_copy(solved=True)
    cell = next(c for c in nb.cells if meta(c).get("grade_id") == "bce")
    cell.source = cell.source.replace("return float(-np.mean(", "return float(-np.sum(")
    done = validate(tmp_path, nb)
    assert done.returncode == 1
    assert "FAIL  test_bce (5 points): AssertionError: check 'bce/uniform' failed" in done.stdout
    assert "PASS  test_sigmoid" in done.stdout


@pytest.mark.slow
def test_the_untouched_release_fails(tmp_path):
    done = validate(tmp_path, student_copy(solved=False))
    assert done.returncode == 1
    assert (
        "FAIL  test_sigmoid (4 points): "
        "NotImplementedError (an answer this test uses is not written yet)"
    ) in done.stdout
    assert "0 of 5 test cells passed" in done.stdout


@pytest.mark.slow
def test_added_cells_run_at_their_place_just_as_in_grading(tmp_path):
    nb = student_copy(solved=True)
    cell = next(c for c in nb.cells if meta(c).get("grade_id") == "sigmoid")
    helper = nbformat.v4.new_code_cell("def _helper(z):\n    return z\n")
    cell.source = cell.source.replace(
        "z = np.asarray(z, dtype=np.float64)", "z = _helper(np.asarray(z, dtype=np.float64))"
    )
    nb.cells.insert(nb.cells.index(cell), helper)
    done = validate(tmp_path, nb)
    assert done.returncode == 0, done.stdout
    assert "5 of 5 test cells passed" in done.stdout


@pytest.mark.slow
def test_importing_the_course_implementation_fails_however_it_is_spelled(tmp_path):
    nb = student_copy(solved=True)
    next(c for c in nb.cells if meta(c).get("grade_id") == "sigmoid").source = (
        "import importlib\n\n"
        "sigmoid = importlib.import_module('cours' + 'ekit.activations').sigmoid\n"
    )
    done = validate(tmp_path, nb)
    assert done.returncode == 1
    assert (
        "ERROR answer cell 'sigmoid': ImportError: coursekit.activations is not available in "
        "this assignment"
    ) in done.stdout
    assert "FAIL  test_sigmoid" in done.stdout


@pytest.mark.slow
def test_a_notebook_without_metadata_is_validated_by_its_check_calls(tmp_path):
    nb = student_copy(solved=True)
    for cell in nb.cells:
        cell.metadata = {}
    done = validate(tmp_path, nb)
    assert done.returncode == 0, done.stdout
    assert "no grading metadata" in done.stdout and "5 of 5 test cells passed" in done.stdout


def test_validate_bad_input_exits_2(tmp_path):
    missing = coursekit("validate", str(tmp_path / "nope.ipynb"))
    assert missing.returncode == 2 and "missing" in missing.stderr
    (tmp_path / "broken.ipynb").write_text("{")
    broken = coursekit("validate", str(tmp_path / "broken.ipynb"))
    assert broken.returncode == 2 and "not a valid notebook" in broken.stderr
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]),
        str(tmp_path / "plain.ipynb"),
    )
    plain = coursekit("validate", str(tmp_path / "plain.ipynb"))
    assert (
        plain.returncode == 2
        and "not an assignment notebook" in plain.stderr
        and "no check() calls" in plain.stderr
    )


def test_missing_course_directory_exits_2(tmp_path):
    done = coursekit("grade", A1, "--course-dir", str(tmp_path / "nowhere"))
    assert done.returncode == 2
    assert "course directory" in done.stderr and "does not exist" in done.stderr


def test_grading_an_unknown_assignment_or_student_exits_2(tmp_path):
    course = make_course(tmp_path, (A1,))
    unknown = coursekit("grade", "02_nothing", "--course-dir", str(course))
    assert unknown.returncode == 2 and "assignment '02_nothing' not found" in unknown.stderr
    nobody = coursekit("grade", A1, "--course-dir", str(course), "--student", "nobody")
    assert (
        nobody.returncode == 2
        and "no submission of" in nobody.stderr
        and "'nobody'" in nobody.stderr
    )
    (course / "source" / A1 / f"{A1}.ipynb").unlink()
    no_notebook = coursekit("grade", A1, "--course-dir", str(course))
    assert no_notebook.returncode == 2 and "has no source notebook" in no_notebook.stderr


def test_feedback_before_grading_exits_2(tmp_path):
    course = make_course(tmp_path, (A1,))
    done = coursekit("feedback", A1, "--course-dir", str(course))
    assert done.returncode == 2 and "no graded submissions" in done.stderr


def test_bad_options_are_rejected(tmp_path):
    done = coursekit("grade", A1, "--jobs", "0")
    assert done.returncode == 2 and "must be at least 1" in done.stderr
    done = coursekit("grade", A1, "--timeout", "-3")
    assert done.returncode == 2 and "must be positive" in done.stderr


def test_no_sandbox_flag_exists():
    done = coursekit("grade", "--help")
    assert done.returncode == 0 and "--no-sandbox" in done.stdout
