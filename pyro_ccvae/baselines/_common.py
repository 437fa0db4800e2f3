"""Pieces the baselines share: the config fields every model has, the row-wise ELBO base class,
trace helpers and the Table 3 convolutional body."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from pyro import poutine
from pyro.infer.elbo import ELBO
from pyro.poutine.util import site_is_subsample
from torch import nn

from ..model import LIKELIHOODS
from ..networks import Encoder


@dataclass
class BaselineConfig:
    """The fields every model's config has (the same meaning as in `model.CCVAEConfig`)."""

    label_names: list[str]  # one binary label per name
    label_frequencies: list[float]  # p(y_i = 1), from the labelled training data
    image_shape: tuple[int, int, int] = (3, 64, 64)  # (C, S, S), S a power of two >= 8
    likelihood: str = "laplace"  # family of p_theta(x | .): "laplace" or "normal"
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

    def to_dict(self) -> dict:
        return asdict(self)


def conv_body(channels: int, image_side: int) -> nn.Module:
    """The Table 3 encoder without its last linear layer: x [B, C, S, S] -> features [B, 256]."""
    return Encoder(channels, image_side, 1).features


def likelihood(config, pixel_means: torch.Tensor):
    """p_theta(x | .) with the config's family and scale around `pixel_means`."""
    family = LIKELIHOODS[config.likelihood]
    return family(pixel_means, torch.full_like(pixel_means, config.likelihood_scale))


def label_probs(config) -> torch.Tensor:
    """p(y_i = 1) from the label frequencies, clamped away from 0 and 1 (as in `CCVAE`)."""
    return torch.tensor(config.label_frequencies).clamp(1e-4, 1 - 1e-4)


# Traces ---------------------------------------------------------------------------------------


def traces(model, guide, *args, **kwargs):
    """Nodes of a guide trace and of the model replayed against it."""
    guide_trace = poutine.trace(guide).get_trace(*args, **kwargs)
    model_trace = poutine.trace(poutine.replay(model, trace=guide_trace)).get_trace(*args, **kwargs)
    return guide_trace.nodes, model_trace.nodes


def replay_values(fn, values: dict):
    """`fn` with the latent sites named in `values` set to those values (still latent)."""
    trace = poutine.Trace()
    for name, value in values.items():
        trace.add_node(name, type="sample", is_observed=False, value=value, infer={})
    return poutine.replay(fn, trace=trace)


def sample_sites(nodes) -> list[str]:
    return [
        name
        for name, site in nodes.items()
        if site["type"] == "sample" and not site_is_subsample(site) and not site["infer"].get("_deterministic")
    ]


def site_log_prob(site) -> torch.Tensor:
    """log_prob of a site's value, times the site's mask (poutine.mask / obs_mask) if any."""
    log_prob = site["fn"].log_prob(site["value"])
    if site.get("mask") is not None:
        log_prob = log_prob * site["mask"]
    return log_prob


def row_sum(values: torch.Tensor, batch: int) -> torch.Tensor:
    """Sums everything but the leading row dimension: [B, ...] -> [B]."""
    return values.reshape(batch, -1).sum(-1)


# The loss class ---------------------------------------------------------------------------------


class RowwiseELBO(ELBO):
    """A Pyro ELBO defined by `row_bounds(model, guide, x, y, mask) -> (value, surrogate)`, both
    [B]: `value` is the per-row objective (a bound, plus any classifier term), `surrogate` has
    the same value and a gradient that is an unbiased estimate of the objective's gradient.

    Implements both `loss_and_grads` (used by `SVI.step`) and `differentiable_loss` (used with
    torch optimizers), as `elbo.CCVAE_ELBO` does."""

    def __init__(self, num_particles: int = 1):
        super().__init__(num_particles=num_particles, max_plate_nesting=2)

    def row_bounds(self, model, guide, *args, **kwargs) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def _get_trace(self, model, guide, args, kwargs):
        raise NotImplementedError(f"{type(self).__name__} builds its traces in row_bounds")

    def differentiable_loss(self, model, guide, *args, **kwargs) -> torch.Tensor:
        """Minus the objective summed over rows, averaged over particles."""
        loss = 0.0
        for _ in range(self.num_particles):
            _, surrogate = self.row_bounds(model, guide, *args, **kwargs)
            loss = loss - surrogate.sum() / self.num_particles
        return loss

    def loss(self, model, guide, *args, **kwargs) -> float:
        with torch.no_grad():
            return self.differentiable_loss(model, guide, *args, **kwargs).item()

    def loss_and_grads(self, model, guide, *args, **kwargs) -> float:
        loss = self.differentiable_loss(model, guide, *args, **kwargs)
        loss.backward(retain_graph=self.retain_graph)
        return loss.item()
