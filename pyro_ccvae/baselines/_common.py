"""Pieces the baselines share: the config fields every model has, the row-wise ELBO base class,
trace helpers and the Table 3 convolutional body."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from pyro import poutine
from pyro.poutine.util import site_is_subsample
from torch import nn

from ..label_groups import MIN_PROB
from ..labels import LabelError
from ..model import LIKELIHOODS, check_common_fields
from ..networks import Encoder


@dataclass
class BaselineConfig:
    """The fields every model's config has (the same meaning as in `model.CCVAEConfig`)."""

    label_names: list[str]  # one binary label per name
    label_priors: list[float]  # p(y_i = 1), from the labelled training data
    label_kinds: list[str] = field(default_factory=list)  # all "binary" (the baselines model no other kind)
    label_classes: dict = field(default_factory=dict)  # unused: no categorical labels
    image_shape: tuple[int, int, int] = (3, 64, 64)  # (C, S, S), S a power of two >= 8
    likelihood: str = "laplace"  # family of p_theta(x | .): "laplace" or "normal"
    likelihood_scale: float = 1.0  # its scale; the paper uses Laplace with scale 1
    dataset: dict = field(default_factory=dict)  # where the data came from (name, file, seed)

    def __post_init__(self):
        check_common_fields(self)
        require_binary(self, type(self).__name__.removesuffix("Config"))

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


def require_binary(config, model: str) -> None:
    """LabelError (a ValueError) unless every label of `config` is binary (the baselines model
    only those)."""
    other = [f"{n} ({k})" for n, k in zip(config.label_names, config.label_kinds) if k != "binary"]
    if other:
        raise LabelError(
            f"{model} models binary labels only, not {', '.join(other)}: train the CCVAE (--model ccvae) "
            "or choose binary labels with --labels"
        )


def label_probs(config) -> torch.Tensor:
    """p(y_i = 1) from the label frequencies, clamped away from 0 and 1 (as in `CCVAE`)."""
    return torch.tensor(config.label_priors).clamp(MIN_PROB, 1 - MIN_PROB)


class BinaryLabelsMixin:
    """`predict` and `draw_labels` of a model whose labels are all binary, from its
    `predict_proba` and its buffer `label_probs` (p(y_i = 1))."""

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """0/1 predictions [B, L]: predict_proba > 1/2."""
        return (self.predict_proba(x) > 0.5).to(x.dtype)

    def draw_labels(self, num: int) -> torch.Tensor:
        """`num` draws [num, L] of y ~ p(y), from torch's global generator."""
        return torch.bernoulli(self.label_probs.expand(num, -1))


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


# The loss class ---------------------------------------------------------------------------------


