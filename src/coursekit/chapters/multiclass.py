r"""Multiclass classification from binary classifiers: one-vs-all and one-vs-one.

Both schemes reduce a :math:`K`-class problem to several two-class logistic regressions
(:mod:`coursekit.chapters.logistic`), each with a linear discriminant
:math:`g(x) = \theta_0 + \theta_1 x_1 + \dots + \theta_d x_d` whose sign is its binary decision.

**One-vs-all** (one-vs-rest) trains :math:`K` classifiers; classifier :math:`k` separates class
:math:`k` (target 1) from all other classes together (target 0). With sign-based decisions,
class :math:`k` *claims* a point when :math:`g_k(x) > 0`, and a point can be claimed by exactly
one class (unambiguous), by none, or by several: the last two are the ambiguous regions.
Taking :math:`\arg\max_k g_k(x)` instead removes the ambiguity.

**One-vs-one** trains one classifier for each unordered pair :math:`\{i, j\}` of classes, on the
points of those two classes only: :math:`\binom{K}{2} = K(K-1)/2` classifiers (each of the
:math:`K` classes pairs with :math:`K - 1` others, and that counts every pair twice). Each
classifier votes for one of its two classes; the class with the most votes wins. When several
classes share the largest number of votes the point is ambiguous (a tie).

Labels are the integers ``0 .. K-1``. :data:`NO_CLASS` and :data:`SEVERAL_CLASSES` mark the
ambiguous outcomes of :meth:`OneVsAll.decide` and :meth:`OneVsOne.decide`.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from numpy.typing import ArrayLike

from coursekit.activations import sigmoid
from coursekit.chapters.descent import MAX_NORM
from coursekit.chapters.discriminant import add_bias
from coursekit.chapters.training import check_labels
from coursekit.validation import as_float_array, is_integer, require_count, require_positive_number

NO_CLASS = -1
"""Label :meth:`OneVsAll.decide` gives a point that no classifier claims."""

SEVERAL_CLASSES = -2
"""Label for a point claimed by several one-vs-all classifiers, or a one-vs-one vote tie."""

SCHEMES = ("ova", "ovo")


def _check_num_classes(num_classes: int) -> int:
    if not is_integer(num_classes):
        raise TypeError(f"num_classes must be an integer, got {type(num_classes).__name__}")
    if num_classes < 2:
        raise ValueError(
            f"num_classes must be at least 2 (one class needs no classifier), got {num_classes}"
        )
    return int(num_classes)


def num_classifiers(num_classes: int, scheme: str) -> int:
    r"""How many binary classifiers a scheme needs for ``num_classes`` classes.

    * ``"ova"`` (one-vs-all): :math:`K`, one per class.
    * ``"ovo"`` (one-vs-one): :math:`K(K-1)/2`, one per unordered pair of distinct classes.

    For :math:`K = 2` one-vs-one needs a single classifier (the pair {0, 1}), while one-vs-all
    trains two classifiers that are mirror images of each other.

    Raises:
        ValueError: for fewer than 2 classes or an unknown scheme.
    """
    k = _check_num_classes(num_classes)
    if scheme == "ova":
        return k
    if scheme == "ovo":
        return k * (k - 1) // 2
    raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")


def class_pairs(num_classes: int) -> list[tuple[int, int]]:
    """The unordered pairs ``(i, j)`` with ``i < j`` that one-vs-one trains, in order."""
    return list(combinations(range(_check_num_classes(num_classes)), 2))


def vote(winners: ArrayLike, pairs: list[tuple[int, int]], num_classes: int) -> np.ndarray:
    """Count the votes each class gets from pairwise decisions.

    Args:
        winners: shape ``(n, P)``; entry ``[i, p]`` is the class that classifier ``p`` chose for
            point ``i``, one of the two classes of ``pairs[p]``.
        pairs: the ``P`` class pairs, as from :func:`class_pairs`.
        num_classes: :math:`K`.

    Returns:
        Integer votes of shape ``(n, K)``; every row sums to ``P``.

    Raises:
        ValueError: if the shapes disagree or a winner is not one of its pair's classes.
    """
    k = _check_num_classes(num_classes)
    winners = np.asarray(winners)
    if winners.ndim != 2 or winners.shape[1] != len(pairs):
        raise ValueError(
            f"winners must have shape (n, {len(pairs)}) (one column per pair), got {winners.shape}"
        )
    votes = np.zeros((winners.shape[0], k), dtype=np.int64)
    for p, (i, j) in enumerate(pairs):
        column = winners[:, p]
        if not np.all((column == i) | (column == j)):
            raise ValueError(
                f"classifier {p} decides between classes {i} and {j}, "
                f"but a winner is {column[(column != i) & (column != j)][0]}"
            )
        votes[:, i] += column == i
        votes[:, j] += column == j
    return votes


def _check_data(
    X: ArrayLike, y: ArrayLike, num_classes: int | None
) -> tuple[np.ndarray, np.ndarray, int]:
    X = as_float_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n, d), one point per row, got shape {X.shape}")
    k = None if num_classes is None else _check_num_classes(num_classes)
    y = check_labels(y, X.shape[0], k)
    if y.size == 0:
        raise ValueError("no training points: X and y are empty")
    k = int(y.max()) + 1 if k is None else k
    counts = np.bincount(y, minlength=k)
    if np.any(counts == 0):
        raise ValueError(
            f"every class needs training points; class {int(np.argmin(counts))} has none"
        )
    return X, y, _check_num_classes(k)


def fit_logistic_regressions(
    X: ArrayLike, targets: ArrayLike, members: ArrayLike, lr: float = 0.5, steps: int = 300
) -> np.ndarray:
    r"""Train ``C`` binary logistic regressions on subsets of the same points, side by side.

    Regression :math:`c` is trained on the points with ``members[:, c]`` true, with labels
    ``targets[:, c]``, exactly as :func:`coursekit.chapters.logistic.fit` trains one: full-batch
    gradient descent from :math:`\theta_c = 0` on the mean binary cross-entropy of its
    :math:`m_c` points,

    .. math:: \theta_c \leftarrow \theta_c - \frac{\eta}{m_c} \sum_{i \in c}
       \big(\sigma(\theta_c^\top \tilde x_i) - y_{ic}\big)\,\tilde x_i ,

    and a regression whose :math:`\lVert\theta_c\rVert` exceeds :data:`MAX_NORM` stops there, as
    :func:`coursekit.chapters.descent.gradient_descent` does. Because all of them share the inputs,
    one matrix product per step serves every regression: the :math:`K(K-1)/2` one-vs-one classifiers
    of five classes train in about the time one call of :func:`coursekit.chapters.logistic.fit`
    takes, which is what lets the chapter's slider app retrain while a slider moves.

    Args:
        X: inputs ``(n, d)``.
        targets: ``(n, C)`` labels in {0, 1}; entries outside a regression's points are ignored.
        members: ``(n, C)`` booleans, which points each regression trains on (at least one).
        lr: learning rate :math:`\eta`.
        steps: gradient steps.

    Returns:
        ``(C, d + 1)``, row :math:`c` the parameters of regression :math:`c`, bias first.

    Raises:
        ValueError: for shapes that do not fit, a regression without points, a learning rate
            that is not a positive finite number or a negative number of steps.
    """
    require_positive_number(lr, "lr")
    require_count(steps, "steps")
    Xb = add_bias(as_float_array(X, "X"))
    targets = as_float_array(targets, "targets")
    members = np.asarray(members, dtype=bool)
    if targets.ndim != 2 or targets.shape[0] != Xb.shape[0] or members.shape != targets.shape:
        raise ValueError(
            f"targets and members must both have shape ({Xb.shape[0]}, C), "
            f"got {targets.shape} and {members.shape}"
        )
    if np.any((targets != 0) & (targets != 1)):
        raise ValueError("targets must be 0 or 1")
    counts = members.sum(axis=0)
    if np.any(counts == 0):
        raise ValueError(f"regression {int(np.argmin(counts))} has no training points")
    # The per-point weight 1/m_c on the regression's own points and 0 elsewhere turns the sum
    # over all points into the mean over its points.
    weights = members / counts
    thetas = np.zeros((targets.shape[1], Xb.shape[1]))
    training = np.ones(targets.shape[1], dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(steps)):
            residuals = (sigmoid(Xb @ thetas.T) - targets) * weights  # (n, C): dL_c/dz_i
            step = lr * (residuals.T @ Xb)
            thetas[training] -= step[training]
            training &= np.einsum("cj,cj->c", thetas, thetas) <= MAX_NORM**2
            if not training.any():
                break
    return thetas


class _Scheme:
    """Shared parts: training settings, the stored discriminants and their scores."""

    def __init__(self, lr: float = 0.5, steps: int = 300) -> None:
        self.lr = lr
        self.steps = steps
        self.thetas: np.ndarray | None = None
        self.num_classes = 0

    def scores(self, X: ArrayLike) -> np.ndarray:
        r"""Discriminant values :math:`g_c(x) = \theta_c^\top [1, x]`, one column per classifier."""
        if self.thetas is None:
            raise RuntimeError(f"{type(self).__name__} is not trained yet: call fit(X, y) first")
        X = as_float_array(X, "X")
        if X.ndim != 2 or X.shape[1] != self.thetas.shape[1] - 1:
            raise ValueError(
                f"X must have shape (n, {self.thetas.shape[1] - 1}), got shape {X.shape}"
            )
        return add_bias(X) @ self.thetas.T


class OneVsAll(_Scheme):
    r"""One logistic regression per class, that class (1) against the rest (0).

    Args:
        lr: learning rate of each logistic regression.
        steps: gradient-descent steps of each logistic regression.

    Attributes:
        thetas: ``(K, d + 1)``, row :math:`k` the parameters (bias first) of :math:`g_k`.
        num_classes: :math:`K`.
    """

    def fit(self, X: ArrayLike, y: ArrayLike, num_classes: int | None = None) -> OneVsAll:
        """Train the :math:`K` classifiers (``num_classes`` defaults to ``max(y) + 1``)."""
        X, y, k = _check_data(X, y, num_classes)
        self.num_classes = k
        # column c: class c (1) against all the others (0), on every point
        targets = y[:, None] == np.arange(k)
        self.thetas = fit_logistic_regressions(
            X, targets, np.ones_like(targets), self.lr, self.steps
        )
        return self

    def claims(self, X: ArrayLike, threshold: float = 0.0) -> np.ndarray:
        r"""Boolean ``(n, K)``: does classifier :math:`k` claim the point, :math:`g_k(x) > t`?

        ``threshold`` :math:`t = 0` is the sign rule, i.e. :math:`P(\text{class } k) > 1/2`; a
        threshold :math:`t` on the logit is the probability threshold :math:`\sigma(t)`.
        """
        return self.scores(X) > threshold

    def decide(self, X: ArrayLike, threshold: float = 0.0) -> np.ndarray:
        """Sign-based decision: the claiming class, or NO_CLASS / SEVERAL_CLASSES when ambiguous."""
        claims = self.claims(X, threshold)
        count = claims.sum(axis=1)
        labels = np.argmax(claims, axis=1)  # the claiming class where exactly one claims
        labels[count == 0] = NO_CLASS
        labels[count > 1] = SEVERAL_CLASSES
        return labels

    def predict(self, X: ArrayLike) -> np.ndarray:
        r"""Never ambiguous: the class with the largest discriminant, :math:`\arg\max_k g_k(x)`."""
        return np.argmax(self.scores(X), axis=1)


class OneVsOne(_Scheme):
    r"""One logistic regression per pair of classes :math:`i < j`, trained on those two classes.

    Classifier :math:`p` for the pair :math:`(i, j)` has target 1 for class :math:`i` and 0 for
    class :math:`j`, so :math:`g_p(x) > 0` is a vote for :math:`i` and :math:`g_p(x) \le 0` a vote
    for :math:`j`.

    Attributes:
        pairs: the :math:`K(K-1)/2` pairs, from :func:`class_pairs`.
        thetas: ``(P, d + 1)``, one row per pair.
        num_classes: :math:`K`.
    """

    def fit(self, X: ArrayLike, y: ArrayLike, num_classes: int | None = None) -> OneVsOne:
        """Train one classifier per pair, each on the points of its two classes only."""
        X, y, k = _check_data(X, y, num_classes)
        self.num_classes = k
        self.pairs = class_pairs(k)
        first = np.array([i for i, _ in self.pairs])
        second = np.array([j for _, j in self.pairs])
        # column p: the points of classes i and j only, target 1 for class i
        members = (y[:, None] == first) | (y[:, None] == second)
        self.thetas = fit_logistic_regressions(X, y[:, None] == first, members, self.lr, self.steps)
        return self

    def winners(self, X: ArrayLike) -> np.ndarray:
        """``(n, P)``: the class each pairwise classifier votes for."""
        first = np.array([i for i, _ in self.pairs])
        second = np.array([j for _, j in self.pairs])
        return np.where(self.scores(X) > 0, first, second)

    def votes(self, X: ArrayLike) -> np.ndarray:
        """``(n, K)`` vote counts (see :func:`vote`)."""
        return vote(self.winners(X), self.pairs, self.num_classes)

    def decide(self, X: ArrayLike) -> np.ndarray:
        """Majority vote, or SEVERAL_CLASSES where the top number of votes is shared (a tie)."""
        votes = self.votes(X)
        top = votes.max(axis=1, keepdims=True)
        labels = np.argmax(votes, axis=1)
        labels[(votes == top).sum(axis=1) > 1] = SEVERAL_CLASSES
        return labels

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Majority vote with ties broken towards the smaller class index (never ambiguous)."""
        return np.argmax(self.votes(X), axis=1)


def region_fractions(labels: ArrayLike) -> dict[str, float]:
    """Fractions of ``labels`` (e.g. a grid of decisions) that are NO_CLASS and SEVERAL_CLASSES.

    Returns:
        ``{"none": ..., "several": ..., "ambiguous": none + several}``.
    """
    labels = np.asarray(labels)
    if labels.size == 0:
        raise ValueError("labels is empty: no area to measure")
    none = float(np.mean(labels == NO_CLASS))
    several = float(np.mean(labels == SEVERAL_CLASSES))
    return {"none": none, "several": several, "ambiguous": none + several}
