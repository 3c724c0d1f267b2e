"""Smoke test of the benchmark suite at tiny sizes, and of its data generators."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.linear_model import Ridge

from benchmarks import (
    corpus,
    datasets,
    entry_updates,
    feature_head,
    harness,
    machine,
    pages,
    run,
    size_study,
    step_paths,
    step_profile,
    step_sizing,
    vowpal,
    when_to_use,
)
from benchmarks.suite import page, plot
from sk_adagrad import (
    AdagradClassifier,
    _catch_up,
    _engine,
    _entry_steps,
    _penalty,
    _schedule,
    _step_terms,
)
from sk_adagrad._step_policy import StepPolicy


def _synthetic_corpus(n_documents=600, n_classes=6, seed=0):
    """Labelled documents mixing shared words with words of their class."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, size=n_documents)
    texts = []
    for label in labels:
        shared = rng.integers(0, 200, size=12)
        topical = rng.integers(0, 30, size=6)
        words = [f"common{k}" for k in shared]
        words += [f"topic{label}word{k}" for k in topical]
        texts.append(" ".join(words))
    return texts, np.array([f"module{label}" for label in labels])


def test_rcv1_like_is_deterministic_and_shaped_like_tfidf():
    X, y = datasets.make_rcv1_like(3000, 2000, nnz_per_row=30, random_state=1)
    X_again, y_again = datasets.make_rcv1_like(
        3000, 2000, nnz_per_row=30, random_state=1
    )
    assert sp.isspmatrix_csr(X) and X.dtype == np.float64
    assert (X != X_again).nnz == 0 and np.array_equal(y, y_again)
    assert X.has_canonical_format
    assert 27 <= X.nnz / X.shape[0] <= 33
    np.testing.assert_allclose(sp.linalg.norm(X, axis=1), 1.0)
    assert X.data.min() > 0
    # Zipf frequencies: the most common column is in many more rows than the
    # median column.
    document_frequency = np.bincount(X.indices, minlength=X.shape[1])
    assert document_frequency.max() > 20 * np.median(document_frequency)
    # Balanced before 5% of the labels are redrawn at random.
    assert 0.47 < y.mean() < 0.53

    X32, _ = datasets.make_rcv1_like(
        3000, 2000, nnz_per_row=30, random_state=1, dtype=np.float32
    )
    assert X32.dtype == np.float32
    np.testing.assert_allclose(X32.toarray(), X.toarray(), rtol=1e-6)


def test_multiclass_and_regression_generators():
    X, y = datasets.make_rcv1_like(4000, 1000, nnz_per_row=20, n_classes=20)
    assert set(np.unique(y)) == set(range(20))
    X, y = datasets.make_sparse_regression(2000, 1000, nnz_per_row=20)
    assert X.shape == (2000, 1000) and y.dtype == np.float64
    # A linear response: least squares on X explains most of its variance.
    assert Ridge(alpha=1e-3).fit(X, y).score(X, y) > 0.8
    X, y = datasets.make_dense(1000, 10, task="classification")
    assert X.shape == (1000, 10) and set(np.unique(y)) == {0, 1}
    np.testing.assert_allclose(X.std(axis=0), 1.0)


def test_text_and_hashed_data():
    X, y = corpus.make_tfidf_corpus(text_corpus=_synthetic_corpus)
    assert X.shape[0] == len(y) == 600 and len(np.unique(y)) == 6
    X, y = corpus.make_hashed_batch(
        2**12, n_documents=100, text_corpus=_synthetic_corpus
    )
    assert X.shape == (100, 2**12) and set(np.unique(y)) <= {0, 1}


def test_suite_runs_and_reports_every_row(tmp_path):
    # The synthetic corpus stands in for the docstrings (seconds to parse).
    ctx = harness.Context(
        text_corpus=_synthetic_corpus,
        size="tiny",
        repeats=2,
        hashed_log2_features=(10, 12, 14),
        sgd_alphas=(1e-5, 1e-4),
        our_lrs=(0.1, 0.3),
        max_epochs=3,
    )
    rows = run.run_suite(ctx, verbose=False)

    sections = {row.section for row in rows}
    assert ("Vowpal Wabbit" in sections) == vowpal.available()
    assert sections >= {
        "epoch, multi-class",
        "epoch, binary",
        "time to accuracy",
        "partial_fit, hashed",
        "memory",
        "float32",
        "penalty",
        "epoch, regression",
        "epoch, dense",
    }
    names = [(row.section, row.name, row.data.split()[0]) for row in rows]
    for data in ("(b)", "(c)"):
        for loss in ("log_loss (multinomial)", "hinge (OvR)"):
            for peer in ("SGD", "floor"):
                assert ("epoch, multi-class", f"{loss} vs {peer}", data) in names
    accuracy_rows = [row for row in rows if row.section == "time to accuracy"]
    assert [row.data.split()[0] for row in accuracy_rows] == ["(a)", "(b)", "(c)"]

    for row in rows:
        assert np.all(np.isfinite(row.ours)) and np.all(row.ours >= 0), row
        assert np.all(np.isfinite(row.peer)) and np.all(row.peer > 0), row
        assert np.isfinite(row.ratio), row
        if row.unit == "s" and row.section != "time to accuracy":
            assert len(row.ours) == len(row.peer) == 2, row

    table = harness.format_table(rows)
    assert table.count("\n| ") == len(rows)  # one line per row after the header
    text = page.render_page(rows, machine.machine_info(), "python -m benchmarks.run")
    assert text.startswith("# Performance\n") and table in text

    assert set(ctx.curves) == {"binary", "multiclass", "text"}
    plot_file = tmp_path / "plot.png"
    plot.plot_time_to_accuracy(ctx.curves, plot_file)
    assert plot_file.read_bytes().startswith(b"\x89PNG")


def test_harness_runs_every_task_each_repeat_and_keeps_the_last_result():
    calls = []

    def task(name):
        return lambda: calls.append(name) or len(calls)

    runs = harness.interleaved(
        {"a": task("a"), "b": task("b")}, 3, keep=lambda count: 10 * count
    )
    assert calls == ["a", "b"] * 3  # interleaved, repeat by repeat
    assert runs["a"].result == 50 and runs["b"].result == 60
    for run_ in runs.values():
        assert len(run_.wall) == len(run_.cpu) == 3
        assert np.all(run_.wall >= 0) and run_.median == np.median(run_.wall)
    assert harness.timed(lambda: "fitted", 2).result == "fitted"
    assert list(harness.time_interleaved({"a": task("a")}, 2)["a"].shape) == [2]


def test_pages_replace_a_marked_block_or_a_section(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("a\n<!-- start -->old<!-- end -->\nz\n")
    pages.replace_between(page, "<!-- start -->", "<!-- end -->", "\nnew\n")
    assert page.read_text() == "a\n<!-- start -->\nnew\n<!-- end -->\nz\n"
    with pytest.raises(ValueError, match="no <!-- begin --> ... <!-- end -->"):
        pages.replace_between(page, "<!-- begin -->", "<!-- end -->", "x")

    page.write_text("# Title\n\n## A\nold\n\n## B\nb\n")
    pages.replace_section(page, "## A", "## A\nnew\n")
    assert page.read_text() == "# Title\n\n## A\nnew\n\n## B\nb\n"
    assert pages.find_section(page, "## A") == "## A\nnew\n"
    pages.replace_section(page, "## C", "## C\nc")
    assert page.read_text().endswith("\n## B\nb\n\n## C\nc\n")
    assert pages.find_section(page, "## D") == ""

    # A page rewritten whole keeps the sections other studies wrote into it.
    pages.write_keeping_sections(page, "# Title\n\n## A\nrewritten\n")
    assert page.read_text() == "# Title\n\n## A\nrewritten\n\n## B\nb\n\n## C\nc\n"


def test_step_paths_times_both_paths_and_leaves_the_estimators_policy():
    sizes = dict(repeats=1, n_samples=3000, feature_counts=(500, 400_000))
    rows = step_paths.measure(**sizes)
    thread_rows = step_paths.measure_threads(**sizes)
    assert AdagradClassifier._step_policy == StepPolicy()
    assert len(rows) == len(thread_rows) == 2 * len(step_paths.CLASS_COUNTS)
    for row in rows:
        assert row["active rows"] > 0 and row["in place"] > 0
        assert 0 < row["active"] <= 1
    for row in thread_rows:
        assert row["one thread"] > 0 and row["two threads"] > 0
    # About 80k entries per batch: in place for 500 features, on the active rows
    # for 400k features and 20 classes.
    picked = {(row["classes"], row["features"]): row for row in rows}
    assert picked[(2, 500)]["picked"] == "in place"
    assert picked[(2, 500)]["step_entries"] == 500
    assert picked[(20, 400_000)]["picked"] == "active rows"
    page = step_paths.render_page(rows, thread_rows, repeats=1, n_samples=3000)
    assert page.count("\n| ") == len(rows) + len(thread_rows) + 2


def _split_case(name, kind, X, y):
    half = len(y) // 2
    return size_study.Case(name, kind, lambda: (X[:half], X[half:], y[:half], y[half:]))


def test_size_study_rows_compare_every_model_on_the_same_split():
    rng = np.random.default_rng(0)
    X = sp.random(400, 300, density=0.05, random_state=0, format="csr")
    y = np.asarray(X @ rng.normal(size=(300, 3))).argmax(axis=1)
    text_rows = size_study.run_case(_split_case("tiny text", "text", X, y), 1)
    assert [row["loss"] for row in text_rows] == ["hinge", "log_loss"]
    hinge = text_rows[0]
    for model in ("ours", "sgd", "dummy", "reference", "ours1"):
        assert 0.0 <= hinge[model].score <= 1.0 and hinge[model].seconds >= 0
    assert ("vw1" in hinge) == vowpal.available()
    regression = size_study.run_case(
        _split_case(
            "tiny regression", "regression", X.toarray(), X @ rng.normal(size=300)
        ),
        1,
    )
    assert [row["loss"] for row in regression] == ["squared_error"]
    lines = size_study.HEADER.splitlines() + [
        size_study.format_row(row) for row in text_rows + regression
    ]
    assert len({line.count("|") for line in lines}) == 1


def test_step_sizing_fits_each_distinct_step_of_the_rules_once_per_loss():
    # Short rows (3 nonzeros): the work rules give them larger steps.
    rng = np.random.default_rng(0)
    X = sp.random(1000, 300, density=0.01, random_state=0, format="csr")
    y = (np.asarray(X @ rng.normal(size=300)) > 0).astype(int)
    rows = step_sizing.run_case(_split_case("tiny short", "text", X, y), (0, 1))
    assert [row["loss"] for row in rows] == ["hinge", "log_loss"]
    sizes = rows[0]["sizes"]
    assert sizes[step_sizing.ROWS_ONLY] == 32
    assert all(size > 32 for rule, size in sizes.items() if rule.min_entries)
    assert set(rows[0]["fits"]) == {"SGD", *sizes.values()}
    for fits in rows[0]["fits"].values():
        assert 0.0 <= fits.score <= 1.0 and fits.cpu >= 0 and fits.spread >= 0
    # Dense rows of many entries: no rule changes the steps, nothing is fitted.
    dense = step_sizing.run_case(
        _split_case("wide dense", "dense", rng.normal(size=(200, 500)), y[:200]),
        (0,),
    )
    assert [row["fits"] for row in dense] == [None]
    lines = step_sizing.header() + [step_sizing.format_row(row) for row in rows + dense]
    assert len({line.count("|") for line in lines}) == 1
    summary = step_sizing.summary(rows + dense, step_sizing.NOISE)
    assert len(summary) == 2 + len(step_sizing.RULES) - 1


def test_step_sizing_default_rule_is_the_estimators():
    n = 40_000
    X = sp.random(n, 2_000, density=4 / 2_000, random_state=0, format="csr")
    binary = step_sizing.DEFAULT.rows_per_step(X, 1)
    rng = np.random.default_rng(0)
    fitted = AdagradClassifier(max_iter=1, tol=None, random_state=0)
    assert binary == n // 32 == fitted.fit(X, rng.integers(0, 2, n)).batch_size_
    # The former default, and a model of many outputs: 1,024-row steps.
    former = step_sizing.RULES[2]
    assert "former default" in former.name
    assert former.rows_per_step(X, 1) == step_sizing.DEFAULT.rows_per_step(X, 20)
    assert former.rows_per_step(X, 1) == 1024


def test_every_line_keeps_the_lines_of_enough_words_with_their_label():
    texts = ["a b c\nd e\n  f g h i  ", "x y z"]
    lines, labels = corpus.every_line(texts, ["p", "q"])
    assert lines == ["a b c", "f g h i", "x y z"]
    assert labels.tolist() == ["p", "p", "q"]


def test_size_study_verdict_names_what_is_not_met():
    result = size_study.Result
    row = {"ours": result(0.9, 2.0), "sgd": result(0.8, 3.0)}
    assert size_study.verdict(row) == "met"
    row = {"ours": result(0.7, 0.05), "sgd": result(0.8, 0.1)}
    assert size_study.verdict(row) == "score"
    row = {"ours": result(0.9, 0.5), "sgd": result(0.8, 0.1)}
    assert size_study.verdict(row) == "time"
    row = {"ours": result(0.9, 2.0), "sgd": result(0.8, 0.1)}
    assert size_study.verdict(row) == "time"
    row = {"ours": result(0.7, 2.0), "sgd": result(0.8, 0.1)}
    assert size_study.verdict(row) == "score time"


def test_vowpal_wabbit_lines_hold_each_stored_entry():
    X = sp.csr_matrix(np.array([[0.0, 1.5, 0.0], [2.0, 0.0, 0.25]]))
    assert vowpal.as_lines(X, [1, 2]) == ["1 | 1:1.5", "2 | 0:2 2:0.25"]


def test_vowpal_wabbit_text_lines_keep_the_words_and_blank_the_reserved():
    text = "Return a|b:\n  the Mean "
    assert vowpal.text_line(text, 3) == "3 | return a b the mean"
    assert vowpal.text_line(text) == " | return a b the mean"


def test_partial_fit_overhead_prints_the_split(capsys):
    from benchmarks import partial_fit_overhead

    partial_fit_overhead.main(
        ["--calls", "2", "--repeats", "1"], text_corpus=_synthetic_corpus
    )
    table = capsys.readouterr().out
    assert table.count("\n| float32 |") == 4 and table.count("\n| float64 |") == 4
    assert "outside share" in table and "| row gather |" in table
    X, y = partial_fit_overhead.hashed_batch(
        n_documents=50, text_corpus=_synthetic_corpus
    )
    rows = partial_fit_overhead.measure(X, y, n_calls=2, repeats=2)
    assert all(0 < row["kernel"] <= row["call"] for row in rows)
    assert all(len(row["shares"]) == 2 for row in rows)
    parts = partial_fit_overhead.measure_parts(X, y, n_calls=2)
    for column in parts.values():
        assert all(column[part] >= 0 for part in partial_fit_overhead.PARTS)
        assert 0 < column["outside the kernel"] < column["call"]
        assert 0 < column["kernel"] < column["call"]
    page = partial_fit_overhead.render_page(rows, parts, "a batch")
    assert page.startswith("# Small partial_fit calls\n")
    # Two tables: the split of each row, the parts of the time outside.
    n_parts = len(next(iter(parts.values())))
    assert page.count("\n| ") == (len(rows) + 1) + (n_parts + 1)


def test_stopping_study_replays_the_rule_a_fit_stops_by():
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    from benchmarks import stopping_study
    from sk_adagrad import AdagradClassifier

    X, y = load_iris(return_X_y=True)
    data = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    case = size_study.Case("iris (raw)", "dense", lambda: data)
    curves = (
        stopping_study.record(case, "hinge"),
        stopping_study.record(case, "hinge", held_out=True),
    )
    assert [len(curve) for curve in curves] == [stopping_study.OTHER_EPOCHS] * 2
    replays = stopping_study.replay(curves)
    assert set(replays) == set(stopping_study.RULES)
    current = replays[next(iter(stopping_study.RULES))]
    assert current.change == 0.0
    # The replayed rule stops where the default fit, on the same data, does.
    fitted = AdagradClassifier(random_state=0).fit(data[0], data[2])
    assert current.epochs == fitted.n_iter_
    summary = stopping_study.summary_table([(case, "hinge", replays)])
    assert len(summary) == 2 + len(stopping_study.RULES)


def test_cv_benchmark_runs_both_searches_on_the_same_folds():
    from benchmarks import cv

    X, y = datasets.make_rcv1_like(300, 200, nnz_per_row=10, random_state=0)
    row = cv.compare(X, y, "classification", "hinge", repeats=1)
    assert row["gs1"] > 0 and row["gs2"] > 0 and row["ours"] > 0
    assert np.isclose(row["ratio1"], row["ours"] / row["gs1"])
    assert 0.5 < row["their_score"] <= 1 and 0.5 < row["our_score"] <= 1
    defaults = cv.defaults_row(X, y, repeats=1)
    assert 0.5 < defaults["our_accuracy"] <= 1 and 0.5 < defaults["sgd_accuracy"] <= 1


def test_cv_halving_compares_the_searches_with_and_without_it(tmp_path):
    from benchmarks import cv_halving

    X, y = datasets.make_rcv1_like(300, 200, nnz_per_row=10, random_state=0)
    grid = cv_halving.GRIDS["lr x eps"]
    row = cv_halving.compare(X, y, "classification", "hinge", grid, 1, True)
    assert row["candidates"] == 9 and row["full_cpu"] > 0 and row["halved_cpu"] > 0
    assert row["halved_score"] <= 1 and row["full_score"] >= row["full_score_of_halved"]
    assert row["met"] == (row["full_score"] - row["full_score_of_halved"] <= 0.005)
    line = cv_halving.format_row("tiny", "hinge", "lr x eps", row)
    assert line.startswith("| tiny | hinge | lr x eps | ") and line.count("|") == 10
    page = tmp_path / "cv.md"
    page.write_text(f"# Page\n\nbefore\n{cv_halving.START}\nold\n{cv_halving.END}\n")
    cv_halving.write_docs([cv_halving.HEADER, line], ["load average: 1"], [], page)
    text = page.read_text()
    assert "old" not in text and text.startswith("# Page\n\nbefore\n")
    assert text.endswith(f"{line}\n{cv_halving.END}\n")
    # What the rule is given: a search that drops nothing, scored after epochs
    # 1, 2, 4, ... while a model runs; at the last, a stopped model's final
    # score.
    means, fitted = cv_halving.trajectories(X, y, "classification", "hinge", grid)
    assert (fitted.cv_results_["dropped_at_epoch"] == -1).all()
    assert means.shape[0] == 9 and 2 ** (means.shape[1] - 1) < fitted.n_iter_.max()
    stopped = fitted.n_iter_.max(axis=1) <= 2 ** (means.shape[1] - 1)
    assert stopped.any()
    final = fitted.cv_results_["mean_test_score"]
    assert_allclose(means[stopped, -1], final[stopped], rtol=1e-12)


def test_when_to_use_measures_every_model_and_writes_its_block(tmp_path):
    X, y = datasets.make_rcv1_like(600, 500, nnz_per_row=20, n_classes=3)
    split = when_to_use.Split("tiny", *when_to_use._split(X, y))
    rows = when_to_use.measure(split, repeats=2)
    names = [row.model for row in rows]
    assert names[: len(when_to_use.models())] == list(when_to_use.models())
    assert any(name.startswith("Vowpal Wabbit") for name in names) == (
        vowpal.available()
    )
    for row in rows:
        assert 0.0 <= row.accuracy <= 1.0 and len(row.seconds) == 2, row
    # Better than chance on a planted linear model, VW included.
    assert all(row.accuracy > 0.4 for row in rows), rows

    page = tmp_path / "when_to_use.md"
    page.write_text(f"# Page\n\n{when_to_use.START}\nold\n{when_to_use.END}\nafter\n")
    when_to_use.write_page(when_to_use.render_block(rows, 2, (0.5, 0.7)), page)
    text = page.read_text()
    assert "old" not in text and text.endswith("after\n")
    assert text.count("\n| tiny |") == len(rows)


def test_when_to_use_page_holds_a_measured_block():
    text = when_to_use.PAGE.read_text()
    block = text.split(when_to_use.START)[1].split(when_to_use.END)[0]
    assert "python -m benchmarks.when_to_use --repeats" in block
    for model in when_to_use.models():
        assert block.count(f"| {model} |") == 3, model


@pytest.mark.parametrize(
    "function, part",
    [
        (_step_terms.denominator, "Adagrad and proximal update"),
        (_engine.SparseAdagrad._update_rows, "Adagrad and proximal update"),
        (_entry_steps.step_rows_on_entries, "Adagrad and proximal update"),
        (_entry_steps.update_entries, "Adagrad and proximal update"),
        (_entry_steps.gradient_entries, "sparse products"),
        (_penalty.ElasticNet.prox, "Adagrad and proximal update"),
        (_catch_up.catch_up, "catch up missed penalty steps"),
        (_penalty.ElasticNet.catch_up, "catch up missed penalty steps"),
        (_schedule.Schedule.rate, "catch up missed penalty steps"),
        (_engine.SparseAdagrad.step, "the rest"),
    ],
)
def test_step_profile_puts_each_function_of_a_step_in_its_part(function, part):
    # Named as the profiler names them, from the functions themselves: a
    # function that moves or is renamed must still land in its part.
    name = f"{function.__code__.co_filename}:{function.__name__}"
    assert step_profile._part(name) == part


def test_step_profile_keeps_one_row_per_version_in_its_table(tmp_path):
    page = tmp_path / "performance.md"
    page.write_text("# Performance\n")
    for row in ("| before | 1 |", "| after | 2 |", "| after | 3 |"):
        step_profile._write_docs(row, page)
    lines = page.read_text().splitlines()
    assert lines.count(step_profile.header()[1]) == 1
    assert [line for line in lines if line.startswith(("| before", "| after"))] == [
        "| before | 1 |",
        "| after | 3 |",
    ]


def test_entry_sketch_catches_up_what_eager_steps_apply():
    """The sketch's lazy per-entry L2 steps against the same steps applied to
    every entry at every step (zero-gradient entries take the proximal step
    alone)."""
    rng = np.random.default_rng(0)
    X = sp.random_array((60, 40), density=0.1, format="csr", random_state=rng)
    Y = np.where(rng.random((60, 3)) < 0.3, 1.0, -1.0)
    lr, l2, eps = 0.5, 0.05, 1e-10
    sketch = entry_updates.EntrySketch(40, 3, lr, l2, eps)
    W, G, b, Gb = np.zeros((40, 3)), np.zeros((40, 3)), np.zeros(3), np.zeros(3)
    for rows in np.array_split(rng.permutation(60), 6) * 3:
        sketch.step(X[rows], Y[rows])
        dZ = np.where(Y[rows] * (X[rows] @ W + b) < 1.0, -Y[rows], 0.0) / len(rows)
        grad_b = dZ.sum(axis=0)
        Gb += grad_b**2
        b -= lr * grad_b / (np.sqrt(Gb) + eps)
        grad = X[rows].T @ dZ
        G += grad**2
        step = lr / (np.sqrt(G) + eps)
        W = (W - step * grad) / (1.0 + l2 * step)
    np.testing.assert_allclose(sketch.coef(), W, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sketch.b, b, rtol=1e-12)
    assert np.count_nonzero(W) > 10


def test_feature_head_counts_match_a_count_by_hand():
    # Rows 0-3 hold feature 0, rows 0-1 feature 1, row 2 feature 2.
    X = sp.csr_matrix(
        np.array([[1, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 0]], dtype=float)
    )
    active, shares = feature_head.head_counts(X, 2, probabilities=(0.9, 0.7))
    # Batches of 2 rows hold feature 0 surely, feature 1 with probability
    # 1 - 0.5 ** 2 = 0.75 and feature 2 with 1 - 0.75 ** 2 = 0.44.
    assert shares[0.9][0] == 1 and shares[0.7][0] == 2
    # The head of one feature is in every batch and holds 1 of its features.
    n_active = []
    order = np.random.default_rng(0).permutation(4)
    for batch in (order[:2], order[2:]):
        n_active.append(len(np.unique(X[batch].indices)))
    assert active == np.mean(n_active)
    assert shares[0.9][1] == 1.0
    assert shares[0.9][2] == pytest.approx(np.mean([1 / n for n in n_active]))
    lines = feature_head.table({"toy": X}, batch_sizes=(2,))
    assert len(lines) == len(feature_head.PROBABILITIES)


def test_entry_updates_measures_every_row_on_a_small_split():
    X, y = datasets.make_rcv1_like(n_samples=400, n_classes=4, random_state=0)
    split = (X[:300], X[300:], y[:300], y[300:])
    rows = entry_updates.measure(epochs=2, split=split)
    assert len(rows) == 5
    for seconds, catch_up_share, accuracy in rows.values():
        assert seconds > 0 and 0 <= accuracy <= 1
        assert catch_up_share is None or 0 <= catch_up_share <= 1
    assert len(entry_updates.table(rows)) == 7
    assert "per-entry sketch" in entry_updates._reading(rows)
    # The two step rules give one model: one accuracy.
    accuracies = [rows[name][2] for name in list(rows)[1:3]]
    assert accuracies[0] == accuracies[1]
    results = entry_updates.step_rules(
        epochs=2, repeats=1, data={"small": (X, y)}, batch_sizes=(64,)
    )
    assert [result[:2] for result in results] == [("small", 64)]
    assert all(seconds > 0 for seconds in results[0][3:])
    assert len(entry_updates.step_rules_table(results)) == 3
    assert "on the small" in entry_updates.step_rules_reading(results)
