"""Data sets: built-in names resolve to prepared HDF5 files under a data folder.

Every source (the built-in synthetic faces, CelebA, CheXpert, MNIST, a user's own file) ends
up in the one format of `h5format`; training code only ever reads that format.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import DatasetError, UnknownDataset
from .celeba import prepare_celeba
from .chexpert import prepare_chexpert
from .h5format import ImageDataset, read_dataset, write_dataset
from .idx import prepare_fashion_mnist, prepare_mnist

DEFAULT_DATA_DIR = "data"
BUILT_IN = ("synthfaces", "synthfaces-mixed")  # generated on first use (20000 images, 64x64, seed 0)


@dataclass(frozen=True)
class RealDataset:
    """A data set users prepare from the official files they hold."""

    file_name: str  # the prepared file under the data folder
    prepare: Callable[..., Path]  # prepare(source, out, size=..., progress=..., [workers=...])
    default_size: int  # image side in pixels
    parallel: bool  # whether `prepare` decodes images with worker processes (takes `workers`)


PREPARED = {
    "celeba": RealDataset("celeba.h5", prepare_celeba, 64, True),
    "chexpert": RealDataset("chexpert.h5", prepare_chexpert, 64, True),
    "mnist": RealDataset("mnist.h5", prepare_mnist, 32, False),
    "fashion-mnist": RealDataset("fashion-mnist.h5", prepare_fashion_mnist, 32, False),
}


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The data folder: `path`, else $PYRO_CCVAE_DATA, else ./data."""
    return Path(path or os.environ.get("PYRO_CCVAE_DATA") or DEFAULT_DATA_DIR)


def resolve_dataset(name_or_path: str, folder: str | os.PathLike | None = None) -> Path:
    """The HDF5 file for a data set name or path, generating the built-in one if needed."""
    folder = data_dir(folder)
    if name_or_path in BUILT_IN:
        from .synthfaces import cached_synthfaces

        variant = "mixed" if name_or_path == "synthfaces-mixed" else "binary"
        return cached_synthfaces(folder, variant=variant)
    if name_or_path in PREPARED:
        path = folder / PREPARED[name_or_path].file_name
        if not path.is_file():
            raise DatasetError(
                f"{name_or_path} is not prepared: no {path}",
                remedy=f"prepare it from its official files with PREPARED[{name_or_path!r}].prepare(source, {str(path)!r})",
                setting="prepare",
                name=name_or_path,
                path=path,
            )
        return path
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
    "load_dataset",
    "read_dataset",
    "resolve_dataset",
    "write_dataset",
]
