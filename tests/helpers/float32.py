"""What float32 models are checked with: a state all in float32, and tolerances
in units of float32's unit roundoff ``U = 2**-24`` (a float32 fit cannot agree
bit for bit with an oracle that rounds in another order)."""

import numpy as np
from numpy.testing import assert_allclose

U = 2.0**-24


def float32_state(model):
    """The fitted arrays of a model, which must all be float32."""
    state = {
        "coef_": model.coef_,
        "intercept_": model.intercept_,
        "coef_accumulator_": model.coef_accumulator_,
        "intercept_accumulator_": model.intercept_accumulator_,
    }
    for name, value in state.items():
        assert value.dtype == np.float32, name
    return state


def float32_tolerance(n_steps):
    """Relative to the largest weight (or accumulator): each step rounds a
    coordinate about 8 times (the gradient's sum, its square, the accumulator,
    the square root, the step size, the product, the difference, the proximal
    step), each by at most U, and the lazy path rounds in another order (its
    closed-form catch-up takes float64 powers where the eager path rounds every
    step); bounded by 8 U per step. Observed on these problems: at most
    5 U after 27 steps, where the bound is 216 U."""
    return 8 * n_steps * U


def assert_close_in_float32(actual, desired, n_steps, name):
    scale = max(np.abs(desired).max(), np.finfo(np.float32).tiny)
    tolerance = float32_tolerance(n_steps)
    assert_allclose(
        actual, desired, rtol=tolerance, atol=tolerance * scale, err_msg=name
    )
