"""Plain, slow twins of the algorithm, written to be obviously right.

Nothing here is lazy, sparse or vectorised beyond the obvious: the tests compare
the estimators against these step by step.

- :func:`torch_adagrad_trajectory` transcribes ``torch.optim.Adagrad``'s update
  for a linear model with intercept on the weighted half mean squared error
  (an intercept gradient within its rounding error counted as zero, as
  :func:`intercept_gradient` says).
- :class:`EagerAdagrad` is mini-batch proximal Adagrad that applies the penalty
  to every coordinate at every step, with a running average of the iterates.
- :func:`encode_targets` encodes labels or values the way the losses read them.
- :func:`sparse_problems` is a hypothesis strategy for awkward sparse matrices.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st

# -- torch.optim.Adagrad, transcribed ---------------------------------------------


def intercept_gradient(terms):
    """The intercept's gradient from the per-sample ``terms`` of each output
    (already weighted): their sum, or 0 where it is no larger than the bound
    on its rounding error, ``n_samples * eps * sum |terms|`` (the estimators
    take no step on rounding noise; sk_adagrad/_rounding.py derives the bound).
    """
    n_samples, n_outputs = terms.shape
    eps = np.finfo(terms.dtype).eps
    gradient = np.zeros(n_outputs, dtype=terms.dtype)
    for output in range(n_outputs):
        column = terms[:, output]
        total = column.sum()
        noise_bound = n_samples * eps * np.abs(column).sum()
        gradient[output] = 0.0 if abs(total) <= noise_bound else total
    return gradient


def torch_adagrad_step(params, grads, state_sums, t, *, lr, lr_decay, eps):
    """One step of ``torch.optim.Adagrad`` (no weight decay), in place.

    For each parameter tensor, as in torch's single-tensor implementation::

        clr = lr / (1 + (t - 1) * lr_decay)
        state_sum += grad * grad
        std = sqrt(state_sum) + eps
        param -= clr * grad / std
    """
    clr = lr / (1 + (t - 1) * lr_decay)
    for param, grad, state_sum in zip(params, grads, state_sums, strict=True):
        state_sum += grad * grad
        std = np.sqrt(state_sum) + eps
        param -= clr * grad / std


def half_mse_gradients(X, y, sample_weight, w, b):
    """Gradients of ``sum_i s_i (x_i.w + b - y_i)^2 / 2 / sum_i s_i``, every
    tensor in the parameters' dtype as in a torch model of that dtype."""
    dtype = w.dtype
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    X, y, sample_weight = (np.asarray(a, dtype=dtype) for a in (X, y, sample_weight))
    residual = X @ w + b - y
    # Weighted as the estimators weight each batch, so that the rounding of a
    # near-zero gradient (the intercept starts at the weighted mean) agrees.
    weighted = residual * (sample_weight / sample_weight.sum())
    return X.T @ weighted, intercept_gradient(weighted[:, None])


def torch_adagrad_trajectory(
    batches,
    n_features,
    *,
    lr,
    lr_decay=0.0,
    eps=1e-10,
    initial_accumulator_value=0.0,
    dtype=np.float64,
    intercept_start=0.0,
):
    """Run torch's Adagrad on the weighted half MSE of a linear model, from zero
    weights and the intercept ``intercept_start``.

    Parameters
    ----------
    batches : iterable of (X, y, sample_weight)
        One Adagrad step per element.
    dtype : numpy dtype
        Of the parameters, their state and the data (torch's default dtype is
        float32).

    Returns
    -------
    list of dict
        After each step: ``coef``, ``intercept``, ``coef_accumulator``,
        ``intercept_accumulator`` (copies) and ``t``.
    """
    w = np.zeros(n_features, dtype=dtype)
    b = np.full(1, float(intercept_start), dtype=dtype)
    sums = [
        np.full(n_features, float(initial_accumulator_value), dtype=dtype),
        np.full(1, float(initial_accumulator_value), dtype=dtype),
    ]
    trajectory = []
    for t, (X, y, sample_weight) in enumerate(batches, start=1):
        grads = half_mse_gradients(X, y, sample_weight, w, b[0])
        torch_adagrad_step([w, b], grads, sums, t, lr=lr, lr_decay=lr_decay, eps=eps)
        trajectory.append(
            dict(
                coef=w.copy(),
                intercept=b.copy(),
                coef_accumulator=sums[0].copy(),
                intercept_accumulator=sums[1].copy(),
                t=t,
            )
        )
    return trajectory


# -- eager mini-batch proximal Adagrad --------------------------------------------


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


# -- awkward sparse matrices -------------------------------------------------------


@st.composite
def sparse_problems(draw, min_rows=1, max_rows=24, max_columns=10):
    """A COO matrix with duplicate entries, explicit zeros, entries that cancel,
    empty rows and empty columns, plus a seed for the values of everything else.

    Returns ``(X_coo, seed)``. The structure comes from hypothesis; the values
    are continuous random numbers, so no margin lands exactly on a loss's kink
    (where two correct implementations may legitimately round differently).
    """
    n_rows = draw(st.integers(min_rows, max_rows))
    n_columns = draw(st.integers(1, max_columns))
    seed = draw(st.integers(0, 2**32 - 1))
    cells = st.tuples(
        st.integers(0, n_rows - 1),
        st.integers(0, n_columns - 1),
        st.sampled_from(["value", "value", "value", "zero", "cancel"]),
    )
    entries = draw(st.lists(cells, max_size=3 * n_rows * n_columns // 2))
    rng = np.random.default_rng(seed)
    rows, columns, values = [], [], []
    for row, column, kind in entries:
        value = rng.normal() * rng.choice([0.1, 1.0, 3.0])
        if kind == "value":
            cell_values = [value]
        elif kind == "zero":
            cell_values = [0.0]
        else:  # a duplicate pair that sums to an exact zero
            cell_values = [value, -value]
        for v in cell_values:
            rows.append(row)
            columns.append(column)
            values.append(v)
    X = sp.coo_matrix(
        (
            np.array(values, dtype=np.float64),
            (np.array(rows, dtype=np.int64), np.array(columns, dtype=np.int64)),
        ),
        shape=(n_rows, n_columns),
    )
    return X, seed


def dense_of(X_coo):
    """The dense twin of a COO matrix (duplicates summed)."""
    return np.asarray(X_coo.toarray(), dtype=np.float64)
