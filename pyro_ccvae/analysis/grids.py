"""Image grids: arranging images in rows and columns, and writing them as one PNG."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import torch
from torchvision.utils import save_image


def save_grid(images: torch.Tensor, path: str | Path, nrow: int | None = None) -> None:
    """images [N, C, S, S] in [0, 1] -> one PNG grid (square-ish unless `nrow` is given)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_image(images.float().cpu(), str(path), nrow=nrow or math.ceil(math.sqrt(images.shape[0])), padding=1)


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
