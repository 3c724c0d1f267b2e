"""The time-to-accuracy plot of docs/performance.md."""

from __future__ import annotations

from pathlib import Path


def plot_time_to_accuracy(curves: dict[str, dict], path: Path) -> None:
    """Test accuracy against training wall time, ours vs SGD, one panel per set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [name for name in ("multiclass", "text") if name in curves]
    figure, axes = plt.subplots(
        1, len(names), figsize=(5.5 * len(names), 4), squeeze=False
    )
    for axis, name in zip(axes[0], names, strict=True):
        curve = curves[name]
        for key, style, label in (
            ("sgd", "s--", f"SGDClassifier, alpha={curve['sgd_alpha']:g}"),
            ("ours", "o-", f"AdagradClassifier, lr={curve['lr']:g}"),
        ):
            seconds, accuracy = zip(*curve[key], strict=True)
            axis.plot(seconds, accuracy, style, label=label)
        axis.axhline(curve["target"], color="grey", linewidth=0.8, linestyle=":")
        axis.set_title(curve["label"])
        axis.set_xlabel("training wall time (s), one marker per epoch")
        axis.set_ylabel("test accuracy")
        axis.legend(loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
