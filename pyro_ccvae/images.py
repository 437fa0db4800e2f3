"""Writing image grids."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torchvision.utils import save_image


def save_grid(images: torch.Tensor, path: str | Path, nrow: int | None = None) -> None:
    """images [N, C, S, S] in [0, 1] -> one PNG grid (square-ish unless `nrow` is given)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_image(images.float().cpu(), str(path), nrow=nrow or math.ceil(math.sqrt(images.shape[0])), padding=1)
