"""`pyro-ccvae fit`: train a CCVAE, or one of the baselines the paper compares it with."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource
from tqdm import tqdm

from pyro_ccvae.devices import resolve_device
from pyro_ccvae.elbo import UNSUP_BOUNDS
from pyro_ccvae.model import LIKELIHOODS
from pyro_ccvae.models import MODELS
from pyro_ccvae.train import (
    MAX_ROLLBACKS,
    ON_NAN,
    ROLLBACK_LR_FACTOR,
    TrainConfig,
    resume_run,
    stop_signals,
    train_new_run,
)

from .common import device_option, user_errors

DEFAULTS = TrainConfig()


def _fraction(ctx, param, value):
    if not 0 < value <= 1:
        raise click.BadParameter(f"must be in (0, 1], got {value}")
    return value


@click.command()
@click.option("--model", "model_name", type=click.Choice(list(MODELS)), default="ccvae", show_default=True,
              help="ccvae, or a baseline of the paper: m2 (Kingma et al. 2014), diva (modified DIVA, App. C.4), "
              "mvae (Wu & Goodman 2018).")
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
@click.option("--z-c-block", type=click.IntRange(min=1), default=None,
              help="Size of each label's block z_c^i (ccvae, diva); mvae: its latent has L * this + --z-s-dim "
              "dimensions [default: 1; K for a single K-class label, as for MNIST].")
@click.option("--z-s-dim", type=click.IntRange(min=1), default=27, show_default=True,
              help="Size of z_\\c, the latents no label explains (m2: its z; mvae: see --z-c-block).")
@click.option("--likelihood", type=click.Choice(list(LIKELIHOODS)), default="laplace", show_default=True, help="Family of p(x | z).")
@click.option("--likelihood-scale", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Scale of p(x | z) (pixels are in [0, 1]).")
@click.option("--continuous-prior-scale", type=click.FloatRange(min=0, min_open=True), default=None,
              help="ccvae: scale of p(z_c^i|y_i) for continuous labels; smaller ties z_c^i to y_i more tightly "
              "[default: 0.03].")
@click.option("--unsup-bound", type=click.Choice(UNSUP_BOUNDS), default=DEFAULTS.unsup_bound, show_default=True,
              help="ccvae: how unlabelled rows treat y: sample it, enumerate it exactly, or marginalise it in p(z_c).")
@click.option("--classifier-samples", type=click.IntRange(min=1), default=DEFAULTS.num_classifier_samples, show_default=True,
              help="ccvae: k, draws of q(z_c|x) used to estimate q(y|x) in eq. (4).")
@click.option("--alpha", type=click.FloatRange(min=0), default=None,
              help="m2, diva: weight of the classifier term [default: m2 50 (Kingma et al.'s 0.1 N / N_l on their "
              "MNIST split; pyro_ccvae.baselines.kingma_alpha gives it for yours), diva 3500 (DIVA's code)].")
@click.option("--beta", type=click.FloatRange(min=0), default=None,
              help="diva: weight of the KL terms [default: 1].")
@click.option("--seed", type=int, default=DEFAULTS.seed, show_default=True, help="Seed for the labelled subset, initial weights and draws.")
@device_option
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run folder for config.json, checkpoint.pt and metrics.jsonl [default: runs/DATASET-supF-seedS; "
              "runs/DATASET-MODEL-supF-seedS for a baseline].")
@click.option("--force", is_flag=True, help="Replace a run folder that already holds a run.")
@click.option("--checkpoint-every", type=click.IntRange(min=0), default=DEFAULTS.checkpoint_every, show_default=True,
              help="Steps between checkpoints (0: only at the end of each epoch).")
@click.option("--on-nan", type=click.Choice(ON_NAN), default=DEFAULTS.on_nan, show_default=True,
              help=f"On a NaN loss: stop, or roll back to the last checkpoint with the learning rate times "
                   f"{ROLLBACK_LR_FACTOR:g} (at most {MAX_ROLLBACKS} times).")
@click.option("--resume", type=click.Path(file_okay=False), default=None,
              help="Continue the run in this folder from its last checkpoint, with its settings; only "
                   "--epochs (to raise the total), --device and --data-dir may be given with it.")
@click.pass_context
def fit(ctx, model_name, dataset, data_dir, labels, sup, epochs, batch_size, lr, z_c_block, z_s_dim, likelihood,
        likelihood_scale, continuous_prior_scale, unsup_bound, classifier_samples, alpha, beta, seed, device, out, force,
        checkpoint_every, on_nan, resume):
    """Train a CCVAE (or, with --model, a baseline) on a data set with a fraction of its labels,
    or resume a run. Every model shares the data, training loop, checkpoints and NaN guard.

    A checkpoint is written every --checkpoint-every steps and at the end of each epoch.
    SIGINT (Ctrl-C) or SIGTERM stops after the current step with a checkpoint to --resume from.
    """
    with user_errors(), _Progress() as progress, stop_signals() as stop:
        device = resolve_device(device)
        hooks = dict(on_step=progress.step, on_epoch=progress.epoch, stop=stop, on_rollback=progress.rollback)
        if resume:
            _check_resume_options(ctx)
            run_dir = Path(resume)
            resume_run(run_dir, device, data_dir, epochs=epochs if _given(ctx, "epochs") else None, **hooks)
        else:
            _check_model_options(ctx, model_name)
            model_part = "" if model_name == "ccvae" else f"-{model_name}"
            run_dir = Path(out or f"runs/{Path(dataset).stem}{model_part}-sup{sup:g}-seed{seed}")
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
                alpha=alpha,
                beta=beta,
                checkpoint_every=checkpoint_every,
                on_nan=on_nan,
            )
            model_options = dict(z_s_dim=z_s_dim, likelihood=likelihood, likelihood_scale=likelihood_scale)
            if z_c_block is not None:
                model_options["z_c_block"] = z_c_block
            if continuous_prior_scale is not None:
                model_options["continuous_prior_scale"] = continuous_prior_scale
            train_new_run(config, model_options, run_dir, device, data_dir, replace=force, model_name=model_name, **hooks)
    click.echo(f"run saved in {run_dir}")


RESUME_OPTIONS = ("resume", "epochs", "device", "data_dir")


def _given(ctx: click.Context, name: str) -> bool:
    """Whether the option `name` was given on the command line (or by an environment variable)."""
    return ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


# The options that only some models take, and those models.
MODEL_OPTIONS = {
    "z_c_block": ("ccvae", "diva", "mvae"),
    "continuous_prior_scale": ("ccvae",),
    "unsup_bound": ("ccvae",),
    "classifier_samples": ("ccvae",),
    "alpha": ("m2", "diva"),
    "beta": ("diva",),
}


def _check_model_options(ctx: click.Context, model_name: str) -> None:
    """An option given for a model that does not take it is a mistake."""
    for name, models in MODEL_OPTIONS.items():
        if model_name not in models and _given(ctx, name):
            option = next(p.opts[0] for p in ctx.command.params if p.name == name)
            raise click.UsageError(f"{option} applies to {', '.join(models)} only, not to --model {model_name}")


def _check_resume_options(ctx: click.Context) -> None:
    """--resume takes the run's settings from its config.json: other options are mistakes."""
    others = [p.opts[0] for p in ctx.command.params if p.name not in RESUME_OPTIONS and _given(ctx, p.name)]
    if others:
        raise click.UsageError(
            f"--resume takes the run's settings from its config.json; only --epochs, --device and "
            f"--data-dir may be given with it, not {', '.join(others)}"
        )


class _Progress:
    """A progress bar of steps and one line per epoch, on stderr."""

    def __init__(self):
        self.bar = None

    def step(self, loss):
        if self.bar is None:
            self.bar = tqdm(desc="training", unit="step", leave=False, dynamic_ncols=True)
        self.bar.update(1)
        if self.bar.n % 10 == 0:
            self.bar.set_postfix(loss=f"{loss.item():.1f}")

    def epoch(self, metrics):
        self.close()
        scores = []
        if metrics["valid_accuracy"] is not None:
            scores.append(f"validation accuracy {metrics['valid_accuracy']:.3f}")
        scores += [f"{name} R^2 {r['r2']:.3f}" for name, r in metrics["valid_regression"].items()]
        click.echo(
            f"epoch {metrics['epoch']}: loss {metrics['loss']:.2f} per image, {', '.join(scores)} ({metrics['seconds']:.0f} s)",
            err=True,
        )

    def rollback(self, error, lr):
        self.close()
        click.echo(f"NaN or infinite loss at step {error.step}: back to {error.last_good}, learning rate now {lr:g}", err=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
