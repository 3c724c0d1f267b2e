"""How many threads share the work of a step."""

import os
from functools import cache

from joblib import cpu_count

# Sharing a step between two threads is measured on two cores
# (docs/step_paths.md); with more, each step hands over more shards and the
# threads contend for the GIL more, which is not measured, so it is opt-in.
DEFAULT_MAX_THREADS = 2


def effective_n_threads(n_threads: int | None) -> int:
    """``n_threads`` as given, or by default the CPUs this process may use, at
    most ``DEFAULT_MAX_THREADS`` and at most ``OMP_NUM_THREADS`` when that is
    set (joblib sets it to share the CPUs between the workers of a parallel
    grid search, so that they do not oversubscribe)."""
    if n_threads is not None:
        return n_threads
    limit = min(_cpu_count(), DEFAULT_MAX_THREADS)
    try:
        limit = min(limit, int(os.environ.get("OMP_NUM_THREADS", limit)))
    except ValueError:
        pass
    return max(limit, 1)


@cache
def _cpu_count() -> int:
    """The CPUs this process may use, read once: joblib reads the affinity mask
    and the cgroup quota files, which costs a tenth of a millisecond, as much
    as a whole step on a small ``partial_fit`` chunk."""
    return cpu_count()
