"""The one on-disk format every data set is turned into (documented in data/README.md).

An HDF5 file with:

    images        uint8   [N, C, H, W]   pixels, channels first
    labels        float32 [N, L]         binary: 0/1; categorical: class index 0..K-1;
                                         continuous: the value; NaN where a label is missing
    label_names   utf-8   [L]
    label_kinds   utf-8   [L]            a kind of core.kinds.KINDS: "binary", "categorical", "continuous"
    split         uint8   [N]            0 train, 1 valid, 2 test
    factors       float32 [N, F]         optional ground truth (hidden characteristics, nuisances)
    factor_names  utf-8   [F]            optional

and root attributes `format_version`, `name`, `description`, `default_labels` (a JSON list
of the label names a model trains on unless told otherwise) and `label_classes` (a JSON object
from each categorical label's name to its list of class names).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import h5py
import numpy as np

from ..core.kinds import Label, make_labels
from ..errors import DatasetError, LabelError

FORMAT_VERSION = 1
SPLITS = {"train": 0, "valid": 1, "test": 2}
_STR = h5py.string_dtype("utf-8")
REQUIRED = ("images", "labels", "label_names", "split")  # datasets every file has
_CORE_ATTRS = ("format_version", "name", "description", "default_labels", "label_classes")


@dataclass(frozen=True)
class ImageDataset:
    """A whole data set in memory, exactly as stored."""

    images: np.ndarray  # uint8 [N, C, H, W]
    labels: np.ndarray  # float32 [N, L], NaN = missing
    label_names: tuple[str, ...]
    split: np.ndarray  # uint8 [N]
    label_kinds: tuple[str, ...] = ()
    factors: np.ndarray | None = None  # float32 [N, F]
    factor_names: tuple[str, ...] = ()
    name: str = ""
    description: str = ""
    default_labels: tuple[str, ...] = ()
    label_classes: dict = field(default_factory=dict)  # categorical label name -> class names
    extra_attrs: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.label_kinds:
            object.__setattr__(self, "label_kinds", ("binary",) * len(self.label_names))
        if not self.default_labels:
            object.__setattr__(self, "default_labels", tuple(self.label_names))

    @property
    def num_images(self) -> int:
        return self.images.shape[0]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    @property
    def labels_info(self) -> list[Label]:
        """The labels as objects of their kinds (no priors)."""
        return make_labels(self.label_names, self.label_kinds, self.label_classes)

    def split_indices(self, name: str) -> np.ndarray:
        return np.flatnonzero(self.split == SPLITS[name])

    def select_labels(self, names: Sequence[str]) -> "ImageDataset":
        """The same data with only the labels `names`, in that order."""
        unknown = [n for n in names if n not in self.label_names]
        if unknown:
            raise DatasetError(
                f"unknown label(s) {', '.join(unknown)}; this data set has: "
                + ", ".join(self.label_names)
            )
        cols = [self.label_names.index(n) for n in names]
        return ImageDataset(
            images=self.images,
            labels=self.labels[:, cols],
            label_names=tuple(names),
            split=self.split,
            label_kinds=tuple(self.label_kinds[c] for c in cols),
            factors=self.factors,
            factor_names=self.factor_names,
            name=self.name,
            description=self.description,
            default_labels=tuple(n for n in self.default_labels if n in names) or tuple(names),
            label_classes={n: c for n, c in self.label_classes.items() if n in names},
            extra_attrs=self.extra_attrs,
        )


class DatasetWriter:
    """Writes a data file in chunks, so that large data sets need not fit in memory.

    The file appears under its final name only when the writer closes without error.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        num_images: int,
        image_shape: tuple[int, int, int],
        label_names: Sequence[str],
        label_kinds: Sequence[str] | None = None,
        factor_names: Sequence[str] = (),
        name: str = "",
        description: str = "",
        default_labels: Sequence[str] | None = None,
        label_classes: dict | None = None,
        extra_attrs: dict | None = None,
    ):
        self.path = Path(path)
        self.tmp_path = self.path.with_name(self.path.name + ".tmp")
        label_kinds = tuple(label_kinds or ("binary",) * len(label_names))
        label_classes = dict(label_classes or {})
        try:
            make_labels(label_names, label_kinds, label_classes)
        except (LabelError, ValueError) as e:
            raise DatasetError(f"cannot write {self.path}: {e}") from e
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = h5py.File(self.tmp_path, "w")
        c, h, w = image_shape
        f.create_dataset("images", (num_images, c, h, w), np.uint8, chunks=(min(num_images, 256), c, h, w))
        f.create_dataset("labels", (num_images, len(label_names)), np.float32)
        f.create_dataset("label_names", data=list(label_names), dtype=_STR)
        f.create_dataset("label_kinds", data=list(label_kinds), dtype=_STR)
        f.create_dataset("split", (num_images,), np.uint8)
        if factor_names:
            f.create_dataset("factors", (num_images, len(factor_names)), np.float32)
            f.create_dataset("factor_names", data=list(factor_names), dtype=_STR)
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["name"] = name
        f.attrs["description"] = description
        f.attrs["default_labels"] = json.dumps(list(default_labels or label_names))
        f.attrs["label_classes"] = json.dumps({k: list(v) for k, v in label_classes.items()})
        for key, value in (extra_attrs or {}).items():
            f.attrs[key] = json.dumps(value)
        self._file = f

    def write(self, start: int, images, labels, split, factors=None) -> None:
        stop = start + len(images)
        self._file["images"][start:stop] = images
        self._file["labels"][start:stop] = labels
        self._file["split"][start:stop] = split
        if factors is not None:
            self._file["factors"][start:stop] = factors

    def close(self) -> None:
        self._file.close()
        os.replace(self.tmp_path, self.path)

    def abort(self) -> None:
        self._file.close()
        self.tmp_path.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_dataset(path: str | os.PathLike, data: ImageDataset) -> None:
    """Writes a whole in-memory data set (atomically: a temporary file, then a rename)."""
    with DatasetWriter(
        path,
        data.num_images,
        data.image_shape,
        data.label_names,
        data.label_kinds,
        data.factor_names,
        data.name,
        data.description,
        data.default_labels,
        data.label_classes,
        data.extra_attrs,
    ) as writer:
        writer.write(0, data.images, data.labels, data.split, data.factors)


def read_strings(dataset) -> tuple[str, ...]:
    """An HDF5 dataset of utf-8 strings as Python strings."""
    return tuple(s.decode() if isinstance(s, bytes) else str(s) for s in dataset[()])


def read_dataset(path: str | os.PathLike) -> ImageDataset:
    """Reads a whole data file into memory; any problem is a DatasetError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"no data file at {path}")
    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in REQUIRED if k not in f]
            if missing:
                raise DatasetError(
                    f"{path} is not a pyro-ccvae data file (missing {', '.join(missing)}); "
                    "see data/README.md for the format"
                )
            version = int(f.attrs.get("format_version", 0))
            if version > FORMAT_VERSION:
                raise DatasetError(
                    f"{path} has format version {version}; this pyro-ccvae reads up to "
                    f"{FORMAT_VERSION}: upgrade pyro-ccvae"
                )
            label_names = read_strings(f["label_names"])
            data = ImageDataset(
                images=f["images"][()],
                labels=f["labels"][()].astype(np.float32),
                label_names=label_names,
                split=f["split"][()].astype(np.uint8),
                label_kinds=read_strings(f["label_kinds"]) if "label_kinds" in f else (),
                factors=f["factors"][()].astype(np.float32) if "factors" in f else None,
                factor_names=read_strings(f["factor_names"]) if "factor_names" in f else (),
                name=str(f.attrs.get("name", path.stem)),
                description=str(f.attrs.get("description", "")),
                default_labels=tuple(json.loads(f.attrs.get("default_labels", "[]"))),
                label_classes=json.loads(f.attrs.get("label_classes", "{}")),
                extra_attrs={
                    k: json.loads(v)
                    for k, v in f.attrs.items()
                    if k not in _CORE_ATTRS
                },
            )
    except DatasetError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as e:  # h5py raises RuntimeError for some corruption
        raise DatasetError(f"cannot read {path} as a pyro-ccvae data file ({e})") from e
    _check(data, path)
    return data


def _check(data: ImageDataset, path: Path) -> None:
    n = data.images.shape[0]
    problems = []
    if data.images.dtype != np.uint8 or data.images.ndim != 4:
        problems.append("images must be uint8 [N, C, H, W]")
    if data.labels.shape != (n, len(data.label_names)):
        problems.append(f"labels have shape {data.labels.shape}, expected ({n}, {len(data.label_names)})")
    if data.split.shape != (n,) or (data.split.size and data.split.max() > 2):
        problems.append("split must be [N] with values 0 (train), 1 (valid), 2 (test)")
    if len(data.label_kinds) != len(data.label_names):
        problems.append("label_kinds and label_names differ in length")
    if data.factors is not None and data.factors.shape != (n, len(data.factor_names)):
        problems.append("factors and factor_names do not match")
    if not problems:
        try:
            make_labels(data.label_names, data.label_kinds, data.label_classes)
        except (LabelError, ValueError) as e:  # an unknown kind, or class names that do not fit it
            problems.append(str(e))
    if problems:
        raise DatasetError(f"{path} is malformed: " + "; ".join(problems))
