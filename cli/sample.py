"""`pyro-ccvae sample`: generate images with chosen labels, or sweep one label through its values."""

from __future__ import annotations

import click
import torch

from pyro_ccvae.analysis.generate import generated_batches, sweep_samples
from pyro_ccvae.analysis.grids import save_grid, save_grid_batches
from pyro_ccvae.core.assignments import assignment_tensors, find_label, parse_assignments, parse_sweep
from pyro_ccvae.devices import model_device, resolve_device
from pyro_ccvae.errors import LabelError
from pyro_ccvae.training.registry import require
from pyro_ccvae.training.runs import load_model

from .errors import user_errors
from .options import device_option, png_option, run_option, seed_option


@click.command()
@run_option
@click.option("--label", "labels", multiple=True, metavar="NAME=VALUE",
              help="Fix a label, e.g. Smiling=1, Hair=blond or Age=35; repeat for more. Labels not given are drawn from p(y).")
@click.option("--sweep", metavar="NAME[=LOW:HIGH]", default=None,
              help="Sweep one label: a column per value (every class; for a continuous label --steps values "
              "from LOW to HIGH, default mean -/+ 2 sd), a row per draw of everything else.")
@click.option("--steps", type=click.IntRange(min=2), default=7, show_default=True, help="Columns of a continuous --sweep.")
@click.option("--num", type=click.IntRange(min=1), default=64, show_default=True,
              help="Number of images (rows, with --sweep).")
@seed_option("Seed for the draws.")
@device_option
@png_option("samples.png")
def sample(run_dir, labels, sweep, steps, num, seed, device, out):
    """Generate images: y fixed where given, z_c ~ p(z_c|y), z_\\c ~ N(0, I)."""
    with user_errors():
        model = load_model(run_dir, resolve_device(device))
        config = model.config
        values = parse_assignments(labels, config.labels)
        generator = torch.Generator().manual_seed(seed)
        if sweep is None:
            save_grid_batches(generated_batches(model, values, num, generator), num, out)
            click.echo(f"wrote {num} samples to {out}")
            return
        require(model, "traverse")
        name, swept = parse_sweep(sweep, config.labels, steps)
        if name in values:
            raise LabelError(f"{name} is both swept and fixed; sweep it, or fix it, not both")
        y, mask = assignment_tensors(values, config.label_names, num, model_device(model))
        index, label = find_label(config.labels, name)
        images = sweep_samples(model, index, torch.tensor(swept), y, mask, generator)  # [num, K, C, S, S]
        save_grid(images.flatten(0, 1), out, nrow=len(swept))
    columns = ", ".join(label.format(v) for v in swept)
    click.echo(f"wrote {out}: {num} rows of draws, columns {name} = {columns}")
