"""``torch.optim.Adagrad``'s update transcribed to NumPy, for a linear model with
intercept on the weighted half mean squared error (an intercept gradient within
its rounding error counted as zero, as :func:`intercept_gradient` says)."""

import numpy as np
import scipy.sparse as sp


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
