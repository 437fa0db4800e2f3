"""`pyro-ccvae compare`: train several models on the same data and tabulate the paper's Tables
1, 2 and 5 for them; the work is in pyro_ccvae.compare."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pyro_ccvae.compare import JSON_FILE, MARKDOWN_FILE, compare, markdown_table
from pyro_ccvae.devices import resolve_device
from pyro_ccvae.models import MODELS
from pyro_ccvae.train import TrainConfig

from .common import device_option, user_errors
from .fit import DEFAULTS, _fraction, _Progress


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


@click.command("compare")
@click.option("--dataset", default=DEFAULTS.dataset, show_default=True,
              help="Built-in data set (synthfaces), a prepared one, or the path of an .h5 file.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Folder of prepared and cached data files [default: $PYRO_CCVAE_DATA or ./data].")
@click.option("--labels", default="", help="Comma-separated labels to model [default: the data set's default labels].")
@click.option("--sup", type=float, default=DEFAULTS.sup_fraction, show_default=True, callback=_fraction,
              help="Fraction f of training images whose labels are used (the same rows for every model).")
@click.option("--epochs", type=click.IntRange(min=1), default=DEFAULTS.epochs, show_default=True, help="Passes over the training set.")
@click.option("--models", default=",".join(MODELS), show_default=True,
              help="Comma-separated models to train, each with its objective's defaults (see `fit --help`).")
@click.option("--out", type=click.Path(file_okay=False), required=True,
              help="Folder for one run folder per model, comparison.md and comparison.json.")
@click.option("--oracle", "oracle_dir", default=None, type=click.Path(file_okay=False),
              help="Oracle folder written by `oracle fit`: adds the swap score and conditional-generation accuracy.")
@click.option("--classical", default="",
              help="Comma-separated classical classifiers to add (cnn, svm, logreg, random_forest, knn), on the same "
              "labelled training rows and test split.")
@click.option("--batch-size", type=click.IntRange(min=1), default=DEFAULTS.batch_size, show_default=True, help="Images per step.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=DEFAULTS.lr, show_default=True, help="Adam learning rate.")
@click.option("--seed", type=int, default=DEFAULTS.seed, show_default=True,
              help="Seed for the labelled subset, initial weights and draws, the same for every model.")
@click.option("--samples", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Generated images for the conditional-generation accuracy, and most pairs for the swap score.")
@device_option
@click.option("--force", is_flag=True, help="Replace run folders in --out that already hold a run.")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON instead of the markdown table.")
def compare_command(dataset, data_dir, labels, sup, epochs, models, out, oracle_dir, classical, batch_size, lr, seed,
                    samples, device, force, as_json):
    """Train MODELS on the same data with the same seed (each in OUT/<model>), evaluate each on
    the test split (with the same --oracle), and write the paper's Tables 1, 2 and 5 as one
    table: OUT/comparison.md and OUT/comparison.json (n/a / null where a measure does not
    apply)."""
    names = _names(models)
    config = TrainConfig(dataset=dataset, labels=_names(labels), sup_fraction=sup, epochs=epochs,
                         batch_size=batch_size, lr=lr, seed=seed)  # fmt: skip
    with user_errors(), _Progress() as progress:

        def on_model(name, stage):
            progress.close()
            click.echo(f"{name}: {stage}", err=True)

        result = compare(config, out, names, resolve_device(device), data_dir, oracle_dir, _names(classical), samples,
                         force, on_model, progress.step, progress.epoch)  # fmt: skip
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(markdown_table(result))
    click.echo(f"written: {Path(out) / MARKDOWN_FILE} and {Path(out) / JSON_FILE}")
