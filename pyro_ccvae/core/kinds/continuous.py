"""Continuous labels ("C3VAE", poster 000): y_i a real number, such as an age in years.

    p(y_i)         = N(mean, std) of the labelled values
    p(z_c^i | y_i) = N(a_i (y_i - mean) / std + c_i, sigma^2 I), sigma fixed
    q(y_i | z_c^i) = p(y_i | z_c^i), the exact posterior of the two: N(alpha + beta . z_c^i, s^2)

The conditional prior is linear-Gaussian with a fixed small scale sigma
(`CCVAEConfig.continuous_prior_scale`), not an MLP of y_i as DESIGN.md sketches: an MLP may map
y_i to z_c^i non-monotonically, and then no regression on z_c^i inverts it. The classifier has
no parameters of its own: it is the posterior of the model's own p(y_i) p(z_c^i | y_i),
linear-Gaussian in closed form. Where it is observed, a continuous label does not tilt the
guide (elbo.py): its rows keep q(z_c^i | x), so that the encoder itself must place y_i in
z_c^i (docs/objective.md says why and what was measured). A latent y_i is drawn from q by
reparameterisation: its values cannot be summed.
"""

from __future__ import annotations

import numpy as np
import pyro.distributions as dist
import torch
from torch import nn

from ...errors import LabelError
from .base import Label, LabelGroup, missing_share

TRAVERSAL_SDS = 2.0  # traversals and default sweeps run over mean -/+ this many sd of p(y_i)
OTHER_VALUE_SDS = 1.5  # an intervention moves a value to mean + or - this many sd
RANGE_SDS = 100.0  # a value asked for must lie within mean -/+ this many sd of the labelled values


class ContinuousLabel(Label):
    """A label with real values; its prior is [mean, std] of the labelled values."""

    kind, discrete = "continuous", False

    def parse(self, text):
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not np.isfinite(value):
            raise LabelError(
                f"{self.name} is continuous: its value must be a finite number (for example {self.name}=35), got {text.strip()!r}"
            )
        if self.prior is not None:  # p(z_c | y) is linear in y: far outside the data, z_c leaves anything decodable
            mean, std = self.prior
            low, high = mean - RANGE_SDS * std, mean + RANGE_SDS * std
            if not low <= value <= high:
                raise LabelError(
                    f"{self.name}={text.strip()} is far outside the values the model was trained on (mean {mean:g}, "
                    f"sd {std:g}); give a value from {low:g} to {high:g}"
                )
        return value

    def format(self, value):
        return f"{value:g}"

    def invalid(self, values):
        return values[~np.isfinite(values)]

    def expected(self):
        return "a finite number"

    def fit_prior(self, values):
        std = float(np.std(values)) if len(values) > 1 else 0.0
        if not std > 0:
            raise LabelError(
                f"continuous label {self.name} takes a single value in the labelled training rows",
                remedy="label more of the training rows",
                setting="sup_fraction",
            )
        return [float(np.mean(values)), std]

    def check_prior(self, prior):
        if not isinstance(prior, (list, tuple)) or len(prior) != 2 or not prior[1] > 0:
            raise ValueError(f"continuous label {self.name}: its prior is [mean, std] with std > 0, got {prior!r}")

    @classmethod
    def make_group(cls, labels, index, config):
        (label,) = labels
        return ContinuousGroup(label, index[0], config.z_c_block, config.continuous_prior_scale)

    def traversal_ends(self):
        mean, std = self.prior
        return mean - TRAVERSAL_SDS * std, mean + TRAVERSAL_SDS * std

    def other_value(self, predicted):
        mean, std = self.prior
        return torch.where(predicted < mean, mean + OTHER_VALUE_SDS * std, mean - OTHER_VALUE_SDS * std)

    def sweep_values(self, span, steps):
        low, high = self.traversal_ends()
        if span is not None:
            low_text, colon, high_text = span.partition(":")
            if not colon:
                raise LabelError(f"a sweep range is LOW:HIGH, for example {self.name}=20:80; got {span!r}")
            low, high = self.parse(low_text), self.parse(high_text)
        if steps < 2:
            raise LabelError(f"a sweep of {self.name} needs at least 2 steps")
        return [low + (high - low) * k / (steps - 1) for k in range(steps)]

    def measure(self, predicted, truth):
        error = predicted - truth
        spread = float(np.sum((truth - truth.mean()) ** 2)) if truth.size else 0.0
        return {
            "mae": float(np.mean(np.abs(error))) if truth.size else float("nan"),
            "r2": 1 - float(np.sum(error**2)) / spread if spread > 0 else float("nan"),
        }

    def describe(self, values):
        known = values[~np.isnan(values)]
        if not known.size:
            return missing_share(values)
        return f"mean {known.mean():.3g}, min {known.min():.3g}, max {known.max():.3g}; {missing_share(values)}"


class ContinuousGroup(LabelGroup):
    """The factors of one continuous label, batch [..., 1]."""

    enumerable, weighted = False, False

    def __init__(self, label: ContinuousLabel, index: int, block_dim: int, prior_scale: float):
        super().__init__([label], [index], suffix=f"[{label.name}]")
        mean, std = label.prior
        self.register_buffer("mean", torch.tensor([float(mean)]))
        self.register_buffer("std", torch.tensor([float(std)]))
        self.prior_scale = prior_scale  # of p(z_c | y), fixed (CCVAEConfig.continuous_prior_scale)
        # p(z_c | y): loc linear in the standardised value.
        self.slope = nn.Parameter(torch.full((1, block_dim), 2.0))  # like the binary prior's -2 / +2
        self.offset = nn.Parameter(torch.zeros(1, block_dim))

    def conditional_prior_parameters(self) -> list[nn.Parameter]:
        return [self.slope, self.offset]

    def standardise(self, y: torch.Tensor) -> torch.Tensor:
        return (y - self.mean) / self.std

    def prior(self):
        return dist.Normal(self.mean, self.std)

    def regression(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(alpha, beta, s): p(y | z_c^i) = N(alpha + beta . z_c^i, s^2), the exact posterior of
        p(y) p(z_c^i | y), both Gaussian: in standardised units its precision is
        1 + |a|^2 / sigma^2 and its mean a . (z - c) / sigma^2 / precision."""
        inverse_var = self.prior_scale**-2
        precision = 1 + self.slope.square().sum(-1) * inverse_var  # [1]
        beta = self.std * self.slope * inverse_var / precision.unsqueeze(-1)  # [1, d]
        alpha = self.mean - (beta * self.offset).sum(-1)  # [1]
        return alpha, beta, self.std / precision.sqrt()

    def q_y(self, z_c):
        alpha, beta, s = self.regression()
        return dist.Normal(alpha + (beta * z_c).sum(-1), s)  # [..., 1]

    def conditional_prior(self, y):
        loc = self.standardise(y).unsqueeze(-1) * self.slope + self.offset  # [..., 1, d]
        return dist.Normal(loc, torch.full_like(loc, self.prior_scale)).to_event(1)

    def predict(self, z_c):
        return self.q_y(z_c).mean
