r"""A small training loop for classifiers built from :mod:`coursekit.nn`, with a history.

One epoch is one pass over the training data. With ``batch_size=None`` an epoch is one step of
full-batch gradient descent; with a batch size the rows are shuffled (seeded) and every
mini-batch makes one step. Each step is

.. code-block:: text

    logits = model(X_batch)                         forward
    model.backward(loss_grad(logits, y_batch))      backward: fills every dW, db
    optimizer.step()                                W -= lr * dW, b -= lr * db

Two output conventions (the model's last layer outputs raw scores, *logits*):

* ``loss="cce"``: ``K`` logits per sample, softmax + categorical cross-entropy, prediction
  :math:`\arg\max_k z_k`;
* ``loss="bce"``: one logit per sample, sigmoid + binary cross-entropy, prediction
  :math:`[z > 0]` (that is :math:`\sigma(z) > 1/2`).

In both, the gradient of the mean loss with respect to the logits is
:math:`(\text{prediction probabilities} - \text{targets})/n`.

:class:`History` records the loss and accuracy on the whole training set *before the first step
and after every epoch*, so ``history.loss[e]`` belongs to the model after ``e`` epochs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal

import numpy as np
from numpy.typing import ArrayLike

from coursekit import losses
from coursekit.nn import Module
from coursekit.optim import SGD
from coursekit.validation import is_integer, require_count

LossName = Literal["cce", "bce"]


@dataclass
class History:
    """Loss and accuracy on the training set, one entry per epoch count ``0 .. epochs``.

    Attributes:
        loss: mean loss of the model after ``e`` epochs, at index ``e``.
        accuracy: fraction of correctly classified training points after ``e`` epochs.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> np.ndarray:
        """The epoch counts ``0, 1, ..., len(loss) - 1`` (x-axis of a learning curve)."""
        return np.arange(len(self.loss))


def _check_loss(loss: str) -> None:
    if loss not in ("cce", "bce"):
        raise ValueError(
            f"loss must be 'cce' (softmax output) or 'bce' (sigmoid output), got {loss!r}"
        )


def check_labels(y: ArrayLike, n: int, num_classes: int | None = None) -> np.ndarray:
    """Class labels ``0, 1, ...``, one per row of ``X``, as an int64 array of shape ``(n,)``.

    Every classifier in coursekit (this trainer, :mod:`coursekit.chapters.softmax_regression`,
    :mod:`coursekit.chapters.multiclass`) reads its labels through this check. Floats are accepted
    when they are whole numbers (labels stored in a float array); ``0.5`` is not a class.

    Args:
        y: the labels.
        n: the number of rows of ``X``.
        num_classes: if given, every label must be below it.

    Raises:
        ValueError: for the wrong shape, labels that are not whole numbers, or labels outside
            ``0 .. num_classes - 1`` (negative labels are always rejected).
    """
    labels = np.asarray(y)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(
            f"y must hold one integer label per row of X, shape ({n},), got shape {labels.shape}"
        )
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind != "f" or not np.all(labels == np.round(labels)):
            raise ValueError(f"y must hold integer class labels, got dtype {labels.dtype}")
    labels = labels.astype(np.int64)
    if labels.size and num_classes is None and labels.min() < 0:
        raise ValueError(f"labels must be class indices 0, 1, ..., got {labels.min()}")
    if (
        labels.size
        and num_classes is not None
        and (labels.min() < 0 or labels.max() >= num_classes)
    ):
        raise ValueError(
            f"labels must lie in 0..{num_classes - 1} for {num_classes} classes, "
            f"got values from {labels.min()} to {labels.max()}"
        )
    return labels


def loss_and_grad(logits: np.ndarray, y: np.ndarray, loss: LossName) -> tuple[float, np.ndarray]:
    """Mean loss of ``logits`` against integer labels ``y`` and its gradient w.r.t. the logits.

    Raises:
        ValueError: if the logits do not fit the loss (``bce`` needs one column, ``cce`` at
            least two) or a label is out of range.
    """
    _check_loss(loss)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (n, outputs), got {logits.shape}")
    if loss == "bce":
        if logits.shape[1] != 1:
            raise ValueError(
                f"loss='bce' needs a model with one output (a logit), got {logits.shape[1]} outputs"
            )
        if np.any((y != 0) & (y != 1)):
            raise ValueError("loss='bce' needs labels 0 and 1")
        target = y[:, None].astype(np.float64)
        return losses.bce_with_logits(logits, target), losses.bce_with_logits_grad(logits, target)
    if logits.shape[1] < 2:
        raise ValueError(
            "loss='cce' needs a model with one output per class (at least 2); "
            "use loss='bce' for one"
        )
    if y.size and (y.min() < 0 or y.max() >= logits.shape[1]):
        raise ValueError(
            f"labels must lie in 0..{logits.shape[1] - 1} for a model with "
            f"{logits.shape[1]} outputs"
        )
    return losses.cce_with_logits(logits, y), losses.cce_with_logits_grad(logits, y)


def labels_from_logits(logits: np.ndarray, loss: LossName) -> np.ndarray:
    """Predicted class labels: ``argmax`` for ``cce``, ``logit > 0`` for ``bce``."""
    _check_loss(loss)
    if loss == "bce":
        return (logits[:, 0] > 0).astype(np.int64)
    return np.argmax(logits, axis=1).astype(np.int64)


def predict(model: Module, X: ArrayLike, loss: LossName = "cce") -> np.ndarray:
    """Class labels the model assigns to the rows of ``X`` (shape ``(n,)``)."""
    return labels_from_logits(model(X), loss)


def accuracy(model: Module, X: ArrayLike, y: ArrayLike, loss: LossName = "cce") -> float:
    """Fraction of rows of ``X`` whose predicted label equals ``y``."""
    X = np.asarray(X, dtype=np.float64)
    labels = check_labels(y, X.shape[0])
    return float(np.mean(predict(model, X, loss) == labels))


class Trainer:
    """Trains a model in place and can be resumed: ``trainer.run(100)`` then ``trainer.run(50)``
    gives exactly the same parameters as one ``run(150)`` (the optimiser keeps its momentum and
    the shuffling generator its state).

    Args:
        model: a module whose output is logits (``(n, K)`` for ``cce``, ``(n, 1)`` for ``bce``).
        X: inputs, shape ``(n, d)``.
        y: integer class labels, shape ``(n,)``.
        loss: ``"cce"`` or ``"bce"`` (see the module docstring).
        lr: learning rate.
        batch_size: rows per step; ``None`` for full-batch gradient descent.
        momentum: SGD momentum in [0, 1).
        seed: seeds the shuffling of mini-batches (unused for full batches).
        callback: called as ``callback(e, model)`` each time the history entry for ``e`` epochs
            is recorded, starting with ``e = 0`` here, e.g. to take snapshots of the decision
            regions. It may run the model forward (on a grid, say) but must not change it.

    Attributes:
        model: the model being trained.
        history: the :class:`History` so far (``epoch + 1`` entries).
        epoch: epochs completed.

    Raises:
        ValueError: for shapes that do not fit, labels out of range or a batch size below 1.
    """

    def __init__(
        self,
        model: Module,
        X: ArrayLike,
        y: ArrayLike,
        loss: LossName = "cce",
        lr: float = 0.5,
        batch_size: int | None = None,
        momentum: float = 0.0,
        seed: int = 0,
        callback: Callable[[int, Module], None] | None = None,
    ) -> None:
        self.X = np.asarray(X, dtype=np.float64)
        if self.X.ndim != 2:
            raise ValueError(f"X must have shape (n, features), got {self.X.shape}")
        self.y = check_labels(y, self.X.shape[0])
        _check_loss(loss)
        if batch_size is not None and (not is_integer(batch_size) or batch_size < 1):
            raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
        self.model = model
        self.loss = loss
        self.batch_size = batch_size
        self.callback = callback
        self.optimizer = SGD(model.parameters(), lr=lr, momentum=momentum)
        self._rng = np.random.default_rng(seed)
        self.history = History()
        self.epoch = 0
        self._record()

    def _record(self) -> np.ndarray:
        """Append the loss and accuracy of the model as it is now; return the loss gradient on X.

        The gradient with respect to the logits comes with the loss (:func:`loss_and_grad`
        computes both); a full-batch step right after needs exactly it.
        """
        logits = self.model(self.X)
        value, grad = loss_and_grad(logits, self.y, self.loss)
        self.history.loss.append(value)
        self.history.accuracy.append(
            float(np.mean(labels_from_logits(logits, self.loss) == self.y))
        )
        if self.callback is not None:
            self.callback(self.epoch, self.model)
        return grad

    def _step(self, X: np.ndarray, y: np.ndarray, grad: np.ndarray | None = None) -> None:
        """One SGD step on (X, y); ``grad`` may give the loss gradient of the last pass on X."""
        if grad is None:
            _, grad = loss_and_grad(self.model(X), y, self.loss)
        self.model.backward(grad)
        self.optimizer.step()

    def run(self, epochs: int) -> History:
        """Train for ``epochs`` more epochs and return the history (all epochs so far).

        Raises:
            ValueError: for a negative number of epochs, or from
                :meth:`coursekit.optim.SGD.step` when the gradients stop being finite (the run
                diverged; the model keeps the last finite parameters).
        """
        require_count(epochs, "epochs")
        n = self.X.shape[0]
        # In full-batch training the evaluation of epoch e is a forward pass on all of X and its
        # loss, which are exactly the forward pass and loss gradient the next step needs; reusing
        # them halves the work. The layers still hold that pass's inputs unless a callback ran
        # the model on something else.
        reusable = None
        for _ in range(epochs):
            if self.batch_size is None or self.batch_size >= n:
                self._step(self.X, self.y, reusable)
            else:
                order = self._rng.permutation(n)
                for start in range(0, n, self.batch_size):
                    batch = order[start : start + self.batch_size]
                    self._step(self.X[batch], self.y[batch])
            self.epoch += 1
            grad = self._record()
            reusable = grad if self.callback is None else None
        return self.history


def train(
    model: Module,
    X: ArrayLike,
    y: ArrayLike,
    loss: LossName = "cce",
    lr: float = 0.5,
    epochs: int = 100,
    batch_size: int | None = None,
    momentum: float = 0.0,
    seed: int = 0,
    callback: Callable[[int, Module], None] | None = None,
) -> History:
    """Train ``model`` in place with SGD for ``epochs`` epochs and return the :class:`History`.

    The arguments are those of :class:`Trainer`; this is ``Trainer(...).run(epochs)``.

    Example::

        model = mlp([2, 16, 16, 2], "relu", rng=0)
        history = train(model, X, y, loss="cce", lr=0.5, epochs=500)
        history.loss[-1], history.accuracy[-1]
    """
    return Trainer(model, X, y, loss, lr, batch_size, momentum, seed, callback).run(epochs)
