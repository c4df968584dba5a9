"""The scalar autodiff engine: forward values, every local rule against finite differences,
fan-out, deep graphs, gate conventions, error messages, and the drawing."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch
from matplotlib.text import Text

from coursekit.gradcheck import numerical_gradient, relative_error
from coursekit.display.graph_drawing import _layout, draw, format_number
from coursekit.engine import (
    Value,
    backward_steps,
    maximum,
    minimum,
    topological_order,
    zero_grad,
)


def engine_gradient(build, xs):
    """Gradient of build(*inputs) with respect to its inputs, from backward()."""
    inputs = [Value(x) for x in xs]
    build(*inputs).backward()
    return np.array([v.grad for v in inputs])


def numeric_gradient(build, xs):
    """The same gradient by centred differences (float64, eps = 1e-6)."""
    def f(t):
        return build(*[Value(float(a)) for a in t]).data

    return numerical_gradient(f, np.array(xs, dtype=np.float64))


# ---- leaves -----------------------------------------------------------------------------------


class TestLeaves:
    def test_a_new_value_is_a_leaf_with_zero_grad(self):
        x = Value(3, "x")
        assert x.data == 3.0 and type(x.data) is float
        assert x.grad == 0.0 and x.op == "" and x.parents == () and x.label == "x"

    def test_numpy_scalars_and_single_entry_arrays_are_numbers(self):
        assert Value(np.float32(0.5)).data == 0.5
        assert Value(np.int64(-2)).data == -2.0
        assert Value(np.array(1.5)).data == 1.5
        assert Value(np.array([[4.0]])).data == 4.0

    def test_repr(self):
        assert repr(Value(0.5)) == "Value(data=0.5, grad=0.0)"
        x = Value(0.5, "x")
        x.grad = 1.0
        assert repr(x) == "Value(data=0.5, grad=1.0, label='x')"


# ---- forward ----------------------------------------------------------------------------------


class TestForward:
    def test_arithmetic(self):
        a, b = Value(3.0), Value(-2.0)
        assert (a + b).data == 1.0
        assert (a - b).data == 5.0
        assert (a * b).data == -6.0
        assert (a / b).data == -1.5
        assert (-a).data == -3.0
        assert (a**2).data == 9.0
        assert (Value(4.0) ** 0.5).data == 2.0
        assert (b**-1).data == -0.5

    def test_functions(self):
        assert Value(-1.0).relu().data == 0.0 and Value(2.5).relu().data == 2.5
        assert Value(0.0).sigmoid().data == 0.5
        assert Value(0.7).tanh().data == pytest.approx(math.tanh(0.7), rel=1e-15)
        assert Value(1.0).exp().data == pytest.approx(math.e, rel=1e-15)
        assert Value(math.e).log().data == pytest.approx(1.0, rel=1e-15)
        assert maximum(2.0, Value(5.0)).data == 5.0 and minimum(Value(2.0), 5.0).data == 2.0

    def test_each_result_records_op_and_parents_in_argument_order(self):
        a, b = Value(1.0), Value(2.0)
        binary = [a + b, a - b, a * b, a / b, a.maximum(b), a.minimum(b)]
        for op, c in zip(["+", "-", "*", "/", "max", "min"], binary):
            assert c.op == op and c.parents == (a, b), op
        unary = [-a, a**2, a**0.5, a**-1, a.relu(), a.sigmoid(), a.tanh(), a.exp(), a.log()]
        names = ["neg", "**2", "**0.5", "**-1", "relu", "sigmoid", "tanh", "exp", "log"]
        for op, c in zip(names, unary):
            assert c.op == op and c.parents == (a,), op

    def test_a_plain_number_becomes_a_constant_leaf(self):
        x = Value(2.0)
        y = x * 3
        assert y.parents[0] is x and y.parents[1].data == 3.0 and y.parents[1].op == ""


# ---- local rules ------------------------------------------------------------------------------

# Each operation with points away from kinks and singularities.
UNARY = {
    "neg": (lambda a: -a, [-1.3, 0.4]),
    "square": (lambda a: a**2, [-1.3, 0.4]),
    "cube": (lambda a: a**3, [-1.3, 0.4]),
    "sqrt": (lambda a: a**0.5, [0.3, 2.0]),
    "reciprocal": (lambda a: a**-1, [-1.3, 0.4]),
    "relu": (lambda a: a.relu(), [-1.3, 0.4]),
    "sigmoid": (lambda a: a.sigmoid(), [-3.0, 0.0, 2.2]),
    "tanh": (lambda a: a.tanh(), [-2.0, 0.0, 0.8]),
    "exp": (lambda a: a.exp(), [-2.0, 0.0, 1.7]),
    "log": (lambda a: a.log(), [0.2, 1.0, 7.5]),
}
BINARY = {
    "add": (lambda a, b: a + b, [(0.5, -1.5), (2.0, 3.0)]),
    "sub": (lambda a, b: a - b, [(0.5, -1.5), (2.0, 3.0)]),
    "mul": (lambda a, b: a * b, [(0.5, -1.5), (2.0, 3.0)]),
    "div": (lambda a, b: a / b, [(0.5, -1.5), (2.0, 3.0)]),
    "max": (lambda a, b: maximum(a, b), [(0.5, -1.5), (2.0, 3.0)]),
    "min": (lambda a, b: minimum(a, b), [(0.5, -1.5), (2.0, 3.0)]),
}


class TestLocalRules:
    @pytest.mark.parametrize("name", UNARY)
    def test_unary_rule_matches_finite_differences(self, name):
        build, points = UNARY[name]
        for x in points:
            analytic, numeric = engine_gradient(build, [x]), numeric_gradient(build, [x])
            assert relative_error(analytic, numeric) < 1e-7, (name, x, analytic, numeric)

    @pytest.mark.parametrize("name", BINARY)
    def test_binary_rule_matches_finite_differences(self, name):
        build, points = BINARY[name]
        for xs in points:
            analytic, numeric = engine_gradient(build, xs), numeric_gradient(build, xs)
            assert relative_error(analytic, numeric) < 1e-7, (name, xs, analytic, numeric)

    def test_gate_rules_by_hand(self):
        # add distributes, mul swaps, max routes, times-a-constant scales: with dL/dc = 1
        np.testing.assert_array_equal(engine_gradient(lambda a, b: a + b, [2.0, -3.0]), [1.0, 1.0])
        np.testing.assert_array_equal(engine_gradient(lambda a, b: a * b, [2.0, -3.0]), [-3.0, 2.0])
        np.testing.assert_array_equal(engine_gradient(maximum, [2.0, -3.0]), [1.0, 0.0])
        np.testing.assert_array_equal(engine_gradient(minimum, [2.0, -3.0]), [0.0, 1.0])
        np.testing.assert_array_equal(engine_gradient(lambda a: 5 * a, [2.0]), [5.0])
        np.testing.assert_array_equal(engine_gradient(lambda a: a + 5, [2.0]), [1.0])

    def test_local_grads_are_stored_beside_the_result(self):
        a, b = Value(2.0), Value(-3.0)
        assert (a * b).local_grads == (-3.0, 2.0)
        assert (a / b).local_grads == pytest.approx((1 / -3.0, -2.0 / 9.0))
        t = a.tanh()
        assert t.local_grads == pytest.approx((1 - t.data**2,))

    def test_incoming_gradient_is_multiplied_by_the_local_one(self):
        x = Value(0.3)
        y = x.sigmoid()
        loss = 4.0 * y  # dL/dy = 4
        loss.backward()
        s = 1 / (1 + math.exp(-0.3))
        assert y.grad == 4.0
        assert x.grad == pytest.approx(4.0 * s * (1 - s), rel=1e-14)

    def test_relu_gradient_at_the_kink_is_zero(self):
        assert engine_gradient(lambda a: a.relu(), [0.0])[0] == 0.0

    def test_power_zero_and_sqrt_at_zero(self):
        assert engine_gradient(lambda a: a**0, [0.0])[0] == 0.0
        assert engine_gradient(lambda a: a**1, [0.0])[0] == 1.0
        assert engine_gradient(lambda a: a**0.5, [0.0])[0] == math.inf  # vertical tangent
        assert engine_gradient(lambda a: a**2, [-3.0])[0] == -6.0  # negative base, integer power


# ---- reflected operators ----------------------------------------------------------------------


class TestReflected:
    @pytest.mark.parametrize(
        "build, value, grad",
        [
            (lambda x: 2 + x, 5.0, 1.0),
            (lambda x: 2 - x, -1.0, -1.0),
            (lambda x: 2 * x, 6.0, 2.0),
            (lambda x: 2 / x, 2 / 3, -2 / 9),
            (lambda x: 2.5 + x * 0 - x / 1, -0.5, -1.0),
        ],
    )
    def test_number_on_the_left(self, build, value, grad):
        x = Value(3.0)
        y = build(x)
        y.backward()
        assert y.data == pytest.approx(value, rel=1e-15)
        assert x.grad == pytest.approx(grad, rel=1e-15)

    def test_the_number_stays_the_first_operand(self):
        x = Value(3.0)
        for y in (2 + x, 2 - x, 2 * x, 2 / x):
            assert y.parents[0].data == 2.0 and y.parents[1] is x

    def test_numpy_scalar_on_the_left(self):
        x = Value(3.0)
        y = np.float64(2.0) * x
        assert isinstance(y, Value) and y.data == 6.0

    def test_sum_of_values(self):
        xs = [Value(float(i)) for i in range(4)]
        total = sum(xs)
        total.backward()
        assert total.data == 6.0 and [x.grad for x in xs] == [1.0] * 4


# ---- fan-out: a value used more than once -----------------------------------------------------


class TestFanOut:
    def test_square_by_self_multiplication(self):
        x = Value(3.0)
        y = x * x
        y.backward()
        assert x.grad == 6.0  # one 3 from each use

    def test_self_addition(self):
        x = Value(3.0)
        (x + x).backward()
        assert x.grad == 2.0

    def test_self_subtraction_and_division_cancel(self):
        x = Value(3.0)
        (x - x).backward()
        assert x.grad == 0.0
        (x / x).backward()
        assert x.grad == pytest.approx(0.0, abs=1e-16)

    def test_diamond(self):
        a = Value(0.5)
        b, c = a * 2.0, a.exp()  # two paths from a ...
        d = b * c  # ... that meet again
        d.backward()
        # dd/da = dd/db db/da + dd/dc dc/da = c * 2 + b * exp(a)
        assert a.grad == pytest.approx(2 * math.exp(0.5) + 1.0 * math.exp(0.5), rel=1e-15)
        assert b.grad == c.data and c.grad == b.data

    @given(
        a=st.floats(-100, 100), k=st.floats(-100, 100), m=st.floats(-100, 100)
    )
    def test_diamond_for_any_values(self, a, k, m):
        x = Value(a)
        b, c = x * k, x + m
        (b * c).backward()
        assert x.grad == pytest.approx(k * (a + m) + a * k, rel=1e-12, abs=1e-9)

    @given(a=st.floats(-1e3, 1e3), n=st.integers(1, 6))
    def test_a_value_used_n_times(self, a, n):
        x = Value(a)
        total = x
        for _ in range(n - 1):
            total = total + x
        square = x * x
        (total + square).backward()
        assert x.grad == pytest.approx(n + 2 * a, rel=1e-12)


# ---- the backward pass itself -----------------------------------------------------------------


class TestBackward:
    def test_topological_order_lists_inputs_first_and_each_node_once(self):
        a, b = Value(1.0), Value(2.0)
        c = a * b
        d = c + a
        e = d * c
        order = topological_order(e)
        assert len(order) == len({id(v) for v in order}) == 5
        assert order[-1] is e and order.index(a) < order.index(c) < order.index(d)
        position = {id(v): k for k, v in enumerate(order)}
        assert all(position[id(p)] < position[id(v)] for v in order for p in v.parents)

    def test_repeated_backward_gives_the_same_grads(self):
        x, w = Value(1.5), Value(-0.5)
        loss = (x * w).tanh() ** 2
        loss.backward()
        first = (x.grad, w.grad)
        loss.backward()
        assert (x.grad, w.grad) == first and loss.grad == 1.0

    def test_grads_from_another_output_are_cleared(self):
        x = Value(2.0)
        (x * 10).backward()
        y = x * x
        y.backward()
        assert x.grad == 4.0

    def test_zero_grad(self):
        x = Value(2.0)
        y = x * x
        y.backward()
        zero_grad(y)
        assert x.grad == 0.0 and y.grad == 0.0

    def test_backward_steps_one_rule_at_a_time(self):
        x = Value(2.0, "x")
        h = x * x
        y = h.tanh()
        steps = backward_steps(y)
        # the call zeroes and seeds; nothing has propagated yet
        assert y.grad == 1.0 and h.grad == 0.0 and x.grad == 0.0
        assert next(steps) is y and h.grad == pytest.approx(1 - math.tanh(4.0) ** 2)
        assert x.grad == 0.0
        assert next(steps) is h and x.grad == pytest.approx(4.0 * h.grad)
        assert list(steps) == []  # the leaf x has no rule to apply

    def test_exhausting_the_steps_equals_backward(self):
        a, b = Value(0.3), Value(-1.2)
        out = (a * b + a.exp()).sigmoid() * b
        out.backward()
        expected = (a.grad, b.grad)
        for _ in backward_steps(out):
            pass
        assert (a.grad, b.grad) == expected

    def test_backward_on_a_leaf(self):
        x = Value(4.0)
        x.backward()
        assert x.grad == 1.0

    def test_deep_chain_needs_no_recursion(self):
        # 10 000 additions, far beyond Python's default recursion limit of 1000
        x = Value(0.5)
        y = x
        for _ in range(10_000):
            y = y + x
        y.backward()
        assert len(topological_order(y)) == 10_001  # x and the 10 000 sums
        assert x.grad == 10_001.0
        y.backward()
        assert x.grad == 10_001.0

    def test_stored_local_grads_use_forward_values(self):
        # Updating a parameter after the forward pass does not change the recorded graph.
        w = Value(2.0)
        loss = w * w
        w.data = 100.0
        loss.backward()
        assert w.grad == 4.0


# ---- max and min: routers, and what happens at a tie ------------------------------------------


class TestGates:
    def test_max_routes_to_the_winner_and_min_to_the_loser(self):
        a, b = Value(1.0), Value(4.0)
        m = maximum(a, b) * 3.0
        m.backward()
        assert (a.grad, b.grad) == (0.0, 3.0)
        n = minimum(a, b) * 3.0
        n.backward()
        assert (a.grad, b.grad) == (3.0, 0.0)

    def test_ties_go_to_the_first_argument(self):
        a, b = Value(2.0), Value(2.0)
        maximum(a, b).backward()
        assert (a.grad, b.grad) == (1.0, 0.0)
        maximum(b, a).backward()
        assert (a.grad, b.grad) == (0.0, 1.0)
        minimum(a, b).backward()
        assert (a.grad, b.grad) == (1.0, 0.0)
        a.minimum(b).backward()
        assert (a.grad, b.grad) == (1.0, 0.0)

    def test_max_with_zero_versus_relu_at_the_kink(self):
        x = Value(0.0)
        maximum(x, 0.0).backward()
        assert x.grad == 1.0  # tie: x is first
        maximum(0.0, x).backward()
        assert x.grad == 0.0
        x.relu().backward()
        assert x.grad == 0.0

    @given(a=st.floats(-1e6, 1e6), b=st.floats(-1e6, 1e6))
    def test_gradient_is_routed_not_split(self, a, b):
        x, y = Value(a), Value(b)
        for gate in (maximum, minimum):
            out = gate(x, y)
            out.backward()
            assert sorted((x.grad, y.grad)) == [0.0, 1.0]
            winner = x if x.grad == 1.0 else y
            assert out.data == winner.data


# ---- numerical stability ----------------------------------------------------------------------


class TestStability:
    def test_sigmoid_far_from_zero(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            lo, hi = Value(-1e4), Value(1e4)
            s_lo, s_hi = lo.sigmoid(), hi.sigmoid()
            s_lo.backward()
            s_hi.backward()
        assert s_lo.data == 0.0 and s_hi.data == 1.0
        assert lo.grad == 0.0 and hi.grad == 0.0

    def test_sigmoid_is_accurate_for_negative_inputs(self):
        # 1 - sigmoid(40) would round to 0; the stable form keeps sigmoid(-40) relative-accurate
        assert Value(-40.0).sigmoid().data == pytest.approx(math.exp(-40.0), rel=1e-12)

    def test_tanh_saturates_quietly(self):
        x = Value(1e4)
        y = x.tanh()
        y.backward()
        assert y.data == 1.0 and x.grad == 0.0


# ---- errors -----------------------------------------------------------------------------------


class TestErrors:
    @pytest.mark.parametrize(
        "data, name",
        [
            ("3", "str"),
            (None, "NoneType"),
            (np.ones(3), "shape \\(3,\\)"),
            (True, "bool"),
            (1j, "complex"),
        ],
    )
    def test_value_of_a_non_number(self, data, name):
        with pytest.raises(TypeError, match=name):
            Value(data)

    def test_label_must_be_text(self):
        with pytest.raises(TypeError, match="label must be a str"):
            Value(1.0, label=3)

    @pytest.mark.parametrize("other", ["a", None, [1.0], np.array([1.0, 2.0])])
    def test_combining_with_an_unsupported_type(self, other):
        x = Value(1.0)
        name = type(other).__name__
        for combine in (lambda: x + other, lambda: other * x, lambda: x - other, lambda: other / x):
            with pytest.raises(TypeError, match=f"a Value and a {name}"):
                combine()

    def test_an_array_is_not_silently_broadcast(self):
        with pytest.raises(TypeError, match=r"ndarray of shape \(2,\)"):
            np.array([1.0, 2.0]) * Value(3.0)

    def test_value_exponent(self):
        x = Value(2.0)
        with pytest.raises(TypeError, match="exponent .* must be a plain number, not a Value"):
            x ** Value(2.0)
        with pytest.raises(TypeError, match="not used as an exponent"):
            2.0**x
        with pytest.raises(TypeError, match="int or float, got str"):
            x ** "2"

    def test_log_of_non_positive(self):
        with pytest.raises(ValueError, match=r"log\(-2.0\).*label='z'"):
            Value(-2.0, "z").log()
        with pytest.raises(ValueError, match=r"log\(0.0\)"):
            Value(0.0).log()

    def test_division_by_zero_names_the_operands(self):
        with pytest.raises(ZeroDivisionError, match=r"Value\(data=1.0.*/ Value\(data=0.0"):
            Value(1.0) / Value(0.0)
        with pytest.raises(ZeroDivisionError, match="division by zero"):
            1 / Value(0.0)

    def test_powers_without_a_real_value(self):
        with pytest.raises(ZeroDivisionError, match=r"0 \*\* -1"):
            Value(0.0) ** -1
        with pytest.raises(ValueError, match="not a real number"):
            Value(-8.0) ** 0.5

    def test_exp_overflow(self):
        with pytest.raises(OverflowError, match=r"exp\(800.0\)"):
            Value(800.0).exp()

    def test_graph_functions_want_a_value(self):
        with pytest.raises(TypeError, match="expected a Value, got float"):
            topological_order(1.0)
        with pytest.raises(TypeError, match="draw expects a Value, got list"):
            draw([Value(1.0)])
        with pytest.raises(ValueError, match="rankdir"):
            draw(Value(1.0), rankdir="RL")


# ---- property tests: random expressions against finite differences ----------------------------

OPS = ["+", "*", "tanh", "sigmoid", "exp"]


@st.composite
def programs(draw_, max_inputs=3, max_steps=6):
    """Inputs in [-3, 3] and a straight-line program over them; later steps may reuse any earlier
    register, so fan-out (x * x) and diamonds come up often."""
    n = draw_(st.integers(1, max_inputs))
    xs = draw_(st.lists(st.floats(-3, 3), min_size=n, max_size=n))
    steps = []
    for k in range(draw_(st.integers(1, max_steps))):
        op = draw_(st.sampled_from(OPS))
        steps.append((op, draw_(st.integers(0, n + k - 1)), draw_(st.integers(0, n + k - 1))))
    return xs, steps


def run(steps, *inputs):
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


class TestRandomExpressions:
    @settings(max_examples=150, deadline=None)
    @given(programs())
    def test_gradient_matches_centred_differences(self, program):
        xs, steps = program
        inputs = [Value(x) for x in xs]
        out = run(steps, *inputs)
        # Keep every intermediate value moderate: exp of a large product would overflow or make
        # the finite difference itself inaccurate.
        scale = max(abs(v.data) for v in topological_order(out))
        assume(scale < 1e3)
        out.backward()
        analytic = np.array([v.grad for v in inputs])
        numeric = numeric_gradient(lambda *v: run(steps, *v), xs)
        # The centred difference carries rounding noise of about 1e-16 * scale / eps = 1e-10 * scale
        # (absolute), whatever the size of the derivative; a wrong rule is off by far more.
        noise = 1e-9 * max(1.0, scale)
        bar = 1e-7 * np.maximum(np.abs(analytic), np.abs(numeric)) + noise
        close = np.abs(analytic - numeric) <= bar
        assert close.all(), (steps, xs, analytic, numeric)

    @settings(max_examples=50, deadline=None)
    @given(programs())
    def test_backward_twice_and_stepwise_agree(self, program):
        xs, steps = program
        inputs = [Value(x) for x in xs]
        out = run(steps, *inputs)
        assume(all(math.isfinite(v.data) for v in topological_order(out)))
        out.backward()
        once = [v.grad for v in inputs]
        stepped = list(backward_steps(out))
        assert [v.grad for v in inputs] == once
        assert len(stepped) == sum(1 for v in topological_order(out) if v.parents)


# ---- drawing ----------------------------------------------------------------------------------


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
        steps = backward_steps(out)
        node = next(steps)
        assert draw(out, ax=ax, highlight=node) is fig
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
