"""The elastic-net penalty, applied proximally and caught up lazily in closed form.

The penalty ``l1 |w|_1 + l2 / 2 |w|_2^2`` stays out of the Adagrad accumulator:
after each gradient step, every coordinate takes the proximal step with its own
step size ``s = rate / h`` (``h = sqrt(G) + eps``)::

    |w| <- max(|w| - l1 s, 0) / (1 + l2 s)        (sign kept)

whose fixed point is the exact minimiser of the objective. A coordinate whose
feature is absent from a batch has a frozen ``h``, so the steps it missed compose
in closed form and are applied only when the feature is next needed:

- ``l2 > 0``: with ``r = l1 / l2`` each step maps ``|w| + r`` to
  ``(|w| + r) / (1 + l2 s)`` until ``|w|`` reaches zero, where it stays; over
  ``n`` steps the factor is ``exp(-n log1p(c))``, ``c = l2 lr / h``, at a constant
  rate, and a ratio of Gamma functions with ``lr_decay`` (see ``Schedule``);
- ``l2 = 0``: the shrinkage adds up to ``l1 (C_now - C_then) / h``, ``C`` the
  running sum of the rates.

The same closed forms give the sum of the iterates over the missed steps, which
the running average needs, for every penalty and schedule.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ElasticNet:
    """``l1 |w|_1 + l2 / 2 |w|_2^2``; ``l1 = l2 = 0`` is no penalty. ``l1`` and
    ``l2`` are numbers, or arrays of one value per output (the columns of a
    stacked search) that broadcast over ``(n_rows, n_outputs)`` blocks."""

    l1: float | np.ndarray
    l2: float | np.ndarray

    def __post_init__(self):
        # Which terms are present, asked at every step: answered once here, for
        # numbers and per-output arrays alike.
        object.__setattr__(self, "has_l1", bool(np.any(self.l1)))
        object.__setattr__(self, "has_l2", bool(np.any(self.l2)))

    @classmethod
    def from_params(cls, penalty, alpha: float, l1_ratio: float) -> "ElasticNet":
        ratio = {None: None, "l2": 0.0, "l1": 1.0, "elasticnet": l1_ratio}[penalty]
        if ratio is None:
            return cls(0.0, 0.0)
        return cls(alpha * ratio, alpha * (1.0 - ratio))

    @property
    def is_zero(self) -> bool:
        return not (self.has_l1 or self.has_l2)

    def value(self, W) -> float:
        return self.l1 * np.abs(W).sum() + 0.5 * self.l2 * np.square(W).sum()

    def values_along(self, W, D, steps) -> np.ndarray:
        """``value(W + s D)`` for each ``s`` of ``steps``: the L2 part from three
        sums over the arrays, the L1 part point by point."""
        steps = np.asarray(steps, dtype=np.float64)
        values = np.zeros(len(steps))
        if self.l2:
            squares = np.vdot(W, W) + 2.0 * steps * np.vdot(W, D)
            squares += np.square(steps) * np.vdot(D, D)
            values += 0.5 * self.l2 * squares
        if self.l1:
            values += self.l1 * np.array([np.abs(W + step * D).sum() for step in steps])
        return values

    def prox(self, W, step):
        """One proximal step of size ``step`` (elementwise), in place; ``step``
        may be overwritten."""
        if self.is_zero:
            return W
        if not self.has_l1:
            # In place in ``step``, which the caller no longer needs.
            step *= self.l2
            step += 1.0
            W /= step
            return W
        scaled_step = self.l1 * step
        magnitude = np.abs(W)
        magnitude -= scaled_step
        np.maximum(magnitude, 0.0, out=magnitude)
        if self.has_l2:
            np.multiply(step, self.l2, out=scaled_step)
            scaled_step += 1.0
            magnitude /= scaled_step
        return np.copysign(magnitude, W, out=W)

    def catch_up(self, W, H, last, n_missed, schedule, history, sum_after=None):
        """Apply, in place, the proximal steps that the rows of ``W`` missed.

        Parameters
        ----------
        W, H : ndarray of shape (n_rows, n_outputs)
            Weights as of their last update, and their frozen ``sqrt(G) + eps``.
        last, n_missed : ndarray of shape (n_rows,)
            Step of each row's last update, and how many steps it missed since.
        schedule : Schedule
            Step sizes.
        history : RateHistory
            Running sums of the rates.
        sum_after : ndarray of shape (n_rows,), optional
            When given, also return the sum of the iterates after missed steps
            ``sum_after + 1 ... n_missed`` of each row (for the running average).

        Returns
        -------
        ndarray of shape (n_rows, n_outputs) or None
            The sum of iterates, when ``sum_after`` is given.
        """
        n = n_missed[:, None].astype(np.float64)
        k0 = None if sum_after is None else sum_after[:, None].astype(np.float64)
        if self.is_zero:
            return None if k0 is None else (n - k0) * W
        if not self.has_l1 and k0 is None and schedule.is_constant:
            # Weights only, under L2 at a constant rate: W *= (1 + c lr)^-n with
            # the base rounded in the state's dtype, as a step rounds its
            # divisor, and the power taken in float64 (n is): within an ulp of
            # the steps taken one by one, where a float64 base would drift from
            # float32 steps by up to n ulps. (A float32 power is no cheaper:
            # NumPy's is many times slower than its float64 one.)
            W *= schedule.missed_steps(last, self.l2 / H).product(n)
            return None
        # Otherwise the closed forms run in float64 whatever the state's dtype:
        # in float32, the step at which an L1-shrunk weight reaches zero (a
        # count read off a quotient), the sums of iterates over many steps and
        # the Stirling series of a decayed schedule would lose their agreement
        # with the steps taken one by one; only the caught-up weights (and sums
        # of iterates) are rounded to the state's dtype, by the caller's arrays.
        H = np.asarray(H, dtype=np.float64)
        if not self.has_l2:
            return self._catch_up_l1(W, H, last, n_missed, schedule, history, sum_after)
        return self._catch_up_shrinking(W, H, last[:, None], n, k0, schedule)

    def _catch_up_l1(self, W, H, last, n_missed, schedule, history, sum_after):
        magnitude = np.abs(W)
        total = None
        if sum_after is not None:
            args = (magnitude, H, last, schedule, history)
            total = self._l1_iterate_sum(*args, n_missed)
            if sum_after.any():
                total -= self._l1_iterate_sum(*args, sum_after)
            np.copysign(total, W, out=total)
        # The rates are summed over the window itself: a difference of running
        # sums would lose digits to their size late in training.
        shrink = schedule.window_rate_sum(last[:, None], n_missed[:, None]) / H
        magnitude = np.maximum(magnitude - self.l1 * shrink, 0.0)
        np.copysign(magnitude, W, out=W)
        return total

    def _l1_iterate_sum(self, magnitude, H, last, schedule, history, k):
        # |w_j| = max(|w| - l1 S_j / h, 0), S_j the sum of the first j missed
        # rates, stays positive for the first m steps.
        # An output without the L1 term (alpha = 0 in a stacked search) never
        # reaches zero: an infinite threshold.
        threshold = _quotient(magnitude * H, self.l1, np.inf)
        m = schedule.steps_below(last, threshold, history)
        m = np.clip(m, 0.0, k[:, None])
        partial_sums = schedule.window_rate_sum_of_sums(last[:, None], m)
        return m * magnitude - self.l1 * partial_sums / H

    def _catch_up_shrinking(self, W, H, last, n, k0, schedule):
        # Over n missed steps |w| + r is multiplied by A_n (see Schedule) until |w|
        # reaches zero, after m steps; the iterates sum to (|w| + r) sum_j A_j - m r.
        # An output without the L2 term (alpha = 0) has no L1 term either.
        r = _quotient(self.l1, self.l2, 0.0) if self.has_l1 else 0.0
        steps = schedule.missed_steps(last, self.l2 / H)
        if not np.any(r) and k0 is None:
            W *= steps.product(n)
            return None
        decay_n = steps.product_minus_one(n)
        magnitude = np.abs(W)
        # A_n (|w| + r) - r written as |w| + (A_n - 1)(|w| + r): no cancellation
        # against r, so small weights keep their relative precision.
        shrunk = magnitude + decay_n * (magnitude + r)
        total = None
        if k0 is not None:
            m, decay_m = n, decay_n
            if np.any(r):
                # Coordinates that reach zero stop early: find when, for them only
                # (those already at zero stopped at once).
                reached_zero = shrunk <= 0.0
                if reached_zero.any():
                    m = np.where(reached_zero, 0.0, n)
                    moving = np.nonzero(reached_zero & (magnitude > 0))
                    if moving[0].size:
                        # Read at the moving positions only: elsewhere an
                        # output without the penalty (r = 0) divides by 0.
                        with np.errstate(divide="ignore"):
                            log_threshold = -np.log1p(magnitude / r)
                        m[moving] = steps.steps_above(n, log_threshold, where=moving)
                    decay_m = np.where(
                        reached_zero, steps.product_minus_one(m), decay_n
                    )
            total = (magnitude + r) * steps.product_sum(m, decay_m) - m * r
            if k0.any():
                m0 = np.minimum(m, k0)
                before = steps.product_sum(m0, steps.product_minus_one(m0))
                total -= (magnitude + r) * before - m0 * r
            np.copysign(total, W, out=total)
        if not np.any(r):
            W *= decay_n + 1.0
        else:
            np.copysign(np.maximum(shrunk, 0.0), W, out=W)
        return total


def _quotient(numerator, denominator, where_zero):
    """``numerator / denominator``, and ``where_zero`` where a per-output
    ``denominator`` is 0 (an output without that term)."""
    if not isinstance(denominator, np.ndarray):
        return numerator / denominator
    shape = np.broadcast_shapes(np.shape(numerator), denominator.shape)
    out = np.full(shape, where_zero)
    return np.divide(numerator, denominator, out=out, where=denominator != 0)
