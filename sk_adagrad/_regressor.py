"""AdagradRegressor: linear regression trained by sparse Adagrad."""

from numbers import Real

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score

from . import _defaults as defaults
from ._base import BaseAdagrad, _no_validation
from ._losses import REGRESSION_LOSSES, make_loss
from ._sklearn_private import Interval, StrOptions


class AdagradRegressor(RegressorMixin, BaseAdagrad):
    """Linear regressor trained by mini-batch Adagrad, sparse-first.

    Minimises ``sum_i s_i L(y_i, w.x_i + b) / sum_i s_i + alpha R(w)`` with the
    losses and penalty of :class:`~sklearn.linear_model.SGDRegressor`, using the
    update of :class:`torch.optim.Adagrad` on each mini-batch; only the features
    present in a batch are stepped, and the penalty is applied proximally and
    caught up exactly when a feature is next used.

    Parameters
    ----------
    loss : {'squared_error', 'huber', 'epsilon_insensitive', \
            'squared_epsilon_insensitive'}, default='squared_error'
        The loss; ``squared_error`` is ``(y - p) ** 2 / 2``.
    penalty : {'l2', 'l1', 'elasticnet'} or None, default='l2'
        Regularisation term ``R``.
    alpha : float or 'auto', default='auto'
        Strength of the penalty (the same scale as ``SGDRegressor``'s alpha).
        ``'auto'`` is ``0.1 / n``, ``n`` the total sample weight of the
        training rows (their number when unweighted); ``partial_fit``, which
        cannot know the length of the stream, uses 3e-6. The value used is
        ``alpha_``.
    l1_ratio : float or None, default=0.15
        Mixing of L1 in ``'elasticnet'``. Unused (and may be None) for the other
        penalties.
    fit_intercept : bool, default=True
        Whether to learn an intercept (never penalised). It starts at the
        best constant model of the training data, or of the first
        ``partial_fit`` call: the weighted mean target (the weighted median
        for ``huber`` and ``epsilon_insensitive``).
    lr : float or 'auto', default='auto'
        Adagrad's base learning rate. ``'auto'`` is 0.3 times the (weighted)
        standard deviation of the target, divided by the (weighted) mean
        squared norm of the rows when that exceeds 1: Adagrad's first steps
        are about ``lr`` whatever the gradient's scale, so the step must be in
        the target's units, and it moves every feature of a row at once (on
        ``d`` standardised features the mean squared norm is ``d``). With
        ``eps`` near 0 the fit is then equivariant to the target's scale.
        ``partial_fit`` takes the rate of its first call. The value used is
        ``lr_``.
    lr_decay : float, default=0.0
        Step ``t`` uses ``lr / (1 + (t - 1) lr_decay)``.
    eps : float, default=1e-10
        Added to ``sqrt(G)`` in the denominator, as in torch.
    initial_accumulator_value : float, default=0.0
        Starting value of every accumulator ``G``.
    batch_size : int or 'auto', default='auto'
        Rows per mini-batch. ``'auto'`` is ``n_samples / 32`` rows in ``fit``,
        at least 32 and at most 1024, or more for sparse rows of few
        nonzeros: enough rows for a step to hold 2,048 nonzeros, while an
        epoch keeps at least four steps, and from about 32,000 rows on 65,536
        nonzeros, while an epoch keeps 32 steps; 1024 in ``partial_fit``,
        whose chunk is a piece of a larger stream.
    max_iter : int, default=100
        Maximum number of epochs in ``fit``.
    tol : float or None, default=1e-3
        Stop when the epoch objective (or the validation R^2 with
        ``early_stopping``) has not improved by ``tol`` for ``n_iter_no_change``
        epochs; ``None`` runs exactly ``max_iter`` epochs.
    n_iter_no_change : int, default=5
        Number of epochs in a row without improvement before stopping. An
        epoch of the training objective counts only once the objective has
        settled (moved by at most 10%, or ``tol``, from the epoch before): on
        unscaled features Adagrad's first steps make it swing for a while.
    shuffle : bool, default=True
        Shuffle the rows before each epoch (and within each ``partial_fit``).
    random_state : int, RandomState instance or None, default=None
        Seeds shuffling and the early-stopping split.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop on its R^2.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.
    warm_start : bool, default=False
        Continue from the previous fit (weights, accumulators and ``t_``).
    average : bool or int, default=False
        Report the average of the iterates as ``coef_``; an integer starts
        averaging once that many samples have been seen.
    verbose : int, default=0
        Print one line per epoch (objective, validation score, time), why the
        fit stopped, and its training objective against the best constant
        model's; 2 adds the number of nonzeros and active features per step
        and the mean step size.
    epsilon : float, default=0.1
        Threshold of the ``huber`` and epsilon-insensitive losses.
    n_threads : int or None, default=None
        Threads that share each step, each updating its own part of the
        features, while one of them prepares the next batch; steps too small
        to share run on one thread, with no other beside it. None uses the CPUs
        available, at most 2 and at most ``OMP_NUM_THREADS`` when that is set,
        and one thread in a worker thread of a parallel joblib call, so that
        fits run side by side never oversubscribe the cores (the user guide's
        tuning page says how this shares the cores with a search's
        ``n_jobs``). The fitted model is the same for any number, up to the
        rounding of sums of margins.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Weights (averaged when ``average`` is set).
    intercept_ : ndarray of shape (1,)
        Intercept.
    coef_accumulator_, intercept_accumulator_ : ndarray
        Adagrad's sums of squared gradients, shaped like ``coef_``/``intercept_``.
    optimizer_ : SparseAdagrad
        The complete training state.
    t_ : int
        Number of Adagrad steps over the model's life.
    lr_, alpha_ : float
        The learning rate and penalty strength used (what ``'auto'`` stands
        for on the training data).
    batch_size_ : int
        The rows per step used (what ``'auto'`` stands for on the training
        data and the model's outputs).
    n_iter_ : int
        Epochs run by the last call (1 for ``partial_fit``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    AdagradClassifier : The same training for classification.
    sklearn.linear_model.SGDRegressor : The same losses and penalties, plain
        SGD steps.
    sklearn.linear_model.Ridge : An exact solver of the ``squared_error``
        objective with ``penalty="l2"``.
    sklearn.linear_model.Lasso : The same with ``penalty="l1"``.
    sklearn.linear_model.ElasticNet : The same with ``penalty="elasticnet"``.
    sk_adagrad.dask.DataParallel : Data-parallel epochs on a Dask cluster.

    Notes
    -----
    Each mini-batch step is ``torch.optim.Adagrad``'s update [2]_ on the
    batch's (sparse) gradient ``g`` of the weighted mean loss, with the
    per-coordinate step sizes of Adagrad [1]_: at step ``t`` (``t_``),
    ``G += g ** 2`` and ``w -= lr_t * g / (sqrt(G) + eps)`` with
    ``lr_t = lr / (1 + (t - 1) * lr_decay)``. The penalty is not added to the
    gradient (as torch's ``weight_decay`` is) but applied as a proximal step
    with each coordinate's own step size; for the features absent from a batch
    it is caught up in closed form when they are next needed, so a step costs
    time in proportion to the batch's nonzeros, whatever ``n_features``. The
    objective is ``SGDRegressor``'s: the weighted mean loss plus ``alpha`` times the
    elastic-net penalty, the intercept unpenalised (see the user guide's
    algorithm page).

    References
    ----------
    .. [1] J. Duchi, E. Hazan and Y. Singer, "Adaptive Subgradient Methods for
       Online Learning and Stochastic Optimization", Journal of Machine
       Learning Research 12, pp. 2121-2159, 2011.
    .. [2] PyTorch, ``torch.optim.Adagrad``,
       https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html

    Examples
    --------
    >>> import numpy as np
    >>> from sk_adagrad import AdagradRegressor
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 3.0
    >>> model = AdagradRegressor(random_state=0).fit(X, y)
    >>> bool(model.score(X, y) > 0.99)
    True
    """

    _parameter_constraints: dict = {
        **BaseAdagrad._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
        "epsilon": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        loss="squared_error",
        penalty="l2",
        alpha=defaults.ALPHA,
        l1_ratio=0.15,
        fit_intercept=True,
        lr=defaults.LR,
        lr_decay=0.0,
        eps=1e-10,
        initial_accumulator_value=defaults.INITIAL_ACCUMULATOR_VALUE,
        batch_size=defaults.BATCH_SIZE,
        max_iter=defaults.MAX_ITER,
        tol=1e-3,
        n_iter_no_change=defaults.N_ITER_NO_CHANGE,
        shuffle=True,
        random_state=None,
        early_stopping=False,
        validation_fraction=0.1,
        warm_start=False,
        average=False,
        verbose=0,
        epsilon=0.1,
        n_threads=None,
    ):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.lr = lr
        self.lr_decay = lr_decay
        self.eps = eps
        self.initial_accumulator_value = initial_accumulator_value
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.average = average
        self.verbose = verbose
        self.epsilon = epsilon
        self.n_threads = n_threads

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the model with ``max_iter`` epochs at most.

        With ``warm_start=True`` a fitted model is trained on, its weights,
        accumulators and ``t_`` carried over. ``coef_init`` or
        ``intercept_init`` starts a new optimizer from the given weights
        instead, with fresh accumulators and ``t_ = 0`` (under ``warm_start``
        the one not given is the fitted model's, as scikit-learn's SGD does).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. float32 data makes a float32 model
            (warm starts keep the model's dtype and cast X to it).
        y : array-like of shape (n_samples,)
            Targets.
        coef_init : ndarray of shape (n_features,), default=None
            Starting weights.
        intercept_init : ndarray of shape (1,) or float, default=None
            Starting intercept.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        with self._transaction():
            return self._fit(X, y, sample_weight, coef_init, intercept_init)

    def partial_fit(self, X, y, sample_weight=None):
        """One pass over the given rows, continuing the training state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data. The first call's float type (float32,
            else float64) is the model's; later chunks are cast to it.
        y : array-like of shape (n_samples,)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        with self._transaction():
            return self._partial_fit(X, y, sample_weight)

    def predict(self, X):
        """Predict ``X @ coef_ + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predicted values.
        """
        return self._decision(X)[:, 0]

    # -- hooks of BaseAdagrad ----------------------------------------------------

    _lr_in_target_units = True

    def _validate_X(self, X, y="no_validation", **kwargs):
        if y is not None and not _no_validation(y):
            check_numeric_targets(self, y)
        return super()._validate_X(X, y, **kwargs)

    def _y_check_params(self):
        return {"y_numeric": True}

    def _prepare_y(self, y, sample_weight, reset, classes=None, partial=False):
        return np.asarray(y, dtype=np.float64), sample_weight

    def _n_outputs(self):
        return 1

    def _make_loss(self, n_outputs):
        return make_loss(self.loss, epsilon=self.epsilon)

    def _encode_targets(self, y, dtype=np.float64):
        return self._make_loss(1).encode_values(y, dtype)

    def _format_coef(self, by_output):
        return by_output[0]

    def _score_validation(self, margins, y, sample_weight):
        return r2_score(y, margins[:, 0], sample_weight=sample_weight)


def check_numeric_targets(estimator, y) -> None:
    """Raise a ``ValueError`` that names ``y`` when it holds values that are not
    numbers: NumPy's own conversion error names neither ``y`` nor what to do."""
    values = np.asarray(y)
    if values.dtype.kind not in "OUS":
        return
    try:
        values.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{type(estimator).__name__} needs numeric targets, but y holds "
            f"values that are not numbers ({error}); for class labels use "
            f"{type(estimator).__name__.replace('Regressor', 'Classifier')}."
        ) from error
