"""`pyro-ccvae oracle fit`: train the independent classifier that scores swaps, conditional
generations and interventions in `pyro-ccvae evaluate --oracle` (paper Table 2, 5, App. D.1)."""

from __future__ import annotations

from pathlib import Path

import click

from pyro_ccvae.datasets import read_dataset, resolve_dataset
from pyro_ccvae.devices import resolve_device
from pyro_ccvae.oracle import CONFIG_FILE, fit_oracle, save_oracle

from .common import device_option, user_errors


@click.group()
def oracle():
    """The independent CNN classifier ("oracle") used by the paper's metrics."""


@oracle.command()
@click.option("--dataset", default="synthfaces", show_default=True,
              help="Built-in data set, a prepared one (celeba, chexpert, ...), or the path of an .h5 file.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Folder of prepared and cached data files [default: $PYRO_CCVAE_DATA or ./data].")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for oracle.json and oracle.pt.")
@click.option("--epochs", type=click.IntRange(min=1), default=5, show_default=True, help="Passes over the training split.")
@click.option("--batch-size", type=click.IntRange(min=2), default=128, show_default=True, help="Images per step.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=1e-3, show_default=True, help="Adam learning rate.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the initial weights and batch order.")
@device_option
@click.option("--force", is_flag=True, help="Replace an oracle already in --out.")
def fit(dataset, data_dir, out, epochs, batch_size, lr, seed, device, force):
    """Train the oracle on every binary label of the training split (all its labels, not a
    --sup subset) and report its test accuracy."""
    if (out / CONFIG_FILE).exists() and not force:
        raise click.UsageError(f"{out} already holds an oracle; choose another --out or pass --force to replace it")
    try:
        device = resolve_device(device)
    except RuntimeError as e:
        raise click.UsageError(str(e)) from e

    def on_epoch(metrics):
        click.echo(f"epoch {metrics['epoch']}/{epochs}: loss {metrics['loss']:.4f}", err=True)

    with user_errors():
        path = resolve_dataset(dataset, data_dir)
        info = {"name": dataset, "path": str(path)}
        net = fit_oracle(read_dataset(path), epochs, batch_size, lr, seed, device, info, on_epoch)
    save_oracle(net, out)
    metrics = net.config.metrics
    click.echo(
        f"oracle saved in {out}: test accuracy {metrics['test_accuracy']:.3f} over "
        f"{len(net.config.label_names)} labels (majority baseline {metrics['majority_baseline']:.3f}, "
        f"{metrics['test_images']} test images)"
    )
