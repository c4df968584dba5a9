r"""The lecture notes' values for a worked example next to the recomputed ones.

:func:`compare_claims` takes ``(label, key, claimed)`` triples, where ``key`` names a value of a
:class:`~coursekit.chapters.worked_examples.step.StepResult` (see its ``lookup``) and ``claimed``
is the value as the notes wrote it, and says which claims agree to the precision written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from coursekit.chapters.worked_examples.step import StepResult


@dataclass(frozen=True)
class Comparison:
    """A value claimed by the notes next to the recomputed one.

    Attributes:
        label: what the value is (free text, may contain MyST math).
        key: the :meth:`StepResult.lookup` key of the recomputed value.
        claimed: the notes' value as written (a string, so its number of decimals is known).
        computed: the recomputed value.
        matches: whether they agree to the precision the notes wrote (half a unit in the last
        digit).
    """

    label: str
    key: str
    claimed: str
    computed: float
    matches: bool


def compare_claims(step: StepResult, claims: Sequence[tuple[str, str, str]]) -> list[Comparison]:
    r"""Compare ``(label, key, claimed)`` triples with the values of ``step``.

    A claim written with ``d`` decimals matches when it is the computed value rounded to ``d``
    decimals, that is within half a unit of the last written digit (:math:`0.5 \cdot 10^{-d}`),
    so writing a value to fewer digits is not counted as a mistake.

    Raises:
        ValueError: if a claimed value is not a plain decimal number.
    """
    out = []
    for label, key, claimed in claims:
        text = claimed.strip()
        if not re.fullmatch(r"-?\d+(\.\d+)?", text):
            raise ValueError(f"claimed value {claimed!r} for {label!r} is not a decimal number")
        decimals = len(text.split(".")[1]) if "." in text else 0
        computed = step.lookup(key)
        matches = abs(float(text) - computed) <= 0.5 * 10.0**-decimals * (1 + 1e-9) + 1e-12
        out.append(Comparison(label, key, text, computed, matches))
    return out
