"""The cost of one epoch: against scikit-learn's SGD, the matmul floor and
lightning on each kind of data, and with the elastic-net penalty and averaging
against no penalty."""

from __future__ import annotations

from benchmarks.harness import (
    Context,
    Row,
    fit_task,
    floor_task,
    n_outputs,
    our_classifier,
    our_regressor,
    sgd_classifier,
    sgd_regressor,
    time_interleaved,
)


def bench_multiclass_epoch(ctx: Context, name: str) -> list[Row]:
    """One epoch of log_loss (multinomial) and hinge (OvR) vs SGD and the floor."""
    split = ctx.data(name)
    X, y = split.X_train, split.y_train
    tasks = {}
    for loss in ("log_loss", "hinge"):
        tasks[f"ours {loss}"] = fit_task(our_classifier(loss=loss), X, y)
        tasks[f"sgd {loss}"] = fit_task(sgd_classifier(loss=loss), X, y)
        one_thread = our_classifier(loss=loss, n_threads=1)
        tasks[f"ours {loss}, one thread"] = fit_task(one_thread, X, y)
        tasks[f"sgd {loss}, two jobs"] = fit_task(
            sgd_classifier(loss=loss, n_jobs=2), X, y
        )
    tasks["floor"] = floor_task(X, n_outputs(y))
    times = time_interleaved(tasks, ctx.repeats)
    section = "epoch, multi-class"
    rows = []
    for loss, kind in (("log_loss", "multinomial"), ("hinge", "OvR")):
        ours = times[f"ours {loss}"]
        rows.append(
            Row(
                section,
                f"{loss} ({kind}) vs SGD",
                split.label,
                "ours",
                ours,
                "SGD",
                times[f"sgd {loss}"],
                target=0.8,
            )
        )
        rows.append(
            Row(
                section,
                f"{loss} ({kind}) vs floor",
                split.label,
                "ours",
                ours,
                "floor",
                times["floor"],
                target=2.0,
            )
        )
        rows.append(
            Row(
                section,
                f"{loss} ({kind}) vs SGD, both on two cores",
                split.label,
                "ours",
                ours,
                "SGD n_jobs=2",
                times[f"sgd {loss}, two jobs"],
            )
        )
        rows.append(
            Row(
                section,
                f"{loss} ({kind}) on one thread vs SGD",
                split.label,
                "ours n_threads=1",
                times[f"ours {loss}, one thread"],
                "SGD",
                times[f"sgd {loss}"],
            )
        )
    return rows


def bench_binary_epoch(ctx: Context) -> list[Row]:
    """One epoch of the default (hinge) binary classifier vs SGD and the floor."""
    split = ctx.data("binary")
    X, y = split.X_train, split.y_train
    times = time_interleaved(
        {
            "ours": fit_task(our_classifier(), X, y),
            "sgd": fit_task(sgd_classifier(), X, y),
            "floor": floor_task(X, 1),
        },
        ctx.repeats,
    )
    section = "epoch, binary"
    return [
        Row(
            section,
            "hinge vs SGD",
            split.label,
            "ours",
            times["ours"],
            "SGD",
            times["sgd"],
            target=1.5,
        ),
        Row(
            section,
            "hinge vs floor",
            split.label,
            "ours",
            times["ours"],
            "floor",
            times["floor"],
        ),
    ]


def bench_elasticnet_average(ctx: Context) -> list[Row]:
    """Epoch time with penalty='elasticnet', average=True vs penalty=None."""
    split = ctx.data("binary")
    X, y = split.X_train, split.y_train
    times = time_interleaved(
        {
            "elasticnet": fit_task(
                our_classifier(penalty="elasticnet", average=True), X, y
            ),
            "none": fit_task(our_classifier(penalty=None), X, y),
        },
        ctx.repeats,
    )
    return [
        Row(
            "penalty",
            "elasticnet + average vs penalty=None",
            split.label,
            "elasticnet+avg",
            times["elasticnet"],
            "None",
            times["none"],
            target=1.2,
        )
    ]


def bench_regression(ctx: Context) -> list[Row]:
    """One epoch of AdagradRegressor vs SGDRegressor on sparse data (d)."""
    split = ctx.data("regression")
    times = time_interleaved(
        {
            "ours": fit_task(
                our_regressor(),
                split.X_train,
                split.y_train,
            ),
            "sgd": fit_task(
                sgd_regressor(),
                split.X_train,
                split.y_train,
            ),
        },
        ctx.repeats,
    )
    return [
        Row(
            "epoch, regression",
            "squared_error vs SGDRegressor",
            split.label,
            "ours",
            times["ours"],
            "SGD",
            times["sgd"],
        )
    ]


def bench_dense(ctx: Context) -> list[Row]:
    """One epoch on dense data (e): classifier and regressor vs SGD."""
    classification, regression = ctx.data("dense"), ctx.data("dense_regression")
    times = time_interleaved(
        {
            "ours clf": fit_task(
                our_classifier(), classification.X_train, classification.y_train
            ),
            "sgd clf": fit_task(
                sgd_classifier(), classification.X_train, classification.y_train
            ),
            "ours reg": fit_task(
                our_regressor(),
                regression.X_train,
                regression.y_train,
            ),
            "sgd reg": fit_task(
                sgd_regressor(),
                regression.X_train,
                regression.y_train,
            ),
        },
        ctx.repeats,
    )
    section = "epoch, dense"
    return [
        Row(
            section,
            "hinge vs SGDClassifier",
            classification.label,
            "ours",
            times["ours clf"],
            "SGD",
            times["sgd clf"],
        ),
        Row(
            section,
            "squared_error vs SGDRegressor",
            regression.label,
            "ours",
            times["ours reg"],
            "SGD",
            times["sgd reg"],
        ),
    ]


def bench_lightning(ctx: Context) -> list[Row]:
    """sklearn-contrib-lightning's AdaGradClassifier, when it is installed."""
    try:
        from lightning.classification import AdaGradClassifier
    except ImportError:
        return []
    split = ctx.data("binary")
    X, y = split.X_train, split.y_train
    times = time_interleaved(
        {
            "ours": fit_task(our_classifier(), X, y),
            "lightning": fit_task(AdaGradClassifier(n_iter=1), X, y),
        },
        ctx.repeats,
    )
    return [
        Row(
            "epoch, binary",
            "hinge vs lightning AdaGrad",
            split.label,
            "ours",
            times["ours"],
            "lightning",
            times["lightning"],
        )
    ]
