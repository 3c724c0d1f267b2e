"""scikit-learn's own estimator checks, with no expected failures.

scikit-learn's tags declare preserved dtypes for transformers only
(``transformer_tags.preserves_dtype``, read by ``check_transformer_preserve_dtypes``)
and ``check_estimators_dtypes`` fits float32 data without looking at the model:
the check that a float32 fit gives a float32 model is ours, in the same spirit.
"""

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_adagrad import (
    AdagradClassifier,
    AdagradClassifierCV,
    AdagradRegressor,
    AdagradRegressorCV,
)


# The searches step full batches: check_sample_weight_equivalence asks that a
# weight of k be k copies of a row, which holds for full-batch steps (as the
# plain estimators' 'auto' batch takes on up to 32 rows); its data for
# estimators with a cv parameter have 45 rows and more.
@parametrize_with_checks(
    [
        AdagradClassifier(),
        AdagradRegressor(),
        AdagradClassifierCV(batch_size=1024),
        AdagradRegressorCV(batch_size=1024),
        AdagradClassifierCV(batch_size=1024, halving=True),
        AdagradRegressorCV(batch_size=1024, halving=True),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "estimator",
    [
        AdagradClassifier(loss="log_loss"),
        AdagradClassifier(loss="modified_huber"),
        AdagradRegressor(),
    ],
    ids=["log_loss", "modified_huber", "regressor"],
)
def test_estimator_preserves_the_float_dtype(estimator, dtype):
    X, y = make_blobs(n_samples=30, centers=3, random_state=0, cluster_std=0.1)
    X = StandardScaler().fit_transform(X).astype(dtype)
    model = estimator.fit(X, y)
    outputs = {
        "coef_": model.coef_,
        "intercept_": model.intercept_,
        "coef_accumulator_": model.coef_accumulator_,
        "intercept_accumulator_": model.intercept_accumulator_,
        "predict": model.predict(X),
    }
    if isinstance(model, AdagradClassifier):
        outputs["decision_function"] = model.decision_function(X)
        outputs["predict_proba"] = model.predict_proba(X)
        outputs.pop("predict")  # labels
    for name, value in outputs.items():
        assert value.dtype == dtype, name
