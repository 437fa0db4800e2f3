"""`pyro-ccvae oracle fit`: train the independent classifier that scores swaps, conditional
generations and interventions in `pyro-ccvae evaluate --oracle` (paper Table 2, 5, App. D.1)."""

from __future__ import annotations

from pathlib import Path

import click

from pyro_ccvae.analysis.oracle import CONFIG_FILE, fit_oracle, save_oracle
from pyro_ccvae.datasets import read_dataset
from pyro_ccvae.devices import resolve_device

from .errors import user_errors
from .options import batch_size_option, dataset_options, device_option, output_options, seed_option
from .progress import ensure_dataset


@click.group()
def oracle():
    """The independent CNN classifier ("oracle") used by the paper's metrics."""


@oracle.command()
@dataset_options()
@output_options("Folder for oracle.json and oracle.pt.", "Replace an oracle already in --out.", required=True)
@click.option("--epochs", type=click.IntRange(min=1), default=5, show_default=True, help="Passes over the training split.")
@batch_size_option(128, minimum=2)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=1e-3, show_default=True, help="Adam learning rate.")
@seed_option("Seed for the initial weights and batch order.")
@device_option
def fit(dataset, data_dir, out, force, epochs, batch_size, lr, seed, device):
    """Train the oracle on every binary label of the training split (all its labels, not a
    --sup subset) and report its test accuracy."""
    out = Path(out)
    if (out / CONFIG_FILE).exists() and not force:
        raise click.UsageError(f"{out} already holds an oracle; choose another --out or pass --force to replace it")

    def on_epoch(metrics):
        click.echo(f"epoch {metrics['epoch']}/{epochs}: loss {metrics['loss']:.4f}", err=True)

    with user_errors():
        device = resolve_device(device)
        path = ensure_dataset(dataset, data_dir)
        info = {"name": dataset, "path": str(path)}
        net = fit_oracle(read_dataset(path), epochs, batch_size, lr, seed, device, info, on_epoch)
        save_oracle(net, out)
    metrics = net.config.metrics
    click.echo(
        f"oracle saved in {out}: test accuracy {metrics['test_accuracy']:.3f} over "
        f"{len(net.config.label_names)} labels (majority baseline {metrics['majority_baseline']:.3f}, "
        f"{metrics['test_images']} test images)"
    )
