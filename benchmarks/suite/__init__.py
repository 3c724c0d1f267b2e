"""The speed suite of docs/performance.md, one module per group of rows; run it
with ``python -m benchmarks.run``."""
