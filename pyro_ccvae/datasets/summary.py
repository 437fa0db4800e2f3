"""What a data file holds, read without loading its images (for `data info`), checked by the
same validator training uses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core.kinds import Label
from .h5format import SPLITS, check_images, read_dataset, trainable_problem


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
    untrainable: str | None  # why the models cannot train on it (h5format.trainable_problem), or None


def summarize(path: str | Path) -> FileSummary:
    """The contents of a data file; DatasetError naming the file if it cannot be read, is
    damaged (every image is read, a slice at a time) or is malformed (h5format.read_dataset
    and its validator): the verdict training would give."""
    data = read_dataset(path, images=False)
    check_images(path)
    return FileSummary(
        path=Path(path),
        name=data.name,
        description=data.description,
        shape=data.images.shape,
        splits={split: len(data.split_indices(split)) for split in SPLITS},
        labels=[
            LabelSummary(label, label.name in data.default_labels, label.describe(data.labels[:, i]))
            for i, label in enumerate(data.labels_info)
        ],
        factors=list(data.factor_names),
        untrainable=trainable_problem(data),
    )
