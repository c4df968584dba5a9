"""coursekit: the NumPy code behind the Neural Network Basics course.

The package has one teaching core, written to be read next to the chapters, and support code
around it. The core imports NumPy and itself only.

Teaching core (top level):

* :mod:`coursekit.activations` -- step, sigmoid, ReLU, tanh, softmax and their derivatives.
* :mod:`coursekit.losses` -- MSE, binary and categorical cross-entropy with their gradients.
* :mod:`coursekit.gradcheck` -- centred finite differences and relative errors.
* :mod:`coursekit.engine` -- a scalar computation-graph (autodiff) engine.
* :mod:`coursekit.nn` -- vectorised layers with hand-written backward passes.
* :mod:`coursekit.optim` -- stochastic gradient descent.
* :mod:`coursekit.data` -- seeded 2-D toy datasets.
* :mod:`coursekit.validation` -- the input checks the core shares (clear errors for bad input).

Around the core:

* :mod:`coursekit.chapters` -- what individual chapters build on the core: the perceptron rule,
  discriminant geometry, the Bayes posterior, logistic and softmax regression, one-vs-all and
  one-vs-one, gradient descent and its test surfaces, a training loop, gradient flow in deep
  networks, the worked examples.
* :mod:`coursekit.display` -- figures and tables: plotting helpers, graph drawing, Markdown tables.
* :mod:`coursekit.widgets` -- the chapters' ipywidgets slider apps.
* :mod:`coursekit.checks` -- what the assignments' test cells call to hand an answer to the grader.
* :mod:`coursekit.grading` -- the autograder behind the ``coursekit`` command (nbgrader).
"""

__version__ = "0.1.0"
