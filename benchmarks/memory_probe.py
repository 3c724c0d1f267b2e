"""Peak resident memory of one ``fit`` on data set (a), in a fresh process.

Run by ``python -m benchmarks.run`` as a child process so that nothing else lives in
the interpreter. The child builds ``X``, records its resident set size (RSS),
resets the kernel's high-water mark (``/proc/self/clear_refs``), fits, and
prints one JSON line with the baseline, the peak and the sizes of ``X`` and of
the model, in bytes.

If the high-water mark cannot be reset (non-Linux), the peak is the process
maximum ``ru_maxrss``, which includes building ``X``: an upper bound.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier

from benchmarks import datasets
from sk_adagrad import AdagradClassifier

# Two epochs so that allocations made per epoch, and not freed, show up.
ESTIMATORS = {
    "ours": lambda: AdagradClassifier(max_iter=2, tol=None, random_state=0),
    "sgd": lambda: SGDClassifier(max_iter=2, tol=None, random_state=0),
}


def _status_bytes(field: str) -> int:
    """A ``kB`` field of ``/proc/self/status`` (VmRSS, VmHWM), in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def measure(estimator: str, size: str) -> dict[str, int | bool]:
    """Build data set (a) at ``size``, fit ``estimator``, return memory figures.

    Parameters
    ----------
    estimator : {"ours", "sgd"}
        Key of :data:`ESTIMATORS`.
    size : str
        Key of ``datasets.SIZES``.

    Returns
    -------
    dict
        ``baseline`` (RSS after building X), ``peak`` (RSS high-water mark
        during fit), ``x_bytes``, ``model_bytes`` and ``exact_peak`` (whether
        the high-water mark was reset before fitting).
    """
    X, y = datasets.get_dataset("binary", size)
    model = ESTIMATORS[estimator]()
    gc.collect()
    baseline = _status_bytes("VmRSS")
    exact_peak = _reset_peak()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    if exact_peak:
        peak = _status_bytes("VmHWM")
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    x_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    model_bytes = model.coef_.nbytes + model.intercept_.nbytes
    return {
        "baseline": baseline,
        "peak": peak,
        "x_bytes": x_bytes,
        "model_bytes": model_bytes,
        "exact_peak": exact_peak,
    }


def main() -> None:
    """Command line: ``python -m benchmarks.memory_probe --estimator ours``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--estimator", choices=sorted(ESTIMATORS), default="ours")
    parser.add_argument("--size", default="full")
    args = parser.parse_args()
    print(json.dumps(measure(args.estimator, args.size)))


if __name__ == "__main__":
    main()
