"""A run's training curves as a picture: the loss per image and each validation measure,
by epoch (written to the run folder at the end of every epoch)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402


def curves_figure(history: list[dict], path: str | Path) -> None:
    """Writes the loss and the validation measures of `history` (metrics.jsonl's lines) to a PNG."""
    epochs = [m["epoch"] for m in history]
    panels = [("loss per image", {"loss": [m["loss"] for m in history]})]
    accuracy = {name: [m["valid_per_label"].get(name) for m in history] for name in history[-1]["valid_per_label"]}
    if accuracy:
        accuracy["mean"] = [m["valid_accuracy"] for m in history]
        panels.append(("validation accuracy", accuracy))
    for name in history[-1]["valid_regression"]:
        panels.append((f"validation R^2, {name}", {name: [m["valid_regression"].get(name, {}).get("r2") for m in history]}))
    figure = Figure(figsize=(4.5 * len(panels), 3.4))
    for ax, (title, series) in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels):
        for name, values in series.items():
            ax.plot(epochs, [float("nan") if v is None else v for v in values], marker="o", markersize=3,
                    linewidth=2.2 if name == "mean" else 1, label=name)  # fmt: skip
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend(fontsize=6, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
