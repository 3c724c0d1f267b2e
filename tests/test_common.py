"""scikit-learn's own estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_adagrad import AdagradClassifier, AdagradRegressor


@parametrize_with_checks([AdagradClassifier(), AdagradRegressor()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
