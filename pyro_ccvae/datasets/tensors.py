"""From a data file to tensors on the training device, and batches from them.

Images stay uint8 on the training device when they fit in half of its free memory (CelebA at
64x64 is 2.5 GB), else in pinned host memory from which each batch is copied asynchronously;
either way they become floats in [0, 1] one batch at a time, on the training device.
Labels become a float tensor with 0 where a label is unknown, plus a boolean mask that is True
where a label is observed: NaN never reaches the model (Pyro issue #2447: a NaN in `obs` gives
NaN gradients even where masked).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..core.kinds import Label
from ..errors import DatasetError, InvalidRequest, LabelError
from .h5format import ImageDataset


def unit_pixels(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels (0..255) -> floats in [0, 1]; floats are taken to be in [0, 1] already."""
    return images.float().div_(255) if images.dtype == torch.uint8 else images.float()


@dataclass
class LabelledImages:
    images: torch.Tensor  # uint8 [N, C, S, S], on the training device or in host memory
    labels: torch.Tensor  # float32 [N, L], 0 where unknown, on the training device
    mask: torch.Tensor  # bool [N, L], True where observed, on the training device

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def device(self) -> torch.device:
        """Where batches are computed."""
        return self.labels.device

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(x in [0, 1], y, mask) for the rows `index`, on the training device."""
        images = self.images[index.to(self.images.device)].to(self.device, non_blocking=True)
        index = index.to(self.device)
        return unit_pixels(images), self.labels[index], self.mask[index]

    def batches(self, batch_size: int, generator: torch.Generator | None = None, shuffle: bool = False):
        n = len(self)
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        for start in range(0, n, batch_size):
            yield self.batch(order[start : start + batch_size])


def image_storage(nbytes: int, device: torch.device) -> torch.device:
    """Where to keep images for training on `device`: there if they fit in half its free
    memory, else in host memory."""
    if device.type == "cuda" and nbytes > torch.cuda.mem_get_info(device)[0] // 2:
        return torch.device("cpu")
    return device


def labelled_subset(num_train: int, sup_fraction: float, seed: int) -> np.ndarray:
    """Which training rows keep their labels: a fraction f of them, chosen from the seed."""
    if not 0 < sup_fraction <= 1:
        raise ValueError(f"the labelled fraction must be in (0, 1], got {sup_fraction}")
    count = max(1, round(sup_fraction * num_train))
    return np.sort(np.random.default_rng(seed).permutation(num_train)[:count])


def split_tensors(
    data: ImageDataset, split: str, device: torch.device, keep_rows: np.ndarray | None = None
) -> LabelledImages:
    """One split as tensors; with `keep_rows`, labels outside those rows (indices into the
    split) are hidden, as for the unlabelled part of the training set."""
    rows = data.split_indices(split)
    if rows.size == 0:
        raise DatasetError(f"the data set has no {split} images")
    labels = data.labels[rows]
    mask = ~np.isnan(labels)
    if keep_rows is not None:
        hidden = np.ones(len(rows), dtype=bool)
        hidden[keep_rows] = False
        mask[hidden] = False
    images = torch.from_numpy(np.ascontiguousarray(data.images[rows]))
    storage = image_storage(images.nbytes, device)
    if storage != device:
        images = images.pin_memory()  # for asynchronous copies of each batch
    return LabelledImages(
        images=images.to(storage),
        labels=torch.from_numpy(np.where(mask, labels, 0).astype(np.float32)).to(device),
        mask=torch.from_numpy(mask).to(device),
    )


def fit_label_priors(split: LabelledImages, labels: Sequence[Label]) -> list:
    """p(y_i) fitted to the observed values of each label (see `ModelConfig.label_priors`);
    LabelError, naming the label, if one has no observed value."""
    priors = []
    for i, label in enumerate(labels):
        values = split.labels[split.mask[:, i], i].double().cpu().numpy()
        if values.size == 0:
            raise LabelError(
                f"label {label.name} has no observed value in the labelled training rows",
                remedy="label more of the training rows",
                setting="sup_fraction",
            )
        priors.append(label.fit_prior(values))
    return priors


def select_images(data: ImageDataset, split: str, indices: Sequence[int], device) -> torch.Tensor:
    """Images number `indices` of a split, as floats in [0, 1] [B, C, S, S] on `device`;
    InvalidRequest naming the split's size if an index is out of range."""
    rows = data.split_indices(split)
    bad = [i for i in indices if not 0 <= i < len(rows)]
    if bad:
        raise InvalidRequest(
            f"image {bad[0]} is out of range: the {split} split has {len(rows)} images (0 to {len(rows) - 1})",
            setting="indices",
        )
    return unit_pixels(torch.from_numpy(data.images[rows[list(indices)]]).to(device))
