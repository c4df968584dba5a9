"""Building the graded notebook: source skeleton, student answers, fallbacks, lint.

These tests use the real source notebook of assignment 1 and nbgrader's own release stubs,
without running anything.
"""

from __future__ import annotations

import copy
import json

import nbformat
import pytest
from grading_corpus import A1, SOURCES, meta, solution_text

from coursekit.grading.canonical import UnreadableNotebook, canonicalise, read_notebook_file, release_stubs
from coursekit.grading.lint import check_tampering, reference_modules_used


@pytest.fixture(scope="module")
def source():
    return nbformat.read(str(SOURCES / A1 / f"{A1}.ipynb"), as_version=4)


@pytest.fixture(scope="module")
def stubs(source):
    return release_stubs(source)


def released(source, stubs):
    nb = copy.deepcopy(source)
    for cell in nb.cells:
        if meta(cell).get("solution"):
            cell.source = stubs[meta(cell)["grade_id"]]
        elif meta(cell).get("grade"):
            cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0]
    return nb


def solved(source, stubs):
    nb = released(source, stubs)
    for cell, original in zip(nb.cells, source.cells):
        if meta(cell).get("solution"):
            cell.source = solution_text(original.source)
    return nb


def answer(canon, grade_id):
    return next(c for c in canon.nb.cells if meta(c).get("grade_id") == grade_id).source


def skeleton(nb):
    return [(c.cell_type, meta(c).get("grade_id")) for c in nb.cells]


def test_release_stubs_are_nbgraders_code_and_text_stubs(stubs):
    assert "raise NotImplementedError()" in stubs["sigmoid"]
    assert "def sigmoid(z: np.ndarray) -> np.ndarray:" in stubs["sigmoid"]  # kept outside the region
    assert stubs["written_answer"] == "YOUR ANSWER HERE"


def test_answers_are_taken_and_everything_else_comes_from_the_source(source, stubs):
    student = solved(source, stubs)
    for cell in student.cells:
        if meta(cell).get("grade") and not meta(cell).get("solution"):
            cell.source = "pass  # tests edited away"
            cell.metadata["nbgrader"]["points"] = 1000
    canon = canonicalise(source, student, stubs)
    assert skeleton(canon.nb) == skeleton(source)
    for cell, original in zip(canon.nb.cells, source.cells):
        if meta(original).get("solution"):
            assert cell.source == solution_text(original.source)
        else:
            assert cell.source == original.source  # hidden tests, points: all from the source
            assert cell.metadata == original.metadata
    assert canon.notes == [] and canon.tampering == [] and canon.blocked == {}
    assert all(canon.answered.values())


def test_untouched_release_counts_as_unanswered(source, stubs):
    canon = canonicalise(source, released(source, stubs), stubs)
    assert not any(canon.answered.values())
    assert canon.notes == []


def test_reordered_and_deleted_cells_cannot_change_the_skeleton(source, stubs):
    student = solved(source, stubs)
    student.cells = [c for c in reversed(student.cells) if meta(c).get("solution")]
    canon = canonicalise(source, student, stubs)
    assert skeleton(canon.nb) == skeleton(source)
    assert canon.notes == []


def test_deleted_answer_is_graded_as_the_stub_with_a_note(source, stubs):
    student = solved(source, stubs)
    student.cells = [c for c in student.cells if meta(c).get("grade_id") != "bce"]
    canon = canonicalise(source, student, stubs)
    assert answer(canon, "bce") == stubs["bce"]
    assert canon.answered["bce"] is False
    assert canon.notes == ["answer cell 'bce' is missing from the submission; graded as unanswered"]


def test_duplicated_answer_uses_the_last_edited_copy(source, stubs):
    student = solved(source, stubs)
    i = next(i for i, c in enumerate(student.cells) if meta(c).get("grade_id") == "sigmoid")
    edited = copy.deepcopy(student.cells[i])
    edited.source = "def sigmoid(z):\n    return 0.25\n"
    untouched = copy.deepcopy(student.cells[i])
    untouched.source = stubs["sigmoid"]
    student.cells[i + 1 : i + 1] = [edited, untouched]
    canon = canonicalise(source, student, stubs)
    assert answer(canon, "sigmoid") == edited.source
    assert "answer cell 'sigmoid' appears 3 times; the last edited copy was graded" in canon.notes


def test_renamed_grade_id_is_matched_by_the_functions_it_defines(source, stubs):
    student = solved(source, stubs)
    cells = {meta(c).get("grade_id"): c for c in student.cells}
    cells["bce"].metadata["nbgrader"]["grade_id"] = "bce-renamed"
    canon = canonicalise(source, student, stubs)
    assert answer(canon, "bce") == cells["bce"].source
    assert any("'bce' was not found by its id" in n and "bce()" in n for n in canon.notes)


def test_answer_moved_to_a_new_plain_cell_is_found_by_its_functions(source, stubs):
    student = solved(source, stubs)
    old = next(c for c in student.cells if meta(c).get("grade_id") == "bce_grad_theta")
    student.cells.remove(old)
    student.cells.append(nbformat.v4.new_code_cell(old.source))  # no nbgrader metadata
    canon = canonicalise(source, student, stubs)
    assert answer(canon, "bce_grad_theta") == old.source
    assert any("a cell without grading metadata" in n for n in canon.notes)


def test_renamed_cell_without_matching_functions_is_matched_by_position(source, stubs):
    student = solved(source, stubs)
    written = next(c for c in student.cells if meta(c).get("grade_id") == "written_answer")
    written.source = "My answer."
    written.metadata["nbgrader"]["grade_id"] = "cell-8f2a"
    canon = canonicalise(source, student, stubs)
    assert answer(canon, "written_answer") == "My answer."
    assert any("in its place (id 'cell-8f2a')" in n for n in canon.notes)


def test_answer_turned_into_markdown_is_run_as_code_with_a_note(source, stubs):
    student = solved(source, stubs)
    i = next(i for i, c in enumerate(student.cells) if meta(c).get("grade_id") == "sigmoid")
    code = student.cells[i].source
    student.cells[i] = nbformat.v4.new_markdown_cell(code, metadata=copy.deepcopy(student.cells[i].metadata))
    canon = canonicalise(source, student, stubs)
    cell = next(c for c in canon.nb.cells if meta(c).get("grade_id") == "sigmoid")
    assert cell.cell_type == "code" and cell.source == code
    assert any("changed into a markdown cell" in n for n in canon.notes)


def test_using_the_reference_implementation_blocks_only_that_tasks_tests(source, stubs):
    student = solved(source, stubs)
    for cell in student.cells:
        if meta(cell).get("grade_id") == "bce":
            cell.source = "import coursekit.losses as L\n\ndef bce(p, y):\n    return L.bce(p, y)\n"
    canon = canonicalise(source, student, stubs)
    assert set(canon.blocked) == {"test_bce"}
    assert "answer cell 'bce' uses coursekit.losses" in canon.blocked["test_bce"]


def test_tampering_is_reported_with_the_cell(source, stubs):
    student = solved(source, stubs)
    for cell in student.cells:
        if meta(cell).get("grade_id") == "add_bias_column":
            cell.source += "\nimport coursekit.checks\ncoursekit.checks.compare = lambda *a, **k: (True, '')\n"
    canon = canonicalise(source, student, stubs)
    assert canon.tampering == ["answer cell 'add_bias_column' assigns to the attribute .compare"]


@pytest.mark.parametrize(
    "code, used",
    [
        ("from coursekit.activations import sigmoid", {"coursekit.activations"}),
        ("import coursekit.nn as nn", {"coursekit.nn"}),
        ("from coursekit import losses, data", {"coursekit.losses"}),
        ("import coursekit\ng = coursekit.gradcheck.numerical_gradient", {"coursekit.gradcheck"}),
        ("import coursekit.data\nf = coursekit.optim.SGD", {"coursekit.optim"}),
        ("m = __import__('coursekit.engine')", {"coursekit.engine"}),
        ("import importlib\nm = importlib.import_module('coursekit.losses')", {"coursekit.losses"}),
        ("m = __import__('coursekit', fromlist=['activations'])", {"coursekit.activations"}),
        ("%time x = 1\nfrom coursekit.nn import Linear", {"coursekit.nn"}),
        ("from coursekit.data import blobs\nfrom coursekit.checks import check", set()),
        ("def f(:\n  from coursekit.nn import Linear", set()),  # does not parse, cannot run
    ],
)
def test_reference_modules_are_found_however_they_are_imported(code, used):
    assert reference_modules_used(code) == used


@pytest.mark.parametrize(
    "code, finding",
    [
        ("def check(*args):\n    pass", ["defines check()"]),
        ("check = print", ["assigns to check"]),
        ("from coursekit.checks import compare as check", ["binds check by an import"]),
        ("setattr(mod, 'compare', f)", ["calls setattr(..., 'compare')"]),
        ("import os\nos.environ['COURSEKIT_GRADING_RECORD'] = '/dev/null'", ["mentions COURSEKIT_GRADING_RECORD"]),
        ("from coursekit.checks import check, compare", []),
        ("def helper():\n    check = 3\n    return check", []),  # a local name is harmless
    ],
)
def test_tampering_patterns(code, finding):
    assert check_tampering(code) == finding


def test_unreadable_notebooks_give_a_reason(tmp_path):
    with pytest.raises(UnreadableNotebook, match="missing from the submission"):
        read_notebook_file(tmp_path / "a.ipynb")
    (tmp_path / "b.ipynb").write_text("{not json")
    with pytest.raises(UnreadableNotebook, match="not a valid notebook"):
        read_notebook_file(tmp_path / "b.ipynb")
    (tmp_path / "c.ipynb").write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": "x"}))
    with pytest.raises(UnreadableNotebook, match="not a valid notebook"):
        read_notebook_file(tmp_path / "c.ipynb")
    (tmp_path / "d.ipynb").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UnreadableNotebook):
        read_notebook_file(tmp_path / "d.ipynb")
