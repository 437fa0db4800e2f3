"""Data sets: built-in names resolve to prepared HDF5 files under a data folder.

Every source (the built-in synthetic faces, CelebA, CheXpert, MNIST, a user's own file) ends
up in the one format of `h5format`; training code only ever reads that format.
"""

from __future__ import annotations

import os
from pathlib import Path

from .h5format import DatasetError, ImageDataset, read_dataset, write_dataset  # noqa: F401

DEFAULT_DATA_DIR = "data"

# Data sets users prepare from their own files: name -> (file under the data folder, how to make it).
PREPARED = {
    "celeba": ("celeba.h5", "pyro-ccvae data prepare celeba --source DIR"),
    "chexpert": ("chexpert.h5", "pyro-ccvae data prepare chexpert --source DIR"),
    "mnist": ("mnist.h5", "pyro-ccvae data prepare mnist --source DIR"),
    "fashion-mnist": ("fashion-mnist.h5", "pyro-ccvae data prepare fashion-mnist --source DIR"),
}
BUILT_IN = ("synthfaces", "synthfaces-mixed")  # generated on first use (20000 images, 64x64, seed 0)


class UnknownDataset(DatasetError):
    """A data set name that is neither built in, nor prepared, nor the path of a file."""


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
        file_name, command = PREPARED[name_or_path]
        path = folder / file_name
        if not path.is_file():
            raise DatasetError(
                f"{name_or_path} is not prepared: no {path}; run `{command} --out {path}` first"
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
