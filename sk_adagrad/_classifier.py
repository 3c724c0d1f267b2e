"""AdagradClassifier: linear classification trained by sparse Adagrad."""

import functools
import types
from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets

from . import _defaults as defaults
from ._base import BaseAdagrad
from ._losses import (
    CLASSIFICATION_LOSSES,
    PROBABILITY_LOSSES,
    REGRESSION_LOSSES,
    classification_loss,
    gives_probabilities,
)
from ._sklearn_private import Interval, StrOptions, check_partial_fit_first_call


class _ForProbabilityLosses:
    """A method that exists only under a loss that gives probabilities.

    As with scikit-learn's ``available_if``, the attribute is missing under
    any other loss, so that ``hasattr(model, "predict_proba")`` is False (what
    meta-estimators test); unlike it, the error says why: it names ``loss``
    and the losses that give probabilities.
    """

    def __init__(self, method):
        self.method = method
        functools.update_wrapper(self, method)

    def __get__(self, estimator, owner=None):
        if estimator is None:
            return self.method
        if not gives_probabilities(estimator.loss):
            raise AttributeError(
                f"{type(estimator).__name__}.{self.method.__name__} is not "
                f"available with loss={estimator.loss!r}: only "
                + " or ".join(f"loss={loss!r}" for loss in PROBABILITY_LOSSES)
                + " gives probabilities."
            )
        return types.MethodType(self.method, estimator)


class AdagradClassifier(ClassifierMixin, BaseAdagrad):
    """Linear classifier trained by mini-batch Adagrad, sparse-first.

    Minimises ``sum_i s_i L(y_i, w.x_i + b) / sum_i s_i + alpha R(w)`` with the
    losses and penalty of :class:`~sklearn.linear_model.SGDClassifier`, using the
    update of :class:`torch.optim.Adagrad` on each mini-batch: only the features
    present in a batch are stepped; the penalty is applied proximally with each
    coordinate's own step size and caught up exactly when a feature is next used.
    All classes are trained together, in one pass over the data per epoch.

    Parameters
    ----------
    loss : {'hinge', 'log_loss', 'modified_huber', 'squared_hinge', \
            'perceptron', 'squared_error', 'huber', 'epsilon_insensitive', \
            'squared_epsilon_insensitive'}, default='hinge'
        The loss. ``log_loss`` gives probabilities (multinomial for more than
        two classes unless ``multi_class='ovr'``); ``modified_huber`` gives
        one-vs-rest probability estimates. The regression losses fit the
        labels encoded as -1 and +1, one-vs-rest, as in ``SGDClassifier``.
    penalty : {'l2', 'l1', 'elasticnet'} or None, default='l2'
        Regularisation term ``R``.
    alpha : float or 'auto', default='auto'
        Strength of the penalty (the same scale as ``SGDClassifier``'s alpha).
        ``'auto'`` is ``0.3 / n`` for the hinge losses (``'hinge'``,
        ``'squared_hinge'``, ``'modified_huber'``, ``'perceptron'``) and
        ``0.1 / n`` for the others, ``n`` the total sample weight of the
        training rows (their number when unweighted): the penalty weighs less
        as the data grows, as with a fixed ``C`` in ``LogisticRegression``.
        ``partial_fit``, which cannot know the length of the stream, uses
        3e-6. The value used is ``alpha_``.
    l1_ratio : float or None, default=0.15
        Mixing of L1 in ``'elasticnet'``: ``R = l1_ratio |w|_1 +
        (1 - l1_ratio) / 2 |w|_2^2``. Unused (and may be None) for the other
        penalties.
    fit_intercept : bool, default=True
        Whether to learn an intercept (never penalised). It starts at the
        best constant model of the training data, or of the first
        ``partial_fit`` call (for ``log_loss``, the class log-odds or
        log-priors, smoothed by half a sample so that a class absent from the
        first chunk of a stream starts finite).
    lr : float or 'auto', default='auto'
        Adagrad's base learning rate; ``'auto'`` is 1.0 for ``log_loss``, whose
        gradients fade as the margins grow, and 0.3 for the other losses. The
        value used is ``lr_``.
    lr_decay : float, default=0.0
        Step ``t`` uses ``lr / (1 + (t - 1) lr_decay)``.
    eps : float, default=1e-10
        Added to ``sqrt(G)`` in the denominator, as in torch.
    initial_accumulator_value : float, default=0.0
        Starting value of every accumulator ``G``.
    batch_size : int or 'auto', default='auto'
        Rows per mini-batch (per Adagrad step). ``'auto'`` is
        ``n_samples / 32`` rows in ``fit``, at least 32 (a data set of at most
        32 rows is one exact step per epoch) and at most 1024 (reached at about
        32,000 rows), or more for sparse rows of few nonzeros: enough rows
        for a step to hold 2,048 nonzeros, while an epoch keeps at least four
        steps, and from about 32,000 rows on 65,536 nonzeros times the
        model's outputs, while an epoch keeps 32 steps, so that short texts
        do not pay a step's fixed cost for little work; 1024 in
        ``partial_fit``, whose chunk is a piece of a larger stream.
    max_iter : int, default=100
        Maximum number of epochs (passes over the training data) in ``fit``.
    tol : float or None, default=1e-3
        Stop when the epoch objective (or the validation score with
        ``early_stopping``) has not improved by ``tol`` for ``n_iter_no_change``
        epochs. ``None`` runs exactly ``max_iter`` epochs.
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
        Hold out ``validation_fraction`` of the data and stop on its accuracy.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.
    warm_start : bool, default=False
        Continue from the previous fit (weights, accumulators and ``t_``).
    average : bool or int, default=False
        Report the average of the iterates (Polyak-Ruppert) as ``coef_``; an
        integer starts averaging once that many samples have been seen.
    verbose : int, default=0
        Print one line per epoch (objective, validation score, time), why the
        fit stopped, and its training objective against the best constant
        model's; 2 adds the number of nonzeros and active features per step
        and the mean step size.
    epsilon : float, default=0.1
        Threshold of the ``huber`` and epsilon-insensitive losses.
    class_weight : dict, 'balanced' or None, default=None
        Weights multiplying ``sample_weight`` per class.
    multi_class : {'auto', 'multinomial', 'ovr'}, default='auto'
        ``'auto'`` is multinomial for ``log_loss`` and one-vs-rest otherwise.
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
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights (averaged when ``average`` is set).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts.
    coef_accumulator_, intercept_accumulator_ : ndarray
        Adagrad's sums of squared gradients, shaped like ``coef_``/``intercept_``.
    optimizer_ : SparseAdagrad
        The complete training state; pickling the estimator keeps it, so a
        reloaded model resumes ``partial_fit`` exactly when its shuffles are
        reproducible (``random_state`` set, or ``shuffle=False``).
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
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    AdagradRegressor : The same training for regression.
    sklearn.linear_model.SGDClassifier : The same losses and penalties, plain
        SGD steps, one binary problem after another for multi-class.
    sklearn.linear_model.LogisticRegression : An exact solver of the
        ``log_loss`` objective.
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
    objective is ``SGDClassifier``'s: the weighted mean loss plus ``alpha`` times the
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
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sk_adagrad import AdagradClassifier
    >>> docs = ["good movie", "great film", "bad movie", "awful film"]
    >>> model = make_pipeline(TfidfVectorizer(), AdagradClassifier(random_state=0))
    >>> model.fit(docs, [1, 1, 0, 0]).predict(["good film"])
    array([1])
    """

    _parameter_constraints: dict = {
        **BaseAdagrad._parameter_constraints,
        "loss": [StrOptions(set(CLASSIFICATION_LOSSES + REGRESSION_LOSSES))],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "multi_class": [StrOptions({"auto", "multinomial", "ovr"})],
    }

    def __init__(
        self,
        *,
        loss="hinge",
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
        class_weight=None,
        multi_class="auto",
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
        self.class_weight = class_weight
        self.multi_class = multi_class
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
            Training data; CSR is used as is, CSC/COO are converted once.
            float32 data makes a float32 model (warm starts keep the model's
            dtype and cast X to it).
        y : array-like of shape (n_samples,)
            Class labels.
        coef_init : ndarray of shape (n_classes, n_features), default=None
            Starting weights; ``(n_features,)`` or ``(1, n_features)`` for two
            classes.
        intercept_init : ndarray of shape (n_classes,), default=None
            Starting intercepts; a scalar or ``(1,)`` for two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        with self._transaction():
            return self._fit(X, y, sample_weight, coef_init, intercept_init)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One pass over the given rows, continuing the training state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data. The first call's float type (float32,
            else float64) is the model's; later chunks are cast to it.
        y : array-like of shape (n_samples,)
            Its labels, all in ``classes``.
        classes : array-like of shape (n_classes,), default=None
            All the classes; required on the first call, optional later.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        with self._transaction():
            return self._partial_fit(X, y, sample_weight, classes=classes)

    def decision_function(self, X):
        """Compute the margins ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            Margin of the positive class (binary) or of each class.
        """
        Z = self._decision(X)
        return Z.ravel() if Z.shape[1] == 1 else Z

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predicted labels.
        """
        codes = self._codes_from_margins(self._decision(X))
        return self.classes_[codes]

    @_ForProbabilityLosses
    def predict_proba(self, X):
        """Class probabilities (``log_loss``, ``modified_huber``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``.
        """
        fitted_loss = self._fitted_optimizer().loss
        if fitted_loss.link is None:
            # loss was changed by set_params after the fit.
            raise ValueError(
                f"This model was fitted with a loss that gives no probabilities "
                f"({type(fitted_loss).__name__}); fit it again to use "
                f"loss={self.loss!r}'s probabilities."
            )
        return fitted_loss.proba(self._decision(X))

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
            Log-probability of each class.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    # -- hooks of BaseAdagrad ----------------------------------------------------

    def _prepare_y(self, y, sample_weight, reset, classes=None, partial=False):
        if not (partial and hasattr(self, "classes_") and y.dtype.kind in "biuUS"):
            # Later partial_fit calls skip it for integer, boolean and string
            # labels: those are classification targets exactly when they are
            # among classes_, which the check below establishes, and its
            # np.unique of the labels costs more than a small chunk's step.
            check_classification_targets(y)
        if partial:
            check_partial_fit_first_call(self, classes)
            # Refused on every call: weighting each chunk by its own class
            # frequencies would silently train another model.
            if self.class_weight == "balanced":
                raise ValueError(
                    "class_weight='balanced' is not supported by partial_fit: "
                    "it needs the class frequencies of the whole data. Pass "
                    "a dict computed with compute_class_weight instead."
                )
        elif reset:
            self.classes_ = np.unique(y)
        elif not np.array_equal(np.unique(y), self.classes_):
            raise ValueError(
                "warm_start=True needs the classes of the previous fit "
                f"{self.classes_.tolist()}; got {np.unique(y).tolist()}."
            )
        if len(self.classes_) < 2:
            raise ValueError(
                "The number of classes has to be greater than one; got "
                f"{len(self.classes_)} class."
            )
        codes = np.searchsorted(self.classes_, y).clip(max=len(self.classes_) - 1)
        unknown = self.classes_[codes] != y
        if unknown.any():
            raise ValueError(
                f"y contains labels not in classes {self.classes_.tolist()}: "
                f"{np.unique(np.asarray(y)[unknown]).tolist()}"
            )
        if self.class_weight is not None:
            per_class = compute_class_weight(
                self.class_weight, classes=self.classes_, y=np.asarray(y)
            )
            sample_weight = sample_weight * per_class[codes]
        return codes, sample_weight

    def _n_outputs(self):
        n_classes = len(self.classes_)
        return 1 if n_classes == 2 else n_classes

    def _make_loss(self, n_outputs):
        return classification_loss(
            self.loss,
            epsilon=self.epsilon,
            multi_class=self.multi_class,
            n_outputs=n_outputs,
        )

    def _encode_targets(self, codes, dtype=np.float64):
        n_outputs = self._n_outputs()
        return self._make_loss(n_outputs).encode_labels(codes, n_outputs, dtype)

    def _codes_from_margins(self, Z):
        return (Z[:, 0] > 0).astype(int) if Z.shape[1] == 1 else Z.argmax(axis=1)

    def _stratify(self, codes):
        return codes

    def _score_validation(self, margins, codes, sample_weight):
        predicted = self._codes_from_margins(margins)
        return np.average(predicted == codes, weights=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags
