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


def intervention_matrix_figure(
    matrix, label_names: Sequence[str], condition_number: float | None = None, path: str | Path | None = None
) -> Figure:
    """The L x L intervention matrix (App. D.1, Fig. 10) as a heat map: rows the label
    intervened on, columns the change in the oracle's probability of each label."""
    matrix = np.asarray(matrix, np.float64)
    size = 2.5 + 0.45 * len(label_names)
    figure = Figure(figsize=(size + 1.2, size))
    ax = figure.add_subplot()
    limit = max(float(np.abs(matrix).max()), 1e-6)
    shown = ax.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ticks = np.arange(len(label_names))
    ax.set_xticks(ticks, label_names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(ticks, label_names, fontsize=8)
    ax.set_xlabel("label j scored by the oracle")
    ax.set_ylabel("label i intervened on (y_i: 0 -> 1)")
    if len(label_names) <= 20:
        for (i, j), value in np.ndenumerate(matrix):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6,
                    color="white" if abs(value) > 0.6 * limit else "black")
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
