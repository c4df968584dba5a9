r"""Drawing a fully connected network as columns of units joined by arrows, with matplotlib.

:func:`draw_network` draws a network of D hidden layers with layer widths
``sizes = [d_0, d_1, ..., d_{D+1}]``: one column per layer, one circle per unit, one arrow from
every unit of a layer to every unit of the next (a :class:`coursekit.nn.Linear` layer is exactly
this complete bipartite wiring, one weight per arrow). So the drawing has :math:`\sum_l d_l`
circles and :math:`\sum_l d_l d_{l+1}` arrows, plus, with ``bias=True``, one constant-1 unit per
layer that feeds the next one (the bias trick of chapter 1: a bias is the weight of an input that
is always 1), which adds :math:`d_{l+1}` arrows for each.

Units are labelled as in the notation page: inputs :math:`x_j`, hidden units :math:`h_{l,j}` (unit
:math:`j` of hidden layer :math:`l`, both counted from 1), the output :math:`\hat y` (or
:math:`\hat y_k` for several outputs). Under each column a caption names the layer, its width
and, if given, its activation.

Every drawn artist carries a ``gid`` (``"node:l:j"``, ``"bias:l"``, ``"edge:l:i:j"``,
``"bias-edge:l:j"``, with 0-based layer and unit indices) so a test, or a reader of the SVG, can
find what was drawn. No graphviz is needed: the layout is a fixed grid.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch
from numpy.typing import ArrayLike

from coursekit.display.descriptions import describe_axes
from coursekit.validation import is_integer

__all__ = ["draw_network", "unit_labels"]

# Lengths in inches at scale 1 (a figure made here); drawn into given axes, everything is scaled.
_RADIUS = 0.21
_ROW_GAP = 0.62  # centre to centre within a column
_COLUMN_GAP = 1.45  # centre to centre between columns: room for the arrows and their values
_CAPTION_ROOM = 0.55  # below the lowest unit, for a two-line caption
_LEGEND_ROOM = 0.25  # below the captions, for one row of legend entries
_MARGIN = 0.08
_LABEL_SIZE = 10.0
_CAPTION_SIZE = 8.5
_VALUE_SIZE = 7.0

# Okabe-Ito based, as in graph_drawing: inputs blue, hidden grey, outputs orange.
_INPUT_FACE, _HIDDEN_FACE, _OUTPUT_FACE, _BIAS_FACE = "#D6E9F8", "#F0F0F0", "#FCE2C2", "#FFFFFF"
_EDGE_COLOR = "#4D4D4D"
_POSITIVE, _NEGATIVE, _ZERO = "#0072B2", "#D55E00", "#BBBBBB"


def _check_sizes(sizes: Sequence[int]) -> list[int]:
    try:
        widths = list(sizes)
    except TypeError:
        raise TypeError(
            f"sizes must be a sequence of layer widths such as [2, 3, 1], got {sizes!r}"
        ) from None
    if len(widths) < 2:
        raise ValueError(f"sizes needs at least an input and an output width, got {widths}")
    for l, n in enumerate(widths):
        if not is_integer(n) or n < 1:
            raise ValueError(
                f"sizes[{l}] must be a positive integer (the width of layer {l}), got {n!r}"
            )
    return [int(n) for n in widths]


def _subscript(k: int) -> str:
    """``1`` stays ``1``; ``12`` becomes ``{12}``, which TeX needs for a subscript of two digits."""
    return str(k) if k < 10 else f"{{{k}}}"


def unit_labels(sizes: Sequence[int]) -> list[list[str]]:
    r"""The default labels of :func:`draw_network`, one list per layer (math text).

    ``unit_labels([2, 3, 1])`` is ``[["$x_1$", "$x_2$"], ["$h_{1,1}$", "$h_{1,2}$",
    "$h_{1,3}$"], ["$\\hat y$"]]``: inputs :math:`x_j`, unit :math:`j` of hidden layer :math:`l`
    :math:`h_{l,j}`, and :math:`\hat y` for one output or :math:`\hat y_k` for several.

    Raises:
        ValueError, TypeError: if ``sizes`` is not a list of at least two positive integers.
    """
    widths = _check_sizes(sizes)
    last = len(widths) - 1
    labels = [[f"$x_{_subscript(j + 1)}$" for j in range(widths[0])]]
    for l in range(1, last):
        labels.append([f"$h_{{{l},{j + 1}}}$" for j in range(widths[l])])
    labels.append(
        ["$\\hat y$"]
        if widths[last] == 1
        else [f"$\\hat y_{_subscript(k + 1)}$" for k in range(widths[last])]
    )
    return labels


def _caption(l: int, last: int, width: int, activation: str | None) -> str:
    if l == 0:
        return f"input\n{width} feature{'s' if width > 1 else ''}"
    name = "output" if l == last else (f"hidden layer {l}" if last > 2 else "hidden layer")
    unit_text = f"{width} unit{'s' if width > 1 else ''}"
    return f"{name}\n{unit_text}, {activation}" if activation else f"{name}\n{unit_text}"


def _check_matrices(
    values: Sequence[ArrayLike | None] | None,
    shapes: list[tuple[int, ...]],
    what: str,
    allow_none: bool = False,
) -> list[np.ndarray | None] | None:
    """One float array per layer of the given shapes (entries may be ``None`` if ``allow_none``)."""
    if values is None:
        return None
    values = list(values)
    if len(values) != len(shapes):
        raise ValueError(
            f"{what} needs one array per layer after the input ({len(shapes)}), got {len(values)}"
        )
    checked = []
    for l, (value, shape) in enumerate(zip(values, shapes)):
        if value is None and allow_none:
            checked.append(None)
            continue
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"{what}[{l}] must be an array of numbers, got {type(value).__name__}"
            ) from None
        if arr.shape != shape:
            raise ValueError(
                f"{what}[{l}] must have shape {shape} (out x in, as Linear's W: layer {l + 1} has "
                f"{shape[0]} units, layer {l} has {shape[-1]}), got {arr.shape}"
                if len(shape) == 2
                else (
                    f"{what}[{l}] must have shape {shape} (one bias per unit of layer {l + 1}), "
                    f"got {arr.shape}"
                )
            )
        if not np.isfinite(arr).all():
            raise ValueError(f"{what}[{l}] contains NaN or inf")
        checked.append(arr)
    return checked


def draw_network(
    sizes: Sequence[int],
    activations: Sequence[str | None] | None = None,
    labels: Sequence[Sequence[str]] | None = None,
    bias: bool = False,
    weights: Sequence[ArrayLike] | None = None,
    biases: Sequence[ArrayLike] | None = None,
    show_values: bool = False,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    r"""Draw a fully connected network with layer widths ``sizes``.

    Layer :math:`l` has ``sizes[l]`` units; every unit of layer :math:`l` sends an arrow to every
    unit of layer :math:`l + 1`, the wiring of :math:`z_{l+1} = W_{l+1} h_l + b_{l+1}` where
    :math:`W_{l+1}` has one row per unit of layer :math:`l + 1` and one column per unit of layer
    :math:`l`. With weights given, the arrow from unit :math:`i` to unit :math:`j` shows
    :math:`(W_{l+1})_{ji}`: blue for a positive weight, orange for a negative one, light grey for
    zero, thicker for a larger magnitude (relative to the largest of the drawing).

    Args:
        sizes: widths from input to output, e.g. ``[2, 3, 1]``.
        activations: one name per layer after the input, e.g. ``["ReLU", "σ"]`` (``None`` or
            ``""`` for a linear layer), shown in the captions.
        labels: one list of math-text labels per layer; :func:`unit_labels` by default.
        bias: draw a constant-1 unit on top of every layer but the last, with arrows to the
            units of the next layer.
        weights: optional weight matrices, one per layer after the input, shaped
            ``(sizes[l + 1], sizes[l])`` like :attr:`coursekit.nn.Linear.W`.
        biases: optional bias vectors, shaped ``(sizes[l + 1],)``, or ``None`` for a layer
            without bias; draws the bias units of the layers that have one.
        show_values: also write each given weight and bias next to its arrow (2 decimals).
        title: optional title above the drawing.
        ax: axes to draw into. ``None`` makes a new :class:`~matplotlib.figure.Figure` sized to
            the network (not a pyplot figure, so a notebook shows it once, as the cell's result).
            Given axes are not cleared; the drawing is scaled to fit them, text included.

    Returns:
        The figure drawn on.

    Raises:
        ValueError, TypeError: for sizes that are not positive integers, or activations, labels,
            weights or biases that do not have one entry per layer of the right shape.
    """
    widths = _check_sizes(sizes)
    last = len(widths) - 1
    if activations is None:
        acts: list[str | None] = [None] * last
    else:
        acts = list(activations)
        if len(acts) != last:
            raise ValueError(
                "activations needs one name per layer after the input "
                f"({last} for sizes {widths}), got {len(acts)}"
            )
    if labels is None:
        names = unit_labels(widths)
    else:
        names = [list(layer) for layer in labels]
        if [len(layer) for layer in names] != widths:
            raise ValueError(
                f"labels must have one entry per unit, {widths} per layer, "
                f"got {[len(layer) for layer in names]}"
            )
    W = _check_matrices(weights, [(widths[l + 1], widths[l]) for l in range(last)], "weights")
    b = _check_matrices(biases, [(widths[l + 1],) for l in range(last)], "biases", allow_none=True)
    # has_bias[l]: layer l + 1 adds a bias, drawn as a constant-1 unit on top of column l.
    has_bias = [entry is not None for entry in b] if b is not None else [bias] * last
    if show_values and W is None and b is None:
        raise ValueError("show_values=True needs weights or biases to show")

    # Centres in layout inches: column l at x = l * gap, units centred on y = 0, top to bottom.
    centres = [
        [(l * _COLUMN_GAP, ((n - 1) / 2 - j) * _ROW_GAP) for j in range(n)]
        for l, n in enumerate(widths)
    ]
    bias_centres = {
        l: (l * _COLUMN_GAP, ((widths[l] - 1) / 2 + 1) * _ROW_GAP)
        for l in range(last)
        if has_bias[l]
    }
    top = (
        max([y for column in centres for _, y in column] + [y for _, y in bias_centres.values()])
        + _RADIUS
        + _MARGIN
    )
    caption_top = min(y for column in centres for _, y in column) - _RADIUS - 0.08
    has_legend = W is not None or b is not None or any(has_bias)
    bottom = caption_top - _CAPTION_ROOM - (_LEGEND_ROOM if has_legend else 0.0)
    left, right = -_COLUMN_GAP / 2, last * _COLUMN_GAP + _COLUMN_GAP / 2
    title_room = 0.3 if title else 0.0

    if ax is None:
        fig = Figure(figsize=(right - left, top - bottom + title_room))
        ax = fig.add_axes((0.0, 0.0, 1.0, (top - bottom) / (top - bottom + title_room)))
        scale = 1.0
    else:
        fig = ax.figure
        box = ax.get_position(original=True)
        width, height = box.width * fig.get_figwidth(), box.height * fig.get_figheight()
        scale = min(width / (right - left), height / (top - bottom))
        # Widen the limits to the shape of the axes, so circles stay round under the equal aspect.
        grow_x, grow_y = width / scale - (right - left), height / scale - (top - bottom)
        left, right = left - grow_x / 2, right + grow_x / 2
        bottom, top = bottom - grow_y / 2, top + grow_y / 2
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)  # not scaled: titles of panels side by side stay alike
    # What a screen reader says for the picture (the website's alt text; see descriptions.py).
    layers = "; ".join(
        _caption(l, last, widths[l], acts[l - 1] if l else None).replace("\n", ", ")
        for l in range(last + 1)
    )
    extras = (", with bias units" if any(has_bias) else "") + (
        ", each weight written on its arrow" if show_values else ""
    )
    describe_axes(ax, f"diagram of a {'-'.join(map(str, widths))} network: {layers}{extras}")

    largest = max([np.abs(m).max() for m in (W or []) + (b or []) if m is not None] + [0.0])

    def arrow(
        start: tuple[float, float],
        end: tuple[float, float],
        value: float | None,
        gid: str,
        dashed: bool,
        t: float,
    ) -> None:
        (x0, y0), (x1, y1) = start, end
        length = np.hypot(x1 - x0, y1 - y0)
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        color, lw = _EDGE_COLOR, 0.8
        if value is not None:
            color = _POSITIVE if value > 0 else (_NEGATIVE if value < 0 else _ZERO)
            lw = 0.6 + 2.4 * (abs(value) / largest if largest > 0 else 0.0)
        patch = FancyArrowPatch(
            (x0 + _RADIUS * ux, y0 + _RADIUS * uy),
            (x1 - _RADIUS * ux, y1 - _RADIUS * uy),
            arrowstyle="-|>",
            mutation_scale=8 * scale,
            linewidth=lw * scale,
            linestyle=(0, (3, 2)) if dashed else "solid",
            color=color,
            shrinkA=0,
            shrinkB=0,
            zorder=1,
        )
        patch.set_gid(gid)
        ax.add_patch(patch)
        if show_values and value is not None:
            # Staggered along the arrow by target unit, so values of crossing arrows don't overlap.
            ax.text(
                x0 + t * (x1 - x0),
                y0 + t * (y1 - y0),
                f"{value:.2f}".replace("-", "\N{MINUS SIGN}"),
                fontsize=_VALUE_SIZE * scale,
                ha="center",
                va="center",
                color=color,
                zorder=4,
                bbox={
                    "boxstyle": "round,pad=0.1",
                    "facecolor": "white",
                    "edgecolor": "none",
                    "alpha": 0.85,
                },
            )

    for l in range(last):
        n_out = widths[l + 1]
        for j in range(n_out):
            # Where along its arrow a value is written: a different distance for every arrow into
            # unit j (and for every j), so values of arrows that converge or cross don't overlap.
            sources = widths[l] + (1 if has_bias[l] else 0)
            slots = max(sources * n_out - 1, 1)

            def along(i: int) -> float:
                return 0.2 + 0.6 * (j * sources + i) / slots

            for i in range(widths[l]):
                value = None if W is None else float(W[l][j, i])
                arrow(centres[l][i], centres[l + 1][j], value, f"edge:{l}:{i}:{j}", False, along(i))
            if has_bias[l]:
                value = None if b is None else float(b[l][j])
                arrow(
                    bias_centres[l],
                    centres[l + 1][j],
                    value,
                    f"bias-edge:{l}:{j}",
                    True,
                    along(widths[l]),
                )

    font = {"fontsize": _LABEL_SIZE * scale, "ha": "center", "va": "center", "zorder": 3}
    for l, column in enumerate(centres):
        face = _INPUT_FACE if l == 0 else (_OUTPUT_FACE if l == last else _HIDDEN_FACE)
        for j, (x, y) in enumerate(column):
            circle = Circle(
                (x, y),
                _RADIUS,
                facecolor=face,
                edgecolor=_EDGE_COLOR,
                linewidth=0.9 * scale,
                zorder=2,
            )
            circle.set_gid(f"node:{l}:{j}")
            ax.add_patch(circle)
            ax.text(x, y, names[l][j], **font).set_gid(f"label:{l}:{j}")
        ax.text(
            column[0][0],
            caption_top,
            _caption(l, last, widths[l], acts[l - 1] if l else None),
            fontsize=_CAPTION_SIZE * scale,
            ha="center",
            va="top",
            linespacing=1.25,
            color="0.25",
        ).set_gid(f"caption:{l}")
    for l, (x, y) in bias_centres.items():
        circle = Circle(
            (x, y),
            _RADIUS * 0.8,
            facecolor=_BIAS_FACE,
            edgecolor=_EDGE_COLOR,
            linewidth=0.9 * scale,
            linestyle=(0, (3, 2)),
            zorder=2,
        )
        circle.set_gid(f"bias:{l}")
        ax.add_patch(circle)
        ax.text(x, y, "$1$", **font).set_gid(f"bias-label:{l}")

    if has_legend:
        handles = []
        if W is not None or b is not None:
            handles += [
                Line2D([], [], color=_POSITIVE, lw=2 * scale, label="positive weight"),
                Line2D([], [], color=_NEGATIVE, lw=2 * scale, label="negative weight"),
            ]
            if any(np.any(m == 0) for m in (W or []) + (b or []) if m is not None):
                handles.append(Line2D([], [], color=_ZERO, lw=1.2 * scale, label="zero weight"))
        if any(has_bias):
            handles.append(
                Line2D(
                    [],
                    [],
                    color=_EDGE_COLOR,
                    lw=1.2 * scale,
                    ls=(0, (3, 2)),
                    label="from the bias unit 1",
                )
            )
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(last * _COLUMN_GAP / 2, caption_top - _CAPTION_ROOM),
            bbox_transform=ax.transData,
            ncols=len(handles),
            fontsize=_CAPTION_SIZE * scale * 0.95,
            frameon=False,
            handlelength=1.8,
            columnspacing=1.2 * scale,
            borderaxespad=0.0,
        )
    return fig
