"""The step-size schedule of ``torch.optim.Adagrad``: lr / (1 + (t - 1) lr_decay)."""

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln


@dataclass(frozen=True)
class Schedule:
    """Global step size at step ``t`` (counted from 1), before the per-coordinate
    Adagrad scaling."""

    lr: float
    lr_decay: float

    def rate(self, t: int) -> float:
        return self.lr / (1.0 + (t - 1) * self.lr_decay)

    def log_shrink_product(self, start, n_steps, l2_over_h):
        """``log prod_j 1 / (1 + l2_over_h * rate(j))`` over steps ``start + 1 ...
        start + n_steps``, elementwise.

        This is the factor by which ``|w| + l1 / l2`` shrinks over missed proximal
        L2 steps taken with a frozen accumulator. At a constant rate it is a power;
        with decay, ``1 + c rate(j) = (j - 1 + y) / (j - 1 + x)`` with
        ``x = 1 / lr_decay`` and ``y = (1 + c lr) / lr_decay``, so the product
        telescopes into a ratio of Gamma functions, written with ``betaln``.
        """
        n_steps = np.asarray(n_steps, dtype=np.float64)
        if self.lr_decay == 0.0:
            return -n_steps * np.log1p(l2_over_h * self.lr)
        x = 1.0 / self.lr_decay
        y = (1.0 + l2_over_h * self.lr) / self.lr_decay
        start = np.asarray(start, dtype=np.float64)
        missed = n_steps > 0
        # betaln(a, 0) is infinite; a coordinate with nothing missed keeps log 1 = 0.
        safe_n = np.where(missed, n_steps, 1.0)
        log_product = betaln(start + y, safe_n) - betaln(start + x, safe_n)
        return np.where(missed, log_product, 0.0)
