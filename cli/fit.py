"""`pyro-ccvae fit`: train a CCVAE, or one of the baselines the paper compares it with."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from pyro_ccvae.core import LIKELIHOODS, UNSUP_BOUNDS
from pyro_ccvae.devices import resolve_device
from pyro_ccvae.training import distributed
from pyro_ccvae.training.config import ON_NAN, ModelOptions
from pyro_ccvae.training.defaults import settings_for
from pyro_ccvae.training.loop import MAX_ROLLBACKS, ROLLBACK_LR_FACTOR, stop_signals
from pyro_ccvae.training.registry import MODEL_SPECIFIC, MODELS, spec_of
from pyro_ccvae.training.runs import resume_run, runs_dir, train_new_run

from .errors import user_errors
from .options import (
    TRAIN_DEFAULTS,
    dataset_options,
    device_option,
    names,
    output_options,
    seed_option,
    training_options,
)
from .progress import Progress, ensure_dataset
from .torchrun import torchrun_process

MODEL_DEFAULTS = ModelOptions()
RESUME_OPTIONS = ("resume", "epochs", "device", "data_dir", "devices")


@click.command()
@click.option("--model", "model_name", type=click.Choice(list(MODELS)), default="ccvae", show_default=True,
              help="ccvae, or a baseline of the paper: m2 (Kingma et al. 2014), diva (modified DIVA, App. C.4), "
              "mvae (Wu & Goodman 2018).")
@dataset_options()
@training_options
@click.option("--z-c-block", type=click.IntRange(min=1), default=None,
              help="Size of each label's block z_c^i (ccvae, diva); mvae: its latent has L * this + --z-s-dim "
              "dimensions [default: 1; K for a single K-class label, as for MNIST].")
@click.option("--z-s-dim", type=click.IntRange(min=1), default=MODEL_DEFAULTS.z_s_dim, show_default=True,
              help="Size of z_\\c, the latents no label explains (m2: its z; mvae: see --z-c-block).")
@click.option("--likelihood", type=click.Choice(list(LIKELIHOODS)), default=MODEL_DEFAULTS.likelihood, show_default=True,
              help="Family of p(x | z).")
@click.option("--likelihood-scale", type=click.FloatRange(min=0, min_open=True), default=MODEL_DEFAULTS.likelihood_scale,
              show_default=True, help="Scale of p(x | z) (pixels are in [0, 1]).")
@click.option("--continuous-prior-scale", type=click.FloatRange(min=0, min_open=True),
              default=MODEL_DEFAULTS.continuous_prior_scale, show_default=True,
              help="ccvae: scale of p(z_c^i|y_i) for continuous labels; smaller ties z_c^i to y_i more tightly.")
@click.option("--unsup-bound", type=click.Choice(UNSUP_BOUNDS), default=TRAIN_DEFAULTS.unsup_bound, show_default=True,
              help="ccvae: how unlabelled rows treat y: sample it, enumerate it exactly, or marginalise it in p(z_c).")
@click.option("--classifier-samples", "num_classifier_samples", type=click.IntRange(min=1),
              default=TRAIN_DEFAULTS.num_classifier_samples, show_default=True,
              help="ccvae: k, draws of q(z_c|x) used to estimate q(y|x) in eq. (4).")
@click.option("--alpha", type=click.FloatRange(min=0), default=None,
              help="m2, diva: weight of the classifier term [default: m2 50 (Kingma et al.'s 0.1 N / N_l on their "
              "MNIST split; pyro_ccvae.baselines.kingma_alpha gives it for yours), diva 3500 (DIVA's code)].")
@click.option("--beta", type=click.FloatRange(min=0), default=None,
              help="ccvae, diva: weight of the prior (KL) terms of the bound; 1 is the paper's bound (docs/objective.md) "
              "[default: 1].")
@click.option("--contrastive-weight", type=click.FloatRange(min=0), default=TRAIN_DEFAULTS.contrastive_weight,
              show_default=True, help="ccvae: lambda, weight of poster 000's supervised contrastive term on normalised "
              "z_c (per labelled row; 0: none).")
@click.option("--contrastive-temperature", type=click.FloatRange(min=0, min_open=True),
              default=TRAIN_DEFAULTS.contrastive_temperature, show_default=True,
              help="ccvae: tau, temperature of the contrastive term.")
@click.option("--prior-lr-factor", type=click.FloatRange(min=0, min_open=True), default=TRAIN_DEFAULTS.prior_lr_factor,
              show_default=True, help="ccvae, diva: learning rate of p(z_c|y)'s parameters as a multiple of --lr; "
              "above 1 the prior keeps up with the encoder in short runs, for conditional generation (docs/generation.md).")
@seed_option("Seed for the labelled subset, initial weights and draws.", default=TRAIN_DEFAULTS.seed)
@device_option
@output_options("Run folder for config.json, checkpoint.pt and metrics.jsonl [default: runs/DATASET-supF-seedS; "
                "runs/DATASET-MODEL-supF-seedS for a baseline; runs/ is $PYRO_CCVAE_RUNS if set].",
                "Replace a run folder that already holds a run.")
@click.option("--source", type=click.Path(file_okay=False), default=None,
              help="Folder holding the official files of --dataset celeba, chexpert, mnist or fashion-mnist, "
              "prepared once into the data folder if not prepared yet [default: look in the data folder and "
              "$PYRO_CCVAE_DATA].")
@click.option("--checkpoint-every", type=click.IntRange(min=0), default=TRAIN_DEFAULTS.checkpoint_every, show_default=True,
              help="Steps between checkpoints (0: only at the end of each epoch).")
@click.option("--on-nan", type=click.Choice(ON_NAN), default=TRAIN_DEFAULTS.on_nan, show_default=True,
              help=f"On a NaN loss: stop, or roll back to the last checkpoint with the learning rate times "
                   f"{ROLLBACK_LR_FACTOR:g} (at most {MAX_ROLLBACKS} times).")
@click.option("--resume", type=click.Path(file_okay=False), default=None,
              help="Continue the run in this folder from its last checkpoint, with its settings; only "
                   "--epochs (to raise the total), --device, --devices and --data-dir may be given with it.")
@click.option("--devices", type=click.IntRange(min=1), default=1, show_default=True,
              help="Train data-parallel on N processes of this machine (one per GPU with CUDA, else N CPU "
                   "processes): the same as `torchrun --standalone --nproc-per-node N -m pyro_ccvae_cli fit ...`. "
                   "Each step then takes N x --batch-size images.")
@click.pass_context
def fit(ctx, model_name, dataset, data_dir, labels, sup, epochs, batch_size, lr, labelled_per_batch, z_c_block, z_s_dim,
        likelihood, likelihood_scale, continuous_prior_scale, unsup_bound, num_classifier_samples, alpha, beta,
        contrastive_weight, contrastive_temperature, prior_lr_factor, seed, device, out, force, source, checkpoint_every,
        on_nan, resume, devices):
    """Train a CCVAE (or, with --model, a baseline) on a data set with a fraction of its labels,
    or resume a run. Every model shares the data, training loop, checkpoints and NaN guard.

    Defaults of --epochs, --batch-size and --lr depend on the data set: the paper's settings
    (App. C.3) for celeba and chexpert, quick CPU settings for synthfaces and every other file;
    the run's config.json records the values used and which defaults applied.

    A checkpoint is written every --checkpoint-every steps and at the end of each epoch.
    SIGINT (Ctrl-C) or SIGTERM stops after the current step with a checkpoint to --resume from.

    Started by torchrun (or with --devices), the processes train one model together, each on its
    share of every step's rows; rank 0 writes the run folder and reports.
    """
    rank = distributed.launched_rank()
    try:
        _check_options(ctx, model_name, resume)
    except click.UsageError:
        if rank > 0:  # under torchrun, rank 0 reports
            ctx.exit(2)
        raise
    if devices > 1:
        with user_errors():
            ctx.exit(distributed.launch(devices, ["pyro_ccvae_cli.fit", *_arguments(ctx, but="devices")]))
    starting = "interrupted (Ctrl-C) while starting; a run is replaced only once its replacement's first checkpoint is written"
    with torchrun_process() as during_training:
        with user_errors(starting, quiet=rank > 0), Progress() as progress, stop_signals() as stop:
            with distributed.joined(resolve_device(device)) as world:
                hooks = dict(progress.hooks() if world.writes else {}, stop=during_training(stop), world=world)
                if resume:
                    run_dir = Path(resume)
                    resume_run(run_dir, world.device, data_dir, epochs=epochs if _given(ctx, "epochs") else None, **hooks)
                else:
                    world.first(lambda: ensure_dataset(dataset, data_dir, source))
                    model_part = "" if model_name == "ccvae" else f"-{model_name}"
                    run_dir = Path(out) if out else runs_dir() / f"{Path(dataset).stem}{model_part}-sup{sup:g}-seed{seed}"
                    config = settings_for(
                        dataset, data_dir, labels=names(labels), sup_fraction=sup, epochs=epochs, batch_size=batch_size,
                        lr=lr, labelled_per_batch=labelled_per_batch, seed=seed, unsup_bound=unsup_bound,
                        num_classifier_samples=num_classifier_samples, alpha=alpha, beta=beta,
                        contrastive_weight=contrastive_weight, contrastive_temperature=contrastive_temperature,
                        prior_lr_factor=prior_lr_factor, checkpoint_every=checkpoint_every, on_nan=on_nan,
                    )  # fmt: skip
                    options = ModelOptions(z_c_block, z_s_dim, likelihood, likelihood_scale, continuous_prior_scale)
                    train_new_run(config, options, run_dir, world.device, data_dir, replace=force, model_name=model_name,
                                  on_note=progress.note if world.writes else None, **hooks)  # fmt: skip
        if rank == 0:
            click.echo(f"run saved in {run_dir}")


def _arguments(ctx: click.Context, but: str) -> list[str]:
    """The options given to this command, but `but`, as command-line arguments."""
    arguments = []
    for p in ctx.command.params:
        if p.name != but and _given(ctx, p.name):
            value = ctx.params[p.name]
            arguments += ([p.opts[0]] if value else []) if p.is_flag else [p.opts[0], str(value)]
    return arguments


def _given(ctx: click.Context, name: str) -> bool:
    """Whether the option `name` was given on the command line (or by an environment variable)."""
    return ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def _flag(ctx: click.Context, name: str) -> str:
    return next(p.opts[0] for p in ctx.command.params if p.name == name)


def _check_options(ctx: click.Context, model_name: str, resume) -> None:
    """The checks of the options that click cannot make alone."""
    if _given(ctx, "devices") and distributed.launched():
        raise click.UsageError("--devices starts processes itself; under torchrun, --nproc-per-node says how many")
    if resume:
        _check_resume_options(ctx)
    else:
        _check_model_options(ctx, model_name)


def _check_model_options(ctx: click.Context, model_name: str) -> None:
    """An option given for a model that does not take it is a mistake (registry.ModelSpec.options)."""
    for name in MODEL_SPECIFIC:
        if _given(ctx, name) and name not in spec_of(model_name).options:
            takers = [spec.name for spec in MODELS.values() if name in spec.options]
            raise click.UsageError(f"{_flag(ctx, name)} applies to {', '.join(takers)} only, not to --model {model_name}")


def _check_resume_options(ctx: click.Context) -> None:
    """--resume takes the run's settings from its config.json: other options are mistakes."""
    others = [p.opts[0] for p in ctx.command.params if p.name not in RESUME_OPTIONS and _given(ctx, p.name)]
    if others:
        raise click.UsageError(
            f"--resume takes the run's settings from its config.json; only --epochs, --device, --devices and "
            f"--data-dir may be given with it, not {', '.join(others)}"
        )


if __name__ == "__main__":  # `python -m pyro_ccvae_cli.fit`: what `fit --devices N` starts N times
    fit(prog_name="pyro-ccvae fit")
