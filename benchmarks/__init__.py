"""Benchmark suite of sk_adagrad: data generators and the runner."""
