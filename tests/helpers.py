"""Small data files for the tests."""

from pathlib import Path

from pyro_ccvae.datasets import write_dataset
from pyro_ccvae.datasets.synthfaces import generate_synthfaces


def tiny_synthfaces(folder: Path, num_images: int = 200, size: int = 16) -> Path:
    path = Path(folder) / f"tiny-{num_images}-{size}.h5"
    write_dataset(path, generate_synthfaces(num_images, seed=0, size=size))
    return path
