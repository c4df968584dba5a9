"""The scalar autodiff engine: forward values, every local rule against finite differences,
fan-out, deep graphs, gate conventions, the backward pass node by node, error messages."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit.engine import Value, maximum, minimum, topological_order
from coursekit.gradcheck import numerical_gradient, relative_error
from strategies import PROGRAM_BOUND, programs, reals, run


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

    @given(a=reals(100), k=reals(100), m=reals(100))
    def test_diamond_for_any_values(self, a, k, m):
        x = Value(a)
        b, c = x * k, x + m
        (b * c).backward()
        assert x.grad == pytest.approx(k * (a + m) + a * k, rel=1e-12, abs=1e-9)

    @given(a=reals(1e3), n=st.integers(1, 6))
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

    def test_local_backward_applies_one_node_s_rule(self):
        x = Value(2.0, "x")
        h = x * x
        y = h.tanh()
        y.grad = 1.0
        y.local_backward()  # only dL/dh arrives
        assert h.grad == pytest.approx(1 - math.tanh(4.0) ** 2) and x.grad == 0.0
        h.local_backward()  # x is used twice by h: two terms of 2 * dL/dh
        assert x.grad == pytest.approx(4.0 * h.grad)
        x.local_backward()  # a leaf has no rule: nothing changes
        assert x.grad == pytest.approx(4.0 * h.grad)

    def test_the_node_by_node_sweep_equals_backward(self):
        a, b = Value(0.3), Value(-1.2)
        out = (a * b + a.exp()).sigmoid() * b
        out.backward()
        expected = (a.grad, b.grad)
        for node in topological_order(out):
            node.grad = 0.0
        out.grad = 1.0
        for node in reversed(topological_order(out)):
            node.local_backward()
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

    @given(a=reals(1e6), b=reals(1e6))
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

    def test_topological_order_wants_a_value(self):
        with pytest.raises(TypeError, match="expected a Value, got float"):
            topological_order(1.0)


# ---- property tests: random expressions against finite differences ----------------------------


class TestRandomExpressions:
    @settings(max_examples=150, deadline=None)
    @given(programs())
    def test_gradient_matches_centred_differences(self, program):
        xs, steps = program
        inputs = [Value(x) for x in xs]
        out = run(steps, *inputs)
        # programs() keeps every intermediate value within PROGRAM_BOUND: no overflow, and a
        # finite difference that is accurate enough to compare
        scale = max(abs(v.data) for v in topological_order(out))
        assert scale <= PROGRAM_BOUND
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
    def test_backward_twice_agrees(self, program):
        xs, steps = program
        inputs = [Value(x) for x in xs]
        out = run(steps, *inputs)
        out.backward()
        once = [v.grad for v in inputs]
        out.backward()
        assert [v.grad for v in inputs] == once
