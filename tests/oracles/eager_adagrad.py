"""Mini-batch proximal Adagrad written to be obviously right, nothing lazy, sparse
or vectorised beyond the obvious: the tests compare the estimators against it
step by step.

- :class:`EagerAdagrad` applies the penalty to every coordinate at every step,
  with a running average of the iterates.
- :func:`encode_targets` encodes labels or values the way the losses read them.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .torch_adagrad import intercept_gradient


def proximal_elastic_net(w, step, l1, l2):
    """``sign(w) max(|w| - l1 step, 0) / (1 + l2 step)``, elementwise."""
    return np.sign(w) * np.maximum(np.abs(w) - l1 * step, 0.0) / (1.0 + l2 * step)


@dataclass
class EagerAdagrad:
    """Mini-batch proximal Adagrad that shrinks every coordinate at every step.

    The weights are ``(n_features, n_outputs)``; targets are already encoded for
    ``loss`` (an object with ``derivative(Y, Z)``). Every array, the data's
    included, is of ``dtype``; the sample weights are normalised in float64
    and rounded once to it.
    """

    n_features: int
    n_outputs: int
    loss: object
    lr: float
    lr_decay: float = 0.0
    eps: float = 1e-10
    initial_accumulator_value: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    fit_intercept: bool = True
    average: int = 0
    dtype: type = np.float64
    intercept_start: object = 0.0

    def __post_init__(self):
        shape = (self.n_features, self.n_outputs)
        self.w = np.zeros(shape, dtype=self.dtype)
        # The start rounded to the dtype, as the estimators' intercept is.
        self.b = (np.zeros(self.n_outputs) + self.intercept_start).astype(self.dtype)
        self.G = np.full(shape, float(self.initial_accumulator_value), self.dtype)
        self.G_b = np.full(
            self.n_outputs, float(self.initial_accumulator_value), self.dtype
        )
        self.t = 0
        self.samples_seen = 0
        self.w_sum = np.zeros(shape, dtype=self.dtype)
        self.b_sum = np.zeros(self.n_outputs, dtype=self.dtype)
        self.n_averaged = 0
        # For the averaged elastic-net bound: the largest |w| reached and the
        # smallest positive accumulator of each coordinate.
        self.max_abs_w = np.zeros(shape)
        self.min_positive_G = np.full(shape, np.inf)

    def step(self, X, Y, sample_weight):
        X = X.toarray() if sp.issparse(X) else np.asarray(X)
        X, Y = X.astype(self.dtype), np.asarray(Y, dtype=self.dtype)
        self.t += 1
        clr = self.lr / (1 + (self.t - 1) * self.lr_decay)

        dZ = self.loss.derivative(Y, X @ self.w + self.b)
        total = sample_weight.sum()
        dZ = dZ * (sample_weight / total)[:, None] if total > 0 else dZ * 0.0
        dZ = dZ.astype(self.dtype)
        grad = X.T @ dZ
        active = (X != 0).any(axis=0)
        # An inactive feature's gradient is exactly zero: its G would not move
        # anyway; restricting the update says what the sparse path does.
        self.G[active] += grad[active] ** 2
        h = np.sqrt(self.G) + self.eps
        self.w = self.w - clr * grad / h
        self.w = proximal_elastic_net(self.w, clr / h, self.l1, self.l2)

        if self.fit_intercept:
            grad_b = intercept_gradient(dZ)
            self.G_b += grad_b**2
            self.b = self.b - clr * grad_b / (np.sqrt(self.G_b) + self.eps)

        self.samples_seen += X.shape[0]
        if self.average and self.samples_seen >= self.average:
            self.w_sum += self.w
            self.b_sum += self.b
            self.n_averaged += 1
        self.max_abs_w = np.maximum(self.max_abs_w, np.abs(self.w))
        positive = self.G > 0
        self.min_positive_G[positive] = np.minimum(
            self.min_positive_G[positive], self.G[positive]
        )

    def run(self, X, Y, sample_weight, *, batch_size, n_epochs=1):
        """Epochs of consecutive mini-batches (no shuffling)."""
        n = X.shape[0]
        for _ in range(n_epochs):
            for start in range(0, n, batch_size):
                rows = slice(start, min(start + batch_size, n))
                self.step(X[rows], Y[rows], sample_weight[rows])
        return self

    @property
    def coef(self):
        """Averaged once averaging has begun, else the current iterate."""
        return self.w_sum / self.n_averaged if self.n_averaged else self.w

    @property
    def intercept(self):
        return self.b_sum / self.n_averaged if self.n_averaged else self.b


def average_threshold(average):
    """The estimator's ``average`` parameter as a number of samples (0: off)."""
    return int(average)


# -- targets -----------------------------------------------------------------------


def encode_targets(y, classes=None, *, multinomial=False):
    """Targets as the losses read them, shape ``(n_samples, n_outputs)``.

    Regression (``classes`` None): the values in one column. Two classes: one
    column, +1 for ``classes[1]`` and -1 for ``classes[0]``. More classes: one
    column per class, one-hot if ``multinomial`` else +1/-1 (one-vs-rest).
    """
    y = np.asarray(y)
    if classes is None:
        return y.astype(np.float64)[:, None]
    classes = list(classes)
    if len(classes) == 2:
        return np.array([[1.0 if label == classes[1] else -1.0] for label in y])
    off = 0.0 if multinomial else -1.0
    Y = np.full((len(y), len(classes)), off)
    for row, label in enumerate(y):
        Y[row, classes.index(label)] = 1.0
    return Y
