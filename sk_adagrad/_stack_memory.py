"""Whether a stacked search fits in memory, asked before anything is allocated.

The stack holds, for every feature, one value per column (candidates x folds x
outputs) in each of its per-feature arrays: the weights, their accumulators,
the running sums of the average when averaging, the up-to-date weights read
when models stop, and one array's copy while stopped models' columns are
dropped. Beside it, a stopped model is scored as a plain model of its own
(one at a time), which holds what a single model holds (``_memory``).
Everything else (a batch's margins) is a small part of that. The memory
available is read as for a single model.
"""

from collections.abc import Callable

import numpy as np

from ._memory import AVAILABLE_FROM, available_bytes, format_bytes, model_bytes


def stack_bytes(
    n_features: int, n_columns: int, dtype, average: bool, n_outputs: int = 1
) -> int:
    """Bytes of the stack's per-feature arrays at their largest, and of the
    plain model of ``n_outputs`` outputs that scores a stopped model."""
    arrays = 4 + int(bool(average))
    stack = arrays * n_features * n_columns * np.dtype(dtype).itemsize
    return stack + model_bytes(n_features, n_outputs, dtype)


def check_stack_fits(
    n_features: int,
    n_columns: int,
    dtype,
    average: bool,
    columns_described: str,
    memory_available: Callable[[], int | None] = available_bytes,
    n_outputs: int = 1,
) -> int:
    """Raise ``MemoryError`` saying how to shrink the stack when it would not
    fit in the memory available (what ``memory_available()`` returns, None
    when unknown); return its size in bytes otherwise. ``n_outputs``: the
    outputs of each of its models."""
    needed = stack_bytes(n_features, n_columns, dtype, average, n_outputs)
    available = memory_available()
    if available is not None and needed > available:
        float32 = "" if np.dtype(dtype) == np.float32 else ", float32 input (half)"
        raise MemoryError(
            f"The stacked search needs about {format_bytes(needed)} "
            f"({columns_described} = {n_columns:,} columns over {n_features:,} "
            f"features, and a model to score each) and {format_bytes(available)} "
            f"is available ({AVAILABLE_FROM}). Shrink it "
            f"with fewer candidates (lr, eps, alpha), fewer folds (cv){float32}, "
            "or fewer features."
        )
    return needed
