r"""The two worked examples of the lecture notes, as data, and their forward pass in NumPy.

A worked example is a small fully connected network with given weights, one input ``x``, one
target ``y`` and a learning rate. Layer :math:`l` computes

.. math:: z_l = W_l h_{l-1} + b_l, \qquad h_l = f_l(z_l), \qquad h_0 = x, \qquad \hat y = h_{D+1}

for a network with :math:`D` hidden layers, and the loss is :math:`L = \tfrac12 (\hat y - y)^2`.
Parameters are named ``"W1", "b1", "W2", ...``. :func:`plain_forward` and :func:`loss_at` evaluate
an example with NumPy alone, independently of :mod:`coursekit.nn`, so they can check the layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from coursekit import activations
from coursekit.nn import ACTIVATIONS, Linear, Module, Sequential

ACTIVATION_NAMES = ("relu", "identity", "sigmoid", "tanh")
"""Activations a worked-example layer may use (a subset of :data:`coursekit.nn.ACTIVATIONS`)."""

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
            raise ValueError(
                f"W must be a non-empty matrix of shape (out, in), got shape {W.shape}"
            )
        object.__setattr__(self, "W", W)
        if self.b is not None:
            b = _frozen(self.b, "b")
            if b.shape != (W.shape[0],):
                raise ValueError(
                    f"b must have shape ({W.shape[0]},) to match W of shape "
                    f"{W.shape}, got {b.shape}"
                )
            object.__setattr__(self, "b", b)
        if self.activation not in ACTIVATION_NAMES:
            raise ValueError(
                f"unknown activation {self.activation!r}; choose one of {sorted(ACTIVATION_NAMES)}"
            )


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
                raise ValueError(
                    f"layer {i} expects {layer.W.shape[1]} inputs but receives {width}"
                )
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
        """A copy with parameters replaced: ``example.with_parameters(b1=[0.1, -0.2, -0.1])``."""
        unknown = set(params) - set(self.parameter_names)
        if unknown:
            raise KeyError(
                f"unknown parameter(s) {sorted(unknown)}; this example has {self.parameter_names}"
            )
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
        "W1[2,0] = 0.5: the forward pass shows only the product 0.5 (x_0 = 1); "
        "the update line starts from 0.5.",
        "W1[2,1] = 0.7: the forward pass shows only the product 1.4 = 0.7 * x_1 with x_1 = 2; "
        "the update line starts from 0.7.",
        "b1[2] = 0: the forward pass 0.5 + 1.4 = 1.9 has no bias term, and the update result "
        "-0.0309 = 0 - 0.1 * 0.309 also needs 0 (the update line writes the starting value as "
        "-0.1; then the forward pass would give 1.8 and that same line would end at -0.1309).",
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
        LayerSpec(
            W=[[0.0, 1.0, 2.0], [1.0, 1.0, 1.0], [2.0, -1.0, -1.0]],
            b=[1.0, 1.0, 1.0],
            activation="identity",
        ),
        LayerSpec(W=[[-1.0, 1.0, -2.0]], b=None, activation="identity"),
    ),
    lr=0.1,
    reconstructed=(
        "lr = 0.1: the note stops at the gradients; the step uses the learning rate of "
        "the other example.",
    ),
)


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


def plain_forward(
    example: WorkedExample, params: dict[str, np.ndarray] | None
) -> list[tuple[np.ndarray, np.ndarray]]:
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
    yhat = plain_forward(example, params)[-1][1]
    return 0.5 * float((yhat[0] - example.y) ** 2)


def relu_patterns(
    example: WorkedExample, params: dict[str, np.ndarray] | None = None
) -> list[np.ndarray]:
    """For each ReLU layer, which units are on (:math:`z > 0`), as boolean arrays."""
    layers = zip(example.layers, plain_forward(example, params))
    return [z > 0 for spec, (z, _) in layers if spec.activation == "relu"]
