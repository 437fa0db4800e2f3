"""The three label kinds, each as the three factors the CCVAE needs for a label y_i:
its prior p(y_i), its classifier q_phi(y_i | z_c^i) and its conditional prior p_psi(z_c^i | y_i).

    binary       p(y_i) = Bernoulli(frequency of y_i = 1)
                 q(y_i | z_c^i) = Bernoulli(sigmoid(w_i . z_c^i + b_i))          (the paper)
                 p(z_c^i | y_i) = N(mu_i(y_i), sigma_i(y_i)): a pair per value
    categorical  p(y_i) = Categorical(class frequencies)
                 q(y_i | z_c^i) = Categorical(softmax(W_i z_c^i + b_i))          (student report 001)
                 p(z_c^i | y_i) = N(mu_i(y_i), sigma_i(y_i)): a pair per class
    continuous   p(y_i) = N(mean, std) of the labelled values                    ("C3VAE", poster 000)
                 p(z_c^i | y_i) = N(a_i (y_i - mean) / std + c_i, sigma^2 I), sigma fixed
                 q(y_i | z_c^i) = p(y_i | z_c^i), the exact posterior of the two: N(alpha + beta . z_c^i, s^2)

A categorical label starts with its classifier equal to the Bayes classifier of its
conditional prior (as the binary one starts in agreement with its prior); on 32x32
synthfaces-mixed with Hair alone (f = 0.2, 8 epochs, z_c of size 1) this raised validation
accuracy from 0.64 and 0.55 to 0.76 and 0.78 (seeds 0 and 1).

A continuous label's conditional prior is linear-Gaussian with a fixed small scale sigma
(`CCVAEConfig.continuous_prior_scale`), not an MLP of y_i as DESIGN.md sketches: an MLP may map y_i to
z_c^i non-monotonically, and then no regression on z_c^i inverts it. Its classifier has no
parameters of its own: it is the posterior of the model's own p(y_i) p(z_c^i | y_i),
linear-Gaussian in closed form. Where it is observed, a continuous label does not tilt the
guide (elbo.py): its rows keep q(z_c^i | x), so that the encoder itself must place y_i in
z_c^i (docs/objective.md says why and what was measured).

Discrete kinds can be enumerated in the unsupervised bound; a continuous y_i is drawn from q
by reparameterisation. Labels are grouped into Pyro sites: all binary labels share the sites
"y" and "z_c" (vectorised in the plate "labels", as in the paper); each categorical or continuous label is a group of its own with sites "y[name]",
"z_c[name]" in a plate "labels[name]" of size 1. Every group takes its labels out of the full
label tensors ([B, L] and [B, L, d], in the config's label order) with `labels_of` and
`blocks_of`.
"""

from __future__ import annotations

import pyro.distributions as dist
import torch
from torch import nn

from .networks import DiagonalClassifier, DiagonalConditionalPrior

MIN_PROB = 1e-4  # prior probabilities are kept above this, so that log p(y) stays finite


class LabelGroup(nn.Module):
    """Labels of one kind that share a pair of Pyro sites (see the module docstring)."""

    kind: str
    enumerable: bool  # whether the unsupervised bound may sum over y_i's values
    weighted: bool  # whether an observed y_i tilts q(z | x) through eq. (4)'s weight w (elbo.py)

    def __init__(self, index: list[int], suffix: str = ""):
        super().__init__()
        self.index = list(index)  # positions of these labels among all labels
        self.y_site, self.z_c_site, self.plate = "y" + suffix, "z_c" + suffix, "labels" + suffix
        start = self.index[0]
        contiguous = self.index == list(range(start, start + len(self.index)))
        self._columns = slice(start, start + len(self.index)) if contiguous else self.index

    @property
    def size(self) -> int:
        return len(self.index)

    def labels_of(self, y: torch.Tensor) -> torch.Tensor:
        """This group's columns of a label tensor: [..., L] -> [..., L_g]."""
        return y[..., self._columns]

    def blocks_of(self, z_c: torch.Tensor) -> torch.Tensor:
        """This group's blocks of z_c: [..., L, d] -> [..., L_g, d]."""
        return z_c[..., self._columns, :]

    def prior(self) -> dist.TorchDistribution:
        """p(y_i), batch shape [L_g]."""
        raise NotImplementedError

    def q_y(self, z_c: torch.Tensor) -> dist.TorchDistribution:
        """q_phi(y_i | z_c^i): z_c [..., L_g, d] -> batch shape [..., L_g]."""
        raise NotImplementedError

    def conditional_prior(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """loc, scale [..., L_g, d] of p_psi(z_c^i | y_i) for y [..., L_g]."""
        raise NotImplementedError

    def predict(self, z_c: torch.Tensor) -> torch.Tensor:
        """The most probable label under q_phi(y_i | z_c^i) (the mean for a continuous one), [..., L_g]."""
        raise NotImplementedError


class _DiscreteLabels(LabelGroup):
    """Binary or categorical labels: enumerable, weighted as in eq. (4), and a (loc, scale)
    pair of p_psi(z_c^i | y_i) per value in `self.characteristics`."""

    enumerable, weighted = True, True
    characteristics: DiagonalConditionalPrior

    def conditional_prior(self, y):
        return self.characteristics(y)


class BinaryLabels(_DiscreteLabels):
    kind = "binary"

    def __init__(self, index: list[int], frequencies: list[float], block_dim: int):
        super().__init__(index)
        self.classifier = DiagonalClassifier(len(index), block_dim)
        self.characteristics = DiagonalConditionalPrior(len(index), block_dim, num_values=2)
        # p(y): the labelled frequencies themselves (no sigmoid), clamped away from 0 and 1.
        self.register_buffer("probs", torch.tensor(frequencies, dtype=torch.float32).clamp(MIN_PROB, 1 - MIN_PROB))

    def prior(self):
        return dist.Bernoulli(self.probs)

    def q_y(self, z_c):
        return dist.Bernoulli(logits=self.classifier(z_c))

    def predict(self, z_c):
        return (self.classifier(z_c) > 0).to(z_c.dtype)


class CategoricalLabel(_DiscreteLabels):
    kind = "categorical"

    def __init__(self, name: str, index: int, frequencies: list[float], block_dim: int):
        super().__init__([index], suffix=f"[{name}]")
        num_classes = len(frequencies)
        self.classifier = nn.Linear(block_dim, num_classes)  # z_c^i -> logits of the K classes
        self.characteristics = DiagonalConditionalPrior(1, block_dim, num_values=num_classes)
        probs = torch.tensor(frequencies, dtype=torch.float32).clamp(min=MIN_PROB)
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

    def predict(self, z_c):
        return self.classifier(z_c).argmax(-1).to(z_c.dtype)


class ContinuousLabel(LabelGroup):
    kind, enumerable, weighted = "continuous", False, False

    def __init__(self, name: str, index: int, mean: float, std: float, block_dim: int, prior_scale: float):
        super().__init__([index], suffix=f"[{name}]")
        self.register_buffer("mean", torch.tensor([float(mean)]))
        self.register_buffer("std", torch.tensor([float(std)]))
        self.prior_scale = prior_scale  # of p(z_c | y), fixed (CCVAEConfig.continuous_prior_scale)
        # p(z_c | y): loc linear in the standardised value.
        self.slope = nn.Parameter(torch.full((1, block_dim), 2.0))  # like the binary prior's -2 / +2
        self.offset = nn.Parameter(torch.zeros(1, block_dim))

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
        return loc, torch.full_like(loc, self.prior_scale)

    def predict(self, z_c):
        return self.q_y(z_c).mean


def make_label_groups(
    names: list[str], kinds: list[str], priors: list, block_dim: int, continuous_prior_scale: float
) -> list[LabelGroup]:
    """The groups for labels `names` of `kinds`, with `priors` as in `CCVAEConfig.label_priors`:
    one group for all binary labels (if any), then one per categorical or continuous label."""
    binary = [i for i, kind in enumerate(kinds) if kind == "binary"]
    groups: list[LabelGroup] = []
    if binary:
        groups.append(BinaryLabels(binary, [priors[i] for i in binary], block_dim))
    for i, (name, kind, prior) in enumerate(zip(names, kinds, priors)):
        if kind == "categorical":
            groups.append(CategoricalLabel(name, i, list(prior), block_dim))
        elif kind == "continuous":
            mean, std = prior
            groups.append(ContinuousLabel(name, i, mean, std, block_dim, continuous_prior_scale))
    return groups


def default_z_c_block(kinds: list[str], num_classes: list[int]) -> int:
    """The size of each z_c^i unless chosen: K for a model of one K-class categorical label
    (MNIST's digit: the paper's App. D.6 choice z_c in R^N), else 1 (the paper's CelebA
    models). On sklearn's handwritten digits (benchmarks/digits_z_c_size.py, f = 0.06, 30
    epochs, seeds 0 and 1) z_c of size 10 reached test accuracy 0.832 and 0.859, size 1 0.354
    and 0.380."""
    if len(kinds) == 1 and kinds[0] == "categorical":
        return num_classes[0]
    return 1
