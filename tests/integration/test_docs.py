"""The documentation site builds without warnings and its code runs."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sk_adagrad import AdagradRegressor

from helpers.doc_snippets import documentation_pages, python_blocks
from oracles.torch_adagrad import intercept_gradient

REPO_DIR = Path(__file__).resolve().parents[2]
DOCS_DIR = REPO_DIR / "docs"
EXAMPLES_DIR = REPO_DIR / "examples"


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the HTML site once, warnings as errors, outside the source tree."""
    out_dir = tmp_path_factory.mktemp("docs")
    html_dir = out_dir / "html"
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        "html",
        "-d",
        str(out_dir / "doctrees"),
        str(DOCS_DIR),
        str(html_dir),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=300, cwd=REPO_DIR
    )
    assert result.returncode == 0, (
        f"sphinx-build failed:\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}"
    )
    return html_dir


def _page_text(html_dir: Path, name: str) -> str:
    return (html_dir / f"{name}.html").read_text(encoding="utf-8")


def test_site_builds_with_every_page(built_site: Path) -> None:
    for page in [
        "index",
        "quickstart",
        "when_to_use",
        "user_guide",
        "algorithm",
        "regularization",
        "tuning",
        "cv",
        "defaults",
        "multiclass",
        "scaling",
        "reliability",
        "torch",
        "sgd",
        "examples",
        "performance",
        "api",
    ]:
        assert (built_site / f"{page}.html").is_file(), page


def test_api_pages_document_the_estimators(built_site: Path) -> None:
    api = _page_text(built_site, "api")
    for name in [
        "AdagradClassifier",
        "AdagradRegressor",
        "AdagradClassifierCV",
        "AdagradRegressorCV",
    ]:
        assert f"sk_adagrad.{name}.html" in api
        page = _page_text(built_site, f"sk_adagrad.{name}")
        # The numpydoc sections and the documented methods are rendered.
        assert "Parameters" in page
        methods = ["fit", "predict"] + ([] if "CV" in name else ["partial_fit"])
        for method in methods:
            assert f'id="sk_adagrad.{name}.{method}"' in page, (name, method)


def test_examples_page_lists_every_example_script(built_site: Path) -> None:
    page = _page_text(built_site, "examples")
    scripts = [p for p in EXAMPLES_DIR.glob("*.py") if not p.name.startswith("_")]
    assert scripts, "the examples directory has no scripts"
    for script in scripts:
        assert re.search(rf"<h2>\s*{re.escape(script.name)}", page), script.name


def _python_blocks(page: Path) -> list[str]:
    return [block.code for block in python_blocks(page)]


def test_quickstart_code_runs_and_classifies_the_toy_corpus() -> None:
    blocks = _python_blocks(DOCS_DIR / "quickstart.rst")
    assert len(blocks) >= 4
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "quickstart.rst", "exec"), namespace)

    model = namespace["model"]
    assert list(model.predict(["the bank cut rates", "a goal in the last minute"])) == [
        "finance",
        "sport",
    ]
    probabilities = model.predict_proba(["a faster laptop screen"])
    assert probabilities.shape == (1, 3)
    assert probabilities.sum() == pytest.approx(1.0)
    assert model.classes_[probabilities.argmax()] == "tech"

    stream = namespace["stream"]
    assert stream.t_ > 0
    assert stream.coef_.shape == (3, 2**20)
    assert namespace["regressor"].score(namespace["X"], namespace["y"]) > 0.5


def test_documented_torch_step_matches_the_estimator_full_batch() -> None:
    """The NumPy transcription of torch's step shown in the user guide is the
    reference the estimator follows: check it on one full-batch problem."""
    block = next(b for b in _python_blocks(DOCS_DIR / "algorithm.rst") if "def " in b)
    namespace: dict = {"np": np}
    exec(compile(block, "algorithm.rst", "exec"), namespace)
    torch_adagrad_step = namespace["torch_adagrad_step"]

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
    lr, lr_decay, eps, n_epochs = 0.1, 0.05, 1e-10, 7

    # Three weights, then the intercept, which starts at the mean target.
    params = np.append(np.zeros(3), np.ones(20) @ y / 20)
    accumulator = np.zeros(4)
    for t in range(1, n_epochs + 1):
        residual = X @ params[:3] + params[3] - y
        # The first intercept gradient is rounding noise, which the estimator
        # counts as zero (docs/algorithm.rst), as intercept_gradient does.
        weighted = residual * (1 / len(y))
        grad = np.append(X.T @ weighted, intercept_gradient(weighted[:, None]))
        torch_adagrad_step(params, accumulator, grad, t, lr, lr_decay, eps)

    model = AdagradRegressor(
        loss="squared_error",
        penalty=None,
        lr=lr,
        lr_decay=lr_decay,
        eps=eps,
        initial_accumulator_value=0.0,
        batch_size=len(y),
        shuffle=False,
        max_iter=n_epochs,
        tol=None,
    ).fit(X, y)
    np.testing.assert_allclose(model.coef_, params[:3], rtol=1e-12)
    np.testing.assert_allclose(model.intercept_, params[3:], rtol=1e-12)
    assert model.t_ == n_epochs


def test_every_python_block_compiles() -> None:
    """Every Python block parses, on pages whose blocks test_snippets.py does
    not run yet too."""
    n_blocks = 0
    for page in documentation_pages():
        for block in python_blocks(page):
            compile(block.code, block.where, "exec")
            n_blocks += 1
    assert n_blocks >= 8
