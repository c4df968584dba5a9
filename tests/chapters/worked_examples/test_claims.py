"""The notes' values beside recomputed ones: a claim agrees to the digits it was written with."""

import numpy as np
import pytest

from coursekit.chapters.worked_examples.claims import Comparison, compare_claims
from coursekit.chapters.worked_examples.examples import RELU_231
from coursekit.chapters.worked_examples.step import sgd_step


def test_compare_claims_uses_the_written_precision():
    step = sgd_step(RELU_231)
    rows = compare_claims(
        [
            ("loss", "0.53045", step.loss),
            ("loss, 2 decimals", "0.53", step.loss),
            ("rounded the wrong way", "0.54", step.loss),
        ]
    )
    assert [r.matches for r in rows] == [True, True, False]
    assert [r.decimals for r in rows] == [5, 2, 2]
    assert rows[0].computed == step.loss
    with pytest.raises(ValueError, match="decimal number"):
        compare_claims([("bad", "0,53", step.loss)])


def test_claims_read_the_step_by_plain_indexing():
    step = sgd_step(RELU_231)
    # The notes' gradient of W2[0,1] is right, their updated W1[1,0] lost its minus sign.
    gradient, update = compare_claims(
        [
            (r"$\partial L/\partial w^2_{01}$", "-1.133", step.gradients["W2"][0, 1]),
            ("new $w^1_{10}$", "0.2073", step.updated["W1"][1, 0]),
        ]
    )
    assert gradient.matches and gradient.computed == step.gradients["W2"][0, 1]
    assert not update.matches and Comparison("sign", "-0.2073", update.computed).matches


def test_a_value_exactly_halfway_agrees_with_either_rounding():
    # 1.3 - 1.25 is 0.050000000000000044 in binary floating point, a hair above half a unit.
    assert Comparison("up", "1.3", 1.25).matches
    assert Comparison("down", "1.2", 1.25).matches
    assert not Comparison("beyond", "1.3", 1.2499).matches


def test_integers_and_surrounding_spaces_are_read_as_written():
    claim = Comparison("gradient", " 42 ", 42.4)
    assert claim.claimed == "42" and claim.decimals == 0 and claim.matches
    assert not Comparison("doubled", "42", 21.0).matches


def test_bad_claims_are_rejected_with_the_reason():
    with pytest.raises(ValueError, match=r"'1e-3' for 'small' is not a decimal number"):
        Comparison("small", "1e-3", 0.001)
    with pytest.raises(TypeError, match="index the array"):
        Comparison("output", "0.47", np.array([0.47]))
