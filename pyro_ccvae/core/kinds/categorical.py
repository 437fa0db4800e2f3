"""Categorical labels (student report 001): y_i one of K named classes, stored as the class index.

    p(y_i)         = Categorical(class frequencies in the labelled training rows)
    q(y_i | z_c^i) = Categorical(softmax(W_i z_c^i + b_i))
    p(z_c^i | y_i) = N(mu_i(y_i), diag sigma_i(y_i)^2): a (loc, scale) pair per class

Each categorical label is a group of its own with sites "y[name]", "z_c[name]". It starts with
its classifier equal to the Bayes classifier of its conditional prior (as a binary one starts
in agreement with its prior); on 32x32 synthfaces-mixed with Hair alone (f = 0.2, 8 epochs, z_c
of size 1) this raised validation accuracy from 0.64 and 0.55 to 0.76 and 0.78 (seeds 0, 1).
A model whose only label is categorical gets z_c^i of size K by default (MNIST's digit: the
paper's App. D.6 choice z_c in R^N); on sklearn's handwritten digits
(benchmarks/digits_z_c_size.py, f = 0.06, 30 epochs, seeds 0 and 1) size 10 reached test
accuracy 0.832 and 0.859, size 1 0.354 and 0.380.
"""

from __future__ import annotations

import numpy as np
import pyro.distributions as dist
import torch
from torch import nn

from ...errors import LabelError
from ..networks import DiagonalConditionalPrior
from .base import MIN_PROB, Label, LabelGroup, discrete_measure, missing_share


class CategoricalLabel(Label):
    """A label with K >= 2 named classes, written by name or index; its prior is the K class
    frequencies."""

    kind, discrete = "categorical", True

    def check_classes(self):
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            raise ValueError(f"categorical label {self.name} needs two or more distinct class names, got {list(self.classes)}")

    def parse(self, text):
        text = text.strip()
        lowered = [c.lower() for c in self.classes]
        if text.lower() in lowered:
            return float(lowered.index(text.lower()))
        if text.isdigit() and int(text) < len(self.classes):
            return float(text)
        raise LabelError(f"{self.name} is categorical: its value must be one of {', '.join(self.classes)}, got {text!r}")

    def format(self, value):
        return self.classes[int(value)]

    def invalid(self, values):
        return values[(values != np.round(values)) | (values < 0) | (values >= len(self.classes))]

    def expected(self):
        return f"a class index 0 to {len(self.classes) - 1}"

    def fit_prior(self, values):
        return (np.bincount(values.astype(np.int64), minlength=len(self.classes)) / len(values)).tolist()

    def check_prior(self, prior):
        if not isinstance(prior, (list, tuple)) or len(prior) != len(self.classes):
            raise ValueError(f"categorical label {self.name}: its prior is one frequency per class, got {prior!r}")

    @classmethod
    def make_group(cls, labels, index, config):
        (label,) = labels
        return CategoricalGroup(label, index[0], config.z_c_block)

    def natural_block_size(self):
        return len(self.classes)

    def traversal_ends(self):
        return 0.0, float(len(self.classes) - 1)

    def other_value(self, predicted):
        return (predicted + 1) % len(self.classes)  # the next class

    def num_classes(self):
        return len(self.classes)

    def measure(self, predicted, truth):
        return discrete_measure(predicted, truth)

    def describe(self, values):
        known = values[~np.isnan(values)]
        counts = np.bincount(known.astype(np.int64), minlength=len(self.classes))
        return ", ".join(f"{n}: {c}" for n, c in zip(self.classes, counts)) + f"; {missing_share(values)}"


class CategoricalGroup(LabelGroup):
    """The factors of one categorical label, batch [..., 1]."""

    enumerable, weighted = True, True

    def __init__(self, label: CategoricalLabel, index: int, block_dim: int):
        super().__init__([label], [index], suffix=f"[{label.name}]")
        num_classes = len(label.classes)
        self.classifier = nn.Linear(block_dim, num_classes)  # z_c^i -> logits of the K classes
        self.characteristics = DiagonalConditionalPrior(1, block_dim, num_values=num_classes)
        probs = torch.tensor(label.prior, dtype=torch.float32).clamp(min=MIN_PROB)
        self.register_buffer("probs", (probs / probs.sum()).unsqueeze(0))  # [1, K]
        with torch.no_grad():  # start classifier and prior in agreement, as the binary ones do
            if block_dim >= num_classes:  # class k at 3 e_k: every pair of classes apart
                self.characteristics.loc.zero_()[0, range(num_classes), range(num_classes)] = 3.0
            means = self.characteristics.loc[0]  # [K, d], unit scales
            # The Bayes classifier of p(z | y) p(y): logits mu_k . z - |mu_k|^2 / 2 + log p(y = k).
            self.classifier.weight.copy_(means)
            self.classifier.bias.copy_(-0.5 * means.square().sum(-1) + self.probs[0].log())

    def prior(self):
        return dist.Categorical(self.probs)

    def q_y(self, z_c):
        return dist.Categorical(logits=self.classifier(z_c))  # batch [..., 1]

    def conditional_prior(self, y):
        return self.characteristics(y)

    def predict(self, z_c):
        return self.classifier(z_c).argmax(-1).to(z_c.dtype)
