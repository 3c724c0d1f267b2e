"""Losses ("datafits"): per-sample value and derivative with respect to the margins.

Every loss works on a batch of margins ``Z`` of shape ``(n_samples, n_outputs)``
and an encoded target ``Y`` of the same shape:

- binary and one-vs-rest classification: ``Y`` in {-1, +1}, one column per class;
- multinomial classification: ``Y`` is the one-hot encoding of the labels;
- regression: ``Y`` holds the targets (one column).

``value`` returns the loss of each sample averaged over outputs (the last
axis; leading axes broadcast, as a stacked search's groups of outputs do),
shape ``(n_samples,)``, so that the epoch objective that ``tol`` watches is, for
one-vs-rest, the mean of the binary problems' objectives (each of which is what
``SGDClassifier`` watches); ``derivative`` returns ``dL/dZ``, shape
``(n_samples, n_outputs)``; ``best_constant`` returns the margin of each output
that a model with no features (an intercept alone) would fit, the start of the
intercept and the baseline a fitted model must beat.
The definitions match scikit-learn's ``SGDClassifier``/``SGDRegressor``.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit, logsumexp, softmax

# Class frequencies are smoothed as if every class had been seen this many
# times more (by weight share), so that a class absent from the first chunk of
# a stream, or a class with zero weight, gets a finite starting margin.
_PRIOR_SMOOTHING = 0.5


def _positive_share(Y, sample_weight):
    """Per output, the smoothed weighted share of the samples whose target is
    +1 (Y in {-1, +1}, or one-hot)."""
    n_samples = max(len(Y), 1)
    total = sample_weight.sum()
    weights = sample_weight / total if total > 0 else np.full(len(Y), 1 / n_samples)
    positive = weights @ (Y > 0)
    return (positive + _PRIOR_SMOOTHING / n_samples) / (
        1 + 2 * _PRIOR_SMOOTHING / n_samples
    )


def _weighted_median(y, sample_weight):
    order = np.argsort(y)
    y, cumulative = y[order], np.cumsum(sample_weight[order])
    if cumulative[-1] <= 0:
        return float(np.median(y))
    half = 0.5 * cumulative[-1]
    # When exactly half the weight lies on each side, every value between the
    # two middle ones is a median: the midpoint, as np.median takes, keeps
    # balanced classes coded -1/+1 at 0 rather than at one class.
    low = np.searchsorted(cumulative, half)
    high = np.searchsorted(cumulative, half, side="right")
    return float((y[low] + y[high]) / 2)


def _weighted_mean(Y, sample_weight):
    total = sample_weight.sum()
    return sample_weight @ Y / total if total > 0 else Y.mean(axis=0)


@dataclass(frozen=True)
class Hinge:
    """``max(0, threshold - y z)``; ``threshold=0`` is the perceptron loss."""

    threshold: float = 1.0

    def value(self, Y, Z):
        return np.maximum(0.0, self.threshold - Y * Z).mean(axis=-1)

    def derivative(self, Y, Z):
        # At the kink the subgradient -y is taken, as scikit-learn does: it is what
        # lets the perceptron leave its all-zero starting point.
        return np.where(Y * Z <= self.threshold, -Y, 0.0)

    def best_constant(self, Y, sample_weight):
        # The mean hinge of a constant b in [-t, t] is linear in b: the sign of
        # the majority (0 for the perceptron, whose constant loss is 0 anyway).
        share = _positive_share(Y, sample_weight)
        return self.threshold * np.sign(2 * share - 1)


@dataclass(frozen=True)
class SquaredHinge:
    """``max(0, threshold - y z) ** 2``."""

    threshold: float = 1.0

    def value(self, Y, Z):
        return (np.maximum(0.0, self.threshold - Y * Z) ** 2).mean(axis=-1)

    def derivative(self, Y, Z):
        return -2.0 * Y * np.maximum(0.0, self.threshold - Y * Z)

    def best_constant(self, Y, sample_weight):
        # p (t - b)^2 + (1 - p) (t + b)^2 is least at b = t (2p - 1).
        return self.threshold * (2 * _positive_share(Y, sample_weight) - 1)


@dataclass(frozen=True)
class ModifiedHuber:
    """Quadratically smoothed hinge: ``max(0, 1 - y z) ** 2`` for ``y z >= -1``,
    ``-4 y z`` below."""

    def value(self, Y, Z):
        yz = Y * Z
        return np.where(yz >= -1.0, np.maximum(0.0, 1.0 - yz) ** 2, -4.0 * yz).mean(
            axis=-1
        )

    def derivative(self, Y, Z):
        yz = Y * Z
        return np.where(yz >= -1.0, -2.0 * Y * np.maximum(0.0, 1.0 - yz), -4.0 * Y)

    def best_constant(self, Y, sample_weight):
        # Within [-1, 1] it is the squared hinge: least at 2p - 1.
        return 2 * _positive_share(Y, sample_weight) - 1


@dataclass(frozen=True)
class BinaryLog:
    """Logistic loss ``log(1 + exp(-y z))`` of each output (binary or one-vs-rest)."""

    def value(self, Y, Z):
        return np.logaddexp(0.0, -Y * Z).mean(axis=-1)

    def derivative(self, Y, Z):
        return -Y * expit(-Y * Z)

    def best_constant(self, Y, sample_weight):
        return logit(_positive_share(Y, sample_weight))


@dataclass(frozen=True)
class MultinomialLog:
    """Cross-entropy of the softmax of the margins; ``Y`` is one-hot."""

    def value(self, Y, Z):
        return logsumexp(Z, axis=-1) - (Y * Z).sum(axis=-1)

    def derivative(self, Y, Z):
        return softmax(Z, axis=-1) - Y

    def best_constant(self, Y, sample_weight):
        log_prior = np.log(_positive_share(Y, sample_weight))
        return log_prior - log_prior.mean()


@dataclass(frozen=True)
class SquaredError:
    """``(z - y) ** 2 / 2``."""

    def value(self, Y, Z):
        return (0.5 * (Z - Y) ** 2).mean(axis=-1)

    def derivative(self, Y, Z):
        return Z - Y

    def best_constant(self, Y, sample_weight):
        return _weighted_mean(Y, sample_weight)


@dataclass(frozen=True)
class Huber:
    """Squared error within ``epsilon`` of the target, linear beyond."""

    epsilon: float

    def value(self, Y, Z):
        r = np.abs(Z - Y)
        quadratic = 0.5 * r**2
        linear = self.epsilon * r - 0.5 * self.epsilon**2
        return np.where(r <= self.epsilon, quadratic, linear).mean(axis=-1)

    def derivative(self, Y, Z):
        return np.clip(Z - Y, -self.epsilon, self.epsilon)

    def best_constant(self, Y, sample_weight):
        # The median, the exact minimiser as epsilon goes to 0 (a start, not an
        # optimum, for larger epsilon).
        return np.array([_weighted_median(y, sample_weight) for y in Y.T])


@dataclass(frozen=True)
class EpsilonInsensitive:
    """``max(0, |z - y| - epsilon)``, the support-vector-regression loss."""

    epsilon: float

    def value(self, Y, Z):
        return np.maximum(0.0, np.abs(Z - Y) - self.epsilon).mean(axis=-1)

    def derivative(self, Y, Z):
        r = Z - Y
        return np.where(np.abs(r) > self.epsilon, np.sign(r), 0.0)

    best_constant = Huber.best_constant


@dataclass(frozen=True)
class SquaredEpsilonInsensitive:
    """``max(0, |z - y| - epsilon) ** 2``."""

    epsilon: float

    def value(self, Y, Z):
        return (np.maximum(0.0, np.abs(Z - Y) - self.epsilon) ** 2).mean(axis=-1)

    def derivative(self, Y, Z):
        r = Z - Y
        return 2.0 * np.sign(r) * np.maximum(0.0, np.abs(r) - self.epsilon)

    def best_constant(self, Y, sample_weight):
        # The mean, the exact minimiser as epsilon goes to 0.
        return _weighted_mean(Y, sample_weight)


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


def training_objective(loss, Y, margins, weights, penalty_value: float) -> float:
    """The objective training minimises, on rows with encoded targets ``Y`` and
    ``margins``: the weighted mean loss plus the penalty ``penalty_value`` of the
    weights. The one-vs-rest loss is the mean of the binary problems' losses;
    each problem has its own penalty, so their mean is the total / K."""
    outputs = 1 if isinstance(loss, MultinomialLog) else Y.shape[1]
    return np.average(loss.value(Y, margins), weights=weights) + penalty_value / outputs
