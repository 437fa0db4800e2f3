"""The three label kinds, each as the three factors the CCVAE needs for a label y_i:
its prior p(y_i), its classifier q_phi(y_i | z_c^i) and its conditional prior p_psi(z_c^i | y_i).

    binary       p(y_i) = Bernoulli(frequency of y_i = 1)
                 q(y_i | z_c^i) = Bernoulli(sigmoid(w_i . z_c^i + b_i))          (the paper)
                 p(z_c^i | y_i) = N(mu_i(y_i), sigma_i(y_i)): a pair per value
    categorical  p(y_i) = Categorical(class frequencies)
                 q(y_i | z_c^i) = Categorical(softmax(W_i z_c^i + b_i))          (student report 001)
                 p(z_c^i | y_i) = N(mu_i(y_i), sigma_i(y_i)): a pair per class
    continuous   p(y_i) = N(mean, std) of the labelled values
                 q(y_i | z_c^i) = N(mean + std (w_i . z_c^i + b_i), std s_i)     ("C3VAE", poster 000)
                 p(z_c^i | y_i) = N(a_i (y_i - mean) / std + c_i, diag sigma_i)

A continuous label's conditional prior is linear-Gaussian rather than an MLP of y_i (as
DESIGN.md sketches): then p(y_i | z_c^i) is exactly a Normal with a mean linear in z_c^i, the
family of q(y_i | z_c^i), whereas an MLP may map y_i to z_c^i non-monotonically, which no
linear regression on z_c^i can invert (with an MLP, Age on synthfaces-mixed had a validation
R^2 below 0 after 3 epochs).

Discrete kinds can be enumerated in the unsupervised bound; a continuous y_i is drawn from q
by reparameterisation. Where a continuous y_i is observed, the guide draws z_c^i from
q(z_c^i | x, y_i), which is Gaussian (`ContinuousLabel.posterior`), instead of weighting
draws of q(z_c^i | x) as eq. (4) does for discrete labels. Labels are grouped into Pyro sites: all binary labels share the sites
"y" and "z_c" (vectorised in the plate "labels", as in the paper); each categorical or
continuous label is a group of its own with sites "y[name]", "z_c[name]" in a plate
"labels[name]" of size 1. Every group takes its labels out of the full label tensors
([B, L] and [B, L, d], in the config's label order) with `labels_of` and `blocks_of`.
"""

from __future__ import annotations

import pyro.distributions as dist
import torch
import torch.nn.functional as F
from torch import nn

from .datasets.h5format import LABEL_KINDS  # noqa: F401  (binary, categorical, continuous)
from .networks import DiagonalClassifier, DiagonalConditionalPrior

MIN_PROB = 1e-4  # prior probabilities are kept above this, so that log p(y) stays finite


class LabelGroup(nn.Module):
    """Labels of one kind that share a pair of Pyro sites (see the module docstring)."""

    kind: str
    enumerable: bool  # whether the unsupervised bound may sum over y_i's values

    def __init__(self, names: list[str], index: list[int], suffix: str = ""):
        super().__init__()
        self.names = list(names)
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

    def posterior(self, loc, scale, y, mask) -> dist.TorchDistribution:
        """The guide's distribution of z_c^i given q_phi(z_c^i | x) = N(loc, scale) ([B, L_g, d]
        each) and the labels y, mask [B, L_g]: here q(z_c^i | x) itself; eq. (4) then conditions
        on observed labels by importance weighting (see elbo.py)."""
        return dist.Normal(loc, scale).to_event(1)

    def q_y(self, z_c: torch.Tensor) -> dist.TorchDistribution:
        """q_phi(y_i | z_c^i): z_c [..., L_g, d] -> batch shape [..., L_g]."""
        raise NotImplementedError

    def conditional_prior(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """loc, scale [..., L_g, d] of p_psi(z_c^i | y_i) for y [..., L_g]."""
        raise NotImplementedError

    def predict(self, z_c: torch.Tensor) -> torch.Tensor:
        """The most probable label under q_phi(y_i | z_c^i) (the mean for a continuous one), [..., L_g]."""
        raise NotImplementedError


class BinaryLabels(LabelGroup):
    kind, enumerable = "binary", True

    def __init__(self, names, index, frequencies: list[float], block_dim: int):
        super().__init__(names, index)
        self.classifier = DiagonalClassifier(len(names), block_dim)
        self.characteristics = DiagonalConditionalPrior(len(names), block_dim, num_values=2)
        # p(y): the labelled frequencies themselves (no sigmoid), clamped away from 0 and 1.
        self.register_buffer("probs", torch.tensor(frequencies, dtype=torch.float32).clamp(MIN_PROB, 1 - MIN_PROB))

    def prior(self):
        return dist.Bernoulli(self.probs)

    def q_y(self, z_c):
        return dist.Bernoulli(logits=self.classifier(z_c))

    def conditional_prior(self, y):
        return self.characteristics(y)

    def predict(self, z_c):
        return (self.classifier(z_c) > 0).to(z_c.dtype)


class CategoricalLabel(LabelGroup):
    kind, enumerable = "categorical", True

    def __init__(self, name: str, index: int, frequencies: list[float], block_dim: int):
        super().__init__([name], [index], suffix=f"[{name}]")
        num_classes = len(frequencies)
        self.classifier = nn.Linear(block_dim, num_classes)  # z_c^i -> logits of the K classes
        self.characteristics = DiagonalConditionalPrior(1, block_dim, num_values=num_classes)
        probs = torch.tensor(frequencies, dtype=torch.float32).clamp(min=MIN_PROB)
        self.register_buffer("probs", (probs / probs.sum()).unsqueeze(0))  # [1, K]

    def prior(self):
        return dist.Categorical(self.probs)

    def q_y(self, z_c):
        return dist.Categorical(logits=self.classifier(z_c))  # batch [..., 1]

    def conditional_prior(self, y):
        return self.characteristics(y)

    def predict(self, z_c):
        return self.classifier(z_c).argmax(-1).to(z_c.dtype)


class ContinuousLabel(LabelGroup):
    kind, enumerable = "continuous", False

    def __init__(self, name: str, index: int, mean: float, std: float, block_dim: int):
        super().__init__([name], [index], suffix=f"[{name}]")
        self.register_buffer("mean", torch.tensor([float(mean)]))
        self.register_buffer("std", torch.tensor([float(std)]))
        # q(y | z_c): a linear regression on z_c^i, in standardised units.
        self.weight = nn.Parameter(torch.ones(1, block_dim))
        self.bias = nn.Parameter(torch.zeros(1))
        self.raw_scale = nn.Parameter(torch.full((1,), -0.4328))  # softplus = 0.5
        # p(z_c | y): loc linear in the standardised value, a scale per dimension.
        self.slope = nn.Parameter(torch.full((1, block_dim), 2.0))  # like the binary prior's -2 / +2
        self.offset = nn.Parameter(torch.zeros(1, block_dim))
        self.raw_prior_scale = nn.Parameter(torch.full((1, block_dim), 0.5413))  # softplus = 1

    def standardise(self, y: torch.Tensor) -> torch.Tensor:
        return (y - self.mean) / self.std

    def prior(self):
        return dist.Normal(self.mean, self.std)

    def q_y(self, z_c):
        standardised = (z_c * self.weight).sum(-1) + self.bias  # [..., 1]
        return dist.Normal(self.mean + self.std * standardised, self.std * F.softplus(self.raw_scale))

    def posterior(self, loc, scale, y, mask):
        """q(z_c^i | x, y_i) = q(y_i | z_c^i) q(z_c^i | x) / q(y_i | x) where y_i is observed,
        else q(z_c^i | x). With q(y_i | z_c^i) = N(a + c . z_c^i, s^2) linear-Gaussian this is
        exactly Gaussian: precision diag(1 / scale^2) + c c^T / s^2, mean loc + K (y_i - a - c . loc)
        with gain K = scale^2 c / (s^2 + c . scale^2 c). So the guide draws z_c^i from it by
        reparameterisation, and eq. (4) needs no importance weight and no estimate of q(y_i | x)
        for this label (see elbo.py)."""
        c = self.std * self.weight  # [1, d]
        noise_var = (self.std * F.softplus(self.raw_scale)).square()  # [1]
        var_c = scale.square() * c  # [B, 1, d]
        predicted = self.mean + self.std * self.bias + (c * loc).sum(-1)  # [B, 1]: a + c . loc
        gain = mask.unsqueeze(-1) * var_c / (noise_var + (c * var_c).sum(-1)).unsqueeze(-1)  # [B, 1, d]
        observed = mask.to(loc.dtype).unsqueeze(-1).unsqueeze(-1)  # [B, 1, 1, 1]
        precision = torch.diag_embed(scale.square().reciprocal()) + observed * (c.unsqueeze(-1) * c.unsqueeze(-2)) / noise_var
        return dist.MultivariateNormal(loc + gain * (y - predicted).unsqueeze(-1), precision_matrix=precision)

    def conditional_prior(self, y):
        loc = self.standardise(y).unsqueeze(-1) * self.slope + self.offset  # [..., 1, d]
        return loc, F.softplus(self.raw_prior_scale).expand_as(loc)

    def predict(self, z_c):
        return self.q_y(z_c).mean


def make_label_groups(
    names: list[str], kinds: list[str], priors: list, block_dim: int
) -> list[LabelGroup]:
    """The groups for labels `names` of `kinds`, with `priors` as in `CCVAEConfig.label_priors`:
    one group for all binary labels (if any), then one per categorical or continuous label."""
    binary = [i for i, kind in enumerate(kinds) if kind == "binary"]
    groups: list[LabelGroup] = []
    if binary:
        groups.append(BinaryLabels([names[i] for i in binary], binary, [priors[i] for i in binary], block_dim))
    for i, (name, kind, prior) in enumerate(zip(names, kinds, priors)):
        if kind == "categorical":
            groups.append(CategoricalLabel(name, i, list(prior), block_dim))
        elif kind == "continuous":
            mean, std = prior
            groups.append(ContinuousLabel(name, i, mean, std, block_dim))
    return groups


def default_z_c_block(kinds: list[str], num_classes: list[int]) -> int:
    """The size of each z_c^i unless chosen: K for a model of one K-class categorical label
    (MNIST's digit: the paper's App. D.6 choice z_c in R^N), else 1 (the paper's CelebA
    models). On sklearn's handwritten digits (benchmarks/digits_z_c_size.py, f = 0.06, 30
    epochs) z_c of size 10 reached test accuracy 0.677 against 0.246 for size 1."""
    if len(kinds) == 1 and kinds[0] == "categorical":
        return num_classes[0]
    return 1
