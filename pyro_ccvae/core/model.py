"""The CCVAE of Joy et al. (ICLR 2021) as a Pyro model/guide pair.

Generative model (`CCVAE.model`), z = (z_c, z_s) with z_s standing for the paper's z_\\c:

    p(y) p_psi(z_c | y) p(z_s) p_theta(x | z)
    p(y)           = prod_i p(y_i)                      fitted to the labelled training data
    p_psi(z_c | y) = prod_i N(z_c^i | mu_psi^i(y_i), sigma_psi^i(y_i))
    p(z_s)         = N(0, I)
    p_theta(x | z) = Laplace(x | decoder(z), scale)          (or Normal; an option)

Guide (`CCVAE.guide`):

    q_phi(z | x) q_phi(y | z_c)
    q_phi(z | x)   = N(z | mu_phi(x), diag sigma_phi(x))
    q_phi(y | z_c) = prod_i q_phi(y_i | z_c^i)               each label sees only its own block

For binary labels (the paper) p(y_i) is Bernoulli(frequency of y_i = 1) and q_phi(y_i | z_c^i)
= Bernoulli(sigmoid(w_i . z_c^i + b_i)); kinds/ gives the factors of every kind, each behind
one call per Pyro site: `group.prior()`, `group.conditional_prior(y)`, `group.q_y(z_c)`.
Labels enter as a masked observation (`obs_mask`): where mask is False a label is latent and
the guide samples it at the site "y_unobserved". All binary labels share the sites "y" and
"z_c" in the plate "labels" (dim -1); each other label has its own sites "y[name]",
"z_c[name]". Rows are the "data" plate (dim -2), which is why z_s and x carry a singleton
label dimension. The objective is `elbo.CCVAE_ELBO`, not Pyro's Trace_ELBO.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pyro
import pyro.distributions as dist
import torch
from pyro import poutine
from torch import nn

from ..rng import draw, standard_normal
from .blocks import LabelBlocks, inverse_order, join
from .config import ModelConfig
from .kinds import LabelGroup, make_label_groups
from .networks import Decoder, Encoder

CONTINUOUS_PRIOR_SCALE = 0.03  # default of CCVAEConfig.continuous_prior_scale


@dataclass
class CCVAEConfig(ModelConfig):
    z_c_block: int = 1  # size of each z_c^i
    z_s_dim: int = 27  # size of z_s, the paper's z_\\c (CelebA: 27)
    # Fixed scale of p(z_c^i | y_i) for continuous labels, whose loc moves 2 per standard
    # deviation of y_i at the start: how tightly z_c^i must follow y_i (docs/objective.md).
    continuous_prior_scale: float = CONTINUOUS_PRIOR_SCALE

    def __post_init__(self):
        super().__post_init__()
        if self.z_c_block < 1 or self.z_s_dim < 1:
            raise ValueError("z_c_block and z_s_dim must be at least 1")
        if not self.continuous_prior_scale > 0:
            raise ValueError("continuous_prior_scale must be positive")

    @property
    def z_c_dim(self) -> int:
        return self.num_labels * self.z_c_block


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
        groups = self.build_label_groups(config)
        self.label_groups = nn.ModuleList(groups)
        inverse = inverse_order([group.index for group in groups])
        self.register_buffer("label_order", inverse, persistent=False)  # group order -> label order

    def build_label_groups(self, config: CCVAEConfig) -> list[LabelGroup]:
        """The Pyro factors of the labels, one group per pair of sites (kinds/); a variant
        (another conditional prior, say) overrides this."""
        return make_label_groups(config.labels, config)

    def join(self, parts: list[torch.Tensor], dim: int) -> torch.Tensor:
        """Per-group tensors (as from `LabelGroup.labels_of` or `blocks_of`) -> one tensor in
        label order along `dim` (-1 for labels [..., L], -2 for blocks [..., L, d])."""
        return join(parts, dim, self.label_order)

    def conditional_prior(self, y: torch.Tensor) -> LabelBlocks:
        """p_psi(z_c | y) for labels y [..., L]: batch shape [..., L], event shape [d]."""
        groups = self.label_groups
        return LabelBlocks([g.conditional_prior(g.labels_of(y)) for g in groups], [g.index for g in groups])

    def conditional_prior_parameters(self) -> list[nn.Parameter]:
        """psi, the parameters of p_psi(z_c | y) (training.loop may give them their own learning rate)."""
        return [p for group in self.label_groups for p in group.conditional_prior_parameters()]

    def predict_labels(self, z_c: torch.Tensor) -> torch.Tensor:
        """The most probable labels under q_phi(y | z_c) (means for continuous ones), [..., L]."""
        return self.join([group.predict(group.blocks_of(z_c)) for group in self.label_groups], -1)

    def draw_labels(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """`num` draws [num, L] of y ~ p(y), from `generator` (else torch's global generator)."""
        return self.join([draw(group.prior(), generator, (num,)).float() for group in self.label_groups], -1)

    def split_z(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z [..., m] -> z_c [..., L, d], z_s [..., m_s]."""
        z_c, z_s = z.split([self.config.z_c_dim, self.config.z_s_dim], dim=-1)
        return z_c.unflatten(-1, (self.config.num_labels, self.config.z_c_block)), z_s

    def decode(self, z_c: torch.Tensor, z_s: torch.Tensor) -> torch.Tensor:
        """Pixel means of p_theta(x | z) from z_c [B, L, d] and z_s [B, m_s]."""
        return self.decoder(torch.cat([z_c.flatten(-2), z_s], dim=-1))

    def model(self, x: torch.Tensor | None, y: torch.Tensor, mask: torch.Tensor):
        """p(y) p_psi(z_c | y) p(z_s) p_theta(x | z).

        x: [B, C, S, S] in [0, 1], or None to generate; y: [B, L] float, 0/1 for binary labels,
        the class index for categorical ones, the value for continuous ones (anything valid
        where masked); mask: [B, L] bool, True where y_i is observed.
        """
        pyro.module(self.module_name, self)
        batch = mask.shape[0]
        with pyro.plate("data", batch, dim=-2):
            z_c = []
            for group in self.label_groups:  # binary labels together, then one group per other label
                with pyro.plate(group.plate, group.size, dim=-1):
                    y_g = pyro.sample(
                        group.y_site, group.prior(), obs=group.labels_of(y), obs_mask=group.labels_of(mask)
                    )  # [B, L_g]
                    z_c.append(pyro.sample(group.z_c_site, group.conditional_prior(y_g)))  # [B, L_g, d]
            z_c = self.join(z_c, -2)  # [B, L, d]
            # Outside the labels plates, a singleton dim stands in for them: [B, 1, ...].
            zeros = z_c.new_zeros(batch, 1, self.config.z_s_dim)
            z_s = pyro.sample("z_s", dist.Normal(zeros, 1.0).to_event(1))  # [B, 1, m_s]
            pixel_means = self.decode(z_c, z_s.squeeze(1))  # [B, C, S, S]
            x = None if x is None else x.unsqueeze(1)
            pyro.sample("x", self.config.likelihood_of(pixel_means.unsqueeze(1)).to_event(3), obs=x)  # [B, 1, C, S, S]

    def guide(self, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor):
        """q_phi(z | x) q_phi(y | z_c), sampling only the labels that are not observed."""
        pyro.module(self.module_name, self)
        batch = mask.shape[0]
        loc, scale = self.encoder(x)  # [B, m] each
        loc_c, loc_s = self.split_z(loc)
        scale_c, scale_s = self.split_z(scale)
        with pyro.plate("data", batch, dim=-2):
            for group in self.label_groups:
                with pyro.plate(group.plate, group.size, dim=-1):
                    q_zc = dist.Normal(group.blocks_of(loc_c), group.blocks_of(scale_c)).to_event(1)
                    z_c = pyro.sample(group.z_c_site, q_zc)  # [B, L_g, d]
                    with poutine.mask(mask=~group.labels_of(mask)):
                        pyro.sample(group.y_site + "_unobserved", group.q_y(z_c))  # [B, L_g]
            pyro.sample("z_s", dist.Normal(loc_s.unsqueeze(1), scale_s.unsqueeze(1)).to_event(1))

    # Deterministic views used for evaluation and manipulation -----------------------------

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Means of q_phi(z | x), split: z_c [B, L, d], z_s [B, m_s]."""
        loc, _ = self.encoder(x)
        return self.split_z(loc)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The labels [B, L] q_phi(y | z_c) predicts at the mean of q_phi(z_c | x): 0/1, class
        indices, or values."""
        return self.predict_labels(self.encode(x)[0])

    # The manipulations every model has (see baselines/__init__.py), on the means of q(z | x) ---

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(*self.encode(x))

    def generate(self, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Pixel means for labels y [B, L]: z_c ~ p_psi(z_c | y), z_s ~ N(0, I)."""
        z_c = draw(self.conditional_prior(y), generator)
        z_s = standard_normal((y.shape[0], self.config.z_s_dim), z_c, generator)
        return self.decode(z_c, z_s)

    def intervene(self, x: torch.Tensor, values: Mapping[int, float | torch.Tensor]) -> torch.Tensor:
        """Reconstructions of x with z_c^i set to the mean of p_psi(z_c^i | y_i = values[i])
        (a number or a per-image tensor [B]) for each label index i in `values`."""
        z_c, z_s = self.encode(x)
        y = torch.zeros(z_c.shape[:-1], dtype=z_c.dtype, device=z_c.device)
        for index, value in values.items():
            y[:, index] = value
        means = self.conditional_prior(y).mean
        z_c = z_c.clone()
        for index in values:
            z_c[:, index] = means[:, index]
        return self.decode(z_c, z_s)

    def swap(self, sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """z_c of each source decoded with z_s of its target (a characteristic swap, Fig. 6)."""
        return self.decode(self.encode(sources)[0], self.encode(targets)[1])
