"""The step-size schedule of ``torch.optim.Adagrad``: lr / (1 + (t - 1) lr_decay).

Besides the rate itself, the schedule answers the questions the lazy penalty asks
about a coordinate that missed ``n`` proximal L2 steps ``start + 1 ... start + n``
with a frozen ``h``. Each such step divides ``|w| + l1 / l2`` by
``1 + c rate(j)``, ``c = l2 / h``; write ``A_k`` for the product of the first
``k`` factors ``1 / (1 + c rate(j))``. At a constant rate ``A_k`` is a power.
With decay, ``1 + c rate(j) = (j - 1 + y) / (j - 1 + x)`` with ``x = 1 / lr_decay``
and ``y = (1 + c lr) / lr_decay``, so ``A_k`` is a ratio of Gamma functions
(written with ``betaln``), and so is the sum of the ``A_k``, because
``Gamma(j + a) / Gamma(j + b)`` telescopes:
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

    def log_shrink_product(self, start, n_steps, c):
        """``log A_n``, elementwise (0 where ``n_steps`` is 0)."""
        n_steps = np.asarray(n_steps, dtype=np.float64)
        if self.lr_decay == 0.0:
            return -n_steps * np.log1p(c * self.lr)
        x, y = self._gamma_offsets(c)
        start = np.asarray(start, dtype=np.float64)
        missed = n_steps > 0
        # betaln(a, 0) is infinite; nothing missed is a product of 1.
        safe_n = np.where(missed, n_steps, 1.0)
        log_product = betaln(start + y, safe_n) - betaln(start + x, safe_n)
        return np.where(missed, log_product, 0.0)

    def shrink_product_sum(self, start, n_steps, c):
        """``A_1 + ... + A_n``, elementwise, in closed form."""
        n_steps = np.asarray(n_steps, dtype=np.float64)
        per_step = c * self.lr
        if self.lr_decay == 0.0:
            # sum_{j<=n} q^j = (1 - q^n) / (1 / q - 1), q = 1 / (1 + c lr).
            with np.errstate(invalid="ignore", divide="ignore"):
                total = -np.expm1(-n_steps * np.log1p(per_step)) / per_step
            return np.where(per_step > 0, total, n_steps)
        x, y = self._gamma_offsets(c)
        start = np.asarray(start, dtype=np.float64)
        # With a = start + x, b = start + y: A_j = (j - 1 + b) F(j) / F(1) ... and
        # the telescoping sum is ((start + n + y) A_{n+1} - (start + y) A_1) / (1 +
        # x - y), where 1 + x - y = 1 - c lr / lr_decay.
        after_next = np.exp(self.log_shrink_product(start, n_steps + 1.0, c))
        first = (start + x) / (start + y)
        denominator = 1.0 - per_step / self.lr_decay
        with np.errstate(invalid="ignore", divide="ignore"):
            total = (start + n_steps + y) * after_next - (start + y) * first
            total /= denominator
        # Where 1 + x - y = 0 the terms are (start + x) / (j + start + x): digamma.
        a = start + x
        harmonic = a * (digamma(n_steps + 1.0 + a) - digamma(1.0 + a))
        total = np.where(denominator == 0.0, harmonic, total)
        return np.where(n_steps > 0, total, 0.0)

    def steps_above(self, start, n_steps, c, log_threshold):
        """Largest ``k <= n`` with ``log A_k > log_threshold`` (``A_0 = 1``;
        ``log_threshold < 0``), elementwise: how many missed steps leave a
        coordinate nonzero under the elastic net."""
        n_steps = np.asarray(n_steps, dtype=np.float64)
        if self.lr_decay == 0.0:
            with np.errstate(divide="ignore", invalid="ignore"):
                steps = np.ceil(-log_threshold / np.log1p(c * self.lr)) - 1.0
            return np.clip(np.nan_to_num(steps, nan=np.inf), 0.0, n_steps)
        # A_k decreases in k: binary search for the last k above the threshold.
        low = np.zeros(np.broadcast(start, c, log_threshold, n_steps).shape)
        high = np.broadcast_to(n_steps, low.shape).copy()
        while np.any(low < high):
            middle = np.ceil((low + high) / 2.0)
            above = self.log_shrink_product(start, middle, c) > log_threshold
            low = np.where(above, middle, low)
            high = np.where(above, high, middle - 1.0)
        return low

    def _gamma_offsets(self, c):
        return 1.0 / self.lr_decay, (1.0 + c * self.lr) / self.lr_decay
