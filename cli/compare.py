"""`pyro-ccvae compare`: train several models on the same data and tabulate the paper's Tables
1, 2 and 5 for them; the work is in pyro_ccvae.analysis.compare."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pyro_ccvae.analysis.compare import JSON_FILE, MARKDOWN_FILE, compare, markdown_table
from pyro_ccvae.devices import resolve_device
from pyro_ccvae.training.config import TrainConfig
from pyro_ccvae.training.registry import MODELS

from .errors import user_errors
from .options import dataset_options, device_option, names, output_options, seed_option, training_options
from .progress import Progress, ensure_dataset


@click.command("compare")
@dataset_options()
@training_options
@click.option("--models", default=",".join(MODELS), show_default=True,
              help="Comma-separated models to train, each with its objective's defaults (see `fit --help`).")
@output_options("Folder for one run folder per model, comparison.md and comparison.json.",
                "Replace run folders in --out that already hold a run.", required=True)
@click.option("--oracle", "oracle_dir", default=None, type=click.Path(file_okay=False),
              help="Oracle folder written by `oracle fit`: adds the swap score and conditional-generation accuracy.")
@click.option("--classical", default="",
              help="Comma-separated classical classifiers to add (cnn, svm, logreg, random_forest, knn), on the same "
              "labelled training rows and test split.")
@seed_option("Seed for the labelled subset, initial weights and draws, the same for every model.")
@click.option("--samples", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Generated images for the conditional-generation accuracy, and most pairs for the swap score.")
@device_option
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON instead of the markdown table.")
def compare_command(dataset, data_dir, labels, sup, epochs, batch_size, lr, models, out, force, oracle_dir, classical,
                    seed, samples, device, as_json):
    """Train MODELS on the same data with the same seed (each in OUT/<model>), evaluate each on
    the test split (with the same --oracle), and write the paper's Tables 1, 2 and 5 as one
    table: OUT/comparison.md and OUT/comparison.json (n/a / null where a measure does not
    apply)."""
    config = TrainConfig(dataset=dataset, labels=names(labels), sup_fraction=sup, epochs=epochs,
                         batch_size=batch_size, lr=lr, seed=seed)  # fmt: skip
    with user_errors(), Progress() as progress:
        ensure_dataset(dataset, data_dir)

        def on_model(name, stage):
            progress.note(f"{name}: {stage}")

        result = compare(config, out, names(models), resolve_device(device), data_dir, oracle_dir, names(classical),
                         samples, force, on_model, progress.step, progress.epoch)  # fmt: skip
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(markdown_table(result))
    click.echo(f"written: {Path(out) / MARKDOWN_FILE} and {Path(out) / JSON_FILE}")
