"""Losses ("datafits"): per-sample value and derivative with respect to the margins.

Every loss works on a batch of margins ``Z`` of shape ``(n_samples, n_outputs)``
and an encoded target ``Y`` of the same shape:

- binary and one-vs-rest classification: ``Y`` in {-1, +1}, one column per class;
- multinomial classification: ``Y`` is the one-hot encoding of the labels;
- regression: ``Y`` holds the targets (one column).

``value`` returns the loss of each sample averaged over outputs, shape
``(n_samples,)``, so that the epoch objective that ``tol`` watches is, for
one-vs-rest, the mean of the binary problems' objectives (each of which is what
``SGDClassifier`` watches); ``derivative`` returns ``dL/dZ``, shape
``(n_samples, n_outputs)``.
The definitions match scikit-learn's ``SGDClassifier``/``SGDRegressor``.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logsumexp, softmax


@dataclass(frozen=True)
class Hinge:
    """``max(0, threshold - y z)``; ``threshold=0`` is the perceptron loss."""

    threshold: float = 1.0

    def value(self, Y, Z):
        return np.maximum(0.0, self.threshold - Y * Z).mean(axis=1)

    def derivative(self, Y, Z):
        # At the kink the subgradient -y is taken, as scikit-learn does: it is what
        # lets the perceptron leave its all-zero starting point.
        return np.where(Y * Z <= self.threshold, -Y, 0.0)


@dataclass(frozen=True)
class SquaredHinge:
    """``max(0, threshold - y z) ** 2``."""

    threshold: float = 1.0

    def value(self, Y, Z):
        return (np.maximum(0.0, self.threshold - Y * Z) ** 2).mean(axis=1)

    def derivative(self, Y, Z):
        return -2.0 * Y * np.maximum(0.0, self.threshold - Y * Z)


@dataclass(frozen=True)
class ModifiedHuber:
    """Quadratically smoothed hinge: ``max(0, 1 - y z) ** 2`` for ``y z >= -1``,
    ``-4 y z`` below."""

    def value(self, Y, Z):
        yz = Y * Z
        return np.where(yz >= -1.0, np.maximum(0.0, 1.0 - yz) ** 2, -4.0 * yz).mean(
            axis=1
        )

    def derivative(self, Y, Z):
        yz = Y * Z
        return np.where(yz >= -1.0, -2.0 * Y * np.maximum(0.0, 1.0 - yz), -4.0 * Y)


@dataclass(frozen=True)
class BinaryLog:
    """Logistic loss ``log(1 + exp(-y z))`` of each output (binary or one-vs-rest)."""

    def value(self, Y, Z):
        return np.logaddexp(0.0, -Y * Z).mean(axis=1)

    def derivative(self, Y, Z):
        return -Y * expit(-Y * Z)


@dataclass(frozen=True)
class MultinomialLog:
    """Cross-entropy of the softmax of the margins; ``Y`` is one-hot."""

    def value(self, Y, Z):
        return logsumexp(Z, axis=1) - (Y * Z).sum(axis=1)

    def derivative(self, Y, Z):
        return softmax(Z, axis=1) - Y


@dataclass(frozen=True)
class SquaredError:
    """``(z - y) ** 2 / 2``."""

    def value(self, Y, Z):
        return (0.5 * (Z - Y) ** 2).mean(axis=1)

    def derivative(self, Y, Z):
        return Z - Y


@dataclass(frozen=True)
class Huber:
    """Squared error within ``epsilon`` of the target, linear beyond."""

    epsilon: float

    def value(self, Y, Z):
        r = np.abs(Z - Y)
        quadratic = 0.5 * r**2
        linear = self.epsilon * r - 0.5 * self.epsilon**2
        return np.where(r <= self.epsilon, quadratic, linear).mean(axis=1)

    def derivative(self, Y, Z):
        return np.clip(Z - Y, -self.epsilon, self.epsilon)


@dataclass(frozen=True)
class EpsilonInsensitive:
    """``max(0, |z - y| - epsilon)``, the support-vector-regression loss."""

    epsilon: float

    def value(self, Y, Z):
        return np.maximum(0.0, np.abs(Z - Y) - self.epsilon).mean(axis=1)

    def derivative(self, Y, Z):
        r = Z - Y
        return np.where(np.abs(r) > self.epsilon, np.sign(r), 0.0)


@dataclass(frozen=True)
class SquaredEpsilonInsensitive:
    """``max(0, |z - y| - epsilon) ** 2``."""

    epsilon: float

    def value(self, Y, Z):
        return (np.maximum(0.0, np.abs(Z - Y) - self.epsilon) ** 2).mean(axis=1)

    def derivative(self, Y, Z):
        r = Z - Y
        return 2.0 * np.sign(r) * np.maximum(0.0, np.abs(r) - self.epsilon)


CLASSIFICATION_LOSSES = (
    "hinge",
    "log_loss",
    "modified_huber",
    "squared_hinge",
    "perceptron",
)
REGRESSION_LOSSES = (
    "squared_error",
    "huber",
    "epsilon_insensitive",
    "squared_epsilon_insensitive",
)


def make_loss(name: str, *, epsilon: float = 0.1, multinomial: bool = False):
    """Return the loss object for a scikit-learn loss name."""
    if name == "log_loss":
        return MultinomialLog() if multinomial else BinaryLog()
    factories = {
        "hinge": lambda: Hinge(1.0),
        "perceptron": lambda: Hinge(0.0),
        "squared_hinge": lambda: SquaredHinge(1.0),
        "modified_huber": ModifiedHuber,
        "squared_error": SquaredError,
        "huber": lambda: Huber(epsilon),
        "epsilon_insensitive": lambda: EpsilonInsensitive(epsilon),
        "squared_epsilon_insensitive": lambda: SquaredEpsilonInsensitive(epsilon),
    }
    return factories[name]()
