"""`pyro-ccvae data`: turn real data sets into the project's HDF5 format, and describe such files."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from tqdm import tqdm

from pyro_ccvae.datasets import PREPARED
from pyro_ccvae.datasets import data_dir as data_folder
from pyro_ccvae.datasets.summary import summarize
from pyro_ccvae.datasets.synthfaces import VARIANTS, cached_synthfaces

from .errors import user_errors
from .options import data_dir_option, output_options, seed_option


@click.group()
def data():
    """Prepare real data sets (CelebA, CheXpert, MNIST, Fashion-MNIST) and inspect data files."""


@data.command()
@click.argument("kind", type=click.Choice(list(PREPARED)))
@click.option("--source", required=True, type=click.Path(path_type=Path),
              help="Folder holding the official files: CelebA's `celeba` folder, CheXpert-v1.0-small, "
              "or torchvision's MNIST/FashionMNIST root (or any of their parents as torchvision lays them out).")
@output_options("File to write (default: the data set's usual file under the data folder, e.g. data/celeba.h5).",
                "Replace --out if it already exists.", file=True)
@data_dir_option
@click.option("--size", type=click.IntRange(min=8), default=None,
              help="Side of the square images in pixels (default: 64 for celeba and chexpert, 32 for mnist "
              "and fashion-mnist, whose 28x28 digits are padded with zeros).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes decoding JPEGs for celeba and chexpert (default: one per CPU).")
@click.option("--valid-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=None,
              help="Share of the training images set aside for validation: chexpert by patient (default 0.05); "
              "mnist and fashion-mnist the last ones (default 1/6: 10,000 of the full 60,000). CelebA keeps its "
              "official split.")
def prepare(kind, source, out, force, data_dir, size, workers, valid_fraction):
    """Read data set KIND from its official files in --source and write one HDF5 data file."""
    real = PREPARED[kind]
    out = Path(out) if out else data_folder(data_dir) / real.file_name
    if out.exists() and not force:
        raise click.ClickException(f"{out} already exists: pass --force to replace it, or choose another --out")
    options = {"size": size or real.default_size}
    if real.parallel:
        options["workers"] = workers
    if valid_fraction is not None:
        if not real.chosen_validation:
            raise click.UsageError(f"--valid-fraction does not apply to {kind}, which keeps its official split")
        options["valid_fraction"] = valid_fraction
    started = time.perf_counter()
    bar = None

    def progress(done, total):
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=f"preparing {kind}", unit="img", file=sys.stderr, dynamic_ncols=True)
        bar.update(done - bar.n)

    try:
        with user_errors():
            path = real.prepare(source, out, progress=progress, **options)
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
@seed_option("Seed of the drawing.")
@click.option("--size", type=click.Choice(["16", "32", "64", "128"]), default="64", show_default=True, help="Image side.")
@click.option("--correlate", default=None, callback=_correlation, metavar="A,B,RHO",
              help="Draw binary labels A and B with Pearson correlation RHO (marginals kept), e.g. Smiling,Mustache,0.6.")
@click.option("--variant", type=click.Choice(list(VARIANTS)), default="binary", show_default=True,
              help="binary: nine binary labels; mixed: eight binary labels, a categorical Hair "
              "(black, brown, blond, red, grey) and a continuous Age in years (20 to 80).")
@data_dir_option
def synthfaces(num_images, seed, size, correlate, variant, data_dir):
    """Generate (or find) a synthfaces file with chosen options; prints its path for --dataset."""
    try:
        path = cached_synthfaces(data_folder(data_dir), num_images, seed, int(size), correlate, variant)
    except ValueError as e:
        raise click.UsageError(str(e)) from e
    click.echo(str(path))


@data.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def info(file):
    """Describe the data file FILE: images, labels with their frequencies, splits and factors."""
    with user_errors():
        summary = summarize(file)
    n, *shape = summary.shape
    lines = [
        f"file:        {summary.path}",
        f"name:        {summary.name}",
        f"description: {summary.description}",
        f"images:      {n} of {'x'.join(map(str, shape))} (channels x height x width)",
        "splits:      " + ", ".join(f"{split} {count}" for split, count in summary.splits.items()),
        f"labels:      {len(summary.labels)} (* = default)",
    ]
    width = max((len(s.label.name) for s in summary.labels), default=0)
    for s in summary.labels:
        lines.append(f"  {'*' if s.default else ' '} {s.label.name:<{width}}  {s.label.kind:<11}  {s.values}")
    lines.append("factors:     " + (", ".join(summary.factors) if summary.factors else "none"))
    click.echo("\n".join(lines))
    if summary.untrainable:
        raise click.ClickException(f"{summary.path} cannot be trained on: {summary.untrainable}")
