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
* **Gradients are overwritten, not accumulated.** Each ``backward`` replaces ``dW`` and ``db``
  (in place, so a :class:`Parameter` record taken earlier sees the new values; copy them to
  keep a snapshot). This differs from the scalar engine :mod:`coursekit.engine`, where ``.grad``
  accumulates and must be zeroed.

A two-layer network and one training step::

    model = Sequential(Linear(2, 16, rng=0), ReLU(), Linear(16, 1, rng=1))
    z = model(X)                                   # (n, 1) logits
    model.backward(bce_with_logits_grad(z, y))     # fills every dW, db
    SGD(model, lr=0.5).step()                      # W -= lr * dW, b -= lr * db
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, NamedTuple, Sequence

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from coursekit import activations
from coursekit.validation import as_float_array


class Parameter(NamedTuple):
    """One trainable array of a model, as yielded by :meth:`Module.parameters`.

    Attributes:
        name: where it lives, e.g. ``"0.W"`` for the weight matrix of layer 0 of a Sequential.
        value: the layer's own array (not a copy): updating it in place changes the layer.
        grad: the gradient stored by the last ``backward``, or ``None`` before the first one.
    """

    name: str
    value: np.ndarray
    grad: np.ndarray | None


def _as_batch(X: ArrayLike, name: str, owner: object, method: str = "") -> np.ndarray:
    """Read ``X`` as a real floating-point array.

    Error messages start with ``owner`` (a string, or a module named as in its ``repr``) and
    ``method``, e.g. ``Linear(2 -> 3).forward: ...``. The prefix is formatted only when there is
    an error: a layer checks its input on every call, and formatting the text each time would
    cost more than the check.
    """
    try:
        arr = as_float_array(X, name)
    except TypeError as exc:
        raise TypeError(f"{_where(owner, method)}: {exc}") from None
    if arr.dtype.kind == "c":
        raise TypeError(
            f"{_where(owner, method)}: {name} must be real numbers, got dtype {arr.dtype}"
        )
    return arr


def _where(owner: object, method: str) -> str:
    """``"Linear(2 -> 3).forward"`` for error messages; ``owner`` may already be a string."""
    prefix = owner if isinstance(owner, str) else repr(owner)
    return f"{prefix}.{method}" if method else prefix


def _make_rng(rng: int | np.random.Generator | None) -> np.random.Generator:
    """Accept a seed, a Generator or None (fresh entropy) and return a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be an int seed, a numpy Generator or None, got {type(rng).__name__}")


class Module:
    """Base class of all layers: ``forward``, ``backward`` and ``parameters``.

    Calling a module, ``layer(X)``, is the same as ``layer.forward(X)``.
    """

    def forward(self, X: ArrayLike) -> np.ndarray:
        """Compute the output for the batch ``X`` and cache what ``backward`` needs."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def backward(self, dY: ArrayLike) -> np.ndarray:
        """Given dL/d(output), store parameter gradients and return dL/d(input)."""
        raise NotImplementedError(f"{type(self).__name__} does not define backward")

    def parameters(self) -> Iterator[Parameter]:
        """Yield the trainable arrays; layers without weights yield nothing."""
        return iter(())

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
        \frac{\partial L}{\partial W} = G^\top X = \sum_i g_i x_i^\top, \qquad
        \frac{\partial L}{\partial b} = \sum_i g_i = G^\top \mathbf{1}

    The sums run over the batch: each sample adds its outer product :math:`g_i x_i^\top`. The
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
        W, b: the parameters (update them in place, e.g. ``layer.W[...] = ...``).
        dW, db: gradients from the last ``backward`` (``None`` before the first).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        rng: int | np.random.Generator | None = None,
        dtype: DTypeLike = np.float64,
    ) -> None:
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"dtype must be a floating-point type, got {dtype}")
        bound = np.sqrt(6.0 / in_features)
        generator = _make_rng(rng)
        self.W: np.ndarray = generator.uniform(-bound, bound, size=(int(out_features), int(in_features))).astype(dtype)
        self.b: np.ndarray = np.zeros(int(out_features), dtype=dtype)
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None
        self._X: np.ndarray | None = None

    @classmethod
    def from_weights(cls, W: ArrayLike, b: ArrayLike | None = None, dtype: DTypeLike = np.float64) -> Linear:
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
                    f"Linear.from_weights expected b of shape ({out_features},) to match W of shape "
                    f"{W_arr.shape}, got {b_arr.shape}"
                )
        layer = cls(in_features, out_features, rng=0, dtype=dtype)
        layer.W = np.array(W_arr, dtype=layer.W.dtype)  # np.array copies: later training won't touch the caller's array
        layer.b = np.array(b_arr, dtype=layer.b.dtype)
        return layer

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
        X = _as_batch(X, "X", self, "forward")
        if X.ndim != 2 or X.shape[1] != self.in_features:
            hint = " (a single sample x is the batch x[None, :])" if X.ndim == 1 else ""
            raise ValueError(
                f"{self._describe()}.forward expected X of shape (n, {self.in_features}), "
                f"got {X.shape}{hint}"
            )
        # A private copy: if the caller edits X afterwards, backward must still see this batch.
        self._X = np.array(X, dtype=self.W.dtype)
        Y = self._X @ self.W.T
        Y += self.b  # in place: `X @ W.T + b` would allocate a second (n, out_features) array
        return Y

    def backward(self, dY: ArrayLike) -> np.ndarray:
        """Store ``dW = dY.T @ X`` and ``db = dY.T @ 1`` (the column sums); return ``dX = dY @ W``.

        Raises:
            ValueError: if called before ``forward`` or ``dY`` is not ``(n, out_features)``.
        """
        if self._X is None:
            raise ValueError(f"{self._describe()}: backward called before forward")
        dY = _as_batch(dY, "dY", self, "backward").astype(self.W.dtype, copy=False)
        expected = (self._X.shape[0], self.out_features)
        if dY.shape != expected:
            raise ValueError(
                f"{self._describe()}.backward expected dY of shape (n, out) = {expected} "
                f"(n from the last forward), got {dY.shape}"
            )
        if (
            self.dW is None or self.dW.shape != self.W.shape or self.dW.dtype != self.W.dtype
            or self.db is None or self.db.shape != self.b.shape or self.db.dtype != self.b.dtype
        ):  # fmt: skip
            self.dW = np.empty_like(self.W)
            self.db = np.empty_like(self.b)
        # Written in place (out=) so that Parameter records (and optimisers holding them) stay
        # current; computing straight into them also saves a temporary and a copy.
        np.matmul(dY.T, self._X, out=self.dW)  # dW = dY.T @ X
        # The bias is a weight whose input is always 1, so db = dY.T @ 1 mirrors dW = dY.T @ X:
        # the sum of the rows of dY. As a matrix-vector product this is 2-5 times faster than
        # dY.sum(axis=0), which NumPy adds up one row at a time.
        np.matmul(dY.T, np.ones(dY.shape[0], dtype=dY.dtype), out=self.db)
        return dY @ self.W

    def parameters(self) -> Iterator[Parameter]:
        """Yield ``W`` and ``b`` with their gradients."""
        yield Parameter("W", self.W, self.dW)
        yield Parameter("b", self.b, self.db)

    def __repr__(self) -> str:
        return self._describe()


class _Elementwise(Module):
    r"""An activation applied entry by entry: :math:`Y = f(Z)`, so :math:`\partial L/\partial Z = \partial L/\partial Y \odot f'(Z)`.

    The Jacobian of an elementwise function is diagonal, which is why the backward pass is a
    Hadamard (entrywise) product rather than a matrix product. ``forward`` caches ``Z``.
    """

    _fn: Callable[[ArrayLike], np.ndarray]
    _grad: Callable[[ArrayLike], np.ndarray]

    def __init__(self) -> None:
        self._Z: np.ndarray | None = None

    def forward(self, X: ArrayLike) -> np.ndarray:
        """Apply the activation to every entry of ``X`` (any shape); caches ``X``."""
        Z = _as_batch(X, "X", self, "forward")
        self._Z = np.array(Z)
        return type(self)._fn(self._Z)

    def backward(self, dY: ArrayLike) -> np.ndarray:
        """Return ``dY * f'(Z)`` for the ``Z`` of the last forward.

        Raises:
            ValueError: if called before ``forward`` or ``dY`` differs in shape from that ``Z``.
        """
        if self._Z is None:
            raise ValueError(f"{self!r}: backward called before forward")
        dY = _as_batch(dY, "dY", self, "backward").astype(self._Z.dtype, copy=False)
        if dY.shape != self._Z.shape:
            raise ValueError(
                f"{self!r}.backward expected dY of shape {self._Z.shape} (the shape of the last "
                f"forward's input), got {dY.shape}"
            )
        return dY * type(self)._grad(self._Z)


class ReLU(_Elementwise):
    r""":math:`\max(0, z)` entrywise; backward passes the gradient where :math:`z > 0` and blocks it elsewhere.

    At exactly :math:`z = 0` the derivative is taken as 0 (see :func:`coursekit.activations.relu_grad`).
    """

    _fn = staticmethod(activations.relu)
    _grad = staticmethod(activations.relu_grad)


class Sigmoid(_Elementwise):
    r""":math:`\sigma(z) = 1/(1 + e^{-z})` entrywise; :math:`\sigma'(z) = \sigma(z)(1 - \sigma(z)) \le 1/4`."""

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
            them) do not fit: the ``out_features`` of one must equal the ``in_features`` of the next.
    """

    def __init__(self, *layers: Module) -> None:
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(
                    f"Sequential layer {i} must be a Module (Linear, ReLU, ...), got {type(layer).__name__}"
                    + (" (pass the class instantiated, e.g. ReLU())" if isinstance(layer, type) else "")
                )
        self.layers: list[Module] = list(layers)
        self._check_sizes()

    def _check_sizes(self) -> None:
        """Catch ``Linear(2, 16), ReLU(), Linear(8, 1)`` when the model is built, not mid-training."""
        previous: tuple[int, Linear] | None = None
        for i, layer in enumerate(self.layers):
            if isinstance(layer, Linear):
                if previous is not None and previous[1].out_features != layer.in_features:
                    j, before = previous
                    raise ValueError(
                        f"layer {j} {before!r} outputs {before.out_features} features but layer {i} "
                        f"{layer!r} expects {layer.in_features}"
                    )
                previous = (i, layer)
            elif not isinstance(layer, _Elementwise):
                previous = None  # an unknown module may change the width; nothing to check across it

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

    def parameters(self) -> Iterator[Parameter]:
        """Yield every layer's parameters, named ``"<layer index>.<parameter name>"``."""
        for i, layer in enumerate(self.layers):
            for p in layer.parameters():
                # A new record rather than p._replace(name=...), which costs twice as much.
                yield Parameter(f"{i}.{p.name}", p.value, p.grad)

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
