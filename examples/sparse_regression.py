"""Sparse regression: AdagradRegressor against SGDRegressor, Ridge and Lasso.

The data are generated: a sparse random design (each row has a few dozen
nonzero, normally distributed entries), a planted sparse linear model (5% of
the features carry a weight), an intercept and Gaussian noise. Each solver
fits the same two objectives, mean squared error plus

- an L2 penalty: :class:`~sklearn.linear_model.Ridge` solves it exactly (with
  ``alpha * n_samples``, its scale of the same objective);
- an L1 penalty: :class:`~sklearn.linear_model.Lasso` solves it exactly.

``AdagradRegressor`` runs with ``lr=1.0``: the planted weights reach a few
units, and Adagrad's per-coordinate steps shrink as gradients accumulate, so
the default ``lr=0.1`` (tuned on tf-idf text, where weights stay small) would
need many more epochs to get there. ``SGDRegressor`` keeps its defaults.

With L1, the mini-batch solvers keep many small weights away from zero: each
step's noisy gradient pushes rare features past the soft threshold again. The
exact solver's support is much smaller; ``AdagradRegressor`` reaches it too
with full-batch steps (``batch_size >= n_samples``) run to convergence.

The script prints a table of test R^2, fit time, epochs, nonzero weights and
how many of the planted features have a nonzero weight, and draws the R^2 and
fit times as bar charts.

Usage::

    python examples/sparse_regression.py [--small] [--output-dir DIR]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, Ridge, SGDRegressor
from sklearn.metrics import r2_score

from sk_adagrad import AdagradRegressor

PLOT_NAME = "sparse_regression.png"

FULL = dict(n_samples=50_000, n_features=20_000, density=0.002, l2=2.5e-5, l1=3e-4)
# --small: about 20 nonzeros per row, for tests and a first look.
SMALL = dict(n_samples=4_000, n_features=2_000, density=0.01, l2=3e-4, l1=3e-3)
INFORMATIVE_FRACTION = 0.05
WEIGHT_SCALE = 2.0
INTERCEPT = 1.5
NOISE = 0.5
TEST_FRACTION = 0.2


def make_problem(
    n_samples: int, n_features: int, density: float, seed: int = 0
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Sparse design ``X``, targets ``y`` and the planted weights."""
    rng = np.random.default_rng(seed)
    X = sp.random(
        n_samples,
        n_features,
        density=density,
        format="csr",
        random_state=rng,
        data_rvs=rng.standard_normal,
    )
    weights = np.zeros(n_features)
    informative = rng.choice(
        n_features, int(INFORMATIVE_FRACTION * n_features), replace=False
    )
    weights[informative] = WEIGHT_SCALE * rng.standard_normal(len(informative))
    y = X @ weights + INTERCEPT + NOISE * rng.standard_normal(n_samples)
    return X, y, weights


def make_models(l2: float, l1: float, n_train: int) -> dict[str, tuple[str, object]]:
    """``name -> (penalty group, unfitted model)``; within a group every model
    minimises the same objective."""
    l2_group, l1_group = f"L2, alpha={l2:g}", f"L1, alpha={l1:g}"
    return {
        "AdagradRegressor L2": (
            l2_group,
            AdagradRegressor(
                penalty="l2", alpha=l2, lr=1.0, batch_size=256, random_state=0
            ),
        ),
        "SGDRegressor L2": (
            l2_group,
            SGDRegressor(penalty="l2", alpha=l2, random_state=0),
        ),
        "Ridge": (l2_group, Ridge(alpha=l2 * n_train)),
        "AdagradRegressor L1": (
            l1_group,
            AdagradRegressor(
                penalty="l1", alpha=l1, lr=1.0, batch_size=256, random_state=0
            ),
        ),
        "SGDRegressor L1": (
            l1_group,
            SGDRegressor(penalty="l1", alpha=l1, random_state=0),
        ),
        "Lasso": (l1_group, Lasso(alpha=l1)),
    }


def compare(
    models: dict[str, tuple[str, object]],
    X_train,
    y_train: np.ndarray,
    X_test,
    y_test: np.ndarray,
    planted: np.ndarray,
) -> list[dict[str, object]]:
    """Fit each model; return one row of scores per model."""
    rows = []
    for name, (group, model) in models.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            # Iterative solvers stopping at max_iter is part of the comparison.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        fit_seconds = time.perf_counter() - start
        nonzero = np.asarray(model.coef_).ravel() != 0
        # Ridge's direct solvers report no iterations.
        n_iter = getattr(model, "n_iter_", None)
        rows.append(
            {
                "model": name,
                "penalty": group,
                "r2": r2_score(y_test, model.predict(X_test)),
                "fit_time_s": fit_seconds,
                "epochs": None if n_iter is None else int(np.max(n_iter)),
                "nonzero": int(nonzero.sum()),
                "planted_found": int((nonzero & (planted != 0)).sum()),
            }
        )
    return rows


def format_table(rows: list[dict[str, object]], n_planted: int) -> str:
    lines = [
        f"{'model':<22} {'penalty':<18} {'R^2':>7} {'fit s':>7} {'epochs':>7} "
        f"{'nonzero':>8} {f'planted ({n_planted})':>16}"
    ]
    for row in rows:
        epochs = "-" if row["epochs"] is None else row["epochs"]
        lines.append(
            f"{row['model']:<22} {row['penalty']:<18} {row['r2']:>7.4f} "
            f"{row['fit_time_s']:>7.2f} {epochs:>7} {row['nonzero']:>8d} "
            f"{row['planted_found']:>16d}"
        )
    return "\n".join(lines)


def plot_bars(rows: list[dict[str, object]], title: str, path: Path) -> None:
    # A bare Figure on the Agg canvas: no pyplot state, no display needed.
    figure = Figure(figsize=(9, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    r2_axes, time_axes = figure.subplots(1, 2)
    names = [row["model"] for row in rows]
    positions = np.arange(len(rows))
    colors = [
        "tab:blue"
        if "Adagrad" in name
        else "tab:gray"
        if "SGD" in name
        else "tab:green"
        for name in names
    ]
    r2_values = [row["r2"] for row in rows]
    r2_axes.barh(positions, r2_values, color=colors)
    for position, value in zip(positions, r2_values, strict=True):
        r2_axes.text(value, position, f" {value:.3f}", va="center")
    r2_axes.set_xlim(min(0.0, min(r2_values)), 1.15)
    r2_axes.set_xlabel("test R^2 (higher is better)")
    time_axes.barh(positions, [row["fit_time_s"] for row in rows], color=colors)
    time_axes.set_xlabel("fit time (s)")
    for axes in (r2_axes, time_axes):
        axes.set_yticks(positions, names if axes is r2_axes else [""] * len(rows))
        axes.invert_yaxis()
        axes.grid(axis="x", alpha=0.3)
    figure.suptitle(title)
    figure.savefig(path, dpi=110)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--small",
        action="store_true",
        help="a quick run: 4,000 samples and 2,000 features",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("examples/output"),
        help="where to write the plot (default: examples/output)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[dict[str, object]]:
    """Run the comparison; return the results table as a list of dicts.

    Each row has the keys ``model``, ``penalty``, ``r2``, ``fit_time_s``,
    ``epochs`` (None for Ridge), ``nonzero`` and ``planted_found``.
    """
    arguments = parse_arguments(argv)
    settings = SMALL if arguments.small else FULL
    arguments.output_dir.mkdir(parents=True, exist_ok=True)

    X, y, planted = make_problem(
        settings["n_samples"], settings["n_features"], settings["density"]
    )
    n_train = int((1.0 - TEST_FRACTION) * X.shape[0])
    X_train, X_test = X[:n_train], X[n_train:]
    y_train, y_test = y[:n_train], y[n_train:]
    n_planted = int((planted != 0).sum())
    oracle = r2_score(y_test, X_test @ planted + INTERCEPT)
    print(
        f"{X.shape[0]} x {X.shape[1]} sparse design, "
        f"{X.nnz / X.shape[0]:.0f} nonzeros per row, {n_planted} planted weights; "
        f"train {n_train}, test {X.shape[0] - n_train}; "
        f"R^2 of the planted model {oracle:.4f}"
    )

    models = make_models(settings["l2"], settings["l1"], n_train)
    rows = compare(models, X_train, y_train, X_test, y_test, planted)
    print(format_table(rows, n_planted))

    plot_path = arguments.output_dir / PLOT_NAME
    title = (
        f"Sparse regression: {X.shape[0]} x {X.shape[1]}, "
        f"{n_planted} planted weights (planted model R^2 {oracle:.3f})"
    )
    plot_bars(rows, title, plot_path)
    print(f"plot written to {plot_path}")
    return rows


if __name__ == "__main__":
    main()
