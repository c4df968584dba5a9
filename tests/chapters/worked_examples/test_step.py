"""One SGD step of a worked example: the forward values it keeps, the backward values, the
update and the loss after it. The expected values are written out as NumPy expressions of the
example's weights, not copied from anywhere."""

import numpy as np
import pytest

from coursekit.chapters.worked_examples.examples import NET_2331, RELU_231, loss_at
from coursekit.chapters.worked_examples.step import sgd_step
from coursekit.chapters.worked_examples.verification import scalar_engine_gradients
from worked_example_cases import EXAMPLES, relu


def test_relu_231_forward_matches_the_formulas():
    p = RELU_231.parameters
    z1 = p["W1"] @ RELU_231.x + p["b1"]
    yhat = p["W2"] @ relu(z1) + p["b2"]
    step = sgd_step(RELU_231)
    np.testing.assert_allclose(step.forward["z1"], z1, rtol=0, atol=1e-15)
    np.testing.assert_allclose(step.forward["h1"], relu(z1), rtol=0, atol=1e-15)
    np.testing.assert_allclose(step.forward["yhat"], yhat, rtol=0, atol=1e-15)
    assert step.loss == pytest.approx(0.5 * (yhat[0] - 1.5) ** 2, rel=1e-15)


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


def test_rows_cover_every_parameter_entry():
    step = sgd_step(NET_2331)
    rows = step.parameter_rows()
    assert len(rows) == sum(v.size for v in NET_2331.parameters.values())
    assert rows[0][0] == "W1[0,0]"
    names = [r[0] for r in step.forward_rows()]
    assert "yhat" in names and "z2[2]" in names and "x[0]" not in names
