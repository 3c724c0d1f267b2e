"""The elastic-net penalty, applied proximally and caught up lazily in closed form.

The penalty ``l1 |w|_1 + l2 / 2 |w|_2^2`` stays out of the Adagrad accumulator:
after each gradient step, every coordinate takes the proximal step with its own
step size ``s = rate / h`` (``h = sqrt(G) + eps``)::

    |w| <- max(|w| - l1 s, 0) / (1 + l2 s)        (sign kept)

whose fixed point is the exact minimiser of the objective. A coordinate whose
feature is absent from a batch has a frozen ``h``, so the steps it missed compose
in closed form and are applied only when the feature is next needed. With
``r = l1 / l2`` each step maps ``|w| + r`` to ``(|w| + r) / (1 + l2 s)`` until
``|w|`` hits zero, where it stays; with ``l2 = 0`` the shrinkage adds up to
``l1 (C_now - C_then) / h`` with ``C`` the running sum of the rates.

``rate_sums[t]`` is that running sum after step ``t`` (``rate_sums[0] = 0``);
``rate_sums_sums[t]`` is the running sum of ``rate_sums``, needed for the sum of
the missed iterates (averaging) under pure L1.
"""

from dataclasses import dataclass

import numpy as np

from ._schedule import Schedule


@dataclass(frozen=True)
class ElasticNet:
    """``l1 |w|_1 + l2 / 2 |w|_2^2``; ``l1 = l2 = 0`` is no penalty."""

    l1: float
    l2: float

    @classmethod
    def from_params(cls, penalty, alpha: float, l1_ratio: float) -> "ElasticNet":
        ratio = {None: None, "l2": 0.0, "l1": 1.0, "elasticnet": l1_ratio}[penalty]
        if ratio is None:
            return cls(0.0, 0.0)
        return cls(alpha * ratio, alpha * (1.0 - ratio))

    @property
    def is_zero(self) -> bool:
        return self.l1 == 0.0 and self.l2 == 0.0

    def value(self, W) -> float:
        return self.l1 * np.abs(W).sum() + 0.5 * self.l2 * np.square(W).sum()

    def prox(self, W, step):
        """One proximal step of size ``step`` (elementwise), in place."""
        if self.is_zero:
            return W
        magnitude = np.abs(W)
        if self.l1:
            magnitude = np.maximum(magnitude - self.l1 * step, 0.0)
        if self.l2:
            magnitude /= 1.0 + self.l2 * step
        np.copysign(magnitude, W, out=W)
        return W

    def catch_up(self, W, H, last, n_missed, schedule: Schedule, rate_sums):
        """Apply, in place, the ``n_missed`` proximal steps that rows of ``W`` missed
        after their last update at step ``last`` (one entry per row)."""
        if self.is_zero:
            return W
        magnitude = np.abs(W)
        if self.l2 == 0.0:
            shrink = (rate_sums[last + n_missed] - rate_sums[last])[:, None] / H
            magnitude = np.maximum(magnitude - self.l1 * shrink, 0.0)
        else:
            r = self.l1 / self.l2
            log_factor = schedule.log_shrink_product(
                last[:, None], n_missed[:, None], self.l2 / H
            )
            magnitude = np.maximum(np.exp(log_factor) * (magnitude + r) - r, 0.0)
        np.copysign(magnitude, W, out=W)
        return W

    def missed_iterate_sum(
        self, W, H, last, n_missed, schedule: Schedule, rate_sums, rate_sums_sums
    ):
        """Sum of the iterates after each of the first ``n_missed`` missed steps
        (``n_missed`` may differ per row), for the running average.

        Exact without penalty, under pure L1 for any schedule, and under L2 or
        elastic net at a constant rate. Under L2 or elastic net with
        ``lr_decay > 0`` the per-step factors are replaced by their geometric mean
        over the window, which keeps the window's endpoint exact and overstates
        the intermediate iterates by a relative ``exp(n (d_1 - d_n) / 4) - 1`` at
        most, ``d_j = log(1 + l2 rate_j / h)`` (the log-factors decrease, so the
        log of the product is convex in the number of steps).
        """
        n = n_missed[:, None].astype(np.float64)
        if self.is_zero:
            return n * W
        magnitude = np.abs(W)
        if self.l2 == 0.0:
            total = self._l1_iterate_sum(
                magnitude, H, last, n_missed, rate_sums, rate_sums_sums
            )
        else:
            total = self._shrinking_sum(magnitude, H, last, n, schedule)
        return np.copysign(total, W)

    def _l1_iterate_sum(self, magnitude, H, last, n_missed, rate_sums, rate_sums_sums):
        # |w_j| = max(|w| - l1 (C[last + j] - C[last]) / h, 0) is positive for the
        # first m steps, m found by binary search in the increasing C.
        start = rate_sums[last][:, None]
        with np.errstate(divide="ignore"):
            zero_at = start + magnitude * H / self.l1
        first_zero = np.searchsorted(rate_sums, zero_at, side="left")
        m = np.clip(first_zero - last[:, None] - 1, 0, n_missed[:, None])
        sums_of_c = rate_sums_sums[last[:, None] + m] - rate_sums_sums[last][:, None]
        return m * (magnitude + self.l1 * start / H) - self.l1 * sums_of_c / H

    def _shrinking_sum(self, magnitude, H, last, n, schedule: Schedule):
        # |w_j| + r = q^j (|w| + r) while positive: a geometric sum up to the step m
        # at which |w_j| reaches zero.
        r = self.l1 / self.l2
        l2_over_h = self.l2 / H
        if schedule.lr_decay == 0.0:
            log_q = -np.log1p(l2_over_h * schedule.lr)
        else:
            log_total = schedule.log_shrink_product(last[:, None], n, l2_over_h)
            log_q = log_total / np.maximum(n, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            if r == 0.0:
                m = n
            else:
                crossing = np.log(r / (magnitude + r)) / log_q
                m = np.clip(np.ceil(crossing) - 1.0, 0.0, n)
                m = np.where(np.isnan(m), n, m)
            geometric = np.exp(log_q) * np.expm1(m * log_q) / np.expm1(log_q)
        geometric = np.where(log_q == 0.0, m, geometric)
        return (magnitude + r) * geometric - m * r
