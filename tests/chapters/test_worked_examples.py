"""The worked examples: forward values, loss, gradients and the SGD step, each computed more than one way.

Three independent computations must agree: the vectorised layers of coursekit.nn (``sgd_step``),
the scalar engine coursekit.engine (``scalar_engine_gradients``) and centred finite differences of
a plain NumPy forward pass (``gradient_checks``). The expected forward values are written out
below as NumPy expressions of the example's weights, not copied from anywhere.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from coursekit.chapters.worked_examples import (
    compare_claims,
    NET_2331,
    RELU_231,
    LayerSpec,
    WorkedExample,
    build_model,
    decrease_threshold,
    decreasing_intervals,
    gradient_checks,
    linearised_lr_limit,
    loss_after_step,
    loss_after_steps,
    loss_at,
    output_gradient,
    output_gradient_sq_norm,
    relu_patterns,
    scalar_engine_gradients,
    sgd_step,
)

EXAMPLES = [RELU_231, NET_2331]


def relu(z):
    return np.maximum(z, 0.0)


# --- forward pass ---------------------------------------------------------------------------


def test_relu_231_forward_matches_the_formulas():
    p = RELU_231.parameters
    z1 = p["W1"] @ RELU_231.x + p["b1"]
    yhat = p["W2"] @ relu(z1) + p["b2"]
    step = sgd_step(RELU_231)
    np.testing.assert_allclose(step.forward["z1"], z1, rtol=0, atol=1e-15)
    np.testing.assert_allclose(step.forward["h1"], relu(z1), rtol=0, atol=1e-15)
    np.testing.assert_allclose(step.forward["yhat"], yhat, rtol=0, atol=1e-15)
    assert step.loss == pytest.approx(0.5 * (yhat[0] - 1.5) ** 2, rel=1e-15)


def test_net_2331_has_a_linear_second_hidden_layer_and_no_output_bias():
    p = NET_2331.parameters
    assert "b3" not in p
    z2 = p["W2"] @ relu(p["W1"] @ NET_2331.x + p["b1"]) + p["b2"]
    step = sgd_step(NET_2331)
    np.testing.assert_array_equal(
        step.forward["h2"], z2
    )  # identity: h2 is z2, negative entries kept
    assert np.any(z2 < 0)
    assert step.forward["yhat"][0] == pytest.approx(float((p["W3"] @ z2)[0]), abs=1e-12)
    # Integer weights and inputs: every forward value is exact.
    assert step.forward["yhat"][0] == 5.0
    assert step.loss == 0.5 * (5.0 - 1.5) ** 2


def test_relu_231_reconstructed_bias_reproduces_the_hidden_value_the_source_states():
    # With b1[2] = 0 the third hidden unit is 0.5*1 + 0.7*2 = 1.9; with -0.1 it would be 1.8.
    step = sgd_step(RELU_231)
    assert step.forward["z1"][2] == pytest.approx(1.9, abs=1e-12)
    other = RELU_231.with_parameters(b1=[0.1, -0.2, -0.1])
    assert sgd_step(other).forward["z1"][2] == pytest.approx(1.8, abs=1e-12)


@pytest.mark.parametrize("example", EXAMPLES, ids=["231", "2331"])
def test_build_model_computes_the_same_output(example):
    model = build_model(example)
    yhat = model(example.x[None, :])
    assert yhat.shape == (1, 1)
    assert 0.5 * (yhat[0, 0] - example.y) ** 2 == pytest.approx(loss_at(example), rel=1e-14)


# --- gradients: layers, scalar engine, finite differences -----------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=["231", "2331"])
def test_layers_agree_with_the_scalar_engine(example):
    step = sgd_step(example)
    loss, grads = scalar_engine_gradients(example)
    assert loss == pytest.approx(step.loss, rel=1e-14)
    assert set(grads) == set(step.gradients)
    for name, g in grads.items():
        np.testing.assert_allclose(step.gradients[name], g, rtol=1e-12, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("example", EXAMPLES, ids=["231", "2331"])
def test_layers_agree_with_finite_differences(example):
    checks = gradient_checks(example)
    assert set(checks) == set(example.parameter_names)
    for name, check in checks.items():
        assert check.ok, f"{name}: {check}"


def test_output_delta_is_prediction_minus_target():
    for example in EXAMPLES:
        step = sgd_step(example)
        assert step.backward["dL/dyhat"][0] == pytest.approx(
            step.forward["yhat"][0] - example.y, abs=1e-15
        )


def test_net_2331_backward_values_follow_the_chain_rule():
    step = sgd_step(NET_2331)
    p = NET_2331.parameters
    r = step.forward["yhat"][0] - NET_2331.y
    np.testing.assert_allclose(step.gradients["W3"], r * step.forward["h2"][None, :])
    dz2 = r * p["W3"][0]
    np.testing.assert_allclose(step.gradients["W2"], np.outer(dz2, step.forward["h1"]))
    dz1 = (p["W2"].T @ dz2) * (step.forward["z1"] > 0)
    np.testing.assert_allclose(step.gradients["W1"], np.outer(dz1, NET_2331.x))
    np.testing.assert_allclose(step.backward["dL/dz1"], dz1)


def test_gradient_is_residual_times_output_gradient():
    for example in EXAMPLES:
        step = sgd_step(example)
        r = step.forward["yhat"][0] - example.y
        for name, g in output_gradient(example).items():
            np.testing.assert_allclose(step.gradients[name], r * g, rtol=1e-14, atol=1e-15)


# --- the update and the loss after it --------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=["231", "2331"])
def test_update_is_parameter_minus_lr_times_gradient(example):
    step = sgd_step(example, lr=0.03)
    for name in example.parameter_names:
        np.testing.assert_allclose(
            step.updated[name],
            step.parameters[name] - 0.03 * step.gradients[name],
            rtol=0,
            atol=1e-15,
        )
    # The example itself is not changed by the step.
    for name, value in example.parameters.items():
        np.testing.assert_array_equal(value, step.parameters[name])


@pytest.mark.parametrize("example", EXAMPLES, ids=["231", "2331"])
def test_loss_after_step_computed_two_ways(example):
    step = sgd_step(example)
    assert step.loss_after == pytest.approx(loss_at(example, step.updated), rel=1e-13)
    stepped = example.with_parameters(**step.updated)
    loss, _ = scalar_engine_gradients(stepped)
    assert step.loss_after == pytest.approx(loss, rel=1e-13)


def test_relu_231_step_lowers_the_loss_and_net_2331_at_the_same_rate_raises_it():
    assert sgd_step(RELU_231).loss_after < sgd_step(RELU_231).loss
    assert sgd_step(NET_2331).loss_after > 10 * sgd_step(NET_2331).loss


def test_bias_free_layer_stays_bias_free():
    step = sgd_step(NET_2331)
    assert "b3" not in step.gradients and "b3" not in step.updated
    assert step.forward_after["z3"][0] == pytest.approx(
        float((step.updated["W3"] @ step.forward_after["h2"])[0]), abs=1e-12
    )


def test_vectorised_sweep_matches_single_steps():
    lrs = np.array([1e-4, 3e-3, 0.02, 0.1, 0.5])
    for example in EXAMPLES:
        np.testing.assert_allclose(
            loss_after_steps(example, lrs), [loss_after_step(example, lr) for lr in lrs], rtol=1e-12
        )


# --- learning rates ------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=["231", "2331"])
def test_linearised_limit_predicts_the_measured_threshold_within_ten_percent(example):
    lrs = np.logspace(-4, 0, 161)
    runs = decreasing_intervals(lrs, loss_after_steps(example, lrs), sgd_step(example).loss)
    assert runs[0][0] == lrs[0]
    i = int(np.searchsorted(lrs, runs[0][1]))
    threshold = decrease_threshold(example, lrs[i], lrs[i + 1])
    assert loss_after_step(example, threshold) == pytest.approx(sgd_step(example).loss, rel=1e-8)
    assert loss_after_step(example, 0.99 * threshold) < sgd_step(example).loss
    assert threshold == pytest.approx(linearised_lr_limit(example), rel=0.1)
    # The ReLU patterns are the same at the threshold as before the step: the linearisation's
    # premise holds there.
    new = {
        k: v - threshold * g
        for (k, v), g in zip(
            sgd_step(example).parameters.items(), sgd_step(example).gradients.values()
        )
    }
    for before, after in zip(relu_patterns(example), relu_patterns(example, new)):
        np.testing.assert_array_equal(before, after)


def test_output_gradient_norm_of_net_2331_is_an_integer_sum_of_squares():
    g = output_gradient(NET_2331)
    p = NET_2331.parameters
    h1 = relu(p["W1"] @ NET_2331.x + p["b1"])
    z2 = p["W2"] @ h1 + p["b2"]
    mask = (p["W1"] @ NET_2331.x + p["b1"]) > 0
    dz1 = (p["W2"].T @ p["W3"][0]) * mask
    expected = (
        np.sum(z2**2)
        + np.sum(np.outer(p["W3"][0], h1) ** 2)
        + np.sum(p["W3"] ** 2)
        + np.sum(np.outer(dz1, NET_2331.x) ** 2)
        + np.sum(dz1**2)
    )
    assert output_gradient_sq_norm(NET_2331) == pytest.approx(expected, rel=1e-14)
    assert set(g) == {"W1", "b1", "W2", "b2", "W3"}


def test_decreasing_intervals_finds_separate_runs():
    lrs = np.arange(1.0, 8.0)
    after = np.array([1, 1, 5, 5, 1, 5, 1.0])
    assert decreasing_intervals(lrs, after, 2.0) == [(1.0, 2.0), (5.0, 5.0), (7.0, 7.0)]
    with pytest.raises(ValueError, match="increasing"):
        decreasing_intervals(lrs[::-1], after, 2.0)


def test_decrease_threshold_needs_a_bracket():
    with pytest.raises(ValueError, match="bisection"):
        decrease_threshold(RELU_231, 1e-4, 1e-3)


# --- reading values and comparing claims ----------------------------------------------------


def test_rows_cover_every_parameter_entry():
    step = sgd_step(NET_2331)
    rows = step.parameter_rows()
    assert len(rows) == sum(v.size for v in NET_2331.parameters.values())
    assert rows[0][0] == "W1[0,0]"
    names = [r[0] for r in step.forward_rows()]
    assert "yhat" in names and "z2[2]" in names and "x[0]" not in names


# --- validation ----------------------------------------------------------------------------


def test_examples_are_read_only():
    with pytest.raises(ValueError):
        RELU_231.parameters["W1"][0, 0] = 1.0


def test_bad_examples_are_rejected_with_the_reason():
    with pytest.raises(ValueError, match="expects 3 inputs"):
        WorkedExample("bad", [1.0, 2.0], 0.0, (LayerSpec([[1.0, 2.0, 3.0]], [0.0], "relu"),), 0.1)
    with pytest.raises(ValueError, match="one output unit"):
        WorkedExample("bad", [1.0], 0.0, (LayerSpec([[1.0], [2.0]], None, "relu"),), 0.1)
    with pytest.raises(ValueError, match="unknown activation"):
        LayerSpec([[1.0]], None, "softplus")
    with pytest.raises(ValueError, match="shape"):
        LayerSpec([[1.0, 2.0]], [0.0, 0.0], "relu")
    with pytest.raises(KeyError, match="unknown parameter"):
        NET_2331.with_parameters(b3=[0.0])


# --- property: the three computations agree on random 2-3-1 networks ------------------------

weights = arrays(np.float64, (3, 2), elements=st.floats(-2, 2, allow_subnormal=False))
biases = arrays(np.float64, (3,), elements=st.floats(-2, 2, allow_subnormal=False))
out_w = arrays(np.float64, (1, 3), elements=st.floats(-2, 2, allow_subnormal=False))


@settings(max_examples=40, deadline=None)
@given(
    W1=weights,
    b1=biases,
    W2=out_w,
    target=st.floats(-3, 3),
    activation=st.sampled_from(["relu", "tanh", "sigmoid"]),
)
def test_random_networks_three_ways(W1, b1, W2, target, activation):
    example = WorkedExample(
        "random",
        [1.0, -0.5],
        target,
        (LayerSpec(W1, b1, activation), LayerSpec(W2, [0.3], "identity")),
        0.05,
    )
    z1 = W1 @ example.x + b1
    assume(np.all(np.abs(z1) > 1e-3))  # away from the ReLU kink
    assume(np.all(np.abs(W2) > 0.1))  # gradients well above the finite-difference noise floor
    assume(abs(sgd_step(example).forward["yhat"][0] - target) > 1e-3)  # a gradient worth comparing
    step = sgd_step(example)
    # Entries below 1e-3 (a saturated tanh or sigmoid unit) sit near the centred difference's
    # round-off floor: 4e-10 of noise is already a relative error of 2e-6 on 2.5e-4.
    assume(all(np.all((g == 0) | (np.abs(g) > 1e-3)) for g in step.gradients.values()))
    _, engine = scalar_engine_gradients(example)
    for name in example.parameter_names:
        np.testing.assert_allclose(step.gradients[name], engine[name], rtol=1e-10, atol=1e-12)
    for name, check in gradient_checks(example, tol=1e-6).items():
        assert check.ok, f"{name}: {check}"


def test_lookup_reads_every_kind_of_value():
    step = sgd_step(RELU_231)
    assert step.lookup("z1[2]") == step.forward["z1"][2]
    assert step.lookup("grad.W2[0,1]") == step.gradients["W2"][0, 1]
    assert step.lookup("new.b1[2]") == step.updated["b1"][2]
    assert step.lookup("after.yhat") == step.forward_after["yhat"][0]
    assert step.lookup("after.loss") == step.loss_after
    assert step.lookup("loss") == step.loss
    assert step.lookup("dL/dz1[1]") == step.backward["dL/dz1"][1]
    with pytest.raises(KeyError, match="no value"):
        step.lookup("grad.W9[0,0]")
    with pytest.raises(KeyError, match="give an index"):
        step.lookup("z1")
    with pytest.raises(KeyError, match="cannot read"):
        step.lookup("z1[a]")
    with pytest.raises(IndexError):
        step.lookup("z1[7]")


def test_compare_claims_uses_the_written_precision():
    step = sgd_step(RELU_231)
    rows = compare_claims(
        step,
        [
            ("loss", "loss", "0.53045"),
            ("loss, 2 decimals", "loss", "0.53"),
            ("rounded the wrong way", "loss", "0.54"),
        ],
    )
    assert [r.matches for r in rows] == [True, True, False]
    assert rows[0].computed == step.loss
    with pytest.raises(ValueError, match="decimal number"):
        compare_claims(step, [("bad", "loss", "0,53")])
