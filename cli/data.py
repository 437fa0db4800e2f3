"""`pyro-ccvae data`: turn real data sets into the project's HDF5 format, and describe such files."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
import h5py
import numpy as np
from tqdm import tqdm

from pyro_ccvae.datasets import PREPARED, data_dir
from pyro_ccvae.datasets.celeba import prepare_celeba
from pyro_ccvae.datasets.chexpert import prepare_chexpert
from pyro_ccvae.datasets.h5format import REQUIRED, SPLITS, DatasetError, read_strings
from pyro_ccvae.datasets.idx import prepare_fashion_mnist, prepare_mnist
from pyro_ccvae.datasets.synthfaces import VARIANTS, cached_synthfaces

# kind -> (library function, default image side, whether it decodes with worker processes)
_PREPARERS = {
    "celeba": (prepare_celeba, 64, True),
    "chexpert": (prepare_chexpert, 64, True),
    "mnist": (prepare_mnist, 32, False),
    "fashion-mnist": (prepare_fashion_mnist, 32, False),
}


@click.group()
def data():
    """Prepare real data sets (CelebA, CheXpert, MNIST, Fashion-MNIST) and inspect data files."""


@data.command()
@click.argument("kind", type=click.Choice(list(_PREPARERS)))
@click.option(
    "--source",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder holding the official files: CelebA's `celeba` folder, CheXpert-v1.0-small, "
    "or torchvision's MNIST/FashionMNIST root (or any of their parents as torchvision lays them out).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: the data set's usual file under the data folder, e.g. data/celeba.h5).",
)
@click.option(
    "--data-dir",
    "data_folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data folder for the default --out (default: $PYRO_CCVAE_DATA, else ./data).",
)
@click.option(
    "--size",
    type=click.IntRange(min=8),
    default=None,
    help="Side of the square images in pixels (default: 64 for celeba and chexpert, 32 for mnist "
    "and fashion-mnist, whose 28x28 digits are padded with zeros).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes decoding JPEGs for celeba and chexpert (default: one per CPU).",
)
@click.option("--force", is_flag=True, help="Replace --out if it already exists.")
def prepare(kind, source, out, data_folder, size, workers, force):
    """Read data set KIND from its official files in --source and write one HDF5 data file."""
    function, default_size, parallel = _PREPARERS[kind]
    out = out or data_dir(data_folder) / PREPARED[kind][0]
    if out.exists() and not force:
        raise click.ClickException(f"{out} already exists: pass --force to replace it, or choose another --out")
    options = {"size": size or default_size}
    if parallel:
        options["workers"] = workers
    started = time.perf_counter()
    bar = None

    def progress(done, total):
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=f"preparing {kind}", unit="img", file=sys.stderr, dynamic_ncols=True)
        bar.update(done - bar.n)

    try:
        path = function(source, out, progress=progress, **options)
    except DatasetError as e:
        raise click.ClickException(str(e)) from None
    except OSError as e:
        raise click.ClickException(f"cannot write {out}: {e}") from None
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - started
    count = bar.n if bar is not None else 0
    click.echo(f"wrote {path}: {count} images in {seconds:.1f} s ({count / seconds:.0f} images/s)")


def _correlation(ctx, param, value):
    if value is None:
        return None
    parts = value.split(",")
    try:
        a, b, rho = parts[0].strip(), parts[1].strip(), float(parts[2])
    except (IndexError, ValueError):
        raise click.BadParameter(f"{value!r} is not LABEL_A,LABEL_B,RHO (for example Smiling,Mustache,0.6)")
    return a, b, rho


@data.command()
@click.option("--num-images", type=click.IntRange(min=10), default=20000, show_default=True, help="Images to draw.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the drawing.")
@click.option("--size", type=click.Choice(["16", "32", "64", "128"]), default="64", show_default=True, help="Image side.")
@click.option("--correlate", default=None, callback=_correlation, metavar="A,B,RHO",
              help="Draw binary labels A and B with Pearson correlation RHO (marginals kept), e.g. Smiling,Mustache,0.6.")
@click.option("--variant", type=click.Choice(list(VARIANTS)), default="binary", show_default=True,
              help="binary: nine binary labels; mixed: eight binary labels, a categorical Hair "
              "(black, brown, blond, red, grey) and a continuous Age in years (20 to 80).")
@click.option("--data-dir", "data_folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write into (default: $PYRO_CCVAE_DATA, else ./data).")
def synthfaces(num_images, seed, size, correlate, variant, data_folder):
    """Generate (or find) a synthfaces file with chosen options; prints its path for --dataset."""
    try:
        path = cached_synthfaces(data_dir(data_folder), num_images, seed, int(size), correlate, variant)
    except ValueError as e:
        raise click.UsageError(str(e)) from e
    click.echo(str(path))


@data.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def info(file):
    """Describe the data file FILE: images, labels with their frequencies, splits and factors."""
    try:
        click.echo("\n".join(describe(file)))
    except DatasetError as e:
        raise click.ClickException(str(e)) from None


def describe(path: Path) -> list[str]:
    """Lines describing a data file, read without loading its images."""
    if not path.is_file():
        raise DatasetError(f"no data file at {path}")
    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in REQUIRED if k not in f]
            if missing:
                raise DatasetError(f"{path} is not a pyro-ccvae data file (missing {', '.join(missing)})")
            names = list(read_strings(f["label_names"]))
            kinds = list(read_strings(f["label_kinds"])) if "label_kinds" in f else ["binary"] * len(names)
            labels, split, shape = f["labels"][()], f["split"][()], f["images"].shape
            factors = list(read_strings(f["factor_names"])) if "factor_names" in f else []
            attrs = {k: f.attrs.get(k, "") for k in ("name", "description", "default_labels", "label_classes")}
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as e:  # what h5py raises for corruption
        raise DatasetError(f"cannot read {path} as a pyro-ccvae data file ({e})") from None
    classes = json.loads(attrs["label_classes"] or "{}")
    default = json.loads(attrs["default_labels"] or "[]")
    lines = [
        f"file:        {path}",
        f"name:        {attrs['name']}",
        f"description: {attrs['description']}",
        f"images:      {shape[0]} of {'x'.join(map(str, shape[1:]))} (channels x height x width)",
        "splits:      " + ", ".join(f"{s} {int(np.sum(split == v))}" for s, v in SPLITS.items()),
        f"labels:      {len(names)} (* = default)",
    ]
    width = max((len(n) for n in names), default=0)
    for column, (label, kind) in enumerate(zip(names, kinds)):
        lines.append(f"  {'*' if label in default else ' '} {label:<{width}}  {kind:<11}  "
                     + _frequencies(labels[:, column], kind, classes.get(label)))
    lines.append("factors:     " + (", ".join(factors) if factors else "none"))
    return lines


def _frequencies(values: np.ndarray, kind: str, classes: list[str] | None) -> str:
    known = values[~np.isnan(values)]
    missing = f"{1 - known.size / values.size:.1%} missing" if values.size else "no rows"
    if kind == "binary":
        positive = f"{np.mean(known == 1):.1%} positive" if known.size else "none known"
        return f"{positive}, {missing}"
    if kind == "categorical":
        counts = np.bincount(known.astype(np.int64), minlength=len(classes or ()))
        names = classes or [str(i) for i in range(len(counts))]
        return ", ".join(f"{n}: {c}" for n, c in zip(names, counts)) + f"; {missing}"
    if known.size:
        return f"mean {known.mean():.3g}, min {known.min():.3g}, max {known.max():.3g}; {missing}"
    return missing
