"""The grid search over ``lr``, ``eps`` and ``alpha`` as one estimator: every
(candidate, fold) pair trained side by side, as the columns of one model
(``_stack``), with ``GridSearchCV``'s results."""

import time
import warnings
from numbers import Real

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import ParameterGrid, check_cv
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _defaults as defaults
from ._batches import canonical_csr
from ._halving import candidates_behind
from ._losses import make_loss
from ._sklearn_private import (
    Interval,
    StrOptions,
    check_sample_weight,
    scorer_methods,
)
from ._sklearn_private import validate_params as validate_own_params
from ._stack import Group, StackDiverged, new_stack, train
from ._stack_memory import check_stack_fits
from ._training import TrainingRows, run_pass
from ._version import VersionedPickle

# The parameters searched; the others are the plain estimator's, shared by
# every candidate.
SEARCHED = ("alpha", "eps", "lr")
# Parameters of the plain estimator the search does not take: the held-out
# folds are its validation, and each search trains anew.
NOT_TAKEN = ("early_stopping", "validation_fraction", "warm_start")

# alpha=None searches 'auto' (on the whole training data) times these factors,
# lr and eps at their plain defaults unless given. On the docstring corpus at
# 3,000 documents the best was 3 with 55 classes and 0.1 to 0.3 on the binary
# task (docs/cv.md); 10 lost 7 and 6 points of CV accuracy on them (0.415
# against 0.489, 0.846 against 0.902), so the grid stops at 3.
DEFAULT_ALPHA_FACTORS = (0.1, 0.3, 1.0, 3.0)

_SEARCH_CONSTRAINTS = {
    "alpha": [
        Interval(Real, 0, None, closed="left"),
        StrOptions({"auto"}),
        "array-like",
        None,
    ],
    "lr": [
        Interval(Real, 0, None, closed="neither"),
        StrOptions({"auto"}),
        "array-like",
    ],
    "eps": [Interval(Real, 0, None, closed="left"), "array-like"],
    "cv": ["cv_object"],
    "scoring": [StrOptions(set(get_scorer_names())), callable, None],
    "refit": ["boolean"],
    "halving": ["boolean"],
}


def best_has(name):
    """For ``available_if``: whether the refitted best model has ``name``."""

    def check(search):
        return hasattr(search._fitted_best(), name)

    return check


class BaseAdagradCV(VersionedPickle, BaseEstimator):
    """What :class:`AdagradClassifierCV` and :class:`AdagradRegressorCV` share.

    Subclasses set ``_plain``, the plain estimator's class.
    """

    _plain: type
    # What halving drops, given the held-out scores at a checkpoint: a class
    # attribute, so that a study can record what the rule is given.
    _halving_rule = staticmethod(candidates_behind)

    def _check_targets(self, y):
        """Refuse, naming ``y``, targets the task cannot take before they reach
        NumPy's conversion (the regressor's numbers); any labels are classes."""

    @property
    def _parameter_constraints(self):
        plain = {
            name: constraint
            for name, constraint in self._plain._parameter_constraints.items()
            if name not in NOT_TAKEN
        }
        return {**plain, **_SEARCH_CONSTRAINTS}

    def _plain_estimator(self, **params):
        """The plain estimator with this search's shared parameters."""
        shared = {
            name: getattr(self, name)
            for name in self._plain().get_params()
            if name not in NOT_TAKEN and name not in SEARCHED
        }
        return self._plain(**shared, **params)

    def _grid(self, template, sample_weight):
        """The candidates, in ``GridSearchCV``'s order for the same grid."""
        values = {}
        for name in SEARCHED:
            value = getattr(self, name)
            if name == "alpha" and value is None:
                auto = defaults.auto_alpha(
                    sample_weight, make_loss(template.loss).alpha_per_sample
                )
                value = [float(factor * auto) for factor in DEFAULT_ALPHA_FACTORS]
            elif isinstance(value, str) or not np.iterable(value):
                value = [value]
            if isinstance(value, dict):
                raise ValueError(
                    f"{name} takes one value or a list of them, not a dict."
                )
            # Python numbers in best_params_, not NumPy scalars.
            values[name] = [v.item() if isinstance(v, np.generic) else v for v in value]
            if not values[name]:
                raise ValueError(f"{name} holds no candidate value.")
            for candidate in values[name]:
                # Each candidate must be a valid value of the plain estimator.
                try:
                    validate_own_params(clone(template).set_params(**{name: candidate}))
                except ValueError as error:
                    raise type(error)(
                        f"{type(self).__name__}: the candidate {name}={candidate!r} "
                        f"is not a valid value of {type(template).__name__}'s "
                        f"{name}: {error}"
                    ) from error
        return list(ParameterGrid(values))

    def fit(self, X, y, sample_weight=None, *, groups=None):
        """Train every candidate on every fold, side by side, then (with
        ``refit``) the best candidate on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. float32 data makes float32 models.
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples, in training and in the
            scores on the held-out rows (unweighted without them), so that
            a weight of k counts as k copies of a row.
        groups : array-like of shape (n_samples,), default=None
            Group labels of the samples, for a group splitter given as ``cv``
            (``GroupKFold``), as in ``GridSearchCV.fit``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if isinstance(self.scoring, (list, tuple, set, dict)):
            # Before the parameter check, whose message lists every scorer.
            raise ValueError(
                f"{type(self).__name__} scores with one metric: scoring takes "
                f"a scorer's name or a callable, not a {type(self.scoring).__name__}"
                " (the form of several metrics). For several metrics, use "
                "GridSearchCV over the plain estimator."
            )
        validate_own_params(self)
        self._check_targets(y)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=("csr", "csc", "coo"),
            dtype=(np.float64, np.float32),
            order="C",
            **self._y_check_params(),
        )
        X = canonical_csr(X) if sp.issparse(X) else X
        given_weight = sample_weight
        sample_weight = check_sample_weight(sample_weight, X, dtype=np.float64)
        template = self._plain_estimator()
        # Before anything is trained or resolved.
        scorer = check_scoring(template, self.scoring)
        methods = scorer_methods(scorer)
        if methods and not any(hasattr(template, m) for m in methods):
            raise ValueError(
                f"scoring={self.scoring!r} reads {' or '.join(methods)}, which "
                f"{type(template).__name__}(loss={template.loss!r}) does not "
                "give: choose another scoring or a loss that gives it."
            )
        targets, weights = template._prepare_y(y, sample_weight, reset=True)
        grid = self._grid(template, weights)
        splitter = check_cv(self.cv, y, classifier=is_classifier(self))
        splits = list(splitter.split(X, y, groups))
        n_outputs = template._n_outputs()
        n_groups = len(grid) * len(splits)
        check_stack_fits(
            X.shape[1],
            n_groups * n_outputs,
            X.dtype,
            self.average,
            f"{len(grid)} candidates x {len(splits)} folds x {n_outputs} outputs",
            template._memory_available,
            n_outputs,
        )
        fold_weights = np.zeros((len(targets), len(splits)))
        for fold, (train_rows, _) in enumerate(splits):
            # A row drawn twice by a splitter counts twice, as in a fit on
            # the drawn rows.
            fold_weights[:, fold] = weights * np.bincount(
                train_rows, minlength=len(targets)
            )
        models = [
            self._fold_model(template, params, X, targets, fold_weights[:, fold])
            for params in grid
            for fold in range(len(splits))
        ]
        scoring = _FoldScoring(
            self, X, y, targets, sample_weight, given_weight, scorer, splits, models
        )
        self._train_stack(
            X,
            targets,
            fold_weights,
            models,
            len(splits),
            scoring.score,
            scoring.drop_behind if self.halving else None,
        )
        results = scoring.results
        cv_results = results.cv_results(grid)
        if np.isnan(cv_results["mean_test_score"]).all():
            raise ValueError(
                "Every candidate diverged: lower lr, raise eps or "
                "initial_accumulator_value, or scale the features (see the "
                "warnings above)."
            )
        best_index = int(np.flatnonzero(cv_results["rank_test_score"] == 1)[0])
        fitted = dict(
            cv_results_=cv_results,
            n_splits_=len(splits),
            n_iter_=results.n_iter.copy(),
            best_index_=best_index,
            best_params_=grid[best_index],
            best_score_=float(cv_results["mean_test_score"][best_index]),
            scorer_=scorer,
            multimetric_=False,
        )
        if hasattr(template, "classes_"):
            fitted["classes_"] = template.classes_
        if self.refit:
            start = time.perf_counter()
            best = template.set_params(**fitted["best_params_"])
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fitted["best_estimator_"] = best.fit(X, y, sample_weight=given_weight)
            for refit_warning in caught:
                # Said again at the user's call of fit, and named as the
                # refit's: the fold models' warnings read the same.
                warnings.warn(
                    f"Refitting the best candidate on all the data: "
                    f"{refit_warning.message}",
                    refit_warning.category,
                    stacklevel=2,
                )
            fitted["refit_time_"] = time.perf_counter() - start
        # Set at once, when nothing can fail any more; a previous fit's
        # refitted model goes when this one has none.
        for name in ("best_estimator_", "refit_time_"):
            self.__dict__.pop(name, None)
        self.__dict__.update(fitted)
        return self

    def _fold_model(self, template, params, X, targets, weights):
        """The plain estimator of a candidate on a fold, its ``'auto'`` values
        resolved as a plain fit with these sample weights resolves them."""
        model = clone(template).set_params(**params)
        if hasattr(template, "classes_"):
            model.classes_ = template.classes_
        model._resolve_auto(X, None, targets, weights)
        return model

    def _train_stack(
        self, X, targets, fold_weights, models, n_folds, on_finished, checkpoint
    ):
        """Train ``models`` (candidate-major, ``n_folds`` per candidate) as one
        stack, with :func:`~sk_adagrad._stack.train`'s ``checkpoint`` (its
        groups, and those it returns, indices into ``models``). A model that
        diverges is scored nan and the others are trained again without
        it."""
        template = models[0]
        n_outputs = template._n_outputs()
        # Every model resolved the same rows per step (batch_size is shared).
        batch_size = template.batch_size_
        encoded = template._encode_targets(targets)
        groups = []
        for index, model in enumerate(models):
            weights = fold_weights[:, index % n_folds]
            settings = model._engine_settings(n_outputs)
            intercept = np.zeros(n_outputs)
            if model.fit_intercept:
                intercept = settings["loss"].best_constant(encoded, weights)
            groups.append(Group(settings, index % n_folds, intercept))
        pending = list(range(len(models)))
        finished = set()

        def hand_over(done):
            done.group = pending[done.group]
            finished.add(done.group)
            on_finished(done)

        def judge(epoch, running):
            for model in running:
                model.group = pending[model.group]
            dropped = checkpoint(epoch, running)
            finished.update(dropped)
            return [pending.index(group) for group in dropped]

        while pending:
            rng = check_random_state(self.random_state)

            def one_pass(engine, weights, with_loss, rng=rng):
                rows = rng.permutation(len(targets)) if self.shuffle else None
                data = TrainingRows(X, targets, weights, template._encode_targets)
                return run_pass(
                    engine, data, rows, batch_size, template.n_threads, with_loss
                )

            engine = new_stack(
                [groups[g] for g in pending],
                X.shape[1],
                X.dtype,
                float(self.initial_accumulator_value),
                int(self.average),
            )
            try:
                train(
                    engine,
                    [groups[g] for g in pending],
                    (X, encoded),
                    fold_weights,
                    one_pass,
                    (self.tol, self.n_iter_no_change, self.max_iter),
                    hand_over,
                    self.verbose,
                    None if checkpoint is None else judge,
                )
                break
            except StackDiverged as error:
                diverged = [pending[position] for position in error.groups]
                described = sorted(
                    {
                        str({n: models[g].get_params()[n] for n in SEARCHED})
                        for g in diverged
                    }
                )
                warnings.warn(
                    f"{len(diverged)} of the {len(models)} models diverged and score "
                    f"nan; the others are trained again without them. Parameters: "
                    f"{'; '.join(described)[:500]}",
                    FitFailedWarning,
                    stacklevel=3,
                )
                pending = [
                    g for g in pending if g not in finished and g not in diverged
                ]

    @staticmethod
    def _set_weights(model, X, finished):
        """Make ``model`` the fitted plain estimator of a stopped group."""
        # The stack's weights are averaged already where the model averages:
        # they start an engine that averages nothing more.
        engine = model._new_optimizer(
            X.shape[1], len(finished.intercept), X.dtype, average=False
        )
        engine.start_from(finished.coef, finished.intercept)
        model.optimizer_ = engine
        model.n_iter_ = finished.n_iter
        model.n_features_in_ = X.shape[1]

    # -- the refitted best model -------------------------------------------------

    def _fitted_best(self):
        check_is_fitted(self, "best_index_")
        if not self.refit:
            raise AttributeError(
                f"This {type(self).__name__} was fitted with refit=False: it "
                "holds cv_results_ and best_params_ but no model to predict with."
            )
        return self.best_estimator_

    def predict(self, X):
        """Predict with the refitted best model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predictions.
        """
        return self._fitted_best().predict(X)

    @property
    def coef_(self):
        """The refitted best model's weights."""
        return self._fitted_best().coef_

    @property
    def intercept_(self):
        """The refitted best model's intercept."""
        return self._fitted_best().intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class _FoldScoring:
    """What a search does with its fold models as they leave the stack: their
    held-out scores (``results``, a :class:`_SplitResults`), and with
    ``halving`` the candidates each checkpoint drops.

    Parameters
    ----------
    search : BaseAdagradCV
        The search being fitted (its ``scoring``, ``halving`` and halving
        rule).
    X, y, targets, sample_weight
        The validated data, the targets as the models read them and the
        sample weights (ones when none were given).
    given_weight : array-like or None
        The weights as given: without them the scores are unweighted.
    scorer : callable
        The scorer of a fold model on its held-out rows.
    splits : list of (train, test)
        The folds.
    models : list
        The fold models, candidate-major.
    """

    def __init__(
        self, search, X, y, targets, sample_weight, given_weight, scorer, splits, models
    ):
        self.search, self.scorer = search, scorer
        self.X, self.y = X, y
        self.splits, self.models = splits, models
        self.sample_weight = sample_weight
        self.weighted = given_weight is not None
        self.results = _SplitResults(len(models) // len(splits), len(splits))
        # With the default scoring, halving judges a model by the plain
        # estimator's own score (accuracy or R^2, as its early stopping
        # computes it, equal to ``score``) from the margins of its columns on
        # the fold's held-out rows: no model is built and no scorer called
        # (which cost about a tenth of the benchmark's 55-class search).
        self.held_out = None
        if search.halving and search.scoring is None:
            self.held_out = [
                (
                    X[test],
                    targets[test],
                    sample_weight[test] if self.weighted else None,
                )
                for _, test in splits
            ]
        # The scores of every model at the last checkpoint (``_halving``).
        self.checkpoint_scores = np.full(self.results.scores.shape, np.nan)

    def evaluate(self, finished):
        """The held-out score of a group's model and the seconds it took."""
        fold = finished.group % len(self.splits)
        model = self.models[finished.group]
        self.search._set_weights(model, self.X, finished)
        test = self.splits[fold][1]
        start = time.perf_counter()
        # Weighted when weights are given: a weight of k counts as k copies
        # of the row, in the scores as in training.
        weighted = {"sample_weight": self.sample_weight[test]} if self.weighted else {}
        try:
            value = self.scorer(model, self.X[test], self.y[test], **weighted)
        finally:
            # Its score is all the search keeps of a fold's model: its
            # weights go, and the next model's take their memory instead of
            # the system mapping more.
            del model.optimizer_
        return value, time.perf_counter() - start

    def score(self, finished):
        """Score a stopped group's model and record it."""
        self.results.record(finished, *self.evaluate(finished))

    def judged_score(self, model):
        """The held-out score halving judges a running model by."""
        if self.held_out is None:
            return self.evaluate(model)[0]
        X_test, y_test, weight = self.held_out[model.group % len(self.splits)]
        margins = np.asarray(X_test @ model.coef) + model.intercept
        plain = self.models[model.group]
        return plain._score_validation(margins, y_test, weight)

    def drop_behind(self, epoch, running):
        """Score the models still in the stack; record (through the scorer,
        as stopped models) and return those of the candidates clearly behind
        and no longer improving."""
        results, n_folds = self.results, len(self.splits)
        now = results.scores.copy()
        for model in running:
            now[divmod(model.group, n_folds)] = self.judged_score(model)
        is_running = np.zeros(len(now), dtype=bool)
        is_running[[model.group // n_folds for model in running]] = True
        dropped = results.dropped_at >= 0
        behind = self.search._halving_rule(
            now, self.checkpoint_scores, is_running, dropped
        )
        self.checkpoint_scores[...] = now
        results.dropped_at[behind] = epoch
        behind = set(behind)
        leaving = [m for m in running if m.group // n_folds in behind]
        for model in leaving:
            self.score(model)
        return [model.group for model in leaving]


class _SplitResults:
    """Scores, epochs and times of each (candidate, fold), nan until known."""

    def __init__(self, n_candidates, n_folds):
        shape = (n_candidates, n_folds)
        self.n_folds = n_folds
        self.scores = np.full(shape, np.nan)
        self.n_iter = np.zeros(shape, dtype=int)
        self.fit_time = np.zeros(shape)
        self.score_time = np.zeros(shape)
        # The epoch after which each candidate was dropped, -1 if never.
        self.dropped_at = np.full(n_candidates, -1)

    def record(self, finished, score, score_time):
        """Record the score of the model of :class:`~sk_adagrad._stack.Finished`
        ``finished``."""
        at = divmod(finished.group, self.n_folds)
        self.scores[at] = score
        self.n_iter[at] = finished.n_iter
        self.fit_time[at] = finished.fit_time
        self.score_time[at] = score_time

    def cv_results(self, grid):
        """``GridSearchCV``'s ``cv_results_`` for ``grid``, with the epochs each
        model ran (``split<k>_n_iter``, ``mean_n_iter``) and the epoch after
        which each candidate was dropped (``dropped_at_epoch``, -1 if never)."""
        results = {
            "mean_fit_time": self.fit_time.mean(axis=1),
            "std_fit_time": self.fit_time.std(axis=1),
            "mean_score_time": self.score_time.mean(axis=1),
            "std_score_time": self.score_time.std(axis=1),
        }
        for name in SEARCHED:
            results[f"param_{name}"] = np.ma.MaskedArray(
                [params[name] for params in grid],
                mask=False,
                dtype=object,
            )
        results["params"] = grid
        for fold in range(self.n_folds):
            results[f"split{fold}_test_score"] = self.scores[:, fold]
        # A candidate with a diverged fold has no mean, as in GridSearchCV.
        mean = self.scores.mean(axis=1)
        results["mean_test_score"] = mean
        results["std_test_score"] = self.scores.std(axis=1)
        ranked = np.where(np.isnan(mean), -np.inf, mean)
        results["rank_test_score"] = rankdata(-ranked, method="min").astype(np.int32)
        for fold in range(self.n_folds):
            results[f"split{fold}_n_iter"] = self.n_iter[:, fold]
        results["mean_n_iter"] = self.n_iter.mean(axis=1)
        results["dropped_at_epoch"] = self.dropped_at.copy()
        return results
