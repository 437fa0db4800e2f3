"""Data sets: built-in names resolve to prepared HDF5 files under a data folder.

Every source (the built-in synthetic faces, CelebA, CheXpert, MNIST, a user's own file) ends
up in the one format of `h5format`; training code only ever reads that format.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import DatasetError, UnknownDataset
from .celeba import find_celeba, prepare_celeba
from .chexpert import find_chexpert, prepare_chexpert
from .h5format import ImageDataset, read_dataset, write_dataset
from .idx import find_raw, prepare_fashion_mnist, prepare_mnist

DEFAULT_DATA_DIR = "data"
BUILT_IN = ("synthfaces", "synthfaces-mixed")  # generated on first use (20000 images, 64x64, seed 0)


@dataclass(frozen=True)
class RealDataset:
    """A data set users prepare from the official files they hold."""

    file_name: str  # the prepared file under the data folder
    prepare: Callable[..., Path]  # prepare(source, out, size=..., progress=..., [workers=...])
    default_size: int  # image side in pixels
    parallel: bool  # whether `prepare` decodes images with worker processes (takes `workers`)
    chosen_validation: bool  # whether `prepare` takes `valid_fraction` (else the official split is kept)
    locate: Callable[[Path], Path]  # the folder of the official files in a source folder (DatasetError if not)
    markers: tuple[str, ...]  # files whose presence under a data folder means the official files are there
    layout: str  # what a source folder holds, for messages


PREPARED = {
    "celeba": RealDataset(
        "celeba.h5", prepare_celeba, 64, True, False, find_celeba, ("celeba/list_attr_celeba.txt", "list_attr_celeba.txt"),
        "a folder celeba/ holding img_align_celeba/, list_attr_celeba.txt and list_eval_partition.txt "
        "(torchvision's layout)",
    ),
    "chexpert": RealDataset(
        "chexpert.h5", prepare_chexpert, 64, True, True, find_chexpert, ("CheXpert-v1.0-small/train.csv",),
        "a folder CheXpert-v1.0-small/ holding train.csv, valid.csv, train/ and valid/",
    ),
    "mnist": RealDataset(
        "mnist.h5", prepare_mnist, 32, False, True, functools.partial(find_raw, folder="MNIST"),
        ("MNIST/raw/train-images-idx3-ubyte", "MNIST/raw/train-images-idx3-ubyte.gz"),
        "MNIST/raw/ holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and "
        "t10k-labels-idx1-ubyte, each possibly .gz (torchvision's layout)",
    ),
    "fashion-mnist": RealDataset(
        "fashion-mnist.h5", prepare_fashion_mnist, 32, False, True, functools.partial(find_raw, folder="FashionMNIST"),
        ("FashionMNIST/raw/train-images-idx3-ubyte", "FashionMNIST/raw/train-images-idx3-ubyte.gz"),
        "FashionMNIST/raw/ holding the four idx files, each possibly .gz (torchvision's layout)",
    ),
}  # fmt: skip


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The data folder: `path`, else $PYRO_CCVAE_DATA, else ./data."""
    return Path(path or os.environ.get("PYRO_CCVAE_DATA") or DEFAULT_DATA_DIR)


def search_folders(folder: str | os.PathLike | None = None) -> list[Path]:
    """Where a real data set's official files are looked for: the data folder and
    $PYRO_CCVAE_DATA (each once)."""
    folders = [data_dir(folder)] + [Path(p) for p in [os.environ.get("PYRO_CCVAE_DATA")] if p]
    return list(dict.fromkeys(f.resolve() for f in folders))


def find_or_prepare(
    name: str,
    folder: str | os.PathLike | None = None,
    source: str | os.PathLike | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_found: Callable[[Path, Path], None] | None = None,
) -> Path:
    """The prepared file of real data set `name` under the data folder; if there is none, its
    official files are prepared into it once, from `source` (which must hold them) or else
    the first folder of `search_folders` holding them. `on_found(files, out)` is told before
    preparing; `progress(done, total)` as images are written. DatasetError naming every
    folder searched and the layout expected if the files are nowhere."""
    real = PREPARED[name]
    out = data_dir(folder) / real.file_name
    if out.is_file():
        return out
    found = real.locate(Path(source)) if source is not None else None
    searched = search_folders(folder)
    for candidate in searched if found is None else ():
        if any((candidate / marker).is_file() for marker in real.markers):
            found = real.locate(candidate)
            break
    if found is None:
        raise DatasetError(
            f"{name} is not prepared (no {out}) and its official files are not in {' nor '.join(map(str, searched))}: "
            f"expected {real.layout}",
            remedy="give the folder holding them as a source",
            setting="prepare",
            name=name,
            path=out,
        )
    if on_found is not None:
        on_found(found, out)
    return real.prepare(found, out, progress=progress)


def resolve_dataset(
    name_or_path: str,
    folder: str | os.PathLike | None = None,
    source: str | os.PathLike | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_found: Callable[[Path, Path], None] | None = None,
) -> Path:
    """The HDF5 file for a data set name or path: a built-in one is generated if needed, a real
    one prepared from its official files if needed (see `find_or_prepare`, which takes
    `source`, `progress` and `on_found`)."""
    if name_or_path in BUILT_IN:
        from .synthfaces import cached_synthfaces

        variant = "mixed" if name_or_path == "synthfaces-mixed" else "binary"
        return cached_synthfaces(data_dir(folder), variant=variant)
    if name_or_path in PREPARED:
        return find_or_prepare(name_or_path, folder, source, progress, on_found)
    path = Path(name_or_path)
    if path.suffix in (".h5", ".hdf5") or path.exists():
        if not path.is_file():
            raise DatasetError(f"no data file at {path}")
        return path
    known = ", ".join(BUILT_IN + tuple(PREPARED))
    raise UnknownDataset(f"unknown data set {name_or_path!r}: give one of {known}, or the path of an .h5 file")


def load_dataset(name_or_path: str, folder: str | os.PathLike | None = None) -> ImageDataset:
    return read_dataset(resolve_dataset(name_or_path, folder))


__all__ = [
    "BUILT_IN",
    "PREPARED",
    "DatasetError",
    "ImageDataset",
    "RealDataset",
    "UnknownDataset",
    "data_dir",
    "find_or_prepare",
    "load_dataset",
    "read_dataset",
    "resolve_dataset",
    "write_dataset",
]
