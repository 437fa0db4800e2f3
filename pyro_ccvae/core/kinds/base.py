"""What a label kind is: `Label`, one label y_i of a kind, and `LabelGroup`, the Pyro factors of
the labels of one pair of sample sites.

A kind is one file in this folder with a `Label` subclass (values, p(y_i) fitted to data,
manipulation ends, evaluation measure) and a `LabelGroup` subclass (p(y_i), q_phi(y_i | z_c^i)
and p_psi(z_c^i | y_i) as distributions, predictions), plus one line in `kinds/__init__.py`.
The rest of the library asks these objects; it never branches on a kind's name.

Sites: labels of a kind that `shares_sites` (binary) are vectorised in one group with the sites
"y<suffix>" and "z_c<suffix>" in a plate "labels<suffix>" (the suffix is empty for binary
labels: the paper's sites); any other label is a group of its own with suffix "[name]". Every
group takes its labels out of the full label tensors ([..., L] and [..., L, d], in the model's
label order) with `labels_of` and `blocks_of`.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np
import pyro.distributions as dist
import torch
from torch import nn

from ...errors import LabelError

MIN_PROB = 1e-4  # prior probabilities are kept above this, so that log p(y) stays finite


class Label:
    """One label y_i: its name, kind, class names (categorical) and p(y_i) once fitted (`prior`,
    the JSON-ready form stored in a run's config: see each kind)."""

    kind: ClassVar[str]  # the name in data files and run configs
    discrete: ClassVar[bool]  # its values are classes: a classifier, accuracy, enumerable in the bound
    shares_sites: ClassVar[bool] = False  # all labels of the kind are one vectorised group

    def __init__(self, name: str, classes: Sequence[str] = (), prior=None):
        self.name, self.classes, self.prior = name, tuple(classes), prior
        self.check_classes()
        if prior is not None:
            self.check_prior(prior)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    # Values ----------------------------------------------------------------------------------

    def parse(self, text: str) -> float:
        """The value a user means by `text` ("1", "blond", "35"); LabelError if it is none."""
        raise NotImplementedError

    def format(self, value: float) -> str:
        """The text a user would write for `value` (the inverse of `parse`)."""
        raise NotImplementedError

    def invalid(self, values: np.ndarray) -> np.ndarray:
        """The entries of `values` (no NaN) that this label cannot take."""
        raise NotImplementedError

    def expected(self) -> str:
        """What a value must be, for messages ("0 or 1")."""
        raise NotImplementedError

    def check_values(self, values) -> None:
        """LabelError naming the label and the first value it cannot take, if any."""
        bad = self.invalid(np.asarray(values, np.float64).reshape(-1))
        if bad.size:
            raise LabelError(f"{self.name} is {self.kind}: its value must be {self.expected()}, got {bad[0]:g}")

    def check_classes(self) -> None:
        """ValueError unless the class names suit the kind (none, except for categorical labels)."""
        if self.classes:
            raise ValueError(f"{self.kind} label {self.name} has no classes, got {list(self.classes)}")

    # p(y_i) ----------------------------------------------------------------------------------

    def fit_prior(self, values: np.ndarray):
        """p(y_i) fitted to the observed values (NaN-free, at least one); LabelError if they
        cannot fit it."""
        raise NotImplementedError

    def check_prior(self, prior) -> None:
        """ValueError unless `prior` is one this kind fits."""
        raise NotImplementedError

    def with_prior(self, prior) -> "Label":
        return type(self)(self.name, self.classes, prior)

    # The model's factors ---------------------------------------------------------------------

    @classmethod
    def make_group(cls, labels: Sequence["Label"], index: Sequence[int], config) -> "LabelGroup":
        """The Pyro factors of `labels` (at positions `index` among the model's labels; one
        label unless the kind `shares_sites`), sized by the model's `config`."""
        raise NotImplementedError

    def natural_block_size(self) -> int:
        """The size of z_c^i when this is a model's only label (1 unless a kind says better)."""
        return 1

    # Manipulations ---------------------------------------------------------------------------

    def traversal_ends(self) -> tuple[float, float]:
        """The label values a traversal of z_c^i runs between."""
        raise NotImplementedError

    def other_value(self, predicted: torch.Tensor) -> torch.Tensor:
        """A value away from each `predicted` one [B], to intervene with."""
        raise NotImplementedError

    def sweep_values(self, span: str | None, steps: int) -> list[float]:
        """The values of a sweep: every class of a discrete label (LabelError if a range
        "LOW:HIGH" is given), `steps` values across a range for a continuous one."""
        if span is not None:
            raise LabelError(f"{self.name} is {self.kind}: it is swept over all its values, without a range")
        return [float(v) for v in range(self.num_classes())]

    def num_classes(self) -> int:
        raise NotImplementedError

    # Evaluation ----------------------------------------------------------------------------

    def measure(self, predicted: np.ndarray, truth: np.ndarray) -> dict:
        """How well `predicted` [N] recovers `truth` [N]: {"accuracy"} for a discrete label,
        {"mae", "r2"} for a continuous one."""
        raise NotImplementedError

    def describe(self, values: np.ndarray) -> str:
        """The values of a column of a data file (NaN = missing) in a few words."""
        raise NotImplementedError


class LabelGroup(nn.Module):
    """The Pyro factors of labels that share a pair of sample sites (see the module docstring)."""

    enumerable: bool  # whether the unsupervised bound may sum over y_i's values
    weighted: bool  # whether an observed y_i tilts q(z | x) through eq. (4)'s weight w (elbo.py)

    def __init__(self, labels: Sequence[Label], index: Sequence[int], suffix: str = ""):
        super().__init__()
        self.labels = list(labels)
        self.index = list(index)  # positions of these labels among all labels
        self.y_site, self.z_c_site, self.plate = "y" + suffix, "z_c" + suffix, "labels" + suffix
        start = self.index[0]
        contiguous = self.index == list(range(start, start + len(self.index)))
        self._columns = slice(start, start + len(self.index)) if contiguous else self.index

    @property
    def kind(self) -> str:
        return self.labels[0].kind

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

    def conditional_prior(self, y: torch.Tensor) -> dist.TorchDistribution:
        """p_psi(z_c^i | y_i) for y [..., L_g]: batch shape [..., L_g], event shape [d]."""
        raise NotImplementedError

    def conditional_prior_parameters(self) -> list[nn.Parameter]:
        """psi: the parameters of p_psi(z_c^i | y_i) (by default those of `self.characteristics`)."""
        return list(self.characteristics.parameters())

    def predict(self, z_c: torch.Tensor) -> torch.Tensor:
        """The most probable label under q_phi(y_i | z_c^i) (the mean for a continuous one), [..., L_g]."""
        raise NotImplementedError


def discrete_measure(predicted: np.ndarray, truth: np.ndarray) -> dict:
    """{"accuracy": the fraction of `predicted` equal to `truth`} (NaN with no rows)."""
    return {"accuracy": float(np.mean(predicted == truth)) if truth.size else float("nan")}


def missing_share(values: np.ndarray) -> str:
    """"12.5% missing" for a column with NaN for missing values."""
    if not values.size:
        return "no rows"
    return f"{np.mean(np.isnan(values)):.1%} missing"
