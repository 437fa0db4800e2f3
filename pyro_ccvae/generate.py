"""Conditional generation: run the model program forward with some labels fixed."""

from __future__ import annotations

import torch
from pyro import poutine

from .model import CCVAE


@torch.no_grad()
def conditional_samples(model: CCVAE, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Pixel means of p_theta(x | z) for z_c ~ p_psi(z_c | y), z_s ~ N(0, I), where the labels
    with mask True are fixed to y and the others drawn from p(y). Returns [B, C, S, S]."""
    trace = poutine.trace(model.model).get_trace(None, y, mask)
    return trace.nodes["x"]["fn"].mean.squeeze(1)
