"""The multimodal VAE (MVAE) of Wu & Goodman (2018), with the labels as the second modality.

Generative model (`MVAE.model`): one latent z generates both modalities.

    p(z) p_theta(x | z) p_theta(y | z)
    p(z)           = N(0, I)
    p_theta(x | z) = Laplace(x | decoder(z), scale)           (or Normal; an option), Table 3 decoder
    p_theta(y | z) = prod_i Bernoulli(y_i | sigmoid(label_decoder(z)_i))    an MLP

Guide (`MVAE.guide`): a product of Gaussian experts (PoE), one per modality present, and the
prior expert N(0, I):

    q(z | x, y_o) proportional to p(z) q_phi(z | x) q_phi(z | y_o)
    q_phi(z | x)   = N(mu_phi(x), diag sigma_phi(x))        Table 3 encoder
    q_phi(z | y_o) = N(mu_phi(y, m), diag sigma_phi(y, m))  an MLP over the labels y * m and
                     their mask m, so one expert covers any subset o of observed labels

The product of Gaussians is precision-weighted (`product_of_experts`). An expert is left out of
the product for a row where its modality is missing: the label expert where a row has no observed
label, the image expert where `x_mask` is False (used by the objective for ELBO(y)).

Labels enter the model as an observation masked by `poutine.mask`, not `obs_mask`: p(y | z)
factorises over labels, so a missing label is marginalised out exactly by dropping its term,
and no guide for it is needed (the MVAE treats a missing label as a missing modality, not as
a latent variable). Latent size m = L + 27 by default, the CCVAE's total latent size.
The objective is `MVAE_ELBO`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import pyro
import pyro.distributions as dist
import torch
import torch.nn.functional as F
from pyro import poutine
from torch import nn

from ..core.elbo import RowwiseELBO, row_sum, site_log_prob
from ..core.networks import Decoder, Encoder
from ..rng import standard_normal
from .common import BaselineConfig, BinaryLabelsMixin, label_probs, sample_sites, traces


@dataclass
class MVAEConfig(BaselineConfig):
    latent_dim: int | None = None  # size m of z; None: L + 27, the CCVAE's m with one-dimensional blocks
    label_hidden: int = 256  # width of the two hidden layers of the label expert and label decoder

    def __post_init__(self):
        super().__post_init__()
        if self.latent_dim is None:
            self.latent_dim = self.num_labels + 27
        if self.latent_dim < 1 or self.label_hidden < 1:
            raise ValueError("latent_dim and label_hidden must be positive")


def product_of_experts(
    locs: Sequence[torch.Tensor], scales: Sequence[torch.Tensor], weights: Sequence[torch.Tensor | None] | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """loc, scale of N(0, I) * prod_k N(locs[k], scales[k])^weights[k], normalised.

    Precision-weighted: precision = 1 + sum_k w_k / sigma_k^2, loc = sum_k w_k mu_k / sigma_k^2
    / precision. weights[k] is [B] (1: expert k is in the product for that row, 0: left out)
    or None (always in)."""
    weights = weights or [None] * len(locs)
    precision, weighted_loc = torch.ones_like(locs[0]), torch.zeros_like(locs[0])  # the prior expert
    for loc, scale, weight in zip(locs, scales, weights):
        expert = scale.pow(-2)
        if weight is not None:
            expert = expert * weight.to(expert.dtype).unsqueeze(-1)
        precision = precision + expert
        weighted_loc = weighted_loc + expert * loc
    return weighted_loc / precision, precision.rsqrt()


class LabelExpert(nn.Module):
    """(y * mask, mask) [B, 2L] -> loc, scale [B, m] of q_phi(z | y_o)."""

    def __init__(self, num_labels: int, latent_dim: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2 * num_labels, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 2 * latent_dim),
        )  # fmt: skip

    def forward(self, y: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        observed = mask.to(y.dtype)
        loc, raw_scale = self.net(torch.cat([y * observed, observed], dim=-1)).chunk(2, dim=-1)
        return loc, F.softplus(raw_scale) + 1e-5


class MVAE(BinaryLabelsMixin, nn.Module):
    """MVAE as a Pyro model/guide pair with the public interface of `core.model.CCVAE`.

    `supports`: interventions encode the image together with its predicted labels, one of them
    switched (z from PoE(q(z|x), q(z|y'))); swaps combine the target image's expert with the
    source's predicted labels (a label swap, as for M2); conditional generation draws z from
    PoE(p(z), q(z|y)). Traversals are not possible: z is one unstructured latent with no
    per-label part, so there is no characteristic latent to traverse (the paper: "it is not
    clear how one would do them for MVAE")."""

    supports = {"intervene": True, "traverse": False, "swap": True, "conditional_generation": True}

    def __init__(self, config: MVAEConfig):
        super().__init__()
        self.config = config
        channels, side, _ = config.image_shape
        m, hidden, num_labels = config.latent_dim, config.label_hidden, config.num_labels
        self.image_expert = Encoder(channels, side, m)  # q(z | x)
        self.label_expert = LabelExpert(num_labels, m, hidden)  # q(z | y_o)
        self.decoder = Decoder(channels, side, m)  # p(x | z)
        self.label_decoder = nn.Sequential(  # p(y | z), logits
            nn.Linear(m, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, num_labels)
        )
        # Not part of MVAE's model (y is generated from z): the label frequencies, kept so that
        # evaluation code can read them and the device as for the other models.
        self.register_buffer("label_probs", label_probs(config))

    def posterior(
        self,
        x: torch.Tensor | None = None,
        y: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        x_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """loc, scale [B, m] of the PoE of the prior and the experts of the modalities given:
        the image expert if x is given (for the rows where x_mask [B] is True, all rows if
        x_mask is None) and the label expert if y and mask are given (for the rows with at
        least one observed label)."""
        locs, scales, weights = [], [], []
        if x is not None and (x_mask is None or x_mask.any()):
            loc, scale = self.image_expert(x)
            locs.append(loc), scales.append(scale), weights.append(x_mask)
        if mask is not None and mask.any():
            loc, scale = self.label_expert(y, mask)
            locs.append(loc), scales.append(scale), weights.append(mask.any(-1))
        if not locs:  # no expert anywhere: the prior
            rows = next(t.shape[0] for t in (x, y, mask) if t is not None)
            zeros = self.label_probs.new_zeros(rows, self.config.latent_dim)
            return zeros, torch.ones_like(zeros)
        return product_of_experts(locs, scales, weights)

    def model(self, x: torch.Tensor | None, y: torch.Tensor, mask: torch.Tensor, x_mask: torch.Tensor | None = None):
        """p(z) p_theta(x | z) p_theta(y | z); x [B, C, S, S] or None to generate, y [B, L]
        float (any 0/1 value where masked), mask [B, L] bool, x_mask [B] bool (default all
        True): rows whose image counts (no x site at all if none does)."""
        pyro.module("mvae", self)
        batch, num_labels = mask.shape
        with pyro.plate("data", batch, dim=-2):
            zeros = self.label_probs.new_zeros(batch, 1, self.config.latent_dim)
            z = pyro.sample("z", dist.Normal(zeros, 1.0).to_event(1))  # [B, 1, m]
            logits = self.label_decoder(z.squeeze(1))  # [B, L]
            with pyro.plate("labels", num_labels, dim=-1), poutine.mask(mask=mask):
                pyro.sample("y", dist.Bernoulli(logits=logits), obs=y)  # [B, L]
            if x_mask is None or x_mask.any():
                pixel_means = self.decoder(z.squeeze(1))  # [B, C, S, S]
                x = None if x is None else x.unsqueeze(1)
                with poutine.mask(mask=True if x_mask is None else x_mask.unsqueeze(-1)):
                    pyro.sample("x", self.config.likelihood_of(pixel_means.unsqueeze(1)).to_event(3), obs=x)

    def guide(self, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, x_mask: torch.Tensor | None = None):
        """z ~ PoE(p(z), q(z | x), q(z | y_o)), each expert where its modality is present."""
        pyro.module("mvae", self)
        loc, scale = self.posterior(x, y, mask, x_mask)
        with pyro.plate("data", mask.shape[0], dim=-2):
            pyro.sample("z", dist.Normal(loc.unsqueeze(1), scale.unsqueeze(1)).to_event(1))  # [B, 1, m]

    # Deterministic views used for evaluation and manipulation -----------------------------

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        """(z,): the mean [B, m] of PoE(p(z), q(z | x)), as a 1-tuple so that
        decode(*encode(x)) reconstructs; there is no (z_c, z_s) split."""
        return (self.posterior(x)[0],)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel means of p_theta(x | z), z [B, m]."""
        return self.decoder(z)

    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """p_theta(y_i = 1 | z) at z = the mean of PoE(p(z), q(z | x)), [B, L]."""
        return torch.sigmoid(self.label_decoder(self.posterior(x)[0]))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(*self.encode(x))

    def generate(self, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Pixel means of p_theta(x | z) for z ~ PoE(p(z), q(z | y)), labels y [B, L] (0/1)."""
        loc, scale = self.posterior(y=y, mask=torch.ones_like(y, dtype=torch.bool))
        return self.decode(loc + scale * standard_normal(loc.shape, loc, generator))

    def _encode_with_labels(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loc, _ = self.posterior(x, y, torch.ones_like(y, dtype=torch.bool))
        return self.decode(loc)

    def intervene(self, x: torch.Tensor, values: Mapping[int, float]) -> torch.Tensor:
        """Decoded mean of PoE(p(z), q(z | x), q(z | y')), y' the predicted labels of x with
        label i set to values[i]."""
        y = (self.predict_proba(x) > 0.5).to(x.dtype)
        for index, value in values.items():
            y[:, index] = value
        return self._encode_with_labels(x, y)

    def swap(self, sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Decoded mean of PoE(p(z), q(z | target), q(z | labels predicted for the source))."""
        return self._encode_with_labels(targets, (self.predict_proba(sources) > 0.5).to(sources.dtype))


class MVAE_ELBO(RowwiseELBO):
    """The MVAE's subsampled training objective (Wu & Goodman, 2018, sec. 3.2 and eq. 4).

    Each term is an ELBO with the PoE of the modalities it sees (the prior expert always in):

        ELBO(x, y_o) = E_{q(z|x,y_o)}[ log p(x|z) + lambda * log p(y_o|z) + log p(z) - log q(z|x,y_o) ]
        ELBO(x)      = E_{q(z|x)}    [ log p(x|z) + log p(z) - log q(z|x) ]
        ELBO(y_o)    = E_{q(z|y_o)}  [ lambda * log p(y_o|z) + log p(z) - log q(z|y_o) ]

        row = ELBO(x, y_o) + ELBO(x) + ELBO(y_o)     (a row with observed labels, subsampled=True)
        row = ELBO(x)                                (a row without; ELBO(x, y_o) is ELBO(x) then)

    Each term is exactly Pyro's Trace_ELBO of `MVAE.model` / `MVAE.guide` for that view of the
    data (no label observed for ELBO(x); x_mask False for ELBO(y_o)), with the label log-
    likelihood scaled by lambda = `label_weight`; with label_weight = 1 and subsampled = False the
    objective is Trace_ELBO itself. Wu & Goodman weigh the label term up (their CelebA code
    defaults to lambda_attrs = 10), which is the default here. All draws are reparameterised.
    """

    def __init__(self, label_weight: float = 10.0, subsampled: bool = True, num_particles: int = 1):
        if label_weight < 0:
            raise ValueError("label_weight must be non-negative")
        super().__init__(num_particles=num_particles)
        self.label_weight = label_weight
        self.subsampled = subsampled

    def view_bounds(self, model, guide, x, y, mask, x_mask=None) -> torch.Tensor:
        """One ELBO per row [B] for one view of the data: log p - log q over all sites of one
        trace, with the labels' log-likelihood times `label_weight`."""
        g, m = traces(model, guide, x, y, mask, x_mask=x_mask)
        batch = mask.shape[0]
        value = -sum(row_sum(site_log_prob(g[name]), batch) for name in sample_sites(g))
        for name in sample_sites(m):
            weight = self.label_weight if name == "y" else 1.0
            value = value + weight * row_sum(site_log_prob(m[name]), batch)
        return value

    def row_bounds(self, model, guide, x, y, mask) -> tuple[torch.Tensor, torch.Tensor]:
        value = self.view_bounds(model, guide, x, y, mask)  # ELBO(x, y_o), ELBO(x) where no y_o
        rows = mask.any(-1).nonzero().squeeze(-1)
        if self.subsampled and len(rows):
            x_l, y_l, mask_l = x[rows], y[rows], mask[rows]
            image_only = self.view_bounds(model, guide, x_l, y_l, torch.zeros_like(mask_l))  # ELBO(x)
            no_image = torch.zeros(len(rows), dtype=torch.bool, device=mask.device)
            labels_only = self.view_bounds(model, guide, x_l, y_l, mask_l, x_mask=no_image)  # ELBO(y_o)
            value = value.index_add(0, rows, image_only + labels_only)
        return value, value
