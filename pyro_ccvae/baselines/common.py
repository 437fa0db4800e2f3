"""Pieces the baselines share: the config every baseline has, trace helpers and the Table 3
convolutional body."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from pyro import poutine
from pyro.poutine.util import site_is_subsample
from torch import nn

from ..core.config import ModelConfig
from ..core.kinds import MIN_PROB, BinaryLabel
from ..core.networks import Encoder
from ..errors import LabelError


@dataclass
class BaselineConfig(ModelConfig):
    """The fields every model's config has (`core.config.ModelConfig`), all labels binary: the
    baselines model no other kind."""

    def __post_init__(self):
        super().__post_init__()
        require_binary(self, type(self).__name__.removesuffix("Config"))


def conv_body(channels: int, image_side: int) -> nn.Module:
    """The Table 3 encoder without its last linear layer: x [B, C, S, S] -> features [B, 256]."""
    return Encoder(channels, image_side, 1).features


def require_binary(config: ModelConfig, model: str) -> None:
    """LabelError (a ValueError) unless every label of `config` is binary (the baselines model
    only those)."""
    other = [f"{label.name} ({label.kind})" for label in config.labels if not isinstance(label, BinaryLabel)]
    if other:
        raise LabelError(
            f"{model} models binary labels only, not {', '.join(other)}",
            remedy="train the CCVAE, or choose binary labels only",
            setting="labels",
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

    def draw_labels(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """`num` draws [num, L] of y ~ p(y), from `generator` (else torch's global generator)."""
        probs = self.label_probs.expand(num, -1)
        if generator is None:
            return torch.bernoulli(probs)
        return torch.bernoulli(probs.to(generator.device), generator=generator).to(probs.device)


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

