"""What every model's config holds (`ModelConfig`): its labels and the family of p_theta(x | .)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

import pyro.distributions as dist
import torch

from .kinds import Label, make_labels

LIKELIHOODS = {"laplace": dist.Laplace, "normal": dist.Normal}


def label_fields(labels: Sequence[Label]) -> dict:
    """The label fields of a `ModelConfig` for label objects with their priors."""
    return {
        "label_names": [label.name for label in labels],
        "label_priors": [label.prior for label in labels],
        "label_kinds": [label.kind for label in labels],
        "label_classes": {label.name: list(label.classes) for label in labels if label.classes},
    }


@dataclass
class ModelConfig:
    label_names: list[str]  # z_c has one block per label (in the CCVAE)
    # p(y_i) per label, fitted to the labelled training rows: binary, p(y_i = 1); categorical,
    # the K class frequencies; continuous, [mean, std] of the labelled values.
    label_priors: list
    label_kinds: list[str] = field(default_factory=list)  # per label, a key of kinds.KINDS; empty = all binary
    label_classes: dict = field(default_factory=dict)  # categorical label -> its class names
    image_shape: tuple[int, int, int] = (3, 64, 64)  # (C, S, S), S a power of two >= 8
    likelihood: str = "laplace"  # family of p_theta(x | .): "laplace" or "normal"
    likelihood_scale: float = 1.0  # its scale; the paper uses Laplace with scale 1
    dataset: dict = field(default_factory=dict)  # where the data came from (name, path)

    def __post_init__(self):
        self.image_shape = tuple(self.image_shape)
        self.label_kinds = list(self.label_kinds) or ["binary"] * len(self.label_names)
        if len(self.label_priors) != len(self.label_names) or len(self.label_kinds) != len(self.label_names):
            raise ValueError("need one label prior and one label kind per label name")
        make_labels(self.label_names, self.label_kinds, self.label_classes, self.label_priors)  # checks each
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {', '.join(LIKELIHOODS)}")
        if self.likelihood_scale <= 0:
            raise ValueError("likelihood_scale must be positive")

    @property
    def labels(self) -> list[Label]:
        """The labels as objects of their kinds, priors included."""
        return make_labels(self.label_names, self.label_kinds, self.label_classes, self.label_priors)

    @property
    def num_labels(self) -> int:
        return len(self.label_names)

    def likelihood_of(self, pixel_means: torch.Tensor) -> dist.TorchDistribution:
        """p_theta(x | .) with this config's family and scale around `pixel_means`."""
        return LIKELIHOODS[self.likelihood](pixel_means, torch.full_like(pixel_means, self.likelihood_scale))

    def to_dict(self) -> dict:
        return asdict(self)
