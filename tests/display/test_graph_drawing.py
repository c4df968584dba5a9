"""Drawing an engine graph: every value and gradient shown, the layout keeps boxes apart and
draws the first operand of a minus first."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch
from matplotlib.text import Text

from coursekit.display.graph_drawing import _layout, draw, format_number
from coursekit.engine import Value, topological_order
from strategies import programs, run


def texts(fig):
    return [t.get_text() for t in fig.findobj(Text)]


def neuron():
    x1, x2 = Value(2.0, "x1"), Value(-1.0, "x2")
    w1, w2, b = Value(-0.5, "w1"), Value(0.75, "w2"), Value(0.3, "b")
    z = x1 * w1 + x2 * w2 + b
    z.label = "z"
    out = z.tanh()
    out.label = "out"
    out.backward()
    return out


class TestDraw:
    def test_returns_a_figure_showing_every_data_and_grad(self):
        out = neuron()
        fig = draw(out)
        assert isinstance(fig, Figure)
        shown = texts(fig)
        for v in topological_order(out):
            assert f"data {format_number(v.data)}" in shown
            assert f"grad {format_number(v.grad)}" in shown
        for label in ("x1", "x2", "w1", "w2", "b", "z", "out"):
            assert label in shown
        assert "tanh" in shown and "\u00d7" in shown and "+" in shown

    def test_numbers_have_four_significant_digits(self):
        assert format_number(0.19767681) == "0.1977"
        assert format_number(-1234.5678) == "-1235"
        assert format_number(-0.0) == "0"
        assert format_number(2.0) == "2"

    def test_forward_only_drawing_has_no_grads(self):
        fig = draw(neuron(), show_grad=False)
        assert not any(t.startswith("grad") for t in texts(fig))
        assert "data 2" in texts(fig)

    def test_size_grows_with_the_graph_and_rankdir_turns_it(self):
        small = draw(Value(1.0) + Value(2.0)).get_size_inches()
        big = draw(neuron()).get_size_inches()
        assert big[0] > small[0]
        tall = draw(neuron(), rankdir="TB").get_size_inches()
        assert tall[1] > tall[0] and big[0] > big[1]

    def test_into_given_axes(self):
        fig = Figure(figsize=(8, 3))
        ax = fig.subplots()
        out = neuron()
        assert draw(out, ax=ax) is fig
        ax.clear()
        assert draw(out, ax=ax, highlight=out) is fig
        assert "data -0.8957" in texts(fig)

    def test_redrawing_after_clear_keeps_the_axes_rectangle_and_text_size(self):
        # The redraw the docstring recommends: clear() keeps the equal aspect and the shrunken
        # position of the last drawing, which must not squeeze the next drawing into a square.
        fig = Figure(figsize=(9, 4))
        ax = fig.add_axes((0.05, 0.05, 0.9, 0.8))
        out = neuron()
        sizes, boxes = [], []
        for _ in range(3):
            ax.clear()
            draw(out, ax=ax)
            FigureCanvasAgg(fig).draw()  # applies the aspect, as showing the figure would
            sizes.append(ax.texts[0].get_fontsize())
            boxes.append(ax.get_position().bounds)
        np.testing.assert_allclose(boxes, [(0.05, 0.05, 0.9, 0.8)] * 3, atol=1e-9)
        assert sizes[0] == sizes[1] == sizes[2]

    def test_bad_arguments(self):
        with pytest.raises(TypeError, match="draw expects a Value, got list"):
            draw([Value(1.0)])
        with pytest.raises(ValueError, match="rankdir"):
            draw(Value(1.0), rankdir="RL")

    def test_a_single_leaf(self):
        assert "data 3" in texts(draw(Value(3.0)))

    def test_every_node_and_edge_appears(self):
        out = neuron()
        fig = draw(out)
        order = topological_order(out)
        ops = [v for v in order if v.parents]
        arrows = sum(len(v.parents) + 1 for v in ops)  # inputs to each op, op to its output
        assert len(fig.axes[0].patches) == len(order) + len(ops) + arrows

    @pytest.mark.parametrize("vertical", [False, True])
    def test_first_operand_of_minus_is_drawn_first(self, vertical):
        # (a + b) - a: a's edge to the minus skips a column, and left to itself the layout would
        # route it above the sum, suggesting a - (a + b)
        a, b = Value(1.0, "a"), Value(2.0, "b")
        layers, _ = _layout((a + b) - a, True, vertical)
        minus = [i for column in layers for i in column if i.kind == "op" and i.value.op == "-"][0]
        first, second = minus.preds
        assert first.value.op == "+" and second.kind == "bend"
        assert first.v < second.v

    def test_first_operand_of_minus_enters_from_above(self):
        # a - b and b - a side by side: no order of the boxes suits both, so the arrow ports must
        # tell: the first operand's arrow enters the circle above the second's.
        a, b = Value(1.0, "a"), Value(2.0, "b")
        c, d = a - b, b - a
        c.label, d.label = "c", "d"
        ax = draw(c * d).axes[0]
        label_y = {t.get_text(): t.get_position()[1] for t in ax.texts if len(t.get_text()) == 1}
        minus_centres = [t.get_position() for t in ax.texts if t.get_text() == "\u2212"]
        arrows = [p.get_path().vertices for p in ax.patches if isinstance(p, FancyArrowPatch)]
        circles = [p for p in ax.patches if isinstance(p, Circle) and p.center in minus_centres]
        assert len(circles) == 2

        def nearest_label(y, names):
            return min(names, key=lambda name: abs(label_y[name] - y))

        first_operand = {}
        for circle in circles:
            (cx, cy), r = circle.center, circle.radius
            out = next(v for v in arrows if np.allclose(v[0], (cx + r, cy)))
            result = nearest_label(out[:, 1].mean(), "cd")
            entering = []  # (y where the arrow meets the circle, y where it starts)
            for v in arrows:
                distance = np.hypot(v[:, 0] - cx, v[:, 1] - cy)
                if distance[0] > 2 * r and distance.min() < 1.2 * r:  # ends here, starts elsewhere
                    entering.append((v[distance.argmin()][1], v[0][1]))
            assert len(entering) == 2
            upper = max(entering)
            first_operand[result] = nearest_label(upper[1], "ab")
        assert first_operand == {"c": "a", "d": "b"}

    @settings(max_examples=40, deadline=None)
    @given(programs(max_inputs=4, max_steps=8), st.sampled_from([False, True]))
    def test_layout_keeps_boxes_apart_and_operands_in_order(self, program, vertical):
        xs, steps = program
        steps = [("-" if op == "exp" else op, i, j) for op, i, j in steps]  # exercise ordering

        def run_with_minus(*inputs):
            registers = list(inputs)
            for op, i, j in steps:
                a, b = registers[i], registers[j]
                registers.append(a - b if op == "-" else run([(op, 0, 1)], a, b))
            return registers[-1]

        layers, _ = _layout(run_with_minus(*[Value(x) for x in xs]), True, vertical)
        for layer in layers:
            for upper, lower in zip(layer, layer[1:]):
                assert upper.v + upper.across / 2 < lower.v - lower.across / 2  # no overlap
        for column in layers:
            # a - b: a above b (left of it in TB), unless the column also holds b - a (or a
            # longer cycle of such demands), when only the arrow ports can show the order
            demands = [
                (op.preds[0], op.preds[1])
                for op in column
                if op.kind == "op" and op.value.op == "-" and op.preds[0] is not op.preds[1]
            ]
            if not has_cycle(demands):
                assert all(first.v < second.v for first, second in demands)


def has_cycle(pairs):
    """Whether the 'first before second' demands contradict each other (Kahn's algorithm)."""
    nodes = {id(n) for pair in pairs for n in pair}
    edges = {(id(a), id(b)) for a, b in pairs}
    while nodes:
        free = [n for n in nodes if not any(b == n and a in nodes for a, b in edges)]
        if not free:
            return True
        nodes -= set(free)
    return False
