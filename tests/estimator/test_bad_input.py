"""Bad input: every call either fails with an error that names the problem or
gives a documented result, and a failed call leaves a fitted model bit-identical.

The fitted models are a one-vs-rest classifier, a regressor and a multinomial
classifier with an elastic-net penalty, averaging and a decaying rate (so that
lazy penalty steps and the running average are pending when the bad call comes).
Each bad call is tried through ``partial_fit`` and through ``fit`` with
``warm_start=True``, which both continue the fitted state.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from sk_adagrad import AdagradClassifier, DivergenceError

from helpers.fitted_models import (
    CLASSES,
    COMMON,
    DENSE,
    LABELS,
    METHODS,
    MODELS,
    N_FEATURES,
    N_SAMPLES,
    TARGETS,
    X,
    assert_finite_state,
    assert_unchanged,
    fitted,
    snapshot,
    targets_for,
)
from helpers.fitted_models import train as call

# -- errors that do not depend on the fitted state ---------------------------------


def _dense_with(value):
    dense = DENSE.copy()
    dense[3, 2] = value
    return dense


def _sparse_with(value):
    sparse = X.copy()
    sparse.data[5] = value
    return sparse


def _labels_with_nan(y):
    if y.dtype.kind == "f":
        return np.where(np.arange(len(y)) == 4, np.nan, y)
    return np.array([*y[:4], np.nan, *y[5:]], dtype=object)


def _weights_with(value):
    weights = np.ones(N_SAMPLES)
    weights[7] = value
    return weights


# Each case maps the model's targets to the arguments (X, y, sample_weight) of a
# bad call, with the error and a pattern its message must contain.
BAD_CALLS = {
    "nan_in_dense_X": (lambda y: (_dense_with(np.nan), y, None), ValueError, "NaN"),
    "nan_in_sparse_X": (lambda y: (_sparse_with(np.nan), y, None), ValueError, "NaN"),
    "inf_in_dense_X": (
        lambda y: (_dense_with(np.inf), y, None),
        ValueError,
        "infinity",
    ),
    "inf_in_sparse_X": (
        lambda y: (_sparse_with(-np.inf), y, None),
        ValueError,
        "infinity",
    ),
    "nan_in_y": (lambda y: (X, _labels_with_nan(y), None), ValueError, "NaN"),
    "nan_in_sample_weight": (
        lambda y: (X, y, _weights_with(np.nan)),
        ValueError,
        "sample_weight contains NaN",
    ),
    "inf_in_sample_weight": (
        lambda y: (X, y, _weights_with(np.inf)),
        ValueError,
        "sample_weight contains infinity",
    ),
    "negative_sample_weight": (
        lambda y: (X, y, _weights_with(-1.0)),
        ValueError,
        "Negative values in data passed to `sample_weight`",
    ),
    "all_zero_sample_weight": (
        lambda y: (X, y, np.zeros(N_SAMPLES)),
        ValueError,
        "Sample weights must contain at least one non-zero",
    ),
    "sample_weight_of_wrong_length": (
        lambda y: (X, y, np.ones(N_SAMPLES - 1)),
        ValueError,
        "sample_weight.shape",
    ),
    "y_of_wrong_length": (
        lambda y: (X, y[:-1], None),
        ValueError,
        "inconsistent numbers of samples",
    ),
    "empty_X": (lambda y: (X[:0], y[:0], None), ValueError, r"0 sample\(s\)"),
    "zero_features": (
        lambda y: (X[:, :0], y, None),
        ValueError,
        r"0 feature\(s\)",
    ),
    "strings_in_object_X": (
        lambda y: (np.full((N_SAMPLES, N_FEATURES), "word", dtype=object), y, None),
        ValueError,
        "could not convert string to float",
    ),
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("model_name", MODELS)
@pytest.mark.parametrize("case", BAD_CALLS)
def test_bad_call_raises_and_leaves_fitted_model_unchanged(case, model_name, method):
    make_arguments, error, match = BAD_CALLS[case]
    model = fitted(model_name)
    before = snapshot(model)
    with pytest.raises(error, match=match):
        call(model, method, *make_arguments(targets_for(model)))
    assert_unchanged(model, before)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("model_name", MODELS)
@pytest.mark.parametrize("case", BAD_CALLS)
def test_bad_first_call_leaves_model_unfitted(case, model_name, method):
    make_arguments, error, match = BAD_CALLS[case]
    model = MODELS[model_name]()
    unfitted = pickle.dumps(model)
    with pytest.raises(error, match=match):
        call(model, method, *make_arguments(targets_for(model)))
    assert pickle.dumps(model) == unfitted
    assert not hasattr(model, "n_features_in_")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "targets",
    [
        np.array(["a", "b"] * (N_SAMPLES // 2)),
        np.array(["a", "b"] * (N_SAMPLES // 2), dtype=object),
        ["1.5", "b"] * (N_SAMPLES // 2),
    ],
    ids=["str", "object", "list"],
)
def test_regression_targets_that_are_not_numbers_are_named(targets, method):
    model = fitted("regressor")
    before = snapshot(model)
    with pytest.raises(ValueError, match="needs numeric targets, but y holds") as error:
        call(model, method, X, targets)
    assert "AdagradClassifier" in str(error.value)
    assert_unchanged(model, before)
    # Numbers written as strings are numbers.
    fresh = MODELS["regressor"]()
    call(fresh, method, X, TARGETS.astype(str))
    assert np.isfinite(fresh.coef_).all()


def test_inf_in_regression_targets():
    model = fitted("regressor")
    before = snapshot(model)
    for method in METHODS:
        with pytest.raises(ValueError, match="infinity"):
            call(model, method, X, np.where(TARGETS > 1, np.inf, TARGETS))
        assert_unchanged(model, before)


# -- errors about the fitted state: features and classes -----------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("model_name", MODELS)
@pytest.mark.parametrize("n_features", [N_FEATURES - 1, N_FEATURES + 1])
def test_changed_number_of_features(model_name, method, n_features):
    model = fitted(model_name)
    before = snapshot(model)
    other = sp.random(N_SAMPLES, n_features, density=0.5, random_state=1, format="csr")
    with pytest.raises(
        ValueError, match=f"X has {n_features} features, but .* expecting {N_FEATURES}"
    ):
        call(model, method, other, targets_for(model))
    assert_unchanged(model, before)


@pytest.mark.parametrize("model_name", ["classifier", "elasticnet_averaged"])
def test_partial_fit_labels_not_in_classes(model_name):
    model = fitted(model_name)
    before = snapshot(model)
    labels = LABELS.copy().astype(object)
    labels[[2, 9]] = "toast"
    with pytest.raises(ValueError, match=r"labels not in classes.*toast"):
        model.partial_fit(X, labels)
    assert_unchanged(model, before)
    # The same labels are refused on a first call too, against the given classes.
    fresh = MODELS[model_name]()
    with pytest.raises(ValueError, match=r"labels not in classes.*toast"):
        fresh.partial_fit(X, labels, classes=CLASSES)
    assert not hasattr(fresh, "classes_")


@pytest.mark.parametrize("model_name", ["classifier", "elasticnet_averaged"])
def test_warm_fit_with_other_classes(model_name):
    model = fitted(model_name)
    before = snapshot(model)
    for labels in (
        np.full(N_SAMPLES, "ham"),
        np.where(LABELS == "ham", "toast", LABELS),
    ):
        with pytest.raises(ValueError, match="warm_start=True needs the classes"):
            model.fit(X, labels)
        assert_unchanged(model, before)


@pytest.mark.parametrize("model_name", ["classifier", "elasticnet_averaged"])
def test_single_class_in_fit(model_name):
    model = MODELS[model_name]()
    with pytest.raises(ValueError, match="classes has to be greater than one"):
        model.fit(X, np.full(N_SAMPLES, "ham"))
    assert not hasattr(model, "classes_")


@pytest.mark.parametrize("model_name", ["classifier", "elasticnet_averaged"])
def test_partial_fit_with_classes_of_one_label(model_name):
    labels = np.full(N_SAMPLES, "ham")
    model = MODELS[model_name]()
    with pytest.raises(ValueError, match="classes has to be greater than one"):
        model.partial_fit(X, labels, classes=["ham"])
    assert not hasattr(model, "classes_")

    model = fitted(model_name)
    before = snapshot(model)
    with pytest.raises(ValueError, match="classes=.* is not the same as on last call"):
        model.partial_fit(X, labels, classes=["ham"])
    assert_unchanged(model, before)


@pytest.mark.parametrize("model_name", ["classifier", "elasticnet_averaged"])
def test_partial_fit_chunk_with_one_class_present_works(model_name):
    # Only the classes argument has to list every class; a chunk may hold one.
    model = fitted(model_name)
    t_before = model.t_
    model.partial_fit(X, np.full(N_SAMPLES, "spam"))
    assert model.t_ == t_before + N_SAMPLES // COMMON["batch_size"]
    assert_finite_state(model)


# -- class_weight ------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_class_weight_with_an_unknown_label_is_ignored(method):
    # As in scikit-learn: extra keys are ignored, so that a cross-validation fold
    # missing a rare class still fits. The result is the fit without the key.
    known = {"eggs": 2.0, "ham": 1.0, "spam": 0.5}
    with_unknown = AdagradClassifier(**COMMON, class_weight={**known, "toast": 9.0})
    without = AdagradClassifier(**COMMON, class_weight=known)
    call(with_unknown, method, X, LABELS)
    call(without, method, X, LABELS)
    assert pickle.dumps(with_unknown.optimizer_) == pickle.dumps(without.optimizer_)


@pytest.mark.parametrize("method", METHODS)
def test_class_weight_missing_classes_raises(method):
    model = fitted("classifier")
    model.set_params(class_weight={"ham": 2.0, "toast": 9.0})
    before = snapshot(model)
    with pytest.raises(
        ValueError, match=r"\['eggs', 'spam'\], are not in class_weight"
    ):
        call(model, method, X, LABELS)
    assert_unchanged(model, before)


def test_balanced_class_weight_is_refused_by_partial_fit():
    # Balanced weights need the class frequencies of the whole stream; weighting
    # each chunk by its own frequencies would silently train another model.
    first = AdagradClassifier(**COMMON, class_weight="balanced")
    with pytest.raises(ValueError, match="class_weight='balanced' is not supported"):
        first.partial_fit(X, LABELS, classes=CLASSES)
    assert not hasattr(first, "classes_")

    model = fitted("classifier").set_params(class_weight="balanced")
    before = snapshot(model)
    with pytest.raises(ValueError, match="class_weight='balanced' is not supported"):
        model.partial_fit(X, LABELS)
    assert_unchanged(model, before)


# -- invalid parameters ------------------------------------------------------------

INVALID_PARAMETERS = [
    ("lr", 0.0),
    ("lr", -0.1),
    ("lr", "fast"),
    ("eps", -1e-10),
    ("alpha", -1.0),
    ("l1_ratio", 1.5),
    ("lr_decay", -0.1),
    ("initial_accumulator_value", -1.0),
    ("batch_size", 0),
    ("batch_size", 2.5),
    ("max_iter", 0),
    ("tol", -1.0),
    ("n_iter_no_change", 0),
    ("validation_fraction", 1.0),
    ("penalty", "l3"),
    ("loss", "squared_loss"),
    ("average", -1),
    ("fit_intercept", "yes"),
    ("epsilon", -0.1),
]
CLASSIFIER_ONLY_PARAMETERS = [("class_weight", "auto"), ("multi_class", "softmax")]


def _invalid_cases():
    for model_name in MODELS:
        specific = [] if model_name == "regressor" else CLASSIFIER_ONLY_PARAMETERS
        for name, value in INVALID_PARAMETERS + specific:
            yield pytest.param(
                model_name, name, value, id=f"{model_name}-{name}={value}"
            )


@pytest.mark.parametrize(("model_name", "name", "value"), list(_invalid_cases()))
def test_invalid_parameter_is_named(model_name, name, value):
    model = MODELS[model_name]().set_params(**{name: value})
    unfitted = pickle.dumps(model)
    for method in METHODS:
        with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
            call(model, method, X, targets_for(model))
        assert pickle.dumps(model) == unfitted

    model = fitted(model_name).set_params(**{name: value})
    before = snapshot(model)
    for method in METHODS:
        with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
            call(model, method, X, targets_for(model))
        assert_unchanged(model, before)


@pytest.mark.parametrize("method", METHODS)
def test_multinomial_with_a_margin_loss_is_refused(method):
    model = fitted("classifier").set_params(multi_class="multinomial")
    before = snapshot(model)
    with pytest.raises(ValueError, match="multi_class='multinomial' needs loss"):
        call(model, method, X, LABELS)
    assert_unchanged(model, before)


# -- inputs that work --------------------------------------------------------------


@pytest.mark.parametrize("model_name", MODELS)
def test_single_sample(model_name):
    model = MODELS[model_name]()
    y = targets_for(model)
    if is_classifier(model):
        # One sample holds one class: fit refuses it, partial_fit with classes works.
        model.partial_fit(X[:1], y[:1], classes=CLASSES)
        assert model.t_ == 1
    else:
        model.fit(X[:1], y[:1])
        assert model.t_ == COMMON["max_iter"]
    assert_finite_state(model)

    model = fitted(model_name)
    t_before = model.t_
    model.partial_fit(X[1:2], y[1:2])
    assert model.t_ == t_before + 1
    assert_finite_state(model)
    margins = (
        model.decision_function(X[:1]) if is_classifier(model) else model.predict(X[:1])
    )
    assert np.isfinite(margins).all()


def _csr_from_parts(data, indices, indptr):
    return sp.csr_array((data, indices, indptr), shape=X.shape)


def _unsorted_csr():
    # Reverse the order of the stored entries within each row.
    order = np.concatenate(
        [
            np.arange(stop - 1, start - 1, -1)
            for start, stop in zip(X.indptr[:-1], X.indptr[1:], strict=True)
        ]
    )
    unsorted = _csr_from_parts(X.data[order], X.indices[order], X.indptr)
    assert not unsorted.has_sorted_indices
    return unsorted


def _csr_with_duplicates():
    # Every entry stored twice, as two halves: SciPy sums duplicates, so the
    # canonical form is X itself (halving is exact in floating point).
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    indptr = np.concatenate([[0], np.cumsum(2 * np.diff(X.indptr))])
    order = np.argsort(np.concatenate([rows, rows]), kind="stable")
    data = np.concatenate([X.data / 2, X.data / 2])[order]
    indices = np.concatenate([X.indices, X.indices])[order]
    duplicated = _csr_from_parts(data, indices, indptr)
    assert duplicated.nnz == 2 * X.nnz
    return duplicated


def _csr_with_explicit_zeros():
    dense_positions = (DENSE == 0).nonzero()
    rows = np.concatenate([X.tocoo().row, dense_positions[0]])
    columns = np.concatenate([X.tocoo().col, dense_positions[1]])
    values = np.concatenate([X.tocoo().data, np.zeros(len(dense_positions[0]))])
    order = np.lexsort((columns, rows))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=X.shape[0]))])
    with_zeros = _csr_from_parts(values[order], columns[order], indptr)
    assert with_zeros.nnz == DENSE.size
    return with_zeros


def _coo_with_duplicates_and_zeros():
    coo = X.tocoo()
    rows = np.concatenate([coo.row, coo.row, [0, 1]])
    columns = np.concatenate([coo.col, coo.col, [0, 1]])
    values = np.concatenate([coo.data / 2, coo.data / 2, [0.0, 0.0]])
    shuffled = np.random.default_rng(0).permutation(len(values))
    return sp.coo_array(
        (values[shuffled], (rows[shuffled], columns[shuffled])), shape=X.shape
    )


def _csr_with_int64_indices():
    wide = X.copy()
    wide.indices = wide.indices.astype(np.int64)
    wide.indptr = wide.indptr.astype(np.int64)
    assert wide.indices.dtype == np.int64
    return wide


COLUMN_NAMES = [f"feature_{j}" for j in range(N_FEATURES)]

# Pairs of inputs that must train bit-identical models: (variant, reference).
EQUIVALENT_INPUTS = {
    "numeric_object_dtype": (lambda: DENSE.astype(object), lambda: DENSE),
    "bool_dtype": (lambda: DENSE > 0, lambda: (DENSE > 0).astype(np.float64)),
    "float16": (
        lambda: DENSE.astype(np.float16),
        lambda: DENSE.astype(np.float16).astype(np.float64),
    ),
    "csr_int64_indices": (_csr_with_int64_indices, lambda: X),
    "csr_unsorted_indices": (_unsorted_csr, lambda: X),
    "csr_duplicate_entries": (_csr_with_duplicates, lambda: X),
    "csr_explicit_zeros": (_csr_with_explicit_zeros, lambda: X),
    "coo_duplicates_and_zeros": (_coo_with_duplicates_and_zeros, lambda: X),
    "csc": (lambda: X.tocsc(), lambda: X),
    "csr_matrix": (lambda: sp.csr_matrix(DENSE), lambda: X),
    "dataframe": (lambda: pd.DataFrame(DENSE, columns=COLUMN_NAMES), lambda: DENSE),
    "dataframe_of_sparse_columns": (
        lambda: pd.DataFrame(
            {
                name: pd.arrays.SparseArray(DENSE[:, j], fill_value=0.0)
                for j, name in enumerate(COLUMN_NAMES)
            }
        ),
        lambda: X,
    ),
}


# Continuing a model fitted on an array with a DataFrame warns about feature names.
@pytest.mark.filterwarnings("ignore:X has feature names")
@pytest.mark.parametrize("model_name", MODELS)
@pytest.mark.parametrize("case", EQUIVALENT_INPUTS)
def test_equivalent_inputs_train_identical_models(case, model_name):
    make_variant, make_reference = EQUIVALENT_INPUTS[case]
    y = targets_for(MODELS[model_name]())
    variant = MODELS[model_name]().fit(make_variant(), y)
    reference = MODELS[model_name]().fit(make_reference(), y)
    assert pickle.dumps(variant.optimizer_) == pickle.dumps(reference.optimizer_)

    # Continuing a fitted model with the variant matches continuing it with the
    # reference.
    continued = fitted(model_name).partial_fit(make_variant(), y)
    expected = fitted(model_name).partial_fit(make_reference(), y)
    assert pickle.dumps(continued.optimizer_) == pickle.dumps(expected.optimizer_)


def test_dataframes_keep_their_feature_names():
    frame = pd.DataFrame(DENSE, columns=COLUMN_NAMES)
    model = AdagradClassifier(**COMMON).fit(frame, LABELS)
    assert list(model.feature_names_in_) == COLUMN_NAMES
    reference = AdagradClassifier(**COMMON).fit(DENSE, LABELS)
    np.testing.assert_array_equal(model.predict(frame), reference.predict(DENSE))


@pytest.mark.parametrize("model_name", MODELS)
def test_dataframe_mixing_sparse_and_dense_columns(model_name):
    frame = pd.DataFrame(
        {
            name: pd.arrays.SparseArray(DENSE[:, j], fill_value=0.0)
            if j % 2
            else DENSE[:, j]
            for j, name in enumerate(COLUMN_NAMES)
        }
    )
    y = targets_for(MODELS[model_name]())
    with warnings.catch_warnings():
        # scikit-learn says that it converts the mixed frame to a dense array.
        warnings.filterwarnings(
            "ignore", message=".*sparse columns", category=UserWarning
        )
        mixed = MODELS[model_name]().fit(frame, y)
    dense = MODELS[model_name]().fit(DENSE, y)
    np.testing.assert_allclose(mixed.coef_, dense.coef_, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(mixed.intercept_, dense.intercept_, rtol=1e-12)


@pytest.mark.parametrize("model_name", MODELS)
def test_sparse_and_dense_inputs_agree(model_name):
    y = targets_for(MODELS[model_name]())
    sparse = MODELS[model_name]().fit(X, y)
    dense = MODELS[model_name]().fit(DENSE, y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-12)
    np.testing.assert_allclose(
        sparse.coef_accumulator_, dense.coef_accumulator_, rtol=1e-12
    )


# -- extreme magnitudes ------------------------------------------------------------


def _extreme_calls(model, scale):
    """The bad-magnitude calls: X scaled, and for a regressor y scaled too."""
    y = targets_for(model)
    yield X * scale, y
    if not is_classifier(model):
        yield X, y * scale


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("model_name", MODELS)
def test_huge_values_diverge_cleanly_or_train(model_name, method):
    # 1e300 overflows squares and products: either the call trains a finite model
    # or it raises DivergenceError naming lr; never an overflow warning, never a
    # changed model after the error, never a non-finite state.
    model = fitted(model_name)
    for X_huge, y in _extreme_calls(model, 1e300):
        before = snapshot(model)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                call(model, method, X_huge, y)
            except DivergenceError as error:
                assert "`lr`" in str(error)
                assert_unchanged(model, before)
            else:
                assert_finite_state(model)


@pytest.mark.parametrize("model_name", MODELS)
def test_huge_values_on_a_first_fit(model_name):
    model = MODELS[model_name]()
    for X_huge, y in _extreme_calls(model, 1e300):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                model.fit(X_huge, y)
            except DivergenceError as error:
                assert "`lr`" in str(error)
                assert not hasattr(model, "optimizer_")
            else:
                assert_finite_state(model)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("model_name", MODELS)
def test_tiny_values_train_without_warnings(model_name, method):
    model = fitted(model_name)
    for X_tiny, y in _extreme_calls(model, 1e-300):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # Features of 1e-300 carry no signal: a fit may rightly warn that
            # it is no better than a constant; no numerical warning may appear.
            warnings.simplefilter("ignore", ConvergenceWarning)
            call(model, method, X_tiny, y)
            assert_finite_state(model)
            margins = (
                model.decision_function(X_tiny)
                if is_classifier(model)
                else model.predict(X_tiny)
            )
        assert np.isfinite(margins).all()


# -- checks a later partial_fit call may skip -------------------------------------


@pytest.mark.parametrize(
    "labels", [np.full(N_SAMPLES, 0.5), np.array([[0, 1]] * N_SAMPLES)]
)
def test_later_partial_fit_refuses_labels_of_another_type(labels):
    model = AdagradClassifier().partial_fit(
        X, np.arange(N_SAMPLES) % 3, classes=[0, 1, 2]
    )
    before = snapshot(model)
    with pytest.raises(ValueError):
        model.partial_fit(X, labels)
    assert_unchanged(model, before)


def test_skip_parameter_validation_is_respected():
    # n_iter_no_change is not read by partial_fit: an invalid value is caught by
    # the validation alone.
    model = AdagradClassifier(n_iter_no_change=0)
    with pytest.raises(InvalidParameterError, match="n_iter_no_change"):
        model.partial_fit(X, LABELS, classes=CLASSES)
    with sklearn.config_context(skip_parameter_validation=True):
        model.partial_fit(X, LABELS, classes=CLASSES)
    assert model.t_ > 0
