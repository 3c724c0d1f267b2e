"""Data-parallel epochs on Dask: several workers train one model side by side.

Needs the ``dask`` extra (``pip install "sk_adagrad[dask]"``); nothing else in
the package imports Dask.

The model is placed on the cluster once, a copy on each worker, and stays
there between epochs; tasks receive references to it, never the arrays. In an
epoch, the blocks of a dask array are split in order into ``n_workers``
contiguous groups, given to the workers in order. On a worker's copy of the
model, a partial model runs ``partial_fit`` over its group's blocks in order,
keeps the rows (features) the steps wrote, and puts the copy back as it was.
Those partial updates are merged two at a time (see
:func:`merge_partial_models` for the rule): the partial models of a subtree of
the merge that lie on one worker in one task there, the rest in tasks of two
inputs on the workers that hold them; the result is the rows the epoch
changed, which the next epoch lays over the model. Nothing comes back to the client
until ``estimator_`` is read. Every task is a pure function of its inputs, so
a worker lost mid-epoch costs the scheduler a rerun of the tasks whose results
it held, and the model comes out the same. Without a ``distributed`` client,
the same tasks run one after another in this process.

dask-ml's ``HyperbandSearchCV`` tests each block with ``len``, which SciPy
refuses for sparse matrices; :func:`blocks_with_len` makes a dask array of CSR
blocks it can train on (docs/cluster_search.rst shows the whole search).
"""

import copy
import math
import threading
import uuid
import weakref
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from dask.array.dispatch import concatenate_lookup
from dask.base import tokenize
from dask.sizeof import sizeof
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils.validation import check_is_fitted

from ._base import BaseAdagrad
from ._merge import (
    MERGE_RULES,
    Start,
    Summary,
    combine,
    finish,
    merge_partial_models,
    pairwise,
)
from ._model_rows import ModelRows, no_rows
from ._sklearn_private import HasMethods, Interval, StrOptions, validate_params

__all__ = ["CSRWithLen", "DataParallel", "blocks_with_len", "merge_partial_models"]


class DataParallel(MetaEstimatorMixin, BaseEstimator):
    """Train an Adagrad estimator by data-parallel epochs over a dask array.

    Each epoch, the row blocks of ``X`` are split in order into ``n_workers``
    contiguous groups; for each group a Dask task runs ``partial_fit`` over
    the group's blocks in order from the epoch's starting model, and tasks
    merge the partial models two at a time into one. An unfitted model first trains
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
        The trained model, brought from the cluster when first read.
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

    What moves in an epoch is rows: each partial model sends the rows its
    blocks touched (weights, accumulators and the step each was brought up
    to), each merge of two sends the merged rows, and the epoch's changes go
    to every worker. A feature no block of the epoch contains stays where it
    is. The trained model comes to the client when ``estimator_`` is first
    read; read it before the client closes (pickling the wrapper reads it).

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
        runner = _runner()
        blocks = runner.place_blocks(_row_blocks(X, y, sample_weight))
        model = clone(self.estimator)
        for _ in range(self.max_iter):
            model = self._epoch(runner, model, blocks, classes)
        self._keep(runner, model)
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
        runner = _runner()
        blocks = runner.place_blocks(_row_blocks(X, y, sample_weight))
        placed = self.__dict__.get("_placed")
        if placed is not None and placed.runner.same_as(runner):
            start = placed
        elif self.__sklearn_is_fitted__():
            # Trained elsewhere (another client, or in this process): brought
            # from there, then placed here.
            start = self.estimator_
        else:
            start = clone(self.estimator)
        self._keep(runner, self._epoch(runner, start, blocks, classes))
        self.n_iter_ = 1
        return self

    @property
    def estimator_(self):
        """The trained model, brought from the cluster when first read."""
        fetched = self.__dict__.get("_fetched")
        if fetched is not None:
            return fetched
        placed = self.__dict__.get("_placed")
        if placed is None:
            raise AttributeError("estimator_: DataParallel is not fitted yet")
        base, changes = placed.runner.gather([placed.bases[0], placed.changes])
        # A copy: in a single process the gathered base may be the one that
        # trains the next epoch.
        model = copy.deepcopy(base)
        changes.lay_over(model)
        self._fetched = model
        return model

    def __sklearn_is_fitted__(self):
        return self.__dict__.get("_placed") is not None or (
            self.__dict__.get("_fetched") is not None
        )

    def __getstate__(self):
        # The model travels, not the references to a cluster.
        state = dict(super().__getstate__())
        if state.get("_placed") is not None:
            state["_fetched"] = self.estimator_
        state["_placed"] = None
        return state

    def _keep(self, runner, placed):
        """Hold ``placed``, the model on the cluster, once its epochs have run;
        a failed epoch raises here and keeps the model as it was."""
        runner.wait(placed.changes)
        self._placed = placed
        self._fetched = None

    def _validate(self):
        validate_params(self)
        if int(getattr(self.estimator, "average", 0)):
            raise ValueError(
                "DataParallel needs an estimator with average=False: the running "
                "averages of partial models have no meaningful merge."
            )

    def _epoch(self, runner, start, blocks, classes):
        """The model on the cluster (:class:`_Placed`) after one epoch from
        ``start``, an estimator or a placed model."""
        n_workers = self._resolved_n_workers(runner)
        placed = start
        if not isinstance(start, _Placed):
            if start.__sklearn_is_fitted__():
                placed = runner.place(start)
            else:
                # The first blocks train one model alone, so that every partial
                # model starts from the same fitted model (its intercept and
                # 'auto' parameters set from data), as sequential training
                # does. Adagrad's first steps on each coordinate are its
                # largest: partial models that each took them from a barely
                # trained model merge into a worse one.
                alone = max(1, len(blocks) // n_workers)
                fitted = runner.submit(
                    _train_alone, start, classes, *blocks[:alone], worker=0
                )
                placed = runner.place_result(fitted)
                blocks = blocks[alone:]
                if not blocks:
                    self.n_workers_ = 1
                    return placed
        n_groups = min(n_workers, len(blocks))
        self.n_workers_ = n_groups
        groups = np.array_split(np.arange(len(blocks)), n_groups)
        n_places = len(placed.bases)
        # Contiguous groups to each place in turn, as blocks are spread in order.
        where = [index * n_places // n_groups for index in range(n_groups)]
        # The merge's tree, each subtree whose partial models all train in
        # one place one task there (no task to steal, the model trained where
        # it lies), the merges across places tasks of two inputs.
        tree = pairwise(list(range(n_groups)), lambda left, right: (left, right))

        def submit(node):
            """``(reference to the node's merged updates, its place)``."""
            place = _place_of(node, where)
            if place is not None:
                leaves = _leaves(node)
                part = runner.submit(
                    _train_on_blocks,
                    placed.bases[place],
                    placed.changes,
                    classes,
                    _renumbered(node, leaves),
                    *[[blocks[i] for i in groups[leaf]] for leaf in leaves],
                    worker=place,
                )
                return part, place
            (left, place), (right, _) = submit(node[0]), submit(node[1])
            merged = runner.submit(
                _combine,
                placed.bases[place],
                placed.changes,
                left,
                right,
                worker=place,
            )
            return merged, place

        if isinstance(tree, tuple) and _place_of(tree, where) is None:
            # The last merge across places and the epoch's end in one task,
            # which reads the start's rows once for both.
            (root, place), (other, _) = submit(tree[0]), submit(tree[1])
            parts = [root, other]
        else:
            root, place = submit(tree)
            parts = [root]
        rows = None
        if self.merge == "line_search" and n_groups > 1:
            rows = [
                runner.submit(
                    _head_rows, blocks[group[-1]], self.line_search_rows, pure=True
                )
                for group in groups
            ]
        changes = runner.submit(
            _finish_epoch,
            placed.bases[place],
            placed.changes,
            parts,
            self.merge,
            rows,
            worker=place,
        )
        return _Placed(runner, placed.bases, changes)

    def _resolved_n_workers(self, runner):
        if self.n_workers is not None:
            return self.n_workers
        return len(runner.places)

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


class _Placed:
    """A model on the cluster: ``bases``, one copy of a model per place (a
    worker, or this process), and ``changes``, the :class:`ModelRows` that
    epochs since wrote, to lay over a base; both references to results held
    where they were made."""

    def __init__(self, runner, bases, changes):
        self.runner = runner
        self.bases = bases
        self.changes = changes


def _runner():
    """The :class:`_Cluster` of the ``distributed`` client in use, or
    :class:`_InProcess` without one."""
    try:
        from distributed import default_client

        return _Cluster(default_client())
    except (ImportError, ValueError):
        return _InProcess()


class _Cluster:
    """Tasks on a ``distributed`` cluster: arguments and results stay on the
    workers, the graphs carry their keys. Each worker is a place: it holds its
    own copy of the model, which the tasks pinned to it read."""

    def __init__(self, client):
        self.client = client
        self.places = sorted(client.scheduler_info()["workers"])

    def same_as(self, other):
        return (
            isinstance(other, _Cluster)
            and other.client is self.client
            and self.client.status == "running"
        )

    def place_blocks(self, blocks):
        """The blocks ``(X, y, weights or None)`` computed on the cluster, as
        references to them where they are."""
        flat = [part for block in blocks for part in block if part is not None]
        placed = iter(self.client.compute(flat))
        return [
            tuple(None if part is None else next(placed) for part in block)
            for block in blocks
        ]

    def submit(self, function, *args, worker=None, pure=False):
        """``function(*args)`` as a task (on the place ``worker`` if it is
        free to run it); a ``pure`` one is run once for the same inputs."""
        token = tokenize(function, *args) if pure else uuid.uuid4().hex
        return self.client.submit(
            function,
            *args,
            key=f"{function.__name__}-{token}",
            workers=None if worker is None else [self.places[worker]],
            allow_other_workers=worker is not None,
            pure=False,
        )

    def place(self, model):
        """A fitted model sent from here to every worker, once."""
        bases = [
            self.client.scatter(model, workers=[address], hash=False)
            for address in self.places
        ]
        return _Placed(self, bases, self.submit(no_rows, bases[0], worker=0))

    def place_result(self, model):
        """A model made by a task on the first worker, copied to the others;
        a lost copy is made again from the tasks that made it."""
        bases = [model] + [
            self.submit(copy.deepcopy, model, worker=place)
            for place in range(1, len(self.places))
        ]
        return _Placed(self, bases, self.submit(no_rows, model, worker=0))

    def wait(self, future):
        from distributed import wait

        wait(future)
        if future.status == "error":
            raise future.exception()

    def gather(self, futures):
        if self.client.status != "running":
            raise RuntimeError(
                "The model is on a cluster whose client has closed: read "
                "estimator_ (or pickle the wrapper) before closing the client."
            )
        return self.client.gather(futures)


class _InProcess:
    """The same tasks run at once in this process, without a cluster."""

    places = [None]

    def same_as(self, other):
        return isinstance(other, _InProcess)

    def place_blocks(self, blocks):
        import dask

        return list(dask.compute(*blocks))

    def submit(self, function, *args, worker=None, pure=False):
        return function(*args)

    def place(self, model):
        return _Placed(self, [model], no_rows(model))

    def place_result(self, model):
        return self.place(model)

    def wait(self, result):
        pass

    def gather(self, results):
        return results


# A copy of the model trains where it lies, then is put back; tasks that run
# at once on one copy (threads of a worker, or workers sharing a process) take
# turns.
_TURNS = weakref.WeakKeyDictionary()
_TURNS_LOCK = threading.Lock()


def _turn(model):
    with _TURNS_LOCK:
        return _TURNS.setdefault(model, threading.Lock())


def _train_alone(model, classes, *blocks):
    """A copy of ``model`` after ``partial_fit`` over ``blocks`` in order."""
    model = copy.deepcopy(model)
    extra = {} if classes is None else {"classes": classes}
    for X, y, sample_weight in blocks:
        model.partial_fit(X, y, sample_weight=sample_weight, **extra)
    return model


def _leaves(node):
    """The leaves of a tree of nested pairs, left to right."""
    return [node] if isinstance(node, int) else _leaves(node[0]) + _leaves(node[1])


def _place_of(node, where):
    """The place where every leaf of ``node`` trains, or None."""
    places = {where[leaf] for leaf in _leaves(node)}
    return places.pop() if len(places) == 1 else None


def _renumbered(node, leaves):
    """``node`` with each leaf replaced by its position in ``leaves``."""
    if isinstance(node, int):
        return leaves.index(node)
    return (_renumbered(node[0], leaves), _renumbered(node[1], leaves))


def _train_on_blocks(base, changes, classes, tree, *groups):
    """The partial models of ``groups`` (lists of blocks), each ``partial_fit``
    over its blocks in order from ``base`` with ``changes`` laid over it,
    merged as ``tree`` (nested pairs of positions in ``groups``) says: the
    rows one touched (:class:`ModelRows`) or a :class:`Summary`. The model
    trains where it lies and is put back as it was after each (at a cost in
    proportion to the rows written), so that the task can run again."""
    extra = {} if classes is None else {"classes": classes}
    with _turn(base):
        parts = [_rows_touched(base, changes, blocks, extra) for blocks in groups]
        start = Start(base, changes)

        def merged(node):
            if isinstance(node, int):
                return parts[node]
            return combine(start, merged(node[0]), merged(node[1]))

        return merged(tree)


def _rows_touched(base, changes, blocks, extra):
    """The rows that ``partial_fit`` over ``blocks`` from ``base`` with
    ``changes`` laid over it touched; ``base`` is put back as it was."""
    attributes = dict(vars(base))
    engine = base.optimizer_
    engine.begin_tracking()
    try:
        changes.lay_over(base)
        t0 = engine.t
        for X, y, sample_weight in blocks:
            base.partial_fit(X, y, sample_weight=sample_weight, **extra)
        return ModelRows.of(base, base.optimizer_.rows_touched_since(t0))
    finally:
        engine.restore_tracked()
        vars(base).clear()
        vars(base).update(attributes)


def _combine(base, changes, left, right):
    """:func:`~sk_adagrad._merge.combine` on the worker holding ``base``."""
    with _turn(base):
        return combine(Start(base, changes), left, right)


def _finish_epoch(base, changes, parts, rule, rows):
    """``changes`` with the merged rows of the epoch laid over them, from one
    or two ``parts`` to merge; the line search measures the rows ``[(X, y,
    weights), ...]``, stacked."""
    with _turn(base):
        start = Start(base, changes)
        merged = parts[0] if len(parts) == 1 else combine(start, *parts)
        if rows is None:
            return changes.then(finish(start, merged, rule))
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
        epoch = finish(start, merged, rule, X, np.concatenate(y_parts), sample_weight)
        return changes.then(epoch)


# Dask weighs results by their size to decide what to move: these say theirs.
@sizeof.register(ModelRows)
@sizeof.register(Summary)
def _sizeof_rows(rows):
    return rows.nbytes


@sizeof.register(BaseAdagrad)
def _sizeof_model(model):
    engine = model.__dict__.get("optimizer_")
    if engine is None:
        return 1024
    values, _ = engine.export_rows(np.empty(0, dtype=np.int64))
    per_row = sum(
        getattr(engine.state, name)[0:1].nbytes
        for name, value in values.items()
        if value is not None
    )
    return per_row * engine.state.n_rows


def _head_rows(block, n_rows):
    """The first ``n_rows`` rows of a block ``(X, y, sample_weight or None)``."""
    return tuple(None if part is None else part[:n_rows] for part in block)


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
