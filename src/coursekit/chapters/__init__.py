"""Chapter support: what individual chapters build on the teaching core.

* :mod:`~coursekit.chapters.perceptron` -- the perceptron learning rule.
* :mod:`~coursekit.chapters.discriminant` -- linear discriminants: bias trick, sign, normal,
  distances.
* :mod:`~coursekit.chapters.bayes` -- two Gaussian classes and their (sigmoid) Bayes posterior.
* :mod:`~coursekit.chapters.logistic` -- logistic regression: probabilities, gradient, fit.
* :mod:`~coursekit.chapters.descent` -- plain gradient descent with its path recorded.
* :mod:`~coursekit.chapters.surfaces` -- 2-D test functions (cubic valley, Rosenbrock).
* :mod:`~coursekit.chapters.softmax_regression` -- multinomial logistic regression.
* :mod:`~coursekit.chapters.multiclass` -- one-vs-all and one-vs-one from binary classifiers.
* :mod:`~coursekit.chapters.training` -- a small training loop with a history.
* :mod:`~coursekit.chapters.gradient_flow` -- gradient sizes layer by layer in deep networks.
* :mod:`~coursekit.chapters.worked_examples` -- the two worked networks (a subpackage: the examples,
  one SGD step shown in full, the learning-rate analysis, the gradient cross-checks, the notes'
  values against the recomputed ones).
"""
