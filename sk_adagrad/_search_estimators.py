"""AdagradClassifierCV and AdagradRegressorCV: the grid search of ``_cv`` for
each task."""

from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.metaestimators import available_if

from . import _defaults as defaults
from ._classifier import AdagradClassifier, _ForProbabilityLosses
from ._cv import BaseAdagradCV, best_has
from ._regressor import AdagradRegressor, check_numeric_targets

_SEARCH_DOC = """
    lr : float, 'auto' or list of them, default='auto'
        Candidate learning rates (``'auto'`` as in the plain estimator, on
        each fold's training rows).
    eps : float or list of floats, default=1e-10
        Candidate values of ``eps``.
    alpha : float, 'auto', list of them or None, default=None
        Candidate penalty strengths (``'auto'`` on each fold's training
        rows). None searches ``'auto'`` of the whole training data times 0.1,
        0.3, 1 and 3 (docs/cv.md); these values, not factors, are what
        ``cv_results_`` and ``best_params_`` show and ``refit`` uses.
    cv : int, cross-validation generator or iterable, default=None
        As in ``GridSearchCV``: None is 5 folds, stratified for classifiers;
        a group splitter reads the ``groups`` given to ``fit``.
    scoring : str, callable or None, default=None
        One score, as in ``GridSearchCV``: None is the estimator's ``score``
        (accuracy or R^2) on each fold's held-out rows, weighted by
        ``sample_weight`` when ``fit`` is given it (as
        ``LogisticRegressionCV`` weighs them). Several metrics at once are
        not supported.
    refit : bool, default=True
        Fit the best candidate on all the data as a plain estimator,
        ``best_estimator_``, which ``predict`` uses.
    halving : bool, default=False
        Successive halving inside the stack: every model still training is
        scored on its held-out rows after epochs 1, 2, 4, 8, ..., and from
        epoch 2 on, a candidate clearly behind the best one (by more than the
        folds' own spread) that is no longer clearly improving is dropped, at
        most down to a third of the grid (two candidates at least); a
        candidate whose scores stood still since the last checkpoint (a
        small ``lr`` still predicting its starting constant) is not judged.
        A dropped candidate keeps the scores of its models at that epoch, as
        plain estimators trained that many epochs would score, and its rank
        among the others; ``cv_results_['dropped_at_epoch']`` says when. It saves
        the epochs the dropped candidates would have run: half the CPU
        where some candidates are clearly worse and settle early, nothing
        (and up to a tenth more, for the checkpoints) where the candidates
        end close (docs/cv.md). False trains every model to its own stopping
        rule, as ``GridSearchCV`` does.
"""

_MEMORY_DOC = """
    Every candidate and fold is trained at once, as the columns of one model:
    each step reads its batch once, finds its active features once, computes
    the margins of every model with one sparse product and steps them all in
    one vectorised update, each with its own ``lr``, ``eps`` and ``alpha``; a
    fold's held-out rows weigh zero in that fold's columns. Each model stops
    by the plain estimator's rule (``tol``, ``n_iter_no_change``, ``max_iter``)
    and then leaves the stack. Each model is the model the plain estimator
    fits with the fold's held-out rows weighted zero, on the same batches
    (``random_state`` an integer makes them the plain fit's batches).

    Memory: the stack holds ``n_candidates x n_folds x n_outputs`` columns for
    every feature (``n_outputs`` 1 for binary and regression problems, the
    number of classes otherwise), in four arrays at its largest (weights,
    accumulators, the weights read when models stop, and one copy while
    stopped models' columns are dropped), five with ``average``: about
    ``4 x 8 x n_features x n_columns`` bytes for float64 input, half that for
    float32 input, which keeps the models float32; and, one at a time, a
    plain model to score each stopped one. 9 candidates x 3 folds x 55
    classes over 100,000 features is 4.8 GB in float64. A stack that would
    not fit in the memory available is refused before anything is allocated,
    with a ``MemoryError`` saying how to shrink it.

    The parameters of the plain estimator are taken too, shared by every
    candidate, except ``early_stopping`` and ``validation_fraction`` (the
    held-out folds are the validation) and ``warm_start``.
"""

_ATTRIBUTES_DOC = """
    cv_results_ : dict of ndarrays
        ``GridSearchCV``'s results: ``mean_fit_time``, ``std_fit_time``,
        ``mean_score_time``, ``std_score_time``, ``param_<name>``,
        ``params``, ``split<k>_test_score``, ``mean_test_score``,
        ``std_test_score``, ``rank_test_score``; and the epochs each model
        ran, ``split<k>_n_iter`` and ``mean_n_iter``; ``dropped_at_epoch``,
        the epoch after which ``halving`` dropped each candidate (-1 for a
        candidate whose models ran to their own stopping rules: always
        without ``halving``), its scores and epochs being those of that
        epoch. The models share each step, so a model's fit time is its
        equal share of the epochs it ran in. A model that diverges scores
        nan (with a ``FitFailedWarning``).
    best_params_ : dict
        The candidate of the best mean score.
    best_score_ : float
        Its mean score over the folds.
    best_index_ : int
        Its index in ``cv_results_``.
    best_estimator_ : estimator
        The plain estimator of the best candidate fitted on all the data
        (``refit=True``).
    refit_time_ : float
        Seconds the refit took.
    scorer_ : callable
        The scorer used.
    n_splits_ : int
        Number of folds.
    n_iter_ : ndarray of shape (n_candidates, n_splits)
        Epochs each model ran.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.
"""


class AdagradClassifierCV(ClassifierMixin, BaseAdagradCV):
    __doc__ = (
        """Grid search of :class:`AdagradClassifier` over ``lr``, ``eps`` and
    ``alpha``, every candidate and fold trained in one pass.
"""
        + _MEMORY_DOC
        + """
    Parameters
    ----------"""
        + _SEARCH_DOC
        + """    loss, penalty, l1_ratio, fit_intercept, lr_decay, \
initial_accumulator_value, batch_size, max_iter, tol, n_iter_no_change, \
shuffle, random_state, average, verbose, epsilon, class_weight, multi_class, \
n_threads : as in :class:`AdagradClassifier`
        Shared by every candidate, with the same defaults. ``verbose``
        prints one line per epoch of the stack.

    Attributes
    ----------"""
        + _ATTRIBUTES_DOC
        + """    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_, intercept_ : ndarray
        The refitted best model's.

    See Also
    --------
    AdagradClassifier : The plain estimator.
    sklearn.model_selection.GridSearchCV : The same grid, one fit at a time,
        each fold's fit on its training rows alone (here every batch also
        holds the held-out rows at weight zero, so scores differ by the
        batches, up to about 0.01 on small data); it also takes ``n_jobs``,
        ``error_score``, ``return_train_score`` and several metrics.
    sklearn.linear_model.LogisticRegressionCV : scikit-learn's linear
        classifier with the cross-validation built in.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sk_adagrad import AdagradClassifierCV
    >>> X, y = make_classification(n_samples=300, random_state=0)
    >>> search = AdagradClassifierCV(lr=[0.1, 1.0], cv=3, random_state=0)
    >>> search.fit(X, y).best_params_["lr"] in (0.1, 1.0)
    True
    >>> len(search.cv_results_["params"])
    8
"""
    )

    _plain = AdagradClassifier

    def __init__(
        self,
        *,
        lr=defaults.LR,
        eps=1e-10,
        alpha=None,
        cv=None,
        scoring=None,
        refit=True,
        halving=False,
        loss="hinge",
        penalty="l2",
        l1_ratio=0.15,
        fit_intercept=True,
        lr_decay=0.0,
        initial_accumulator_value=defaults.INITIAL_ACCUMULATOR_VALUE,
        batch_size=defaults.BATCH_SIZE,
        max_iter=defaults.MAX_ITER,
        tol=1e-3,
        n_iter_no_change=defaults.N_ITER_NO_CHANGE,
        shuffle=True,
        random_state=None,
        average=False,
        verbose=0,
        epsilon=0.1,
        class_weight=None,
        multi_class="auto",
        n_threads=None,
    ):
        self.lr = lr
        self.eps = eps
        self.alpha = alpha
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.halving = halving
        self.loss = loss
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.lr_decay = lr_decay
        self.initial_accumulator_value = initial_accumulator_value
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state
        self.average = average
        self.verbose = verbose
        self.epsilon = epsilon
        self.class_weight = class_weight
        self.multi_class = multi_class
        self.n_threads = n_threads

    @available_if(best_has("decision_function"))
    def decision_function(self, X):
        """The refitted best model's margins.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            Margins.
        """
        return self._fitted_best().decision_function(X)

    @_ForProbabilityLosses
    def predict_proba(self, X):
        """The refitted best model's class probabilities (``log_loss``,
        ``modified_huber``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities.
        """
        return self._fitted_best().predict_proba(X)

    @_ForProbabilityLosses
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Log-probabilities.
        """
        return self._fitted_best().predict_log_proba(X)

    def _y_check_params(self):
        return {}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


class AdagradRegressorCV(RegressorMixin, BaseAdagradCV):
    __doc__ = (
        """Grid search of :class:`AdagradRegressor` over ``lr``, ``eps`` and
    ``alpha``, every candidate and fold trained in one pass.
"""
        + _MEMORY_DOC
        + """
    Parameters
    ----------"""
        + _SEARCH_DOC
        + """    loss, penalty, l1_ratio, fit_intercept, lr_decay, \
initial_accumulator_value, batch_size, max_iter, tol, n_iter_no_change, \
shuffle, random_state, average, verbose, epsilon, n_threads : as in \
:class:`AdagradRegressor`
        Shared by every candidate, with the same defaults. ``verbose``
        prints one line per epoch of the stack.

    Attributes
    ----------"""
        + _ATTRIBUTES_DOC
        + """    coef_, intercept_ : ndarray
        The refitted best model's.

    See Also
    --------
    AdagradRegressor : The plain estimator.
    sklearn.model_selection.GridSearchCV : The same grid, one fit at a time,
        each fold's fit on its training rows alone (here every batch also
        holds the held-out rows at weight zero, so scores differ by the
        batches, up to about 0.01 on small data); it also takes ``n_jobs``,
        ``error_score``, ``return_train_score`` and several metrics.
    sklearn.linear_model.RidgeCV : scikit-learn's ridge regression with the
        cross-validation built in.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_adagrad import AdagradRegressorCV
    >>> X = np.random.default_rng(0).normal(size=(300, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 3.0
    >>> search = AdagradRegressorCV(lr=["auto", 0.1], cv=3, random_state=0)
    >>> bool(search.fit(X, y).best_score_ > 0.9)
    True
"""
    )

    _plain = AdagradRegressor

    def __init__(
        self,
        *,
        lr=defaults.LR,
        eps=1e-10,
        alpha=None,
        cv=None,
        scoring=None,
        refit=True,
        halving=False,
        loss="squared_error",
        penalty="l2",
        l1_ratio=0.15,
        fit_intercept=True,
        lr_decay=0.0,
        initial_accumulator_value=defaults.INITIAL_ACCUMULATOR_VALUE,
        batch_size=defaults.BATCH_SIZE,
        max_iter=defaults.MAX_ITER,
        tol=1e-3,
        n_iter_no_change=defaults.N_ITER_NO_CHANGE,
        shuffle=True,
        random_state=None,
        average=False,
        verbose=0,
        epsilon=0.1,
        n_threads=None,
    ):
        self.lr = lr
        self.eps = eps
        self.alpha = alpha
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.halving = halving
        self.loss = loss
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.lr_decay = lr_decay
        self.initial_accumulator_value = initial_accumulator_value
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state
        self.average = average
        self.verbose = verbose
        self.epsilon = epsilon
        self.n_threads = n_threads

    def _check_targets(self, y):
        check_numeric_targets(self, y)

    def _y_check_params(self):
        return {"y_numeric": True}
