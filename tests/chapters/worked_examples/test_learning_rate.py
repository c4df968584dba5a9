"""Which learning rates lower a worked example's loss: the sweep over learning rates, the
measured threshold, and the linearised limit from the output gradient."""

import numpy as np
import pytest

from coursekit.chapters.worked_examples.examples import NET_2331, RELU_231, relu_patterns
from coursekit.chapters.worked_examples.learning_rate import (
    decrease_threshold,
    decreasing_intervals,
    linearised_lr_limit,
    loss_after_step,
    loss_after_steps,
    output_gradient,
    output_gradient_sq_norm,
)
from coursekit.chapters.worked_examples.step import sgd_step
from worked_example_cases import EXAMPLES, relu


def test_gradient_is_residual_times_output_gradient():
    for example in EXAMPLES:
        step = sgd_step(example)
        r = step.forward["yhat"][0] - example.y
        for name, g in output_gradient(example).items():
            np.testing.assert_allclose(step.gradients[name], r * g, rtol=1e-14, atol=1e-15)


def test_vectorised_sweep_matches_single_steps():
    lrs = np.array([1e-4, 3e-3, 0.02, 0.1, 0.5])
    for example in EXAMPLES:
        np.testing.assert_allclose(
            loss_after_steps(example, lrs), [loss_after_step(example, lr) for lr in lrs], rtol=1e-12
        )


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
