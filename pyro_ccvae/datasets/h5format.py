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

Files of format 2 (written by this version) protect every byte that matters with HDF5's own
checksums: metadata in the HDF5 1.10 format (checksummed object headers and chunk indexes),
every dataset with the fletcher32 filter, strings stored fixed-length (no unchecked global
heap). A damaged file therefore fails with a read error, not a crash. Their first 512 bytes,
HDF5's user block, hold `MARKER`, readable without the HDF5 library. A file without it (format
1, or another writer) is first read in full by a child process limited in memory and time
(inspection.py), so that a damaged one cannot crash, hang or exhaust the process using it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import h5py
import numpy as np

from ..core.kinds import Label, make_labels
from ..errors import DatasetError, LabelError
from .inspection import inspect_in_child

FORMAT_VERSION = 2  # 2: checksummed (see the module docstring); 1 is read too
SPLITS = {"train": 0, "valid": 1, "test": 2}
REQUIRED = ("images", "labels", "label_names", "split")  # datasets every file has
_CORE_ATTRS = ("format_version", "name", "description", "default_labels", "label_classes")
USER_BLOCK = 512  # bytes before the HDF5 superblock
MARKER = b"pyro-ccvae data file, format 2: HDF5 with checksummed metadata and fletcher32 data\n"
CHUNK_BYTES = 1 << 20  # about this many bytes per chunk of labels, split and factors


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
    path: str = ""  # the file it was read from, if any (for messages)

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
            path=self.path,
        )


class DatasetWriter:
    """Writes a data file (format 2) in chunks, so that large data sets need not fit in memory.

    The file appears under its final name only when the writer closes without error; on any
    error nothing is left behind.
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
        if num_images < 1:
            raise DatasetError(f"cannot write {self.path}: a data file holds at least one image, got {num_images}")
        try:
            make_labels(label_names, label_kinds, label_classes)
        except (LabelError, ValueError) as e:
            raise DatasetError(f"cannot write {self.path}: {e}") from e
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = h5py.File(self.tmp_path, "w", libver=("v110", "latest"), userblock_size=USER_BLOCK)
        try:
            f = self._file
            _create(f, "images", (num_images, *image_shape), np.uint8, (min(num_images, 256), *image_shape))
            _create(f, "labels", (num_images, len(label_names)), np.float32)
            _create(f, "split", (num_images,), np.uint8)
            _write_strings(f, "label_names", label_names)
            _write_strings(f, "label_kinds", label_kinds)
            if factor_names:
                _create(f, "factors", (num_images, len(factor_names)), np.float32)
                _write_strings(f, "factor_names", factor_names)
            f.attrs["format_version"] = FORMAT_VERSION
            for key, value in (("name", name), ("description", description)):
                f.attrs[key] = _fixed(value)
            f.attrs["default_labels"] = _fixed(json.dumps(list(default_labels or label_names)))
            f.attrs["label_classes"] = _fixed(json.dumps({k: list(v) for k, v in label_classes.items()}))
            for key, value in (extra_attrs or {}).items():
                f.attrs[key] = _fixed(json.dumps(value))
        except BaseException:
            self.abort()
            raise

    def write(self, start: int, images, labels, split, factors=None) -> None:
        stop = start + len(images)
        self._file["images"][start:stop] = images
        self._file["labels"][start:stop] = labels
        self._file["split"][start:stop] = split
        if factors is not None:
            self._file["factors"][start:stop] = factors

    def close(self) -> None:
        self._file.close()
        with open(self.tmp_path, "r+b") as f:  # the user block: readable without the HDF5 library
            f.write(MARKER)
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


def _create(f: h5py.File, name: str, shape: tuple, dtype, chunks: tuple | None = None) -> None:
    """A dataset checked by the fletcher32 filter (chunks of about CHUNK_BYTES unless given)."""
    if 0 in shape:  # nothing to protect, and HDF5 takes no empty chunks
        f.create_dataset(name, shape, dtype)
        return
    if chunks is None:
        row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * np.dtype(dtype).itemsize
        chunks = (max(1, min(shape[0], CHUNK_BYTES // max(row_bytes, 1))), *shape[1:])
    f.create_dataset(name, shape, dtype, chunks=chunks, fletcher32=True)


def _fixed(text: str) -> np.bytes_:
    """A fixed-length UTF-8 string (stored in the checksummed object header, not a global heap)."""
    return np.bytes_(text.encode("utf-8"))


def _write_strings(f: h5py.File, name: str, strings: Sequence[str]) -> None:
    encoded = [s.encode("utf-8") for s in strings]
    width = max([len(e) for e in encoded] + [1])
    _create(f, name, (len(encoded),), f"S{width}")
    if encoded:
        f[name][:] = np.array(encoded, dtype=f"S{width}")


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


def _text(value) -> str:
    """An attribute or string entry as text: fixed-length bytes (format 2) or str (format 1)."""
    return value.decode("utf-8") if isinstance(value, (bytes, np.bytes_)) else str(value)


def read_strings(dataset) -> tuple[str, ...]:
    """An HDF5 dataset of strings (fixed-length bytes or variable-length utf-8) as Python strings."""
    return tuple(_text(s) for s in dataset[()])


def has_marker(path: Path) -> bool:
    """Whether the file starts with this version's MARKER (read without the HDF5 library)."""
    with open(path, "rb") as f:
        return f.read(len(MARKER)) == MARKER


def read_dataset(path: str | os.PathLike, images: bool = True) -> ImageDataset:
    """Reads a data file into memory and checks it (`validate`); any problem is a DatasetError
    naming the file. With `images` False the pixels are not read: `images` is then a
    zero-filled stand-in of the right shape that takes no memory.

    A file without this version's MARKER is first read in full by a child process
    (inspection.inspect_in_child), so that a damaged one cannot crash or hang this one."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"no data file at {path}")
    try:
        if not has_marker(path):
            inspect_in_child(path)
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
                    f"{path} has format version {version}; this pyro-ccvae reads up to {FORMAT_VERSION}",
                    remedy="upgrade pyro-ccvae",
                )
            shape = f["images"].shape
            data = ImageDataset(
                images=f["images"][()] if images else np.broadcast_to(np.zeros((), np.uint8), shape),
                labels=f["labels"][()].astype(np.float32),
                label_names=read_strings(f["label_names"]),
                split=f["split"][()].astype(np.uint8),
                label_kinds=read_strings(f["label_kinds"]) if "label_kinds" in f else (),
                factors=f["factors"][()].astype(np.float32) if "factors" in f else None,
                factor_names=read_strings(f["factor_names"]) if "factor_names" in f else (),
                name=_text(f.attrs.get("name", path.stem)),
                description=_text(f.attrs.get("description", "")),
                default_labels=tuple(json.loads(_text(f.attrs.get("default_labels", "[]")))),
                label_classes=json.loads(_text(f.attrs.get("label_classes", "{}"))),
                extra_attrs={k: json.loads(_text(v)) for k, v in f.attrs.items() if k not in _CORE_ATTRS},
                path=str(path),
            )
    except DatasetError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError, TypeError, UnicodeDecodeError) as e:  # h5py's corruption errors
        raise DatasetError(f"cannot read {path}: it is damaged or not a pyro-ccvae data file ({e})") from e
    validate(data, path)
    return data


def check_images(path: str | os.PathLike, slice_bytes: int = 64 << 20) -> None:
    """Reads every image of a data file, a slice at a time, without keeping them: DatasetError
    if a chunk is damaged (format 2 checks each with fletcher32). For describing a file without
    holding its pixels in memory, with the same verdict reading them would give."""
    try:
        with h5py.File(path, "r") as f:
            images = f["images"]
            step = max(1, slice_bytes // max(1, int(np.prod(images.shape[1:])) * images.dtype.itemsize))
            for start in range(0, images.shape[0], step):
                images[start : start + step]
    except (OSError, RuntimeError, KeyError, ValueError) as e:
        raise DatasetError(f"cannot read {path}: it is damaged or not a pyro-ccvae data file ({e})") from e


def validate(data: ImageDataset, path: Path) -> None:
    """DatasetError naming the file and every problem unless the arrays fit together, the
    label kinds and class names are known, no label or factor name repeats, and every label
    value fits its kind."""
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
    for what, names in (("label", data.label_names), ("factor", data.factor_names)):
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            problems.append(f"the {what} name(s) {', '.join(repeated)} appear more than once")
    if not problems:
        try:
            check_label_values(data)
        except (LabelError, ValueError, DatasetError) as e:  # an unknown kind, class names that do not fit it, a bad value
            problems.append(str(e))
    if problems:
        raise DatasetError(f"{path} is malformed: " + "; ".join(problems))


def check_label_values(data: ImageDataset) -> None:
    """DatasetError naming the label unless every observed value fits its kind: 0/1 for binary
    labels, a class index for categorical ones, a finite number for continuous ones."""
    for label, values in zip(data.labels_info, data.labels.T):
        bad = label.invalid(values[~np.isnan(values)].astype(np.float64))
        if bad.size:
            raise DatasetError(
                f"label {label.name} ({label.kind}) holds the value {bad[0]:g}; each value must be "
                f"{label.expected()} or NaN (missing)"
            )


def fingerprint(data: ImageDataset, samples: int = 64) -> str:
    """A short hash of a data set's label names, kinds, labels, split, image shape and `samples`
    images spread over it: two files with the same fingerprint hold the same data (as far as
    a run can tell)."""
    digest = hashlib.sha256()
    for text in (data.label_names, data.label_kinds, data.images.shape):
        digest.update(repr(tuple(text)).encode())
    digest.update(np.nan_to_num(data.labels, nan=-1e30).astype(np.float32).tobytes())
    digest.update(data.split.astype(np.uint8).tobytes())
    rows = np.linspace(0, data.num_images - 1, min(samples, data.num_images)).astype(np.int64)
    digest.update(np.ascontiguousarray(data.images[rows]).tobytes())
    return digest.hexdigest()[:16]


def trainable_problem(data: ImageDataset) -> str | None:
    """Why the models cannot train on these images (None if they can): they take square
    images whose side is a power of two of at least 8."""
    _, height, width = data.image_shape
    if height != width:
        return f"its images are {height}x{width}: the models take square images"
    if height < 8 or height & (height - 1):
        return f"its images are {height}x{width}: the models take sides that are powers of two from 8 (8, 16, 32, 64, 128, ...)"
    return None
