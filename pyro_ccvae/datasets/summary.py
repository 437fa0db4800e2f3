"""What a data file holds, read without loading its images (for `data info`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ..core.kinds import Label, make_labels
from ..errors import DatasetError, LabelError
from .h5format import REQUIRED, SPLITS, read_strings


@dataclass
class LabelSummary:
    label: Label
    default: bool  # one of the labels a model trains on unless told otherwise
    values: str  # the label's values in a few words (its kind's `describe`)


@dataclass
class FileSummary:
    path: Path
    name: str
    description: str
    shape: tuple[int, ...]  # images: (N, C, H, W)
    splits: dict[str, int]  # images per split
    labels: list[LabelSummary]
    factors: list[str]


def summarize(path: str | Path) -> FileSummary:
    """The contents of a data file; DatasetError naming the file if it is not readable as one."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"no data file at {path}")
    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in REQUIRED if k not in f]
            if missing:
                raise DatasetError(f"{path} is not a pyro-ccvae data file (missing {', '.join(missing)})")
            names = list(read_strings(f["label_names"]))
            kinds = list(read_strings(f["label_kinds"])) if "label_kinds" in f else ["binary"] * len(names)
            values, split, shape = f["labels"][()], f["split"][()], f["images"].shape
            factors = list(read_strings(f["factor_names"])) if "factor_names" in f else []
            attrs = {k: f.attrs.get(k, "") for k in ("name", "description", "default_labels", "label_classes")}
        labels = make_labels(names, kinds, json.loads(attrs["label_classes"] or "{}"))
    except DatasetError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError, TypeError, LabelError) as e:  # what h5py raises for corruption
        raise DatasetError(f"cannot read {path} as a pyro-ccvae data file ({e})") from e
    default = json.loads(attrs["default_labels"] or "[]")
    return FileSummary(
        path=path,
        name=str(attrs["name"]),
        description=str(attrs["description"]),
        shape=tuple(shape),
        splits={s: int(np.sum(split == v)) for s, v in SPLITS.items()},
        labels=[LabelSummary(label, label.name in default, label.describe(values[:, i])) for i, label in enumerate(labels)],
        factors=factors,
    )
