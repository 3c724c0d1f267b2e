"""Data-parallel epochs on Dask: several workers train one model side by side.

Needs the ``dask`` extra (``pip install "sk_adagrad[dask]"``); nothing else in
the package imports Dask.

In an epoch, the blocks of a dask array are split in order into ``n_workers``
contiguous groups. Each group is one task: it copies the epoch's starting model
and runs ``partial_fit`` over its blocks in order. One more task merges the
partial models into the next epoch's starting model (see
:func:`merge_partial_models` for the rule). The epochs are a Dask task graph
run by whatever scheduler is in use, a ``distributed`` cluster included; every
task is a pure function of its inputs, so a worker lost mid-epoch costs the
scheduler a rerun of the tasks whose results it held, and the model comes out
the same.

dask-ml's ``HyperbandSearchCV`` tests each block with ``len``, which SciPy
refuses for sparse matrices; :func:`blocks_with_len` makes a dask array of CSR
blocks it can train on (docs/scaling.rst shows the whole search).
"""

import copy
import math
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from dask.array.dispatch import concatenate_lookup
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils.validation import check_is_fitted

from ._merge import MERGE_RULES, merge_partial_models
from ._sklearn_private import HasMethods, Interval, StrOptions, validate_params

__all__ = ["CSRWithLen", "DataParallel", "blocks_with_len", "merge_partial_models"]


class DataParallel(MetaEstimatorMixin, BaseEstimator):
    """Train an Adagrad estimator by data-parallel epochs over a dask array.

    Each epoch, the row blocks of ``X`` are split in order into ``n_workers``
    contiguous groups; for each group a Dask task copies the epoch's starting
    model and runs ``partial_fit`` over the group's blocks in order, and a last
    task merges the partial models into one. An unfitted model first trains
    alone on the first ``1 / n_workers`` of the blocks (at least one; the rest
    of that epoch is split), so that every partial model starts from the same
    model, trained past Adagrad's largest, first steps. With ``n_workers=1``
    the result is bit for bit ``partial_fit`` over the blocks in order, epoch
    after epoch.

    Parameters
    ----------
    estimator : AdagradClassifier or AdagradRegressor
        The model to train (cloned by ``fit``). ``average`` must be off: the
        running averages of partial models have no meaningful merge.
    n_workers : int, default=None
        How many partial models train side by side in an epoch (at most one
        per block). The result depends on it, never on which workers run the
        tasks. ``None`` means the number of workers of the ``distributed``
        client in use at ``fit`` time, or 1 without one.
    max_iter : int, default=5
        Number of epochs ``fit`` runs.
    merge : {"line_search", "weighted_average", "rescaled_sum"}, \
            default="line_search"
        How the partial models' weights are merged (the accumulators are
        summed every way): averaged with the accumulator mass each model
        added (``"weighted_average"``), the models' updates added up, each
        rescaled to the merged accumulator (``"rescaled_sum"``), or the point
        of the line from the first through the second with the least training
        objective on a sample of the epoch's rows (``"line_search"``). See
        :func:`merge_partial_models`.
    line_search_rows : int, default=2048
        With ``merge="line_search"``, how many rows of each group's last
        block the merge measures the objective on.

    Attributes
    ----------
    estimator_ : AdagradClassifier or AdagradRegressor
        The trained model.
    n_workers_ : int
        How many partial models the last epoch trained.
    n_iter_ : int
        Epochs run by the last ``fit``, or 1 after ``partial_fit``.

    See Also
    --------
    merge_partial_models : The merge of the partial models of an epoch.
    dask_ml.wrappers.Incremental : Sequential ``partial_fit`` over the blocks.

    Notes
    -----
    Every merge sums the accumulators. The weighted average of the weights
    equals sequential training for coordinates only one partial model
    touched, but trails it elsewhere, far from the minimum; the rescaled sum
    keeps up there but overshoots near the minimum or after large steps. The
    default, ``"line_search"``, takes the point ``s`` = 0, 0.25, ..., 1.5 of
    the way from the average to the rescaled sum with the least training
    objective on the first ``line_search_rows`` rows of each group's last
    block (a task on the worker holding the block reads them; only they
    move).

    Within an epoch each partial model counts its steps from the starting
    model's ``t_``, so with ``lr_decay > 0`` its steps are larger than the
    same steps taken in sequence; after the merge ``t_`` counts the
    mini-batches of all of them.

    Examples
    --------
    >>> import dask.array as da  # doctest: +SKIP
    >>> from sk_adagrad import AdagradClassifier
    >>> from sk_adagrad.dask import DataParallel
    >>> model = DataParallel(AdagradClassifier(loss="log_loss"), max_iter=3)
    >>> model.fit(X, y, classes=[0, 1])  # doctest: +SKIP
    >>> model.estimator_.predict(X_test)  # doctest: +SKIP
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["partial_fit"])],
        "n_workers": [Interval(Integral, 1, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "merge": [StrOptions(set(MERGE_RULES))],
        "line_search_rows": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        estimator,
        *,
        n_workers=None,
        max_iter=5,
        merge="line_search",
        line_search_rows=2048,
    ):
        self.estimator = estimator
        self.n_workers = n_workers
        self.max_iter = max_iter
        self.merge = merge
        self.line_search_rows = line_search_rows

    def fit(self, X, y, classes=None, sample_weight=None) -> "DataParallel":
        """Train a clone of ``estimator`` for ``max_iter`` data-parallel epochs.

        Parameters
        ----------
        X : dask array of shape (n_samples, n_features)
            Split along rows only; its blocks may be SciPy sparse matrices.
        y : dask array of shape (n_samples,)
            Split along rows like ``X``.
        classes : array-like, default=None
            All the class labels, for a classifier (as in ``partial_fit``).
        sample_weight : dask array of shape (n_samples,), default=None
            Split along rows like ``X``.

        Returns
        -------
        self : object
            Fitted wrapper; the model is ``estimator_``.
        """
        self._validate()
        model = clone(self.estimator)
        blocks = _row_blocks(X, y, sample_weight)
        for _ in range(self.max_iter):
            model = self._epoch(model, blocks, classes)
        self.estimator_ = model.compute()
        self.n_iter_ = self.max_iter
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None) -> "DataParallel":
        """One data-parallel epoch over ``X``, continuing from ``estimator_``.

        Parameters
        ----------
        X : dask array of shape (n_samples, n_features)
            Split along rows only; its blocks may be SciPy sparse matrices.
        y : dask array of shape (n_samples,)
            Split along rows like ``X``.
        classes : array-like, default=None
            All the class labels, for a classifier's first call.
        sample_weight : dask array of shape (n_samples,), default=None
            Split along rows like ``X``.

        Returns
        -------
        self : object
            Fitted wrapper; the model is ``estimator_``.
        """
        self._validate()
        start = self.estimator_ if hasattr(self, "estimator_") else self.estimator
        model = clone(start) if start is self.estimator else start
        blocks = _row_blocks(X, y, sample_weight)
        self.estimator_ = self._epoch(model, blocks, classes).compute()
        self.n_iter_ = 1
        return self

    def _validate(self):
        validate_params(self)
        if int(getattr(self.estimator, "average", 0)):
            raise ValueError(
                "DataParallel needs an estimator with average=False: the running "
                "averages of partial models have no meaningful merge."
            )

    def _epoch(self, model, blocks, classes):
        """The delayed merged model of one epoch from ``model``."""
        import dask
        from dask.delayed import Delayed

        n_workers = self._resolved_n_workers()
        if not isinstance(model, Delayed):
            fitted = model.__sklearn_is_fitted__()
            # One node of the graph holds the model, however many tasks read it.
            model = dask.delayed(model, pure=False)
            if not fitted:
                # The first blocks train one model alone, so that every partial
                # model starts from the same fitted model (its intercept and
                # 'auto' parameters set from data), as sequential training
                # does. Adagrad's first steps on each coordinate are its
                # largest: partial models that each took them from a barely
                # trained model merge into a worse one.
                alone = max(1, len(blocks) // n_workers)
                model = dask.delayed(_train_on_blocks, pure=True)(
                    model, blocks[:alone], classes
                )
                blocks = blocks[alone:]
                if not blocks:
                    self.n_workers_ = 1
                    return model
        n_groups = min(n_workers, len(blocks))
        groups = np.array_split(np.arange(len(blocks)), n_groups)
        partials = [
            dask.delayed(_train_on_blocks, pure=True)(
                model, [blocks[i] for i in group], classes
            )
            for group in groups
        ]
        self.n_workers_ = n_groups
        rows = None
        if self.merge == "line_search" and n_groups > 1:
            rows = [
                dask.delayed(_head_rows, pure=True)(
                    blocks[group[-1]], self.line_search_rows
                )
                for group in groups
            ]
        return dask.delayed(_merge_epoch, pure=True)(model, partials, self.merge, rows)

    def _resolved_n_workers(self):
        if self.n_workers is not None:
            return self.n_workers
        try:
            from distributed import default_client

            return max(1, len(default_client().scheduler_info()["workers"]))
        except (ImportError, ValueError):
            return 1

    def predict(self, X) -> np.ndarray:
        """Predict with ``estimator_`` (in-memory ``X``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predictions.
        """
        check_is_fitted(self)
        return self.estimator_.predict(X)

    def score(self, X, y, sample_weight=None) -> float:
        """``estimator_``'s score on in-memory ``X`` and ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        y : array-like of shape (n_samples,)
            True labels or values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        float
            Accuracy for a classifier, R² for a regressor.
        """
        check_is_fitted(self)
        return self.estimator_.score(X, y, sample_weight=sample_weight)


def _train_on_blocks(start, blocks, classes):
    """A copy of ``start`` after ``partial_fit`` over ``blocks`` in order; the
    inputs are left as they were, so that the task can be rerun."""
    model = copy.deepcopy(start)
    extra = {} if classes is None else {"classes": classes}
    for X, y, sample_weight in blocks:
        model.partial_fit(X, y, sample_weight=sample_weight, **extra)
    return model


def _head_rows(block, n_rows):
    """The first ``n_rows`` rows of a block ``(X, y, sample_weight or None)``."""
    return tuple(None if part is None else part[:n_rows] for part in block)


def _merge_epoch(start, partials, rule, rows):
    """:func:`merge_partial_models`, with the rows ``[(X, y, weights), ...]``
    stacked for a line search."""
    if rows is None:
        return merge_partial_models(start, partials, rule)
    X_parts, y_parts, weight_parts = zip(*rows, strict=True)
    X = (
        sp.vstack(X_parts, format="csr")
        if sp.issparse(X_parts[0])
        else np.vstack(X_parts)
    )
    sample_weight = (
        None
        if weight_parts[0] is None
        else np.concatenate([np.asarray(w) for w in weight_parts])
    )
    return merge_partial_models(
        start, partials, rule, X, np.concatenate(y_parts), sample_weight
    )


def _row_blocks(X, y, sample_weight):
    """``[(X block, y block, weight block or None), ...]`` as delayed objects,
    after checking that the three arrays are split alike along rows only."""
    import dask.array as da

    arrays = {"X": X, "y": y}
    if sample_weight is not None:
        arrays["sample_weight"] = sample_weight
    for name, array in arrays.items():
        if not isinstance(array, da.Array):
            raise TypeError(
                f"{name} must be a dask array split along rows; got "
                f"{type(array).__name__}."
            )
    if X.ndim != 2 or X.numblocks[1] != 1:
        raise ValueError(
            "X must be a 2-D dask array split along rows only; got blocks "
            f"{X.numblocks}. Rechunk it with X.rechunk({{1: -1}})."
        )
    for name in arrays.keys() - {"X"}:
        array = arrays[name]
        if array.ndim != 1 or array.numblocks[0] != X.numblocks[0]:
            raise ValueError(
                f"{name} must be a 1-D dask array with X's {X.numblocks[0]} row "
                f"blocks; got blocks {array.numblocks}."
            )
        sizes_known = not any(map(math.isnan, X.chunks[0] + array.chunks[0]))
        if sizes_known and array.chunks[0] != X.chunks[0]:
            raise ValueError(
                f"{name}'s row blocks {array.chunks[0]} differ from X's {X.chunks[0]}."
            )
    X_blocks = X.to_delayed()[:, 0].tolist()
    y_blocks = y.to_delayed().tolist()
    weight_blocks = (
        [None] * len(X_blocks)
        if sample_weight is None
        else sample_weight.to_delayed().tolist()
    )
    return list(zip(X_blocks, y_blocks, weight_blocks, strict=True))


class CSRWithLen(sp.csr_matrix):
    """A CSR matrix whose ``len`` is its number of rows.

    SciPy refuses ``len`` of a sparse matrix ("sparse array length is
    ambiguous"); dask-ml's incremental searches (``HyperbandSearchCV``,
    ``SuccessiveHalvingSearchCV``, ``IncrementalSearchCV``) call it on every
    training block. Everything else is the CSR matrix's. Dask joins blocks of
    this type into one plain CSR matrix (registered when this module is
    imported, as it is wherever such a block is unpickled).
    """

    def __len__(self) -> int:
        return self.shape[0]


@concatenate_lookup.register(CSRWithLen)
def _concatenate_csr_with_len(blocks, axis=0):
    # SciPy's own join puts the blocks in a NumPy object array, which would
    # take a sized block for a sequence of rows.
    plain = [sp.csr_matrix(block) for block in blocks]
    return sp.vstack(plain, format="csr") if axis == 0 else sp.hstack(plain, "csr")


def blocks_with_len(X):
    """``X`` with each block a :class:`CSRWithLen`, for dask-ml's searches.

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
        A dask array whose blocks are SciPy sparse matrices (or arrays).

    Returns
    -------
    dask array of shape (n_samples, n_features)
        The same rows, each block a :class:`CSRWithLen` sharing the block's
        CSR arrays.

    Examples
    --------
    >>> import dask  # doctest: +SKIP
    >>> from dask_ml.model_selection import HyperbandSearchCV  # doctest: +SKIP
    >>> search = HyperbandSearchCV(model, params, max_iter=27)  # doctest: +SKIP
    >>> with dask.config.set(scheduler=client.get):  # doctest: +SKIP
    ...     search.fit(blocks_with_len(X), y, classes=classes)
    """
    return X.map_blocks(
        CSRWithLen,
        dtype=X.dtype,
        meta=CSRWithLen((0, X.shape[1]), dtype=X.dtype),
    )
