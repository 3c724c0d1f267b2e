"""What a step that leaves a non-finite number raises, with a message that says
which hyperparameters to change."""

import numpy as np


class DivergenceError(FloatingPointError, ValueError):
    """Raised when a step produces non-finite margins, loss or weights.

    Also a ``ValueError``, as scikit-learn's SGD estimators raise for the same
    situation, so that ``except ValueError`` around a fit catches it.
    """


def divergence_message(t, what, lr, eps):
    """Why step ``t`` failed (``what`` became non-finite) and what to change,
    the step sizes being ``lr`` and ``eps`` now."""
    return (
        f"Adagrad diverged at step {t}: non-finite {what}. Lower `lr` "
        f"(now {_shown(lr)}), or raise `eps` (now {_shown(eps)}) or "
        "`initial_accumulator_value`, or scale the features."
    )


def _shown(value):
    """A hyperparameter in a message: a number, or the range of per-output
    values."""
    if isinstance(value, np.ndarray):
        return f"{value.min():g} to {value.max():g} across the outputs"
    return f"{value:g}"
