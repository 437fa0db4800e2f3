"""The options several commands share, each written once; a command stacks the decorators."""

from __future__ import annotations

from pathlib import Path

import click
from PIL import Image

from pyro_ccvae.training.config import TrainConfig
from pyro_ccvae.training.defaults import describe_defaults
from pyro_ccvae.training.runs import latest_run, runs_dir

from .errors import user_errors

TRAIN_DEFAULTS = TrainConfig()


def stack(*decorators):
    """One decorator applying `decorators` so that the options appear in the order given."""

    def decorate(function):
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return decorate


def names(text: str) -> list[str]:
    """"a, b,c" -> ["a", "b", "c"]."""
    return [n.strip() for n in text.split(",") if n.strip()]


def _fraction(ctx, param, value):
    if not 0 < value <= 1:
        raise click.BadParameter(f"must be in (0, 1], got {value}")
    return value


def _run_folder(ctx, param, value):
    """The given run folder, else the most recent one under the runs folder (said on stderr)."""
    if value is not None:
        return value
    with user_errors():
        run = latest_run()
    click.echo(f"using {run}, the most recent run under {runs_dir()} (choose another with --run)", err=True)
    return str(run)


run_option = click.option(
    "--run", "--run-dir", "run_dir", default=None, type=click.Path(file_okay=False), callback=_run_folder,
    help="Run folder written by `fit` [default: the most recent run under ./runs, or $PYRO_CCVAE_RUNS]; "
    "--run-dir is the same option, for torchrun, whose own parser mistakes --run for its --run-path.",
)  # fmt: skip

device_option = click.option(
    "--device", default="auto", show_default=True, help="Where to compute: auto (CUDA when available), cpu, or cuda."
)

data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False), default=None,
    help="Folder of prepared and cached data files [default: $PYRO_CCVAE_DATA or ./data].",
)  # fmt: skip


def dataset_options(default: str | None = TRAIN_DEFAULTS.dataset, help: str | None = None):
    """--dataset (a built-in or prepared name, or an .h5 path) and --data-dir."""
    help = help or "Built-in data set (synthfaces, synthfaces-mixed), a prepared one (celeba, chexpert, mnist, fashion-mnist), or the path of an .h5 file."
    return stack(click.option("--dataset", default=default, show_default=default is not None, help=help), data_dir_option)


run_data_option = click.option(
    "--dataset", default=None, help="Data set name or .h5 file to take images from [default: the run's data file]."
)


def batch_size_option(default: int, minimum: int = 1):
    return click.option("--batch-size", type=click.IntRange(min=minimum), default=default, show_default=True,
                        help="Images per step.")  # fmt: skip


def _picture_path(ctx, param, value):
    suffix = Path(value).suffix.lower()
    if suffix not in Image.registered_extensions():
        raise click.BadParameter(f"{value!r} does not end in a picture format's extension; name a file such as "
                                 f"{Path(value).stem or 'samples'}.png")  # fmt: skip
    return value


def png_option(default: str):
    return click.option("--out", type=click.Path(dir_okay=False), default=default, show_default=True,
                        callback=_picture_path, help="Picture to write (PNG; another format by its extension).")  # fmt: skip


def seed_option(help: str, default: int = 0):
    return click.option("--seed", type=int, default=default, show_default=True, help=help)


def output_options(help: str, force_help: str, required: bool = False, default=None, file: bool = False):
    """--out (a folder, or a file with `file`) and --force to replace what it holds."""
    kind = click.Path(dir_okay=False) if file else click.Path(file_okay=False)
    return stack(
        click.option("--out", type=kind, required=required, default=default, show_default=default is not None, help=help),
        click.option("--force", is_flag=True, help=force_help),
    )


labels_option = click.option(
    "--labels", default="", help="Comma-separated labels to model [default: the data set's default labels]."
)
sup_option = click.option("--sup", type=float, default=TRAIN_DEFAULTS.sup_fraction, show_default=True, callback=_fraction,
                          help="Fraction f of training images whose labels are used.")  # fmt: skip
# Their defaults depend on the data set (training/defaults.py): None here means "the data set's".
schedule_options = stack(
    click.option("--epochs", type=click.IntRange(min=1), default=None,
                 help=f"Passes over the training set [default: {describe_defaults('epochs')}]."),
    click.option("--batch-size", type=click.IntRange(min=1), default=None,
                 help=f"Images per step [default: {describe_defaults('batch_size')}]."),
    click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=None,
                 help=f"Adam learning rate [default: {describe_defaults('lr')}]."),
)  # fmt: skip
labelled_per_batch_option = click.option(
    "--labelled-per-batch", type=click.IntRange(min=0), default=TRAIN_DEFAULTS.labelled_per_batch, show_default=True,
    help="Labelled rows in every batch when plain batches would hold fewer, weighted so that the objective's "
    "expectation is unchanged (0: plain batches); the same for every data set and model (docs/low_supervision.md).",
)  # fmt: skip
training_options = stack(labels_option, sup_option, schedule_options, labelled_per_batch_option)

inception_option = click.option(
    "--inception-weights", type=click.Path(dir_okay=False), default=None,
    help="Local Inception-v3 weights file (torchvision's inception_v3_google-*.pth or pytorch-fid's "
    "pt_inception-2015-12-05-*.pth): adds FID (Table 4). Nothing is downloaded.",
)  # fmt: skip
