r"""The lecture notes' values for a worked example next to the recomputed ones.

A claim is a quantity, the value the notes wrote for it and the value recomputed here, read from
a :class:`~coursekit.chapters.worked_examples.step.StepResult` by plain indexing::

    step = sgd_step(RELU_231)
    compare_claims([
        (r"$\partial L/\partial w^2_{01}$", "-1.133", step.gradients["W2"][0, 1]),
        ("new $w^1_{10}$", "0.2073", step.updated["W1"][1, 0]),
    ])

The notes' value stays a string, so the number of decimals they wrote is known: a claim agrees
when it is the recomputed value rounded to those decimals (:attr:`Comparison.matches`).
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass
from typing import Iterable

_DECIMAL = re.compile(r"-?\d+(\.\d+)?")


@dataclass(frozen=True)
class Comparison:
    """A value claimed by the notes next to the recomputed one.

    Attributes:
        label: what the value is (free text, may contain MyST math).
        claimed: the notes' value as written, e.g. ``"-1.133"`` (decimal point, no exponent).
        computed: the recomputed value.

    Raises:
        ValueError: if ``claimed`` is not a plain decimal number.
        TypeError: if ``computed`` is not a single real number (an array must be indexed first).
    """

    label: str
    claimed: str
    computed: float

    def __post_init__(self) -> None:
        text = self.claimed.strip()
        if not _DECIMAL.fullmatch(text):
            raise ValueError(
                f"claimed value {self.claimed!r} for {self.label!r} is not a decimal number"
            )
        if not isinstance(self.computed, numbers.Real):
            raise TypeError(
                f"the recomputed value for {self.label!r} must be one number, got "
                f"{type(self.computed).__name__}; index the array, e.g. step.forward['yhat'][0]"
            )
        object.__setattr__(self, "claimed", text)
        object.__setattr__(self, "computed", float(self.computed))

    @property
    def decimals(self) -> int:
        """How many digits the notes wrote after the decimal point."""
        return len(self.claimed.split(".")[1]) if "." in self.claimed else 0

    @property
    def matches(self) -> bool:
        r"""Whether the claim is the computed value rounded to the decimals written.

        A claim with :math:`d` decimals agrees when :math:`|c - v| \le 0.5 \cdot 10^{-d}`, half a
        unit of its last digit, so writing a value to fewer digits is not counted as a mistake.
        The bound is widened by a relative :math:`10^{-9}` (and :math:`10^{-12}` absolute) so
        that a value exactly halfway still agrees: 1.25 claimed as "1.3" differs by
        0.050000000000000044 in binary floating point.
        """
        half_unit = 0.5 * 10.0**-self.decimals
        return abs(float(self.claimed) - self.computed) <= half_unit * (1 + 1e-9) + 1e-12


def compare_claims(claims: Iterable[tuple[str, str, float]]) -> list[Comparison]:
    """A :class:`Comparison` for every ``(label, claimed, computed)`` triple, in order.

    Raises:
        ValueError: if a claimed value is not a plain decimal number.
        TypeError: if a computed value is not a single real number.
    """
    return [Comparison(label, claimed, computed) for label, claimed, computed in claims]
