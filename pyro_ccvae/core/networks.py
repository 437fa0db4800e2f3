"""The networks of the paper's Table 3: conv encoder and decoder, diagonal classifier and
diagonal conditional prior (which returns p_psi(z_c^i | y_i) as a distribution). Sizes generalise the 64x64 architecture to any power-of-two image
side of at least 8 by adding or dropping stride-2 layers at the high-resolution end.
"""

from __future__ import annotations

import math

import pyro.distributions as dist
import torch
import torch.nn.functional as F
from torch import nn

_CHANNELS = (32, 32, 64, 128)  # Table 3, stride-2 layers from the image side inwards


def _stride2_channels(image_side: int) -> list[int]:
    depth = int(math.log2(image_side)) - 2  # stride-2 layers that bring the side down to 4
    if image_side < 8 or 2 ** (depth + 2) != image_side:
        raise ValueError(f"image side must be a power of two >= 8, got {image_side}")
    return ([32] * depth + list(_CHANNELS))[-depth:]


class Encoder(nn.Module):
    """x [B, C, S, S] in [0, 1] -> loc, scale [B, m] of the diagonal Gaussian q_phi(z | x)."""

    def __init__(self, channels: int, image_side: int, latent_dim: int):
        super().__init__()
        widths = [channels] + _stride2_channels(image_side)
        layers = []
        for c_in, c_out in zip(widths, widths[1:]):
            layers += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.ReLU()]
        layers += [nn.Conv2d(widths[-1], 256, 4, stride=1), nn.ReLU(), nn.Flatten()]  # [B, 256]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(256, 2 * latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        loc, raw_scale = self.head(self.features(x)).chunk(2, dim=-1)  # [B, m] each
        return loc, F.softplus(raw_scale) + 1e-5


class Decoder(nn.Module):
    """z [B, m] -> pixel means [B, C, S, S] in (0, 1)."""

    def __init__(self, channels: int, image_side: int, latent_dim: int):
        super().__init__()
        widths = list(reversed(_stride2_channels(image_side))) + [channels]
        layers = [nn.Linear(latent_dim, 256), nn.ReLU(), nn.Unflatten(1, (256, 1, 1))]
        layers += [nn.ConvTranspose2d(256, widths[0], 4, stride=1), nn.ReLU()]  # [B, 128, 4, 4]
        for c_in, c_out in zip(widths, widths[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), nn.ReLU()]
        layers[-1] = nn.Sigmoid()
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class DiagonalClassifier(nn.Module):
    """z_c [..., L, d] -> logits [..., L]: label i sees only its own block z_c^i."""

    def __init__(self, num_labels: int, block_dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_labels, block_dim))
        self.bias = nn.Parameter(torch.zeros(num_labels))

    def forward(self, z_c: torch.Tensor) -> torch.Tensor:
        return (z_c * self.weight).sum(-1) + self.bias


class DiagonalConditionalPrior(nn.Module):
    """y [..., L] with values in {0, ..., V-1} -> p_psi(z_c^i | y_i) = N(mu_i(y_i), diag sigma_i(y_i)^2),
    a distribution of batch shape [..., L] and event shape [d].

    One (loc, scale) pair per label and label value: the diagonal layer of Table 3.
    """

    def __init__(self, num_labels: int, block_dim: int, num_values: int = 2):
        super().__init__()
        init = torch.linspace(-2.0, 2.0, num_values)  # y = 0 at -2, y = 1 at +2
        self.loc = nn.Parameter(init.view(1, num_values, 1).repeat(num_labels, 1, block_dim))
        self.raw_scale = nn.Parameter(torch.full((num_labels, num_values, block_dim), 0.5413))  # softplus = 1

    def forward(self, y: torch.Tensor) -> dist.TorchDistribution:
        labels = torch.arange(self.loc.shape[0], device=y.device)
        index = y.long()  # [..., L]
        loc = self.loc[labels, index]  # [..., L, d]
        scale = F.softplus(self.raw_scale[labels, index])
        return dist.Normal(loc, scale).to_event(1)
