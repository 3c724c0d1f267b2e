"""Threads: how many share the work of a step, the fan-out of a step's shards
to them, and the batch prepared on a second thread while a step runs.

Every call that hands work to a thread returns only once that work has ended,
even when it fails or is interrupted: the caller rolls back the model's state,
which no thread may still be writing.
"""

import os
from concurrent.futures import wait
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
    and the cgroup quota files, which costs as much as a whole step on a small
    ``partial_fit`` chunk."""
    return cpu_count()


def _in_parallel_joblib_worker() -> bool:
    # joblib runs the tasks of a parallel call under a nested backend one
    # level down; a sequential call (n_jobs=1) stays at level 0.
    backend, _ = get_active_backend()
    return getattr(backend, "nesting_level", 0) > 0


def each_shard(pool, function, shards, *args):
    """``[function(shard, index, *args) for each shard]``, the shards after the
    first in ``pool``'s threads when given. Every call has ended when this
    returns or raises, so that a failure never leaves a thread writing state."""
    if pool is None or len(shards) == 1:
        return [function(shard, index, *args) for index, shard in enumerate(shards)]
    futures = [
        pool.submit(function, shard, index, *args)
        for index, shard in enumerate(shards[1:], start=1)
    ]
    try:
        first = function(shards[0], 0, *args)
    finally:
        wait_through_interrupts(futures)
    return [first] + [future.result() for future in futures]


def wait_through_interrupts(futures):
    """Wait for ``futures`` even if interrupted meanwhile, then re-raise the
    interrupt: the caller rolls back state, which the threads must not still be
    writing. Shards take milliseconds, so the interrupt is barely delayed."""
    interrupt = None
    while True:
        try:
            wait(futures)
            break
        except KeyboardInterrupt as caught:
            interrupt = caught
    if interrupt is not None:
        raise interrupt


def prefetched(prepare, batches, pool=None):
    """Yield ``prepare(rows)`` for each ``rows`` of ``batches``, in order, preparing
    the next batch in ``pool``'s threads (on the caller's without one) while the
    caller steps on the current one: gathering rows from a large ``X`` waits on
    memory and releases the GIL, so the two overlap on a second core. One batch
    is prepared at a time."""
    batches = list(batches)
    if pool is None or len(batches) < 2:
        for rows in batches:
            yield prepare(rows)
        return
    pending = pool.submit(prepare, batches[0])
    try:
        for following in batches[1:] + [None]:
            prepared = pending.result()
            if following is not None:
                pending = pool.submit(prepare, following)
            yield prepared
    finally:
        wait([pending])
