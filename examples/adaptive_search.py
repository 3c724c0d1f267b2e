"""Successive halving over lr, eps and alpha on a Dask cluster, against the full grid.

Every candidate of a grid search trains to the end, although most are clearly
worse after a fraction of the data or of the epochs. scikit-learn's
``HalvingGridSearchCV`` and ``HalvingRandomSearchCV`` train all candidates on
a small budget, keep the best third, triple their budget, and so on. This
script searches ``lr`` x ``eps`` x ``alpha`` of ``AdagradClassifier`` on the
docstring corpus of :func:`sk_adagrad.datasets.load_docstrings` four ways:

- ``GridSearchCV``, every candidate trained for the full number of epochs;
- ``HalvingGridSearchCV`` with the number of training samples as budget;
- ``HalvingGridSearchCV`` with the number of epochs (``max_iter``) as budget;
- ``HalvingRandomSearchCV`` drawing ``lr``, ``eps`` and ``alpha`` from
  log-uniform ranges, the number of samples as budget.

All four run their fits through joblib's dask backend on a
``distributed.LocalCluster`` of two single-threaded workers (each fit uses one
thread, ``n_threads=1``). A fifth search, dask-ml's ``HyperbandSearchCV``,
draws from the same ranges as the random search and trains its candidates by
``partial_fit`` on the cluster, one row block of a dask array per call; it
holds out part of each block to score on, and its best model is the one
trained in the search (there is no refit). The tf-idf features (unigrams and
bigrams) are computed once from the training documents, which involves no
labels. For each
search the script prints the best parameters, their cross-validated accuracy
(Hyperband: accuracy on its held-out rows), the held-out accuracy of the best
model and the training work: the number of (sample, epoch) visits summed over
every fit, the refit included.
It plots each candidate's cross-validated accuracy against the budget it was
given, for the three halving searches, with the full grid's best as a line.

Usage::

    python examples/adaptive_search.py [--small] [--output-dir DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import dask
import dask.array as da
import joblib
import numpy as np
import scipy.sparse as sp
from dask_ml.model_selection import HyperbandSearchCV
from distributed import Client, LocalCluster
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy.stats import loguniform
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    HalvingRandomSearchCV,
    StratifiedKFold,
    train_test_split,
)

from sk_adagrad import AdagradClassifier
from sk_adagrad.dask import blocks_with_len
from sk_adagrad.datasets import load_docstrings

PLOT_NAME = "adaptive_search.png"
N_SPLITS = 3
FACTOR = 3
# Hyperband's row blocks: one partial_fit call is a pass over one block, less
# the share of its rows held out to score the candidates on.
N_BLOCKS = 6
HELD_OUT = 0.2

FULL = dict(
    max_docs_per_class=80,
    grid={
        "lr": [0.03, 0.1, 0.3, 1.0],
        "eps": [1e-10, 1e-3, 1e-1],
        "alpha": [1e-6, 1e-5, 1e-4],
    },
    epochs=9,
)
# --small: a quick run for tests and a first look.
SMALL = dict(
    max_docs_per_class=30,
    grid={"lr": [0.03, 1.0], "eps": [1e-10, 1e-1], "alpha": [1e-6, 1e-4]},
    epochs=3,
)


def distributions(grid: dict) -> dict:
    """Log-uniform ranges spanning each parameter's grid values."""
    return {name: loguniform(min(values), max(values)) for name, values in grid.items()}


def searches(grid: dict, epochs: int, n_candidates: int) -> dict:
    """The four searches that run through joblib, by name."""
    model = AdagradClassifier(max_iter=epochs, tol=None, n_threads=1, random_state=0)
    cv = StratifiedKFold(n_splits=N_SPLITS, shuffle=True, random_state=0)
    common = dict(cv=cv, scoring="accuracy", n_jobs=-1)
    halving = dict(common, factor=FACTOR, random_state=0)
    return {
        "full grid": GridSearchCV(model, grid, **common),
        "halving, samples": HalvingGridSearchCV(
            model, grid, resource="n_samples", **halving
        ),
        "halving, epochs": HalvingGridSearchCV(
            model,
            grid,
            resource="max_iter",
            min_resources=1,
            max_resources=epochs,
            **halving,
        ),
        "halving random, samples": HalvingRandomSearchCV(
            model,
            distributions(grid),
            n_candidates=n_candidates,
            resource="n_samples",
            **halving,
        ),
    }


def training_work(search, n_samples: int, epochs: int) -> int:
    """(sample, epoch) visits over every fit of ``search``, refit included."""
    fold_share = (N_SPLITS - 1) / N_SPLITS
    resources = search.cv_results_.get("n_resources")
    if resources is None:  # the full grid: every fit on all the samples
        n_fits = len(search.cv_results_["params"]) * N_SPLITS
        work = n_fits * fold_share * n_samples * epochs
    elif search.resource == "max_iter":
        work = sum(N_SPLITS * fold_share * n_samples * r for r in resources)
    else:
        work = sum(N_SPLITS * fold_share * r * epochs for r in resources)
    return int(work + n_samples * epochs)


def row_blocks(X, y):
    """``X`` and ``y`` as dask arrays of ``N_BLOCKS`` row blocks (CSR for X)."""
    bounds = np.linspace(0, X.shape[0], N_BLOCKS + 1).astype(int)
    pairs = list(zip(bounds[:-1], bounds[1:], strict=True))
    X_blocks = [
        da.from_delayed(
            dask.delayed(X[start:stop]),
            shape=(stop - start, X.shape[1]),
            dtype=X.dtype,
            meta=sp.csr_matrix((0, X.shape[1]), dtype=X.dtype),
        )
        for start, stop in pairs
    ]
    return da.concatenate(X_blocks), da.from_array(
        y, chunks=(tuple(np.diff(bounds).tolist()),)
    )


def hyperband(client, X_train, y_train, grid: dict, epochs: int) -> dict:
    """dask-ml's HyperbandSearchCV: each candidate trains by ``partial_fit``
    calls on the cluster, up to ``epochs`` passes over the blocks."""
    search = HyperbandSearchCV(
        AdagradClassifier(n_threads=1, random_state=0),
        distributions(grid),
        max_iter=epochs * N_BLOCKS,
        test_size=HELD_OUT,
        random_state=0,
    )
    X, y = row_blocks(X_train, y_train)
    # dask-ml's search runs as coroutines on the client, where dask.persist
    # refuses the client as the default scheduler but takes its get function;
    # and it calls len() on each block, which SciPy refuses for CSR matrices.
    with dask.config.set(scheduler=client.get):
        search.fit(blocks_with_len(X), y, classes=np.unique(y_train))
    # Each call passes over the training part of one block.
    rows_per_call = X_train.shape[0] * (1 - HELD_OUT) / N_BLOCKS
    calls = sum(
        history[-1]["partial_fit_calls"] for history in search.model_history_.values()
    )
    return {"search": search, "work": int(calls * rows_per_call)}


def plot(results: dict, full_best: float, path: Path) -> None:
    figure = Figure(figsize=(12, 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    halving = [name for name in results if name.startswith("halving")]
    for index, name in enumerate(halving, start=1):
        axes = figure.add_subplot(1, len(halving), index)
        search = results[name]["search"]
        cv_results = search.cv_results_
        resources = np.asarray(cv_results["n_resources"])
        scores = np.asarray(cv_results["mean_test_score"])
        # A candidate is its parameters without the budget (max_iter is one).
        keys = [
            repr(sorted((k, v) for k, v in params.items() if k != search.resource))
            for params in cv_results["params"]
        ]
        for key in dict.fromkeys(keys):
            rows = [i for i, other in enumerate(keys) if other == key]
            axes.plot(resources[rows], scores[rows], "o-", color="tab:blue", alpha=0.4)
        axes.axhline(full_best, color="tab:red", linestyle="--", label="full grid")
        axes.set_xscale("log")
        axes.minorticks_off()
        budgets = sorted(set(resources.tolist()))
        axes.set_xticks(budgets, [f"{budget:,}" for budget in budgets])
        budget = "epochs" if name.endswith("epochs") else "training samples"
        axes.set_xlabel(f"budget per candidate ({budget})")
        axes.set_ylabel("mean CV accuracy")
        work = results[name]["work"] / results["full grid"]["work"]
        axes.set_title(f"{name}\n{work:.0%} of the full grid's training work")
        axes.legend(loc="lower right")
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--small",
        action="store_true",
        help="a quick run: 30 documents per class, 8 candidates",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path(__file__).resolve().parent / "output",
        help="where to write the plot (default: examples/output)",
    )
    args = parser.parse_args(argv)
    config = SMALL if args.small else FULL

    corpus = load_docstrings(max_docs_per_class=config["max_docs_per_class"])
    train_docs, test_docs, y_train, y_test = train_test_split(
        corpus.data,
        corpus.target,
        test_size=0.25,
        stratify=corpus.target,
        random_state=0,
    )
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    X_train = vectorizer.fit_transform(train_docs)
    X_test = vectorizer.transform(test_docs)
    n_samples, epochs = X_train.shape[0], config["epochs"]
    n_candidates = int(np.prod([len(values) for values in config["grid"].values()]))
    print(
        f"{n_samples} training and {len(y_test)} test documents, "
        f"{len(np.unique(y_train))} classes, {n_candidates} candidates, "
        f"{epochs} epochs"
    )

    results = {}
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        with joblib.parallel_backend("dask"):
            for name, search in searches(config["grid"], epochs, n_candidates).items():
                search.fit(X_train, y_train)
                results[name] = {
                    "search": search,
                    "work": training_work(search, n_samples, epochs),
                }
        results["hyperband"] = hyperband(
            client, X_train, y_train, config["grid"], epochs
        )
    for result in results.values():
        search = result["search"]
        result["best_params"] = search.best_params_
        result["best_cv_score"] = search.best_score_
        result["test_accuracy"] = search.best_estimator_.score(X_test, y_test)

    full_work = results["full grid"]["work"]
    print(f"{'search':<26}{'CV acc.':>9}{'test acc.':>11}{'work':>8}  best parameters")
    for name, result in results.items():
        params = ", ".join(
            f"{key}={value:.3g}" for key, value in sorted(result["best_params"].items())
        )
        print(
            f"{name:<26}{result['best_cv_score']:>9.4f}"
            f"{result['test_accuracy']:>11.4f}{result['work'] / full_work:>8.0%}"
            f"  {params}"
        )

    args.output_dir.mkdir(parents=True, exist_ok=True)
    plot_path = args.output_dir / PLOT_NAME
    plot(results, results["full grid"]["best_cv_score"], plot_path)
    print(f"plot written to {plot_path}")
    return {"results": results, "plot_path": plot_path, "n_samples": n_samples}


if __name__ == "__main__":
    main()
