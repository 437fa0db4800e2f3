"""Directions in z_\\c (poster 000, "Discovering patterns in z_\\c"): move the latents no label
explains along a unit vector u and decode,

    z_\\c(alpha) = z_\\c + alpha u,    alpha from -span to span,    z_c kept,

with u a base vector e_k (one dimension, `unit_direction`) or the normalised weights W / |W|
of a linear probe of a label from z_\\c (`label_direction`: the poster's logistic regression
y_hat = sigmoid(W^T z_\\c + b); a least-squares fit for a continuous label). An oracle then
says how much each label changes along each direction (`direction_effects`). z_\\c is `z_s` in
the code; the prior of z_\\c is N(0, I), so alpha is in units of its standard deviation.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch

from ..core.kinds import Label
from ..errors import InvalidRequest, LabelError
from ..training.registry import require
from .metrics import Oracle

# Default range of alpha: poster 000 moved z_\\c from alpha = -10 to 10. Encodings spread far less
# than the prior along most directions (the README's runs: a few tenths), so much smaller ranges
# can leave the decoded images unchanged.
DIRECTION_SPAN = 10.0


def unit_direction(size: int, dimension: int) -> np.ndarray:
    """e_k of length `size`; InvalidRequest if k is not a dimension of z_\\c."""
    if not 0 <= dimension < size:
        raise InvalidRequest(f"z_\\c has dimensions 0 to {size - 1}, not {dimension}", setting="dimension")
    out = np.zeros(size)
    out[dimension] = 1.0
    return out


def label_direction(label: Label, z_train: np.ndarray, y_train: np.ndarray, value: float | None = None) -> np.ndarray:
    """W / |W| [m_s] for a linear probe of `label` from latents z_train [N, m_s] (values
    y_train [N], NaN skipped), in the latents' own coordinates: for a discrete label the
    logistic regression of y == `value` (default: the label's second traversal end, 1 for a
    binary label), pointing towards `value`; for a continuous one the least-squares weights,
    pointing towards larger values. LabelError if the rows hold one class only."""
    from sklearn.linear_model import LinearRegression, LogisticRegression

    z, y = np.asarray(z_train, np.float64), np.asarray(y_train, np.float64)
    z, y = z[~np.isnan(y)], y[~np.isnan(y)]
    if label.discrete:
        value = label.traversal_ends()[1] if value is None else value
        label.check_values([value])
        target = y == value
        if target.all() or not target.any():
            raise LabelError(f"the training rows hold one value of {label.name} only: no direction separates it")
        weights = LogisticRegression(max_iter=1000).fit(z, target).coef_[0]
    else:
        weights = LinearRegression().fit(z, y).coef_
    norm = np.linalg.norm(weights)
    if not norm > 0:
        raise LabelError(f"the probe of {label.name} has zero weights: no direction in the latents")
    return weights / norm


def alphas(steps: int, span: float) -> torch.Tensor:
    """`steps` evenly spaced alphas from -span to span."""
    if steps < 2:
        raise ValueError(f"a traversal needs at least 2 steps, got {steps}")
    return torch.linspace(-span, span, steps)


def shifted_latents(z_s: torch.Tensor, direction: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """z_s [B, m_s] + alpha [steps] * direction [m_s] -> [B, steps, m_s]."""
    return z_s.unsqueeze(1) + alpha.to(z_s).unsqueeze(-1) * direction.to(z_s)


@torch.no_grad()
def traverse_direction(model, x: torch.Tensor, direction, steps: int = 7, span: float = DIRECTION_SPAN) -> torch.Tensor:
    """Decodings [B, steps, C, S, S] of images x [B, C, S, S] with z_\\c moved along the unit
    vector `direction` [m_s] from -span to span, z_c kept at the image's encoding. CCVAE and
    DIVA only (a model with z_c and z_\\c)."""
    require(model, "traverse")
    z_c, z_s = model.encode(x)
    shifted = shifted_latents(z_s, torch.as_tensor(np.asarray(direction)), alphas(steps, span))  # [B, steps, m_s]
    z_c = z_c.unsqueeze(1).expand(-1, steps, -1, -1)
    return model.decode(z_c.flatten(0, 1), shifted.flatten(0, 1)).unflatten(0, (x.shape[0], steps))


@torch.no_grad()
def direction_effects(
    model,
    oracle: Oracle,
    x: torch.Tensor,
    directions: Mapping[str, np.ndarray],
    span: float = DIRECTION_SPAN,
    steps: int = 2,
) -> dict[str, np.ndarray]:
    """For each named unit direction, the oracle's mean p(y_j = 1) over the images x at each of
    `steps` alphas from -span to span, [steps, J] (J: the oracle's labels). The change along a
    direction is the last row minus the first."""
    out = {}
    for name, direction in directions.items():
        images = traverse_direction(model, x, direction, steps, span)  # [B, steps, C, S, S]
        probs = torch.sigmoid(oracle(images.flatten(0, 1))).unflatten(0, images.shape[:2])  # [B, steps, J]
        out[name] = probs.mean(0).cpu().numpy()
    return out
