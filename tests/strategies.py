"""Hypothesis strategies the test files share.

Numbers are finite and of moderate size, so that a property test fails only for a wrong answer,
not for an overflow or a rounding floor; :func:`programs` builds random straight-line programs for
the scalar engine whose every intermediate value stays within :data:`PROGRAM_BOUND`.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

PROGRAM_OPS = ("+", "*", "tanh", "sigmoid", "exp")
PROGRAM_BOUND = 100.0
"""No value computed by a generated program exceeds this in magnitude (exp(4.6) is about 100)."""


def reals(bound: float) -> st.SearchStrategy[float]:
    """Floats in [-bound, bound]: no NaN, no infinity, no subnormals (their differences vanish)."""
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def float_arrays(shape, bound: float) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` (a tuple or a strategy for one), entries from :func:`reals`."""
    return arrays(np.float64, shape, elements=reals(bound))


def batch_shapes(rows: tuple[int, int] = (1, 6), columns: tuple[int, int] = (2, 5)):
    """Shapes ``(n, k)`` of a batch: n rows (samples) and k columns, each in its inclusive range."""
    return st.tuples(st.integers(*rows), st.integers(*columns))


def logits(shape=None, bound: float = 50.0) -> st.SearchStrategy[np.ndarray]:
    """Batches of scores for a softmax: ``(n, k)`` arrays, 1-5 rows of 2-6 classes by default."""
    return float_arrays(batch_shapes((1, 5), (2, 6)) if shape is None else shape, bound)


def _evaluate(op: str, a: float, b: float) -> float:
    """What program step ``op`` computes from registers a and b, on plain floats."""
    if op == "+":
        return a + b
    if op == "*":
        return a * b
    if op == "exp":
        return math.exp(a) if a < math.log(PROGRAM_BOUND) else math.inf
    if op == "tanh":
        return math.tanh(a)
    return 1.0 / (1.0 + math.exp(-a))  # sigmoid; a >= -PROGRAM_BOUND keeps exp finite


@st.composite
def programs(draw, max_inputs: int = 3, max_steps: int = 6):
    """Inputs in [-3, 3] and a straight-line program over them, as ``(xs, steps)``.

    Each step ``(op, i, j)`` appends ``op`` applied to registers i and j (unary ops read i only);
    later steps may reuse any earlier register, so fan-out (x * x) and diamonds come up often. A
    step whose result would leave [-PROGRAM_BOUND, PROGRAM_BOUND] (``exp(x*x*x*x)``) becomes a
    tanh of the same register, so the engine never overflows while the program is being run.
    """
    n = draw(st.integers(1, max_inputs))
    xs = draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n))
    registers = list(xs)
    steps = []
    for k in range(draw(st.integers(1, max_steps))):
        op = draw(st.sampled_from(PROGRAM_OPS))
        i, j = draw(st.integers(0, n + k - 1)), draw(st.integers(0, n + k - 1))
        result = _evaluate(op, registers[i], registers[j])
        if not abs(result) <= PROGRAM_BOUND:
            op, result = "tanh", math.tanh(registers[i])
        steps.append((op, i, j))
        registers.append(result)
    return xs, steps


def run(steps, *inputs):
    """Run a program from :func:`programs` on ``inputs`` (Values or numbers); the last register."""
    registers = list(inputs)
    for op, i, j in steps:
        a, b = registers[i], registers[j]
        if op == "+":
            registers.append(a + b)
        elif op == "*":
            registers.append(a * b)
        else:
            registers.append(getattr(a, op)())
    return registers[-1]
