"""Answer checks: compare in working mode, only record in grading mode."""

import json

import numpy as np
import pytest

from coursekit.checks import RECORD_ENV, check, check_raises, compare, decode_answer, encode_answer


class TestCompare:
    def test_close_numbers_pass_and_far_ones_fail_with_the_index(self):
        assert compare([1.0, 2.0], [1.0, 2.0 + 1e-12])[0]
        ok, message = compare([[1.0, 2.0]], [[1.0, 2.5]])
        assert not ok and "(0, 1)" in message and "2.5" in message

    def test_shapes_must_match_exactly(self):
        ok, message = compare(np.ones((3, 1)), np.ones(3))
        assert not ok and "(3,)" in message and "(3, 1)" in message

    def test_nan_only_matches_nan_and_inf_only_the_same_inf(self):
        assert compare(np.nan, np.nan)[0]
        assert not compare(np.nan, 1.0)[0]
        assert not compare(1.0, np.nan)[0]
        assert compare(np.inf, np.inf)[0]
        assert not compare(-np.inf, np.inf)[0]

    def test_booleans_are_not_numbers(self):
        assert compare(True, True)[0]
        assert not compare(True, 1.0)[0]

    def test_encoding_round_trips_every_digit(self):
        x = np.array([[0.1, 1 / 3], [np.nan, -np.inf]])
        back = decode_answer(json.loads(json.dumps(encode_answer(x))))
        np.testing.assert_array_equal(back, x)

    def test_unencodable_answer_is_a_type_error(self):
        with pytest.raises(TypeError, match="dict"):
            encode_answer({"a": 1})


class TestWorkingMode:
    def test_wrong_answer_raises_with_the_key(self, monkeypatch):
        monkeypatch.delenv(RECORD_ENV, raising=False)
        check("ok", 0.5, 0.5)
        with pytest.raises(AssertionError, match="'sigmoid/zero'"):
            check("sigmoid/zero", 0.4, 0.5)

    def test_check_raises(self, monkeypatch):
        monkeypatch.delenv(RECORD_ENV, raising=False)
        check_raises("bad", lambda: int("x"), ValueError)
        with pytest.raises(AssertionError, match="nothing was raised"):
            check_raises("none", lambda: 1, ValueError)
        with pytest.raises(AssertionError, match="got KeyError"):
            check_raises("wrong", lambda: {}["k"], ValueError)


class TestGradingMode:
    def test_answers_are_recorded_not_compared(self, monkeypatch, tmp_path):
        record = tmp_path / "answers.jsonl"
        monkeypatch.setenv(RECORD_ENV, str(record))
        check("wrong", 0.4, 0.5, rtol=1e-3)  # no AssertionError inside the kernel
        check_raises("raised", lambda: int("x"), ValueError)
        check_raises("not-raised", lambda: 1, ValueError)
        lines = [json.loads(line) for line in record.read_text().splitlines()]
        assert [entry["key"] for entry in lines] == ["wrong", "raised", "not-raised"]
        assert decode_answer(lines[0]["answer"]) == 0.4 and lines[0]["rtol"] == 1e-3
        assert decode_answer(lines[1]["answer"]) is True
        assert decode_answer(lines[2]["answer"]) is False
