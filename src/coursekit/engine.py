"""A scalar computation graph that differentiates itself (reverse-mode autodiff).

Every arithmetic operation on a :class:`Value` returns a new ``Value`` that remembers

* ``parents``: the input Values it was computed from,
* ``op``: the name of the operation (``"+"``, ``"*"``, ``"tanh"``, ...), and
* ``local_grads``: the local derivative :math:`\\partial\\,\\text{out}/\\partial\\,\\text{parent}`
  for each parent, worked out in the forward pass right next to the output value.

That is the whole graph. :meth:`Value.backward` then applies the chain rule once per node, from
the output back to the inputs:

.. math:: \\frac{\\partial L}{\\partial\\,\\text{parent}} \\mathrel{+}=
   \\frac{\\partial\\,\\text{out}}{\\partial\\,\\text{parent}}
   \\cdot \\frac{\\partial L}{\\partial\\,\\text{out}}

The ``+=`` matters: a value used in several places (``x * x``, or a diamond a -> b, c -> d)
receives one contribution along each path, and the total is the sum.

Conventions (each chosen so that what students compute by hand matches):

* ``backward()`` first sets every ``grad`` in the graph to 0, so calling it twice gives the same
  gradients (it does not accumulate across calls as PyTorch does).
* At a kink the derivative does not exist; ``relu`` uses 0 at 0 (like
  :func:`coursekit.activations.relu_grad`) and ``max``/``min`` route a tie to their *first*
  argument (see :func:`maximum`).
* A plain number combined with a Value (``2 * x``, ``x - 1.5``) becomes a leaf Value of its own,
  so a drawn graph shows every constant that went in.

:func:`topological_order` and :func:`backward_steps` expose the backward pass one node at a
time for the slider apps; :mod:`coursekit.display.graph_drawing` draws a graph.
"""

from __future__ import annotations

import math
import numbers
from typing import Iterable, Iterator, NoReturn, Union

import numpy as np

__all__ = [
    "Value",
    "maximum",
    "minimum",
    "topological_order",
    "backward_steps",
    "zero_grad",
]

Number = Union[int, float]
Operand = Union["Value", int, float]


def _to_float(data: object) -> float:
    """``data`` as a Python float, or a TypeError naming what was passed instead."""
    if isinstance(data, float):  # the common case first (np.float64 is a float too)
        return float(data)
    # bool is a subclass of int, but Value(True) is almost certainly a slip, not the number 1.
    if isinstance(data, (bool, np.bool_)):
        raise TypeError(f"Value needs a real number, got {type(data).__name__} {data!r}")
    if isinstance(data, numbers.Real):  # int, float and the NumPy integer and float scalars
        return float(data)
    if isinstance(data, np.ndarray):
        if data.size == 1 and data.dtype.kind in "iuf":
            return float(data.reshape(()))
        raise TypeError(
            f"Value holds a single number, got a numpy.ndarray of shape {data.shape} and dtype "
            f"{data.dtype}; make one Value per entry"
        )
    raise TypeError(f"Value needs a real number (int or float), got {type(data).__name__}")


def _lift(other: object, symbol: str) -> Value:
    """Wrap a plain number as a constant leaf so that ``x + 1`` and ``1 + x`` both work."""
    if isinstance(other, Value):
        return other
    try:
        return Value(other)  # type: ignore[arg-type]
    except TypeError:
        shape = f" of shape {other.shape}" if isinstance(other, np.ndarray) else ""
        raise TypeError(
            f"cannot use {symbol} with a Value and a {type(other).__name__}{shape}: the other "
            "operand must be a Value or a plain number"
        ) from None


def _node(
    data: float, op: str, parents: tuple[Value, ...], local_grads: tuple[float, ...]
) -> Value:
    """The output of one operation: its value, its inputs, and d(output)/d(input) for each."""
    out = Value(data)
    out.op, out.parents, out.local_grads = op, parents, local_grads
    return out


class Value:
    """A scalar in a computation graph: its ``data``, and after ``backward()`` its ``grad``.

    Each operation below computes its output and, on the same line, the local derivative of the
    output with respect to each input. In the docstrings ``c`` is the output, ``a`` and ``b`` the
    inputs and ``L`` the value ``backward()`` was called on.

    Values compare by identity (``==`` is ``is``): a graph is made of particular nodes, and two
    nodes holding equal numbers are still different nodes.

    Args:
        data: a real number: int, float, a NumPy scalar or a single-entry array.
        label: an optional name, shown by :func:`draw` and in ``repr``.

    Raises:
        TypeError: if ``data`` is not a single real number (a str, None, bool, a longer array).

    Attributes:
        data: the number computed in the forward pass.
        grad: :math:`\\partial L/\\partial\\,\\text{self}` after ``L.backward()``; 0.0 before.
        label: a name for drawings and messages (``""`` if none).
        op: the operation that produced this value (``""`` for a leaf: an input or a constant).
        parents: the input Values of that operation, in argument order.
        local_grads: :math:`\\partial\\,\\text{self}/\\partial\\,\\text{parent}` for each parent,
            evaluated at the forward-pass values.
    """

    __slots__ = ("data", "grad", "label", "op", "parents", "local_grads")
    # NumPy would otherwise turn ``array + Value`` into an object array of Values; opting out makes
    # NumPy hand the operation to Value, which refuses arrays with a clear message.
    __array_ufunc__ = None

    def __init__(self, data: float, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}")
        self.data: float = _to_float(data)
        self.grad: float = 0.0
        self.label: str = label
        self.op: str = ""
        self.parents: tuple[Value, ...] = ()
        self.local_grads: tuple[float, ...] = ()

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # ---- the operations: forward value and local derivatives, side by side --------------------

    def __add__(self, other: Operand) -> Value:
        """c = a + b.  Local rule dc/da = dc/db = 1: the add gate hands dL/dc to both inputs.

        dL/da += dL/dc,  dL/db += dL/dc.
        """
        other = _lift(other, "+")
        return _node(self.data + other.data, "+", (self, other), (1.0, 1.0))

    def __sub__(self, other: Operand) -> Value:
        """c = a - b.  Local rule dc/da = 1, dc/db = -1.

        dL/da += dL/dc,  dL/db += -dL/dc.
        """
        other = _lift(other, "-")
        return _node(self.data - other.data, "-", (self, other), (1.0, -1.0))

    def __mul__(self, other: Operand) -> Value:
        """c = a * b.  Local rule dc/da = b, dc/db = a: the multiply gate swaps its inputs.

        dL/da += b * dL/dc,  dL/db += a * dL/dc.
        """
        other = _lift(other, "*")
        return _node(self.data * other.data, "*", (self, other), (other.data, self.data))

    def __truediv__(self, other: Operand) -> Value:
        """c = a / b.  Local rule dc/da = 1/b, dc/db = -a/b**2.

        dL/da += dL/dc / b,  dL/db += -a/b**2 * dL/dc.

        Raises:
            ZeroDivisionError: if b is 0, naming both operands.
        """
        other = _lift(other, "/")
        a, b = self.data, other.data
        if b == 0:
            raise ZeroDivisionError(f"division by zero: {self!r} / {other!r}")
        return _node(a / b, "/", (self, other), (1.0 / b, -a / (b * b)))

    def __neg__(self) -> Value:
        """c = -a.  Local rule dc/da = -1, so dL/da += -dL/dc."""
        return _node(-self.data, "neg", (self,), (-1.0,))

    def __pow__(self, exponent: Number) -> Value:
        """c = a**n for a plain number n.  Local rule dc/da = n * a**(n-1) (the power rule).

        dL/da += n * a**(n-1) * dL/dc.  The op is named after the exponent (``"**2"``) so a
        drawing shows which power was taken.

        Raises:
            TypeError: if n is a Value or not a real number (see the message for a**b).
            ZeroDivisionError: for 0 raised to a negative power.
            ValueError: for a negative base with a non-integer exponent (not a real number).
        """
        if isinstance(exponent, Value):
            raise TypeError(
                "the exponent in a ** n must be a plain number, not a Value (the power rule treats "
                "n as a constant); for a Value exponent write (n * a.log()).exp()"
            )
        if isinstance(exponent, (bool, np.bool_)) or not isinstance(exponent, numbers.Real):
            raise TypeError(
                f"the exponent in a ** n must be an int or float, got {type(exponent).__name__}"
            )
        a, n = self.data, exponent
        if a == 0 and n < 0:
            raise ZeroDivisionError(f"0 ** {n} is undefined (division by zero): {self!r}")
        if a < 0 and not float(n).is_integer():
            raise ValueError(
                f"({a}) ** {n} is not a real number (negative base, fractional power): {self!r}"
            )
        if n == 0:
            slope = 0.0  # a**0 = 1 does not depend on a
        elif a == 0 and n < 1:
            slope = math.inf  # vertical tangent, e.g. sqrt at 0: infinite, and visibly so
        else:
            slope = n * a ** (n - 1)
        return _node(a**n, f"**{n:g}", (self,), (slope,))

    def __rpow__(self, base: object) -> NoReturn:
        raise TypeError(
            "a Value can be raised to a number but not used as an exponent; for c ** x write "
            "(x * math.log(c)).exp()"
        )

    # Reflected versions run when the plain number is on the left: 2 * x calls x.__rmul__(2).
    # They keep the number as the first argument so the graph reads in the order it was written.

    def __radd__(self, other: Operand) -> Value:
        return _lift(other, "+") + self

    def __rsub__(self, other: Operand) -> Value:
        return _lift(other, "-") - self

    def __rmul__(self, other: Operand) -> Value:
        return _lift(other, "*") * self

    def __rtruediv__(self, other: Operand) -> Value:
        return _lift(other, "/") / self

    def relu(self) -> Value:
        """c = max(0, a).  Local rule dc/da = 1 if a > 0 else 0 (0 at the kink a = 0).

        dL/da += (a > 0) * dL/dc: ReLU passes the gradient where it was on and blocks it where off.
        """
        on = self.data > 0
        return _node(self.data if on else 0.0, "relu", (self,), (1.0 if on else 0.0,))

    def sigmoid(self) -> Value:
        """c = 1 / (1 + exp(-a)).  Local rule dc/da = c * (1 - c), so dL/da += c(1 - c) dL/dc.

        Evaluated so that exp only ever sees a non-positive argument: no overflow even for
        a = -1e4 (the form exp(a) / (1 + exp(a)) is used for negative a).
        """
        a = self.data
        if a >= 0:
            s = 1.0 / (1.0 + math.exp(-a))
        else:
            e = math.exp(a)
            s = e / (1.0 + e)
        return _node(s, "sigmoid", (self,), (s * (1.0 - s),))

    def tanh(self) -> Value:
        """c = tanh(a).  Local rule dc/da = 1 - c**2, so dL/da += (1 - c**2) dL/dc."""
        t = math.tanh(self.data)
        return _node(t, "tanh", (self,), (1.0 - t * t,))

    def exp(self) -> Value:
        """c = exp(a).  Local rule dc/da = exp(a) = c, so dL/da += c * dL/dc.

        Raises:
            OverflowError: if exp(a) exceeds the largest float (a above about 709.78).
        """
        try:
            e = math.exp(self.data)
        except OverflowError:
            raise OverflowError(
                f"exp({self.data}) is larger than the largest float (about 1.8e308): {self!r}"
            ) from None
        return _node(e, "exp", (self,), (e,))

    def log(self) -> Value:
        """c = ln(a), the natural log.  Local rule dc/da = 1/a, so dL/da += dL/dc / a.

        Raises:
            ValueError: if a <= 0, naming the value.
        """
        if self.data <= 0:
            raise ValueError(f"log needs a positive number, got log({self.data}) for {self!r}")
        return _node(math.log(self.data), "log", (self,), (1.0 / self.data,))

    def maximum(self, other: Operand) -> Value:
        """c = max(a, b); the max gate routes dL/dc to the larger input. See :func:`maximum`."""
        other = _lift(other, "maximum")
        first_wins = self.data >= other.data  # a tie goes to the first argument
        winner = self.data if first_wins else other.data
        return _node(winner, "max", (self, other), (1.0, 0.0) if first_wins else (0.0, 1.0))

    def minimum(self, other: Operand) -> Value:
        """c = min(a, b); the min gate routes dL/dc to the smaller input. See :func:`minimum`."""
        other = _lift(other, "minimum")
        first_wins = self.data <= other.data  # a tie goes to the first argument
        winner = self.data if first_wins else other.data
        return _node(winner, "min", (self, other), (1.0, 0.0) if first_wins else (0.0, 1.0))

    # ---- backward ---------------------------------------------------------------------------

    def _chain_rule(self) -> None:
        """Push this node's gradient to its inputs: dL/dparent += dself/dparent * dL/dself.

        ``+=`` because a parent that feeds several nodes collects one term from each of them.
        """
        for parent, local in zip(self.parents, self.local_grads):
            parent.grad += local * self.grad

    def backward(self) -> None:
        """Fill in ``grad`` = dL/dv for every value v that this value L depends on.

        Zeroes all grads in the graph, seeds dL/dL = 1, then applies the chain rule at each node
        in reverse topological order, so a node passes its gradient on only after every node
        that uses it has added its share. Iterative, so a chain of 100 000 nodes is fine.
        Calling it again gives the same gradients.
        """
        for _ in backward_steps(self):
            pass


def maximum(a: Operand, b: Operand) -> Value:
    """c = max(a, b) as a graph node (either argument may be a plain number).

    Local rule: dc/da = 1, dc/db = 0 when a wins, and the other way round when b wins. The max
    gate is a router: the winner gets all of dL/dc, the loser gets nothing.

    A tie (a == b) has no derivative; we route to the *first* argument, because that is the
    argument Python's own ``max(a, b)`` returns on a tie, and sending everything to one side keeps
    the gate a router (the sum of what the inputs receive is still dL/dc). Consequence:
    ``maximum(x, 0)`` at x = 0 gives x the gradient 1, while ``x.relu()`` (and ``maximum(0, x)``)
    gives 0.
    """
    return _lift(a, "maximum").maximum(b)


def minimum(a: Operand, b: Operand) -> Value:
    """c = min(a, b) as a graph node (either argument may be a plain number).

    Local rule: dc/da = 1, dc/db = 0 when a is smaller, the other way round when b is. A tie goes
    to the first argument, as in :func:`maximum` and as Python's ``min(a, b)`` does.
    """
    return _lift(a, "minimum").minimum(b)


def topological_order(root: Value) -> list[Value]:
    """Every value ``root`` depends on (and ``root``), each listed after all of its inputs.

    Leaves come first and ``root`` last: the order of the forward pass. The backward pass walks it
    in reverse. Each node appears once, however many times it is used. Built with an explicit
    stack instead of recursion, so deep graphs do not hit Python's recursion limit.
    """
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value, got {type(root).__name__}")
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:  # second visit: all inputs are already listed
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        # Reversed so that the first argument is popped, and therefore listed, first.
        stack.extend((p, False) for p in reversed(node.parents) if id(p) not in seen)
    return order


def zero_grad(root: Value) -> None:
    """Set ``grad`` to 0.0 on ``root`` and every value it depends on."""
    for node in topological_order(root):
        node.grad = 0.0


def backward_steps(root: Value) -> Iterator[Value]:
    """The backward pass of ``root``, one node at a time.

    The call itself zeroes every grad in the graph and seeds ``root.grad = 1.0`` (dL/dL). Each
    ``next()`` then applies the chain rule at one more node, in reverse topological order, and
    yields that node: its inputs' grads have just grown by their share. Leaves have no rule to
    apply and are not yielded. Exhausting the iterator is exactly ``root.backward()``.

    Example:
        >>> x = Value(2.0, "x"); y = (x * x).tanh()
        >>> steps = backward_steps(y)     # y.grad == 1.0, x.grad == 0.0
        >>> [node.op for node in steps]
        ['tanh', '*']
    """
    order = topological_order(root)
    for node in order:
        node.grad = 0.0
    root.grad = 1.0
    return _apply_rules(reversed(order))


def _apply_rules(nodes: Iterable[Value]) -> Iterator[Value]:
    for node in nodes:
        if node.parents:
            node._chain_rule()
            yield node
