"""Smoke tests of examples/grid_search.py, out_of_core.py, sparse_regression.py
and adaptive_search.py.

Each example's main() runs with --small into a temporary directory; the tests
check the plot it writes and that its scores clear floors well above chance.
"""

import functools
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from sk_adagrad.datasets import load_docstrings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Both text examples read the same small corpus (60 documents per class);
# parsing the sources once saves several seconds.
cached_load_docstrings = functools.cache(load_docstrings)


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if hasattr(module, "load_docstrings"):
        module.load_docstrings = cached_load_docstrings
    return module


def assert_is_plot(path):
    assert path.is_file()
    # A real PNG with drawn content, not an empty canvas.
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert path.stat().st_size > 10_000


def test_grid_search(tmp_path, capsys):
    example = load_example("grid_search")
    result = example.main(["--small", "--output-dir", str(tmp_path)])

    assert_is_plot(tmp_path / example.PLOT_NAME)
    assert result["plot_path"] == tmp_path / "grid_search.png"
    table = result["cv_scores"]
    assert table.shape == (len(result["eps"]), len(result["lr"])) == (3, 3)
    assert np.all((table > 0.0) & (table <= 1.0))
    assert result["best_cv_score"] == pytest.approx(table.max())
    best_row, best_column = np.unravel_index(np.argmax(table), table.shape)
    assert result["best_params"] == {
        "lr": result["lr"][best_column],
        "eps": result["eps"][best_row],
    }
    # 55 classes (chance under 0.02); the small run scores 0.406 in
    # cross-validation and 0.486 on the test split (the margins below leave room
    # for other library versions, not for a model that learns less).
    assert result["n_classes"] > 40
    assert result["best_cv_score"] > 0.38
    assert result["test_accuracy"] > 0.46
    printed = capsys.readouterr().out
    assert f"test accuracy {result['test_accuracy']:.4f}" in printed


def test_out_of_core_progressive_validation(tmp_path, capsys):
    example = load_example("out_of_core")
    result = example.main(
        ["--small", "--output-dir", str(tmp_path), "--no-progress-bar"]
    )

    assert_is_plot(tmp_path / "out_of_core.png")
    # 55 sub-packages x 60 documents, streamed in chunks of 250.
    assert result["docs_seen"] == 3300
    assert result["n_chunks"] == 14
    # Every chunk but the first is scored before the model trains on it.
    assert len(result["running_accuracy"]) == result["n_chunks"] - 1
    np.testing.assert_array_equal(
        result["docs_axis"], np.minimum(np.arange(2, 15) * 250, 3300)
    )
    # Four projects; the most frequent (scipy) is about 0.35 of the small
    # stream. The run reaches 0.713 running accuracy, and the model learns
    # as it goes: the last chunks score better than the first.
    assert result["final_running_accuracy"] > 0.69
    assert result["chunk_accuracy"][-4:].mean() > result["chunk_accuracy"][:4].mean()
    model = result["model"]
    assert model.coef_.shape == (4, example.N_FEATURES)
    assert list(model.classes_) == sorted(example.PROJECTS)

    printed = capsys.readouterr().out
    assert printed.count("running accuracy") == result["n_chunks"]
    assert f"progressive accuracy {result['final_running_accuracy']:.4f}" in printed


def test_out_of_core_progress_bar(capsys):
    example = load_example("out_of_core")
    rng = np.random.default_rng(0)
    words = {
        "numpy": "array dtype ndarray",
        "scipy": "sparse matrix solver",
        "sklearn": "estimator fit predict",
        "python": "socket email string",
    }
    labels = rng.choice(example.PROJECTS, size=60)
    documents = [f"{words[label]} text {index}" for index, label in enumerate(labels)]
    chunks = ((documents[i : i + 20], labels[i : i + 20]) for i in range(0, 60, 20))

    result = example.train_on_stream(chunks, example.ChunkProgress(use_bar=True))
    captured = capsys.readouterr()
    # tqdm draws on stderr; nothing goes to stdout line by line.
    assert "60doc" in captured.err and "running=" in captured.err
    assert "chunk " not in captured.out
    assert result["n_chunks"] == 3
    assert result["final_running_accuracy"] == 1.0


def test_project_labels():
    example = load_example("out_of_core")
    assert example.project_of("scipy.sparse") == "scipy"
    assert example.project_of("sklearn") == "sklearn"
    assert example.project_of("email") == "python"


def test_sparse_regression(tmp_path, capsys):
    example = load_example("sparse_regression")
    rows = example.main(["--small", "--output-dir", str(tmp_path)])

    assert_is_plot(tmp_path / "sparse_regression.png")
    scores = {row["model"]: row for row in rows}
    assert set(scores) == {
        "AdagradRegressor L2",
        "SGDRegressor L2",
        "Ridge",
        "AdagradRegressor L1",
        "SGDRegressor L1",
        "Lasso",
    }
    # The planted model explains about 0.93 of the test variance. Measured:
    # Adagrad L2 0.827 (Ridge 0.836), Adagrad L1 0.890 (Lasso 0.897).
    assert scores["AdagradRegressor L2"]["r2"] > 0.80
    assert scores["AdagradRegressor L1"]["r2"] > 0.86
    assert scores["AdagradRegressor L1"]["r2"] > scores["Lasso"]["r2"] - 0.03
    assert scores["AdagradRegressor L2"]["r2"] > scores["Ridge"]["r2"] - 0.03
    for row in rows:
        assert row["fit_time_s"] > 0.0
    # L1 zeroes weights (897 of 2,000 left); the planted features keep theirs
    # (97 of 100 found).
    assert scores["AdagradRegressor L1"]["nonzero"] < 1000
    assert scores["AdagradRegressor L1"]["planted_found"] >= 95
    assert scores["Ridge"]["epochs"] is None
    printed = capsys.readouterr().out
    assert f"{scores['AdagradRegressor L1']['r2']:.4f}" in printed


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_adaptive_search_on_a_local_cluster(tmp_path, capsys):
    example = load_example("adaptive_search")
    outcome = example.main(["--small", "--output-dir", str(tmp_path)])

    assert_is_plot(tmp_path / example.PLOT_NAME)
    results = outcome["results"]
    assert list(results) == [
        "full grid",
        "halving, samples",
        "halving, epochs",
        "halving random, samples",
        "hyperband",
    ]
    full = results["full grid"]
    # 8 candidates x 3 folds, each fit on two thirds of the samples for 3
    # epochs, and the refit on all of them.
    n_samples = outcome["n_samples"]
    assert full["work"] == int(24 * (2 / 3) * n_samples * 3 + n_samples * 3)
    for name, result in results.items():
        # 55 classes: chance is under 0.02. Measured: 0.416 for the full grid
        # and both halvings on samples or epochs, 0.414 for the random halving,
        # 0.385 for hyperband.
        assert result["test_accuracy"] > 0.36, name
        if name != "full grid":
            assert result["work"] < full["work"], name
    # Hyperband's budget is 3 epochs of 6 blocks, one block per partial_fit
    # call on the cluster; its last survivors used all of it.
    calls = results["hyperband"]["search"].cv_results_["partial_fit_calls"]
    assert max(calls) == 18 and min(calls) >= 1
    printed = capsys.readouterr().out
    assert "halving random, samples" in printed
    assert "hyperband" in printed
