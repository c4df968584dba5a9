"""``coursekit release``: the student version leaks no solution and no hidden test."""

from __future__ import annotations

import re

import nbformat
import pytest
from grading_corpus import A1, A2, A3, SOURCES, coursekit, make_course, meta
from nbgrader.api import Gradebook


def region_lines(text: str, begin: str, end: str) -> tuple[list[str], list[str]]:
    """(lines inside begin/end regions, lines outside), in order, markers dropped."""
    inside, outside, active = [], [], False
    for line in text.split("\n"):
        if begin in line:
            active = True
        elif end in line:
            active = False
        else:
            (inside if active else outside).append(line)
    return inside, outside


def secrets(source) -> set[str]:
    hidden, public = set(), set()
    for cell in source.cells:
        sol_in, rest = region_lines(cell.source, "### BEGIN SOLUTION", "### END SOLUTION")
        hid_in, rest = region_lines(
            "\n".join(rest), "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
        )
        if meta(cell).get("solution") and "BEGIN SOLUTION" not in cell.source:
            hidden |= {line.strip() for line in cell.source.split("\n")}
        else:
            hidden |= {line.strip() for line in sol_in + hid_in}
            public |= {line.strip() for line in rest}
    return {s for s in hidden - public if len(s) > 3 and not s.startswith("#")}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", [A1, A2, A3])
def test_release_has_no_solution_or_hidden_test_line(corpus, assignment):
    source = nbformat.read(str(SOURCES / assignment / f"{assignment}.ipynb"), as_version=4)
    release = nbformat.read(
        str(corpus.course / "release" / assignment / f"{assignment}.ipynb"), as_version=4
    )
    secret = secrets(source)
    assert len(secret) > 20  # the check has something to find
    for cell in release.cells:
        assert not re.search(r"(BEGIN|END) (SOLUTION|HIDDEN)", cell.source), meta(cell).get(
            "grade_id"
        )
        assert not secret & {line.strip() for line in cell.source.split("\n")}, meta(cell).get(
            "grade_id"
        )
        assert not cell.get("outputs")


@pytest.mark.slow
def test_release_keeps_what_students_need(corpus):
    release = nbformat.read(str(corpus.course / "release" / A1 / f"{A1}.ipynb"), as_version=4)
    text = "\n".join(c.source for c in release.cells)
    assert "def sigmoid(z: np.ndarray) -> np.ndarray:" in text  # signature outside the solution
    assert 'check("sigmoid/zero", sigmoid(0.0), 0.5)' in text  # visible tests
    assert "raise NotImplementedError()" in text and "YOUR ANSWER HERE" in text


@pytest.mark.slow
def test_release_registers_every_graded_cell_in_the_gradebook(corpus):
    source = nbformat.read(str(SOURCES / A1 / f"{A1}.ipynb"), as_version=4)
    graded = {meta(c)["grade_id"] for c in source.cells if meta(c).get("grade")}
    with Gradebook(f"sqlite:///{corpus.course / 'gradebook.db'}", "nn-basics") as gb:
        notebook = gb.find_notebook(A1, A1)
        assert {c.name for c in notebook.grade_cells} == graded


@pytest.mark.slow
def test_a_misspelt_hidden_marker_stops_the_release(tmp_path):
    course = make_course(tmp_path, (A1,))
    path = course / "source" / A1 / f"{A1}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    cell = next(c for c in nb.cells if meta(c).get("grade_id") == "test_sigmoid")
    cell.source = cell.source.replace(
        "### BEGIN HIDDEN TESTS", "### BEGIN HIDDEN TEST"
    )  # nbgrader misses it
    nbformat.write(nb, str(path))
    done = coursekit("release", A1, "--course-dir", str(course))
    assert done.returncode == 1
    assert "would give away solutions or hidden tests" in done.stderr
    assert "test_sigmoid contains the line" in done.stderr
    assert not (course / "release" / A1).exists()


def test_release_of_an_unknown_assignment_exits_2(tmp_path):
    course = make_course(tmp_path, (A1,))
    done = coursekit("release", "99_nothing", "--course-dir", str(course))
    assert done.returncode == 2
    assert "assignment '99_nothing' not found" in done.stderr and A1 in done.stderr
