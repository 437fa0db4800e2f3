"""Conditional generation: images for chosen labels, the others drawn from p(y), and sweeps of
one label through its values."""

from __future__ import annotations

import torch


@torch.no_grad()
def conditional_samples(model, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Pixel means [B, C, S, S] of `model.generate` (for the CCVAE z_c ~ p_psi(z_c | y),
    z_s ~ N(0, I)), where the labels with mask True are fixed to y and the others drawn from
    p(y). Draws come from torch's global generator."""
    drawn = model.draw_labels(y.shape[0]).to(y.device)
    return model.generate(torch.where(mask, y, drawn))


@torch.no_grad()
def sweep_samples(model, index: int, values: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[B, K, C, S, S]: row b holds one draw (z_s ~ N(0, I), the unit noise of z_c, and y_j ~ p(y_j)
    for the labels not fixed by `mask`), decoded with label `index` set to each of the K `values`
    in turn, so that along a row only that label's characteristic z_c^i changes. Needs
    per-label characteristic latents (the CCVAE, DIVA)."""
    batch, num_values = y.shape[0], values.shape[0]
    y = torch.where(mask, y, model.draw_labels(batch).to(y.device))
    y = y.unsqueeze(1).repeat(1, num_values, 1)  # [B, K, L]
    y[:, :, index] = values.to(y)
    loc, scale = model.conditional_prior(y)  # [B, K, L, d]
    z_c = loc + scale * torch.randn_like(loc[:, :1])  # the same noise along each row
    z_s = torch.randn(batch, 1, model.config.z_s_dim, device=loc.device, dtype=loc.dtype).expand(-1, num_values, -1)
    return model.decode(z_c.flatten(0, 1), z_s.flatten(0, 1)).unflatten(0, (batch, num_values))
