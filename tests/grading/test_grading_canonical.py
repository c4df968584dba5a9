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

from coursekit.grading.canonical import (
    UnreadableNotebook,
    canonicalise,
    read_notebook_file,
    release_stubs,
)
from coursekit.grading.blind import ADDED_KEY
from coursekit.grading.lint import check_tampering


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
    assert (
        "def sigmoid(z: np.ndarray) -> np.ndarray:" in stubs["sigmoid"]
    )  # kept outside the region
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
    assert canon.notes == [] and canon.tampering == []
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


def test_every_edited_copy_of_an_answer_runs_in_order_and_untouched_ones_do_not(source, stubs):
    student = solved(source, stubs)
    i = next(i for i, c in enumerate(student.cells) if meta(c).get("grade_id") == "sigmoid")
    first = student.cells[i].source
    edited = copy.deepcopy(student.cells[i])
    edited.source = "def sigmoid(z):\n    return 0.25\n"
    untouched = copy.deepcopy(student.cells[i])
    untouched.source = stubs["sigmoid"]
    student.cells[i + 1 : i + 1] = [edited, untouched]
    canon = canonicalise(source, student, stubs)
    k = next(k for k, c in enumerate(canon.nb.cells) if meta(c).get("grade_id") == "sigmoid")
    assert canon.nb.cells[k].source == first
    assert (
        canon.nb.cells[k + 1].source == edited.source
        and ADDED_KEY in canon.nb.cells[k + 1].metadata
    )
    assert meta(canon.nb.cells[k + 2]).get("grade_id") == "test_sigmoid"
    assert (
        "answer cell 'sigmoid' appears 3 times; the 2 edited copies were run and the "
        "untouched one left out"
    ) in canon.notes


def test_an_answer_split_in_two_by_the_editor_keeps_both_halves(source, stubs):
    # JupyterLab's "split cell" copies the metadata, grade_id included, to both halves.
    student = solved(source, stubs)
    i = next(i for i, c in enumerate(student.cells) if meta(c).get("grade_id") == "bce_grad_theta")
    text = student.cells[i].source
    cut = text.index("def bce_grad_theta")
    head, tail = copy.deepcopy(student.cells[i]), student.cells[i]
    head.source = "def _mean_rows(M):\n    return M.mean(axis=0)\n"
    tail.source = text[cut:]
    student.cells.insert(i, head)
    canon = canonicalise(source, student, stubs)
    sources = [c.source for c in canon.nb.cells]
    assert sources.index(head.source) + 1 == sources.index(tail.source)
    assert not any("left out" in n for n in canon.notes)


def test_a_helper_cell_the_student_added_runs_where_it_was(source, stubs):
    student = solved(source, stubs)
    i = next(i for i, c in enumerate(student.cells) if meta(c).get("grade_id") == "bce")
    helper = nbformat.v4.new_code_cell(
        "def _clip(p):\n    return np.clip(p, PROB_EPS, 1 - PROB_EPS)\n"
    )
    scratch = nbformat.v4.new_markdown_cell("my notes")
    student.cells[i:i] = [helper, scratch]
    canon = canonicalise(source, student, stubs)
    k = next(k for k, c in enumerate(canon.nb.cells) if c.source == helper.source)
    assert ADDED_KEY in canon.nb.cells[k].metadata
    assert meta(canon.nb.cells[k + 1]).get("grade_id") == "bce"  # right before the answer it helps
    assert "my notes" not in [c.source for c in canon.nb.cells]
    assert canon.names[k] == f"added code cell (cell {i + 1} of the submitted notebook)"


def test_a_notebook_whose_metadata_was_stripped_is_placed_by_functions_and_position(source, stubs):
    student = solved(source, stubs)
    for cell in student.cells:
        if meta(cell).get("grade_id") == "written_answer":
            cell.source = "E is piecewise constant."
        cell.metadata = {}
    canon = canonicalise(source, student, stubs)
    assert skeleton(canon.nb) == skeleton(source)  # the set-up and visible tests are not run twice
    assert answer(canon, "written_answer") == "E is piecewise constant."
    assert all(canon.answered.values())
    assert answer(canon, "bce") == solution_text(
        next(c for c in source.cells if meta(c).get("grade_id") == "bce").source
    )


def test_a_written_answer_that_cannot_be_placed_is_left_for_a_person(source, stubs):
    student = solved(source, stubs)
    student.cells = [c for c in student.cells if meta(c).get("grade_id") != "written_question"]
    for cell in student.cells:
        cell.metadata = {}
    canon = canonicalise(source, student, stubs)
    assert canon.answered["written_answer"] is True  # never a silent "No response"
    assert any("grade it by reading the submitted notebook" in n for n in canon.notes)


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
    student.cells[i] = nbformat.v4.new_markdown_cell(
        code, metadata=copy.deepcopy(student.cells[i].metadata)
    )
    canon = canonicalise(source, student, stubs)
    cell = next(c for c in canon.nb.cells if meta(c).get("grade_id") == "sigmoid")
    assert cell.cell_type == "code" and cell.source == code
    assert any("changed into a markdown cell" in n for n in canon.notes)


def test_tampering_is_reported_with_the_cell(source, stubs):
    student = solved(source, stubs)
    for cell in student.cells:
        if meta(cell).get("grade_id") == "add_bias_column":
            cell.source += (
                "\nimport coursekit.checks\ncoursekit.checks.compare = lambda *a, **k: (True, '')\n"
            )
    canon = canonicalise(source, student, stubs)
    assert canon.tampering == ["answer cell 'add_bias_column' assigns to the attribute .compare"]


@pytest.mark.parametrize(
    "code, finding",
    [
        ("def check(*args):\n    pass", ["defines check()"]),
        ("check = print", ["assigns to check"]),
        ("from coursekit.checks import compare as check", ["binds check by an import"]),
        ("setattr(mod, 'compare', f)", ["calls setattr(..., 'compare')"]),
        (
            "import os\nos.environ['COURSEKIT_GRADING_RECORD'] = '/dev/null'",
            ["mentions COURSEKIT_GRADING_RECORD"],
        ),
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
    (tmp_path / "c.ipynb").write_text(
        json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": "x"})
    )
    with pytest.raises(UnreadableNotebook, match="not a valid notebook"):
        read_notebook_file(tmp_path / "c.ipynb")
    (tmp_path / "d.ipynb").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UnreadableNotebook):
        read_notebook_file(tmp_path / "d.ipynb")
