r"""The gradients of a worked example computed twice more: by the scalar engine, and numerically.

:func:`scalar_engine_gradients` differentiates the example one scalar operation at a time with
:mod:`coursekit.engine`; :func:`gradient_checks` compares the layers' gradients with centred
finite differences of :func:`~coursekit.chapters.worked_examples.examples.loss_at`. Agreement of
the three checks the matrix formulas of :mod:`coursekit.nn`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from coursekit import gradcheck
from coursekit.chapters.worked_examples.examples import WorkedExample, loss_at
from coursekit.chapters.worked_examples.step import sgd_step
from coursekit.engine import Value

#: Activations a worked-example layer may use (a subset of :data:`coursekit.nn.ACTIVATIONS`).
SCALAR_ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": Value.relu,
    "identity": lambda v: v,
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
}


def scalar_engine_gradients(example: WorkedExample) -> tuple[float, dict[str, np.ndarray]]:
    """The loss and its gradients computed with the scalar engine :class:`coursekit.engine.Value`.

    Every weight, bias and input entry becomes a ``Value``; each unit computes
    :math:`z_j = b_j + \\sum_k W_{jk} h_k` one multiply and one add at a time. Independent of
    :mod:`coursekit.nn`, so agreement with :func:`sgd_step` checks the matrix formulas.

    Returns:
        ``(loss, gradients)`` with gradients shaped like the parameters.
    """
    leaves: dict[str, np.ndarray] = {}
    for name, arr in example.parameters.items():
        grid = np.empty(arr.shape, dtype=object)
        for idx in np.ndindex(arr.shape):
            grid[idx] = Value(float(arr[idx]), label=f"{name}[{','.join(map(str, idx))}]")
        leaves[name] = grid
    h = [Value(float(v), label=f"x{i}") for i, v in enumerate(example.x)]
    for l, spec in enumerate(example.layers, start=1):
        W = leaves[f"W{l}"]
        activation = SCALAR_ACTIVATIONS[spec.activation]
        new_h = []
        for j in range(W.shape[0]):
            z = leaves[f"b{l}"][j] if spec.b is not None else Value(0.0)
            for k in range(W.shape[1]):
                z = z + W[j, k] * h[k]
            new_h.append(activation(z))
        h = new_h
    loss = 0.5 * (h[0] - example.y) ** 2
    loss.backward()
    grads = {
        name: np.array([v.grad for v in arr.reshape(-1)]).reshape(arr.shape)
        for name, arr in leaves.items()
    }
    return loss.data, grads


def gradient_checks(
    example: WorkedExample, eps: float = 1e-6, tol: float = 1e-7
) -> dict[str, gradcheck.GradientCheck]:
    """Check every parameter's gradient from :func:`sgd_step` against centred finite differences.

    The loss is differentiated by :func:`loss_at` (a plain NumPy forward pass); pre-activations of
    the examples are far from the ReLU kink, so the check is exact up to rounding.
    """
    step = sgd_step(example)
    checks = {}
    for name in example.parameter_names:
        point = np.array(example.parameters[name])

        def f(p: np.ndarray, name: str = name) -> float:
            return loss_at(example, {name: p})

        checks[name] = gradcheck.check_gradient(f, point, step.gradients[name], eps=eps, tol=tol)
    return checks
