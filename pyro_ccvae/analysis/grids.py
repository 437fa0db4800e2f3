"""Image grids: arranging images in rows and columns, and writing them as one picture."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
from PIL import Image

PADDING = 1  # pixels of black between and around the images


def save_grid(images: torch.Tensor, path: str | Path, nrow: int | None = None) -> None:
    """images [N, C, S, S] in [0, 1] -> one picture (PNG, or any format its suffix names), a
    grid with `nrow` images per row (square-ish by default)."""
    save_grid_batches([images], images.shape[0], path, nrow)


def save_grid_batches(batches: Iterable[torch.Tensor], count: int, path: str | Path, nrow: int | None = None) -> None:
    """Like `save_grid` for `count` images arriving in batches [b, C, S, S]: each batch is
    placed as 8-bit pixels in the picture as it comes, so memory holds the picture and one
    batch, not every image."""
    nrow = min(nrow or math.ceil(math.sqrt(count)), count)
    canvas, placed = None, 0
    for batch in batches:
        pixels = (batch.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()  # [b, C, S, S]
        if canvas is None:
            channels, side = pixels.shape[1], pixels.shape[-1]
            step = side + PADDING
            canvas = np.zeros((math.ceil(count / nrow) * step + PADDING, nrow * step + PADDING, channels), np.uint8)
        for image in pixels:
            row, col = divmod(placed, nrow)
            canvas[PADDING + row * step : (row + 1) * step, PADDING + col * step : (col + 1) * step] = image.transpose(1, 2, 0)
            placed += 1
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(canvas[..., 0] if canvas.shape[-1] == 1 else canvas).save(path)


def grid_rows(columns: Sequence[torch.Tensor]) -> torch.Tensor:
    """Columns, each [B, C, S, S] (or [B, K, C, S, S] for K columns at once), -> [B * total
    columns, C, S, S] in row-major order, for `save_grid(images, path, nrow=total columns)`."""
    parts = [c.unsqueeze(1) if c.dim() == 4 else c for c in columns]
    return torch.cat(parts, dim=1).flatten(0, 1)


def headed_grid(
    cells: torch.Tensor, row_headers: torch.Tensor | None = None, col_headers: torch.Tensor | None = None
) -> torch.Tensor:
    """cells [R, K, C, S, S] with a header column (row_headers [R, C, S, S]) on the left and a
    header row (col_headers [K, C, S, S]) on top; the corner is white. Returns the flat list
    of images [(R + 1) * (K + 1), C, S, S] (fewer without headers) and is laid out with
    `save_grid(images, path, nrow=K + 1)`."""
    if row_headers is not None:
        cells = torch.cat([row_headers.unsqueeze(1), cells], dim=1)
    if col_headers is not None:
        if row_headers is not None:
            col_headers = torch.cat([torch.ones_like(col_headers[:1]), col_headers])
        cells = torch.cat([col_headers.unsqueeze(0), cells], dim=0)
    return cells.flatten(0, 1)
