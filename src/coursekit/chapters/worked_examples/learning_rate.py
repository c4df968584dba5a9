r"""For which learning rates does one step of a worked example lower its loss?

Linearising :math:`\hat y` around the current parameters, a step changes the output by
:math:`-\eta (\hat y - y) \lVert \nabla_\theta \hat y\rVert^2`, so the residual is multiplied by
:math:`1 - \eta \lVert \nabla_\theta \hat y\rVert^2` and the loss drops exactly when
:math:`0 < \eta < 2/\lVert \nabla_\theta \hat y\rVert^2` (:func:`linearised_lr_limit`). The true
network is not linear in its parameters (products of weights of different layers), so the
measured threshold (:func:`decrease_threshold`) differs a little.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from coursekit.chapters.worked_examples.examples import WorkedExample, build_model, loss_at
from coursekit.chapters.worked_examples.step import StepResult, sgd_step, trainable_parameters


def _loss_along_gradient(step: StepResult, lr: float) -> float:
    """Loss at :math:`\\theta - \\eta\\,\\nabla L` for the parameters and gradients of ``step``."""
    names = step.example.parameter_names
    return loss_at(
        step.example, {name: step.parameters[name] - lr * step.gradients[name] for name in names}
    )


def loss_after_step(example: WorkedExample, lr: float) -> float:
    """The loss after one SGD step with learning rate ``lr`` (computed as in :func:`sgd_step`)."""
    return sgd_step(example, lr).loss_after


def loss_after_steps(example: WorkedExample, lrs: ArrayLike) -> np.ndarray:
    """:func:`loss_after_step` for every learning rate in ``lrs``, as an array of the same shape.

    The gradient is the same for every ``lr``, so it is computed once and each new loss is one
    forward pass at :math:`\\theta - \\eta\\,\\nabla L` (agrees with :func:`loss_after_step`).
    """
    lrs = np.asarray(lrs, dtype=np.float64)
    if np.any(~np.isfinite(lrs)) or np.any(lrs <= 0):
        raise ValueError("every learning rate must be a positive finite number")
    step = sgd_step(example, 1.0)
    out = np.empty_like(lrs)
    for idx in np.ndindex(lrs.shape):
        out[idx] = _loss_along_gradient(step, lrs[idx])
    return out


def output_gradient(example: WorkedExample) -> dict[str, np.ndarray]:
    """:math:`\\partial \\hat y/\\partial\\theta` for every trainable parameter (backward from
    1)."""
    model = build_model(example)
    model.forward(example.x[None, :])
    model.backward(np.ones((1, 1)))
    records = trainable_parameters(example, model)
    return {name: np.array(records[name].grad) for name in example.parameter_names}


def output_gradient_sq_norm(example: WorkedExample) -> float:
    """:math:`\\lVert\\nabla_\\theta \\hat y\\rVert^2`, summed over all trainable parameter
    entries."""
    return float(sum(np.sum(part**2) for part in output_gradient(example).values()))


def linearised_lr_limit(example: WorkedExample) -> float:
    """:math:`2/\\lVert\\nabla_\\theta \\hat y\\rVert^2`: below it, the linearised model's loss
    drops.

    Raises:
        ValueError: if the output does not depend on the parameters at this point (all ReLUs off).
    """
    grad_sq = output_gradient_sq_norm(example)
    if grad_sq == 0:
        raise ValueError(
            "the output gradient is zero here, so no step changes the loss to first order"
        )
    return 2.0 / grad_sq


def decreasing_intervals(
    lrs: ArrayLike, losses_after: ArrayLike, loss_before: float
) -> list[tuple[float, float]]:
    """Maximal runs of consecutive grid points where the loss after the step is below
    ``loss_before``.

    Returns:
        ``(first, last)`` learning rate of each run, in increasing order.
    """
    lrs = np.asarray(lrs, dtype=np.float64)
    values = np.asarray(losses_after, dtype=np.float64)
    if lrs.shape != values.shape or lrs.ndim != 1:
        raise ValueError(
            "lrs and losses_after must be 1-D of the same length, "
            f"got {lrs.shape} and {values.shape}"
        )
    if np.any(np.diff(lrs) <= 0):
        raise ValueError("lrs must be strictly increasing")
    runs, start = [], None
    for i, down in enumerate(values < loss_before):
        if down and start is None:
            start = i
        if not down and start is not None:
            runs.append((float(lrs[start]), float(lrs[i - 1])))
            start = None
    if start is not None:
        runs.append((float(lrs[start]), float(lrs[-1])))
    return runs


def decrease_threshold(example: WorkedExample, lo: float, hi: float, tol: float = 1e-12) -> float:
    """The learning rate in [``lo``, ``hi``] where the loss after one step reaches the loss before.

    Bisection on :math:`\\eta \\mapsto L(\\theta - \\eta\\nabla L) - L(\\theta)`, which must be
    negative at ``lo`` and non-negative at ``hi`` (take them from a grid, see
    :func:`decreasing_intervals`).

    Raises:
        ValueError: if the sign condition does not hold.
    """
    step = sgd_step(example, lo)

    def excess(lr: float) -> float:
        return _loss_along_gradient(step, lr) - step.loss

    if not (excess(lo) < 0 <= excess(hi)):
        raise ValueError(f"the loss must drop at lo={lo} and not at hi={hi} for bisection")
    while hi - lo > tol * hi:
        mid = 0.5 * (lo + hi)
        if excess(mid) < 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
