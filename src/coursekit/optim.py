r"""Stochastic gradient descent, with optional momentum.

One step moves every parameter a little way downhill, along a running "velocity" :math:`v`
(zero at the start) that remembers a fraction :math:`\mu \in [0, 1)` of the previous steps:

.. math:: v \leftarrow \mu v - \eta\, \frac{\partial L}{\partial \theta}, \qquad
   \theta \leftarrow \theta + v

With :math:`\mu = 0` (the default) this is plain gradient descent,
:math:`\theta \leftarrow \theta - \eta\, \partial L/\partial \theta`, for a learning rate
:math:`\eta > 0`. "Stochastic" refers to computing the gradient on a random mini-batch rather
than on all the data; the update rule is the same.
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from coursekit.nn import Module, Parameter
from coursekit.validation import is_real_number


class SGD:
    """Gradient descent on a list of parameters, updated in place.

    Args:
        parameters: the :class:`~coursekit.nn.Parameter` objects to train, usually
            ``model.parameters()``. They are the layers' own objects, so each :meth:`step` reads
            the gradients of the latest ``backward``.
        lr: learning rate :math:`\\eta`, a finite number > 0.
        momentum: :math:`\\mu` in [0, 1); 0 gives plain gradient descent.

    Attributes:
        parameters, lr, momentum: as given (``lr`` may be changed between steps).
        velocities: :math:`v` for each parameter, zeros before the first step.

    Raises:
        TypeError: if ``parameters`` is not an iterable of Parameters, or lr/momentum not numbers.
        ValueError: for an empty list, or a learning rate or momentum out of range.

    Example::

        opt = SGD(model.parameters(), lr=0.1)
        for epoch in range(100):
            z = model(X)
            model.backward(bce_with_logits_grad(z, y))
            opt.step()
    """

    def __init__(self, parameters: Iterable[Parameter], lr: float, momentum: float = 0.0) -> None:
        if isinstance(parameters, Module):
            raise TypeError(f"SGD expects model.parameters(), got the model {parameters!r}")
        try:
            self.parameters = list(parameters)
        except TypeError:
            raise TypeError(
                f"SGD expects an iterable of Parameters, got {type(parameters).__name__}"
            ) from None
        for p in self.parameters:
            if not isinstance(p, Parameter):
                raise TypeError(
                    f"SGD expects Parameters (from model.parameters()), got {type(p).__name__}"
                )
        if not self.parameters:
            raise ValueError("SGD got no parameters to optimise")
        self.lr, self.momentum = lr, momentum
        self._check_settings()
        self.velocities = [np.zeros_like(p.value) for p in self.parameters]

    def _check_settings(self) -> None:
        for name, value in (("lr", self.lr), ("momentum", self.momentum)):
            if not is_real_number(value):
                raise TypeError(f"{name} must be a number, got {type(value).__name__}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr}")
        if not (0.0 <= self.momentum < 1.0):
            raise ValueError(f"momentum must lie in [0, 1), got {self.momentum}")

    def step(self) -> None:
        """Update every parameter in place: ``v = momentum * v - lr * grad``, ``value += v``.

        The settings and all gradients are checked before anything changes, so a failed step
        leaves the model untouched.

        Raises:
            ValueError: if a gradient is missing (``backward`` not called), has a different shape
                than its parameter, or contains NaN/inf (usually a learning rate that is too large).
        """
        self._check_settings()
        grads = []
        for p in self.parameters:
            if p.grad is None:
                raise ValueError(f"parameter {p.name} has no gradient: call backward before step()")
            if p.grad.shape != p.value.shape:
                raise ValueError(
                    f"gradient of {p.name} has shape {p.grad.shape} but the parameter has shape "
                    f"{p.value.shape}"
                )
            if not np.all(np.isfinite(p.grad)):
                raise ValueError(
                    f"gradient of {p.name} contains NaN or inf; the loss has probably diverged "
                    "(try a smaller learning rate)"
                )
            grads.append(p.grad)
        for p, grad, v in zip(self.parameters, grads, self.velocities):
            v *= self.momentum
            v -= self.lr * grad
            p.value += v

    def __repr__(self) -> str:
        extra = f", momentum={self.momentum}" if self.momentum else ""
        return f"SGD(lr={self.lr}{extra})"
