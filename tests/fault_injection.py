"""Fault injection at every function of the package that training reaches.

For each scenario (a step path, with or without averaging, and a training
method: ``partial_fit``, a warm-started ``fit`` or a cold ``fit`` over a fitted
model), a traced run of the call lists every function of the package it enters
(methods, module functions, closures, generators, comprehensions, on every
thread) and how many times. Each such function is an *injection point*: a run
makes its k-th call raise, for k = 1, 2 and its last call, with a
``MemoryError``, a ``KeyboardInterrupt`` or a ``RuntimeError``. The exception is
raised by the tracer as the call begins, so it comes from inside the package, on
whichever thread makes the call.

After each injected failure the run checks that the model is bit-identical to
before the call (pickled bytes, the fitted attributes, every array of the
engine's state), that no journal is left open nor any thread left running, that
a second failing call is rolled back as well, and that the next successful call
gives the same model as on an estimator that never failed. A run that finds any
difference counts a corrupted model.

Every injection point is tried with each of its k on every step path; the
averaging, method and exception rotate across the runs, which bounds the
runtime while every combination of them is met somewhere.

Run ``python tests/fault_injection.py`` to print the table of
``docs/reliability.md`` (``--write-docs`` rewrites it there).
"""

import itertools
import os
import pickle
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field, fields

import numpy as np
import scipy.sparse as sp

if __name__ == "__main__":  # the package of this checkout, not an installed one
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sk_adagrad  # noqa: E402
from sk_adagrad import AdagradClassifier, AdagradRegressor, _base, _engine  # noqa: E402

PACKAGE_DIR = os.path.dirname(os.path.abspath(sk_adagrad.__file__))
EXCEPTIONS = (MemoryError, KeyboardInterrupt, RuntimeError)

# Name: (in-place ratio, threads sharing every step or None for one thread).
PATHS = {
    "in-place": (np.inf, None),
    "active-rows": (0.0, None),
    "shared in-place": (np.inf, 3),
    "shared active-rows": (0.0, 3),
}
METHODS = ("partial_fit", "warm fit", "cold fit")

_rng = np.random.default_rng(0)
X = sp.random(24, 30, density=0.2, random_state=0, format="csr")
LABELS = _rng.integers(0, 3, 24)
TARGETS = X @ _rng.normal(size=30) + 0.1 * _rng.normal(size=24)
COMMON = dict(batch_size=6, max_iter=2, tol=None, random_state=0, shuffle=True)


def make_model(averaged):
    """A multinomial classifier with an elastic net, a decaying rate and
    averaging; or a regressor with L1 at a constant rate. Both leave lazy
    penalty steps pending between calls."""
    if averaged:
        return AdagradClassifier(
            loss="log_loss",
            penalty="elasticnet",
            alpha=0.01,
            l1_ratio=0.5,
            lr_decay=0.1,
            average=True,
            **COMMON,
        )
    return AdagradRegressor(penalty="l1", alpha=0.01, **COMMON)


def targets(model):
    return LABELS if isinstance(model, AdagradClassifier) else TARGETS


def call(model, method):
    """The training call of a scenario, on a fitted model."""
    if method == "partial_fit":
        return model.partial_fit(X, targets(model))
    return model.fit(X, targets(model))


@contextmanager
def step_path(name):
    """Step sparse batches on the path ``name`` (as tests/conftest.py does)."""
    ratio, threads = PATHS[name]
    saved = (_engine.IN_PLACE_RATIO, _engine.SHARD_ENTRIES, _base.effective_n_threads)
    _engine.IN_PLACE_RATIO = ratio
    if threads is not None:
        _engine.SHARD_ENTRIES = 1
        _base.effective_n_threads = lambda n_threads: threads
    try:
        yield
    finally:
        _engine.IN_PLACE_RATIO, _engine.SHARD_ENTRIES = saved[:2]
        _base.effective_n_threads = saved[2]


class Tracer:
    """Counts the calls of the package's functions, on every thread, and makes
    the ``k``-th call of ``target`` (a code object) raise ``exception``."""

    def __init__(self, target=None, k=0, exception=None):
        self.target, self.k, self.exception = target, k, exception
        self.counts = {}
        self.fired = False
        self._lock = threading.Lock()

    def _trace(self, frame, event, arg):
        if event != "call":
            return None
        code = frame.f_code
        if code.co_filename.startswith(PACKAGE_DIR):
            with self._lock:
                self.counts[code] = count = self.counts.get(code, 0) + 1
                fire = code is self.target and count == self.k
                self.fired |= fire
            if fire:
                raise self.exception("injected failure")
        return None

    def __enter__(self):
        threading.settrace(self._trace)
        sys.settrace(self._trace)
        return self

    def __exit__(self, *exc_info):
        sys.settrace(None)
        threading.settrace(None)


def point_name(code):
    module = os.path.splitext(os.path.relpath(code.co_filename, PACKAGE_DIR))[0]
    return f"{module}.{code.co_qualname}"


@dataclass
class Scenario:
    path: str
    averaged: bool
    method: str
    fitted: bytes = b""  # the pickled model before the call
    after: bytes = b""  # the pickled model after the call, never failed
    counts: dict = field(default_factory=dict)  # calls per code object

    @property
    def name(self):
        average = "averaged" if self.averaged else "not averaged"
        return f"{self.path}, {average}, {self.method}"

    def prepare(self):
        with step_path(self.path):
            model = make_model(self.averaged)
            model.fit(X, targets(model))
            model.set_params(warm_start=self.method == "warm fit")
            # Through one round trip, as every run starts: unpickled arrays no
            # longer share their dtype objects, which shows in the bytes.
            model = pickle.loads(pickle.dumps(model))
            self.fitted = pickle.dumps(model)
            with Tracer() as tracer:
                call(model, self.method)
            self.counts = tracer.counts
            self.after = pickle.dumps(model)
        return self


def scenarios_of(path):
    return [
        Scenario(path, averaged, method).prepare()
        for averaged, method in itertools.product((False, True), METHODS)
    ]


@dataclass(frozen=True)
class Run:
    scenario: Scenario
    point: object  # a code object
    k: int
    exception: type

    def describe(self):
        return (
            f"{point_name(self.point)} call {self.k} raising "
            f"{self.exception.__name__} ({self.scenario.name})"
        )


def plan(scenarios):
    """The runs for one step path: each injection point with k = 1, 2 and its
    last call, the scenario and exception rotating over the runs."""
    reached = {}
    for scenario in scenarios:
        for code, n_calls in scenario.counts.items():
            reached.setdefault(code, []).append((scenario, n_calls))
    runs = []
    rotation = itertools.count()
    for code in sorted(reached, key=point_name):
        # The last call counts as a third k where there are more than two.
        for least_calls in (1, 2, 3):
            options = [option for option in reached[code] if option[1] >= least_calls]
            if not options:
                continue
            turn = next(rotation)
            scenario, n_calls = options[turn % len(options)]
            k = n_calls if least_calls == 3 else least_calls
            runs.append(Run(scenario, code, k, EXCEPTIONS[turn % len(EXCEPTIONS)]))
    return runs


def state_arrays(model):
    """Every array of the model's engine state, as bytes."""
    state = model.optimizer_.state
    arrays = {}
    for f in fields(state):
        value = getattr(state, f.name)
        if isinstance(value, np.ndarray):
            arrays[f.name] = (value.dtype.str, value.shape, value.tobytes())
    arrays["rate sums"] = state.rate_history.sums.tobytes()
    return arrays


def fitted_attributes(model):
    names = ("coef_", "intercept_", "coef_accumulator_", "intercept_accumulator_")
    return {name: getattr(model, name).tobytes() for name in names} | {
        "t_": model.t_,
        "n_iter_": model.n_iter_,
    }


def check(run):
    """Inject the run's failure; return what went wrong (empty if nothing)."""
    scenario = run.scenario
    problems = []
    model = pickle.loads(scenario.fitted)
    before = (fitted_attributes(model), state_arrays(model))
    engine = model.optimizer_
    threads = threading.active_count()
    with step_path(scenario.path):
        try:
            with Tracer(run.point, run.k, run.exception) as tracer:
                call(model, scenario.method)
        except BaseException as error:
            if not isinstance(error, run.exception):
                problems.append(f"raised {error!r} instead")
        else:
            problems.append("the call swallowed the failure")
        if not tracer.fired:
            return ["the injected call was not reached"]
        if pickle.dumps(model) != scenario.fitted:
            problems.append("pickled model changed")
        if (fitted_attributes(model), state_arrays(model)) != before:
            problems.append("fitted attributes or state arrays changed")
        if engine._journal is not None or model.optimizer_._journal is not None:
            problems.append("journal left open")
        if threading.active_count() != threads:
            problems.append("threads left running")

        # A later call that fails is still rolled back...
        try:
            with Tracer(_engine.SparseAdagrad.step.__code__, 2, RuntimeError):
                call(model, scenario.method)
        except RuntimeError:
            pass
        if pickle.dumps(model) != scenario.fitted:
            problems.append("a second failed call changed the model")
        # ...and the next call trains as if nothing had failed.
        call(model, scenario.method)
        if pickle.dumps(model) != scenario.after:
            problems.append("the next successful call differs")
    return problems


@dataclass
class PathResult:
    path: str
    points: set  # names of the injection points
    runs: int
    corrupted: list  # (run description, problems)


def inject_on_path(path):
    scenarios = scenarios_of(path)
    runs = plan(scenarios)
    corrupted = []
    for run in runs:
        problems = check(run)
        if problems:
            corrupted.append((run.describe(), problems))
    points = {point_name(run.point) for run in runs}
    return PathResult(path, points, len(runs), corrupted)


def table(results):
    lines = [
        "| step path | injection points | runs | corrupted models |",
        "|---|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result.path} | {len(result.points)} | {result.runs} | "
            f"{len(result.corrupted)} |"
        )
    points = set().union(*(result.points for result in results))
    runs = sum(result.runs for result in results)
    corrupted = sum(len(result.corrupted) for result in results)
    lines.append(f"| all paths | {len(points)} distinct | {runs} | {corrupted} |")
    return "\n".join(lines)


DOCS_PAGE = os.path.join(os.path.dirname(PACKAGE_DIR), "docs", "reliability.md")
START, END = "<!-- fault-injection:start -->", "<!-- fault-injection:end -->"


def main(argv):
    results = [inject_on_path(path) for path in PATHS]
    for result in results:
        for description, problems in result.corrupted:
            print(f"CORRUPTED: {description}: {', '.join(problems)}")
    text = table(results)
    print(text)
    if "--write-docs" in argv:
        with open(DOCS_PAGE) as page:
            content = page.read()
        head, rest = content.split(START)
        _, tail = rest.split(END)
        with open(DOCS_PAGE, "w") as page:
            page.write(f"{head}{START}\n{text}\n{END}{tail}")
    return 1 if any(result.corrupted for result in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
