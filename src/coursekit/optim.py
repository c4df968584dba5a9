r"""Stochastic gradient descent.

One step moves every parameter a little way downhill:

.. math:: \theta \leftarrow \theta - \eta\, \frac{\partial L}{\partial \theta}

with learning rate :math:`\eta > 0`. With momentum :math:`\mu \in [0, 1)` the step follows a
running "velocity" instead of the raw gradient:

.. math:: v \leftarrow \mu v - \eta\, \frac{\partial L}{\partial \theta}, \qquad \theta \leftarrow \theta + v

which is plain SGD when :math:`\mu = 0` (the default). The velocity starts at zero.

"Stochastic" refers to computing the gradient on a random mini-batch rather than on all the
data; the update rule is the same, so this class is also full-batch gradient descent when the
backward pass used every sample.
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from coursekit.nn import Module, Parameter


class SGD:
    """Gradient descent on a model's parameters, updated in place.

    Args:
        model_or_parameters: a :class:`~coursekit.nn.Module` (recommended) or an iterable of
            :class:`~coursekit.nn.Parameter` records. Given a module, every :meth:`step` asks it
            for ``parameters()`` afresh, so it always uses the gradients of the latest
            ``backward``. Given records, they are kept as a list; this works because layers write
            gradients into the same arrays each time, but the records must be taken *after* the
            first ``backward`` (before it, a layer has no gradient arrays yet).
        lr: learning rate, a finite number > 0.
        momentum: :math:`\\mu` in [0, 1); 0 gives plain SGD.

    Raises:
        ValueError: for a learning rate or momentum out of range, or no parameters at all.
        TypeError: if ``model_or_parameters`` is neither a module nor Parameter records.

    Example::

        opt = SGD(model, lr=0.1)
        for epoch in range(100):
            z = model(X)
            model.backward(bce_with_logits_grad(z, y))
            opt.step()
    """

    def __init__(self, model_or_parameters: Module | Iterable[Parameter], lr: float, momentum: float = 0.0) -> None:
        self.lr = lr
        self.momentum = momentum
        self._model: Module | None = None
        self._params: list[Parameter] | None = None
        if isinstance(model_or_parameters, Module):
            self._model = model_or_parameters
            if not list(self._model.parameters()):
                raise ValueError(f"{model_or_parameters!r} has no parameters to optimise")
        else:
            try:
                params = list(model_or_parameters)
            except TypeError:
                raise TypeError(
                    "SGD expects a Module or an iterable of Parameter records, "
                    f"got {type(model_or_parameters).__name__}"
                ) from None
            for p in params:
                if not isinstance(p, Parameter):
                    raise TypeError(
                        f"SGD expects Parameter records (from model.parameters()), got {type(p).__name__}"
                    )
            if not params:
                raise ValueError("SGD got an empty list of parameters")
            self._params = params
        self._velocity: list[np.ndarray] | None = None

    @property
    def lr(self) -> float:
        """The learning rate; may be changed between steps (validated again)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"lr must be a number, got {type(value).__name__}")
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"lr must be a finite number > 0, got {value}")
        self._lr = float(value)

    @property
    def momentum(self) -> float:
        """Momentum coefficient in [0, 1)."""
        return self._momentum

    @momentum.setter
    def momentum(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"momentum must be a number, got {type(value).__name__}")
        if not (0.0 <= value < 1.0):
            raise ValueError(f"momentum must lie in [0, 1), got {value}")
        self._momentum = float(value)

    def parameters(self) -> list[Parameter]:
        """The parameters the next :meth:`step` will update (with their current gradients)."""
        if self._model is not None:
            return list(self._model.parameters())
        assert self._params is not None
        return self._params

    def step(self) -> None:
        """Update every parameter in place: ``value -= lr * grad`` (or the momentum version).

        All gradients are checked before anything is changed, so a failed step leaves the model
        untouched.

        Raises:
            ValueError: if a gradient is missing (``backward`` not called), has a different shape
                than its parameter, or contains NaN/inf (usually a learning rate that is too large).
        """
        params = self.parameters()
        for p in params:
            if p.grad is None:
                raise ValueError(
                    f"parameter {p.name} has no gradient: call backward before step()"
                    + ("" if self._model is not None else
                       " (or pass the model to SGD so it sees gradients made after it was created)")
                )
            if p.grad.shape != p.value.shape:
                raise ValueError(
                    f"gradient of {p.name} has shape {p.grad.shape} but the parameter has shape {p.value.shape}"
                )
            if not np.isfinite(p.grad).all():  # the method skips np.all's Python-level wrapper
                raise ValueError(
                    f"gradient of {p.name} contains NaN or inf; the loss has probably diverged "
                    "(try a smaller learning rate)"
                )
        if self._momentum == 0.0:
            for p in params:
                value = p.value  # a local name: `p.value -= ...` would try to reassign the record's field
                value -= self._lr * p.grad
            return
        if self._velocity is None or [v.shape for v in self._velocity] != [p.value.shape for p in params]:
            self._velocity = [np.zeros_like(p.value) for p in params]
        for p, v in zip(params, self._velocity):
            v *= self._momentum
            v -= self._lr * p.grad
            value = p.value
            value += v

    def __repr__(self) -> str:
        extra = f", momentum={self._momentum}" if self._momentum else ""
        return f"SGD(lr={self._lr}{extra})"
