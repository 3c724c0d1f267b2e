"""What the classifier and the regressor share: parameters, validation, the
``'auto'`` rules, the engine a call trains, transactional calls and the fitted
attributes. The training loop itself is ``_training``'s."""

from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from . import _defaults as defaults
from ._batches import canonical_csr
from ._doc_link import doc_link_template, installed_documentation_url
from ._engine import SparseAdagrad
from ._losses import make_loss
from ._memory import available_bytes, check_model_fits
from ._penalty import ElasticNet
from ._schedule import Schedule
from ._sklearn_private import (
    Interval,
    StrOptions,
    check_sample_weight,
    validate_params,
)
from ._state import EngineState
from ._step_policy import DEFAULT_STEP_POLICY
from ._training import (
    EpochSettings,
    TrainingRows,
    hold_out,
    run_epochs,
    run_pass,
)
from ._version import VersionedPickle

_COMMON_CONSTRAINTS = {
    "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
    "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
    "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
    "fit_intercept": ["boolean"],
    "lr": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
    "lr_decay": [Interval(Real, 0, None, closed="left")],
    "eps": [Interval(Real, 0, None, closed="left")],
    "initial_accumulator_value": [Interval(Real, 0, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left"), None],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "random_state": ["random_state"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "warm_start": ["boolean"],
    "average": [Interval(Integral, 0, None, closed="left"), "boolean"],
    "verbose": ["verbose"],
    "n_threads": [Interval(Integral, 1, None, closed="left"), None],
}


class BaseAdagrad(VersionedPickle, BaseEstimator):
    """Shared machinery of :class:`AdagradClassifier` and :class:`AdagradRegressor`.

    ``fit`` and ``partial_fit`` validate the input, resolve the ``'auto'``
    values, make or reuse the engine and hand it to ``_training``, inside a
    transaction. What differs between the two tasks is in these hooks, each
    declared below with what it must do: ``_make_loss``, ``_n_outputs``,
    ``_prepare_y``, ``_encode_targets`` and ``_score_validation``, which a
    subclass must define, and ``_y_check_params``, ``_validate_X``,
    ``_stratify``, ``_format_coef`` and ``_lr_in_target_units``, which it
    may. What ``'auto'`` starts from is the loss's own (``_losses``).
    """

    _parameter_constraints: dict = dict(_COMMON_CONSTRAINTS)

    # How the engine carries out a step (path, shards, threads): models agree
    # across policies up to rounding; tests and benchmarks force a path with one.
    _step_policy = DEFAULT_STEP_POLICY

    # What a new model's size is checked against: the bytes of memory available,
    # or None when unknown (also read by the searches); tests give less memory.
    _memory_available = staticmethod(available_bytes)

    # The HTML repr links to the class's page of the documentation site that
    # ``_documentation_url()`` names (the package metadata's; tests name another).
    _doc_link_module = "sk_adagrad"
    _documentation_url = staticmethod(installed_documentation_url)

    @property
    def _doc_link_template(self):
        return doc_link_template(self._documentation_url())

    # -- hooks of the subclasses -------------------------------------------------

    # Whether lr='auto' is in the units of the targets (a regression's, whose
    # weights scale with the target) rather than of margins of order one.
    _lr_in_target_units = False

    def _make_loss(self, n_outputs):
        """The loss object (from ``_losses``) of a model with ``n_outputs``
        outputs."""
        raise NotImplementedError

    def _n_outputs(self):
        """The number of outputs (columns of weights) of the model, once
        :meth:`_prepare_y` has seen the targets."""
        raise NotImplementedError

    def _y_check_params(self):
        """Keyword arguments for ``validate_data``'s checks of ``y``."""
        return {}

    def _prepare_y(self, y, sample_weight, reset, classes=None, partial=False):
        """``(targets, sample_weight)``: ``y`` checked and turned into what the
        model trains on (class codes or float values), the weights adjusted
        (class weights); ``reset`` learns the classes afresh, ``partial`` is a
        ``partial_fit`` call with its ``classes``."""
        raise NotImplementedError

    def _encode_targets(self, targets, dtype=np.float64):
        """``targets`` as the loss reads them: an array of ``dtype`` and shape
        ``(n_rows, n_outputs)``."""
        raise NotImplementedError

    def _score_validation(self, margins, targets, sample_weight):
        """The score early stopping watches on held-out rows, from their
        ``margins`` (higher is better)."""
        raise NotImplementedError

    def _stratify(self, targets):
        """What the early-stopping split stratifies on (None: nothing)."""
        return None

    def _format_coef(self, by_output):
        """``coef_``'s shape, from a new ``(n_outputs, n_features)`` array."""
        return by_output

    # -- fitted attributes -------------------------------------------------------

    def __sklearn_is_fitted__(self):
        return hasattr(self, "optimizer_")

    def _fitted_optimizer(self):
        try:
            return self.__dict__["optimizer_"]
        except KeyError:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' "
                "or 'partial_fit' first."
            ) from None

    @property
    def coef_(self):
        """Weights, brought up to date (and averaged when ``average`` is set)."""
        coef = self._format_coef(self._fitted_optimizer().weights_by_output())
        if self.__dict__.get("_sparse_coef"):
            return sp.csr_matrix(np.atleast_2d(coef))
        return coef

    @property
    def intercept_(self):
        """Intercept, averaged when ``average`` is set."""
        return self._fitted_optimizer().intercept_at_now()

    @property
    def coef_accumulator_(self):
        """Adagrad accumulators of the weights (sums of squared gradients)."""
        return self._format_coef(self._fitted_optimizer().accumulators_by_output())

    @property
    def intercept_accumulator_(self):
        """Adagrad accumulators of the intercept."""
        return self._fitted_optimizer().intercept_accumulator.copy()

    @property
    def t_(self):
        """Number of Adagrad steps (mini-batches) taken over the model's life."""
        return self._fitted_optimizer().t

    def sparsify(self):
        """Return ``coef_`` as a SciPy CSR matrix from now on (see ``densify``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._fitted_optimizer()
        self._sparse_coef = True
        return self

    def densify(self):
        """Return ``coef_`` as a dense array again (the default).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._fitted_optimizer()
        self._sparse_coef = False
        return self

    # -- prediction --------------------------------------------------------------

    def _decision(self, X):
        engine = self._fitted_optimizer()
        return engine.margins(self._validate_X(X, reset=False))

    # -- training ----------------------------------------------------------------

    def _validate_X(
        self, X, y="no_validation", reset=True, dtype=(np.float64, np.float32), **kwargs
    ):
        """Validated X (canonical CSR or C-ordered float array of ``dtype``, or of
        the first of its types unless X has one of them), with y if given."""
        if not reset and self._valid_as_given(X, y, dtype):
            y = None if _no_validation(y) else y
        else:
            checked = validate_data(
                self,
                X,
                y,
                reset=reset,
                accept_sparse=("csr", "csc", "coo"),
                dtype=dtype,
                order="C",
                **kwargs,
            )
            X, y = checked if isinstance(checked, tuple) else (checked, None)
        X = canonical_csr(X) if sp.issparse(X) else X
        return X if y is None else (X, y)

    def _valid_as_given(self, X, y, dtype):
        """Whether ``validate_data`` would accept ``X`` and ``y`` for this fitted
        model as they are, converting nothing and warning about nothing: X a
        CSR matrix or array of ``dtype`` (or of one of its types) with the
        fitted number of features, the model fitted without feature names; y
        (unless not given) a 1-d NumPy array of X's length holding numbers or
        strings; both finite unless ``assume_finite`` is set. That is the usual
        chunk of a stream: checking it here takes microseconds, where the
        generic validation takes a tenth of a millisecond, a tenth of a
        thousand-row step. Whatever else is passed goes through
        ``validate_data``, with its conversions, warnings and errors."""
        dtypes = dtype if isinstance(dtype, tuple) else (dtype,)
        if not (
            type(X) in (sp.csr_matrix, sp.csr_array)
            and X.dtype in dtypes
            and X.shape[0] >= 1
            and X.shape[1] == self.__dict__.get("n_features_in_")
            and "feature_names_in_" not in self.__dict__
        ):
            return False
        check_y = not _no_validation(y)
        if check_y and not (
            type(y) is np.ndarray
            and y.ndim == 1
            and y.shape[0] == X.shape[0]
            and y.dtype.kind in "biufUS"
        ):
            return False
        if get_config()["assume_finite"]:
            return True
        return bool(np.isfinite(X.data).all()) and not (
            check_y and y.dtype.kind == "f" and not np.isfinite(y).all()
        )

    def _engine_settings(self, n_outputs):
        """Engine hyperparameters; ``'auto'`` ones as :meth:`_resolve_auto` set
        them."""
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'.")
        lr = self.__dict__.get("lr_", self.lr)
        alpha = self.__dict__.get("alpha_", self.alpha)
        return dict(
            loss=self._make_loss(n_outputs),
            schedule=Schedule(float(lr), float(self.lr_decay)),
            penalty=ElasticNet.from_params(self.penalty, float(alpha), self.l1_ratio),
            eps=float(self.eps),
            fit_intercept=bool(self.fit_intercept),
            policy=self._step_policy,
        )

    def _resolve_auto(self, X, rows, targets, sample_weight, stream=False):
        """Set ``lr_``, ``alpha_`` and ``batch_size_``, the values ``'auto'``
        stands for on this data (or the values given): the training rows
        ``rows`` of ``X`` (all when None), whose targets and weights are
        ``targets`` and ``sample_weight``, the model's outputs known. In a
        stream (``partial_fit``), whose length is unknown, a fitted model
        keeps the values its first call resolved."""
        keep = stream and self.__sklearn_is_fitted__()
        loss = make_loss(self.loss)
        if not (keep and self.lr == "auto" and hasattr(self, "lr_")):
            self.lr_ = defaults.resolve_lr(
                self.lr,
                loss.base_lr,
                X,
                sample_weight,
                rows,
                targets if self._lr_in_target_units else None,
            )
        if not (keep and self.alpha == "auto" and hasattr(self, "alpha_")):
            self.alpha_ = defaults.resolve_alpha(
                self.alpha,
                loss.alpha_per_sample,
                None if stream else sample_weight,
            )
        self.batch_size_ = self._batch_size_for(None if stream else X, rows)

    def _batch_size_for(self, X=None, rows=None):
        """Rows per step of a fit on the rows ``rows`` of ``X`` (all when
        None), or of a stream of ``partial_fit`` calls when ``X`` is None;
        for a fit, the model's outputs are known (:meth:`_prepare_y`)."""
        if self.batch_size != "auto":
            return int(self.batch_size)
        if X is None:
            return defaults.STREAM_BATCH_SIZE
        n_rows = X.shape[0] if rows is None else len(rows)
        return defaults.auto_batch_size(
            n_rows,
            defaults.mean_nonzeros_per_row(X, rows),
            n_outputs=self._n_outputs(),
        )

    def _new_optimizer(self, n_features, n_outputs, dtype=np.float64, average=True):
        """A new engine of this estimator's settings; ``average=False`` makes
        one that averages nothing, whatever ``average`` says."""
        return SparseAdagrad(
            n_features,
            n_outputs,
            dtype=dtype,
            initial_accumulator_value=float(self.initial_accumulator_value),
            average_from_sample=int(self.average) if average else 0,
            **self._engine_settings(n_outputs),
        )

    def _training_dtype(self, reuse):
        """The dtype training data is validated to: a model keeps the dtype it
        was created with, and later batches are cast to it (a float32 model
        stays float32 on float64 batches, a float64 model computes in float64
        on float32 ones); a new model takes X's float type, float64 for any
        other."""
        return self.optimizer_.dtype if reuse else (np.float64, np.float32)

    def _optimizer_for(
        self,
        n_features,
        n_outputs,
        reuse,
        targets,
        sample_weight,
        dtype,
        coef_init=None,
        intercept_init=None,
    ):
        """The engine to train: the fitted one when ``reuse``, else a new one
        of ``dtype`` at the start :meth:`_initial_state` chooses."""
        if reuse:
            engine = self.optimizer_
            if int(self.average) != engine.average_from_sample:
                raise ValueError(
                    f"average={self.average!r} differs from the value the model was "
                    f"trained with ({engine.average_from_sample}); the running "
                    "average cannot change between partial_fit or warm-started fit "
                    "calls. Fit anew with warm_start=False."
                )
            engine.configure(**self._engine_settings(n_outputs))
            return engine
        averaging = int(self.average) > 0
        check_model_fits(
            n_features, n_outputs, dtype, averaging, self._memory_available
        )
        engine = self._new_optimizer(n_features, n_outputs, dtype)
        engine.start_from(
            *self._initial_state(
                engine, targets, sample_weight, coef_init, intercept_init
            )
        )
        return engine

    def _initial_state(self, engine, targets, sample_weight, coef_init, intercept_init):
        """Starting ``(coef, intercept)`` of the new optimizer ``engine``, in its
        layout (None for zeros): ``coef_init`` and ``intercept_init`` when
        given; else, under ``warm_start``, the fitted model's, as scikit-learn's
        SGD does; else zero weights and the intercept of the best constant
        model for ``targets``."""
        n_features, n_outputs = engine.coef.shape
        previous = self.__dict__.get("optimizer_") if self.warm_start else None
        coef = intercept = None
        if coef_init is not None:
            coef = _checked_start("coef_init", coef_init, n_outputs, n_features).T
        elif previous is not None:
            coef = previous.weights_by_output().T
        if intercept_init is not None:
            intercept = _checked_start("intercept_init", intercept_init, n_outputs)
        elif previous is not None:
            intercept = previous.intercept_at_now()
        elif self.fit_intercept:
            # Start from the best constant model rather than from 0: a
            # regression target far from 0 or rare classes are then fitted
            # from the first step instead of after many.
            intercept = engine.loss.best_constant(
                self._encode_targets(targets), sample_weight
            )
        return coef, intercept

    @contextmanager
    def _transaction(self):
        """Leave the estimator exactly as it was if the call fails, whatever
        the reason (bad input, divergence, an interrupt)."""
        saved = dict(self.__dict__)
        engine = saved.get("optimizer_")
        # A generator passed in is the caller's stream: a failed call puts it
        # back where it was.
        generator = self.random_state
        if not isinstance(generator, np.random.RandomState):
            generator = None
        generator_position = None if generator is None else generator.get_state()
        if engine is not None:
            engine.begin()
        try:
            yield
            # Inside the try: a failure before the commit point is rolled back,
            # and past it (one assignment) the call has nothing left to do.
            if engine is not None:
                engine.commit()
        except BaseException:
            if engine is not None:
                engine.rollback()
            self.__dict__.clear()
            self.__dict__.update(saved)
            if generator is not None:
                generator.set_state(generator_position)
            raise

    def _fit(self, X, y, sample_weight, coef_init=None, intercept_init=None):
        """``fit`` inside its transaction: checks, the engine, then its epochs."""
        validate_params(self)
        reuse = self.warm_start and self.__sklearn_is_fitted__()
        X, y = self._validate_X(
            X,
            y,
            reset=not reuse,
            dtype=self._training_dtype(reuse),
            **self._y_check_params(),
        )
        sample_weight = check_sample_weight(sample_weight, X, dtype=np.float64)
        targets, sample_weight = self._prepare_y(y, sample_weight, reset=not reuse)
        rng = check_random_state(self.random_state)
        train = validation = None
        if self.early_stopping:
            train, validation = hold_out(
                targets,
                sample_weight,
                rng,
                self.validation_fraction,
                self._stratify(targets),
                self.shuffle,
            )
        train_rows = np.arange(len(targets)) if train is None else train
        self._resolve_auto(X, train, targets[train_rows], sample_weight[train_rows])
        # A given start begins a new optimizer, even under warm_start.
        engine = self._optimizer_for(
            X.shape[1],
            self._n_outputs(),
            reuse and coef_init is None and intercept_init is None,
            targets[train_rows],
            sample_weight[train_rows],
            X.dtype,
            coef_init,
            intercept_init,
        )
        data = TrainingRows(X, targets, sample_weight, self._encode_targets)
        settings = self._epoch_settings()
        n_iter = run_epochs(
            engine,
            data,
            train,
            validation,
            rng,
            settings,
            self._score_validation,
            self.lr_,
        )
        self.optimizer_ = engine
        self.n_iter_ = n_iter
        return self

    def _epoch_settings(self):
        """How ``fit`` runs its epochs (``'auto'`` values resolved)."""
        return EpochSettings(
            max_iter=self.max_iter,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            shuffle=self.shuffle,
            verbose=self.verbose,
            batch_size=self.batch_size_,
            n_threads=self.n_threads,
        )

    def _partial_fit(self, X, y, sample_weight, classes=None):
        """``partial_fit`` inside its transaction: checks, the engine, a pass."""
        validate_params(self)
        if self.early_stopping:
            # partial_fit makes one pass and never stops: held-out rows would
            # only be dropped.
            raise ValueError("early_stopping should be False with partial_fit")
        first = not self.__sklearn_is_fitted__()
        X, y = self._validate_X(
            X,
            y,
            reset=first,
            dtype=self._training_dtype(not first),
            **self._y_check_params(),
        )
        sample_weight = check_sample_weight(sample_weight, X, dtype=np.float64)
        targets, sample_weight = self._prepare_y(
            y, sample_weight, reset=first, classes=classes, partial=True
        )
        self._resolve_auto(X, None, targets, sample_weight, stream=True)
        engine = self._optimizer_for(
            X.shape[1], self._n_outputs(), not first, targets, sample_weight, X.dtype
        )
        run_pass(
            engine,
            TrainingRows(X, targets, sample_weight, self._encode_targets),
            self._partial_fit_order(engine.t, len(y)),
            self.batch_size_,
            self.n_threads,
            with_loss=False,
        )
        self.optimizer_ = engine
        self.n_iter_ = 1
        return self

    def _partial_fit_order(self, t, n_rows):
        """The order in which a call at step ``t`` visits its ``n_rows`` rows:
        shuffled, or None (as given) without ``shuffle``."""
        if not self.shuffle:
            return None
        # An integer seed mixed with the step count gives each call its own
        # reproducible order that survives pickling (it is part of the state).
        if isinstance(self.random_state, Integral):
            rng = np.random.default_rng([int(self.random_state), t])
        else:
            rng = check_random_state(self.random_state)
        return rng.permutation(n_rows)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- pickling ----------------------------------------------------------------

    def _unreadable_layout(self, state):
        """The engine must hold its whole training state in an EngineState."""
        engine = state.get("optimizer_")
        if engine is None:
            return None
        engine_state = getattr(engine, "__dict__", {}).get("state")
        if not isinstance(engine_state, EngineState):
            return "its optimizer keeps no EngineState"
        missing = [
            name
            for name in EngineState.row_fields() + EngineState.small_fields()
            if name not in vars(engine_state)
        ]
        if missing:
            return f"its EngineState has no {', '.join(missing)}"
        return None


def _no_validation(y):
    """Whether ``y`` is validate_data's marker of a target not to check."""
    return isinstance(y, str) and y == "no_validation"


def _checked_start(name, value, n_outputs, n_features=None):
    """``value`` as a float array of shape ``(n_outputs, n_features)`` (a weight
    matrix) or ``(n_outputs,)`` (intercepts, when ``n_features`` is None); with
    one output the leading axis may be left out, as in scikit-learn."""
    full = (n_outputs,) if n_features is None else (n_outputs, n_features)
    accepted = [full, full[1:]] if n_outputs == 1 else [full]
    array = np.asarray(value.toarray() if sp.issparse(value) else value, float)
    if array.shape not in accepted:
        raise ValueError(
            f"Provided {name} does not match dataset: its shape is {array.shape}, "
            f"expected {' or '.join(map(str, accepted))}."
        )
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    return array.reshape(full)
