"""What every benchmark shares: timing over repeats, the rows of a ratio table,
and the speed suite's context (sizes, grids, the data sets built so far)."""

from __future__ import annotations

import gc
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier, SGDRegressor

from benchmarks import corpus, datasets
from sk_adagrad import AdagradClassifier, AdagradRegressor, _defaults

MEGABYTE = 2**20


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------


@dataclass
class Timed:
    """Wall and CPU seconds (of this process, all its threads) of each run of a
    task, and what its last run returned."""

    wall: np.ndarray
    cpu: np.ndarray
    result: object = None

    @property
    def median(self) -> float:
        """The median wall time."""
        return float(np.median(self.wall))

    @property
    def median_cpu(self) -> float:
        return float(np.median(self.cpu))


def interleaved(
    tasks: dict[str, Callable[[], object]],
    repeats: int,
    collect: bool = True,
    keep: Callable[[object], object] = lambda result: result,
) -> dict[str, Timed]:
    """Run each task ``repeats`` times, the tasks interleaved within each repeat
    so that a change of machine load hits them all; ``collect`` runs a full
    garbage collection before each repeat. ``keep`` maps what a run returned to
    what to keep of it (say, a fitted model to its score), outside the clocks
    and before the next run starts; the last run's is kept."""
    wall: dict[str, list[float]] = {name: [] for name in tasks}
    cpu: dict[str, list[float]] = {name: [] for name in tasks}
    last: dict[str, object] = {}
    for _ in range(repeats):
        if collect:
            # A full collection costs ~0.1 s with scikit-learn imported: once
            # per repeat keeps the garbage of earlier runs out of the clocks.
            gc.collect()
        for name, task in tasks.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            result = task()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
            last[name] = keep(result)
            del result
    return {
        name: Timed(np.array(wall[name]), np.array(cpu[name]), last.get(name))
        for name in tasks
    }


def time_interleaved(
    tasks: dict[str, Callable[[], object]], repeats: int
) -> dict[str, np.ndarray]:
    """Wall time of each task, ``repeats`` times, tasks interleaved per repeat."""
    runs = interleaved(tasks, repeats, keep=lambda result: None)
    return {name: run.wall for name, run in runs.items()}


def timed(
    task: Callable[[], object],
    repeats: int,
    keep: Callable[[object], object] = lambda result: result,
) -> Timed:
    """Run one task ``repeats`` times (see :func:`interleaved`)."""
    return interleaved({"task": task}, repeats, collect=False, keep=keep)["task"]


def fit_quietly(model, X, y):
    """``model.fit(X, y)``, a fit that ends short of convergence not warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def fit_task(estimator, X, y, policy=None) -> Callable[[], object]:
    """A task fitting a fresh clone of ``estimator``, whose steps follow the
    step policy ``policy`` when given (ours only)."""

    def fit():
        model = clone(estimator)
        if policy is not None:
            model._step_policy = policy
        return model.fit(X, y)

    return fit


def floor_task(X, n_outputs: int, random_state: int = 0) -> Callable[[], object]:
    """The full-batch floor of one epoch: ``X @ W`` and ``X.T @ R``, K outputs."""
    rng = np.random.default_rng(random_state)
    W = rng.standard_normal((X.shape[1], n_outputs))
    R = rng.standard_normal((X.shape[0], n_outputs))
    return lambda: (X @ W, X.T @ R)


def our_classifier(**params) -> AdagradClassifier:
    """Our classifier with default parameters, one epoch per fit unless given."""
    return AdagradClassifier(
        **{"max_iter": 1, "tol": None, "random_state": 0, **params}
    )


def sgd_classifier(**params) -> SGDClassifier:
    """scikit-learn's SGDClassifier, one epoch per fit unless given."""
    return SGDClassifier(**{"max_iter": 1, "tol": None, "random_state": 0, **params})


def our_regressor(**params) -> AdagradRegressor:
    """Our regressor with default parameters, one epoch per fit unless given."""
    return AdagradRegressor(**{"max_iter": 1, "tol": None, "random_state": 0, **params})


def sgd_regressor(**params) -> SGDRegressor:
    """scikit-learn's SGDRegressor, one epoch per fit unless given."""
    return SGDRegressor(**{"max_iter": 1, "tol": None, "random_state": 0, **params})


def n_outputs(y: np.ndarray) -> int:
    """Outputs of a linear classifier of ``y``: one for two classes, else K."""
    n_classes = len(np.unique(y))
    return 1 if n_classes == 2 else n_classes


# --------------------------------------------------------------------------
# Rows of a ratio table
# --------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table: ``ours`` against ``peer``, one value per repeat.

    ``ratio`` is the median of ``ours / peer`` over repeats; the row passes
    when it is at most ``target``. ``lower_bound`` marks a time to accuracy
    that was not reached: the ratio is then only a lower bound.
    """

    section: str
    name: str
    data: str
    ours_label: str
    ours: np.ndarray
    peer_label: str
    peer: np.ndarray
    target: float | None = None
    unit: str = "s"
    detail: str = ""
    lower_bound: bool = False

    @property
    def ratios(self) -> np.ndarray:
        return np.asarray(self.ours, dtype=float) / np.asarray(self.peer, dtype=float)

    @property
    def ratio(self) -> float:
        return float(np.median(self.ratios))

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        return not self.lower_bound and self.ratio <= self.target


def _format_values(values: np.ndarray, unit: str) -> str:
    """``median [min-max] unit`` (just the value when there is one)."""
    values = np.asarray(values, dtype=float)
    median = f"{np.median(values):.3g}"
    if len(values) == 1:
        return f"{median} {unit}"
    return f"{median} [{values.min():.3g}–{values.max():.3g}] {unit}"


def _format_ratio(row: Row) -> str:
    text = f"{'> ' if row.lower_bound else ''}{row.ratio:.2f}"
    if len(row.ratios) > 1:
        text += f" [{row.ratios.min():.2f}–{row.ratios.max():.2f}]"
    return text


def format_table(rows: list[Row]) -> str:
    """Markdown table of the rows, with numbered footnotes for the details."""
    header = [
        "Section",
        "Row",
        "Data",
        "Ours",
        "Peer",
        "Ratio ours/peer",
        "Target",
        "OK",
        "n",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    notes = []
    for row in rows:
        name = row.name
        if row.detail:
            notes.append(row.detail)
            name += f" [{len(notes)}]"
        status = {True: "yes", False: "**no**", None: "–"}[row.passed]
        cells = [
            row.section,
            name,
            row.data,
            f"{row.ours_label}: {_format_values(row.ours, row.unit)}",
            f"{row.peer_label}: {_format_values(row.peer, row.unit)}",
            _format_ratio(row),
            "–" if row.target is None else f"≤ {row.target:g}",
            status,
            str(len(row.ratios)),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"{number}. {note}" for number, note in enumerate(notes, start=1)]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# The speed suite's context
# --------------------------------------------------------------------------


@dataclass
class Split:
    """A train/test split and a short description of the data set."""

    X_train: object
    X_test: object
    y_train: np.ndarray
    y_test: np.ndarray
    label: str

    @property
    def classes(self) -> np.ndarray:
        return np.unique(self.y_train)


def _nearest_default_first(lrs: tuple[float, ...]) -> tuple[float, ...]:
    """The lr grid ordered by distance to the lr that ``lr='auto'`` gives the
    hinge loss these runs use (in log scale): once a run reaches the target,
    later runs stop as soon as they are slower, so the likely winner goes
    first."""
    default = _defaults.BASE_LR
    return tuple(sorted(lrs, key=lambda lr: abs(np.log(lr / default))))


DATA_LETTERS = {
    "binary": "a",
    "multiclass": "b",
    "text": "c",
    "regression": "d",
    "dense": "e",
    "dense_regression": "e",
}


def shape_label(n_rows: int, n_columns: int) -> str:
    """``500k x 50k``: counts of 10,000 or more in thousands."""
    return " x ".join(
        f"{count / 1000:.0f}k" if count >= 10_000 else str(count)
        for count in (n_rows, n_columns)
    )


@dataclass
class Context:
    """Suite size, repeats, grids, the text corpus (a function returning
    ``(texts, labels)``, the docstring corpus by default), the data sets built
    so far and the curves to plot."""

    size: str = "full"
    repeats: int = 5
    hashed_log2_features: tuple[int, ...] = (16, 20, 24)
    sgd_alphas: tuple[float, ...] = (1e-6, 1e-5, 1e-4, 1e-3)
    our_lrs: tuple[float, ...] = field(
        default_factory=lambda: _nearest_default_first((0.03, 0.1, 0.3, 1.0))
    )
    max_epochs: int = 10
    text_corpus: corpus.TextCorpus = corpus.full_text_corpus
    splits: dict[str, Split] = field(default_factory=dict)
    curves: dict[str, dict] = field(default_factory=dict)

    def data(self, name: str) -> Split:
        """Data set ``name`` of :func:`datasets.get_dataset`, split 80/20, cached."""
        if name not in self.splits:
            if name.endswith("32"):
                base = self.data(name.removesuffix("32"))
                self.splits[name] = Split(
                    base.X_train.astype(np.float32),
                    base.X_test.astype(np.float32),
                    base.y_train,
                    base.y_test,
                    base.label.replace(")", ") float32", 1),
                )
            else:
                X, y = datasets.get_dataset(name, self.size, self.text_corpus)
                label = f"({DATA_LETTERS[name]}) {shape_label(*X.shape)}"
                self.splits[name] = Split(*datasets.split(X, y), label)
        return self.splits[name]

    def size_label(self, name: str) -> str:
        """Label of a data set from its configured size, without building it."""
        params = datasets.SIZES[self.size][name]
        shape = shape_label(params["n_samples"], params["n_features"])
        return f"({DATA_LETTERS[name]}) {shape}"
