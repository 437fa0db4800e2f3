"""`pyro-ccvae intervene | traverse | swap | diversity`: PNGs of what the latent space lets a
user do with real images (paper Fig. 3, 5, 6-7, 11); the work is in pyro_ccvae.manipulate."""

from __future__ import annotations

import click
import torch

from pyro_ccvae.analysis.grids import grid_rows, headed_grid, save_grid
from pyro_ccvae.analysis.manipulate import (
    diversity,
    flip_each_label,
    intervene,
    label_index,
    pixel_variance,
    reconstruct,
    swap,
    traverse,
)
from pyro_ccvae.analysis.plots import diversity_figure
from pyro_ccvae.core.assignments import find_label, parse_assignments
from pyro_ccvae.datasets.h5format import SPLITS
from pyro_ccvae.devices import resolve_device
from pyro_ccvae.training.runs import load_model, run_images

from .errors import user_errors
from .options import device_option, png_option, run_data_option, run_option, seed_option, stack


def _indices(ctx, param, value):
    if value is None:
        return None
    try:
        indices = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"must be comma-separated image numbers such as 0,3,5, got {value!r}") from None
    if not indices:
        raise click.BadParameter("name at least one image")
    return indices


def _common(default_indices: str, default_out: str, seed: bool = True):
    """The options every command here shares: which run, which images, where to write."""
    return stack(
        run_option,
        run_data_option,
        click.option("--split", type=click.Choice(list(SPLITS)), default="test", show_default=True,
                     help="Split the images are numbered in."),
        click.option("--index", "--indices", "indices", default=default_indices, show_default=True, callback=_indices,
                     help="Comma-separated image numbers within --split."),
        *([seed_option("Seed for the draws of z_c^i.")] if seed else []),
        device_option,
        png_option(default_out),
    )  # fmt: skip


def _load(run_dir, dataset, split, indices, device):
    """The run's model and the chosen images [B, C, S, S] in [0, 1] on its device."""
    model = load_model(run_dir, resolve_device(device))
    return model, run_images(run_dir, model, split, indices, dataset)


@click.command("intervene")
@_common("0,1,2,3,4,5,6,7", "intervene.png")
@click.option("--label", "labels", multiple=True, metavar="NAME=VALUE",
              help="Set a label, e.g. Smiling=1; repeat for more (all applied together). "
              "Without --label, each label is flipped in its own column (Fig. 11).")
@click.option("--num", type=click.IntRange(min=1), default=1, show_default=True,
              help="Intervened columns per image with --label (independent draws of z_c^i; one with --mean).")
@click.option("--mean", "use_mean", is_flag=True, help="Set z_c^i to the mean of p(z_c^i|y_i) instead of drawing it.")
def intervene_command(run_dir, dataset, split, indices, seed, device, out, labels, num, use_mean):
    """Switch labels of real images: rows are images; columns the original, its
    reconstruction, then the interventions (paper Fig. 11). M2 and MVAE have no z_c^i: they
    switch the label itself, so --mean and --num change nothing for them."""
    with user_errors():
        model, x = _load(run_dir, dataset, split, indices, device)
        generator = torch.Generator().manual_seed(seed)
        columns = [x, reconstruct(model, x)]
        if labels:
            values = parse_assignments(labels, model.config.labels)
            columns += [intervene(model, x, values, use_mean, generator) for _ in range(1 if use_mean else num)]
        else:
            columns.append(flip_each_label(model, x, use_mean, generator))
        images = grid_rows(columns)
        save_grid(images, out, nrow=images.shape[0] // x.shape[0])
    click.echo(f"wrote {out}: {len(indices)} images x {images.shape[0] // x.shape[0]} columns")


@click.command("traverse")
@_common("0", "traverse.png", seed=False)
@click.option("--label", "labels", multiple=True, required=True, metavar="NAME",
              help="Label whose z_c^i is traversed; give it twice (two names) for a 2-D grid.")
@click.option("--steps", type=click.IntRange(min=2), default=7, show_default=True, help="Points along each traversed z_c^i.")
@click.option("--span", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="From mean_0 - SPAN sd_0 to mean_1 + SPAN sd_1 of p(z_c^i|y_i).")
def traverse_command(run_dir, dataset, split, indices, device, out, labels, steps, span):
    """Move z_c^i from the y_i=0 side to the y_i=1 side (a categorical label: first to last
    class; a continuous one: low to high): one label gives a row per image, two labels a
    steps x steps grid for one image (rows: first label); paper Fig. 3. CCVAE and DIVA only:
    M2 and MVAE have no z_c^i."""
    if len(labels) > 2 or len(set(labels)) != len(labels):
        raise click.BadParameter("give one label, or two different labels", param_hint="--label")
    if len(labels) == 2 and len(indices) != 1:
        raise click.BadParameter("a 2-D traversal takes one image", param_hint="--index")
    with user_errors():
        model, x = _load(run_dir, dataset, split, indices, device)
        images = traverse(model, x, labels, steps, span)  # [B, steps(, steps), C, S, S]
        save_grid(images.flatten(0, -4), out, nrow=steps)
    click.echo(f"wrote {out}: traversal of {' x '.join(labels)} in {steps} steps")


@click.command("swap")
@_common("0,1,2,3,4", "swap.png", seed=False)
@click.option("--targets", default=None, callback=_indices,
              help="Comma-separated images giving z_\\c (columns) [default: the --index images].")
def swap_command(run_dir, dataset, split, indices, device, out, targets):
    """Swap characteristics between images: cell (r, k) decodes z_c of row image r with z_\\c of
    column image k, the originals heading the rows (left) and columns (top); paper Fig. 6, 7."""
    targets = targets or indices
    with user_errors():
        model, x = _load(run_dir, dataset, split, indices + targets, device)
        sources, columns = x[: len(indices)], x[len(indices) :]
        images = headed_grid(swap(model, sources, columns), sources, columns)
        save_grid(images, out, nrow=len(targets) + 1)
    click.echo(f"wrote {out}: {len(indices)} sources of z_c x {len(targets)} sources of z_\\c")


def _label_and_value(text: str, config) -> tuple[str, float | None]:
    if "=" in text:
        ((name, value),) = parse_assignments([text], config.labels).items()
        return name, value
    return find_label(config.labels, text.strip())[1].name, None


@click.command("diversity")
@_common("0", "diversity.png")
@click.option("--label", "label", required=True, metavar="NAME[=VALUE]",
              help="Label whose z_c^i is redrawn from p(z_c^i|y_i); y_i is VALUE if given, else the model's prediction.")
@click.option("--num", type=click.IntRange(min=2), default=16, show_default=True, help="Draws of z_c^i.")
def diversity_command(run_dir, dataset, split, indices, seed, device, out, label, num):
    """Many draws of one characteristic for one image, with the per-pixel variance of the
    decodings beside them (paper Fig. 4, 5). CCVAE and DIVA only: M2 and MVAE have no z_c^i."""
    if len(indices) != 1:
        raise click.BadParameter("diversity takes one image", param_hint="--index")
    with user_errors():
        model, x = _load(run_dir, dataset, split, indices, device)
        name, value = _label_and_value(label, model.config)
        if value is None:
            with torch.no_grad():
                value = float(model.predict(x)[0, label_index(model, name)])
        samples = diversity(model, x[0], name, value, num, torch.Generator().manual_seed(seed))
        title = f"{name}={value:g}: z_c^i ~ p(z_c^i | y_i={value:g}), image {indices[0]} of {split}"
        diversity_figure(reconstruct(model, x)[0], samples, pixel_variance(samples), title, out)
    click.echo(f"wrote {out}: {num} draws of {name}={value:g}")
