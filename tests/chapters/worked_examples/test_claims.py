"""The notes' values beside recomputed ones: a claim agrees to the digits it was written with."""

import pytest

from coursekit.chapters.worked_examples.claims import compare_claims
from coursekit.chapters.worked_examples.examples import RELU_231
from coursekit.chapters.worked_examples.step import sgd_step


def test_compare_claims_uses_the_written_precision():
    step = sgd_step(RELU_231)
    rows = compare_claims(
        step,
        [
            ("loss", "loss", "0.53045"),
            ("loss, 2 decimals", "loss", "0.53"),
            ("rounded the wrong way", "loss", "0.54"),
        ],
    )
    assert [r.matches for r in rows] == [True, True, False]
    assert rows[0].computed == step.loss
    with pytest.raises(ValueError, match="decimal number"):
        compare_claims(step, [("bad", "loss", "0,53")])
