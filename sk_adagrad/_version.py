"""The package's version, and what a pickle written by another one raises."""

import warnings

__version__ = "0.1.0"

# The pickled state's entry for the version that wrote it; pickles of versions
# before it was recorded have none.
_VERSION_KEY = "_sk_adagrad_version"
_UNKNOWN_VERSION = "of unknown version (one that did not record it)"


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
            "It may predict or train differently; refit it, or load it with "
            f"sk_adagrad {self.original_version}."
        )


class IncompatiblePickleError(ValueError):
    """Raised when a pickled estimator's layout cannot be read by this version
    of sk_adagrad, naming the version that wrote it and the one reading it."""


class VersionedPickle:
    """Mixin for estimators: a pickle records the version of sk_adagrad that
    wrote it; loading it with another version warns
    (:class:`InconsistentVersionWarning`), and a state whose layout
    :meth:`_unreadable_layout` names raises :class:`IncompatiblePickleError`."""

    def __getstate__(self):
        return super().__getstate__() | {_VERSION_KEY: __version__}

    def __setstate__(self, state):
        state = dict(state)
        written_by = state.pop(_VERSION_KEY, _UNKNOWN_VERSION)
        unreadable = self._unreadable_layout(state)
        if unreadable is not None:
            raise IncompatiblePickleError(
                f"This {type(self).__name__} was pickled by sk_adagrad "
                f"{written_by}, and sk_adagrad {__version__} cannot read its "
                f"layout: {unreadable}. Load it with sk_adagrad {written_by}, or "
                "refit it."
            )
        if written_by != __version__:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    original_version=written_by,
                    current_version=__version__,
                ),
                stacklevel=2,
            )
        super().__setstate__(state)

    def _unreadable_layout(self, state):
        """What this version cannot read in the pickled ``state``, or None."""
        return None
