"""MNIST and Fashion-MNIST, read from their official idx files into the project's data format.

The source folder is laid out as torchvision keeps them: `MNIST/raw/` (or `FashionMNIST/raw/`)
holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
t10k-labels-idx1-ubyte, each possibly gzipped (.gz). The source may also be the `MNIST`
folder or the `raw` folder itself. An uncompressed file is used when both forms are there.

idx format (big-endian): a 4-byte magic number, 0x00000803 for images then the 32-bit sizes
n, rows, cols, or 0x00000801 for labels then n; then the uint8 values.

Images are 1 x size x size: the 28 x 28 digits padded with zeros (black) to size, centred,
because the models need power-of-two sides (default 32; size 28 keeps them as they are).
One categorical label, "digit" (classes "0".."9") for MNIST or "item" (the ten clothing
classes) for Fashion-MNIST, whose value is the class index.

Splits: the official test set is the test split; the last `valid_fraction` (default 1/6) of
the training images are the validation split and the rest the training split. For the full
60,000 that is the classic mnist.pkl.gz split (the last 10,000 for validation), deterministic
and needing no seed; a subset of the training files (a class-balanced sample, say) gets the
same fraction.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from .h5format import SPLITS, DatasetWriter
from .image_files import Progress

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_WRITE_CHUNK = 10_000


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
        return gzip.decompress(data) if path.suffix == ".gz" else data
    except (OSError, EOFError, zlib.error) as e:
        raise DatasetError(f"cannot read {path}: {e}") from e


def _header(data: bytes, path: Path, magic: int, dims: int) -> tuple[int, ...]:
    size = 4 * (1 + dims)
    found = int.from_bytes(data[:4], "big") if len(data) >= 4 else None
    if found != magic:
        what = "images" if magic == IMAGES_MAGIC else "labels"
        shown = "none" if found is None else f"0x{found:08x}"
        raise DatasetError(f"{path} is not an idx {what} file: magic number {shown}, expected 0x{magic:08x}")
    if len(data) < size:
        raise DatasetError(f"{path} is truncated: its header is incomplete")
    shape = tuple(int.from_bytes(data[i : i + 4], "big") for i in range(4, size, 4))
    if len(data) != size + int(np.prod(shape)):
        raise DatasetError(
            f"{path} is truncated or corrupt: its header announces shape {shape} "
            f"({int(np.prod(shape))} values) but it holds {len(data) - size}"
        )
    return shape


def read_idx_images(path: str | os.PathLike) -> np.ndarray:
    """The images of an idx3 file (optionally gzipped): uint8 [n, rows, cols]."""
    path = Path(path)
    data = _read_bytes(path)
    shape = _header(data, path, IMAGES_MAGIC, 3)
    return np.frombuffer(data, np.uint8, offset=16).reshape(shape)


def read_idx_labels(path: str | os.PathLike) -> np.ndarray:
    """The labels of an idx1 file (optionally gzipped): uint8 [n]."""
    path = Path(path)
    data = _read_bytes(path)
    _header(data, path, LABELS_MAGIC, 1)
    return np.frombuffer(data, np.uint8, offset=8)


def find_raw(source: str | os.PathLike, folder: str) -> Path:
    """The folder holding the idx files: `source`/`folder`/raw, `source`/raw or `source`."""
    source = Path(source)
    if not source.is_dir():
        raise DatasetError(f"no folder {source}: give the folder holding torchvision's {folder}/raw/")
    marker = FILES["train"][0]
    for raw in (source / folder / "raw", source / "raw", source):
        if (raw / marker).is_file() or (raw / f"{marker}.gz").is_file():
            return raw
    raise DatasetError(
        f"missing {source / folder / 'raw' / marker}[.gz]: the source must hold torchvision's "
        f"{folder}/raw/ folder (or be that raw folder)"
    )


def _idx_file(raw: Path, name: str) -> Path:
    for path in (raw / name, raw / f"{name}.gz"):
        if path.is_file():
            return path
    raise DatasetError(f"missing {raw / name} (or {name}.gz) next to the other idx files")


def _read_set(raw: Path, which: str, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    images_path, labels_path = (_idx_file(raw, name) for name in FILES[which])
    images, labels = read_idx_images(images_path), read_idx_labels(labels_path)
    if len(images) != len(labels):
        raise DatasetError(f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels")
    if labels.size and labels.max() >= num_classes:
        raise DatasetError(f"{labels_path} holds label {labels.max()}; classes are 0..{num_classes - 1}")
    return images, labels


def _pad(images: np.ndarray, size: int) -> np.ndarray:
    """[n, rows, cols] -> [n, 1, size, size], centred on zeros."""
    n, rows, cols = images.shape
    if size < max(rows, cols):
        raise DatasetError(f"size {size} is smaller than the {rows}x{cols} images; give at least {max(rows, cols)}")
    top, left = (size - rows) // 2, (size - cols) // 2
    padded = np.zeros((n, 1, size, size), np.uint8)
    padded[:, 0, top : top + rows, left : left + cols] = images
    return padded


def _prepare_idx(
    source, out, *, folder, name, label, classes, description, size, valid_fraction, progress
) -> Path:
    raw = find_raw(source, folder)
    train_images, train_labels = _read_set(raw, "train", len(classes))
    test_images, test_labels = _read_set(raw, "test", len(classes))
    valid_size = round(valid_fraction * len(train_images))
    if not 0 < valid_size < len(train_images):
        raise DatasetError(
            f"a validation fraction of {valid_fraction:g} keeps {valid_size} of the {len(train_images)} training "
            "images for validation; it must keep at least one, and leave at least one for training",
            setting="valid_fraction",
        )
    images = np.concatenate([train_images, test_images])
    labels = np.concatenate([train_labels, test_labels]).astype(np.float32)[:, None]
    split = np.full(len(images), SPLITS["test"], np.uint8)
    split[: len(train_images)] = SPLITS["train"]
    split[len(train_images) - valid_size : len(train_images)] = SPLITS["valid"]
    with DatasetWriter(
        out,
        len(images),
        (1, size, size),
        label_names=[label],
        label_kinds=["categorical"],
        name=name,
        description=f"{description}, padded with zeros to {size}x{size}; official test set; "
        f"last {valid_size} training images for validation",
        label_classes={label: list(classes)},
    ) as writer:
        for start in range(0, len(images), _WRITE_CHUNK):
            stop = min(start + _WRITE_CHUNK, len(images))
            writer.write(start, _pad(images[start:stop], size), labels[start:stop], split[start:stop])
            if progress:
                progress(stop, len(images))
    return Path(out)


def prepare_mnist(
    source: str | os.PathLike,
    out: str | os.PathLike,
    size: int = 32,
    progress: Progress | None = None,
    valid_fraction: float = 1 / 6,
) -> Path:
    """Reads MNIST's idx files from `source` (see the module docstring) and writes them to `out`.

    `progress(done, total)` is called as images are written; the last `valid_fraction` of the
    training images form the validation split. Returns the output path; a missing, truncated
    or foreign file raises a DatasetError naming it.
    """
    return _prepare_idx(
        source, out, folder="MNIST", name="mnist", label="digit", classes=MNIST_CLASSES,
        description="MNIST handwritten digits", size=size, valid_fraction=valid_fraction, progress=progress,
    )  # fmt: skip


def prepare_fashion_mnist(
    source: str | os.PathLike,
    out: str | os.PathLike,
    size: int = 32,
    progress: Progress | None = None,
    valid_fraction: float = 1 / 6,
) -> Path:
    """Reads Fashion-MNIST's idx files from `source` (see the module docstring) and writes them to `out`.

    `progress(done, total)` is called as images are written; the last `valid_fraction` of the
    training images form the validation split. Returns the output path; a missing, truncated
    or foreign file raises a DatasetError naming it.
    """
    return _prepare_idx(
        source, out, folder="FashionMNIST", name="fashion-mnist", label="item",
        classes=FASHION_MNIST_CLASSES, description="Fashion-MNIST clothing images", size=size,
        valid_fraction=valid_fraction, progress=progress,
    )  # fmt: skip
