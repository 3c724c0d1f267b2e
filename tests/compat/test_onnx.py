"""ONNX export: onnxruntime must reproduce predict, predict_proba and the scores."""

import subprocess
import sys

import numpy as np
import onnxruntime
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_adagrad import AdagradClassifier, AdagradRegressor
from sk_adagrad.onnx import register_onnx_converters, to_onnx

# Float32 graphs against the float64 model: margins of size ~10 carry ~1e-6
# absolute rounding error, probabilities less.
PROBA_ATOL = 1e-5
SCORE_RTOL = 1e-5
SCORE_ATOL = 1e-5
PROBA_LOSSES = ("log_loss", "modified_huber")
OTHER_LOSSES = ("hinge", "squared_hinge", "perceptron")


def _run(onnx_model, X):
    session = onnxruntime.InferenceSession(
        onnx_model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


def _classification_data(n_classes, n_samples=300, n_features=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    hidden = rng.normal(size=(n_features, n_classes))
    y = (X @ hidden + 0.5 * rng.normal(size=(n_samples, n_classes))).argmax(axis=1)
    return X, y


def _fit_classifier(X, y, **params):
    params = dict(random_state=0, max_iter=20, tol=None, lr=0.1) | params
    return AdagradClassifier(**params).fit(X, y)


def _expected_second_output(model, X):
    """What the graph's second output must hold: probabilities where the loss
    has them, otherwise the decision scores as two columns for a binary model."""
    if model.loss in PROBA_LOSSES:
        return model.predict_proba(X)
    scores = model.decision_function(X)
    return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores


@pytest.mark.parametrize("loss", PROBA_LOSSES + OTHER_LOSSES)
@pytest.mark.parametrize("n_classes", [2, 4])
def test_classifier_matches_onnxruntime(loss, n_classes):
    X, y = _classification_data(n_classes)
    model = _fit_classifier(X, y, loss=loss)
    onnx_model = to_onnx(model, X[:1].astype(np.float32), options={"zipmap": False})
    labels, second = _run(onnx_model, X.astype(np.float32))

    np.testing.assert_array_equal(labels, model.predict(X))
    assert second.shape == (len(X), n_classes)
    expected = _expected_second_output(model, X)
    if loss in PROBA_LOSSES:
        np.testing.assert_allclose(second, expected, atol=PROBA_ATOL)
        np.testing.assert_allclose(second.sum(axis=1), 1.0, atol=PROBA_ATOL)
    else:
        np.testing.assert_allclose(second, expected, rtol=SCORE_RTOL, atol=SCORE_ATOL)


@pytest.mark.parametrize("multi_class", ["auto", "multinomial", "ovr"])
def test_log_loss_multiclass_strategies(multi_class):
    X, y = _classification_data(3)
    model = _fit_classifier(X, y, loss="log_loss", multi_class=multi_class)
    labels, proba = _run(
        to_onnx(model, X[:1].astype(np.float32), options={"zipmap": False}),
        X.astype(np.float32),
    )
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=PROBA_ATOL)
    # The three strategies really differ: softmax versus normalised sigmoids.
    sigmoids = 1.0 / (1.0 + np.exp(-model.decision_function(X)))
    normalised = sigmoids / sigmoids.sum(axis=1, keepdims=True)
    softmax_like = multi_class != "ovr"
    assert np.allclose(proba, normalised, atol=1e-3) != softmax_like


def test_string_labels_and_zipmap():
    X, codes = _classification_data(3)
    y = np.array(["ant", "bee", "cat"])[codes]
    model = _fit_classifier(X, y, loss="log_loss")
    labels, proba_maps = _run(
        to_onnx(model, X[:1].astype(np.float32)), X[:20].astype(np.float32)
    )

    np.testing.assert_array_equal(labels, model.predict(X[:20]))
    assert set(proba_maps[0]) == {"ant", "bee", "cat"}
    table = np.array([[row[name] for name in model.classes_] for row in proba_maps])
    np.testing.assert_allclose(table, model.predict_proba(X[:20]), atol=PROBA_ATOL)


def test_binary_string_labels():
    X, codes = _classification_data(2)
    y = np.array(["no", "yes"])[codes]
    model = _fit_classifier(X, y, loss="modified_huber")
    labels, proba = _run(
        to_onnx(model, X[:1].astype(np.float32), options={"zipmap": False}),
        X.astype(np.float32),
    )
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=PROBA_ATOL)


def test_modified_huber_rows_without_mass_are_uniform():
    X, y = _classification_data(3)
    model = _fit_classifier(X, y, loss="modified_huber")
    # Rows whose margins are all below -1 have zero clipped mass in every class;
    # predict_proba then returns the uniform distribution.
    target = -5.0 - model.intercept_
    row = np.linalg.lstsq(model.coef_, target, rcond=None)[0]
    assert np.all(model.decision_function(row[None]) < -1)
    X_test = np.vstack([row, X[:5]])
    _, proba = _run(
        to_onnx(model, X[:1].astype(np.float32), options={"zipmap": False}),
        X_test.astype(np.float32),
    )
    np.testing.assert_allclose(proba[0], 1.0 / 3.0, atol=1e-7)
    np.testing.assert_allclose(proba, model.predict_proba(X_test), atol=PROBA_ATOL)


def test_raw_scores_and_nocl_options():
    X, y = _classification_data(3)
    model = _fit_classifier(X, y + 10, loss="log_loss")
    labels, scores = _run(
        to_onnx(
            model,
            X[:1].astype(np.float32),
            options={"zipmap": False, "raw_scores": True, "nocl": True},
        ),
        X.astype(np.float32),
    )
    # nocl: labels are class indices instead of the class values.
    np.testing.assert_array_equal(labels, model.predict(X) - 10)
    np.testing.assert_allclose(
        scores, model.decision_function(X), rtol=SCORE_RTOL, atol=SCORE_ATOL
    )


def test_double_input_is_exact():
    X, y = _classification_data(3)
    model = _fit_classifier(X, y, loss="log_loss", multi_class="ovr")
    labels, proba = _run(to_onnx(model, X[:1], options={"zipmap": False}), X)
    assert proba.dtype == np.float64
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=1e-12, atol=1e-14)


def test_sparsified_model_converts():
    X, y = _classification_data(2)
    model = _fit_classifier(X, y, penalty="l1", alpha=1e-2).sparsify()
    labels, _ = _run(
        to_onnx(model, X[:1].astype(np.float32), options={"zipmap": False}),
        X.astype(np.float32),
    )
    np.testing.assert_array_equal(labels, model.predict(X))


@pytest.mark.parametrize("loss", ["squared_error", "huber", "epsilon_insensitive"])
def test_regressor_matches_onnxruntime(loss):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 10))
    y = X @ rng.normal(size=10) + 3.0 + 0.1 * rng.normal(size=300)
    model = AdagradRegressor(loss=loss, random_state=0, max_iter=30, tol=None)
    model.fit(X, y)
    (values,) = _run(to_onnx(model, X[:1].astype(np.float32)), X.astype(np.float32))
    assert values.shape == (len(X), 1)
    np.testing.assert_allclose(values[:, 0], model.predict(X), rtol=1e-5, atol=1e-5)
    (exact,) = _run(to_onnx(model, X[:1]), X)
    np.testing.assert_allclose(exact[:, 0], model.predict(X), rtol=1e-12)


def test_pipeline_with_preprocessing():
    X, y = _classification_data(3)
    X = 100.0 * X + 7.0
    pipeline = make_pipeline(
        StandardScaler(), AdagradClassifier(loss="log_loss", random_state=0)
    ).fit(X, y)
    labels, proba = _run(
        to_onnx(pipeline, X[:1].astype(np.float32), options={"zipmap": False}),
        X.astype(np.float32),
    )
    np.testing.assert_array_equal(labels, pipeline.predict(X))
    np.testing.assert_allclose(proba, pipeline.predict_proba(X), atol=PROBA_ATOL)


def test_registration_is_idempotent_and_skl2onnx_entry_point_works():
    from skl2onnx import to_onnx as skl2onnx_to_onnx

    register_onnx_converters()
    register_onnx_converters()
    X = np.random.default_rng(2).normal(size=(50, 4))
    model = AdagradRegressor(random_state=0).fit(X, X.sum(axis=1))
    (values,) = _run(
        skl2onnx_to_onnx(model, X[:1].astype(np.float32)), X.astype(np.float32)
    )
    np.testing.assert_allclose(values[:, 0], model.predict(X), rtol=1e-5, atol=1e-5)


def test_integral_float_labels_become_int64():
    X, codes = _classification_data(3)
    model = _fit_classifier(X, codes.astype(np.float64) * 2.0)
    labels, _ = _run(
        to_onnx(model, X[:1].astype(np.float32), options={"zipmap": False}),
        X.astype(np.float32),
    )
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, model.predict(X))


def test_package_import_does_not_need_skl2onnx():
    code = (
        "import sys, sk_adagrad, sk_adagrad.onnx; "
        "assert 'skl2onnx' not in sys.modules and 'onnx' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_text_pipeline_takes_a_one_dimensional_string_array():
    texts = np.array(
        ["the cat sat on the mat", "dogs bark at night", "a cat and a dog"] * 4
        + ["owls hoot at night"] * 4
    )
    y = np.array([0, 1, 0] * 4 + [1] * 4)
    vectorizer = TfidfVectorizer()
    pipe = make_pipeline(vectorizer, AdagradClassifier(random_state=0)).fit(texts, y)
    onx = to_onnx(
        pipe,
        texts[:1],
        # C.UTF-8 exists on every glibc system; en_US.UTF-8, the default, may not.
        options={id(vectorizer): {"locale": "C.UTF-8"}},
    )
    np.testing.assert_array_equal(_run(onx, texts)[0], pipe.predict(texts))
    with pytest.raises(onnxruntime.capi.onnxruntime_pybind11_state.InvalidArgument):
        _run(onx, texts.reshape(-1, 1))
