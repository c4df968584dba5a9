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

:func:`draw` renders a graph with matplotlib; :func:`topological_order` and
:func:`backward_steps` expose the backward pass one node at a time for the slider apps.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Iterable, Iterator, NoReturn, Union

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

__all__ = [
    "Value",
    "maximum",
    "minimum",
    "topological_order",
    "backward_steps",
    "zero_grad",
    "draw",
    "format_number",
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


# ---- drawing ------------------------------------------------------------------------------------
#
# A small layered ("Sugiyama") layout, enough for the graphs of a chapter (up to a few dozen nodes):
# 1. layers: each value box and each op circle gets a column, inputs to the left of what uses
#    them (longest path from the leaves; leaves move right up to their first use);
# 2. an edge that skips columns gets invisible bend points, one per skipped column, so it can
#    be routed around the boxes in between;
# 3. the order within each column starts from a depth-first walk from the output (a tree then has
#    no crossings) and barycentre sweeps try to remove crossings in shared subgraphs;
# 4. positions within a column: as close as possible to the mean of the neighbours, keeping the
#    order and a gap (least squares under order constraints, solved by pool-adjacent-violators).
# All lengths are in inches at font size FONT_SIZE; u runs along the edges, v across them.

FONT_SIZE = 9.0
_CHAR_WIDTH = 0.602 * FONT_SIZE / 72  # DejaVu Sans Mono advance width, in inches
_LINE_HEIGHT = 1.3 * FONT_SIZE / 72
_PAD = 0.07  # inside a box, around the text
_GAP_ALONG = 0.27  # between columns: room for the edges to bend
_GAP_ACROSS = 0.22  # between neighbours in a column
_BEND_WIDTH = 0.08  # the space a bend point of a long edge takes in its column
_MARGIN = 0.12

# Okabe-Ito based pastels: inputs blue, computed values grey, the output orange, ops yellow.
_LEAF_FACE, _VALUE_FACE, _ROOT_FACE, _OP_FACE = "#D6E9F8", "#F0F0F0", "#FCE2C2", "#FFF3B8"
_EDGE_COLOR, _GRAD_COLOR, _HIGHLIGHT = "#4D4D4D", "#B8410E", "#D55E00"

# How an op name is shown in its circle; names not listed are shown as they are.
_OP_SYMBOLS = {"-": "\u2212", "neg": "\u2212", "*": "\u00d7", "/": "\u00f7", "sigmoid": "\u03c3"}
_ORDERED_OPS = {"-", "/"}  # first operand drawn above (LR) / left of (TB) the second


def format_number(x: float) -> str:
    """How :func:`draw` prints a number: 4 significant digits (``-0.0`` shows as ``0``)."""
    return f"{x + 0.0:.4g}"


@dataclass(eq=False)
class _Item:
    """One thing placed by the layout: a value box, an op circle, or a bend point of a long edge."""

    kind: str  # "value", "op" or "bend"
    value: Value | None
    layer: int = 0
    along: float = 0.0  # size along the edges (u)
    across: float = 0.0  # size across them (v)
    u: float = 0.0
    v: float = 0.0
    preds: list[_Item] = field(default_factory=list)
    succs: list[_Item] = field(default_factory=list)


Columns = list[list[_Item]]  # the layout's columns, each listed from top to bottom (LR)


def _box_lines(value: Value, show_grad: bool) -> list[str]:
    lines = [value.label] if value.label else []
    lines.append(f"data {format_number(value.data)}")
    if show_grad:
        lines.append(f"grad {format_number(value.grad)}")
    return lines


def _op_radius(value: Value) -> float:
    text = _OP_SYMBOLS.get(value.op, value.op)
    return max(0.13, len(text) * _CHAR_WIDTH / 2 + 0.05)


def _build(root: Value, show_grad: bool, vertical: bool) -> tuple[Columns, list[list[_Item]]]:
    """Items in layers, and each edge as its chain of items (source, bend points..., target)."""
    order = topological_order(root)
    boxes: dict[int, _Item] = {}
    ops: dict[int, _Item] = {}
    for value in order:
        lines = _box_lines(value, show_grad)
        width = max(len(line) for line in lines) * _CHAR_WIDTH + 2 * _PAD
        height = len(lines) * _LINE_HEIGHT + 2 * _PAD
        along, across = (height, width) if vertical else (width, height)
        box = _Item("value", value, along=along, across=across)
        boxes[id(value)] = box
        if value.parents:
            op = _Item("op", value, along=2 * _op_radius(value), across=2 * _op_radius(value))
            op.layer = max(boxes[id(p)].layer for p in value.parents) + 1
            box.layer = op.layer + 1
            ops[id(value)] = op
    # A leaf (an input or a constant) waits until the column just before its first use, so that
    # a constant added near the output is drawn there and not with the inputs.
    first_use: dict[int, int] = {}
    for value in order:
        for parent in value.parents:
            layer = ops[id(value)].layer - 1
            first_use[id(parent)] = min(first_use.get(id(parent), layer), layer)
    for value in order:
        if not value.parents and id(value) in first_use:
            boxes[id(value)].layer = first_use[id(value)]

    chains: list[list[_Item]] = []

    def connect(source: _Item, target: _Item) -> None:
        chain = [source]
        for layer in range(source.layer + 1, target.layer):
            chain.append(_Item("bend", None, layer=layer, across=_BEND_WIDTH))
        chain.append(target)
        for a, b in zip(chain, chain[1:]):
            a.succs.append(b)
            b.preds.append(a)
        chains.append(chain)

    for value in order:
        if value.parents:
            for parent in value.parents:
                connect(boxes[id(parent)], ops[id(value)])
            connect(ops[id(value)], boxes[id(value)])

    items = list(boxes.values()) + list(ops.values()) + [i for c in chains for i in c[1:-1]]
    layers: Columns = [[] for _ in range(max(i.layer for i in items) + 1)]
    # Start from a depth-first walk back from the output, first operands first: for a tree this
    # order already has no crossings, and it puts a - b with a above b.
    rank: dict[int, int] = {}
    stack = [boxes[id(root)]]
    while stack:
        item = stack.pop()
        if id(item) not in rank:
            rank[id(item)] = len(rank)
            stack.extend(reversed(item.preds))
    for item in sorted(items, key=lambda i: rank[id(i)]):
        layers[item.layer].append(item)
    return layers, chains


def _gap_crossings(left: list[_Item], right: list[_Item]) -> int:
    """Number of crossing pairs among the edges from column ``left`` to the next, ``right``."""
    pos = {id(item): k for k, item in enumerate(right)}
    edges = [(k, pos[id(b)]) for k, a in enumerate(left) for b in a.succs]
    total = 0
    for i, (a1, b1) in enumerate(edges):
        total += sum(1 for a2, b2 in edges[i + 1 :] if (a1 - a2) * (b1 - b2) < 0)
    return total


def _crossings(layers: Columns) -> int:
    return sum(_gap_crossings(left, right) for left, right in zip(layers, layers[1:]))


def _reduce_crossings(layers: Columns, sweeps: int = 8) -> Columns:
    """Reorder the columns to remove edge crossings; returns the best order found."""
    # Barycentre sweeps: sort each column by the mean position of its neighbours in the column
    # before (sweeping down) or after (sweeping up).
    best, best_count = [list(layer) for layer in layers], _crossings(layers)
    for _ in range(sweeps):
        if best_count == 0:
            break
        for direction in ("down", "up"):
            last = len(layers) - 1
            indices = range(1, last + 1) if direction == "down" else range(last - 1, -1, -1)
            for l in indices:
                pos = {id(item): k for layer in layers for k, item in enumerate(layer)}

                def barycentre(item: _Item) -> float:
                    neighbours = item.preds if direction == "down" else item.succs
                    if not neighbours:
                        return pos[id(item)]
                    return sum(pos[id(n)] for n in neighbours) / len(neighbours)

                layers[l] = sorted(layers[l], key=barycentre)  # stable: ties keep their order
            count = _crossings(layers)
            if count < best_count:
                best, best_count = [list(layer) for layer in layers], count
    # Then swap neighbours wherever that removes a crossing (catches what the means miss). A swap
    # in column l only changes the crossings on its two sides.
    def near(l: int) -> int:
        gaps = [m for m in (l - 1, l) if 0 <= m < len(best) - 1]
        return sum(_gap_crossings(best[m], best[m + 1]) for m in gaps)

    improved = best_count > 0
    while improved:
        improved = False
        for l, column in enumerate(best):
            for k in range(len(column) - 1):
                before = near(l)
                column[k], column[k + 1] = column[k + 1], column[k]
                if near(l) < before:
                    improved = True
                else:
                    column[k], column[k + 1] = column[k + 1], column[k]
    # Honesty over tidiness: in a - b and a / b, a goes above b. A stable topological sort of each
    # column keeps the order found above wherever it already agrees.
    for l in range(len(best) - 1):
        must_follow: dict[int, set[int]] = {}
        for op in best[l + 1]:
            if op.kind == "op" and op.value.op in _ORDERED_OPS and op.preds[0] is not op.preds[1]:
                must_follow.setdefault(id(op.preds[1]), set()).add(id(op.preds[0]))
        if must_follow:
            remaining, done, ordered = list(best[l]), set(), []
            while remaining:
                # a - b together with b - a cannot both hold; then the arrow ports still tell
                ready = (i for i in remaining if must_follow.get(id(i), set()) <= done)
                item = next(ready, remaining[0])
                remaining.remove(item)
                done.add(id(item))
                ordered.append(item)
            best[l] = ordered
    return best


def _fit_in_order(desired: list[float], gaps: list[float]) -> list[float]:
    """Positions closest (least squares) to ``desired`` with ``v[k+1] - v[k] >= gaps[k]``.

    With offsets o[k] = gaps[0] + ... + gaps[k-1] and w = v - o the constraints say w is
    non-decreasing: an isotonic regression, solved by pooling adjacent violators.
    """
    offsets = [0.0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    blocks: list[list[float]] = []  # [sum of targets, count] per pooled block
    for d, o in zip(desired, offsets):
        blocks.append([d - o, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    w = [total / count for total, count in blocks for _ in range(int(count))]
    return [wk + o for wk, o in zip(w, offsets)]


def _place(layers: Columns, sweeps: int = 12) -> None:
    """Set ``u`` (column centres) and ``v`` (positions within the columns) of every item."""
    u = 0.0
    for l, layer in enumerate(layers):
        thickness = max(item.along for item in layer)
        if l > 0:
            u += _GAP_ALONG + thickness / 2
        for item in layer:
            item.u = u
        u += thickness / 2

    def gaps(layer: list[_Item]) -> list[float]:
        out = []
        for a, b in zip(layer, layer[1:]):
            space = _GAP_ACROSS if a.kind != "bend" and b.kind != "bend" else _GAP_ACROSS / 2
            out.append(a.across / 2 + space + b.across / 2)
        return out

    for layer in layers:
        for item, v in zip(layer, _fit_in_order([0.0] * len(layer), gaps(layer))):
            item.v = v

    def relax(layer: list[_Item], use_preds: bool, use_succs: bool) -> None:
        desired = []
        for item in layer:
            neighbours = (item.preds if use_preds else []) + (item.succs if use_succs else [])
            desired.append(sum(n.v for n in neighbours) / len(neighbours) if neighbours else item.v)
        for item, v in zip(layer, _fit_in_order(desired, gaps(layer))):
            item.v = v

    for _ in range(sweeps):
        for layer in layers[1:]:
            relax(layer, True, False)
        for layer in reversed(layers[:-1]):
            relax(layer, False, True)
    for layer in layers:
        relax(layer, True, True)


def _layout(root: Value, show_grad: bool, vertical: bool) -> tuple[Columns, list[list[_Item]]]:
    """Columns of placed items (top to bottom) and the edges as chains of items."""
    layers, chains = _build(root, show_grad, vertical)
    layers = _reduce_crossings(layers)
    _place(layers)
    return layers, chains


def _edge_path(
    chain: list[_Item], thickness: dict[int, float], bulge: float, port: float
) -> list[tuple[float, float]]:
    """Points of an edge in (u, v) with Bezier control points, as consecutive cubic segments.

    ``bulge`` bends the edge sideways (to tell apart two edges between the same pair); ``port``
    -1 or +1 makes it enter a circle above or below its middle instead of at it.
    """
    source, target = chain[0], chain[-1]
    stops = [(source.u + source.along / 2, source.v)]
    for bend in chain[1:-1]:
        half = thickness[bend.layer] / 2
        stops += [(bend.u - half, bend.v), (bend.u + half, bend.v)]
    radius, angle = target.along / 2, 0.8 * port  # 0.8 rad: 46 degrees off the middle
    stops.append((target.u - radius * math.cos(angle), target.v + radius * math.sin(angle)))
    points = [stops[0]]
    for (u0, v0), (u1, v1) in zip(stops, stops[1:]):
        reach = (u1 - u0) / 2  # horizontal tangents at both ends: smooth S-shaped edges
        points += [(u0 + reach, v0 + bulge), (u1 - reach, v1 + bulge), (u1, v1)]
    return points


def draw(
    root: Value,
    ax: Axes | None = None,
    rankdir: str = "LR",
    show_grad: bool = True,
    highlight: Value | Iterable[Value] | None = None,
) -> Figure:
    """Draw the computation graph that produced ``root``.

    Every value is a box with its label (if any), ``data`` and, in colour, ``grad`` (4 significant
    digits); every operation is a circle between its inputs and its output. Inputs and constants
    are blue, computed values grey, ``root`` orange. In ``a - b`` and ``a / b`` the arrow from ``a``
    enters the circle above the one from ``b`` (left of it with ``rankdir="TB"``), and ``a`` is
    drawn above ``b`` unless another op demands the opposite order.

    Args:
        root: the output value; everything it depends on is drawn.
        ax: axes to draw into. ``None`` makes a new :class:`~matplotlib.figure.Figure` sized to
            the graph (not a pyplot figure, so a notebook shows it once, as the cell's result).
            Given axes are not cleared; the drawing is scaled to fit them, text included. To
            redraw in place (a slider app): ``ax.clear(); draw(root, ax=ax)``.
        rankdir: ``"LR"`` (inputs on the left, output on the right) or ``"TB"`` (top to bottom).
        show_grad: also print each ``grad`` (turn off to show a forward pass only).
        highlight: value(s) to outline, e.g. the node :func:`backward_steps` just processed.

    Returns:
        The figure drawn on.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw expects a Value, got {type(root).__name__}")
    if rankdir not in ("LR", "TB"):
        raise ValueError(f'rankdir must be "LR" or "TB", got {rankdir!r}')
    vertical = rankdir == "TB"
    if highlight is None:
        marked: set[int] = set()
    elif isinstance(highlight, Value):
        marked = {id(highlight)}
    else:
        marked = {id(v) for v in highlight}

    layers, chains = _layout(root, show_grad, vertical)
    thickness = {l: max(item.along for item in layer) for l, layer in enumerate(layers)}

    def xy(u: float, v: float) -> tuple[float, float]:
        return (v, -u) if vertical else (u, -v)

    placed = [item for layer in layers for item in layer if item.kind != "bend"]
    corners = [  # of every box and circle, and of the room kept for long edges
        xy(i.u + su * i.along / 2, i.v + sv * i.across / 2)
        for layer in layers
        for i in layer
        for su in (-1, 1)
        for sv in (-1, 1)
    ]
    xmin, xmax = min(x for x, _ in corners) - _MARGIN, max(x for x, _ in corners) + _MARGIN
    ymin, ymax = min(y for _, y in corners) - _MARGIN, max(y for _, y in corners) + _MARGIN

    if ax is None:
        fig = Figure(figsize=(xmax - xmin, ymax - ymin))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        scale = 1.0
    else:
        fig = ax.figure
        # Measure the rectangle the axes were given, not the active one an earlier equal-aspect
        # drawing shrank them to: clear() keeps the equal aspect, and get_position() would apply
        # it to the cleared (square) limits, fitting a redraw into a square. The limits set below
        # have the shape of this rectangle, so the equal aspect then leaves it whole.
        box = ax.get_position(original=True)
        width, height = box.width * fig.get_figwidth(), box.height * fig.get_figheight()
        scale = min(width / (xmax - xmin), height / (ymax - ymin))  # inches per layout inch
        # Widen the limits to the shape of the axes, so one unit is as long across as up.
        grow_x, grow_y = width / scale - (xmax - xmin), height / scale - (ymax - ymin)
        xmin, xmax = xmin - grow_x / 2, xmax + grow_x / 2
        ymin, ymax = ymin - grow_y / 2, ymax + grow_y / 2
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    ax.set_axis_off()
    font = {"family": "monospace", "fontsize": FONT_SIZE * scale}

    # Edges first, so boxes and circles are drawn over their ends.
    repeats: dict[tuple[int, int], int] = {}
    for chain in chains:
        key = (id(chain[0]), id(chain[-1]))
        repeats[key] = repeats.get(key, 0) + 1
    seen: dict[tuple[int, int], int] = {}
    operands: dict[int, int] = {}
    for chain in chains:
        key = (id(chain[0]), id(chain[-1]))
        k, n = seen.get(key, 0), repeats[key]
        seen[key] = k + 1
        # A value used twice by one op (x * x) gets two visibly separate arrows.
        bulge = (k - (n - 1) / 2) * 0.28
        # Chains arrive in argument order; the first operand of - and / enters from above.
        target = chain[-1]
        operand = operands.get(id(target), 0)
        operands[id(target)] = operand + 1
        ordered = target.kind == "op" and target.value.op in _ORDERED_OPS
        port = (-1.0 if operand == 0 else 1.0) if ordered else 0.0
        points = [xy(u, v) for u, v in _edge_path(chain, thickness, bulge, port)]
        codes = [Path.MOVETO] + [Path.CURVE4] * (len(points) - 1)
        ax.add_patch(
            FancyArrowPatch(
                path=Path(points, codes),
                arrowstyle="-|>",
                mutation_scale=9 * scale,
                linewidth=scale,
                color=_EDGE_COLOR,
                zorder=1,
            )
        )

    for item in placed:
        x, y = xy(item.u, item.v)
        value = item.value
        is_marked = id(value) in marked
        edge = {
            "edgecolor": _HIGHLIGHT if is_marked else _EDGE_COLOR,
            "linewidth": (2.5 if is_marked else 0.9) * scale,
        }
        if item.kind == "op":
            radius = item.along / 2
            ax.add_patch(Circle((x, y), radius, facecolor=_OP_FACE, zorder=2, **edge))
            symbol = _OP_SYMBOLS.get(value.op, value.op)
            ax.text(x, y, symbol, ha="center", va="center", zorder=3, **font)
            continue
        face = _ROOT_FACE if value is root else (_VALUE_FACE if value.parents else _LEAF_FACE)
        width, height = (item.across, item.along) if vertical else (item.along, item.across)
        ax.add_patch(
            FancyBboxPatch(
                (x - width / 2, y - height / 2),
                width,
                height,
                boxstyle=f"round,pad=0,rounding_size={0.06}",
                facecolor=face,
                zorder=2,
                **edge,
            )
        )
        lines = _box_lines(value, show_grad)
        top = y + len(lines) * _LINE_HEIGHT / 2
        for k, line in enumerate(lines):
            is_label = bool(value.label) and k == 0
            is_grad = show_grad and k == len(lines) - 1
            ax.text(
                x,
                top - (k + 0.5) * _LINE_HEIGHT,
                line,
                ha="center",
                va="center_baseline",
                fontweight="bold" if is_label else "normal",
                color=_GRAD_COLOR if is_grad else "black",
                zorder=3,
                **font,
            )
    return fig
