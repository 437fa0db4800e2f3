"""The independent "pre-trained classifier" the paper scores its models with (Table 2, Table 5,
App. D.1 and D.4): a small CNN of its own, not the CCVAE's encoder, trained with binary
cross-entropy on every binary label of a data set's training split (all rows' labels, not the
CCVAE's labelled subset). Missing (NaN) labels are masked out of the loss.

An oracle folder holds `oracle.json` (the `OracleConfig`, including its test accuracy) and
`oracle.pt` (the state dict, loaded with `weights_only=True`).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core.kinds import BinaryLabel
from ..datasets.h5format import ImageDataset
from ..datasets.tensors import LabelledImages, split_tensors, unit_pixels
from ..errors import DatasetError, OracleError, OracleMismatch
from ..rng import seeded
from ..training.checkpoint import atomic_write

CONFIG_FILE = "oracle.json"
WEIGHTS_FILE = "oracle.pt"
FORMAT_VERSION = 1


@dataclass
class OracleConfig:
    label_names: list[str]
    image_shape: tuple[int, int, int]
    widths: tuple[int, ...] = (32, 64, 128, 256)  # channels of the conv stages (each halves the side)
    hidden: int = 256
    dataset: dict = field(default_factory=dict)  # name/path of the data it was trained on
    train: dict = field(default_factory=dict)  # epochs, batch_size, lr, seed
    metrics: dict = field(default_factory=dict)  # test accuracy and friends, after fitting

    def __post_init__(self):
        self.image_shape = tuple(self.image_shape)
        self.widths = tuple(self.widths)


class OracleNet(nn.Module):
    """x [B, C, S, S] in [0, 1] -> logits [B, L]: stages of 3x3 conv + batch norm + ReLU +
    2x2 max-pool down to a 4x4 map (widths from `config.widths`, the last one repeated), then a
    two-layer head on the flattened map."""

    def __init__(self, config: OracleConfig):
        super().__init__()
        self.config = config
        channels, side, _ = config.image_shape
        stages = int(math.log2(side)) - 2
        if side < 8 or 2 ** (stages + 2) != side:
            raise ValueError(f"image side must be a power of two >= 8, got {side}")
        layers, c_in = [], channels
        for k in range(stages):
            c_out = config.widths[min(k, len(config.widths) - 1)]
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c_out
        self.features = nn.Sequential(*layers, nn.Flatten())  # [B, c_in * 4 * 4]
        self.head = nn.Sequential(
            nn.Dropout(0.2), nn.Linear(c_in * 16, config.hidden), nn.ReLU(), nn.Linear(config.hidden, len(config.label_names))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def log_probs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(log p(y_i = 1 | x), log p(y_i = 0 | x)), each [B, L]."""
        logits = self(x)
        return F.logsigmoid(logits), F.logsigmoid(-logits)


def binary_labels(data: ImageDataset) -> ImageDataset:
    """The data set with only its binary labels (the ones an oracle learns)."""
    names = [label.name for label in data.labels_info if isinstance(label, BinaryLabel)]
    if not names:
        raise DatasetError("the data set has no binary labels for an oracle to learn")
    return data.select_labels(names)


def masked_bce(logits: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy averaged over the observed entries only (mask True)."""
    losses = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    return (losses * mask).sum() / mask.sum().clamp(min=1)


@torch.no_grad()
def predict_logits(net: OracleNet, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Logits [N, L] for images [N, C, S, S] (uint8 in 0..255, or floats in [0, 1])."""
    was_training = net.training
    net.eval()
    out = []
    for start in range(0, images.shape[0], batch_size):
        out.append(net(unit_pixels(images[start : start + batch_size])))
    net.train(was_training)
    return torch.cat(out) if out else images.new_zeros(0, len(net.config.label_names), dtype=torch.float32)


@torch.no_grad()
def label_accuracy(net: OracleNet, split: LabelledImages) -> tuple[list[float], list[float]]:
    """(per-label accuracy, per-label majority-class accuracy) on the observed labels of a split."""
    predicted = predict_logits(net, split.images) > 0
    truth = split.labels > 0.5
    count = split.mask.sum(0).clamp(min=1)
    accuracy = ((predicted == truth) & split.mask).sum(0) / count
    positive = (truth & split.mask).sum(0) / count
    return accuracy.tolist(), torch.maximum(positive, 1 - positive).tolist()


def fit_oracle(
    data: ImageDataset,
    epochs: int = 5,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    device: torch.device | str = "cpu",
    dataset_info: dict | None = None,
    on_epoch: Callable[[dict], None] | None = None,
) -> OracleNet:
    """Trains an oracle on the binary labels of `data`'s train split and measures it on the
    test split; the returned net is in eval mode with its test accuracy (mean and per label, and
    the majority-class baseline) in `net.config.metrics`. `on_epoch` gets each epoch's
    mean training loss."""
    data = binary_labels(data)
    device = torch.device(device)
    torch_gen = torch.Generator().manual_seed(seed)
    train = split_tensors(data, "train", device)
    config = OracleConfig(
        label_names=list(data.label_names),
        image_shape=data.image_shape,
        dataset=dict(dataset_info or {"name": data.name}),
        train={"epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed},
    )
    with seeded(seed):  # weight init from `seed`, leaving the global generator as it was
        net = OracleNet(config).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    for epoch in range(1, epochs + 1):
        net.train()
        total, seen = 0.0, 0
        for x, y, mask in train.batches(batch_size, torch_gen, shuffle=True):
            if x.shape[0] < 2:  # batch norm needs two images
                continue
            loss = masked_bce(net(x), y, mask)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * x.shape[0]
            seen += x.shape[0]
        if on_epoch is not None:
            on_epoch({"epoch": epoch, "loss": total / max(seen, 1)})
    net.eval()
    test = split_tensors(data, "test", device)
    per_label, majority = label_accuracy(net, test)
    config.metrics = {
        "test_accuracy": float(np.mean(per_label)),
        "test_per_label": dict(zip(config.label_names, per_label)),
        "majority_baseline": float(np.mean(majority)),
        "majority_per_label": dict(zip(config.label_names, majority)),
        "test_images": len(test),
    }
    return net


def save_oracle(net: OracleNet, folder: str | os.PathLike) -> Path:
    """Writes oracle.json and oracle.pt into `folder` (made if needed); returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"format_version": FORMAT_VERSION, **asdict(net.config)}
    atomic_write(folder / WEIGHTS_FILE, lambda f: torch.save(net.state_dict(), f))
    atomic_write(folder / CONFIG_FILE, lambda f: f.write((json.dumps(config, indent=2) + "\n").encode()))
    return folder


def load_oracle(folder: str | os.PathLike, device: torch.device | str = "cpu") -> OracleNet:
    """The oracle saved in `folder`, in eval mode on `device` (weights read with weights_only=True)."""
    folder = Path(folder)
    config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    if not config_path.is_file() or not weights_path.is_file():
        raise OracleError(
            f"{folder} is not an oracle folder: it needs {CONFIG_FILE} and {WEIGHTS_FILE}",
            remedy="train one with fit_oracle and save_oracle",
            setting="oracle_dir",
        )
    try:
        raw = json.loads(config_path.read_text())
        raw.pop("format_version", None)
        net = OracleNet(OracleConfig(**raw))
        net.load_state_dict(torch.load(weights_path, map_location=device, weights_only=True))
    except Exception as e:  # bad JSON, wrong keys, a corrupt or mismatched state dict
        raise OracleError(f"cannot load the oracle in {folder} ({type(e).__name__}: {e})") from e
    return net.to(device).eval()


def label_scorer(
    net: OracleNet, label_names: Sequence[str], image_shape: Sequence[int]
) -> Callable[[torch.Tensor], torch.Tensor]:
    """images [B, C, S, S] in [0, 1] -> the oracle's logits [B, len(label_names)] for exactly
    `label_names`, in that order. Raises if the oracle was trained on other labels (it
    must know every one of them) or on images of another shape: OracleMismatch."""
    known = list(net.config.label_names)
    missing = [n for n in label_names if n not in known]
    if missing:
        raise OracleMismatch(
            f"the oracle was trained on other labels ({', '.join(known)}); it lacks {', '.join(missing)}"
        )
    if tuple(image_shape) != tuple(net.config.image_shape):
        raise OracleMismatch(
            f"the oracle was trained on images of shape {tuple(net.config.image_shape)}, "
            f"not {tuple(image_shape)}"
        )
    columns = [known.index(n) for n in label_names]

    @torch.no_grad()
    def score(x: torch.Tensor) -> torch.Tensor:
        return net(x)[:, columns]

    return score
