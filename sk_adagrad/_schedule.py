"""The step-size schedule of ``torch.optim.Adagrad``: lr / (1 + (t - 1) lr_decay).

Besides the rate itself, the schedule answers the questions the lazy penalty asks
about coordinates that missed proximal L2 steps ``start + 1, start + 2, ...`` with
a frozen ``h``. Each such step divides ``|w| + l1 / l2`` by ``1 + c rate(j)``,
``c = l2 / h``; write ``A_k`` for the product of the first ``k`` factors
``1 / (1 + c rate(j))``. At a constant rate ``A_k = q^k`` with
``q = 1 / (1 + c lr)``. With decay, ``1 + c rate(j) = (j - 1 + y) / (j - 1 + x)``
with ``x = 1 / lr_decay`` and ``y = (1 + c lr) / lr_decay``, so ``A_k`` is a ratio
of Gamma functions (written with ``betaln``), and so is the sum of the ``A_k``,
because ``Gamma(j + a) / Gamma(j + b)`` telescopes:
``(a - b + 1) sum_{j=p..q} Gamma(j + a) / Gamma(j + b) = F(q + 1) - F(p)`` with
``F(j) = Gamma(j + a) / Gamma(j + b - 1)``.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, digamma


@dataclass(frozen=True)
class Schedule:
    """Global step size at step ``t`` (counted from 1), before the per-coordinate
    Adagrad scaling."""

    lr: float
    lr_decay: float

    def rate(self, t: int) -> float:
        return self.lr / (1.0 + (t - 1) * self.lr_decay)

    def missed_steps(self, start, c):
        """The products ``A_k`` for coordinates last updated at step ``start``
        (broadcastable against ``c``)."""
        if self.lr_decay == 0.0:
            return _ConstantRateSteps(self.lr, c)
        return _DecayedRateSteps(self.lr, self.lr_decay, start, c)


class _ConstantRateSteps:
    def __init__(self, lr, c):
        self.per_step = c * lr
        self.log_step = np.log1p(self.per_step)

    def log_product(self, k):
        return -k * self.log_step

    def product_minus_one(self, k):
        """``A_k - 1``, accurate when ``A_k`` is close to 1."""
        return np.expm1(-k * self.log_step)

    def product_sum(self, k, product_minus_one):
        """``A_1 + ... + A_k = (1 - q^k) / (1 / q - 1)``."""
        with np.errstate(invalid="ignore", divide="ignore"):
            total = -product_minus_one / self.per_step
        return np.where(self.per_step > 0, total, k)

    def steps_above(self, k, log_threshold, where):
        """Largest ``j <= k`` with ``log A_j > log_threshold`` (< 0), at the
        positions ``where`` (an index tuple into the broadcast shape)."""
        k, log_threshold, log_step = _at(where, k, log_threshold, self.log_step)
        with np.errstate(divide="ignore", invalid="ignore"):
            steps = np.ceil(-log_threshold / log_step) - 1.0
        return np.clip(np.nan_to_num(steps, nan=np.inf), 0.0, k)


class _DecayedRateSteps:
    def __init__(self, lr, lr_decay, start, c):
        self.lr, self.lr_decay, self.c = lr, lr_decay, c
        self.start = np.asarray(start, dtype=np.float64)
        self.per_step = c * lr
        self.x = 1.0 / lr_decay
        self.y = (1.0 + self.per_step) / lr_decay

    def log_product(self, k):
        k = np.asarray(k, dtype=np.float64)
        missed = k > 0
        # betaln(a, 0) is infinite; nothing missed is a product of 1.
        safe_k = np.where(missed, k, 1.0)
        log_product = betaln(self.start + self.y, safe_k) - betaln(
            self.start + self.x, safe_k
        )
        return np.where(missed, log_product, 0.0)

    def product_minus_one(self, k):
        return np.expm1(self.log_product(k))

    def product_sum(self, k, product_minus_one=None):
        # With a = start + x and b = start + y the telescoped sum is
        # ((start + k + y) A_{k+1} - (start + y) A_1) / (1 + x - y).
        k = np.asarray(k, dtype=np.float64)
        start, x, y = self.start, self.x, self.y
        after_next = np.exp(self.log_product(k + 1.0))
        first = (start + x) / (start + y)
        denominator = 1.0 - self.per_step / self.lr_decay
        with np.errstate(invalid="ignore", divide="ignore"):
            total = (start + k + y) * after_next - (start + y) * first
            total /= denominator
        # Where 1 + x - y = 0 the terms are (start + x) / (j + start + x): digamma.
        a = start + x
        harmonic = a * (digamma(k + 1.0 + a) - digamma(1.0 + a))
        total = np.where(denominator == 0.0, harmonic, total)
        return np.where(k > 0, total, 0.0)

    def steps_above(self, k, log_threshold, where):
        # A_j decreases in j: binary search for the last j above the threshold.
        k, log_threshold, start, c = _at(where, k, log_threshold, self.start, self.c)
        subset = _DecayedRateSteps(self.lr, self.lr_decay, start, c)
        low, high = np.zeros_like(k), k.copy()
        while np.any(low < high):
            middle = np.ceil((low + high) / 2.0)
            above = subset.log_product(middle) > log_threshold
            low = np.where(above, middle, low)
            high = np.where(above, high, middle - 1.0)
        return low


def _at(where, *arrays):
    """The entries at ``where`` of arrays broadcast together."""
    return [a[where] for a in np.broadcast_arrays(*arrays)]
