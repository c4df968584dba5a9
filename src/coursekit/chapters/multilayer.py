r"""Support for the multilayer-networks chapter: hidden layers, what they compute and why.

A network with one hidden layer of width :math:`d_1` computes, for one input
:math:`x \in \mathbb{R}^d`,

.. math::
    z_1 = W_1 x + b_1 \in \mathbb{R}^{d_1}, \qquad h_1 = f(z_1), \qquad
    z_2 = W_2 h_1 + b_2, \qquad \hat y = f_{\text{out}}(z_2),

which :mod:`coursekit.nn` writes as ``Sequential(Linear(d, d1), f, Linear(d1, k), f_out)``. The
functions here build such networks with chosen weights and take them apart:

* :func:`xor_by_hand` -- two ReLU units that solve XOR exactly, :math:`|x_1 - x_2| - 1`;
* :func:`hidden_features` -- the hidden activations :math:`h_1`, the coordinates in which the
  output layer is a linear classifier;
* :func:`collapse_linear` -- a stack of linear layers is one linear layer,
  :math:`W = W_2 W_1`, :math:`b = W_2 b_1 + b_2`;
* :func:`relu_interpolant` -- a 1-d1-1 ReLU network that is exactly the piecewise-linear
  interpolant of given points (sums of ReLUs build bumps, bumps build functions);
* :func:`cover_fraction`, :func:`separable_by_perceptron` and :func:`separable_by_least_squares`
  -- Cover's count of the labellings a hyperplane can realise, and a check of it on data;
* :func:`constant_init` -- all weights equal, to show that such units never become different.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from coursekit.nn import Identity, Linear, Module, ReLU, Sequential
from coursekit.validation import as_float_array


def xor_by_hand() -> Sequential:
    r"""A 2-2-1 ReLU network that classifies the four XOR corners :math:`(\pm1, \pm1)` exactly.

    .. math::
        h_{1,1} = \operatorname{ReLU}(x_1 - x_2), \quad h_{1,2} = \operatorname{ReLU}(x_2 - x_1),
        \quad z_2 = h_{1,1} + h_{1,2} - 1 = |x_1 - x_2| - 1 .

    The logit :math:`z_2` is positive (class 1) where the coordinates differ by more than 1, that
    is around :math:`(1, -1)` and :math:`(-1, 1)`, and negative around :math:`(1, 1)` and
    :math:`(-1, -1)`: at the corners it is :math:`+1` and :math:`-1`.
    """
    return Sequential(
        Linear.from_weights([[1.0, -1.0], [-1.0, 1.0]], [0.0, 0.0]),
        ReLU(),
        Linear.from_weights([[1.0, 1.0]], [-1.0]),
    )


def _linear_layers(model: Sequential) -> list[Linear]:
    if not isinstance(model, Sequential):
        raise TypeError(f"expected a Sequential network, got {type(model).__name__}")
    return [layer for layer in model if isinstance(layer, Linear)]


def hidden_features(model: Sequential, X: ArrayLike) -> np.ndarray:
    r"""The input of the last :class:`~coursekit.nn.Linear` layer for each row of ``X``.

    For ``Sequential(Linear, f, Linear)`` this is :math:`H = f(X W_1^\top + \mathbf 1 b_1^\top)`,
    shape ``(n, d1)``: the output layer is a linear classifier *in these coordinates*.

    Raises:
        TypeError: if ``model`` is not a Sequential.
        ValueError: if it has no Linear layer after the first layer, or ``X`` does not fit it.
    """
    layers = list(_check_sequential(model))
    last = max((i for i, layer in enumerate(layers) if isinstance(layer, Linear)), default=0)
    if last == 0:
        raise ValueError(f"{model!r} has no hidden layer: its only Linear layer is the first one")
    return np.asarray(model[:last](X))


def _check_sequential(model: Sequential) -> Sequential:
    if not isinstance(model, Sequential):
        raise TypeError(f"expected a Sequential network, got {type(model).__name__}")
    return model


def collapse_linear(model: Sequential) -> tuple[np.ndarray, np.ndarray]:
    r"""The single affine map :math:`x \mapsto W x + b` computed by a stack of linear layers.

    For :math:`z_1 = W_1 x + b_1` followed by :math:`z_2 = W_2 z_1 + b_2`,

    .. math:: z_2 = W_2 (W_1 x + b_1) + b_2 = (W_2 W_1)\, x + (W_2 b_1 + b_2),

    and by induction any number of linear layers (with identity activations between them) is one
    linear layer. Returns ``(W, b)`` with ``W`` of shape ``(out, in)``.

    Raises:
        TypeError: if ``model`` is not a Sequential.
        ValueError: if a layer is neither :class:`~coursekit.nn.Linear` nor
            :class:`~coursekit.nn.Identity` (a nonlinearity cannot be folded).
    """
    _check_sequential(model)
    W: np.ndarray | None = None
    b: np.ndarray | None = None
    for i, layer in enumerate(model):
        if isinstance(layer, Identity):
            continue
        if not isinstance(layer, Linear):
            raise ValueError(
                f"layer {i} is {layer!r}, not linear: only Linear and Identity layers fold into one"
            )
        if W is None:
            W, b = layer.W.copy(), layer.b.copy()
        else:
            W, b = layer.W @ W, layer.W @ b + layer.b
    if W is None or b is None:
        raise ValueError(f"{model!r} has no Linear layer")
    return W, b


def bump(x: ArrayLike, centre: float, half_width: float) -> np.ndarray:
    r"""A triangle of height 1 on :math:`[c - a, c + a]` (``a = half_width``) from three ReLUs.

    .. math::
        \operatorname{bump}(x) = \frac{1}{a}\Big(\operatorname{ReLU}(x - c + a)
        - 2\operatorname{ReLU}(x - c) + \operatorname{ReLU}(x - c - a)\Big)

    The slopes add up to :math:`1/a` on :math:`[c - a, c]`, :math:`-1/a` on :math:`[c, c + a]`
    and 0 outside, so the function is 0 left of :math:`c - a`, rises to 1 at :math:`c` and is
    back to 0 from :math:`c + a` on.

    Raises:
        ValueError: if ``half_width`` is not a positive finite number.
    """
    if not (
        isinstance(half_width, (int, float, np.integer, np.floating))
        and math.isfinite(half_width)
        and half_width > 0
    ):
        raise ValueError(f"half_width must be a positive finite number, got {half_width!r}")
    x = as_float_array(x, "x")
    relu = np.maximum
    return (
        relu(x - centre + half_width, 0)
        - 2 * relu(x - centre, 0)
        + relu(x - centre - half_width, 0)
    ) / half_width


def relu_interpolant(knots: ArrayLike, values: ArrayLike) -> Sequential:
    r"""A 1-d1-1 ReLU network equal to the piecewise-linear interpolant of ``(knots, values)``.

    With knots :math:`t_0 < t_1 < \dots < t_{d_1}` and slopes
    :math:`s_k = (v_{k+1} - v_k)/(t_{k+1} - t_k)` of the pieces, the interpolant is

    .. math::

        p(x) = v_0 + s_0 (x - t_0)
        + \sum_{k=1}^{d_1 - 1} (s_k - s_{k-1})\, \operatorname{ReLU}(x - t_k),

    valid for :math:`x \ge t_0`: each ReLU switches on at a knot and changes the slope there by
    exactly the jump in slope. Written as a network, hidden unit 0 is
    :math:`\operatorname{ReLU}(x - t_0)` (it equals :math:`x - t_0` on the whole interval) and
    unit :math:`k` is :math:`\operatorname{ReLU}(x - t_k)`: ``W1`` is all ones, ``b1 = -t``, the
    output weights are the slope changes and the output bias is :math:`v_0`. So :math:`d_1` hidden
    units reproduce any piecewise-linear function with :math:`d_1` pieces; more units, finer pieces,
    and a continuous function on an interval is approximated as closely as one likes.

    Args:
        knots: strictly increasing, at least 2 of them.
        values: the function values at the knots, same length.

    Returns:
        ``Sequential(Linear(1, d1), ReLU(), Linear(d1, 1))`` with ``d1 = len(knots) - 1``.

    Raises:
        ValueError: for fewer than two knots, unequal lengths or knots that do not increase.
    """
    t = as_float_array(knots, "knots")
    v = as_float_array(values, "values")
    if t.ndim != 1 or t.size < 2:
        raise ValueError(f"knots must be a 1-D array of at least 2 points, got shape {t.shape}")
    if v.shape != t.shape:
        raise ValueError(f"values must have one entry per knot, shape {t.shape}, got {v.shape}")
    if not np.all(np.diff(t) > 0):
        raise ValueError("knots must be strictly increasing")
    slopes = np.diff(v) / np.diff(t)
    changes = np.concatenate([slopes[:1], np.diff(slopes)])  # s_0, then s_k - s_{k-1}
    width = t.size - 1
    return Sequential(
        Linear.from_weights(np.ones((width, 1)), -t[:-1]),
        ReLU(),
        Linear.from_weights(changes[None, :], [v[0]]),
    )


def cover_count(n: int, dim: int) -> int:
    r"""Cover's count: labellings of ``n`` points in general position that a hyperplane realises.

    For points in general position in :math:`\mathbb{R}^{D}` (``D = dim``) and affine separators
    :math:`w^\top x + b`, Cover (1965) counts

    .. math:: C(n, D + 1) = 2 \sum_{j=0}^{D} \binom{n - 1}{j}

    of the :math:`2^n` labellings as linearly separable (the bias adds one to the dimension of
    the weights). With :math:`n \le D + 1` that is all :math:`2^n` of them.

    Raises:
        ValueError: if ``n`` or ``dim`` is not a positive integer.
    """
    for name, value in (("n", n), ("dim", dim)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return 2 * sum(math.comb(int(n) - 1, k) for k in range(min(int(dim), int(n) - 1) + 1))


def cover_fraction(n: int, dim: int) -> float:
    """:func:`cover_count` divided by the :math:`2^n` labellings of ``n`` points."""
    return cover_count(n, dim) / 2.0 ** int(n)


def separable_by_perceptron(
    features: ArrayLike, labellings: ArrayLike, max_epochs: int = 400
) -> np.ndarray:
    r"""Which labellings of the same points the perceptron separates, run on all at once.

    Runs the perceptron rule (chapter 1) with the bias trick on ``features`` (shape ``(n, d1)``)
    for each row of ``labellings`` (shape ``(L, n)``, labels 0/1) in parallel, and returns a
    boolean array of shape ``(L,)``: ``True`` where a full epoch ended without a mistake. That is
    a certificate: those labellings *are* linearly separable. ``False`` means no separator was
    found within ``max_epochs``; for separable data with a tiny margin the rule may need more,
    so the fraction returned is a lower bound of the separable fraction.

    Raises:
        ValueError: for shapes that do not fit or labels other than 0 and 1.
    """
    F, Y = _features_and_labellings(features, labellings)
    Xt = np.hstack([np.ones((F.shape[0], 1)), F])
    theta = np.zeros((Y.shape[0], Xt.shape[1]))
    done = np.zeros(Y.shape[0], dtype=bool)
    for _ in range(max_epochs):
        mistakes = np.zeros(Y.shape[0], dtype=int)
        for i in range(Xt.shape[0]):
            predicted = (theta @ Xt[i] > 0).astype(float)
            error = Y[:, i] - predicted  # +1, 0 or -1 per labelling
            error[done] = 0.0
            theta += error[:, None] * Xt[i]
            mistakes += error != 0
        done |= mistakes == 0
        if done.all():
            break
    return done


def separable_by_least_squares(features: ArrayLike, labellings: ArrayLike) -> np.ndarray:
    r"""Which labellings a least-squares fit of the targets :math:`\pm 1` already separates.

    For each labelling, :math:`\theta` minimises :math:`\lVert \tilde F \theta - (2y - 1)\rVert^2`
    over the augmented features :math:`\tilde F = [\mathbf 1, F]`; the labelling counts as
    separated when every sign of :math:`\tilde F\theta` is right (a certificate, like the
    perceptron's). When :math:`\tilde F` has rank :math:`n` (at least as many independent
    feature columns as points) the fit is exact, so *every* labelling is separated: this is the
    end point of Cover's count.

    Returns:
        Boolean array of shape ``(L,)``.

    Raises:
        ValueError: for shapes that do not fit or labels other than 0 and 1.
    """
    F, Y = _features_and_labellings(features, labellings)
    Xt = np.hstack([np.ones((F.shape[0], 1)), F])
    targets = 2.0 * Y.T - 1.0  # (n, L): one column of +-1 targets per labelling
    theta, *_ = np.linalg.lstsq(Xt, targets, rcond=None)
    return np.all(np.sign(Xt @ theta) == targets, axis=0)


def _features_and_labellings(
    features: ArrayLike, labellings: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    F = as_float_array(features, "features")
    Y = np.asarray(labellings)
    if F.ndim != 2:
        raise ValueError(f"features must have shape (n, d1), got {F.shape}")
    if Y.ndim != 2 or Y.shape[1] != F.shape[0]:
        raise ValueError(
            f"labellings must have shape (L, {F.shape[0]}), one label per point, got {Y.shape}"
        )
    if not np.all((Y == 0) | (Y == 1)):
        raise ValueError("labellings must contain only the labels 0 and 1")
    return F, Y.astype(np.float64)


def constant_init(model: Module, value: float = 0.5) -> Module:
    r"""Set every weight of every Linear layer of ``model`` to ``value`` and every bias to 0.

    Then all hidden units of a layer compute the same function, receive the same gradient
    (:math:`\partial L/\partial W_1` has identical rows) and, after any number of gradient steps,
    are still identical: the layer behaves like a single unit. Random initialisation breaks this
    symmetry. Returns the model, changed in place.
    """
    layers = [model] if isinstance(model, Linear) else _linear_layers(model)  # type: ignore[arg-type]
    for layer in layers:
        layer.W[...] = value
        layer.b[...] = 0.0
    return model
