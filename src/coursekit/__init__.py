"""coursekit: the NumPy code behind the Neural Network Basics course.

One concept per module:

* :mod:`coursekit.activations` -- step, sigmoid, ReLU, tanh, softmax and their derivatives.
* :mod:`coursekit.losses` -- MSE, binary and categorical cross-entropy with their gradients.
* :mod:`coursekit.gradcheck` -- centred finite differences and relative errors.
* :mod:`coursekit.discriminant` -- linear discriminants: bias trick, sign, normal, distances.
* :mod:`coursekit.perceptron` -- the perceptron learning rule.
* :mod:`coursekit.bayes` -- two Gaussian classes and their (sigmoid) Bayes posterior.
* :mod:`coursekit.logistic` -- logistic regression: probabilities, cross-entropy gradient, fit.
* :mod:`coursekit.descent` -- plain gradient descent with its path recorded.
* :mod:`coursekit.surfaces` -- 2-D test functions (cubic valley, Rosenbrock) with gradients.
* :mod:`coursekit.graph` -- a scalar computation-graph (autodiff) engine and its drawing.
* :mod:`coursekit.nn` -- vectorised layers with hand-written backward passes.
* :mod:`coursekit.optim` -- stochastic gradient descent.
* :mod:`coursekit.data` -- seeded 2-D toy datasets.
* :mod:`coursekit.plotting` and :mod:`coursekit.widgets` -- figures and slider apps for the chapters.
* :mod:`coursekit.grading` -- the autograder for the nbgrader assignments.
"""

__version__ = "0.1.0"
