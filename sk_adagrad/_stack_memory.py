"""Whether a stacked search fits in memory, asked before anything is allocated.

The stack holds, for every feature, one value per column (candidates x folds x
outputs) in each of its per-feature arrays: the weights, their accumulators,
the running sums of the average when averaging, the up-to-date weights read
when models stop, and one array's copy while stopped models' columns are
dropped. Everything else (a batch's margins, the weight matrix) is a small
part of that. The memory available is read as for a single model (``_memory``).
"""

from collections.abc import Callable

import numpy as np

from ._memory import available_bytes, format_bytes


def stack_bytes(n_features: int, n_columns: int, dtype, average: bool) -> int:
    """Bytes of the stack's per-feature arrays at their largest."""
    arrays = 4 + int(bool(average))
    return arrays * n_features * n_columns * np.dtype(dtype).itemsize


def check_stack_fits(
    n_features: int,
    n_columns: int,
    dtype,
    average: bool,
    columns_described: str,
    memory_available: Callable[[], int | None] = available_bytes,
) -> int:
    """Raise ``MemoryError`` saying how to shrink the stack when it would not
    fit in the memory available (what ``memory_available()`` returns, None
    when unknown); return its size in bytes otherwise."""
    needed = stack_bytes(n_features, n_columns, dtype, average)
    available = memory_available()
    if available is not None and needed > available:
        float32 = "" if np.dtype(dtype) == np.float32 else ", float32 input (half)"
        raise MemoryError(
            f"The stacked search needs about {format_bytes(needed)} "
            f"({columns_described} = {n_columns:,} columns over {n_features:,} "
            f"features) and {format_bytes(available)} is available. Shrink it "
            f"with fewer candidates (lr, eps, alpha), fewer folds (cv){float32}, "
            "or fewer features."
        )
    return needed
