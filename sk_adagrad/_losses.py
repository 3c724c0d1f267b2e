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

Each loss also owns its link to the estimators, as scikit-learn's ``_loss``
module does (see :class:`Loss`): how targets are encoded for it, the
probabilities its margins stand for (or that they stand for none), the
``'auto'`` learning rate and penalty that suit it, and its share of the
training objective. :func:`make_loss` is the table from the constructor's
``loss`` names to the loss objects; nothing outside this module tests a loss's
name or type.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit, logsumexp, softmax

from . import _defaults as defaults

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
    # In floats: a product with a boolean matrix runs NumPy's own loop, not
    # BLAS, ten times slower on a large multi-class fit.
    positive = weights @ (Y > 0).astype(weights.dtype)
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


def _one_vs_rest_proba(P):
    """Class probabilities from each output's probability of its class: the
    two columns ``[1 - p, p]`` of a binary model, else the rows normalised to
    sum to one (uniform where every output says 0)."""
    if P.shape[1] == 1:
        return np.hstack([1.0 - P, P])
    totals = P.sum(axis=1, keepdims=True)
    uniform = np.full_like(P, 1.0 / P.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, P / totals, uniform)


class Loss:
    """What every loss offers besides ``value``, ``derivative`` and
    ``best_constant`` (module docstring).

    Attributes
    ----------
    link : {'logistic', 'clipped_linear', 'softmax'} or None
        The inverse link from margins to class probabilities, computed by
        :meth:`proba` and written into an ONNX graph by ``sk_adagrad.onnx``:
        ``'logistic'`` (``expit(z)``) and ``'clipped_linear'``
        (``(clip(z, -1, 1) + 1) / 2``) give each output's probability of its
        class, normalised one-vs-rest; ``'softmax'`` runs over the outputs.
        None: the margins stand for no probabilities.
    separate_outputs : bool
        Whether each output is a problem of its own (one-vs-rest, or a
        regression), with its own penalty; False when the outputs are one
        problem (the multinomial).
    base_lr, alpha_per_sample : float
        What ``lr='auto'`` and ``alpha='auto'`` start from (see ``_defaults``).
    """

    link = None
    separate_outputs = True
    base_lr = defaults.BASE_LR
    alpha_per_sample = defaults.ALPHA_PER_SAMPLE

    def encode_labels(self, codes, n_outputs, dtype=np.float64):
        """The targets ``Y`` of class codes (indices into ``classes_``) for a
        model of ``n_outputs`` outputs: -1 and +1 per output (one column, +1
        for the second class, when binary)."""
        if n_outputs == 1:
            Y = np.full((len(codes), 1), -1.0, dtype=dtype)
            Y[codes == 1] = 1.0
            return Y
        return self._one_hot(codes, n_outputs, -1.0, dtype)

    @staticmethod
    def _one_hot(codes, n_outputs, off, dtype):
        Y = np.full((len(codes), n_outputs), off, dtype=dtype)
        Y[np.arange(len(codes)), codes] = 1.0
        return Y

    def encode_values(self, y, dtype=np.float64):
        """The targets ``Y`` of real values: one column."""
        return y[:, None].astype(dtype, copy=False)

    def proba(self, Z):
        """Class probabilities of the margins ``Z``, shape ``(n_samples,
        n_classes)``; only for a loss whose ``link`` is not None."""
        raise TypeError(f"{type(self).__name__} gives no probabilities.")

    def objective(self, Y, margins, weights, penalty_value: float) -> float:
        """The objective training minimises, on rows with encoded targets ``Y``
        and ``margins``: the weighted mean loss plus the penalty
        ``penalty_value`` of the weights. The one-vs-rest loss is the mean of
        the binary problems' losses; each problem has its own penalty, so
        their mean is the total / K."""
        problems = Y.shape[1] if self.separate_outputs else 1
        return (
            np.average(self.value(Y, margins), weights=weights)
            + penalty_value / problems
        )


@dataclass(frozen=True)
class Hinge(Loss):
    """``max(0, threshold - y z)``; ``threshold=0`` is the perceptron loss."""

    threshold: float = 1.0

    # Zero on every row beyond the margin: a stronger penalty pays (_defaults).
    alpha_per_sample = defaults.MARGIN_ALPHA_PER_SAMPLE

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
class SquaredHinge(Loss):
    """``max(0, threshold - y z) ** 2``."""

    threshold: float = 1.0

    # Zero on every row beyond the margin: a stronger penalty pays (_defaults).
    alpha_per_sample = defaults.MARGIN_ALPHA_PER_SAMPLE

    def value(self, Y, Z):
        return (np.maximum(0.0, self.threshold - Y * Z) ** 2).mean(axis=-1)

    def derivative(self, Y, Z):
        return -2.0 * Y * np.maximum(0.0, self.threshold - Y * Z)

    def best_constant(self, Y, sample_weight):
        # p (t - b)^2 + (1 - p) (t + b)^2 is least at b = t (2p - 1).
        return self.threshold * (2 * _positive_share(Y, sample_weight) - 1)


@dataclass(frozen=True)
class ModifiedHuber(Loss):
    """Quadratically smoothed hinge: ``max(0, 1 - y z) ** 2`` for ``y z >= -1``,
    ``-4 y z`` below."""

    link = "clipped_linear"
    alpha_per_sample = defaults.MARGIN_ALPHA_PER_SAMPLE

    def proba(self, Z):
        return _one_vs_rest_proba((np.clip(Z, -1.0, 1.0) + 1.0) / 2.0)

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
class BinaryLog(Loss):
    """Logistic loss ``log(1 + exp(-y z))`` of each output (binary or one-vs-rest)."""

    link = "logistic"
    base_lr = defaults.LOG_LOSS_LR

    def proba(self, Z):
        return _one_vs_rest_proba(expit(Z))

    def value(self, Y, Z):
        return np.logaddexp(0.0, -Y * Z).mean(axis=-1)

    def derivative(self, Y, Z):
        return -Y * expit(-Y * Z)

    def best_constant(self, Y, sample_weight):
        return logit(_positive_share(Y, sample_weight))


@dataclass(frozen=True)
class MultinomialLog(Loss):
    """Cross-entropy of the softmax of the margins; ``Y`` is one-hot."""

    link = "softmax"
    separate_outputs = False
    base_lr = defaults.LOG_LOSS_LR

    def encode_labels(self, codes, n_outputs, dtype=np.float64):
        return self._one_hot(codes, n_outputs, 0.0, dtype)

    def proba(self, Z):
        return softmax(Z, axis=1)

    def value(self, Y, Z):
        return logsumexp(Z, axis=-1) - (Y * Z).sum(axis=-1)

    def derivative(self, Y, Z):
        return softmax(Z, axis=-1) - Y

    def best_constant(self, Y, sample_weight):
        log_prior = np.log(_positive_share(Y, sample_weight))
        return log_prior - log_prior.mean()


@dataclass(frozen=True)
class SquaredError(Loss):
    """``(z - y) ** 2 / 2``."""

    def value(self, Y, Z):
        return (0.5 * (Z - Y) ** 2).mean(axis=-1)

    def derivative(self, Y, Z):
        return Z - Y

    def best_constant(self, Y, sample_weight):
        return _weighted_mean(Y, sample_weight)


@dataclass(frozen=True)
class Huber(Loss):
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
class EpsilonInsensitive(Loss):
    """``max(0, |z - y| - epsilon)``, the support-vector-regression loss."""

    epsilon: float

    def value(self, Y, Z):
        return np.maximum(0.0, np.abs(Z - Y) - self.epsilon).mean(axis=-1)

    def derivative(self, Y, Z):
        r = Z - Y
        return np.where(np.abs(r) > self.epsilon, np.sign(r), 0.0)

    best_constant = Huber.best_constant


@dataclass(frozen=True)
class SquaredEpsilonInsensitive(Loss):
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


# The constructor's loss names and the loss each stands for (``epsilon`` the
# estimator's parameter), in the order the documentation lists them.
_CLASSIFICATION_TABLE = {
    "hinge": lambda epsilon: Hinge(1.0),
    "log_loss": lambda epsilon: BinaryLog(),
    "modified_huber": lambda epsilon: ModifiedHuber(),
    "squared_hinge": lambda epsilon: SquaredHinge(1.0),
    "perceptron": lambda epsilon: Hinge(0.0),
}
_REGRESSION_TABLE = {
    "squared_error": lambda epsilon: SquaredError(),
    "huber": Huber,
    "epsilon_insensitive": EpsilonInsensitive,
    "squared_epsilon_insensitive": SquaredEpsilonInsensitive,
}
_TABLE = {**_CLASSIFICATION_TABLE, **_REGRESSION_TABLE}
CLASSIFICATION_LOSSES = tuple(_CLASSIFICATION_TABLE)
REGRESSION_LOSSES = tuple(_REGRESSION_TABLE)


def make_loss(name: str, *, epsilon: float = 0.1, multinomial: bool = False) -> Loss:
    """Return the loss object for a scikit-learn loss name (the multinomial
    log loss for ``'log_loss'`` when ``multinomial``)."""
    if multinomial and name == "log_loss":
        return MultinomialLog()
    return _TABLE[name](epsilon)


def classification_loss(
    name: str, *, epsilon: float, multi_class: str, n_outputs: int
) -> Loss:
    """The loss a classifier of ``n_outputs`` outputs trains with: ``'log_loss'``
    is multinomial for more than two classes unless ``multi_class='ovr'``.

    Raises
    ------
    ValueError
        If ``multi_class='multinomial'`` is asked of another loss.
    """
    if multi_class == "multinomial" and name != "log_loss":
        raise ValueError(
            f"multi_class='multinomial' needs loss='log_loss'; got {name!r}."
        )
    multinomial = (
        name == "log_loss" and n_outputs > 1 and multi_class in ("auto", "multinomial")
    )
    return make_loss(name, epsilon=epsilon, multinomial=multinomial)


# The names whose loss gives probabilities.
PROBABILITY_LOSSES = tuple(
    name for name in CLASSIFICATION_LOSSES if make_loss(name).link is not None
)


def gives_probabilities(name) -> bool:
    """Whether the loss named ``name`` gives class probabilities (False for a
    name that is no loss's)."""
    return name in PROBABILITY_LOSSES
