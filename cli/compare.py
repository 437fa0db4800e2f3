"""`pyro-ccvae compare`: the paper's grid of models x labelled fractions x seeds, tabulated as its
Tables 1, 2, 4 and 5; the work is in pyro_ccvae.analysis.compare."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import click

from pyro_ccvae.analysis.compare import FIGURE_FILE, JSON_FILE, MARKDOWN_FILE, compare, markdown_tables
from pyro_ccvae.devices import resolve_device
from pyro_ccvae.training.defaults import settings_for
from pyro_ccvae.training.registry import MODELS

from .errors import user_errors
from .options import (
    dataset_options,
    device_option,
    inception_option,
    labelled_per_batch_option,
    labels_option,
    names,
    output_options,
    schedule_options,
)
from .progress import Progress, ensure_dataset

COMMANDS_FILE = "commands.sh"


def _numbers(kind):
    def parse(ctx, param, value):
        try:
            numbers = [kind(v) for v in names(value)]
        except ValueError:
            raise click.BadParameter(f"{value!r} is not a comma-separated list of {kind.__name__} values")
        if not numbers:
            raise click.BadParameter("give at least one value")
        if kind is float and any(not 0 < f <= 1 for f in numbers):
            raise click.BadParameter(f"each fraction must be in (0, 1], got {value}")
        return numbers

    return parse


@click.command("compare")
@dataset_options()
@labels_option
@click.option("--sup", "sups", default="0.2", show_default=True, callback=_numbers(float),
              help="Comma-separated labelled fractions f, e.g. 0.004,0.06,0.2,1.0 (the paper's).")
@click.option("--seeds", default="0", show_default=True, callback=_numbers(int),
              help="Comma-separated seeds (labelled subset, initial weights, draws), e.g. 0,1,2; the same for every model.")
@schedule_options
@labelled_per_batch_option
@click.option("--models", default=",".join(MODELS), show_default=True,
              help="Comma-separated models to train, each with its objective's defaults (see `fit --help`).")
@output_options("Folder for one run folder per cell (model, f, seed), comparison.md, comparison.json, comparison.png "
                "and commands.sh. Run the same command again to continue a stopped comparison.",
                "Train anew the cells in --out that hold runs with other settings.", required=True)
@click.option("--oracle", "oracle_dir", default=None, type=click.Path(file_okay=False),
              help="Oracle folder written by `oracle fit`: adds the swap score, conditional-generation accuracy and "
              "the Fréchet distance in the oracle's features.")
@inception_option
@click.option("--classical", default="",
              help="Comma-separated classical classifiers to add (cnn, svm, logreg, random_forest, knn), on the same "
              "labelled training rows and test split.")
@click.option("--samples", type=click.IntRange(min=2), default=1000, show_default=True,
              help="Generated images for the conditional-generation accuracy and the Fréchet distances, and most pairs "
              "for the swap score.")
@device_option
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON instead of the markdown tables.")
def compare_command(dataset, data_dir, labels, sups, seeds, epochs, batch_size, lr, labelled_per_batch, models, out, force, oracle_dir,
                    inception_weights, classical, samples, device, as_json):
    """Train every cell of MODELS x --sup x --seeds (each in OUT/MODEL-supF-seedS) with the same
    data and settings, evaluate each on the test split (with the same --oracle), and write the
    paper's Tables 1, 2, 4 and 5 and the ground-truth measures as mean ± standard deviation over
    seeds: OUT/comparison.md, OUT/comparison.json and a figure of each measure against f,
    OUT/comparison.png. Finished cells are read back and interrupted ones resumed, so running
    the same command again continues a stopped comparison. OUT/commands.sh lists the `fit` and
    `evaluate` commands that train and measure each cell alone."""
    started = time.perf_counter()
    with user_errors(), Progress() as progress:
        ensure_dataset(dataset, data_dir)
        config = settings_for(dataset, data_dir, labels=names(labels), epochs=epochs, batch_size=batch_size, lr=lr,
                              labelled_per_batch=labelled_per_batch)  # fmt: skip
        trained = []  # cells trained or resumed by this command

        def on_cell(number, total, cell, stage):
            elapsed = (time.perf_counter() - started) / 60
            note = f"[{number}/{total}] {cell}: {stage} ({elapsed:.1f} min so far"
            if stage in ("training", "resuming"):
                if trained:  # time per trained cell so far, for the cells left
                    note += f", about {elapsed / len(trained) * (total - number + 1):.0f} min left"
                trained.append(cell)
            progress.note(note + ")")

        result = compare(config, out, names(models), sups, seeds, resolve_device(device), data_dir, oracle_dir,
                         names(classical), samples, force, inception_weights, on_cell, progress.hooks())  # fmt: skip
    Path(out, COMMANDS_FILE).write_text(_commands(result, config, data_dir, oracle_dir, inception_weights, samples))
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(markdown_tables(result))
    written = ", ".join(str(Path(out) / name) for name in (MARKDOWN_FILE, JSON_FILE, FIGURE_FILE, COMMANDS_FILE))
    click.echo(f"written: {written}")


def _commands(result, config, data_dir, oracle_dir, inception_weights, samples) -> str:
    """The commands that train and evaluate each cell of the comparison on its own."""
    lines = ["# Each cell of the comparison alone: `fit`, then `evaluate` (as `compare` ran them).", ""]
    common = ["--dataset", config.dataset, "--epochs", config.epochs, "--batch-size", config.batch_size, "--lr", config.lr,
              "--labelled-per-batch", config.labelled_per_batch]
    if config.labels:
        common += ["--labels", ",".join(config.labels)]
    if data_dir:
        common += ["--data-dir", data_dir]
    measures = ["--samples", samples] + (["--oracle", oracle_dir] if oracle_dir else [])
    measures += ["--inception-weights", inception_weights] if inception_weights else []
    for cell in result["cells"]:
        fit = ["pyro-ccvae", "fit", "--model", cell["model"], "--sup", f"{cell['sup']:g}", "--seed", cell["seed"],
               *common, "--out", cell["run"]]  # fmt: skip
        evaluate = ["pyro-ccvae", "evaluate", "--run", cell["run"], "--seed", cell["seed"], *measures, "--json"]
        lines += [shlex.join(map(str, fit)), shlex.join(map(str, evaluate)) + f" > {shlex.quote(cell['run'])}/evaluation.json"]
    return "\n".join(lines) + "\n"
