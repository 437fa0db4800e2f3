"""`pyro-ccvae sample`: generate images with chosen labels."""

from __future__ import annotations

import click
import torch

from pyro_ccvae.checkpoint import load_model
from pyro_ccvae.devices import resolve_device
from pyro_ccvae.generate import conditional_samples
from pyro_ccvae.images import save_grid
from pyro_ccvae.labels import assignment_tensors, parse_assignments

from .common import device_option, user_errors


@click.command()
@click.option("--run", "run_dir", required=True, type=click.Path(file_okay=False), help="Run folder written by `fit`.")
@click.option("--label", "labels", multiple=True, metavar="NAME=VALUE",
              help="Fix a label, e.g. Smiling=1; repeat for more. Labels not given are drawn from p(y).")
@click.option("--num", type=click.IntRange(min=1), default=64, show_default=True, help="Number of images.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the draws.")
@device_option
@click.option("--out", type=click.Path(dir_okay=False), default="samples.png", show_default=True, help="PNG file for the grid.")
def sample(run_dir, labels, num, seed, device, out):
    """Generate images: y fixed where given, z_c ~ p(z_c|y), z_\\c ~ N(0, I)."""
    with user_errors():
        model = load_model(run_dir, resolve_device(device))
        values = parse_assignments(labels, model.config.label_names)
        y, mask = assignment_tensors(values, model.config.label_names, num, model.label_probs.device)
        torch.manual_seed(seed)
        images = conditional_samples(model, y, mask)
        save_grid(images, out)
    click.echo(f"wrote {num} samples to {out}")
