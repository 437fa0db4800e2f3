"""Conditional generation: images for chosen labels, the others drawn from p(y)."""

from __future__ import annotations

import torch


@torch.no_grad()
def conditional_samples(model, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Pixel means [B, C, S, S] of `model.generate` (for the CCVAE z_c ~ p_psi(z_c | y),
    z_s ~ N(0, I)), where the labels with mask True are fixed to y and the others drawn from
    p(y), the label frequencies. Draws come from torch's global generator."""
    drawn = torch.bernoulli(model.label_probs.expand_as(y))
    return model.generate(torch.where(mask, y, drawn))
