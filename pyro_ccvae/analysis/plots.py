"""Matplotlib figures for what a plot shows better than a grid of images: the intervention
matrix of App. D.1 (Fig. 10) and the diversity of draws with their per-pixel variance (Fig. 5).

Figures are built with `matplotlib.figure.Figure` (no pyplot state) on the Agg backend, and
written to PNG when a path is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from torchvision.utils import make_grid  # noqa: E402


def _save(figure: Figure, path: str | Path | None) -> Figure:
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=100, bbox_inches="tight")
    return figure


def _rgb(image: torch.Tensor) -> np.ndarray:
    """[C, S, S] in [0, 1] -> [S, S, 3] for imshow (grey images repeated)."""
    image = image.detach().float().cpu().clamp(0, 1)
    if image.shape[0] == 1:
        image = image.repeat(3, 1, 1)
    return image.permute(1, 2, 0).numpy()


def heatmap(
    ax,
    matrix,
    row_names: Sequence[str],
    col_names: Sequence[str],
    signed: bool = True,
    annotate: bool = True,
    limit: float | None = None,
):
    """Draws matrix [R, C] on `ax` with named rows and columns, a diverging colour map from -limit
    to limit (`signed`; default: the largest absolute value) or a sequential one from 0 to 1, and
    the values written in the cells."""
    matrix = np.asarray(matrix, np.float64)
    if signed:
        if limit is None:
            limit = max(float(np.nanmax(np.abs(matrix))) if np.isfinite(matrix).any() else 0.0, 1e-6)
        shown = ax.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit)
    else:
        limit = 1.0
        shown = ax.imshow(matrix, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(np.arange(len(col_names)), col_names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(np.arange(len(row_names)), row_names, fontsize=8)
    if annotate:
        for (i, j), value in np.ndenumerate(matrix):
            if np.isfinite(value):
                dark = abs(value) > 0.6 * limit if signed else value < 0.5
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6, color="white" if dark else "black")
    return shown


def intervention_matrix_figure(
    matrix, label_names: Sequence[str], condition_number: float | None = None, path: str | Path | None = None
) -> Figure:
    """The L x L intervention matrix (App. D.1, Fig. 10) as a heat map: rows the label
    intervened on, columns the change in the oracle's probability of each label."""
    size = 2.5 + 0.45 * len(label_names)
    figure = Figure(figsize=(size + 1.2, size))
    ax = figure.add_subplot()
    shown = heatmap(ax, matrix, label_names, label_names, annotate=len(label_names) <= 20)
    ax.set_xlabel("label j scored by the oracle")
    ax.set_ylabel("label i intervened on (y_i: 0 -> 1)")
    title = "change in p_oracle(y_j = 1)"
    if condition_number is not None:
        title += f", condition number {condition_number:.3g}"
    ax.set_title(title, fontsize=9)
    figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
    return _save(figure, path)


def diversity_figure(
    reconstruction: torch.Tensor,
    samples: torch.Tensor,
    variance: torch.Tensor,
    title: str = "",
    path: str | Path | None = None,
) -> Figure:
    """Fig. 4 and 5 side by side: the reconstruction, the draws [N, C, S, S] with one
    characteristic resampled, the per-pixel variance [S, S] as a heat map, and the variance
    in green over the reconstruction."""
    nrow = int(np.ceil(np.sqrt(samples.shape[0])))
    sheet = make_grid(samples.detach().float().cpu(), nrow=nrow, padding=1, pad_value=1.0)
    variance = variance.detach().float().cpu().numpy()
    figure = Figure(figsize=(13, 3.6))
    axes = figure.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1.6, 1.15, 1]})
    axes[0].imshow(_rgb(reconstruction))
    axes[0].set_title("reconstruction", fontsize=9)
    axes[1].imshow(_rgb(sheet))
    axes[1].set_title(f"{samples.shape[0]} draws of z_c^i", fontsize=9)
    shown = axes[2].imshow(variance, cmap="magma")
    axes[2].set_title("per-pixel variance", fontsize=9)
    figure.colorbar(shown, ax=axes[2], fraction=0.046, pad=0.04)
    overlay = 0.6 * _rgb(reconstruction).mean(-1, keepdims=True).repeat(3, -1)
    overlay[..., 1] += variance / max(float(variance.max()), 1e-12)
    axes[3].imshow(np.clip(overlay, 0, 1))
    axes[3].set_title("variance (green)", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        figure.suptitle(title, fontsize=10, y=1.04)
    return _save(figure, path)


# Latent-space analyses (analysis/latent_analysis.py, frankenstein.py) ---------------------

PROBE_BARS = (("baseline", None), ("z_c, linear", ("z_c", "linear")), ("z_c, boosted", ("z_c", "boosted")),
              ("z_\\c, linear", ("z_s", "linear")), ("z_\\c, boosted", ("z_s", "boosted")))  # fmt: skip


def probe_figure(result: dict, path: str | Path | None = None) -> Figure:
    """Bars per label of `latent_analysis.probe_run`'s "labels": the baseline and each probe from
    z_c and from z_\\c (accuracy, or R^2 for a continuous label); labels the model was trained
    on are starred."""
    labels = result["labels"]
    names = list(labels)
    figure = Figure(figsize=(2.0 + 0.9 * len(names), 3.6))
    ax = figure.add_subplot()
    width = 0.8 / len(PROBE_BARS)
    for k, (title, key) in enumerate(PROBE_BARS):
        values = []
        for name in names:
            measure = labels[name]["baseline"] if key is None else labels[name][key[0]][key[1]]
            value = measure.get("accuracy", measure.get("r2"))
            values.append(np.nan if value is None else value)
        ax.bar(np.arange(len(names)) + (k - (len(PROBE_BARS) - 1) / 2) * width, values, width, label=title)
    ticks = [f"{n}*" if labels[n]["trained"] else n for n in names]
    ax.set_xticks(np.arange(len(names)), ticks, rotation=40, ha="right", fontsize=8)
    ax.set_ylabel("test accuracy (R^2 if continuous)", fontsize=8)
    ax.set_ylim(min(0.0, float(np.nanmin(ax.get_ylim()))), 1.0)
    ax.set_title("probes of each label (* = trained on)", fontsize=9)
    ax.legend(fontsize=7, ncols=len(PROBE_BARS), loc="lower center", bbox_to_anchor=(0.5, 1.08), frameon=False)
    return _save(figure, path)


def correlation_figure(correlations: dict, path: str | Path | None = None) -> Figure:
    """Corr(z_\\c[k], y_l) of `probe_run`'s "correlations" as a heat map: a row per label column,
    a column per dimension of z_\\c."""
    matrix = np.asarray(correlations["matrix"], np.float64).T  # [C, m_s]
    dimensions = [str(k) for k in range(matrix.shape[1])]
    figure = Figure(figsize=(2.5 + 0.32 * matrix.shape[1], 1.4 + 0.3 * matrix.shape[0]))
    ax = figure.add_subplot()
    shown = heatmap(ax, matrix, correlations["columns"], dimensions, annotate=False, limit=1.0)
    ax.set_xlabel("dimension k of z_\\c")
    ax.set_title("Corr(z_\\c[k], y)", fontsize=9)
    figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
    return _save(figure, path)


def direction_effects_figure(effects: dict, path: str | Path | None = None) -> Figure:
    """`probe_run`'s "direction_effects" as a heat map: a row per direction of z_\\c (e_k, then
    each label's W), a column per oracle label, the change in p_oracle(y = 1) from alpha = -span
    to alpha = span."""
    directions, labels = effects["directions"], effects["oracle_labels"]
    figure = Figure(figsize=(2.5 + 0.45 * len(labels), 1.2 + 0.22 * len(directions)))
    ax = figure.add_subplot()
    shown = heatmap(ax, effects["change"], directions, labels, annotate=True, limit=1.0)
    ax.set_xlabel("label scored by the oracle")
    ax.set_title(f"change in p_oracle(y = 1), z_\\c + alpha u, alpha {-effects['span']:g} -> {effects['span']:g}",
                 fontsize=9)
    figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
    return _save(figure, path)


def frankenstein_figure(result: dict, path: str | Path | None = None) -> Figure:
    """`frankenstein.frankenstein_test`'s outcome matrices, one panel per way of asking: rows the
    combination asked for (rare ones marked), columns the one the oracle read."""
    modes = result["modes"]
    names = [f"{c}{' (rare)' if rare else ''}" for c, rare in zip(result["combinations"], result["rare"])]
    short = [c.replace(", ", "\n") for c in result["combinations"]]
    figure = Figure(figsize=(1.5 + 3.6 * len(modes), 3.8))
    axes = figure.subplots(1, len(modes), squeeze=False)[0]
    for k, (ax, (mode, summary)) in enumerate(zip(axes, modes.items())):
        heatmap(ax, summary["outcome"], names if k == 0 else [""] * len(names), short, signed=False)
        ax.set_title(f"{mode}: rare {summary['rare_success']:.2f}, common {summary['common_success']:.2f}", fontsize=9)
        ax.set_xlabel("combination the oracle read", fontsize=8)
    axes[0].set_ylabel("combination asked for", fontsize=8)
    return _save(figure, path)


def comparison_figure(result: dict, measures: dict, path: str | Path | None = None, floors: dict | None = None) -> Figure:
    """Each measure of a comparison (compare.py) against the labelled fraction f, one line per
    model with error bars of one standard deviation over seeds; measures no cell has are left out.
    `floors` maps a measure to another drawn dashed in its panel (e.g. a probe's majority
    baseline), not in a panel of its own."""
    floors = floors or {}
    sups = [f"{f:g}" for f in result["settings"]["sups"]]

    def points(by_sup, key):
        return [(float(f), by_sup[f][key]) for f in sups if by_sup.get(f) and by_sup[f].get(key)]

    shown = [key for key in measures if key not in floors.values()
             and any(points(by_sup, key) for by_sup in result["summary"].values())]  # fmt: skip
    columns = min(3, max(len(shown), 1))
    rows = max(1, -(-len(shown) // columns))
    figure = Figure(figsize=(4.2 * columns, 3.2 * rows))
    colours = {name: f"C{i}" for i, name in enumerate(result["summary"])}  # a model keeps its colour in every panel
    for index, key in enumerate(shown):
        ax = figure.add_subplot(rows, columns, index + 1)
        for name, by_sup in result["summary"].items():
            line = {"marker": "o", "color": colours[name]}
            for measure, style in ((key, line), (floors.get(key), {"linestyle": "--", "color": "grey"})):
                values = points(by_sup, measure) if measure else []
                if values:
                    label = name if measure == key else f"{name}: {measures[measure][0]}"
                    ax.errorbar([p[0] for p in values], [p[1]["mean"] for p in values],
                                yerr=[p[1]["sd"] for p in values], capsize=3, label=label, **style)  # fmt: skip
        ax.set_xscale("log")
        ax.set_xticks([float(f) for f in sups], sups)
        ax.minorticks_off()
        ax.set_xlabel("labelled fraction f")
        short, _, lower_is_better = measures[key]
        ax.set_title(short + (", lower is better" if lower_is_better else ""), fontsize=9)
        ax.legend(fontsize=7)
    figure.tight_layout()
    return _save(figure, path)
