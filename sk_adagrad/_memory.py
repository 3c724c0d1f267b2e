"""How much memory a model needs, checked before any of it is allocated.

A model of ``n_features x n_outputs`` holds its weights and their Adagrad
accumulators (and, when averaging, the running sums of the average) in its
dtype, plus two small integers per feature (the step each row was last
brought up to date, and the stamp of the journal that saved it). A call on a
fitted model journals every row it touches, so that a failure can be rolled
back: at worst (a step in place, or a change of hyperparameters) a copy of all
the row fields. Without a check, NumPy's allocator finds the shortfall out, or
the operating system, which maps zero-filled arrays lazily, much later.

The memory available is the least of ``MemAvailable`` in ``/proc/meminfo``,
what the control group's limit leaves (cgroup v2 ``memory.max`` minus
``memory.current``, or v1 ``memory.limit_in_bytes`` minus
``memory.usage_in_bytes``) and what the process's address-space limit
(``ulimit -v``) leaves of its virtual memory (``/proc/self/statm``); where
none of these can be read, nothing is checked.
"""

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

try:
    import resource
except ImportError:  # not a Unix system: no address-space limit to read
    resource = None

_MEMINFO = Path("/proc/meminfo")
_CGROUP = Path("/sys/fs/cgroup")
_STATM = Path("/proc/self/statm")
# (limit, usage) files of cgroup v2 and v1.
_CGROUP_FILES = (
    ("memory.max", "memory.current"),
    ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes"),
)
# What the memory available is the least of, as the refusals say.
AVAILABLE_FROM = (
    "the least of the free memory, the control group's limit and the "
    "address-space limit, ulimit -v"
)
# cgroup v1 reports "no limit" as a number near 2**63.
_NO_LIMIT = 2**62


def model_bytes(
    n_features: int, n_outputs: int, dtype=np.float64, averaging: bool = False
) -> int:
    """Bytes of the training state of an ``n_features x n_outputs`` model of
    ``dtype`` (weights, accumulators, running averages when ``averaging``,
    per-feature step and journal stamp), plus the journal's worst case, a
    copy of every row."""
    matrices = 3 if averaging else 2
    entries = int(n_features) * int(n_outputs)
    row_fields = matrices * entries * np.dtype(dtype).itemsize + 8 * int(n_features)
    stamps = 4 * int(n_features)
    return 2 * row_fields + stamps


def address_space_headroom(
    statm: Path = _STATM, limit: int | None = None
) -> int | None:
    """Bytes of virtual memory the process may still map under its
    address-space limit (``limit``, by default its soft ``RLIMIT_AS``), read
    against its size in ``statm``; None without a limit or when unknown."""
    if limit is None:
        if resource is None:
            return None
        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if resource is not None and limit == resource.RLIM_INFINITY:
        return None
    try:
        pages = int(statm.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return max(limit - pages * os.sysconf("SC_PAGE_SIZE"), 0)


def available_bytes(
    meminfo: Path = _MEMINFO,
    cgroup: Path = _CGROUP,
    address_space: Callable[[], int | None] = address_space_headroom,
) -> int | None:
    """Bytes of memory this process can still take, or None when unknown, read
    from the ``meminfo`` file, the control group directory ``cgroup`` and
    ``address_space()``."""
    candidates = [
        _meminfo_available(meminfo),
        _cgroup_headroom(cgroup),
        address_space(),
    ]
    known = [value for value in candidates if value is not None]
    return min(known) if known else None


def check_model_fits(
    n_features: int,
    n_outputs: int,
    dtype=np.float64,
    averaging: bool = False,
    memory_available: Callable[[], int | None] = available_bytes,
) -> None:
    """Raise ``MemoryError`` when :func:`model_bytes` exceeds the memory
    available (what ``memory_available()`` returns), naming the size, the shape
    and what to change; do nothing when it fits or the memory available is
    unknown (None)."""
    needed = model_bytes(n_features, n_outputs, dtype, averaging)
    available = memory_available()
    if available is None or needed <= available:
        return
    dtype = np.dtype(dtype)
    arrays = (
        "weights, Adagrad accumulators and running averages"
        if averaging
        else "weights and Adagrad accumulators"
    )
    fixes = ["fewer features (e.g. HashingVectorizer(n_features=2**20))"]
    if dtype.itemsize > 4:
        fixes.append("float32 input (X.astype(np.float32), half the memory)")
    fixes.append("fewer classes (a classifier has an output per class)")
    if averaging:
        fixes.append("average=False")
    fixes.append("partial_fit on a smaller model")
    raise MemoryError(
        f"This model needs about {format_bytes(needed)}: the {arrays} of "
        f"{n_features:,} features x {n_outputs:,} outputs in {dtype.name}, and "
        f"as much again to roll back a failed call; {format_bytes(available)} of "
        f"memory is available ({AVAILABLE_FROM}). Use {', '.join(fixes[:-1])}, "
        f"or {fixes[-1]}."
    )


def format_bytes(n_bytes) -> str:
    """``n_bytes`` in the largest binary unit that keeps it above one."""
    size = float(n_bytes)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.3g} {unit}"
        size /= 1024
    return f"{size:.3g} TiB"


def _meminfo_available(meminfo):
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_headroom(cgroup):
    for limit_name, usage_name in _CGROUP_FILES:
        try:
            limit = (cgroup / limit_name).read_text().strip()
            usage = int((cgroup / usage_name).read_text())
            limit = None if limit == "max" else int(limit)
        except (OSError, ValueError):
            continue
        if limit is None or limit >= _NO_LIMIT:
            return None
        return max(limit - usage, 0)
    return None
