r"""Slider app for the computation-graph chapter: backpropagation one node at a time.

The graph of a small expression is drawn with :func:`coursekit.display.graph_drawing.draw`. A
``step`` slider runs from 0 to N, the number of nodes. At step k the first k nodes in *reverse
topological order* (output first) show their gradient :math:`\partial F/\partial v` and are
outlined; the others show ``grad ?``. Reverse topological order guarantees that when a node's turn
comes, every node that uses it has already passed its gradient back, so the number shown is final:

.. math:: \frac{\partial F}{\partial v} = \sum_{c \,\text{uses}\, v}
   \underbrace{\frac{\partial F}{\partial c}}_{\text{upstream}}\;
   \underbrace{\frac{\partial c}{\partial v}}_{\text{local}}

The title spells out that sum for the node revealed last. The gradients come from the engine
itself: the app runs the backward pass just far enough (zero every grad, seed the output with 1,
then :meth:`coursekit.engine.Value.local_backward` at the first k - 1 nodes) and reads ``grad``.
Input sliders change the leaves and rebuild the graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import ipywidgets as widgets
from matplotlib.figure import Figure
from matplotlib.text import Text

from coursekit.display.graph_drawing import draw, format_number
from coursekit.engine import Value, maximum, topological_order
from coursekit.widgets.app import SliderApp
from coursekit.widgets.frames import ALL

HIDDEN = "grad ?"
"""What a node whose gradient has not been reached yet shows instead of a number."""

HIDDEN_COLOR = "#9A9A9A"


@dataclass(frozen=True)
class Expression:
    """A small expression for the stepper.

    Attributes:
        formula: how the expression reads, shown in the title.
        inputs: input name -> ``(default, minimum, maximum)`` for its slider.
        build: keyword arguments named like ``inputs`` -> the output :class:`Value`. Every node
            should carry a label, so the explanations can name it.
    """

    formula: str
    inputs: dict[str, tuple[float, float, float]]
    build: Callable[..., Value]


def _gates(x: float, y: float, z: float, w: float) -> Value:
    xv, yv, zv, wv = Value(x, "x"), Value(y, "y"), Value(z, "z"), Value(w, "w")
    q = xv * yv
    q.label = "q = x*y"
    r = q + zv
    r.label = "r = q+z"
    m = maximum(r, wv)
    m.label = "m = max(r,w)"
    out = Value(2.0, "c") * m
    out.label = "F = c*m"
    return out


def _neuron(w1: float, x1: float, w2: float, x2: float, b: float) -> Value:
    w1v, x1v, w2v, x2v, bv = (
        Value(w1, "w1"),
        Value(x1, "x1"),
        Value(w2, "w2"),
        Value(x2, "x2"),
        Value(b, "b"),
    )
    p1 = w1v * x1v
    p1.label = "p1 = w1*x1"
    p2 = w2v * x2v
    p2.label = "p2 = w2*x2"
    s = p1 + p2
    s.label = "s = p1+p2"
    z = s + bv
    z.label = "z = s+b"
    out = z.sigmoid()
    out.label = "ŷ = sigmoid(z)"
    return out


def _fan_out(x: float, y: float) -> Value:
    xv, yv = Value(x, "x"), Value(y, "y")
    q = xv * yv
    q.label = "q = x*y"
    m = maximum(xv, yv)
    m.label = "m = max(x,y)"
    out = q + m
    out.label = "F = q+m"
    return out


GATES = Expression(
    formula="F = 2 * max(x*y + z, w)",
    inputs={
        "x": (-2.0, -4.0, 4.0),
        "y": (3.0, -4.0, 4.0),
        "z": (4.0, -4.0, 4.0),
        "w": (-3.0, -4.0, 4.0),
    },
    build=_gates,
)
"""Add, multiply, max and a constant factor in one expression."""

NEURON = Expression(
    formula="ŷ = sigmoid(w1*x1 + w2*x2 + b)",
    inputs={
        "w1": (2.0, -3.0, 3.0),
        "x1": (-1.0, -3.0, 3.0),
        "w2": (-3.0, -3.0, 3.0),
        "x2": (-2.0, -3.0, 3.0),
        "b": (-3.0, -3.0, 3.0),
    },
    build=_neuron,
)
"""One sigmoid neuron with two inputs."""

FAN_OUT = Expression(
    formula="F = x*y + max(x, y)",
    inputs={"x": (3.0, -4.0, 4.0), "y": (-2.0, -4.0, 4.0)},
    build=_fan_out,
)
"""x and y each feed two gates, so their gradients are sums of two contributions."""


def _name(node: Value) -> str:
    """A short name for explanations: the part of the label before '=' (or the value)."""
    if node.label:
        return node.label.split("=")[0].strip()
    return format_number(node.data)


def _sentinel(index: int) -> float:
    """A distinctive placeholder gradient: its printed form finds node ``index`` on the drawing."""
    return -round(0.1001 + 0.0001 * index, 4)


class BackpropStepperApp(SliderApp):
    """Step through the backward pass of an :class:`Expression`, one node per step.

    Controls: ``step`` (0 .. N) and one slider per input of the expression.

    Attributes (updated on every redraw):
        root: the output Value of the freshly built graph.
        order: all N nodes in reverse topological order (output first).
        step: k, the number of nodes whose gradient is shown.
        revealed: ``order[:k]``.
        grad_texts: node position in ``order`` -> the Text artist of its ``grad`` line.
        shown: the ``grad`` line of each node in ``order``: the engine's number or ``"grad ?"``.
        explanation: the title text, the chain-rule sum of the node revealed last.
    """

    figsize = (9.0, 5.0)
    description = (
        "The computation graph of the expression, the nodes whose gradient the backward pass has "
        "reached outlined with their gradients, and as the title the chain-rule sum of the last"
    )

    def __init__(self, expression: Expression = GATES) -> None:
        if not isinstance(expression, Expression):
            raise TypeError(
                "expression must be an Expression (e.g. GATES or NEURON), "
                f"got {type(expression).__name__}"
            )
        self.expression = expression
        defaults = {name: spec[0] for name, spec in expression.inputs.items()}
        self.num_nodes = len(topological_order(expression.build(**defaults)))
        super().__init__()

    def make_controls(self) -> dict[str, widgets.ValueWidget]:
        controls: dict[str, widgets.ValueWidget] = {
            "step": widgets.IntSlider(
                value=0, min=0, max=self.num_nodes, description="step", continuous_update=False
            )
        }
        for name, (default, low, high) in self.expression.inputs.items():
            controls[name] = widgets.FloatSlider(
                value=default,
                min=low,
                max=high,
                step=0.5,
                description=name,
                continuous_update=False,
            )
        return controls

    def static_grid(self) -> dict[str, Any]:
        # Every step, and the first input in steps of 2: about 60 frames. The other inputs stay
        # fixed on the website.
        first = next(iter(self.expression.inputs))
        return {"step": ALL, first: [-4.0, -2.0, 0.0, 2.0, 4.0]}

    def setup(self, fig: Figure) -> None:
        # draw() scales the graph to the axes' size when it is called, so the axes must not be
        # resized afterwards: a fixed rectangle (no layout engine), with room for the title.
        fig.set_layout_engine("none")
        self.ax = fig.add_axes((0.01, 0.01, 0.98, 0.84))

    def redraw(self, **values: Any) -> None:
        k = int(values["step"])
        inputs = {name: float(values[name]) for name in self.expression.inputs}
        self.root = self.expression.build(**inputs)
        self.order = list(reversed(topological_order(self.root)))
        if len(self.order) != self.num_nodes:
            raise RuntimeError("the expression built a graph of a different size for other inputs")
        self.step = k
        self.revealed = self.order[:k]

        # The backward pass stopped after the first k - 1 nodes: each of the first k nodes is used
        # only by nodes before it in this order, so those k gradients are final.
        for node in self.order:
            node.grad = 0.0
        self.root.grad = 1.0
        for node in self.order[: max(k - 1, 0)]:
            node.local_backward()
        grads = [node.grad for node in self.order]

        self._draw(grads, k)
        self.explanation = self._explain(k)
        self.ax.set_title(
            f"{self.expression.formula}    step {k} of {self.num_nodes}\n{self.explanation}",
            fontsize=10,
        )

    def _draw(self, grads: list[float], k: int) -> None:
        # draw() prints every node's grad. To show only k of them, draw with a distinct
        # placeholder in each grad, find each placeholder's text, and rewrite it. The placeholders
        # have the width of a typical gradient, so the layout is the same at every step.
        for index, node in enumerate(self.order):
            node.grad = _sentinel(index)
        # Remove the previous drawing's boxes, arrows and texts rather than ax.clear(): clearing
        # also rebuilds the axes' ticks, spines and title, a third of a move's callback, and
        # draw() sets the limits, aspect and hidden axis again anyway.
        for artist in [*self.ax.patches, *self.ax.texts]:
            artist.remove()
        try:
            draw(self.root, ax=self.ax, show_grad=True, highlight=self.revealed)
        finally:
            for node, grad in zip(self.order, grads):
                node.grad = grad
        by_text = {
            f"grad {format_number(_sentinel(index))}": index for index in range(len(self.order))
        }
        self.grad_texts: dict[int, Text] = {}
        for text in self.ax.texts:
            index = by_text.get(text.get_text())
            if index is not None:
                self.grad_texts[index] = text
        if len(self.grad_texts) != len(self.order):
            raise RuntimeError(
                f"found {len(self.grad_texts)} grad lines on the drawing for "
                f"{len(self.order)} nodes"
            )
        self.shown = []
        for index, node in enumerate(self.order):
            line = f"grad {format_number(node.grad)}" if index < k else HIDDEN
            self.grad_texts[index].set_text(line)
            if line == HIDDEN:
                self.grad_texts[index].set_color(HIDDEN_COLOR)
            self.shown.append(line)

    def _explain(self, k: int) -> str:
        if k == 0:
            return "forward pass done; move the step slider to send gradients back"
        node = self.order[k - 1]
        if node is self.root:
            name = _name(node)
            return f"{name} is the output: d{name}/d{name} = 1"
        terms = []
        for user in self.order[: k - 1]:
            for parent, local in zip(user.parents, user.local_grads):
                if parent is node:
                    terms.append(f"{format_number(user.grad)} x {format_number(local)}")
        total = " + ".join(terms)
        return f"df/d{_name(node)} = upstream x local = {total} = {format_number(node.grad)}"
