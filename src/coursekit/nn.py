r"""Layers with hand-written, vectorised backward passes.

Every layer is a :class:`Module` with two methods:

* ``forward(X)`` computes the output for a batch and remembers what the backward pass needs;
* ``backward(dY)`` receives :math:`\partial L/\partial Y` (same shape as the output), stores the
  gradients of the layer's own parameters and returns :math:`\partial L/\partial X`.

Conventions:

* **Samples are rows.** A batch ``X`` has shape ``(n, in_features)``; a single sample is a
  batch of one, ``x[None, :]``.
* **Layers sum over the batch.** The loss gradient handed to ``backward`` already carries the
  :math:`1/n` of a mean loss (see :mod:`coursekit.losses`), so a layer adds up the
  contributions of the rows, e.g. ``db`` is the sum of the rows of ``dY``. Averaging again here
  would divide by :math:`n` twice.
* **A layer computes in the dtype of its parameters.** ``Linear`` converts its input and the
  incoming gradient to the dtype of ``W``; an activation keeps the dtype of its input. A float32
  model therefore has float32 activations and float32 gradients throughout, even when a loss
  gradient or the data arrive as float64 (NumPy would otherwise compute in float64, and a
  matrix product of mixed float32/float64 operands is several times slower than either).
* **Parameters belong to their layer.** Each trainable array is a :class:`Parameter`, a plain
  object holding the array (``value``) and the gradient of the last ``backward`` (``grad``).
  ``backward`` sets ``grad`` to a new array each time: gradients are overwritten, not summed,
  so copy one to keep it. (The scalar engine :mod:`coursekit.engine` does the same in its own
  way: its ``backward()`` zeroes every ``.grad`` before it adds up the paths.)

A two-layer network and one training step::

    model = Sequential(Linear(2, 16, rng=0), ReLU(), Linear(16, 1, rng=1))
    z = model(X)                                   # (n, 1) logits
    model.backward(bce_with_logits_grad(z, y))     # sets every parameter's grad
    SGD(model.parameters(), lr=0.5).step()         # value -= lr * grad
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from coursekit import activations
from coursekit.validation import as_float_array, is_integer


class Parameter:
    """A trainable array and its gradient, owned by the layer that computes with it.

    Args:
        name: its name in the layer (``"W"``, ``"b"``); :meth:`Module.named_parameters` adds the
            layer's position in a model (``"0.W"``).
        value: the array.
        grad: dL/d(value), same shape; ``None`` until the layer's first ``backward``.

    Attributes:
        name, value, grad: as above. The layer reads ``value`` in every ``forward`` and sets
            ``grad`` in every ``backward``; an optimiser changes ``value`` in place.
    """

    def __init__(self, name: str, value: np.ndarray, grad: np.ndarray | None = None) -> None:
        self.name = name
        self.value = value
        self.grad = grad

    def __repr__(self) -> str:
        state = "no grad yet" if self.grad is None else "with grad"
        return f"Parameter({self.name!r}, shape {self.value.shape}, {state})"


def _as_batch(X: ArrayLike, name: str, where: str) -> np.ndarray:
    """Read ``X`` as a real floating-point array; errors start with ``where`` (the caller)."""
    try:
        arr = as_float_array(X, name)
    except TypeError as exc:
        raise TypeError(f"{where}: {exc}") from None
    if arr.dtype.kind == "c":
        raise TypeError(f"{where}: {name} must be real numbers, got dtype {arr.dtype}")
    return arr


def _make_rng(rng: int | np.random.Generator | None) -> np.random.Generator:
    """Accept a seed, a Generator or None (fresh entropy) and return a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or is_integer(rng):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be an int seed, a numpy Generator or None, got {type(rng).__name__}")


class Module:
    """Base class of all layers: ``forward``, ``backward`` and their parameters.

    Calling a module, ``layer(X)``, is the same as ``layer.forward(X)``.
    """

    def forward(self, X: ArrayLike) -> np.ndarray:
        """Compute the output for the batch ``X`` and cache what ``backward`` needs."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def backward(self, dY: ArrayLike) -> np.ndarray:
        """Given dL/d(output), store parameter gradients and return dL/d(input)."""
        raise NotImplementedError(f"{type(self).__name__} does not define backward")

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(name, parameter)`` for each trainable array; layers without weights: none."""
        return iter(())

    def parameters(self) -> Iterator[Parameter]:
        """Yield the layer's own :class:`Parameter` objects (not copies), e.g. for SGD."""
        for _, parameter in self.named_parameters():
            yield parameter

    def __call__(self, X: ArrayLike) -> np.ndarray:
        return self.forward(X)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Linear(Module):
    r"""Fully connected layer :math:`Y = X W^\top + b`.

    Shapes: ``X`` is ``(n, in_features)``, ``W`` is ``(out_features, in_features)`` (row ``j``
    holds the weights of output unit ``j``, as in :math:`z_j = w_j^\top x + b_j`), ``b`` is
    ``(out_features,)`` and ``Y`` is ``(n, out_features)``.

    Backward pass, for :math:`G = \partial L/\partial Y` of shape ``(n, out)``:

    .. math::
        \frac{\partial L}{\partial X} = G W, \qquad
        \frac{\partial L}{\partial W} = G^\top X = \sum_i G_i x_i^\top, \qquad
        \frac{\partial L}{\partial b} = \sum_i G_i = G^\top \mathbf{1}

    The sums run over the batch: each sample adds its outer product :math:`G_i x_i^\top`. The
    bias behaves like a weight on an extra input that is always 1, hence :math:`G^\top \mathbf{1}`.

    Initialisation (He-uniform): every weight is drawn from
    :math:`U(-a, a)` with :math:`a = \sqrt{6/\text{in\_features}}`, so
    :math:`\operatorname{Var}(W_{jk}) = a^2/3 = 2/\text{in\_features}`. A ReLU zeroes about half of
    its inputs, which halves the second moment; the factor 2 compensates, so pre-activations keep
    roughly the same scale from layer to layer instead of shrinking or growing with depth. Biases
    start at 0. Weights must not all start equal: hidden units with identical weights receive
    identical gradients and never become different.

    Args:
        in_features: number of inputs per sample (at least 1).
        out_features: number of outputs per sample (at least 1).
        rng: an int seed or a ``numpy.random.Generator`` for reproducible weights; ``None``
            draws fresh randomness.
        dtype: floating-point type of ``W`` and ``b`` (float64 by default; gradient checks need it).
            The layer computes in this type: inputs and incoming gradients are converted to it.

    Attributes:
        weight, bias: the :class:`Parameter` objects, named ``"W"`` and ``"b"``.
        W, b: their values (``weight.value``, ``bias.value``); assigning replaces the value.
        dW, db: their gradients from the last ``backward`` (``None`` before the first).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        rng: int | np.random.Generator | None = None,
        dtype: DTypeLike = np.float64,
    ) -> None:
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not is_integer(value) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"dtype must be a floating-point type, got {dtype}")
        bound = np.sqrt(6.0 / in_features)
        generator = _make_rng(rng)
        shape = (int(out_features), int(in_features))
        self.weight = Parameter("W", generator.uniform(-bound, bound, size=shape).astype(dtype))
        self.bias = Parameter("b", np.zeros(int(out_features), dtype=dtype))
        self._X: np.ndarray | None = None

    @classmethod
    def from_weights(
        cls, W: ArrayLike, b: ArrayLike | None = None, dtype: DTypeLike = np.float64
    ) -> Linear:
        """Build a layer with given weights (copied), e.g. to recompute a worked example.

        Args:
            W: weights of shape ``(out_features, in_features)``; row ``j`` feeds output ``j``.
            b: biases of shape ``(out_features,)``; zeros if omitted.
            dtype: floating-point type to store them in.

        Raises:
            ValueError: if ``W`` is not 2-D or ``b`` does not have one entry per row of ``W``.
            TypeError: if they are not numbers.
        """
        W_arr = _as_batch(W, "W", "Linear.from_weights")
        if W_arr.ndim != 2 or W_arr.size == 0:
            raise ValueError(
                "Linear.from_weights expected a non-empty W of shape (out_features, in_features), "
                f"got {W_arr.shape}"
            )
        out_features, in_features = W_arr.shape
        if b is None:
            b_arr = np.zeros(out_features)
        else:
            b_arr = _as_batch(b, "b", "Linear.from_weights")
            if b_arr.shape != (out_features,):
                raise ValueError(
                    f"Linear.from_weights expected b of shape ({out_features},) to match W of "
                    f"shape {W_arr.shape}, got {b_arr.shape}"
                )
        layer = cls(in_features, out_features, rng=0, dtype=dtype)
        layer.W = np.array(
            W_arr, dtype=layer.W.dtype
        )  # np.array copies: later training won't touch the caller's array
        layer.b = np.array(b_arr, dtype=layer.b.dtype)
        return layer

    @property
    def W(self) -> np.ndarray:
        return self.weight.value

    @W.setter
    def W(self, value: np.ndarray) -> None:
        self.weight.value = value

    @property
    def b(self) -> np.ndarray:
        return self.bias.value

    @b.setter
    def b(self, value: np.ndarray) -> None:
        self.bias.value = value

    @property
    def dW(self) -> np.ndarray | None:
        return self.weight.grad

    @property
    def db(self) -> np.ndarray | None:
        return self.bias.grad

    @property
    def in_features(self) -> int:
        """Inputs per sample, read from ``W.shape[1]``."""
        return int(self.W.shape[1])

    @property
    def out_features(self) -> int:
        """Outputs per sample, read from ``W.shape[0]``."""
        return int(self.W.shape[0])

    def _describe(self) -> str:
        return f"Linear({self.in_features} -> {self.out_features})"

    def forward(self, X: ArrayLike) -> np.ndarray:
        """Return ``X @ W.T + b`` for ``X`` of shape ``(n, in_features)``; caches ``X``."""
        X = _as_batch(X, "X", f"{self._describe()}.forward")
        if X.ndim != 2 or X.shape[1] != self.in_features:
            hint = " (a single sample x is the batch x[None, :])" if X.ndim == 1 else ""
            raise ValueError(
                f"{self._describe()}.forward expected X of shape (n, {self.in_features}), "
                f"got {X.shape}{hint}"
            )
        # A private copy: if the caller edits X afterwards, backward must still see this batch.
        self._X = np.array(X, dtype=self.W.dtype)
        return self._X @ self.W.T + self.b

    def backward(self, dY: ArrayLike) -> np.ndarray:
        """Set ``dW = dY.T @ X`` and ``db`` = the column sums of dY; return ``dX = dY @ W``.

        Raises:
            ValueError: if called before ``forward`` or ``dY`` is not ``(n, out_features)``.
        """
        if self._X is None:
            raise ValueError(f"{self._describe()}: backward called before forward")
        where = f"{self._describe()}.backward"
        dY = _as_batch(dY, "dY", where).astype(self.W.dtype, copy=False)
        expected = (self._X.shape[0], self.out_features)
        if dY.shape != expected:
            raise ValueError(
                f"{where} expected dY of shape (n, out) = {expected} (n from the last forward), "
                f"got {dY.shape}"
            )
        self.weight.grad = dY.T @ self._X  # dL/dW: one outer product G_i x_i^T per sample, summed
        self.bias.grad = dY.sum(axis=0)  # dL/db: the bias is a weight on an input that is always 1
        return dY @ self.W  # dL/dX

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Yield ``("W", weight)`` and ``("b", bias)``."""
        yield "W", self.weight
        yield "b", self.bias

    def __repr__(self) -> str:
        return self._describe()


class _Elementwise(Module):
    r"""An activation applied entry by entry: :math:`Y = f(Z)`, so
    :math:`\partial L/\partial Z = \partial L/\partial Y \odot f'(Z)`.

    The Jacobian of an elementwise function is diagonal, which is why the backward pass is a
    Hadamard (entrywise) product rather than a matrix product. ``forward`` caches ``Z``.
    """

    _fn: Callable[[ArrayLike], np.ndarray]
    _grad: Callable[[ArrayLike], np.ndarray]

    def __init__(self) -> None:
        self._Z: np.ndarray | None = None

    def forward(self, X: ArrayLike) -> np.ndarray:
        """Apply the activation to every entry of ``X`` (any shape); caches ``X``."""
        Z = _as_batch(X, "X", f"{self!r}.forward")
        self._Z = np.array(Z)
        return type(self)._fn(self._Z)

    def backward(self, dY: ArrayLike) -> np.ndarray:
        """Return ``dY * f'(Z)`` for the ``Z`` of the last forward.

        Raises:
            ValueError: if called before ``forward`` or ``dY`` differs in shape from that ``Z``.
        """
        if self._Z is None:
            raise ValueError(f"{self!r}: backward called before forward")
        dY = _as_batch(dY, "dY", f"{self!r}.backward").astype(self._Z.dtype, copy=False)
        if dY.shape != self._Z.shape:
            raise ValueError(
                f"{self!r}.backward expected dY of shape {self._Z.shape} (the shape of the last "
                f"forward's input), got {dY.shape}"
            )
        return dY * type(self)._grad(self._Z)


class ReLU(_Elementwise):
    r""":math:`\max(0, z)` entrywise; backward lets the gradient through only where :math:`z > 0`.

    At exactly :math:`z = 0` the derivative is taken as 0 (see
    :func:`coursekit.activations.relu_grad`).
    """

    _fn = staticmethod(activations.relu)
    _grad = staticmethod(activations.relu_grad)


class Sigmoid(_Elementwise):
    r""":math:`\sigma(z) = 1/(1 + e^{-z})` entrywise; :math:`\sigma' = \sigma(1-\sigma) \le 1/4`."""

    _fn = staticmethod(activations.sigmoid)
    _grad = staticmethod(activations.sigmoid_grad)


class Tanh(_Elementwise):
    r""":math:`\tanh(z)` entrywise; :math:`\tanh'(z) = 1 - \tanh^2(z)`."""

    _fn = staticmethod(activations.tanh)
    _grad = staticmethod(activations.tanh_grad)


def _identity(z: ArrayLike) -> np.ndarray:
    return np.array(z)


def _ones_like(z: ArrayLike) -> np.ndarray:
    return np.ones_like(z)


class Identity(_Elementwise):
    """:math:`f(z) = z`: output equals input and the gradient passes through unchanged.

    Useful as the "no activation" of a regression output layer.
    """

    _fn = staticmethod(_identity)
    _grad = staticmethod(_ones_like)


ACTIVATIONS: dict[str, type[_Elementwise]] = {
    "relu": ReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "identity": Identity,
}


class Sequential(Module):
    """Layers applied one after another; backward visits them in reverse.

    ``Sequential(Linear(2, 3), ReLU(), Linear(3, 1))`` computes
    ``Linear2(ReLU(Linear1(X)))``. By the chain rule, ``backward(dY)`` hands ``dY`` to the last
    layer, its result to the one before, and so on, returning dL/dX of the first layer.

    Supports ``len(model)``, ``model[i]`` (a slice gives a Sequential sharing the same layers) and
    iteration over the layers. Parameters are named ``"<index>.<name>"``, e.g. ``"2.W"``.

    Raises:
        TypeError: if an argument is not a Module.
        ValueError: if there are no layers, or two Linear layers (with only activations between
            them) do not fit: the ``out_features`` of one must be the ``in_features`` of the next.
    """

    def __init__(self, *layers: Module) -> None:
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                hint = (
                    " (pass the class instantiated, e.g. ReLU())" if isinstance(layer, type) else ""
                )
                raise TypeError(
                    f"Sequential layer {i} must be a Module (Linear, ReLU, ...), "
                    f"got {type(layer).__name__}{hint}"
                )
        self.layers: list[Module] = list(layers)
        self._check_sizes()

    def _check_sizes(self) -> None:
        """Catch ``Linear(2, 16), ReLU(), Linear(8, 1)`` when the model is built, not later."""
        previous: tuple[int, Linear] | None = None
        for i, layer in enumerate(self.layers):
            if isinstance(layer, Linear):
                if previous is not None and previous[1].out_features != layer.in_features:
                    j, before = previous
                    raise ValueError(
                        f"layer {j} {before!r} outputs {before.out_features} features but layer "
                        f"{i} {layer!r} expects {layer.in_features}"
                    )
                previous = (i, layer)
            elif not isinstance(layer, _Elementwise):
                previous = (
                    None  # an unknown module may change the width; nothing to check across it
                )

    def forward(self, X: ArrayLike) -> np.ndarray:
        """Feed ``X`` through every layer in order."""
        out = X
        for layer in self.layers:
            out = layer.forward(out)
        return np.asarray(out)

    def backward(self, dY: ArrayLike) -> np.ndarray:
        """Feed ``dY`` backwards through every layer; return dL/dX of the first layer."""
        grad = dY
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return np.asarray(grad)

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Yield every layer's parameters, named ``"<layer index>.<name in the layer>"``."""
        for i, layer in enumerate(self.layers):
            for name, parameter in layer.named_parameters():
                yield f"{i}.{name}", parameter

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __repr__(self) -> str:
        lines = [f"  ({i}): {layer!r}".replace("\n", "\n  ") for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"


def mlp(
    sizes: Sequence[int],
    activation: str = "relu",
    output_activation: str | None = None,
    rng: int | np.random.Generator | None = None,
    dtype: DTypeLike = np.float64,
) -> Sequential:
    """Build a multilayer perceptron: Linear layers of the given widths with activations between.

    ``mlp([2, 16, 16, 1], "relu", rng=0)`` is
    ``Sequential(Linear(2, 16), ReLU(), Linear(16, 16), ReLU(), Linear(16, 1))``. The last layer
    has no activation unless ``output_activation`` is given, because the losses here take raw
    scores (logits) for classification and raw values for regression.

    Args:
        sizes: widths from input to output, at least two entries, e.g. ``[2, 16, 16, 1]``.
        activation: hidden activation, one of ``"relu"``, ``"sigmoid"``, ``"tanh"``, ``"identity"``.
        output_activation: optional activation after the last layer (same choices).
        rng: seed or Generator; one generator is shared by all layers, so they differ.
        dtype: floating-point type of the parameters.

    Raises:
        ValueError: for fewer than two sizes, a non-positive size or an unknown activation name.
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"mlp needs at least an input and an output size, got sizes={sizes}")
    names = [activation] + ([output_activation] if output_activation is not None else [])
    for name in names:
        if name not in ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    generator = _make_rng(rng)
    layers: list[Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(fan_in, fan_out, rng=generator, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    if output_activation is not None:
        layers.append(ACTIVATIONS[output_activation]())
    return Sequential(*layers)
