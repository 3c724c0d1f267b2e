"""The text of docs/performance.md: the machine, the table, what each row
measures and the data sets."""

from __future__ import annotations

from benchmarks import DOCS_DIR
from benchmarks.harness import Row, format_table

DOCS_PAGE = DOCS_DIR / "performance.md"
PLOT_FILE = DOCS_DIR / "_static" / "time_to_accuracy.png"
COMMAND = "python -m benchmarks.run"


ROW_NOTES = """\
## What each row measures

All times are wall-clock seconds in one process; "n" is the number of
repeats. Ours and the peer alternate within each repeat, so a change in
machine load hits both sides; the ratio is the median of the per-repeat
ratios, with their min–max in brackets (so it need not equal the ratio of
the two medians). The machine may be shared with other work (see the load
average above): the ratios are steadier than the absolute seconds, but not
immune. SGD's per-sample loop is the more sensitive side: with other jobs
running on this 2-core machine its multi-class epochs were 1.5–2.5 times
slower while ours slowed little, which flatters ours; compare runs made
at a load average well below the number of cores.

Unless a row says otherwise both estimators run with their default
parameters and `random_state=0`, and one epoch is one `fit` with
`max_iter=1, tol=None` (input validation and set-up included, as a user
pays them). Models train on 80% of each data set; the other 20% is the
test set of the time-to-accuracy rows.

- **epoch, multi-class**: `AdagradClassifier(loss='log_loss')` (one
  multinomial softmax model) and `loss='hinge'` (one-vs-rest, all classes in
  one pass) against `SGDClassifier` with the same loss (one-vs-rest, one pass
  per class), and against the *floor*: one full-batch `X @ W` plus
  `X.T @ R` with K columns in SciPy, the least work any method that touches
  the gradient of every class for every row must do per epoch. By default
  ours shares each large step between the two cores (`n_threads=None`) while
  `SGDClassifier` (`n_jobs=None`) and the floor use one, as each does out of
  the box; two rows without a target compare like with like: both on two
  cores (`SGDClassifier(n_jobs=2)` trains two classes at a time), and ours
  on one thread against SGD's default.
- **epoch, binary**: the same on the binary problem (a); the floor has one
  column and is shown without a target.
- **time to accuracy**: `SGDClassifier(loss='hinge')` runs 5 epochs
  (`partial_fit` epoch by epoch) at each alpha of its grid; the best test
  accuracy becomes the target. Ours (`loss='hinge'`, other parameters at
  their defaults) runs epoch by epoch at each lr of its grid until it
  reaches the target; the row compares our wall time to the target with
  SGD's time for its 5 epochs. Clocks cover
  `partial_fit` and reading `coef_`, never scoring. The two winning
  configurations are timed again for the spread. A ratio with ">" was not
  reached (the run stopped at 10 epochs or 3x SGD's time).
- **partial_fit, hashed**: `partial_fit` of a fixed batch of hashed
  documents after a warm-up call, at 2^20 and 2^24 features against
  2^16: the cost of a step must depend on the nonzeros of the batch, not on
  the number of features. SGD's ratio is shown for comparison. At 2^24
  features the model's arrays span hundreds of MB and each step touches
  scattered entries of them: unless the kernel backs these arrays with huge
  pages (numpy asks for them; whether it gets them varies from run to run)
  the TLB misses alone can double the step time, so this ratio moved
  between 1.0 and 2.7 across otherwise identical runs here.
- **memory**: a fresh process builds all of (a), then the kernel's peak-RSS
  mark is reset and `fit` runs for 2 epochs; the row is the peak RSS above
  the RSS with X built, against a budget of the size of X plus 4 times the
  model plus 100 MB.
- **float32**: epoch time on the float32 copies of (a), (b) and (c)
  (a float32 model) against float64, with every step forced onto the
  active-row path and onto the in-place path; the memory of the fitted
  model's state on (c), float32 against float64; the peak of `tracemalloc`
  during one `fit` on float32 X against the size of a float64 copy of X (a
  silent conversion would cost at least two thirds of it; allocations are
  deterministic, so one traced fit is enough); and one epoch of ours
  against `SGDClassifier`'s, both on the float32 copies of (c) and (a) (SGD
  then trains in float32 too).
- **Vowpal Wabbit**: the tool a user of fast sparse linear models would
  pick instead, at its defaults with `--oaa K`, one pass and 5 passes over
  the training part of (c), against our epochs at our defaults; time and
  held-out accuracy (see the row's note); and one pass end to end from the
  raw documents, its parser with `--ngram 2` against our vectoriser and one
  epoch.
- **penalty**: `penalty='elasticnet', average=True` against `penalty=None`,
  per epoch on (a); the lazy, exact penalty and the average should cost
  little.
- **epoch, regression** and **epoch, dense**: `AdagradRegressor` and
  `AdagradClassifier` against `SGDRegressor`/`SGDClassifier` on the sparse
  regression (d) and the dense problem (e); no target.
"""

DATA_NOTES = """\
## Data sets

Built by `benchmarks/datasets.py` from seeded generators (no download):

- **(a)** RCV1-like binary problem: Zipf term frequencies over a random
  column order, ~80 distinct terms per row, L2-normalised `(1 + log tf) *
  idf` values, labels from a planted sparse linear model (balanced) with 5%
  of labels redrawn at random; float64 CSR, and a float32 copy.
- **(b)** the same design with 20 classes: noisy argmax of 20 planted
  sparse linear scores (fewer rows than (a) to keep the suite under 15
  minutes).
- **(c)** real text: `sk_adagrad.datasets.load_docstrings()` (docstring
  paragraphs of the standard library, numpy, scipy and scikit-learn,
  labelled by sub-package) through
  `TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)`.
- **(d)** sparse regression: the design of (a) with a planted linear
  response plus noise.
- **(e)** dense: correlated standardised Gaussian features, binary labels
  or a linear response.
- **(f)** hashed stream: documents of (c) through `HashingVectorizer` with
  2^16, 2^20 or 2^24 features, binary label.
"""

LIGHTNING_NOTE = """\
## Peers not measured

`sklearn-contrib-lightning` (whose `AdaGradClassifier` is a Cython RDA
Adagrad) could not be installed here: `pip install sklearn-contrib-lightning`
finds only the 0.6.2.post0 source distribution for Python 3.11, and its
`setup.py` imports numpy before pip's isolated build environment provides
it (`ModuleNotFoundError: No module named 'numpy'`). The suite measures it
automatically (`lightning` row) wherever it is importable.
"""


def lightning_available() -> bool:
    """Whether sklearn-contrib-lightning can be imported."""
    try:
        import lightning.classification  # noqa: F401
    except ImportError:
        return False
    return True


def render_page(rows: list[Row], info: dict[str, str], command: str) -> str:
    """The text of docs/performance.md."""
    parts = [
        "# Performance",
        "",
        f"Measured on {info['date']} with `{command}`; every ratio compares "
        "two measurements of the same run. Regenerate the page with "
        f"`{COMMAND} --write-docs`.",
        "",
        "## Machine",
        "",
        f"- CPU: {info['cpu']}",
        f"- RAM: {info['ram']}",
        f"- Python {info['python']}; {info['versions']}",
        f"- {info['load'].capitalize()}",
        "",
        "## Results",
        "",
        format_table(rows),
        "",
        "## Time to accuracy",
        "",
        "Test accuracy against training wall time, one marker per epoch, at "
        "the best alpha of SGD and the best lr of ours; the dotted line is "
        "SGD's accuracy after 5 epochs.",
        "",
        f"![Test accuracy against wall time](_static/{PLOT_FILE.name})",
        "",
        ROW_NOTES,
        DATA_NOTES,
    ]
    if not lightning_available():
        parts.append(LIGHTNING_NOTE)
    return "\n".join(parts).rstrip() + "\n"
