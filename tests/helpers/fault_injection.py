"""Fault injection at every function of the package that training reaches, and
at every NumPy and SciPy function it calls, on the set-ups users run.

Each *set-up* is an estimator as a user builds it (the default classifier on
binary and on multi-class data, the default regressor, ``log_loss`` with
sample weights, early stopping, averaging in both estimators, the elastic net
under a decaying rate, an L1 regressor), on dense or sparse input, with a step
path (in place or on active rows, on one thread or shared by three), trained
by ``partial_fit``, by a warm-started ``fit`` and by a cold ``fit`` over a
fitted model (early stopping: the two fits). A traced run of each call lists
the *injection points* it reaches, and how many times, on every thread:

- every function of the package it enters (methods, module functions,
  closures, generators, comprehensions): the tracer raises the fault as the
  call begins, from inside the package;
- every NumPy and SciPy function the package calls through its modules'
  namespaces (``np.sqrt`` in ``_step_terms``, ``sp.issparse`` in ``_batches``,
  ``expit`` in ``_losses``, ...): for the run, those names are bound to
  wrappers that raise as the call begins or once it has returned, its
  effects (an ``out=`` array written, say) already made. That is a failure
  part-way through a step, as the package sees one.

A run makes the k-th call of one point raise a ``MemoryError``, a
``KeyboardInterrupt`` or a ``RuntimeError``. Within a set-up every point it
reaches is injected once; k (the first, second or last call), the exception,
the method and, for library calls, before or after the call rotate over the
runs, so that a point reached by several set-ups meets each of them.

After each injected failure the run checks that the model is bit-identical to
before the call (pickled bytes, the fitted attributes, every array of the
engine's state), that no journal is left open nor any thread left running, that
a second failing call is rolled back as well, and that the next successful call
gives the same model as on an estimator that never failed. A run that finds any
difference counts a corrupted model.

Run ``python tests/helpers/fault_injection.py`` to print the table of
``docs/reliability.md`` (``--write-docs`` rewrites it there).
"""

import functools
import inspect
import itertools
import os
import pickle
import sys
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from types import ModuleType

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if __name__ == "__main__":  # this checkout's package (not an installed one), helpers
    sys.path[:0] = [os.path.dirname(TESTS_DIR), TESTS_DIR]

import sk_adagrad  # noqa: E402
from sk_adagrad import AdagradClassifier, AdagradRegressor, _engine  # noqa: E402
from sk_adagrad._base import BaseAdagrad  # noqa: E402
from sk_adagrad._step_policy import StepPolicy  # noqa: E402

from helpers.fitted_models import TRAINING_STATE  # noqa: E402

PACKAGE_DIR = os.path.dirname(os.path.abspath(sk_adagrad.__file__))
EXCEPTIONS = (MemoryError, KeyboardInterrupt, RuntimeError)
METHODS = ("first fit", "first partial_fit", "partial_fit", "warm fit", "cold fit")

# Name: the step policy of the path, on threads sharing every step or as the
# estimator says.
PATHS = {
    "in-place": StepPolicy(in_place_ratio=np.inf),
    "active-rows": StepPolicy(in_place_ratio=0.0),
    "shared in-place": StepPolicy(in_place_ratio=np.inf, shard_entries=1, n_threads=3),
    "shared active-rows": StepPolicy(in_place_ratio=0.0, shard_entries=1, n_threads=3),
}

_rng = np.random.default_rng(0)
N_ROWS = 24
SPARSE_X = sp.random(N_ROWS, 30, density=0.2, random_state=0, format="csr")
DENSE_X = _rng.normal(size=(N_ROWS, 5))
TWO_CLASSES = _rng.integers(0, 2, N_ROWS)
THREE_CLASSES = _rng.integers(0, 3, N_ROWS)
SPARSE_TARGETS = SPARSE_X @ _rng.normal(size=30) + 0.1 * _rng.normal(size=N_ROWS)
DENSE_TARGETS = DENSE_X @ _rng.normal(size=5) + 2.0 + 0.1 * _rng.normal(size=N_ROWS)
WEIGHTS = _rng.uniform(0.5, 2.0, N_ROWS)
# Everything else as the user leaves it; a seed, so that a call repeats.
SEEDED = dict(random_state=0)
FEW_EPOCHS = dict(batch_size=6, max_iter=2, tol=None, **SEEDED)
EARLY = dict(early_stopping=True, validation_fraction=0.25, **SEEDED)


@dataclass(frozen=True)
class SetUp:
    name: str
    estimator: object  # an unfitted estimator, cloned for every run
    X: object
    y: np.ndarray
    sample_weight: np.ndarray | None = None
    path: str = "in-place"
    methods: tuple = METHODS


SET_UPS = [
    SetUp(
        "classifier defaults, binary, dense",
        AdagradClassifier(**SEEDED),
        DENSE_X,
        TWO_CLASSES,
    ),
    SetUp(
        "classifier defaults, multi-class, sparse",
        AdagradClassifier(**SEEDED),
        SPARSE_X,
        THREE_CLASSES,
        path="active-rows",
    ),
    SetUp(
        "classifier log_loss, binary, sample weights, sparse",
        AdagradClassifier(loss="log_loss", **SEEDED),
        SPARSE_X,
        TWO_CLASSES,
        WEIGHTS,
        path="shared active-rows",
    ),
    SetUp(
        # Large steps put most rows beyond the margin by the third epoch: the
        # penalty-free steps then go by the gradient's nonzero entries.
        "classifier hinge, no penalty, multi-class, sparse",
        AdagradClassifier(
            penalty=None, lr=3.0, batch_size=6, max_iter=3, tol=None, **SEEDED
        ),
        SPARSE_X,
        THREE_CLASSES,
        path="shared active-rows",
    ),
    SetUp(
        "classifier multinomial, elastic net, averaged, sparse",
        AdagradClassifier(
            loss="log_loss",
            penalty="elasticnet",
            alpha=0.01,
            l1_ratio=0.5,
            lr_decay=0.1,
            average=True,
            **FEW_EPOCHS,
        ),
        SPARSE_X,
        THREE_CLASSES,
        path="active-rows",
    ),
    SetUp(
        # As above, with the default penalty: the steps' Adagrad part then goes
        # by the gradient's nonzero entries, their proximal part by whole rows.
        "classifier averaged, multi-class, sparse",
        AdagradClassifier(
            average=True,
            alpha=1e-4,
            lr=3.0,
            batch_size=6,
            max_iter=3,
            tol=None,
            **SEEDED,
        ),
        SPARSE_X,
        THREE_CLASSES,
        path="shared in-place",
    ),
    SetUp(
        "classifier early stopping, multi-class, dense",
        AdagradClassifier(**EARLY),
        DENSE_X,
        THREE_CLASSES,
        methods=("first fit", "warm fit", "cold fit"),
    ),
    SetUp(
        "regressor defaults, dense",
        AdagradRegressor(**SEEDED),
        DENSE_X,
        DENSE_TARGETS,
        path="shared in-place",
    ),
    SetUp(
        "regressor L1, sparse",
        AdagradRegressor(penalty="l1", alpha=0.01, **FEW_EPOCHS),
        SPARSE_X,
        SPARSE_TARGETS,
        path="in-place",
    ),
    SetUp(
        "regressor averaged, sample weights, sparse",
        AdagradRegressor(average=True, **FEW_EPOCHS),
        SPARSE_X,
        SPARSE_TARGETS,
        WEIGHTS,
        path="active-rows",
    ),
    SetUp(
        "regressor early stopping, sparse",
        AdagradRegressor(**EARLY),
        SPARSE_X,
        SPARSE_TARGETS,
        path="shared active-rows",
        methods=("first fit", "warm fit", "cold fit"),
    ),
]


def call(model, set_up, method):
    """The training call of a scenario: ``method`` ("first fit", "first
    partial_fit", "partial_fit", "warm fit" or "cold fit") without its
    "first", on a model fitted unless it says "first"."""
    kwargs = dict(sample_weight=set_up.sample_weight)
    if method.endswith("partial_fit"):
        train = model.partial_fit
        if isinstance(model, AdagradClassifier):
            kwargs["classes"] = np.unique(set_up.y)
    else:
        train = model.fit
    with warnings.catch_warnings():
        # Tiny data: the convergence warnings say so, and are not what is tested.
        warnings.simplefilter("ignore")
        return train(set_up.X, set_up.y, **kwargs)


@contextmanager
def step_path(name):
    """Step sparse batches on the path ``name`` (as tests/conftest.py does)."""
    saved = BaseAdagrad._step_policy
    BaseAdagrad._step_policy = PATHS[name]
    try:
        yield
    finally:
        BaseAdagrad._step_policy = saved


# -- injection points ----------------------------------------------------------------


@dataclass(frozen=True)
class LibraryPoint:
    """A NumPy or SciPy function as a module of the package calls it."""

    module: str  # the package's module, e.g. "_engine"
    function: str  # as the module spells it, e.g. "np.sqrt" or "expit"

    def __str__(self):
        return f"{self.function} in {self.module}"


def point_name(point):
    if isinstance(point, LibraryPoint):
        return str(point)
    module = os.path.splitext(os.path.relpath(point.co_filename, PACKAGE_DIR))[0]
    return f"{module}.{point.co_qualname}"


class Injector:
    """Counts the calls of the injection points, on every thread, and makes the
    ``k``-th call of ``target`` raise ``exception``: before a library call
    when ``after`` is false, once it has returned otherwise. Package functions
    always fail as they begin."""

    def __init__(self, target=None, k=0, exception=None, after=False):
        self.target, self.k, self.exception, self.after = target, k, exception, after
        self.counts = {}
        self.fired = False
        self._lock = threading.Lock()

    def enter(self, point):
        """Count a call of ``point``; return whether it is the one to fail."""
        with self._lock:
            self.counts[point] = count = self.counts.get(point, 0) + 1
            fire = count == self.k and point == self.target
            self.fired |= fire
        return fire

    def fail(self):
        raise self.exception("injected failure")

    def _trace(self, frame, event, arg):
        if event != "call":
            return None
        code = frame.f_code
        if code.co_filename.startswith(PACKAGE_DIR) and self.enter(code):
            self.fail()
        return None

    def __enter__(self):
        # A cached function is reached on its first call only: every traced
        # call starts with the caches empty, so that it is reached each time.
        _clear_package_caches()
        self._unpatch = _patch_library_calls(self)
        threading.settrace(self._trace)
        sys.settrace(self._trace)
        return self

    def __exit__(self, *exc_info):
        sys.settrace(None)
        threading.settrace(None)
        self._unpatch()


class _CountedCall:
    """A library function that reports its calls to an injector; its other
    attributes (a ufunc's ``reduce``, say) are the function's own."""

    def __init__(self, function, point, injector):
        self._function, self._point, self._injector = function, point, injector

    def __call__(self, *args, **kwargs):
        injector = self._injector
        fire = injector.enter(self._point)
        if fire and not injector.after:
            injector.fail()
        result = self._function(*args, **kwargs)
        if fire:
            injector.fail()
        return result

    def __getattr__(self, name):
        return getattr(self._function, name)


class _CountedNamespace(ModuleType):
    """A library module (``np``, ``sp``) whose functions report their calls;
    its types, submodules and constants are the module's own."""

    def __init__(self, library, module, alias, injector):
        super().__init__(library.__name__)
        self._library, self._module, self._alias = library, module, alias
        self._injector = injector

    def __getattr__(self, name):
        value = getattr(self._library, name)
        if not _is_library_function(value):
            return value
        point = LibraryPoint(self._module, f"{self._alias}.{name}")
        counted = _CountedCall(value, point, self._injector)
        setattr(self, name, counted)
        return counted


def _is_library(module_name):
    return module_name.split(".")[0] in ("numpy", "scipy")


def _is_library_function(value):
    if isinstance(value, np.ufunc):
        return True
    return (
        callable(value)
        and not isinstance(value, type)
        and not inspect.ismodule(value)
        and _is_library(getattr(value, "__module__", None) or "")
    )


@functools.cache
def package_modules():
    """The package's modules, by short name: those ``import sk_adagrad``
    loads, which are all that training runs (read once)."""
    names = sorted(
        name
        for name in sys.modules
        if name.startswith("sk_adagrad.") and name.count(".") == 1
    )
    return {name.split(".", 1)[1]: sys.modules[name] for name in names}


@functools.cache
def _cached_functions():
    """The package's functions and methods wrapped by ``functools.cache``."""
    found = []
    for module in package_modules().values():
        for value in vars(module).values():
            members = vars(value).values() if isinstance(value, type) else ()
            for function in (value, *members):
                function = getattr(function, "__func__", function)
                if hasattr(function, "cache_clear"):
                    found.append(function)
    return found


def _clear_package_caches():
    for function in _cached_functions():
        function.cache_clear()


@functools.cache
def _library_bindings():
    """``(module, short name, alias, value)`` of every NumPy or SciPy module
    or function a module of the package holds."""
    found = []
    for short, module in package_modules().items():
        for alias, value in vars(module).items():
            is_module = inspect.ismodule(value) and _is_library(value.__name__)
            if is_module or _is_library_function(value):
                found.append((module, short, alias, value))
    return found


def _patch_library_calls(injector):
    """Bind, in every module of the package, the NumPy and SciPy modules and
    functions it holds to counting wrappers; return the undo."""
    bindings = _library_bindings()
    for module, short, alias, value in bindings:
        if inspect.ismodule(value):
            replacement = _CountedNamespace(value, short, alias, injector)
        else:
            replacement = _CountedCall(value, LibraryPoint(short, alias), injector)
        setattr(module, alias, replacement)

    def unpatch():
        for module, _, alias, value in bindings:
            setattr(module, alias, value)

    return unpatch


# -- scenarios and runs ----------------------------------------------------------------


@dataclass
class Scenario:
    set_up: SetUp
    method: str
    fitted: bytes = b""  # the pickled model before the call
    after: bytes = b""  # the pickled model after the call, never failed
    counts: dict = field(default_factory=dict)  # calls per injection point

    @property
    def name(self):
        return f"{self.set_up.name}, {self.set_up.path}, {self.method}"

    def prepare(self):
        set_up = self.set_up
        with step_path(set_up.path):
            model = clone(set_up.estimator)
            if not self.method.startswith("first"):
                call(model, set_up, "first fit")
            model.set_params(warm_start=self.method == "warm fit")
            # Through one round trip, as every run starts: unpickled arrays no
            # longer share their dtype objects, which shows in the bytes.
            model = pickle.loads(pickle.dumps(model))
            self.fitted = pickle.dumps(model)
            with Injector() as injector:
                call(model, set_up, self.method)
            self.counts = injector.counts
            self.after = pickle.dumps(model)
        return self


def scenarios_of(set_up):
    return [Scenario(set_up, method).prepare() for method in set_up.methods]


@dataclass(frozen=True)
class Run:
    scenario: Scenario
    point: object  # a code object or a LibraryPoint
    k: int
    exception: type
    after: bool  # a library call fails once it has returned

    def describe(self):
        library_call = isinstance(self.point, LibraryPoint)
        when = " after returning" if self.after and library_call else ""
        return (
            f"{point_name(self.point)} call {self.k} raising "
            f"{self.exception.__name__}{when} ({self.scenario.name})"
        )


def reached(scenarios):
    """The injection points the scenarios reach, with the (scenario, number of
    calls) of each scenario that reaches them."""
    points = {}
    for scenario in scenarios:
        for point, n_calls in scenario.counts.items():
            points.setdefault(point, []).append((scenario, n_calls))
    return points


def plan(scenarios, rotation):
    """One run per injection point the scenarios reach, in a stable order;
    ``rotation`` (an iterator of integers shared by the set-ups) turns k over
    the first, second and last call, and the scenario, the exception and
    whether a library call fails before or after it over the runs."""
    points = reached(scenarios)
    runs = []
    for point in sorted(points, key=point_name):
        turn = next(rotation)
        scenario, n_calls = points[point][turn % len(points[point])]
        k = min((1, 2, n_calls)[turn % 3], n_calls)
        exception = EXCEPTIONS[(turn // 3) % len(EXCEPTIONS)]
        runs.append(Run(scenario, point, k, exception, after=turn % 2 == 1))
    return runs


def state_arrays(model):
    """Every array of the model's engine state, as bytes (None unfitted)."""
    if "optimizer_" not in vars(model):
        return None
    state = model.optimizer_.state
    arrays = {}
    for f in fields(state):
        value = getattr(state, f.name)
        if isinstance(value, np.ndarray):
            arrays[f.name] = (value.dtype.str, value.shape, value.tobytes())
    arrays["rate sums"] = state.rate_history.sums.tobytes()
    return arrays


def fitted_attributes(model):
    if "optimizer_" not in vars(model):
        return None
    return {name: np.asarray(getattr(model, name)).tobytes() for name in TRAINING_STATE}


def check(run):
    """Inject the run's failure; return what went wrong (empty if nothing)."""
    scenario = run.scenario
    set_up, method = scenario.set_up, scenario.method
    problems = []
    model = pickle.loads(scenario.fitted)
    before = (fitted_attributes(model), state_arrays(model))
    engine = vars(model).get("optimizer_")
    threads = threading.active_count()
    with step_path(set_up.path):
        try:
            with Injector(run.point, run.k, run.exception, run.after) as injector:
                call(model, set_up, method)
        except BaseException as error:
            if not isinstance(error, run.exception):
                problems.append(f"raised {error!r} instead")
        else:
            problems.append("the call swallowed the failure")
        if not injector.fired:
            return ["the injected call was not reached"]
        if pickle.dumps(model) != scenario.fitted:
            problems.append("pickled model changed")
        if (fitted_attributes(model), state_arrays(model)) != before:
            problems.append("fitted attributes or state arrays changed")
        engines = (engine, vars(model).get("optimizer_"))
        if any(e is not None and e._journal is not None for e in engines):
            problems.append("journal left open")
        if threading.active_count() != threads:
            problems.append("threads left running")

        # A later call that fails is still rolled back (after a step, when it
        # takes two)...
        step = _engine.SparseAdagrad.step.__code__
        try:
            with Injector(step, min(2, scenario.counts[step]), RuntimeError):
                call(model, set_up, method)
        except RuntimeError:
            pass
        if pickle.dumps(model) != scenario.fitted:
            problems.append("a second failed call changed the model")
        # ...and the next call trains as if nothing had failed.
        call(model, set_up, method)
        if pickle.dumps(model) != scenario.after:
            problems.append("the next successful call differs")
    return problems


@dataclass
class SetUpResult:
    set_up: SetUp
    reached: set  # names of the injection points its calls reach
    injected: set  # names of those its runs inject
    runs: int
    corrupted: list  # (run description, problems)

    @property
    def library_points(self):
        return {name for name in self.reached if " in " in name}


def planned_runs(set_ups=SET_UPS):
    """``(scenarios, runs)`` of every set-up, by set-up name. The set-ups
    share the rotation, in the order of SET_UPS."""
    rotation = itertools.count()
    plans = {}
    for set_up in set_ups:
        scenarios = scenarios_of(set_up)
        plans[set_up.name] = (scenarios, plan(scenarios, rotation))
    return plans


def inject(set_up, scenarios, runs):
    corrupted = []
    for run in runs:
        problems = check(run)
        if problems:
            corrupted.append((run.describe(), problems))
    return SetUpResult(
        set_up,
        {point_name(point) for point in reached(scenarios)},
        {point_name(run.point) for run in runs},
        len(runs),
        corrupted,
    )


def table(results):
    lines = [
        "| set-up | step path | points reached | of which NumPy/SciPy calls "
        "| injected | runs | corrupted models |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result.set_up.name} | {result.set_up.path} | "
            f"{len(result.reached)} | {len(result.library_points)} | "
            f"{len(result.injected)} | {result.runs} | {len(result.corrupted)} |"
        )
    reached_points = set().union(*(result.reached for result in results))
    library = set().union(*(result.library_points for result in results))
    injected = set().union(*(result.injected for result in results))
    runs = sum(result.runs for result in results)
    corrupted = sum(len(result.corrupted) for result in results)
    lines.append(
        f"| all set-ups | | {len(reached_points)} distinct | {len(library)} | "
        f"{len(injected)} | {runs} | {corrupted} |"
    )
    return "\n".join(lines)


# The checkout's page, also when the tests run against an installed package.
DOCS_PAGE = os.path.join(os.path.dirname(TESTS_DIR), "docs", "reliability.md")
START, END = "<!-- fault-injection:start -->", "<!-- fault-injection:end -->"


def main(argv):
    plans = planned_runs()
    results = [inject(set_up, *plans[set_up.name]) for set_up in SET_UPS]
    for result in results:
        for description, problems in result.corrupted:
            print(f"CORRUPTED: {description}: {', '.join(problems)}")
    text = table(results)
    print(text)
    if "--write-docs" in argv:
        write_docs(text)
    return 1 if any(result.corrupted for result in results) else 0


def write_docs(text):
    with open(DOCS_PAGE) as page:
        content = page.read()
    head, rest = content.split(START)
    _, tail = rest.split(END)
    with open(DOCS_PAGE, "w") as page:
        page.write(f"{head}{START}\n{text}\n{END}{tail}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
