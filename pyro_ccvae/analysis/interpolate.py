"""Interpolations (poster 002): decode along straight lines in latent space, for t in `steps`
evenly spaced values from 0 to 1 (both ends included):

    between two images:       z(t) = (1 - t) z_A + t z_B, with z = (z_c, z_\\c) the means of
                              q(z | x) of images A and B;
    between two label values: z_c^i(t) = (1 - t) m(v_0) + t m(v_1), with m(v) the mean of
                              p_psi(z_c^i | y_i = v); every other latent stays at the image's
                              encoding.

CCVAE and DIVA (models with per-label blocks z_c^i and z_\\c).
"""

from __future__ import annotations

import torch

from ..training.registry import require
from .manipulate import block_prior, label_index


def interpolate_latents(start: torch.Tensor, end: torch.Tensor, steps: int) -> torch.Tensor:
    """[steps, *shape]: (1 - t) start + t end for t from 0 to 1; start and end of one shape."""
    if steps < 2:
        raise ValueError(f"an interpolation needs at least 2 steps, got {steps}")
    t = torch.linspace(0, 1, steps, device=start.device, dtype=start.dtype).reshape(steps, *(1,) * start.dim())
    return (1 - t) * start + t * end


@torch.no_grad()
def interpolate_images(model, x_a: torch.Tensor, x_b: torch.Tensor, steps: int = 8) -> torch.Tensor:
    """[B, steps, C, S, S]: row r decodes the line from the encoding of x_a[r] to that of x_b[r]."""
    require(model, "probe")
    (zc_a, zs_a), (zc_b, zs_b) = model.encode(x_a), model.encode(x_b)
    z_c = interpolate_latents(zc_a, zc_b, steps).transpose(0, 1)  # [B, steps, L, d]
    z_s = interpolate_latents(zs_a, zs_b, steps).transpose(0, 1)  # [B, steps, m_s]
    return model.decode(z_c.flatten(0, 1), z_s.flatten(0, 1)).unflatten(0, z_c.shape[:2])


@torch.no_grad()
def interpolate_label(model, x: torch.Tensor, label: str, start: float, end: float, steps: int = 8) -> torch.Tensor:
    """[B, steps, C, S, S]: each image x[r] with z_c^i moved from the mean of
    p_psi(z_c^i | y_i = start) to the mean of p_psi(z_c^i | y_i = end)."""
    require(model, "probe")
    index = label_index(model, label)
    means = block_prior(model, index, torch.tensor([start, end]), like=x).mean  # [2, d]
    points = interpolate_latents(means[0], means[1], steps)  # [steps, d]
    z_c, z_s = model.encode(x)
    codes = z_c.unsqueeze(1).repeat(1, steps, 1, 1)  # [B, steps, L, d]
    codes[:, :, index] = points
    z_s = z_s.unsqueeze(1).expand(-1, steps, -1)
    return model.decode(codes.flatten(0, 1), z_s.flatten(0, 1)).unflatten(0, codes.shape[:2])
