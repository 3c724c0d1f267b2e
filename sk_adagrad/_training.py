"""The training loop: a pass of mini-batch steps over rows, the epochs of a fit
until the stopping rule (``_stopping``) ends them, and the check that the fitted
model beats a constant one.

It receives what it needs (the engine, the rows, the settings) and never the
estimator: the estimators validate the input, resolve the ``'auto'`` values,
make the engine and keep each call transactional, then hand over to it.
"""

import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from ._batches import batch_rows
from ._step_stats import StepStats
from ._stopping import NoImprovement
from ._threads import prefetched

# The check that a fit beats a constant model reads at most this many training
# rows, spread evenly, so that its cost stays a small part of an epoch on large
# data. Its error, that of a mean over this many rows, stays far below the gap
# the check looks for (docs/defaults.md gives the measurements).
CONSTANT_CHECK_ROWS = 5_000


@dataclass(frozen=True)
class TrainingRows:
    """The rows a call trains on.

    Parameters
    ----------
    X : ndarray or scipy.sparse.csr_matrix of shape (n_samples, n_features)
        Validated features.
    targets : ndarray of shape (n_samples,)
        Class codes or target values.
    sample_weight : ndarray of shape (n_samples,) or (n_samples, n_groups)
        A weight per row, or per row and group of outputs (see
        ``SparseAdagrad.step``).
    encode : callable
        ``encode(targets, dtype)``: the targets as the loss reads them, an
        array of shape ``(n_rows, n_outputs)`` and the given dtype.
    """

    X: object
    targets: np.ndarray
    sample_weight: np.ndarray
    encode: Callable


@dataclass(frozen=True)
class EpochSettings:
    """The estimator's parameters that run the epochs of a fit, as given
    (``batch_size`` resolved). ``after_epoch(engine, running_loss)``, if set,
    is called after each epoch: a study of stopping rules records training
    curves with it."""

    max_iter: int
    tol: float | None
    n_iter_no_change: int
    shuffle: bool
    verbose: int
    batch_size: int
    n_threads: int | None
    after_epoch: Callable | None = None


def hold_out(targets, sample_weight, rng, validation_fraction, stratify, shuffle):
    """``(train, validation)``: the training rows and the rows held out for
    early stopping, ``validation_fraction`` of them, drawn by ``rng`` and
    stratified on ``stratify`` (nothing when None); without ``shuffle`` the
    training rows stay in data order, the order their epochs visit them."""
    indices = np.arange(len(targets))
    try:
        train, validation = train_test_split(
            indices,
            test_size=validation_fraction,
            random_state=rng,
            stratify=stratify,
        )
    except ValueError as error:
        raise ValueError(
            "early_stopping=True could not hold out validation_fraction="
            f"{validation_fraction} of {len(targets)} samples: {error}"
        ) from error
    if not sample_weight[validation].any():
        raise ValueError(
            "The sample weights for validation set are all zero, consider "
            "using a different random state."
        )
    return (train if shuffle else np.sort(train)), validation


def run_pass(engine, data, rows, batch_size, n_threads, with_loss=True, stats=None):
    """One pass over ``rows`` of ``data`` (all rows when None) in mini-batches
    of ``batch_size`` rows, shared by up to ``n_threads`` threads (the
    estimator's parameter: None for the default); returns the weighted mean
    loss, measured on each batch before its step (0 unless ``with_loss``), one
    per group of outputs when ``data.sample_weight`` has a column per group."""
    X, targets, sample_weight = data.X, data.targets, data.sample_weight
    loss_sum = 0.0
    n_rows = X.shape[0] if rows is None else len(rows)
    batches = list(batch_rows(n_rows, batch_size, rows))
    # Steps too small to share between threads (few features and outputs: a
    # short text's binary model, a small partial_fit chunk) run on this thread
    # alone, the next batch prepared here too: handing it to another thread
    # and waiting for it costs more than it saves, the two threads taking
    # turns at the GIL between NumPy's short calls (docs/step_paths.md).
    n_threads = engine.policy.threads_for(n_threads) if engine.can_share(X) else 1

    def prepare(batch):
        # Targets in the model's dtype here, in the prefetch thread, so that
        # a float32 model's step does not cast them on the training thread.
        Y = data.encode(targets[batch], engine.dtype)
        return engine.plan_step(X[batch], n_threads), Y, sample_weight[batch]

    with ThreadPoolExecutor(n_threads) if n_threads > 1 else nullcontext() as pool:
        for planned, Y, weights in prefetched(prepare, batches, pool):
            loss_sum += engine.step(planned, Y, weights, with_loss, stats, pool)
    if not with_loss:
        return 0.0
    total_weight = (
        sample_weight.sum(axis=0) if rows is None else sample_weight[rows].sum(axis=0)
    )
    if sample_weight.ndim == 2:
        return np.divide(
            loss_sum,
            total_weight,
            out=np.zeros_like(total_weight),
            where=total_weight > 0,
        )
    return loss_sum / total_weight if total_weight > 0 else 0.0


def run_epochs(engine, data, train, validation, rng, settings, score, lr):
    """Run the epochs of a fit on the rows ``train`` (all when None), then
    check the fitted model against the best constant one (see
    :func:`warn_if_worse_than_constant`, which names ``lr``); return how many
    epochs ran.

    Each epoch is a pass over the training rows, shuffled by ``rng`` unless
    ``settings.shuffle`` is False. With ``settings.tol`` set, the fit stops
    when the stopping rule (:class:`~sk_adagrad._stopping.NoImprovement`)
    says so, watching the score ``score(margins, targets, sample_weight)`` of
    the rows ``validation`` when given, else the running loss; reaching
    ``max_iter`` first warns.
    """
    X, targets, sample_weight = data.X, data.targets, data.sample_weight
    track_objective = (
        bool(settings.verbose)
        or (settings.tol is not None and validation is None)
        or settings.after_epoch is not None
    )
    stopping = None
    if settings.tol is not None:
        stopping = NoImprovement(
            settings.tol, settings.n_iter_no_change, settled_only=validation is None
        )
    reason = f"max_iter={settings.max_iter} epochs run"
    for epoch in range(1, settings.max_iter + 1):
        start = time.perf_counter()
        rows = train
        if settings.shuffle:
            rows = rng.permutation(len(targets) if train is None else train)
        stats = StepStats() if settings.verbose >= 2 else None
        objective = run_pass(
            engine,
            data,
            rows,
            settings.batch_size,
            settings.n_threads,
            track_objective,
            stats,
        )
        if settings.after_epoch is not None:
            settings.after_epoch(engine, objective)
        # Measured on each batch before its step, over weights that moved
        # during the epoch, and without the penalty: the running loss, not
        # the fitted model's objective printed at the end.
        criterion, message = objective, f"running loss {objective:.6g}"
        if validation is not None:
            score_value = score(
                engine.margins(X[validation]),
                targets[validation],
                sample_weight[validation],
            )
            criterion = -score_value
            message += f", validation score {score_value:.6g}"
        if settings.verbose:
            elapsed = time.perf_counter() - start
            print(f"-- Epoch {epoch}: {message}, time {elapsed:.3f} s")
            if stats is not None:
                print(f"   {stats.summary()}")
        if stopping is not None and stopping.should_stop(criterion):
            watched = "validation score"
            if validation is None:
                watched = "running loss, settled,"
            reason = (
                f"the {watched} did not improve by tol={settings.tol:g} for "
                f"{settings.n_iter_no_change} epochs"
            )
            break
    else:
        if settings.tol is not None:
            warnings.warn(
                f"Maximum number of epochs ({settings.max_iter}) reached before "
                "convergence; consider raising max_iter.",
                ConvergenceWarning,
                # The user's call of fit: fit, _fit, then this function.
                stacklevel=4,
            )
    if settings.verbose:
        print(f"Stopped after epoch {epoch}: {reason}.")
    train_rows = np.arange(len(targets)) if train is None else train
    warn_if_worse_than_constant(engine, data, train_rows, settings, lr)
    return epoch


def warn_if_worse_than_constant(engine, data, rows, settings, lr):
    """Warn when the training objective of the fitted model is worse than that
    of the best constant model (an intercept alone, no penalty), measured on
    at most ``CONSTANT_CHECK_ROWS`` of the training rows ``rows``, spread
    evenly; the warning names the fit's ``lr`` and ``settings`` to change.
    ``settings.verbose`` prints both objectives."""
    if len(rows) > CONSTANT_CHECK_ROWS:
        rows = rows[np.linspace(0, len(rows) - 1, CONSTANT_CHECK_ROWS).astype(int)]
    weights = data.sample_weight[rows]
    if weights.sum() <= 0:
        return
    Y = data.encode(data.targets[rows], np.float64)
    loss = engine.loss
    constant_margins = np.broadcast_to(loss.best_constant(Y, weights), Y.shape)
    constant = np.average(loss.value(Y, constant_margins), weights=weights)
    if not constant > 0:
        # A constant that fits exactly leaves nothing to beat: the
        # perceptron's loss is 0 at the zero model, whatever the data.
        return
    with np.errstate(over="ignore", invalid="ignore"):
        margins = engine.margins(data.X[rows])
        # Bringing every row up to date for the exact penalty reads the whole
        # model; a bound that already keeps the model below the constant
        # spares it.
        bound = None if settings.verbose else engine.penalty_bound()
        if bound is not None and loss.objective(Y, margins, weights, bound) <= constant:
            return
        model = loss.objective(Y, margins, weights, engine.penalty_value())
    if settings.verbose:
        print(
            f"Fitted model's objective {model:.6g} (mean loss plus penalty on "
            f"{len(rows)} training rows); best constant model's {constant:.6g}."
        )
    if not model <= constant:
        hint = ""
        if model <= 1.01 * constant:
            hint = (
                f" It is within {model / constant - 1:.1%} of it: the features "
                "may carry little information about the targets."
            )
        fixes = [
            f"lower lr (now {lr:.3g})",
            f"raise max_iter (now {settings.max_iter}) and n_iter_no_change "
            f"(now {settings.n_iter_no_change})",
        ]
        if not sp.issparse(data.X):
            # Sparse rows (counts, tf-idf) are not centred: that densifies them.
            fixes.insert(0, "standardise the features (StandardScaler)")
        warnings.warn(
            f"The fitted model's training objective ({model:.4g}) is worse than "
            "that of the best constant model, an intercept alone "
            f"({constant:.4g}).{hint} Try to {', '.join(fixes[:-1])} or "
            f"{fixes[-1]}.",
            ConvergenceWarning,
            # The user's call of fit: fit, _fit, run_epochs, then this function.
            stacklevel=5,
        )
