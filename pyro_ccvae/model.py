"""The CCVAE of Joy et al. (ICLR 2021) as a Pyro model/guide pair.

Generative model (`CCVAE.model`), z = (z_c, z_s) with z_s standing for the paper's z_\\c:

    p(y) p_psi(z_c | y) p(z_s) p_theta(x | z)
    p(y)           = prod_i Bernoulli(y_i | frequency of label i in the labelled data)
    p_psi(z_c | y) = prod_i N(z_c^i | mu_psi^i(y_i), sigma_psi^i(y_i))
    p(z_s)         = N(0, I)
    p_theta(x | z) = Laplace(x | decoder(z), scale)          (or Normal; an option)

Guide (`CCVAE.guide`):

    q_phi(z | x) q_phi(y | z_c)
    q_phi(z | x)   = N(z | mu_phi(x), diag sigma_phi(x))
    q_phi(y | z_c) = prod_i Bernoulli(y_i | sigmoid(w_i . z_c^i + b_i))

Labels enter as a masked observation (`obs_mask`): where mask is False a label is latent and
the guide samples it at the site "y_unobserved". Each y_i and z_c^i is its own site in the
"labels" plate (dim -1) so that labels can be masked and enumerated one by one; rows are the
"data" plate (dim -2), which is why z_s and x carry a singleton label dimension.
The objective is `elbo.CCVAE_ELBO`, not Pyro's Trace_ELBO.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Mapping

import pyro
import pyro.distributions as dist
import torch
from pyro import poutine
from torch import nn

from .networks import Decoder, DiagonalClassifier, DiagonalConditionalPrior, Encoder, standard_normal

LIKELIHOODS = {"laplace": dist.Laplace, "normal": dist.Normal}


@dataclass
class CCVAEConfig:
    label_names: list[str]  # one binary label per name; z_c has one block per label
    label_frequencies: list[float]  # p(y_i = 1), from the labelled training data
    image_shape: tuple[int, int, int] = (3, 64, 64)  # (C, S, S), S a power of two >= 8
    z_c_block: int = 1  # size of each z_c^i
    z_s_dim: int = 27  # size of z_s, the paper's z_\c (CelebA: 27)
    likelihood: str = "laplace"  # family of p_theta(x | z): "laplace" or "normal"
    likelihood_scale: float = 1.0  # its scale; the paper uses Laplace with scale 1
    dataset: dict = field(default_factory=dict)  # where the data came from (name, file, seed)

    def __post_init__(self):
        self.image_shape = tuple(self.image_shape)
        if len(self.label_frequencies) != len(self.label_names):
            raise ValueError("need one label frequency per label name")
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {', '.join(LIKELIHOODS)}")
        if self.likelihood_scale <= 0:
            raise ValueError("likelihood_scale must be positive")

    @property
    def num_labels(self) -> int:
        return len(self.label_names)

    @property
    def z_c_dim(self) -> int:
        return self.num_labels * self.z_c_block

    def to_dict(self) -> dict:
        return asdict(self)


class CCVAE(nn.Module):
    # What the manipulations below allow; the baselines (baselines/) say what theirs allow.
    supports = {"intervene": True, "traverse": True, "swap": True, "conditional_generation": True}
    module_name = "ccvae"  # the parameters' prefix in Pyro's param store

    def __init__(self, config: CCVAEConfig):
        super().__init__()
        self.config = config
        channels, side, _ = config.image_shape
        latent_dim = config.z_c_dim + config.z_s_dim
        self.encoder = Encoder(channels, side, latent_dim)
        self.decoder = Decoder(channels, side, latent_dim)
        self.classifier = DiagonalClassifier(config.num_labels, config.z_c_block)
        self.conditional_prior = DiagonalConditionalPrior(config.num_labels, config.z_c_block)
        # p(y): the labelled frequencies themselves (clamped away from 0 and 1 so that
        # log p(y) stays finite when a label never or always occurs).
        probs = torch.tensor(config.label_frequencies).clamp(1e-4, 1 - 1e-4)
        self.register_buffer("label_probs", probs)

    def q_y(self, z_c: torch.Tensor) -> dist.Bernoulli:
        """q_phi(y | z_c): z_c [..., L, d] -> independent Bernoullis of batch shape [..., L]."""
        return dist.Bernoulli(logits=self.classifier(z_c))

    def split_z(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z [..., m] -> z_c [..., L, d], z_s [..., m_s]."""
        z_c, z_s = z.split([self.config.z_c_dim, self.config.z_s_dim], dim=-1)
        return z_c.unflatten(-1, (self.config.num_labels, self.config.z_c_block)), z_s

    def decode(self, z_c: torch.Tensor, z_s: torch.Tensor) -> torch.Tensor:
        """Pixel means of p_theta(x | z) from z_c [B, L, d] and z_s [B, m_s]."""
        return self.decoder(torch.cat([z_c.flatten(-2), z_s], dim=-1))

    def likelihood(self, pixel_means: torch.Tensor) -> dist.TorchDistribution:
        family = LIKELIHOODS[self.config.likelihood]
        return family(pixel_means, torch.full_like(pixel_means, self.config.likelihood_scale))

    def model(self, x: torch.Tensor | None, y: torch.Tensor, mask: torch.Tensor):
        """p(y) p_psi(z_c | y) p(z_s) p_theta(x | z).

        x: [B, C, S, S] in [0, 1], or None to generate; y: [B, L] float (any value where masked);
        mask: [B, L] bool, True where y_i is observed.
        """
        pyro.module(self.module_name, self)
        batch, num_labels = mask.shape
        with pyro.plate("data", batch, dim=-2):
            with pyro.plate("labels", num_labels, dim=-1):
                y = pyro.sample("y", dist.Bernoulli(self.label_probs), obs=y, obs_mask=mask)  # [B, L]
                loc, scale = self.conditional_prior(y)  # [B, L, d]
                z_c = pyro.sample("z_c", dist.Normal(loc, scale).to_event(1))  # [B, L, d]
            # Outside the labels plate, a singleton dim stands in for it: [B, 1, ...].
            zeros = z_c.new_zeros(batch, 1, self.config.z_s_dim)
            z_s = pyro.sample("z_s", dist.Normal(zeros, 1.0).to_event(1))  # [B, 1, m_s]
            pixel_means = self.decode(z_c, z_s.squeeze(1))  # [B, C, S, S]
            x = None if x is None else x.unsqueeze(1)
            pyro.sample("x", self.likelihood(pixel_means.unsqueeze(1)).to_event(3), obs=x)  # [B, 1, C, S, S]

    def guide(self, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor):
        """q_phi(z | x) q_phi(y | z_c), sampling only the labels that are not observed."""
        pyro.module(self.module_name, self)
        batch, num_labels = mask.shape
        loc, scale = self.encoder(x)  # [B, m] each
        loc_c, loc_s = self.split_z(loc)
        scale_c, scale_s = self.split_z(scale)
        with pyro.plate("data", batch, dim=-2):
            with pyro.plate("labels", num_labels, dim=-1):
                z_c = pyro.sample("z_c", dist.Normal(loc_c, scale_c).to_event(1))  # [B, L, d]
                with poutine.mask(mask=~mask):
                    pyro.sample("y_unobserved", self.q_y(z_c))  # [B, L]
            pyro.sample("z_s", dist.Normal(loc_s.unsqueeze(1), scale_s.unsqueeze(1)).to_event(1))

    # Deterministic views used for evaluation and manipulation -----------------------------

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Means of q_phi(z | x), split: z_c [B, L, d], z_s [B, m_s]."""
        loc, _ = self.encoder(x)
        return self.split_z(loc)

    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """q_phi(y_i = 1 | z_c = mean of q_phi(z_c | x)), [B, L]."""
        z_c, _ = self.encode(x)
        return self.q_y(z_c).probs

    # The manipulations every model has (see baselines/__init__.py), on the means of q(z | x) ---

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(*self.encode(x))

    def generate(self, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Pixel means for labels y [B, L] (0/1): z_c ~ p_psi(z_c | y), z_s ~ N(0, I)."""
        loc, scale = self.conditional_prior(y)
        z_c = loc + scale * standard_normal(loc.shape, loc, generator)
        z_s = standard_normal((y.shape[0], self.config.z_s_dim), loc, generator)
        return self.decode(z_c, z_s)

    def intervene(self, x: torch.Tensor, values: Mapping[int, float | torch.Tensor]) -> torch.Tensor:
        """Reconstructions of x with z_c^i set to the mean of p_psi(z_c^i | y_i = values[i])
        (a 0/1 number or a per-image tensor [B]) for each label index i in `values`."""
        z_c, z_s = self.encode(x)
        y = torch.zeros(z_c.shape[:-1], dtype=z_c.dtype, device=z_c.device)
        for index, value in values.items():
            y[:, index] = value
        loc, _ = self.conditional_prior(y)
        z_c = z_c.clone()
        for index in values:
            z_c[:, index] = loc[:, index]
        return self.decode(z_c, z_s)

    def swap(self, sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """z_c of each source decoded with z_s of its target (a characteristic swap, Fig. 6)."""
        return self.decode(self.encode(sources)[0], self.encode(targets)[1])
