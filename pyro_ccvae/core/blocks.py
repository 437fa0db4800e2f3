"""Putting the label groups' pieces back in label order: tensors (`join`) and the conditional
prior p_psi(z_c | y) of all labels as one distribution (`LabelBlocks`)."""

from __future__ import annotations

from typing import Sequence

import torch
from pyro.distributions import TorchDistribution, constraints


def inverse_order(indices: Sequence[Sequence[int]]) -> torch.Tensor | None:
    """For groups holding the label positions `indices`, the permutation that takes their
    concatenation back to label order (None if it is in label order already)."""
    order = [i for index in indices for i in index]
    if order == sorted(order):
        return None
    return torch.tensor(sorted(range(len(order)), key=order.__getitem__))


def join(parts: Sequence[torch.Tensor], dim: int, inverse: torch.Tensor | None) -> torch.Tensor:
    """Per-group tensors -> one tensor in label order along `dim` (see `inverse_order`)."""
    joined = torch.cat(list(parts), dim=dim)
    return joined if inverse is None else joined.index_select(dim, inverse.to(joined.device))


def covariance(distribution) -> torch.Tensor:
    """The covariance matrix [..., d, d] of a distribution with event shape [d]."""
    if hasattr(distribution, "covariance_matrix"):
        return distribution.covariance_matrix
    return torch.diag_embed(distribution.variance)


class LabelBlocks(TorchDistribution):
    """p_psi(z_c | y) of all labels: batch shape [..., L], event shape [d], in label order,
    made of the groups' distributions `parts` (batch [..., L_g], event [d]) for the groups at
    label positions `indices`. Draws are the parts' draws in group order, so two draws under
    the same seed use the same noise."""

    arg_constraints = {}
    support = constraints.real_vector

    def __init__(self, parts: Sequence[TorchDistribution], indices: Sequence[Sequence[int]]):
        self.parts, self.indices = list(parts), [list(index) for index in indices]
        self.inverse = inverse_order(self.indices)
        batch = torch.broadcast_shapes(*(p.batch_shape[:-1] for p in self.parts))
        super().__init__(batch + (sum(map(len, self.indices)),), self.parts[0].event_shape, validate_args=False)

    @property
    def has_rsample(self) -> bool:
        return all(p.has_rsample for p in self.parts)

    def _join(self, tensors, dim: int) -> torch.Tensor:
        return join(tensors, dim, self.inverse)

    def rsample(self, sample_shape=torch.Size()) -> torch.Tensor:
        return self._join([p.rsample(sample_shape) for p in self.parts], -2)

    def sample(self, sample_shape=torch.Size()) -> torch.Tensor:
        return self._join([p.sample(sample_shape) for p in self.parts], -2)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """log p(z_c^i | y_i) per label: value [..., L, d] -> [..., L]."""
        return self._join([p.log_prob(value[..., index, :]) for p, index in zip(self.parts, self.indices)], -1)

    @property
    def mean(self) -> torch.Tensor:
        return self._join([p.mean for p in self.parts], -2)

    @property
    def variance(self) -> torch.Tensor:
        return self._join([p.variance for p in self.parts], -2)

    @property
    def covariance_matrix(self) -> torch.Tensor:
        """[..., L, d, d]: each label's block; blocks of different labels are independent."""
        return self._join([covariance(p) for p in self.parts], -3)
