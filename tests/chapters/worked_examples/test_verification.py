"""The gradients of a worked example three ways: the vectorised layers of coursekit.nn
(``sgd_step``), the scalar engine coursekit.engine (``scalar_engine_gradients``) and centred
finite differences of a plain NumPy forward pass (``gradient_checks``) must agree."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from coursekit.chapters.worked_examples.examples import LayerSpec, WorkedExample
from coursekit.chapters.worked_examples.step import sgd_step
from coursekit.chapters.worked_examples.verification import (
    gradient_checks,
    scalar_engine_gradients,
)
from worked_example_cases import EXAMPLES


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
