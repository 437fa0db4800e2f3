"""M2 (Kingma et al., 2014) with multi-label binary y, as Joy et al. (2021) compare against it.

Generative model (`M2.model`): the labels themselves are latent variables next to z.

    p(y) p(z) p_theta(x | y, z)
    p(y)           = prod_i Bernoulli(y_i | frequency of label i in the labelled data)
    p(z)           = N(0, I)
    p_theta(x | y, z) = Laplace(x | decoder(concat(z, y)), scale)      (or Normal; an option)

Guide (`M2.guide`):

    q_phi(y | x) q_phi(z | x, y)
    q_phi(y | x)    = prod_i Bernoulli(y_i | sigmoid(classifier(x)_i))   classifier: Table 3 encoder
                      body (a separate network) with an L-output linear head
    q_phi(z | x, y) = N(z | mu_phi(x, y), diag sigma_phi(x, y))          Table 3 encoder body,
                      features concatenated with y, then a linear layer -> (loc, scale)

Sizes: the decoder is the Table 3 decoder with z_dim + L inputs, so with the default z_dim = 27
the latent (z, y) has the CCVAE's size m = L + 27 and the decoder is the CCVAE's decoder.

Labels enter as in `core.model.CCVAE`: a masked observation (`obs_mask`) in a "labels" plate at
dim -1 (rows at dim -2); where a label is not observed the guide samples it at "y_unobserved"
from q(y | x). The objective is `M2_ELBO`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pyro
import pyro.distributions as dist
import torch
import torch.nn.functional as F
from pyro import poutine
from torch import nn

from ..core.elbo import RowwiseELBO, row_sum, site_log_prob
from ..core.networks import Decoder
from ..rng import standard_normal
from .common import BaselineConfig, BinaryLabelsMixin, conv_body, label_probs, replay_values, traces

UNSUP_BOUNDS = ("sample", "enumerate")
MAX_ENUMERATED_LABELS = 10  # "enumerate" runs the networks on 2^L copies of the batch


def kingma_alpha(num_rows: int, num_labelled: int) -> float:
    """Kingma et al.'s weight alpha = 0.1 * N on the mean of log q(y | x) over the labelled data,
    as a weight per labelled row: 0.1 * N / N_l (N rows in all, N_l of them labelled)."""
    return 0.1 * num_rows / max(num_labelled, 1)


@dataclass
class M2Config(BaselineConfig):
    z_dim: int = 27  # size of z; the decoder sees z_dim + L inputs (L + 27 = CCVAE's m)


class M2(BinaryLabelsMixin, nn.Module):
    """M2 as a Pyro model/guide pair with the public interface of `core.model.CCVAE`.

    `supports`: interventions set y_i directly in the decoder input (a binary switch, z fixed);
    characteristic swaps transfer the source's predicted labels onto the target's z (a label
    swap: the exact characteristic is not transferred, as the paper notes for Fig. 7).
    Traversals are not possible: M2 has no per-label characteristic latent to traverse, the
    label is one binary input to the decoder."""

    supports = {"intervene": True, "traverse": False, "swap": True, "conditional_generation": True}

    def __init__(self, config: M2Config):
        super().__init__()
        self.config = config
        channels, side, _ = config.image_shape
        num_labels = config.num_labels
        self.classifier = nn.Sequential(conv_body(channels, side), nn.Linear(256, num_labels))  # q(y | x)
        self.encoder_body = conv_body(channels, side)  # q(z | x, y): features of x ...
        self.encoder_head = nn.Linear(256 + num_labels, 2 * config.z_dim)  # ... concatenated with y
        self.decoder = Decoder(channels, side, config.z_dim + num_labels)
        self.register_buffer("label_probs", label_probs(config))

    # Distributions ------------------------------------------------------------------------

    def q_y(self, x: torch.Tensor) -> dist.Bernoulli:
        """q_phi(y | x): independent Bernoullis of batch shape [B, L]."""
        return dist.Bernoulli(logits=self.classifier(x))

    def q_z(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """loc, scale [B, z_dim] of q_phi(z | x, y); y [B, L] with values 0/1."""
        loc, raw_scale = self.encoder_head(torch.cat([self.encoder_body(x), y], dim=-1)).chunk(2, dim=-1)
        return loc, F.softplus(raw_scale) + 1e-5

    def _decode(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(torch.cat([z, y], dim=-1))

    def model(self, x: torch.Tensor | None, y: torch.Tensor, mask: torch.Tensor):
        """p(y) p(z) p_theta(x | y, z); x [B, C, S, S] or None to generate, y [B, L] float (any
        0/1 value where masked), mask [B, L] bool, True where y_i is observed."""
        pyro.module("m2", self)
        batch, num_labels = mask.shape
        with pyro.plate("data", batch, dim=-2):
            with pyro.plate("labels", num_labels, dim=-1):
                y = pyro.sample("y", dist.Bernoulli(self.label_probs), obs=y, obs_mask=mask)  # [B, L]
            zeros = self.label_probs.new_zeros(batch, 1, self.config.z_dim)
            z = pyro.sample("z", dist.Normal(zeros, 1.0).to_event(1))  # [B, 1, z_dim]
            pixel_means = self._decode(y, z.squeeze(1))  # [B, C, S, S]
            x = None if x is None else x.unsqueeze(1)
            pyro.sample("x", self.config.likelihood_of(pixel_means.unsqueeze(1)).to_event(3), obs=x)

    def guide(self, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor):
        """q_phi(y_u | x) for the labels that are not observed, then q_phi(z | x, y)."""
        pyro.module("m2", self)
        batch, num_labels = mask.shape
        with pyro.plate("data", batch, dim=-2):
            with pyro.plate("labels", num_labels, dim=-1), poutine.mask(mask=~mask):
                y_u = pyro.sample("y_unobserved", self.q_y(x))  # [B, L]
            loc, scale = self.q_z(x, torch.where(mask, y, y_u))
            pyro.sample("z", dist.Normal(loc.unsqueeze(1), scale.unsqueeze(1)).to_event(1))  # [B, 1, z_dim]

    # Deterministic views used for evaluation and manipulation -----------------------------

    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """q_phi(y_i = 1 | x), [B, L]."""
        return self.q_y(x).probs

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(y_hat [B, L, 1], z [B, z_dim]): the labels q(y | x) predicts (0/1, shaped like the
        CCVAE's z_c with one-dimensional blocks) and the mean of q_phi(z | x, y_hat)."""
        y_hat = (self.predict_proba(x) > 0.5).to(x.dtype)
        loc, _ = self.q_z(x, y_hat)
        return y_hat.unsqueeze(-1), loc

    def decode(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Pixel means of p_theta(x | y, z) from y [B, L, 1] (or [B, L]) and z [B, z_dim]."""
        return self._decode(y.reshape(*z.shape[:-1], -1), z)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(*self.encode(x))

    def generate(self, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Pixel means of p_theta(x | y, z) for labels y [B, L] (0/1) and z ~ N(0, I)."""
        z = standard_normal((y.shape[0], self.config.z_dim), y, generator)
        return self._decode(y, z)

    def intervene(self, x: torch.Tensor, values: Mapping[int, float | torch.Tensor]) -> torch.Tensor:
        """Reconstructions of x with label i switched to values[i] (a 0/1 number or a per-image
        tensor [B]) in the decoder input."""
        y_hat, z = self.encode(x)
        y_hat = y_hat.squeeze(-1).clone()  # [B, L]
        for index, value in values.items():
            y_hat[:, index] = value
        return self.decode(y_hat, z)

    def swap(self, sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The sources' predicted labels decoded with the targets' z (a label swap)."""
        return self.decode(self.encode(sources)[0], self.encode(targets)[1])


class M2_ELBO(RowwiseELBO):
    """The M2 objective of Kingma et al. (2014), eq. (6)-(9), with multi-label binary y.

    For a row with observed labels y_o and latent labels y_u (either may be empty), y = (y_o, y_u):

        L(x, y)  = E_{q(z|x,y)}[ log p(x|y,z) + log p(y) + log p(z) - log q(z|x,y) ]      eq. (6)
        row      = E_{q(y_u|x)}[ L(x, y) ] + H(q(y_u|x)) + alpha * log q(y_o|x)           eq. (7), (9)

    With every label observed this is eq. (6) plus the classifier term of eq. (9); with none it is
    eq. (7), U(x) = sum_y q(y|x) L(x, y) + H(q(y|x)). The entropy is exact (q(y|x) factorises over
    labels). The sum over y_u in eq. (7) has 2^|u| terms, too many for 18 labels, so
    `unsup_bound` chooses:

    - "sample" (default): `label_samples` draws y_u ~ q(y_u|x) per row with a latent label, each
      with its own z ~ q(z|x,y); the value is the mean of L(x, y) over the draws (unbiased for
      eq. 7). The gradient of q(y|x) through the draw is the score-function (REINFORCE)
      estimate log q(y_u|x) * (L(x, y) - b), where b is the mean of L over the row's other
      draws (the leave-one-out baseline; b = 0 with one draw). Unbiased. The default of two
      draws is the least that gives a baseline: L(x, y) is a large negative number (thousands
      of nats for 64x64 images), and without a baseline its score-function term drowns the
      classifier's gradient. Each extra draw costs one more encoder, classifier and decoder
      pass, for the rows with a latent label only.
    - "enumerate": the exact sum over every configuration of the latent labels (each with one
      z draw); it runs the networks on 2^L copies of the batch, so only for L <= 10.

    alpha weighs log q(y_o|x) per observed label set. Kingma et al. use alpha = 0.1 * N on the
    mean over labelled rows, i.e. 0.1 * N / N_l per labelled row (`kingma_alpha`): 50 for their
    MNIST run with 100 labels out of 50,000, which is the default here.

    The model and guide must be those of `M2` (sites "y" split by obs_mask into "y_observed" and
    "y_unobserved", "z", "x") and take (x, y, mask).
    """

    def __init__(
        self, alpha: float = 50.0, unsup_bound: str = "sample", label_samples: int = 2, num_particles: int = 1
    ):
        if unsup_bound not in UNSUP_BOUNDS:
            raise ValueError(f"unsup_bound must be one of {', '.join(UNSUP_BOUNDS)}, got {unsup_bound!r}")
        if label_samples < 1:
            raise ValueError("label_samples must be at least 1")
        if alpha < 0:
            raise ValueError("alpha must be non-negative")
        super().__init__(num_particles=num_particles)
        self.alpha = alpha
        self.unsup_bound = unsup_bound
        self.label_samples = label_samples

    def row_terms(self, model, guide, x, y, mask, y_unobserved=None) -> dict[str, torch.Tensor]:
        """One trace of the program, reduced to per-row terms [B]:
        `elbo` L(x, y) at the drawn y_u and z (eq. 6), `entropy` H(q(y_u|x)), `log_q_u`
        log q(y_u|x) at the draw, `log_q_o` log q(y_o|x). `y_unobserved` [B, L] fixes the draw."""
        if y_unobserved is not None:
            guide = replay_values(guide, {"y_unobserved": y_unobserved})
        g, m = traces(model, guide, x, y, mask)
        batch = mask.shape[0]
        obs = mask.to(x.dtype)
        q_y = g["y_unobserved"]["fn"]  # q(y | x), batch [B, L]
        y_u = g["y_unobserved"]["value"]  # [B, L]
        elbo = (
            row_sum(site_log_prob(m["x"]), batch)  # log p(x | y, z)
            + row_sum(site_log_prob(m["y_observed"]) + site_log_prob(m["y_unobserved"]), batch)  # log p(y)
            + row_sum(site_log_prob(m["z"]), batch)  # log p(z)
            - row_sum(site_log_prob(g["z"]), batch)  # log q(z | x, y)
        )
        return {
            "elbo": elbo,
            "entropy": ((1 - obs) * q_y.entropy()).sum(-1),
            "log_q_u": ((1 - obs) * q_y.log_prob(y_u)).sum(-1),
            "log_q_o": (obs * q_y.log_prob(torch.where(mask, y, torch.zeros_like(y)))).sum(-1),
        }

    def row_bounds(self, model, guide, x, y, mask) -> tuple[torch.Tensor, torch.Tensor]:
        if self.unsup_bound == "enumerate":
            return self._enumerated(model, guide, x, y, mask)
        return self._sampled(model, guide, x, y, mask)

    def _sampled(self, model, guide, x, y, mask):
        batch = mask.shape[0]
        # Every row once, then label_samples - 1 more copies of the rows with a latent label.
        index = torch.arange(batch, device=mask.device)
        if self.label_samples > 1:
            latent_rows = (~mask).any(-1).nonzero().squeeze(-1)
            index = torch.cat([index, latent_rows.repeat(self.label_samples - 1)])
            x, y, mask = x[index], y[index], mask[index]
        t = self.row_terms(model, guide, x, y, mask)

        zeros = t["elbo"].new_zeros(batch)
        count = zeros.index_add(0, index, torch.ones_like(t["elbo"]))  # draws per row
        signal = t["elbo"].detach()
        others = count[index] - 1
        baseline = (zeros.index_add(0, index, signal)[index] - signal) / others.clamp(min=1)  # leave-one-out
        score = t["log_q_u"] * (signal - baseline)  # score-function term for the draw of y_u
        value = t["elbo"] + t["entropy"] + self.alpha * t["log_q_o"]
        surrogate = value + score - score.detach()
        return zeros.index_add(0, index, value) / count, zeros.index_add(0, index, surrogate) / count

    def _enumerated(self, model, guide, x, y, mask):
        batch, num_labels = mask.shape
        if num_labels > MAX_ENUMERATED_LABELS:
            raise ValueError(
                f"unsup_bound='enumerate' sums over 2^L label configurations; L = {num_labels} is more than "
                f"{MAX_ENUMERATED_LABELS}: use unsup_bound='sample'"
            )
        configs = 2**num_labels
        bits = torch.arange(num_labels, device=mask.device)
        values = ((torch.arange(configs, device=mask.device)[:, None] >> bits) & 1).to(x.dtype)  # [K, L]
        index = torch.arange(batch, device=mask.device).repeat(configs)  # configuration-major: [K * B]
        y_u = values.repeat_interleave(batch, dim=0)  # [K * B, L]
        t = self.row_terms(model, guide, x[index], y[index], mask[index], y_unobserved=y_u)
        # Each configuration of the latent labels once: those that put a 1 on an observed label
        # are duplicates (y_o overrides them) and get weight zero.
        counted = ~(mask[index] & (y_u > 0.5)).any(-1)
        weight = torch.where(counted, t["log_q_u"].exp(), torch.zeros_like(t["log_q_u"]))  # q(y_u | x)
        expected = (weight * t["elbo"]).view(configs, batch).sum(0)  # E_{q(y_u|x)} L(x, y)
        first = slice(0, batch)  # entropy and log q(y_o|x) are the same in every configuration
        value = expected + t["entropy"][first] + self.alpha * t["log_q_o"][first]
        return value, value

