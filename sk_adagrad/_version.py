"""The package's version, and what a pickle written by another one raises."""

__version__ = "0.1.0"


class InconsistentVersionWarning(UserWarning):
    """Warned when an estimator pickled by another version of sk_adagrad is
    loaded, as scikit-learn warns for its own estimators.

    The model loads, but its state may mean something else to this version:
    refit it, or load it with the version that wrote it.

    Parameters
    ----------
    estimator_name : str
        The estimator's class name.
    original_version : str
        The version of sk_adagrad that wrote the pickle.
    current_version : str
        The version of sk_adagrad loading it.
    """

    def __init__(self, *, estimator_name, original_version, current_version):
        self.estimator_name = estimator_name
        self.original_version = original_version
        self.current_version = current_version

    def __str__(self):
        return (
            f"Loading {self.estimator_name} pickled by sk_adagrad "
            f"{self.original_version} with sk_adagrad {self.current_version}. "
            "It may predict or train on differently; refit it, or load it with "
            f"sk_adagrad {self.original_version}."
        )


class IncompatiblePickleError(ValueError):
    """Raised when a pickled estimator's layout cannot be read by this version
    of sk_adagrad, naming the version that wrote it and the one reading it."""
