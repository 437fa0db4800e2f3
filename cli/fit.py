"""`pyro-ccvae fit`: train a CCVAE."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
from tqdm import tqdm

from pyro_ccvae.devices import resolve_device
from pyro_ccvae.elbo import UNSUP_BOUNDS
from pyro_ccvae.model import LIKELIHOODS
from pyro_ccvae.train import TrainConfig, train_new_run

from .common import device_option, user_errors

DEFAULTS = TrainConfig()


def _fraction(ctx, param, value):
    if not 0 < value <= 1:
        raise click.BadParameter(f"must be in (0, 1], got {value}")
    return value


@click.command()
@click.option("--dataset", default=DEFAULTS.dataset, show_default=True,
              help="Built-in data set (synthfaces), a prepared one (celeba, chexpert, mnist, fashion-mnist), or the path of an .h5 file.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Folder of prepared and cached data files [default: $PYRO_CCVAE_DATA or ./data].")
@click.option("--labels", default="", help="Comma-separated labels to model [default: the data set's default labels].")
@click.option("--sup", type=float, default=DEFAULTS.sup_fraction, show_default=True, callback=_fraction,
              help="Fraction f of training images whose labels are used.")
@click.option("--epochs", type=click.IntRange(min=1), default=DEFAULTS.epochs, show_default=True, help="Passes over the training set.")
@click.option("--batch-size", type=click.IntRange(min=1), default=DEFAULTS.batch_size, show_default=True, help="Images per step.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=DEFAULTS.lr, show_default=True, help="Adam learning rate.")
@click.option("--z-c-block", type=click.IntRange(min=1), default=1, show_default=True, help="Size of each label's block z_c^i.")
@click.option("--z-s-dim", type=click.IntRange(min=1), default=27, show_default=True, help="Size of z_\\c, the latents no label explains.")
@click.option("--likelihood", type=click.Choice(list(LIKELIHOODS)), default="laplace", show_default=True, help="Family of p(x | z).")
@click.option("--likelihood-scale", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Scale of p(x | z) (pixels are in [0, 1]).")
@click.option("--unsup-bound", type=click.Choice(UNSUP_BOUNDS), default=DEFAULTS.unsup_bound, show_default=True,
              help="How unlabelled rows treat y: sample it, enumerate it exactly, or marginalise it in p(z_c).")
@click.option("--classifier-samples", type=click.IntRange(min=1), default=DEFAULTS.num_classifier_samples, show_default=True,
              help="k, draws of q(z_c|x) used to estimate q(y|x) in eq. (4).")
@click.option("--seed", type=int, default=DEFAULTS.seed, show_default=True, help="Seed for the labelled subset, initial weights and draws.")
@device_option
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run folder for config.json, checkpoint.pt and metrics.jsonl [default: runs/DATASET-supF-seedS].")
@click.option("--force", is_flag=True, help="Replace a run folder that already holds a run.")
def fit(dataset, data_dir, labels, sup, epochs, batch_size, lr, z_c_block, z_s_dim, likelihood, likelihood_scale,
        unsup_bound, classifier_samples, seed, device, out, force):
    """Train a CCVAE on a data set with a fraction of its labels."""
    run_dir = Path(out or f"runs/{Path(dataset).stem}-sup{sup:g}-seed{seed}")
    if (run_dir / "config.json").exists():
        if not force:
            raise click.UsageError(f"{run_dir} already holds a run; choose another --out or pass --force to replace it")
        shutil.rmtree(run_dir)
    config = TrainConfig(
        dataset=dataset,
        labels=[n.strip() for n in labels.split(",") if n.strip()],
        sup_fraction=sup,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        unsup_bound=unsup_bound,
        num_classifier_samples=classifier_samples,
    )
    model_options = dict(z_c_block=z_c_block, z_s_dim=z_s_dim, likelihood=likelihood, likelihood_scale=likelihood_scale)
    try:
        device = resolve_device(device)
    except RuntimeError as e:
        raise click.UsageError(str(e)) from e
    bar = None

    def on_step(loss):
        bar.update(1)
        if bar.n % 10 == 0:
            bar.set_postfix(loss=f"{loss.item():.1f}")

    def on_epoch(metrics):
        bar.close()
        click.echo(
            f"epoch {metrics['epoch']}/{epochs}: loss {metrics['loss']:.2f} per image, "
            f"validation accuracy {metrics['valid_accuracy']:.3f} ({metrics['seconds']:.0f} s)",
            err=True,
        )
        new_bar()

    def new_bar():
        nonlocal bar
        bar = tqdm(desc="training", unit="step", leave=False, dynamic_ncols=True)

    new_bar()
    with user_errors():
        train_new_run(config, model_options, run_dir, device, data_dir, on_step, on_epoch)
    bar.close()
    click.echo(f"run saved in {run_dir}")
