"""The worked examples of chapter 10, by concept.

* :mod:`~coursekit.chapters.worked_examples.examples` -- the two networks as data
  (:class:`WorkedExample`, ``RELU_231``, ``NET_2331``) and their forward pass in NumPy;
* :mod:`~coursekit.chapters.worked_examples.step` -- one SGD step with every value kept
  (:func:`sgd_step`, :class:`StepResult`, read by indexing: ``step.gradients["W2"][0, 1]``);
* :mod:`~coursekit.chapters.worked_examples.learning_rate` -- which learning rates lower the loss;
* :mod:`~coursekit.chapters.worked_examples.verification` -- the same gradients from the scalar
  engine and from finite differences;
* :mod:`~coursekit.chapters.worked_examples.claims` -- the notes' values next to the recomputed
  ones, agreeing or not to the digits the notes wrote (:class:`Comparison`,
  :func:`compare_claims`).

Everything a chapter uses is importable from here.
"""

from coursekit.chapters.worked_examples.claims import Comparison, compare_claims
from coursekit.chapters.worked_examples.examples import (
    ACTIVATION_NAMES,
    NET_2331,
    NUMPY_ACTIVATIONS,
    RELU_231,
    LayerSpec,
    WorkedExample,
    build_model,
    loss_at,
    plain_forward,
    relu_patterns,
)
from coursekit.chapters.worked_examples.learning_rate import (
    decrease_threshold,
    decreasing_intervals,
    linearised_lr_limit,
    loss_after_step,
    loss_after_steps,
    output_gradient,
    output_gradient_sq_norm,
)
from coursekit.chapters.worked_examples.step import StepResult, sgd_step, trainable_parameters
from coursekit.chapters.worked_examples.verification import (
    SCALAR_ACTIVATIONS,
    gradient_checks,
    scalar_engine_gradients,
)

__all__ = [
    "ACTIVATION_NAMES",
    "NET_2331",
    "NUMPY_ACTIVATIONS",
    "RELU_231",
    "SCALAR_ACTIVATIONS",
    "Comparison",
    "LayerSpec",
    "StepResult",
    "WorkedExample",
    "build_model",
    "compare_claims",
    "decrease_threshold",
    "decreasing_intervals",
    "gradient_checks",
    "linearised_lr_limit",
    "loss_after_step",
    "loss_after_steps",
    "loss_at",
    "output_gradient",
    "output_gradient_sq_norm",
    "plain_forward",
    "relu_patterns",
    "scalar_engine_gradients",
    "sgd_step",
    "trainable_parameters",
]
