"""When a fit stops: scikit-learn SGD's rule, ``n_iter_no_change`` epochs in a
row without an improvement of ``tol`` over the best, where an epoch of the
training objective counts only once the objective has settled.

Adagrad's first steps are about ``lr`` on every coordinate whatever the
feature's scale, so on unscaled features the running objective jumps by tens
of percent from epoch to epoch for a while and reaches a new best only now and
then. Counting those epochs ended such fits while they were still improving
(on raw breast_cancer, digits and wine, docs/defaults.md). An epoch whose
objective moved by more than ``SETTLED_SHARE`` of itself is still on its way;
on a settled objective (every text set) the rule is SGD's, epoch for epoch. A
validation score keeps SGD's rule: its fall is what early stopping watches for.
"""

import math

SETTLED_SHARE = 0.1


class NoImprovement:
    """Count the epochs without improvement of a criterion (lower is better).

    Parameters
    ----------
    tol : float
        The improvement over the best criterion that resets the count.
    n_iter_no_change : int
        The count at which the fit stops.
    settled_only : bool
        Count only epochs whose criterion moved by at most
        ``max(tol, SETTLED_SHARE * |previous|)`` from the previous epoch's.
    """

    def __init__(self, tol: float, n_iter_no_change: int, settled_only: bool):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.settled_only = settled_only
        self.best = math.inf
        self.previous = math.inf
        self.stalled = 0

    def should_stop(self, criterion: float) -> bool:
        """Record an epoch's criterion; True when the fit should stop."""
        if criterion <= self.best - self.tol:
            self.stalled = 0
        elif not self.settled_only or self._settled(criterion):
            self.stalled += 1
        self.best = min(self.best, criterion)
        self.previous = criterion
        return self.stalled >= self.n_iter_no_change

    def _settled(self, criterion):
        moved = abs(criterion - self.previous)
        return moved <= max(self.tol, SETTLED_SHARE * abs(self.previous))
