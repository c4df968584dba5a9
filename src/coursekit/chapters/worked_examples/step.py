r"""One SGD step of a worked example, with every value it computes kept.

:func:`sgd_step` runs the forward pass, the backward pass and the update with the vectorised
layers of :mod:`coursekit.nn` and returns a :class:`StepResult`: the forward values (``"x"``,
``"z1"``, ``"h1"``, ..., ``"yhat"``), the backward values (``"dL/dyhat"``, ``"dL/dz2"``,
``"dL/dh1"``, ...), the gradients, the updated parameters, and the forward pass and loss after
the step. Each is a dict of NumPy arrays, read by plain indexing: ``step.gradients["W2"][0, 1]``
is :math:`\partial L/\partial W_2[0, 1]`, ``step.updated["b1"][2]`` the third hidden bias after
the step and ``step.forward_after["yhat"][0]`` the output after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coursekit.chapters.worked_examples.examples import WorkedExample, build_model
from coursekit.losses import mse, mse_grad
from coursekit.nn import Sequential
from coursekit.optim import SGD


@dataclass(frozen=True)
class StepResult:
    """Everything one SGD step on a worked example computes.

    Attributes:
        example: the example the step started from.
        lr: the learning rate used.
        forward: forward values before the step: ``"x"``, ``"z1"``, ``"h1"``, ..., ``"yhat"``.
        loss: :math:`\\tfrac12(\\hat y - y)^2` before the step.
        backward: gradients of the loss with respect to the forward values: ``"dL/dyhat"``, and for
            each layer ``l`` from the top ``"dL/dz<l>"`` and ``"dL/dh<l-1>"`` (the last one,
            ``"dL/dh0"``, is the gradient with respect to the input ``x``).
        gradients: :math:`\\partial L/\\partial\\theta` for every trainable parameter.
        parameters: the parameters before the step.
        updated: the parameters after the step.
        forward_after: forward values with the updated parameters.
        loss_after: the loss with the updated parameters.
    """

    example: WorkedExample
    lr: float
    forward: dict[str, np.ndarray]
    loss: float
    backward: dict[str, np.ndarray]
    gradients: dict[str, np.ndarray]
    parameters: dict[str, np.ndarray]
    updated: dict[str, np.ndarray]
    forward_after: dict[str, np.ndarray]
    loss_after: float

    def parameter_rows(self) -> list[tuple[str, float, float, float]]:
        """One row per parameter entry: ``(name[index], value, gradient, updated value)``."""
        rows = []
        for name in self.example.parameter_names:
            value, grad, new = self.parameters[name], self.gradients[name], self.updated[name]
            for idx in np.ndindex(value.shape):
                label = f"{name}[{','.join(map(str, idx))}]"
                rows.append((label, float(value[idx]), float(grad[idx]), float(new[idx])))
        return rows

    def forward_rows(self) -> list[tuple[str, float, float]]:
        """One row per forward value entry: ``(name[index], before the step, after the step)``."""
        rows = []
        for name, value in self.forward.items():
            if name == "x":
                continue
            flat = np.asarray(value).reshape(-1)
            after = np.asarray(self.forward_after[name]).reshape(-1)
            for i in range(flat.size):
                label = name if flat.size == 1 else f"{name}[{i}]"
                rows.append((label, float(flat[i]), float(after[i])))
        return rows


def trainable_parameters(example: WorkedExample, model: Sequential) -> dict[str, object]:
    """Map example names ("W1", "b1", ...) to the model's Parameter records (trainable only)."""
    records = {}
    for qualified, p in model.named_parameters():
        layer_index, kind = qualified.split(".")
        name = f"{kind}{int(layer_index) // 2 + 1}"
        if name in example.parameter_names:
            records[name] = p
    return records


def _forward_values(example: WorkedExample, model: Sequential) -> dict[str, np.ndarray]:
    """Run the model on x and keep every intermediate value (as 1-D arrays)."""
    values = {"x": np.array(example.x)}
    h = example.x[None, :]
    last = len(example.layers)
    for i in range(last):
        z = model.layers[2 * i].forward(h)
        h = model.layers[2 * i + 1].forward(z)
        values[f"z{i + 1}"] = z[0].copy()
        if i + 1 < last:
            values[f"h{i + 1}"] = h[0].copy()
    values["yhat"] = h[0].copy()
    return values


def _target(example: WorkedExample) -> np.ndarray:
    return np.array([[example.y]])


def sgd_step(example: WorkedExample, lr: float | None = None) -> StepResult:
    """Forward pass, backward pass and one SGD update of ``example``, with every value kept.

    Uses the vectorised layers of :mod:`coursekit.nn` for both passes and
    :class:`coursekit.optim.SGD` for the update (on the trainable parameters only).

    Args:
        example: the worked example.
        lr: learning rate; the example's own ``lr`` if omitted.

    Returns:
        A :class:`StepResult`.

    Raises:
        ValueError: if ``lr`` is not a positive finite number.
    """
    lr = example.lr if lr is None else lr
    model = build_model(example)
    forward = _forward_values(example, model)
    target = _target(example)
    yhat = forward["yhat"][None, :]
    loss = mse(yhat, target)
    # Backward one layer at a time so that every intermediate gradient can be recorded.
    backward = {}
    grad = mse_grad(yhat, target)
    backward["dL/dyhat"] = grad[0].copy()
    for i in reversed(range(len(example.layers))):
        grad = model.layers[2 * i + 1].backward(grad)
        backward[f"dL/dz{i + 1}"] = grad[0].copy()
        grad = model.layers[2 * i].backward(grad)
        backward[f"dL/dh{i}"] = grad[0].copy()
    records = trainable_parameters(example, model)
    parameters = {name: np.array(example.parameters[name]) for name in example.parameter_names}
    gradients = {name: np.array(records[name].grad) for name in example.parameter_names}
    SGD(list(records.values()), lr=lr).step()
    updated = {name: np.array(records[name].value) for name in example.parameter_names}
    forward_after = _forward_values(example, model)
    loss_after = mse(forward_after["yhat"][None, :], target)
    return StepResult(
        example,
        float(lr),
        forward,
        loss,
        backward,
        gradients,
        parameters,
        updated,
        forward_after,
        loss_after,
    )
