"""Drawing a scalar computation graph of :mod:`coursekit.engine` with matplotlib.

:func:`draw` lays out the values (boxes) and operations (circles) of a graph from its inputs on
the left to the output on the right, and can show each value's gradient after ``backward()``.
The layout code below is display support; the engine itself draws nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from coursekit.display.descriptions import describe_axes
from coursekit.engine import Value, topological_order

__all__ = ["draw", "format_number"]

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


#: At most this many operations are listed one by one in the description of a drawing.
_DESCRIBED_STEPS = 12


def _describe(root: Value, show_grad: bool, vertical: bool) -> str:
    """The drawing in words (the website's alt text): its inputs, then each operation in order.

    "computation graph, inputs on the left: x = -2 (grad 3), y = 3 (grad -2); q = x × y = -6
    (grad 1); ..." A value without a label is named by its number; a graph of more than
    :data:`_DESCRIBED_STEPS` operations is summarised by its size and output.
    """
    order = topological_order(root)

    def name(value: Value) -> str:
        return value.label or format_number(value.data)

    def state(value: Value) -> str:
        text = f"{name(value)} = {format_number(value.data)}" if value.label else name(value)
        return f"{text} (grad {format_number(value.grad)})" if show_grad else text

    def step(value: Value) -> str:
        args = [name(parent) for parent in value.parents]
        symbol = _OP_SYMBOLS.get(value.op, value.op)
        if value.op in ("+", "-", "*", "/"):
            formula = f" {symbol} ".join(args)
        elif value.op == "neg":
            formula = f"{symbol}{args[0]}"
        elif value.op.startswith("**"):
            formula = f"{args[0]} to the power {value.op[2:]}"
        else:
            formula = f"{value.op}({', '.join(args)})"
        result = f"{value.label} = {formula}" if value.label else formula
        result += f" = {format_number(value.data)}"
        return f"{result} (grad {format_number(value.grad)})" if show_grad else result

    leaves = [value for value in order if not value.parents]
    steps = [value for value in order if value.parents]
    where = "inputs at the top" if vertical else "inputs on the left"
    if len(steps) > _DESCRIBED_STEPS:
        return (
            f"computation graph, {where}: {len(leaves)} inputs and constants, {len(steps)} "
            f"operations, output {state(root)}"
        )
    listed = "; ".join([", ".join(state(leaf) for leaf in leaves)] + [step(v) for v in steps])
    return f"computation graph, {where}: {listed}"


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
        highlight: value(s) to outline, e.g. the nodes whose ``local_backward()`` has run.

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
    describe_axes(ax, _describe(root, show_grad, vertical))
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
