"""The step-size schedule of ``torch.optim.Adagrad``: lr / (1 + (t - 1) lr_decay).

Besides the rate itself, the schedule answers the questions the lazy penalty asks
about coordinates that missed proximal L2 steps ``start + 1, start + 2, ...`` with
a frozen ``h``. Each such step divides ``|w| + l1 / l2`` by ``1 + c rate(j)``,
``c = l2 / h``; write ``A_k`` for the product of the first ``k`` factors
``1 / (1 + c rate(j))``. At a constant rate ``A_k = q^k`` with
``q = 1 / (1 + c lr)``. With decay, ``1 + c rate(j) = 1 + d / (a + i)`` for the
``i``-th missed step, with ``a = start + 1 / lr_decay`` and ``d = c lr / lr_decay``,
so ``A_k = (a)_k / (a + d)_k``, a ratio of rising factorials (of Gamma
functions), and the sum of the ``A_k`` telescopes too: with ``e = d - 1``,

    A_1 + ... + A_k = a (1 - R) / e - R,   R = (a)_{k+1} / (a + e)_{k+1}.

The log-ratios ``log (a + d)_k / (a)_k`` are evaluated from Stirling's series
written as differences (``log1p`` and divided differences), so their error is
relative to their own size, whatever ``start`` is; a difference of two
``betaln`` or ``gammaln`` values would instead lose about ``1e-16 a log a``
(``1e-9`` at a million steps), and the sum, a difference of two terms of size
``a``, would lose a further factor ``a / k``.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Schedule:
    """Global step size at step ``t`` (counted from 1), before the per-coordinate
    Adagrad scaling. ``lr`` is a number, or an array of one per output (the
    columns of a stacked search), against which every answer broadcasts."""

    lr: float | np.ndarray
    lr_decay: float

    @property
    def is_constant(self) -> bool:
        """Whether every step has the rate ``lr`` (no decay)."""
        return self.lr_decay == 0.0

    def rate(self, t: int) -> float:
        return self.lr / (1.0 + (t - 1) * self.lr_decay)

    def history_rate(self, t: int) -> float:
        """What the rate history adds at step ``t``: the rate itself, or with
        per-output ``lr`` the rate of ``lr = 1``, of which each output's rates
        are ``lr`` times (see :attr:`history_scale`)."""
        if isinstance(self.lr, np.ndarray):
            return 1.0 / (1.0 + (t - 1) * self.lr_decay)
        return self.rate(t)

    @property
    def history_scale(self):
        """Each output's rates over the history's: 1, or the per-output ``lr``."""
        return self.lr if isinstance(self.lr, np.ndarray) else 1.0

    def window_rate_sum(self, start, k):
        """``S_k``, the sum of the rates of steps ``start + 1 ... start + k``,
        elementwise, accurate whatever ``start`` is."""
        k = np.asarray(k, dtype=np.float64)
        if self.lr_decay == 0.0:
            return k * self.lr
        a = np.asarray(start, dtype=np.float64) + 1.0 / self.lr_decay
        return (self.lr / self.lr_decay) * _harmonic_sum(a, k)

    def window_rate_sum_of_sums(self, start, k):
        """``S_1 + ... + S_k``, elementwise."""
        k = np.asarray(k, dtype=np.float64)
        if self.lr_decay == 0.0:
            return (0.5 * self.lr) * k * (k + 1.0)
        # sum_{i<k} (k - i) / (a + i) = (k + a) sum_{i<k} 1 / (a + i) - k.
        a = np.asarray(start, dtype=np.float64) + 1.0 / self.lr_decay
        return (self.lr / self.lr_decay) * ((k + a) * _harmonic_sum(a, k) - k)

    def steps_below(self, start, threshold, history):
        """For rows last updated at step ``start`` (shape ``(n_rows,)``), how
        many of the following steps keep the sum of their rates below
        ``threshold`` (broadcast against ``start[:, None]``): ``m`` with
        ``S_m < threshold <= S_(m+1)``, from the running sums of the rates in
        ``history`` (a ``RateHistory``) under decay."""
        if self.is_constant:
            return np.ceil(threshold / self.lr) - 1.0
        # Binary search in the increasing running sums of the rates (only where
        # the threshold is about reached can their rounding move m, by one step).
        sums = history.sums
        zero_at = sums[start][:, None] + threshold / self.history_scale
        return np.searchsorted(sums, zero_at, side="left") - start[:, None] - 1.0

    def missed_steps(self, start, c):
        """The products ``A_k`` for coordinates last updated at step ``start``
        (broadcastable against ``c``)."""
        if self.lr_decay == 0.0:
            return _ConstantRateSteps(self.lr, c)
        return _DecayedRateSteps(self.lr, self.lr_decay, start, c)


class _ConstantRateSteps:
    def __init__(self, lr, c):
        self.per_step = c * lr

    @cached_property
    def log_step(self):
        return np.log1p(self.per_step)

    def product(self, k):
        """``A_k = (1 + c lr)^-k``: one ``power`` instead of ``exp`` and ``log1p``,
        rounding ``1 + c lr`` as the step-by-step proximal update does. ``x^0`` is
        exactly 1, so rows that missed no step keep their weights; a ``where=``
        mask to skip them would make the loop several times slower."""
        return np.power(1.0 + self.per_step, -k)

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
        self.a = self.start + 1.0 / lr_decay
        self.d = np.asarray(c, dtype=np.float64) * (lr / lr_decay)

    def log_product(self, k):
        """``log A_k``, elementwise (0 where ``k`` is 0)."""
        k = np.asarray(k, dtype=np.float64)
        log_head, _, a, k = _stirling_head(self.a, k, self.d)
        return log_head - self.d * _log_rising_ratio_over_shift(a, k, self.d)

    def product(self, k):
        return np.exp(self.log_product(k))

    def product_minus_one(self, k):
        return np.expm1(self.log_product(k))

    def product_sum(self, k, product_minus_one=None):
        """``A_1 + ... + A_k``, elementwise (0 where ``k`` is 0)."""
        k = np.asarray(k, dtype=np.float64)
        log_head, head_sum, a, k = _stirling_head(self.a, k, self.d)
        # The identity above, from the end of the head on: R = exp(-e q).
        e = self.d - 1.0
        q = _log_rising_ratio_over_shift(a, k + 1.0, e)
        eq = e * q
        with np.errstate(invalid="ignore", divide="ignore"):
            one_minus_r_over_eq = np.where(eq == 0.0, 1.0, -np.expm1(-eq) / eq)
        tail_sum = a * q * one_minus_r_over_eq - np.exp(-eq)
        tail_sum = np.where(k > 0, tail_sum, 0.0)
        return head_sum + np.exp(log_head) * tail_sum

    def steps_above(self, k, log_threshold, where):
        # A_j decreases in j: binary search for the last j above the threshold.
        k, log_threshold, start, c, lr = _at(
            where, k, log_threshold, self.start, self.c, self.lr
        )
        subset = _DecayedRateSteps(lr, self.lr_decay, start, c)
        low, high = np.zeros_like(k), k.copy()
        while np.any(low < high):
            middle = np.ceil((low + high) / 2.0)
            above = subset.log_product(middle) > log_threshold
            low = np.where(above, middle, low)
            high = np.where(above, high, middle - 1.0)
        return low


# Stirling's series log Gamma(z) = (z - 1/2) log z - z + log(2 pi) / 2 + T(z) with
# T(z) = sum_k B_2k / (2k (2k - 1) z^(2k - 1)); three terms leave an error below
# 1e-15 of the ratios below for z >= _STIRLING_FROM. Below that, steps are taken
# one by one.
_STIRLING_FROM = 50.0
_T1, _T2, _T3 = 1.0 / 12.0, -1.0 / 360.0, 1.0 / 1260.0


def _stirling_head(a, k, d):
    """Take the first missed steps one by one while ``a`` is below the range of
    Stirling's series; return their ``log A``, their sum of ``A_j``, and the
    shifted ``a`` and remaining ``k``."""
    if np.min(a) >= _STIRLING_FROM:
        return 0.0, 0.0, a, k
    a, k, d = np.broadcast_arrays(a, k, d)
    head = np.clip(np.ceil(_STIRLING_FROM - a), 0.0, k)
    log_head = np.zeros(a.shape)
    head_sum = np.zeros(a.shape)
    for i in range(int(head.max())):
        taking = i < head
        log_head[taking] -= np.log1p(d[taking] / (a[taking] + i))
        head_sum[taking] += np.exp(log_head[taking])
    # Where the head took every step, nothing remains; moving a into the range
    # keeps the (unused) series evaluation there finite.
    return log_head, head_sum, np.maximum(a + head, _STIRLING_FROM), k - head


def _harmonic_sum(a, k):
    """``sum_{i<k} 1 / (a + i)``, elementwise: the ``d -> 0`` limit of the
    log-ratio below, after the first terms one by one where ``a`` is small."""
    a, k = np.broadcast_arrays(a, k)
    head_sum = 0.0
    if np.min(a) < _STIRLING_FROM:
        head = np.clip(np.ceil(_STIRLING_FROM - a), 0.0, k)
        head_sum = np.zeros(a.shape)
        for i in range(int(head.max())):
            taking = i < head
            head_sum[taking] += 1.0 / (a[taking] + i)
        a, k = np.maximum(a + head, _STIRLING_FROM), k - head
    return head_sum + _log_rising_ratio_over_shift(a, k, 0.0)


def _log_rising_ratio_over_shift(a, k, d):
    """``log((a + d)_k / (a)_k) / d`` for ``a >= _STIRLING_FROM`` and ``a + d > 0``,
    with a relative error of a few ulps, also as ``d`` goes to 0 (where it
    tends to ``digamma(a + k) - digamma(a)``).

    Stirling's series for ``log Gamma(b + d) - log Gamma(b) - log Gamma(a + d) +
    log Gamma(a)``, ``b = a + k``, regrouped so that no two large terms cancel.
    """
    b = a + k
    a_d = a + d
    b_d = b + d
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = k * np.log1p(d / b)
        ratio -= (a - 0.5) * np.log1p(d * k / (a * b_d))
        ratio /= d
        if not np.all(d):
            # The limit d -> 0 of the two terms above.
            ratio = np.where(d == 0.0, k / (2.0 * a * b), ratio)
        ratio += np.log1p(k / a_d)
    ratio += _stirling_tail_slope(b, b_d)
    ratio -= _stirling_tail_slope(a, a_d)
    return ratio


def _stirling_tail_slope(z, z_d):
    """``(T(z + d) - T(z)) / d`` as a divided difference, from ``z`` and
    ``z_d = z + d``: with ``u = 1 / z_d`` and ``v = 1 / z``, ``(u^m - v^m) / d =
    -u v h_(m-1)``, ``h_j = u^j + u^(j-1) v + ... + v^j``."""
    u = 1.0 / z_d
    v = 1.0 / z
    uv = u * v
    u2 = u * u
    v2 = v * v
    h2 = u2 + uv + v2
    h4 = u2 * h2 + v2 * (uv + v2)
    slope = _T3 * h4
    slope += _T2 * h2
    slope += _T1
    slope *= uv
    return -slope


def _at(where, *arrays):
    """The entries at ``where`` of arrays broadcast together."""
    return [a[where] for a in np.broadcast_arrays(*arrays)]
