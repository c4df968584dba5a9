"""The two worked examples as data: which networks they are, their NumPy forward pass, and the
checks that reject a malformed example with the reason."""

import numpy as np
import pytest

from coursekit.chapters.worked_examples.examples import (
    NET_2331,
    RELU_231,
    LayerSpec,
    WorkedExample,
    build_model,
    loss_at,
)
from coursekit.chapters.worked_examples.step import sgd_step
from worked_example_cases import EXAMPLES, relu


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
