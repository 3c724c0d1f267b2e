"""How many threads share the work of a step."""

import os
from functools import cache

from joblib import cpu_count
from joblib.parallel import get_active_backend

# Sharing a step between two threads is measured on two cores
# (docs/step_paths.md); with more, each step hands over more shards and the
# threads contend for the GIL more, which is not measured, so it is opt-in.
DEFAULT_MAX_THREADS = 2


def effective_n_threads(n_threads: int | None) -> int:
    """``n_threads`` as given, or by default the CPUs this process may use, at
    most ``DEFAULT_MAX_THREADS`` and at most ``OMP_NUM_THREADS`` when that is
    set (joblib sets it to share the CPUs between the process workers of a
    parallel grid search, so that they do not oversubscribe). In a worker of
    a parallel joblib call that did not set it (a thread of the threading
    backend), one thread: its siblings are busy on the other cores."""
    if n_threads is not None:
        return n_threads
    limit = min(_cpu_count(), DEFAULT_MAX_THREADS)
    try:
        return max(min(limit, int(os.environ["OMP_NUM_THREADS"])), 1)
    except (KeyError, ValueError):
        pass
    if _in_parallel_joblib_worker():
        return 1
    return max(limit, 1)


@cache
def _cpu_count() -> int:
    """The CPUs this process may use, read once: joblib reads the affinity mask
    and the cgroup quota files, which costs a tenth of a millisecond, as much
    as a whole step on a small ``partial_fit`` chunk."""
    return cpu_count()


def _in_parallel_joblib_worker() -> bool:
    # joblib runs the tasks of a parallel call under a nested backend one
    # level down; a sequential call (n_jobs=1) stays at level 0.
    backend, _ = get_active_backend()
    return getattr(backend, "nesting_level", 0) > 0
