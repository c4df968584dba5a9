r"""A scalar value that remembers how it was computed, and differentiates itself.

Each operation on a :class:`Value` returns a new ``Value`` holding its inputs (``parents``), the
operation (``op``) and, worked out right beside the output, the local derivative of the output
with respect to each input (``local_grads``). :meth:`Value.backward` applies the chain rule at
each node o, from the output L back, for each parent p (a value used twice gets a term per use):

.. math:: \frac{\partial L}{\partial p} \mathrel{+}= \frac{\partial o}{\partial p}
   \cdot \frac{\partial L}{\partial o}

A plain number in an operation (``2 * x``) becomes a leaf Value, so a drawing shows it.
"""

from __future__ import annotations

import math
from typing import NoReturn

import numpy as np

from coursekit.validation import as_real_number, is_real_number


def _lift(other: object, symbol: str) -> Value:
    """A Value as it is, a plain number as a new constant leaf (so ``x + 1`` and ``1 + x`` work)."""
    if isinstance(other, Value):
        return other
    try:
        return Value(other)  # type: ignore[arg-type]  # Value checks the type
    except TypeError:
        shape = f" of shape {other.shape}" if isinstance(other, np.ndarray) else ""
        raise TypeError(
            f"cannot use {symbol} with a Value and a {type(other).__name__}{shape}: the other "
            "operand must be a Value or a plain number"
        ) from None


def _node(data: float, op: str, parents: tuple[Value, ...], local: tuple[float, ...]) -> Value:
    out = Value(data)  # one operation's output, its inputs and d(output)/d(input) for each
    out.op, out.parents, out.local_grads = op, parents, local
    return out


class Value:
    r"""A scalar in a computation graph: its ``data`` and, after ``L.backward()``, its ``grad``.

    Args:
        data: one real number (int, float, NumPy scalar, single-entry array), else TypeError.
        label: an optional name, shown in drawings and in ``repr``.

    Attributes:
        data: the number computed in the forward pass.
        grad: :math:`\partial L/\partial\,\text{self}` after ``L.backward()``; 0.0 before.
        label: a name for drawings and messages (``""`` if none).
        op: the operation that produced this value (``""`` for a leaf: an input or a constant).
        parents: the inputs of that operation, in argument order.
        local_grads: :math:`\partial\,\text{self}/\partial\,\text{parent}` for each parent.
    """

    __slots__ = ("data", "grad", "label", "local_grads", "op", "parents")
    # so that NumPy hands ``array * Value`` to Value (which refuses it): no object array of Values
    __array_ufunc__ = None

    def __init__(self, data: float, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}")
        self.data, self.grad, self.label, self.op = as_real_number(data, "Value"), 0.0, label, ""
        self.parents: tuple[Value, ...] = ()
        self.local_grads: tuple[float, ...] = ()

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # ---- each operation: the forward value and, beside it, the local derivatives -------------
    def __add__(self, other: Value | float) -> Value:
        """c = a + b; dc/da = dc/db = 1: the add gate hands dL/dc to both inputs."""
        other = _lift(other, "+")
        return _node(self.data + other.data, "+", (self, other), (1.0, 1.0))

    def __sub__(self, other: Value | float) -> Value:
        """c = a - b; dc/da = 1, dc/db = -1."""
        other = _lift(other, "-")
        return _node(self.data - other.data, "-", (self, other), (1.0, -1.0))

    def __mul__(self, other: Value | float) -> Value:
        """c = a * b; dc/da = b, dc/db = a: the multiply gate swaps its inputs."""
        other = _lift(other, "*")
        return _node(self.data * other.data, "*", (self, other), (other.data, self.data))

    def __truediv__(self, other: Value | float) -> Value:
        """c = a / b; dc/da = 1/b, dc/db = -a/b**2. Raises ZeroDivisionError if b is 0."""
        other = _lift(other, "/")
        a, b = self.data, other.data
        if b == 0:
            raise ZeroDivisionError(f"division by zero: {self!r} / {other!r}")
        return _node(a / b, "/", (self, other), (1.0 / b, -a / (b * b)))

    def __neg__(self) -> Value:
        """c = -a; dc/da = -1."""
        return _node(-self.data, "neg", (self,), (-1.0,))

    def __pow__(self, n: float) -> Value:
        """c = a**n for a plain number n; dc/da = n * a**(n-1), the power rule. Op ``"**n"``.

        Raises TypeError if n is a Value or not a number, ZeroDivisionError for 0 to a negative
        power and ValueError for a negative base with a fractional exponent (not a real number)."""
        if not is_real_number(n):
            must = (
                "a plain number, not a Value (the power rule treats n as a constant); for a Value "
                "exponent write (n * a.log()).exp()"
                if isinstance(n, Value)
                else f"an int or float, got {type(n).__name__}"
            )
            raise TypeError(f"the exponent in a ** n must be {must}")
        a = self.data
        if a == 0 and n < 0:
            raise ZeroDivisionError(f"0 ** {n} is undefined (division by zero): {self!r}")
        if a < 0 and not float(n).is_integer():
            raise ValueError(
                f"({a}) ** {n} is not a real number (negative base, fractional power): {self!r}"
            )
        if n == 0:
            slope = 0.0  # a**0 = 1 does not depend on a
        elif a == 0 and n < 1:
            slope = math.inf  # vertical tangent (sqrt at 0): infinite, and visibly so
        else:
            slope = n * a ** (n - 1)
        return _node(a**n, f"**{n:g}", (self,), (slope,))

    def __rpow__(self, base: object) -> NoReturn:
        raise TypeError(
            "a Value can be raised to a number but not used as an exponent; for c ** x write "
            "(x * math.log(c)).exp()"
        )

    # 2 * x calls x.__rmul__(2): the number stays the first operand, as the graph was written
    def __radd__(self, other: Value | float) -> Value:
        return _lift(other, "+") + self

    def __rsub__(self, other: Value | float) -> Value:
        return _lift(other, "-") - self

    def __rmul__(self, other: Value | float) -> Value:
        return _lift(other, "*") * self

    def __rtruediv__(self, other: Value | float) -> Value:
        return _lift(other, "/") / self

    def relu(self) -> Value:
        """c = max(0, a); dc/da = 1 if a > 0 else 0 (0 at the kink): on passes, off blocks."""
        on = self.data > 0
        return _node(self.data if on else 0.0, "relu", (self,), (1.0 if on else 0.0,))

    def sigmoid(self) -> Value:
        """c = 1 / (1 + exp(-a)); dc/da = c (1 - c). Written as exp(a) / (1 + exp(a)) for a < 0,
        so exp never overflows (a = -1e4 is fine) and sigmoid(-40) keeps its relative accuracy."""
        e = math.exp(-abs(self.data))
        s = 1.0 / (1.0 + e) if self.data >= 0 else e / (1.0 + e)
        return _node(s, "sigmoid", (self,), (s * (1.0 - s),))

    def tanh(self) -> Value:
        """c = tanh(a); dc/da = 1 - c**2."""
        t = math.tanh(self.data)
        return _node(t, "tanh", (self,), (1.0 - t * t,))

    def exp(self) -> Value:
        """c = exp(a); dc/da = exp(a) = c. Raises OverflowError above a = 709.78."""
        try:
            e = math.exp(self.data)
        except OverflowError:
            raise OverflowError(
                f"exp({self.data}) is larger than the largest float (about 1.8e308): {self!r}"
            ) from None
        return _node(e, "exp", (self,), (e,))

    def log(self) -> Value:
        """c = ln(a); dc/da = 1/a. Raises ValueError if a <= 0."""
        if self.data <= 0:
            raise ValueError(f"log needs a positive number, got log({self.data}) for {self!r}")
        return _node(math.log(self.data), "log", (self,), (1.0 / self.data,))

    def maximum(self, other: Value | float) -> Value:
        """c = max(a, b); the max gate routes dL/dc to the larger input. See :func:`maximum`."""
        other = _lift(other, "maximum")
        first = self.data >= other.data  # a tie goes to the first argument
        winner, local = (self.data, (1.0, 0.0)) if first else (other.data, (0.0, 1.0))
        return _node(winner, "max", (self, other), local)

    def minimum(self, other: Value | float) -> Value:
        """c = min(a, b); the min gate routes dL/dc to the smaller input. See :func:`minimum`."""
        other = _lift(other, "minimum")
        first = self.data <= other.data  # a tie goes to the first argument
        winner, local = (self.data, (1.0, 0.0)) if first else (other.data, (0.0, 1.0))
        return _node(winner, "min", (self, other), local)

    # ---- the backward pass ------------------------------------------------------------------
    def local_backward(self) -> None:
        """The chain rule at this node: dL/dparent += dself/dparent * dL/dself for each parent.

        ``backward()`` is: zero every grad, set ``L.grad = 1``, then call this on each node of
        ``reversed(topological_order(L))``; stop part-way to watch the gradients arrive."""
        for parent, local in zip(self.parents, self.local_grads):
            parent.grad += local * self.grad

    def backward(self) -> None:
        """Set ``grad`` = dL/dv for this value L and every v it depends on (zeroing them first).

        Seeds dL/dL = 1, then applies the chain rule at each node in reverse topological order: a
        node passes its gradient on only after every node that uses it has added its share."""
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node.local_backward()


def maximum(a: Value | float, b: Value | float) -> Value:
    """c = max(a, b) as a graph node; dc/da = 1, dc/db = 0 when a wins, and the other way round.

    A tie has no derivative: it goes to the *first* argument, as Python's ``max`` returns it. So
    ``maximum(x, 0)`` at x = 0 gives x the gradient 1; ``x.relu()`` and ``maximum(0, x)`` give 0."""
    return _lift(a, "maximum").maximum(b)


def minimum(a: Value | float, b: Value | float) -> Value:
    """c = min(a, b) as a graph node; a tie goes to the first argument, as in :func:`maximum`."""
    return _lift(a, "minimum").minimum(b)


def topological_order(root: Value) -> list[Value]:
    """``root`` and all it depends on, each once and after its inputs (backward walks it reversed).

    An explicit stack instead of recursion, so that a chain of 100 000 nodes is fine."""
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value, got {type(root).__name__}")
    order: list[Value] = []
    seen: set[Value] = set()  # Values hash by identity
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, inputs_listed = stack.pop()
        if inputs_listed:  # second visit: all of its inputs are in the list
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            # reversed, so that the first argument is popped, and listed, first
            stack.extend((p, False) for p in reversed(node.parents) if p not in seen)
    return order
