"""The scoring rule for one test cell, on hand-made runner results (no kernel involved)."""

from __future__ import annotations

import numpy as np
import pytest

from coursekit.checks import encode_answer
from coursekit.grading import runner as rn
from coursekit.grading.executor import _parse_record
from coursekit.grading.scoring import CellReference, score_test_cell


def record(key, value, rtol=1e-7, atol=1e-9):
    return {"key": key, "answer": encode_answer(value), "rtol": rtol, "atol": atol}


REFERENCE = CellReference(
    records=[record("f/values", [1.0, 2.0]), record("f/hidden", 0.5, rtol=0.0, atol=1e-3)],
    hidden_keys=["f/hidden"],
)


def run(status=rn.OK, records=(), outputs=()):
    return rn.CellRun(index=3, status=status, records=list(records), outputs=list(outputs))


def test_all_checks_matching_earns_the_points():
    result = score_test_cell(
        "t",
        4.0,
        run(records=[record("f/values", [1.0, 2.0 + 1e-12]), record("f/hidden", 0.5004)]),
        REFERENCE,
    )
    assert result.points == 4.0 and result.messages == []


def test_tolerances_come_from_the_reference_not_the_submission():
    # The submission claims a huge tolerance; the reference said atol=1e-3.
    answers = [record("f/values", [1.0, 2.0]), record("f/hidden", 0.6, rtol=1.0, atol=1.0)]
    assert score_test_cell("t", 4.0, run(records=answers), REFERENCE).points == 0.0


def test_one_wrong_check_costs_the_whole_cell_and_says_why():
    result = score_test_cell(
        "t", 4.0, run(records=[record("f/values", [1.0, 2.5]), record("f/hidden", 0.5)]), REFERENCE
    )
    assert result.points == 0.0
    assert result.messages == [
        "check 'f/values': expected 2.0 at index (1,), got 2.5 (1 of 2 entries differ)"
    ]
    assert result.student_messages == result.messages  # a visible check may be explained


def test_hidden_check_details_stay_with_the_instructor():
    result = score_test_cell(
        "t", 4.0, run(records=[record("f/values", [1.0, 2.0]), record("f/hidden", 0.9)]), REFERENCE
    )
    assert "f/hidden" in result.messages[0] and "0.9" in result.messages[0]
    assert result.student_messages == ["a hidden check did not match the reference answer"]


def test_a_missing_or_repeated_check_scores_zero():
    missing = score_test_cell("t", 4.0, run(records=[record("f/values", [1.0, 2.0])]), REFERENCE)
    assert missing.points == 0.0 and missing.messages == ["check 'f/hidden' was not recorded"]
    twice = [record("f/values", [1.0, 2.0])] * 2 + [record("f/hidden", 0.5)]
    assert score_test_cell("t", 4.0, run(records=twice), REFERENCE).points == 0.0


def test_answers_for_unknown_keys_are_ignored():
    answers = [record("f/values", [1.0, 2.0]), record("f/hidden", 0.5), record("made/up", 1.0)]
    assert score_test_cell("t", 4.0, run(records=answers), REFERENCE).points == 4.0


def test_stderr_and_printed_numbers_do_not_matter():
    outputs = [
        {"output_type": "stream", "name": "stderr", "text": "RuntimeWarning: overflow\n"},
        {
            "output_type": "execute_result",
            "data": {"text/plain": "0.25"},
            "metadata": {},
            "execution_count": 3,
        },
    ]
    answers = [record("f/values", [1.0, 2.0]), record("f/hidden", 0.5)]
    assert score_test_cell("t", 4.0, run(records=answers, outputs=outputs), REFERENCE).points == 4.0


@pytest.mark.parametrize(
    "status, outputs, message",
    [
        (
            rn.ERROR,
            [
                {
                    "output_type": "error",
                    "ename": "NameError",
                    "evalue": "name 'f' is not defined",
                    "traceback": [],
                }
            ],
            "the cell raised NameError: name 'f' is not defined",
        ),
        (
            rn.TIMEOUT,
            [
                {
                    "output_type": "error",
                    "ename": "CellTimeoutError",
                    "evalue": "the cell did not finish within 10 s",
                    "traceback": [],
                }
            ],
            "CellTimeoutError: the cell did not finish within 10 s",
        ),
        (
            rn.KERNEL_DIED,
            [],
            "the kernel died while this cell ran (it may have used too much memory)",
        ),
        (rn.NOT_RUN, [], "the cell was not run (the kernel was stopped)"),
    ],
)
def test_a_cell_that_did_not_run_cleanly_scores_zero_even_with_right_answers(
    status, outputs, message
):
    answers = [record("f/values", [1.0, 2.0]), record("f/hidden", 0.5)]
    result = score_test_cell(
        "t", 4.0, run(status, answers, outputs), REFERENCE, stopped="the kernel was stopped"
    )
    assert result.points == 0.0 and result.messages == [message]


def test_blocked_task_scores_zero_with_the_reason():
    answers = [record("f/values", [1.0, 2.0]), record("f/hidden", 0.5)]
    result = score_test_cell(
        "t", 4.0, run(records=answers), REFERENCE, blocked="no credit: uses coursekit.losses"
    )
    assert result.points == 0.0 and result.messages == ["no credit: uses coursekit.losses"]


def test_a_cell_without_checks_scores_on_running_cleanly():
    empty = CellReference(records=[])
    assert score_test_cell("t", 2.0, run(), empty).points == 2.0
    assert score_test_cell("t", 2.0, run(rn.ERROR), empty).points == 0.0


def test_malformed_recorded_answer_is_wrong_not_a_crash():
    bad = {"key": "f/values", "answer": {"kind": "array", "shape": [2], "values": ["x", "y"]}}
    result = score_test_cell("t", 4.0, run(records=[bad, record("f/hidden", 0.5)]), REFERENCE)
    assert result.points == 0.0 and "could not be read" in result.messages[0]


def test_nan_matches_only_nan_in_the_reference():
    ref = CellReference(records=[record("k", [np.nan, 1.0])])
    assert score_test_cell("t", 1.0, run(records=[record("k", [np.nan, 1.0])]), ref).points == 1.0
    assert score_test_cell("t", 1.0, run(records=[record("k", [0.0, 1.0])]), ref).points == 0.0


@pytest.mark.parametrize(
    "line, key",
    [
        ('{"key": "a", "answer": {"kind": "bool", "value": true}, "rtol": 0, "atol": 0}', "a"),
        ('garbage{"key": "b", "answer": {"kind": "bool", "value": true}}', "b"),
        ("not json at all", None),
        ('{"key": 3, "answer": {}}', None),
        ("[1, 2, 3]", None),
    ],
)
def test_record_lines_survive_junk_written_by_the_notebook(line, key):
    parsed = _parse_record(line)
    assert (parsed["key"] if parsed else None) == key
