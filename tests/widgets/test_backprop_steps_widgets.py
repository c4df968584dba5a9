"""The backprop stepper: exactly k gradients at step k, equal to the engine's, in reverse order."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.patches import FancyBboxPatch

from coursekit.gradcheck import numerical_gradient
from coursekit.display.graph_drawing import format_number
from coursekit.engine import Value, topological_order
from coursekit.widgets.backprop_steps import FAN_OUT, GATES, HIDDEN, NEURON, BackpropStepperApp

HIGHLIGHT = to_rgba(
    "#D55E00"
)  # the outline coursekit.display.graph_drawing.draw gives highlighted nodes


def engine_grads(expression, inputs):
    """label -> gradient after a full backward() on a freshly built graph."""
    root = expression.build(**inputs)
    root.backward()
    return {node.label: node.grad for node in topological_order(root)}


def defaults(expression):
    return {name: spec[0] for name, spec in expression.inputs.items()}


@pytest.mark.parametrize("expression, size", [(GATES, 9), (NEURON, 10), (FAN_OUT, 5)])
def test_step_slider_runs_over_every_node(expression, size):
    app = BackpropStepperApp(expression)
    assert app.num_nodes == size
    assert app.controls["step"].max == size
    assert set(app.controls) == {"step", *expression.inputs}


@pytest.mark.parametrize("expression", [GATES, NEURON, FAN_OUT])
def test_exactly_k_gradients_shown_at_step_k_and_they_are_the_engines(expression):
    app = BackpropStepperApp(expression)
    final = engine_grads(expression, defaults(expression))
    for k in range(app.num_nodes + 1):
        app.set(step=k)
        texts = [app.grad_texts[i].get_text() for i in range(app.num_nodes)]
        assert texts == app.shown
        assert sum(text != HIDDEN for text in texts) == k
        assert texts[k:] == [HIDDEN] * (app.num_nodes - k)  # the revealed ones come first in order
        for node, text in zip(app.order[:k], texts[:k]):
            assert text == f"grad {format_number(final[node.label])}"
            assert node.grad == pytest.approx(final[node.label])
        outlined = [
            p
            for p in app.ax.patches
            if isinstance(p, FancyBboxPatch) and p.get_edgecolor() == HIGHLIGHT
        ]
        assert len(outlined) == k
        assert f"step {k} of {app.num_nodes}" in app.ax.get_title()


def test_order_is_reverse_topological():
    app = BackpropStepperApp(GATES)
    position = {id(node): i for i, node in enumerate(app.order)}
    assert app.order[0] is app.root
    for node in app.order:
        for parent in node.parents:
            assert position[id(parent)] > position[id(node)]  # every user comes before its inputs


@pytest.mark.parametrize(
    "point", [(1.5, -2.0, 3.5, -1.0), (1.5, -2.0, 3.5, 2.0), (-0.5, 3.0, 1.0, -3.5)]
)
def test_gates_values_match_finite_differences_for_other_inputs(point):
    app = BackpropStepperApp(GATES).set(x=point[0], y=point[1], z=point[2], w=point[3], step=9)
    numeric = numerical_gradient(lambda v: GATES.build(*v).data, np.array(point))
    shown = {node.label: node.grad for node in app.order}
    np.testing.assert_allclose([shown[name] for name in "xyzw"], numeric, rtol=1e-7, atol=1e-9)


def test_a_max_tie_goes_to_the_first_argument():
    # r = x*y + z = 0.5 ties with w = 0.5 (a kink, no derivative): the engine routes to r
    app = BackpropStepperApp(GATES).set(x=1.5, y=-2.0, z=3.5, w=0.5, step=9)
    shown = {node.label: node.grad for node in app.order}
    assert shown["z"] == 2.0 and shown["w"] == 0.0


def test_max_routes_the_gradient_to_the_winner_when_w_wins():
    app = BackpropStepperApp(GATES).set(x=1.0, y=1.0, z=0.0, w=3.0, step=9)
    shown = {node.label: node.grad for node in app.order}
    assert shown["w"] == 2.0 and shown["x"] == 0.0 and shown["z"] == 0.0


def test_fan_out_explanation_sums_both_branches():
    app = BackpropStepperApp(FAN_OUT).set(x=3.0, y=-2.0)
    x_position = next(i for i, node in enumerate(app.order) if node.label == "x")
    app.set(step=x_position + 1)
    # df/dx = 1 (x wins the max) + y (through x*y) = 1 - 2
    assert app.explanation == "df/dx = upstream x local = 1 x 1 + 1 x -2 = -1"
    assert app.shown[x_position] == "grad -1"


def test_explanation_at_the_start_and_the_output():
    app = BackpropStepperApp(NEURON)
    assert "forward pass" in app.explanation
    app.set(step=1)
    assert app.explanation == "ŷ is the output: dŷ/dŷ = 1"


def test_inputs_rebuild_the_graph():
    app = BackpropStepperApp(NEURON).set(w1=1.0, x1=1.0, w2=0.0, x2=0.0, b=-1.0, step=10)
    assert app.root.data == pytest.approx(0.5)  # sigmoid(1 - 1)
    shown = {node.label: node.grad for node in app.order}
    assert shown["w1"] == pytest.approx(0.25)  # sigmoid'(0) * x1


def test_bad_expression():
    with pytest.raises(TypeError, match="must be an Expression"):
        BackpropStepperApp(lambda x: Value(x))


def test_the_graph_keeps_its_size_from_step_to_step():
    # Rendering applies the equal aspect; each step's redraw must still fit the graph to the
    # whole rectangle, not to the shape the previous drawing left behind.
    app = BackpropStepperApp(GATES)
    app.png()
    first = (app.ax.get_position().bounds, app.grad_texts[0].get_fontsize())
    for k in range(4):
        app.set(step=k)
        app.png()
        assert app.ax.get_position().bounds == pytest.approx(first[0])
        assert app.grad_texts[0].get_fontsize() == pytest.approx(first[1])
    box = app.ax.get_position()
    assert box.width == pytest.approx(0.98)  # the graph is wider than tall: it fills the width
