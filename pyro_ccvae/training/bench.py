"""Throughput of CCVAE training steps and of the data path, for `pyro-ccvae bench`.

Labelled and unlabelled steps are timed on the same batch shape: all labels observed, or none.
Times are wall-clock over `steps` steps after `warmup` steps, with the device synchronised at
both ends of the timed stretch only.
"""

from __future__ import annotations

import resource
import time
from typing import Callable

import torch

from ..core import CCVAE, CCVAE_ELBO, CCVAEConfig
from ..core.config import label_fields
from ..core.kinds import BinaryLabel, Label
from ..datasets import ImageDataset
from ..datasets.tensors import LabelledImages, fit_label_priors, split_tensors
from ..rng import seeded
from .loop import training_step


def random_images(num_images: int, image_shape: tuple[int, int, int], num_labels: int, device, seed: int = 0) -> LabelledImages:
    """Random uint8 images with random binary labels, all observed: data of a given shape."""
    g = torch.Generator().manual_seed(seed)
    return LabelledImages(
        images=torch.randint(0, 256, (num_images, *image_shape), dtype=torch.uint8, generator=g).to(device),
        labels=torch.randint(0, 2, (num_images, num_labels), generator=g).float().to(device),
        mask=torch.ones(num_images, num_labels, dtype=torch.bool, device=device),
    )


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seconds_per_call(function: Callable[[int], object], steps: int, warmup: int, device: torch.device) -> float:
    """Mean wall time of function(i) over `steps` calls after `warmup` untimed calls."""
    for i in range(warmup):
        function(i)
    _synchronize(device)
    start = time.perf_counter()
    for i in range(steps):
        function(warmup + i)
    _synchronize(device)
    return (time.perf_counter() - start) / steps


def batch_indices(data: LabelledImages, batch_size: int, seed: int = 0) -> Callable[[int], torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    n = len(data)
    return lambda i: torch.randint(0, n, (batch_size,), generator=g)


def random_labels(num_labels: int) -> list[Label]:
    """Binary labels label_0 ... for `random_images`, each with p(y_i = 1) = 1/2."""
    return [BinaryLabel(f"label_{i}", prior=0.5) for i in range(num_labels)]


def dataset_images(data: ImageDataset, device) -> tuple[LabelledImages, list[Label]]:
    """The training split of a data set with its default labels, and those labels with p(y)
    fitted to it."""
    data = data.select_labels(list(data.default_labels))
    split = split_tensors(data, "train", device)
    return split, [label.with_prior(p) for label, p in zip(data.labels_info, fit_label_priors(split, data.labels_info))]


def benchmark_new_ccvae(data: LabelledImages, labels: list[Label], seed: int = 0, **settings) -> dict:
    """`benchmark` of a fresh CCVAE (weights from `seed`) for `labels` on `data`."""
    config = CCVAEConfig(**label_fields(labels), image_shape=tuple(data.images.shape[1:]))
    with seeded(seed, data.device):
        return benchmark(CCVAE(config).to(data.device), data, **settings)


def benchmark(
    model: CCVAE,
    data: LabelledImages,
    batch_size: int = 128,
    steps: int = 20,
    warmup: int = 3,
    num_classifier_samples: int = 100,
    unsup_bound: str = "enumerate",
    lr: float = 1e-3,
) -> dict:
    """Images per second of labelled steps, unlabelled steps and the data path, and peak memory."""
    device = data.device
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    elbo = CCVAE_ELBO(model.label_groups, num_classifier_samples, unsup_bound)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    next_index = batch_indices(data, batch_size)

    def step(observed: bool):
        def run(_):
            x, y, mask = data.batch(next_index(0))
            return training_step(model, elbo, optimizer, x, y, mask if observed else torch.zeros_like(mask))

        return run

    data_seconds = seconds_per_call(lambda _: data.batch(next_index(0)), steps, warmup, device)
    labelled = seconds_per_call(step(True), steps, warmup, device)
    unlabelled = seconds_per_call(step(False), steps, warmup, device)
    if device.type == "cuda":
        peak_mb = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "device": str(device),
        "batch_size": batch_size,
        "labelled_images_per_s": batch_size / labelled,
        "unlabelled_images_per_s": batch_size / unlabelled,
        "labelled_over_unlabelled_step_time": labelled / unlabelled,
        "data_images_per_s": batch_size / data_seconds,
        "peak_memory_mb": peak_mb,
    }
