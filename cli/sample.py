"""`pyro-ccvae sample`: generate images with chosen labels, or sweep one label through its values."""

from __future__ import annotations

import click
import torch

from pyro_ccvae.checkpoint import load_model
from pyro_ccvae.devices import model_device, resolve_device
from pyro_ccvae.generate import conditional_samples, sweep_samples
from pyro_ccvae.images import save_grid
from pyro_ccvae.labels import assignment_tensors, format_value, parse_for, sweep_values
from pyro_ccvae.models import require

from .common import device_option, user_errors


@click.command()
@click.option("--run", "run_dir", required=True, type=click.Path(file_okay=False), help="Run folder written by `fit`.")
@click.option("--label", "labels", multiple=True, metavar="NAME=VALUE",
              help="Fix a label, e.g. Smiling=1, Hair=blond or Age=35; repeat for more. Labels not given are drawn from p(y).")
@click.option("--sweep", metavar="NAME[=LOW:HIGH]", default=None,
              help="Sweep one label: a column per value (every class; for a continuous label --steps values "
              "from LOW to HIGH, default mean -/+ 2 sd), a row per draw of everything else.")
@click.option("--steps", type=click.IntRange(min=2), default=7, show_default=True, help="Columns of a continuous --sweep.")
@click.option("--num", type=click.IntRange(min=1), default=64, show_default=True,
              help="Number of images (rows, with --sweep).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the draws.")
@device_option
@click.option("--out", type=click.Path(dir_okay=False), default="samples.png", show_default=True, help="PNG file for the grid.")
def sample(run_dir, labels, sweep, steps, num, seed, device, out):
    """Generate images: y fixed where given, z_c ~ p(z_c|y), z_\\c ~ N(0, I)."""
    with user_errors():
        model = load_model(run_dir, resolve_device(device))
        config = model.config
        values = parse_for(labels, config)
        y, mask = assignment_tensors(values, config.label_names, num, model_device(model))
        torch.manual_seed(seed)
        if sweep is None:
            save_grid(conditional_samples(model, y, mask), out)
            click.echo(f"wrote {num} samples to {out}")
            return
        require(model, "traverse")
        name, swept = sweep_values(sweep, config, steps)
        index = config.label_names.index(name)
        images = sweep_samples(model, index, torch.tensor(swept), y, mask)  # [num, K, C, S, S]
        save_grid(images.flatten(0, 1), out, nrow=len(swept))
    kind, classes = config.label_kinds[index], config.label_classes.get(name, ())
    columns = ", ".join(format_value(v, kind, classes) for v in swept)
    click.echo(f"wrote {out}: {num} rows of draws, columns {name} = {columns}")
