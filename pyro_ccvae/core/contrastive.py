"""The supervised contrastive term of poster 000 ("Enhancing latent disentanglement through
contrastive learning"; Khosla et al., 2020) on normalised characteristic latents.

For rows i of a batch with encodings z_i (here the means of q(z_c | x), all label blocks
flattened) and classes c_i, with u_i = z_i / |z_i| and P(i) = {p != i : c_p = c_i}:

    L_i = - 1/|P(i)| sum_{p in P(i)} log( exp(u_i . u_p / tau) / sum_{j != i} exp(u_i . u_j / tau) )

Rows without a positive contribute 0. Each log is of a probability, so L_i >= 0.
`core/elbo.py` subtracts lambda * L_i from the bound of each labelled row (docs/objective.md).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def supervised_contrastive(features: torch.Tensor, classes: torch.Tensor, temperature: float) -> torch.Tensor:
    """L_i [N] for features [N, D] and integer classes [N] (see the module docstring)."""
    n = features.shape[0]
    if n < 2:
        return features.new_zeros(n)
    u = F.normalize(features, dim=-1)
    similarity = u @ u.T / temperature  # [N, N]
    itself = torch.eye(n, dtype=torch.bool, device=features.device)
    log_prob = similarity - similarity.masked_fill(itself, float("-inf")).logsumexp(-1, keepdim=True)
    positives = (classes.unsqueeze(0) == classes.unsqueeze(1)) & ~itself
    count = positives.sum(-1)
    loss = -(log_prob * positives).sum(-1) / count.clamp(min=1)
    return torch.where(count > 0, loss, torch.zeros_like(loss))


def label_classes(values: torch.Tensor) -> torch.Tensor:
    """One integer class per row [N] for rows of discrete label values [N, L]: rows share a class
    exactly when they agree on every label."""
    return torch.unique(values, dim=0, return_inverse=True)[1]
