"""`pyro-ccvae intervene | traverse | interpolate | swap | diversity`: PNGs of what the latent
space lets a user do with real images (paper Fig. 3, 5, 6-7, 11; posters 000 and 002); the work
is in pyro_ccvae.analysis (manipulate, directions, interpolate)."""

from __future__ import annotations

import click
import torch

from pyro_ccvae.analysis.directions import DIRECTION_SPAN, direction_effects, traverse_direction, unit_direction
from pyro_ccvae.analysis.grids import grid_rows, headed_grid, save_grid
from pyro_ccvae.analysis.interpolate import interpolate_images, interpolate_label
from pyro_ccvae.analysis.latent_analysis import run_label_direction
from pyro_ccvae.analysis.manipulate import (
    TRAVERSAL_SPAN,
    diversity,
    flip_each_label,
    intervene,
    label_index,
    pixel_variance,
    reconstruct,
    swap,
    traverse,
)
from pyro_ccvae.analysis.oracle import label_scorer, load_oracle
from pyro_ccvae.analysis.plots import diversity_figure
from pyro_ccvae.core.assignments import find_label, parse_assignments, parse_value_pair
from pyro_ccvae.datasets.h5format import SPLITS
from pyro_ccvae.devices import resolve_device
from pyro_ccvae.training.registry import require
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
@click.option("--label", "labels", multiple=True, metavar="NAME",
              help="Label whose z_c^i is traversed; give it twice (two names) for a 2-D grid.")
@click.option("--dimension", type=click.IntRange(min=0), default=None, metavar="K",
              help="Instead of a label's z_c^i, move z_\\c along its base vector e_K (poster 000).")
@click.option("--direction", default=None, metavar="LABEL[=VALUE]",
              help="Instead, move z_\\c along W/|W|, the logistic-regression direction of LABEL (any label of the "
              "data file, trained or not; towards VALUE for a label with more than two classes) fitted on training "
              "images.")
@click.option("--steps", type=click.IntRange(min=2), default=7, show_default=True, help="Points along the traversal.")
@click.option("--span", type=click.FloatRange(min=0), default=None,
              show_default=f"{TRAVERSAL_SPAN:g} with --label, {DIRECTION_SPAN:g} with --dimension or --direction",
              help="--label: from mean_0 - SPAN sd_0 to mean_1 + SPAN sd_1 of p(z_c^i|y_i); --dimension, --direction: "
              "z_\\c + alpha u for alpha from -SPAN to SPAN (poster 000's range by default).")
@click.option("--oracle", "oracle_dir", default=None, type=click.Path(file_okay=False),
              help="With --dimension or --direction: print the oracle's mean p(y = 1) of each label at each step.")
def traverse_command(run_dir, dataset, split, indices, device, out, labels, dimension, direction, steps, span, oracle_dir):
    """Move z_c^i from the y_i=0 side to the y_i=1 side (a categorical label: first to last
    class; a continuous one: low to high): one label gives a row per image, two labels a
    steps x steps grid for one image (rows: first label); paper Fig. 3. Or move z_\\c along a
    base vector (--dimension) or a label's direction (--direction), a row per image (poster
    000). CCVAE and DIVA only: M2 and MVAE have no z_c^i."""
    if sum(map(bool, (labels, dimension is not None, direction))) != 1:
        raise click.UsageError("give one of --label, --dimension or --direction")
    if len(labels) > 2 or len(set(labels)) != len(labels):
        raise click.BadParameter("give one label, or two different labels", param_hint="--label")
    if len(labels) == 2 and len(indices) != 1:
        raise click.BadParameter("a 2-D traversal takes one image", param_hint="--index")
    if oracle_dir is not None and labels:
        raise click.UsageError("--oracle goes with --dimension or --direction")
    if span is None:
        span = TRAVERSAL_SPAN if labels else DIRECTION_SPAN
    with user_errors():
        model, x = _load(run_dir, dataset, split, indices, device)
        if labels:
            images = traverse(model, x, labels, steps, span)  # [B, steps(, steps), C, S, S]
            what = " x ".join(labels)
        else:
            require(model, "probe")
            if direction:
                unit, what = run_label_direction(run_dir, model, direction, dataset), f"W({direction}) in z_\\c"
            else:
                unit, what = unit_direction(model.config.z_s_dim, dimension), f"z_\\c[{dimension}]"
            images = traverse_direction(model, x, unit, steps, span)  # [B, steps, C, S, S]
            if oracle_dir is not None:
                net = load_oracle(oracle_dir, x.device)
                scorer = label_scorer(net, net.config.label_names, model.config.image_shape)
                means = direction_effects(model, scorer, x, {what: unit}, span, steps)[what]  # [steps, J]
        save_grid(images.flatten(0, -4), out, nrow=steps)
    click.echo(f"wrote {out}: traversal of {what} in {steps} steps")
    if oracle_dir is not None:
        click.echo(f"oracle's mean p(y = 1) over {len(indices)} image(s), alpha from {-span:g} to {span:g}:")
        width = max(map(len, net.config.label_names))
        for j, name in enumerate(net.config.label_names):
            row = " ".join(f"{v:.2f}" for v in means[:, j])
            click.echo(f"  {name:<{width}}  {row}   change {means[-1, j] - means[0, j]:+.2f}")


@click.command("interpolate")
@_common("0,1", "interpolate.png", seed=False)
@click.option("--steps", type=click.IntRange(min=2), default=8, show_default=True, help="Points along each line.")
@click.option("--label", "label", default=None, metavar="NAME=FROM:TO",
              help="Instead, move each image's z_c^i from the mean of p(z_c^i|y_i=FROM) to that of p(z_c^i|y_i=TO), "
              "e.g. Smiling=0:1, Hair=blond:red, Age=20:80.")
def interpolate_command(run_dir, dataset, split, indices, device, out, steps, label):
    """Decode along straight lines in latent space (poster 002): --indices A,B[,C,D,...] gives a
    row per pair, from the encoding z = (z_c, z_\\c) of A to that of B; with --label a row per
    image, its z_c^i moving between the conditional priors of two label values. CCVAE and DIVA."""
    if label is None and len(indices) % 2:
        raise click.BadParameter("give pairs of images: A,B or A,B,C,D ...", param_hint="--indices")
    with user_errors():
        model, x = _load(run_dir, dataset, split, indices, device)
        if label is None:
            images = interpolate_images(model, x[0::2], x[1::2], steps)  # [pairs, steps, C, S, S]
            what = ", ".join(f"{a} -> {b}" for a, b in zip(indices[0::2], indices[1::2]))
        else:
            name, start, end = parse_value_pair(label, model.config.labels)
            images = interpolate_label(model, x, name, start, end, steps)  # [B, steps, C, S, S]
            what = label
        save_grid(images.flatten(0, 1), out, nrow=steps)
    click.echo(f"wrote {out}: interpolation of {what} in {steps} steps")


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
