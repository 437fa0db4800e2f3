"""Settings that depend on the data set: the paper's for CelebA and CheXpert, quick CPU ones
for everything else (synthfaces, MNIST, a user's file).

A data set is recognised by the `name` stored in its file (`data prepare celeba` writes
"celeba"), so a prepared file passed by its path gets the same defaults as its name.
A setting the user gives always wins; `settings_for` fills in the rest and records which
defaults applied in `TrainConfig.defaults`, which a run's config.json keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ..datasets import resolve_dataset
from .config import TrainConfig


@dataclass(frozen=True)
class DatasetDefaults:
    name: str  # recorded in TrainConfig.defaults
    why: str  # one line for help texts and the README
    epochs: int
    batch_size: int
    lr: float


# Paper, App. C.3: Adam at 2e-4, about 100 epochs in about 2 hours on one GPU; batch 200
# (DESIGN.md sec. 4: "batch ~200"). Its latent sizes, m_c = one dimension per label and
# m_\c = 27, are every data set's defaults (ModelOptions), recorded in a run's config.json.
PAPER = DatasetDefaults("paper", "the paper's, App. C.3", epochs=100, batch_size=200, lr=2e-4)
# A few minutes on a 2-core CPU for 20,000 synthfaces images (README, Results).
QUICK = DatasetDefaults("quick", "quick CPU settings", epochs=8, batch_size=64, lr=1e-3)
BY_DATASET = {"celeba": PAPER, "chexpert": PAPER}
TRAIN_FIELDS = ("epochs", "batch_size", "lr")


def defaults_for(dataset_name: str) -> DatasetDefaults:
    """The defaults of the data set called `dataset_name` (QUICK unless it is in BY_DATASET)."""
    return BY_DATASET.get(dataset_name, QUICK)


def stored_name(path: str | Path) -> str:
    """The `name` attribute of a data file ("" if it has none or cannot be read)."""
    try:
        with h5py.File(path, "r") as f:
            name = f.attrs.get("name", "")
    except (OSError, RuntimeError, KeyError, ValueError, TypeError):  # unreadable: reading the data says why
        return ""
    return name.decode("utf-8") if isinstance(name, (bytes, np.bytes_)) else str(name)  # format 2: fixed-length bytes


def settings_for(dataset: str, data_dir: str | Path | None, **train) -> TrainConfig:
    """The TrainConfig for `dataset` (a name or path) from the fields the user set (`train`;
    None = not set), the rest from the data set's defaults (`defaults_for` the name stored in
    its file) and TrainConfig's own."""
    dataset_name = stored_name(resolve_dataset(dataset, data_dir))
    defaults = defaults_for(dataset_name)
    train = {k: v for k, v in train.items() if v is not None}
    filled = {k: getattr(defaults, k) for k in TRAIN_FIELDS if k not in train}
    return TrainConfig(dataset=dataset, **filled, **train, defaults=f"{defaults.name} ({dataset_name or 'unnamed data'})")


def describe_defaults(field: str) -> str:
    """"8; celeba, chexpert: 100 (the paper's settings (App. C.3))" for a TrainConfig field."""
    special = {}
    for name, defaults in BY_DATASET.items():
        special.setdefault(defaults, []).append(name)
    parts = [f"{getattr(QUICK, field):g}"]
    parts += [f"{', '.join(names)}: {getattr(d, field):g} ({d.why})" for d, names in special.items()]
    return "; ".join(parts)
