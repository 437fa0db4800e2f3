"""The fit loop: data to the device, SVI steps with the CCVAE ELBO, validation, checkpoints."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import pyro
import torch

from . import checkpoint
from .data import LabelledImages, label_frequencies, labelled_subset, split_tensors
from .datasets import DatasetError, ImageDataset, read_dataset, resolve_dataset
from .elbo import CCVAE_ELBO
from .evaluate import label_accuracy
from .model import CCVAE, CCVAEConfig


@dataclass
class TrainConfig:
    dataset: str = "synthfaces"  # a built-in name or the path of a prepared .h5 file
    labels: list[str] = field(default_factory=list)  # labels to model; empty = the data set's default
    sup_fraction: float = 0.2  # f: fraction of training images whose labels are kept
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    unsup_bound: str = "enumerate"  # "sample", "enumerate" or "marginal" (see elbo.py)
    num_classifier_samples: int = 100  # k draws of q(z_c | x) for q(y | x), eq. (4)


@dataclass
class PreparedData:
    train: LabelledImages  # labels hidden outside the labelled subset
    valid: LabelledImages
    label_names: list[str]
    image_shape: tuple[int, int, int]


def prepare_data(data: ImageDataset, config: TrainConfig, device: torch.device) -> PreparedData:
    """Chooses the labels and the labelled subset, and moves the splits to `device`."""
    data = data.select_labels(config.labels or list(data.default_labels))
    not_binary = [n for n, k in zip(data.label_names, data.label_kinds) if k != "binary"]
    if not_binary:
        raise DatasetError(f"label(s) {', '.join(not_binary)} are not binary; choose binary labels with --labels")
    keep = labelled_subset(len(data.split_indices("train")), config.sup_fraction, config.seed)
    return PreparedData(
        train=split_tensors(data, "train", device, keep_rows=keep),
        valid=split_tensors(data, "valid", device),
        label_names=list(data.label_names),
        image_shape=data.image_shape,
    )


def fit(
    model: CCVAE,
    data: PreparedData,
    config: TrainConfig,
    run_dir: Path,
    on_step: Callable[[torch.Tensor], None] | None = None,
    on_epoch: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Trains `model` for `config.epochs` epochs of mixed labelled/unlabelled batches.

    Each step maximises eq. (6) on one batch. After each epoch the validation accuracy is
    measured and the checkpoint and metrics in `run_dir` are written. `on_step` receives the
    loss per image as a device tensor (no host sync here); `on_epoch` the epoch's metrics.
    """
    run_dir = Path(run_dir)
    order = torch.Generator().manual_seed(config.seed)
    elbo = CCVAE_ELBO(model.q_y, config.num_classifier_samples, config.unsup_bound)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    history = []
    for epoch in range(1, config.epochs + 1):
        start = time.perf_counter()
        model.train()
        total = torch.zeros((), device=data.train.images.device)
        with pyro.validation_enabled(False):
            for x, y, mask in data.train.batches(config.batch_size, order, shuffle=True):
                loss = elbo.differentiable_loss(model.model, model.guide, x, y, mask)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += loss.detach()
                if on_step is not None:
                    on_step(loss.detach() / x.shape[0])
        model.eval()
        accuracy, per_label = label_accuracy(model, data.valid)
        metrics = {
            "epoch": epoch,
            "loss": total.item() / len(data.train),
            "valid_accuracy": accuracy,
            "valid_per_label": dict(zip(data.label_names, per_label)),
            "seconds": time.perf_counter() - start,
        }
        checkpoint.save_checkpoint(
            run_dir, {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch}
        )
        checkpoint.append_metrics(run_dir, metrics)
        history.append(metrics)
        if on_epoch is not None:
            on_epoch(metrics)
    return history


def train_new_run(
    config: TrainConfig,
    model_options: dict,
    run_dir: Path,
    device: torch.device,
    data_dir: str | Path | None = None,
    on_step: Callable[[torch.Tensor], None] | None = None,
    on_epoch: Callable[[dict], None] | None = None,
) -> tuple[CCVAE, list[dict]]:
    """Loads the data, builds a CCVAE, writes the run's config.json and trains it."""
    torch.manual_seed(config.seed)  # weight init and Pyro's draws use torch's global generator
    dataset_path = resolve_dataset(config.dataset, data_dir)
    data = prepare_data(read_dataset(dataset_path), config, device)
    model = new_model(data, model_options, {"name": config.dataset, "path": str(dataset_path)}).to(device)
    checkpoint.save_config(Path(run_dir), model.config, asdict(config))
    return model, fit(model, data, config, run_dir, on_step, on_epoch)


def new_model(data: PreparedData, model_options: dict, dataset_info: dict) -> CCVAE:
    """A fresh CCVAE whose p(y) is the label frequency in the labelled training rows."""
    config = CCVAEConfig(
        label_names=data.label_names,
        label_frequencies=label_frequencies(data.train),
        image_shape=data.image_shape,
        dataset=dataset_info,
        **model_options,
    )
    return CCVAE(config)
