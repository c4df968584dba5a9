"""What the worked-examples test files share: the two examples and a ReLU written out in NumPy.

The tests recompute the examples' forward passes by hand, so their ReLU is this one-liner rather
than coursekit's own.
"""

import numpy as np

from coursekit.chapters.worked_examples.examples import NET_2331, RELU_231

EXAMPLES = [RELU_231, NET_2331]


def relu(z):
    return np.maximum(z, 0.0)
