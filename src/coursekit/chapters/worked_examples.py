r"""The two worked examples of the lecture notes, as data, and one SGD step showing every value.

A worked example is a small fully connected network with given weights, one input ``x``, one
target ``y`` and a learning rate. Layer :math:`l` computes

.. math:: z_l = W_l h_{l-1} + b_l, \qquad h_l = f_l(z_l), \qquad h_0 = x, \qquad \hat y = h_L

and the loss is :math:`L = \tfrac12 (\hat y - y)^2`, so :math:`\partial L/\partial \hat y = \hat y - y`.
One step of stochastic gradient descent on this single sample replaces every parameter
:math:`\theta` by :math:`\theta - \eta\, \partial L/\partial \theta`.

:func:`sgd_step` runs the forward pass, the backward pass and the update with the vectorised
layers of :mod:`coursekit.nn` and returns a :class:`StepResult` holding every intermediate
value, the gradients, the updated parameters and the forward pass and loss after the step.
:func:`scalar_engine_gradients` recomputes the same gradients one scalar operation at a time with
:mod:`coursekit.engine`, and :func:`gradient_checks` compares them with finite differences, so the
three computations can be checked against each other.

The learning-rate functions (:func:`loss_after_step`, :func:`output_gradient_sq_norm`,
:func:`decrease_threshold`) answer "for which learning rates does one step lower the loss?".
Linearising :math:`\hat y` around the current parameters, a step changes the output by
:math:`-\eta (\hat y - y) \lVert \nabla_\theta \hat y\rVert^2`, so the residual is multiplied by
:math:`1 - \eta \lVert \nabla_\theta \hat y\rVert^2` and the loss drops exactly when
:math:`0 < \eta < 2/\lVert \nabla_\theta \hat y\rVert^2`. The true network is not linear in its
parameters (products of weights of different layers), so the measured threshold differs a little.

Names: parameters are ``"W1", "b1", "W2", ...``; forward values ``"x", "z1", "h1", ..., "yhat"``;
backward values ``"dL/dyhat", "dL/dz2", "dL/dh1", ...``. :meth:`StepResult.lookup` reads single
entries by name, e.g. ``"grad.W2[0,1]"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from coursekit import activations, gradcheck
from coursekit.engine import Value
from coursekit.losses import mse, mse_grad
from coursekit.nn import ACTIVATIONS, Linear, Module, Sequential
from coursekit.optim import SGD

#: Activations a worked-example layer may use (a subset of :data:`coursekit.nn.ACTIVATIONS`).
SCALAR_ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": Value.relu,
    "identity": lambda v: v,
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
}


#: The same activations on NumPy arrays, for the plain forward pass of :func:`loss_at`.
NUMPY_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": activations.relu,
    "identity": lambda z: np.array(z, dtype=np.float64),
    "sigmoid": activations.sigmoid,
    "tanh": activations.tanh,
}


def _frozen(a: ArrayLike, name: str) -> np.ndarray:
    """A read-only float64 copy, so the shared example constants cannot be edited by accident."""
    arr = np.array(a, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers, got {arr}")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class LayerSpec:
    """One layer of a worked example: :math:`h = f(W h_{\\text{prev}} + b)`.

    Attributes:
        W: weights, shape ``(out, in)``; row ``j`` feeds unit ``j``.
        b: biases, shape ``(out,)``, or ``None`` for a layer without bias (nothing to train).
        activation: ``"relu"``, ``"identity"``, ``"sigmoid"`` or ``"tanh"``.
    """

    W: np.ndarray
    b: np.ndarray | None
    activation: str

    def __post_init__(self) -> None:
        W = _frozen(self.W, "W")
        if W.ndim != 2 or W.size == 0:
            raise ValueError(f"W must be a non-empty matrix of shape (out, in), got shape {W.shape}")
        object.__setattr__(self, "W", W)
        if self.b is not None:
            b = _frozen(self.b, "b")
            if b.shape != (W.shape[0],):
                raise ValueError(f"b must have shape ({W.shape[0]},) to match W of shape {W.shape}, got {b.shape}")
            object.__setattr__(self, "b", b)
        if self.activation not in SCALAR_ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; choose one of {sorted(SCALAR_ACTIVATIONS)}")


@dataclass(frozen=True)
class WorkedExample:
    """A network with given weights, one training pair and a learning rate.

    Attributes:
        title: a short description.
        x: the input, shape ``(d,)``.
        y: the scalar target.
        layers: the layers from input to output; the last one has a single unit.
        lr: the learning rate of the example's SGD step.
        reconstructed: notes on values the source left out and how they were recovered.
    """

    title: str
    x: np.ndarray
    y: float
    layers: tuple[LayerSpec, ...]
    lr: float
    reconstructed: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        x = _frozen(self.x, "x")
        if x.ndim != 1:
            raise ValueError(f"x must be a vector of shape (d,), got shape {x.shape}")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", float(self.y))
        object.__setattr__(self, "layers", tuple(self.layers))
        if not self.layers:
            raise ValueError("a worked example needs at least one layer")
        width = x.shape[0]
        for i, layer in enumerate(self.layers, start=1):
            if layer.W.shape[1] != width:
                raise ValueError(f"layer {i} expects {layer.W.shape[1]} inputs but receives {width}")
            width = layer.W.shape[0]
        if width != 1:
            raise ValueError(f"the last layer must have one output unit, got {width}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")

    @property
    def parameter_names(self) -> list[str]:
        """Names of the trainable parameters in layer order, e.g. ``["W1", "b1", "W2"]``."""
        names = []
        for i, layer in enumerate(self.layers, start=1):
            names.append(f"W{i}")
            if layer.b is not None:
                names.append(f"b{i}")
        return names

    @property
    def parameters(self) -> dict[str, np.ndarray]:
        """The given parameters by name (read-only arrays)."""
        out = {}
        for i, layer in enumerate(self.layers, start=1):
            out[f"W{i}"] = layer.W
            if layer.b is not None:
                out[f"b{i}"] = layer.b
        return out

    def with_parameters(self, **params: ArrayLike) -> WorkedExample:
        """A copy with some parameters replaced, e.g. ``example.with_parameters(b1=[0.1, -0.2, -0.1])``."""
        unknown = set(params) - set(self.parameter_names)
        if unknown:
            raise KeyError(f"unknown parameter(s) {sorted(unknown)}; this example has {self.parameter_names}")
        layers = []
        for i, layer in enumerate(self.layers, start=1):
            W = params.get(f"W{i}", layer.W)
            b = params.get(f"b{i}", layer.b) if layer.b is not None else None
            layers.append(LayerSpec(W, b, layer.activation))
        return WorkedExample(self.title, self.x, self.y, tuple(layers), self.lr, self.reconstructed)


#: The first worked example of the lecture notes: a 2-3-1 network, ReLU hidden layer, identity
#: output, x = (1, 2), y = 1.5, lr = 0.1. The notes write the third hidden unit only as
#: "0.5 + 1.4 = 1.9"; its update lines start from w = 0.5 and 0.7 and end at a bias of -0.0309,
#: which pins down the values below (see ``reconstructed``).
RELU_231 = WorkedExample(
    title="2-3-1 network, ReLU hidden layer, identity output",
    x=[1.0, 2.0],
    y=1.5,
    layers=(
        LayerSpec(W=[[0.2, -0.4], [-0.3, 0.8], [0.5, 0.7]], b=[0.1, -0.2, 0.0], activation="relu"),
        LayerSpec(W=[[-0.6, 0.9, -0.3]], b=[0.05], activation="identity"),
    ),
    lr=0.1,
    reconstructed=(
        "W1[2,0] = 0.5: the forward pass shows only the product 0.5 (x_0 = 1); the update line starts from 0.5.",
        "W1[2,1] = 0.7: the forward pass shows only the product 1.4 = 0.7 * x_1 with x_1 = 2; "
        "the update line starts from 0.7.",
        "b1[2] = 0: the forward pass 0.5 + 1.4 = 1.9 has no bias term, and the update result -0.0309 = 0 - 0.1 * 0.309 "
        "also needs 0 (the update line writes the starting value as -0.1; then the forward pass would give 1.8 and "
        "that same line would end at -0.1309).",
    ),
)

#: The second worked example of the lecture notes: a 2-3-3-1 network. The notes apply ReLU after
#: the first hidden layer but compute yhat = w3 . z2 directly from the second layer's
#: pre-activations, so the second hidden layer is linear (identity), and the output weight w3 has
#: no bias. x = (2, 1), y = 1.5. The notes do not take a step; lr = 0.1 is the learning rate of
#: the first example.
NET_2331 = WorkedExample(
    title="2-3-3-1 network, ReLU then identity hidden layers, output without bias",
    x=[2.0, 1.0],
    y=1.5,
    layers=(
        LayerSpec(W=[[0.0, 1.0], [1.0, 1.0], [1.0, 0.0]], b=[-2.0, -1.0, 1.0], activation="relu"),
        LayerSpec(W=[[0.0, 1.0, 2.0], [1.0, 1.0, 1.0], [2.0, -1.0, -1.0]], b=[1.0, 1.0, 1.0], activation="identity"),
        LayerSpec(W=[[-1.0, 1.0, -2.0]], b=None, activation="identity"),
    ),
    lr=0.1,
    reconstructed=("lr = 0.1: the note stops at the gradients; the step uses the learning rate of the other example.",),
)

_LOOKUP = re.compile(r"^(?:(?P<kind>grad|new|after)\.)?(?P<name>[A-Za-z0-9_/]+)(?:\[(?P<index>[0-9, ]+)\])?$")


@dataclass(frozen=True)
class StepResult:
    """Everything one SGD step on a worked example computes.

    Attributes:
        example: the example the step started from.
        lr: the learning rate used.
        forward: forward values before the step: ``"x"``, ``"z1"``, ``"h1"``, ..., ``"yhat"``.
        loss: :math:`\\tfrac12(\\hat y - y)^2` before the step.
        backward: gradients of the loss with respect to the forward values:
            ``"dL/dyhat"``, and for each layer ``l`` from the top ``"dL/dz<l>"`` and ``"dL/dh<l-1>"``
            (the last one, ``"dL/dh0"``, is the gradient with respect to the input ``x``).
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

    def lookup(self, key: str) -> float:
        """One computed number by name.

        ``"loss"``, ``"z1[2]"`` and ``"dL/dz1[1]"`` read the values before the step;
        ``"grad.W2[0,1]"`` a gradient; ``"new.W1[1,0]"`` an updated parameter;
        ``"after.yhat"`` and ``"after.loss"`` the forward pass after the step. Indices are
        0-based as in NumPy; a 1-entry array needs none.

        Raises:
            KeyError: for a malformed key or an unknown name, listing what exists.
            IndexError: for an index outside the array.
        """
        match = _LOOKUP.match(key.strip())
        if match is None:
            raise KeyError(f"cannot read {key!r}: expected e.g. 'z1[2]', 'grad.W2[0,1]', 'new.b1[0]', 'after.loss'")
        kind, name, index = match["kind"], match["name"], match["index"]
        if name == "loss" and kind in (None, "after") and index is None:
            return self.loss if kind is None else self.loss_after
        table = {
            None: {**self.forward, **self.backward},
            "grad": self.gradients,
            "new": self.updated,
            "after": self.forward_after,
        }[kind]
        if name not in table:
            raise KeyError(f"no value {name!r} among {'' if kind is None else kind + '.'}{sorted(table)}")
        arr = np.asarray(table[name])
        if index is None:
            if arr.size != 1:
                raise KeyError(f"{name} has shape {arr.shape}; give an index, e.g. {name}[0]")
            return float(arr.reshape(()))
        idx = tuple(int(i) for i in index.split(","))
        if len(idx) != arr.ndim:
            raise KeyError(f"{name} has shape {arr.shape}; {len(idx)} index/indices given in {key!r}")
        return float(arr[idx])

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


def build_model(example: WorkedExample) -> Sequential:
    """The example as a :class:`coursekit.nn.Sequential` of Linear layers and activations.

    A layer without bias gets a zero bias that :func:`sgd_step` never updates (it is not in
    :attr:`WorkedExample.parameter_names`), so the model computes exactly the example's network.
    """
    layers: list[Module] = []
    for spec in example.layers:
        layers.append(Linear.from_weights(spec.W, spec.b))
        layers.append(ACTIVATIONS[spec.activation]())
    return Sequential(*layers)


def _parameter_records(example: WorkedExample, model: Sequential) -> dict[str, object]:
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
    records = _parameter_records(example, model)
    parameters = {name: np.array(example.parameters[name]) for name in example.parameter_names}
    gradients = {name: np.array(records[name].grad) for name in example.parameter_names}
    SGD(list(records.values()), lr=lr).step()
    updated = {name: np.array(records[name].value) for name in example.parameter_names}
    forward_after = _forward_values(example, model)
    loss_after = mse(forward_after["yhat"][None, :], target)
    return StepResult(
        example, float(lr), forward, loss, backward, gradients, parameters, updated, forward_after, loss_after
    )


def _plain_forward(example: WorkedExample, params: dict[str, np.ndarray] | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(z_l, h_l)`` of every layer, by a forward pass written with NumPy alone.

    Independent of :mod:`coursekit.nn`, so it can check the layers. ``params`` (name -> array)
    replace the example's own parameters.
    """
    params = {**example.parameters, **(params or {})}
    h = np.array(example.x)
    values = []
    for i, spec in enumerate(example.layers, start=1):
        z = params[f"W{i}"] @ h + (params[f"b{i}"] if spec.b is not None else 0.0)
        h = NUMPY_ACTIVATIONS[spec.activation](z)
        values.append((z, h))
    return values


def loss_at(example: WorkedExample, params: dict[str, np.ndarray] | None = None) -> float:
    """The loss of ``example`` with its own parameters, or with ``params`` (name -> array) instead.

    Computed by a plain NumPy forward pass, independent of :mod:`coursekit.nn`, so it can check
    the layers.
    """
    yhat = _plain_forward(example, params)[-1][1]
    return 0.5 * float((yhat[0] - example.y) ** 2)


def _loss_along_gradient(step: StepResult, lr: float) -> float:
    """The loss at :math:`\\theta - \\eta\\,\\nabla L`, from the parameters and gradients of ``step``."""
    names = step.example.parameter_names
    return loss_at(step.example, {name: step.parameters[name] - lr * step.gradients[name] for name in names})


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
    """:math:`\\partial \\hat y/\\partial\\theta` for every trainable parameter (backward from 1)."""
    model = build_model(example)
    model.forward(example.x[None, :])
    model.backward(np.ones((1, 1)))
    records = _parameter_records(example, model)
    return {name: np.array(records[name].grad) for name in example.parameter_names}


def output_gradient_sq_norm(example: WorkedExample) -> float:
    """:math:`\\lVert\\nabla_\\theta \\hat y\\rVert^2`, summed over all trainable parameter entries."""
    return float(sum(np.sum(g**2) for g in output_gradient(example).values()))


def linearised_lr_limit(example: WorkedExample) -> float:
    """:math:`2/\\lVert\\nabla_\\theta \\hat y\\rVert^2`: below it, the linearised model's loss drops.

    Raises:
        ValueError: if the output does not depend on the parameters at this point (all ReLUs off).
    """
    g2 = output_gradient_sq_norm(example)
    if g2 == 0:
        raise ValueError("the output gradient is zero here, so no step changes the loss to first order")
    return 2.0 / g2


def relu_patterns(example: WorkedExample, params: dict[str, np.ndarray] | None = None) -> list[np.ndarray]:
    """For each ReLU layer, which units are on (:math:`z > 0`), as boolean arrays."""
    layers = zip(example.layers, _plain_forward(example, params))
    return [z > 0 for spec, (z, _) in layers if spec.activation == "relu"]


def decreasing_intervals(lrs: ArrayLike, losses_after: ArrayLike, loss_before: float) -> list[tuple[float, float]]:
    """Maximal runs of consecutive grid points where the loss after the step is below ``loss_before``.

    Returns:
        ``(first, last)`` learning rate of each run, in increasing order.
    """
    lrs = np.asarray(lrs, dtype=np.float64)
    values = np.asarray(losses_after, dtype=np.float64)
    if lrs.shape != values.shape or lrs.ndim != 1:
        raise ValueError(f"lrs and losses_after must be 1-D of the same length, got {lrs.shape} and {values.shape}")
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
    """The learning rate between ``lo`` and ``hi`` where the loss after one step reaches the loss before.

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
    grads = {name: np.array([v.grad for v in arr.reshape(-1)]).reshape(arr.shape) for name, arr in leaves.items()}
    return loss.data, grads


def gradient_checks(example: WorkedExample, eps: float = 1e-6, tol: float = 1e-7) -> dict[str, gradcheck.GradientCheck]:
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


@dataclass(frozen=True)
class Comparison:
    """A value claimed by the notes next to the recomputed one.

    Attributes:
        label: what the value is (free text, may contain MyST math).
        key: the :meth:`StepResult.lookup` key of the recomputed value.
        claimed: the notes' value as written (a string, so its number of decimals is known).
        computed: the recomputed value.
        matches: whether they agree to the precision the notes wrote (half a unit in the last digit).
    """

    label: str
    key: str
    claimed: str
    computed: float
    matches: bool


def compare_claims(step: StepResult, claims: Sequence[tuple[str, str, str]]) -> list[Comparison]:
    r"""Compare ``(label, key, claimed)`` triples with the values of ``step``.

    A claim written with ``d`` decimals matches when it is the computed value rounded to ``d``
    decimals, that is within half a unit of the last written digit (:math:`0.5 \cdot 10^{-d}`),
    so writing a value to fewer digits is not counted as a mistake.

    Raises:
        ValueError: if a claimed value is not a plain decimal number.
    """
    out = []
    for label, key, claimed in claims:
        text = claimed.strip()
        if not re.fullmatch(r"-?\d+(\.\d+)?", text):
            raise ValueError(f"claimed value {claimed!r} for {label!r} is not a decimal number")
        decimals = len(text.split(".")[1]) if "." in text else 0
        computed = step.lookup(key)
        matches = abs(float(text) - computed) <= 0.5 * 10.0**-decimals * (1 + 1e-9) + 1e-12
        out.append(Comparison(label, key, text, computed, matches))
    return out
