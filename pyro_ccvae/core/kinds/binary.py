"""Binary labels, the paper's kind: y_i in {0, 1}.

    p(y_i)         = Bernoulli(frequency of y_i = 1 in the labelled training rows)
    q(y_i | z_c^i) = Bernoulli(sigmoid(w_i . z_c^i + b_i))
    p(z_c^i | y_i) = N(mu_i(y_i), diag sigma_i(y_i)^2): a (loc, scale) pair per value

All binary labels of a model share the paper's sites "y" and "z_c", vectorised in the plate
"labels". p(y) is the labelled frequency itself, clamped away from 0 and 1 (the public
reference code passed it through a sigmoid as if it were a logit).
"""

from __future__ import annotations

import numpy as np
import pyro.distributions as dist
import torch

from ...errors import LabelError
from ..networks import DiagonalClassifier, DiagonalConditionalPrior
from .base import MIN_PROB, Label, LabelGroup, discrete_measure, missing_share

WORDS = {"0": 0.0, "1": 1.0, "false": 0.0, "true": 1.0, "no": 0.0, "yes": 1.0}


class BinaryLabel(Label):
    """A label with values 0 and 1 (also written no/yes, false/true); its prior is p(y_i = 1)."""

    kind, discrete, shares_sites = "binary", True, True

    def parse(self, text):
        value = WORDS.get(text.strip().lower())
        if value is None:
            raise LabelError(f"{self.name} is binary: its value must be 0 or 1, got {text.strip()!r}")
        return value

    def format(self, value):
        return str(int(value))

    def invalid(self, values):
        return values[(values != 0) & (values != 1)]

    def expected(self):
        return "0 or 1"

    def fit_prior(self, values):
        return float(np.mean(values))

    def check_prior(self, prior):
        if isinstance(prior, bool) or not isinstance(prior, (int, float)) or not 0 <= prior <= 1:
            raise ValueError(f"binary label {self.name}: its prior is one frequency in [0, 1], got {prior!r}")

    @classmethod
    def make_group(cls, labels, index, config):
        return BinaryGroup(labels, index, config.z_c_block)

    def traversal_ends(self):
        return 0.0, 1.0

    def other_value(self, predicted):
        return 1 - predicted

    def num_classes(self):
        return 2

    def measure(self, predicted, truth):
        return discrete_measure(predicted, truth)

    def describe(self, values):
        known = values[~np.isnan(values)]
        positive = f"{np.mean(known == 1):.1%} positive" if known.size else "none known"
        return f"{positive}, {missing_share(values)}"


class BinaryGroup(LabelGroup):
    """The factors of all binary labels at once, batch [..., L_g]."""

    enumerable, weighted = True, True

    def __init__(self, labels, index, block_dim: int):
        super().__init__(labels, index)
        self.classifier = DiagonalClassifier(len(index), block_dim)
        self.characteristics = DiagonalConditionalPrior(len(index), block_dim, num_values=2)
        frequencies = torch.tensor([label.prior for label in labels], dtype=torch.float32)
        self.register_buffer("probs", frequencies.clamp(MIN_PROB, 1 - MIN_PROB))

    def prior(self):
        return dist.Bernoulli(self.probs)

    def q_y(self, z_c):
        return dist.Bernoulli(logits=self.classifier(z_c))

    def conditional_prior(self, y):
        return self.characteristics(y)

    def predict(self, z_c):
        return (self.classifier(z_c) > 0).to(z_c.dtype)

