"""Model-sized arrays whose memory the system maps a small page at a time, when
each page is first written.

On Linux, NumPy advises the system to back every array of 4 MiB or more with
huge pages (2 MiB each). A step writes only the rows of its active features,
scattered over the whole model, so with huge pages its first writes make the
system map and zero nearly all of the model's memory at once; on a virtual
machine the first touch of a huge page the guest has not used lately costs
milliseconds more, while the host backs it. A 2^20-feature, 55-class model's
first ``partial_fit`` took 3 to 10 seconds that way, against 0.04 with small
pages (docs/performance.md, "Memory pages"). The arrays made here are mapped in
small pages, so that first writes cost in proportion to the rows they reach.
"""

import math
import mmap
import sys

import numpy as np

# Below NumPy's threshold for the advice, arrays come from the heap as before.
HUGE_PAGE_ADVICE_BYTES = 1 << 22


def zeros(
    shape: int | tuple[int, ...],
    dtype,
    small_pages_from: float = HUGE_PAGE_ADVICE_BYTES,
    at_once: bool = False,
) -> np.ndarray:
    """A new C-ordered array of zeros. From ``small_pages_from`` bytes on, on
    Linux, it is mapped privately in small pages, each when first written, or
    all of them now with ``at_once``: for an array about to be written in
    full, one mapping of every page costs less than a fault on each (and,
    for an array read before it is written, two). Below the threshold, or
    with ``small_pages_from=np.inf``, it is ``np.zeros``."""
    dtype = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    n_bytes = math.prod(shape) * dtype.itemsize
    if sys.platform != "linux" or n_bytes < small_pages_from:
        return np.zeros(shape, dtype)
    # Private: a forked process writing its copy of the model must not write
    # this one (an anonymous map is shared by default). Small pages even where
    # the system would give huge ones unasked.
    flags = mmap.MAP_PRIVATE | (mmap.MAP_POPULATE if at_once else 0)
    try:
        memory = mmap.mmap(-1, n_bytes, flags=flags)
    except OSError as error:
        raise MemoryError(
            f"Unable to map {n_bytes:,} bytes for an array of shape {shape} "
            f"and dtype {dtype}: {error.strerror}."
        ) from error
    try:
        memory.madvise(mmap.MADV_NOHUGEPAGE)
    except OSError:
        pass  # a system without huge pages: nothing to opt out of
    return np.ndarray(shape, dtype, buffer=memory)
