"""Elementwise work over blocks of rows of the engine's ``(n_rows, n_outputs)``
arrays, so that small temporaries stay in cache and are recycled by the
allocator instead of being mapped afresh."""

from ._pages import zeros

# Entries per block, unless a step policy gives another size.
BLOCK_ENTRIES = 32768


def rows_per_block(n_outputs, block_entries=BLOCK_ENTRIES):
    return max(1, block_entries // n_outputs)


def row_blocks(shape, block_entries=BLOCK_ENTRIES):
    """Slices of rows covering an array of ``shape`` in blocks of about
    ``block_entries`` entries."""
    n_rows, n_outputs = shape
    size = rows_per_block(n_outputs, block_entries)
    return [slice(start, start + size) for start in range(0, n_rows, size)]


def by_output(shape, dtype, rows_of, block_entries, small_pages_from):
    """A new ``(n_outputs, n_rows)`` array of ``dtype``, the transpose of the
    ``shape`` array whose rows ``rows`` are ``rows_of(rows)``, filled a block of
    rows at a time: transposing block by block stays in cache where a whole
    transposition does not. The array's memory is mapped as ``_pages.zeros``
    maps it from ``small_pages_from`` bytes."""
    n_rows, n_outputs = shape
    out = zeros((n_outputs, n_rows), dtype, small_pages_from)
    for rows in row_blocks(shape, block_entries):
        out[:, rows] = rows_of(rows).T
    return out
