"""`pyro-ccvae bench`: training throughput on this machine."""

from __future__ import annotations

import json

import click
import torch

from pyro_ccvae.bench import benchmark, random_images
from pyro_ccvae.data import split_tensors
from pyro_ccvae.datasets import load_dataset
from pyro_ccvae.devices import resolve_device
from pyro_ccvae.model import CCVAE, CCVAEConfig

from .common import device_option, user_errors


@click.command()
@click.option("--dataset", default="random", show_default=True,
              help="'random' (images of --image-size), a built-in or prepared data set name, or an .h5 path.")
@click.option("--image-size", type=click.Choice(["16", "32", "64", "128"]), default="64", show_default=True,
              help="Image side for --dataset random.")
@click.option("--num-labels", type=click.IntRange(min=1), default=18, show_default=True, help="Labels for --dataset random.")
@click.option("--num-images", type=click.IntRange(min=1), default=4096, show_default=True, help="Images for --dataset random.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="Folder of prepared data files.")
@click.option("--batch-size", type=click.IntRange(min=1), default=128, show_default=True, help="Images per step.")
@click.option("--steps", type=click.IntRange(min=1), default=20, show_default=True, help="Timed steps of each kind.")
@click.option("--warmup", type=click.IntRange(min=0), default=3, show_default=True, help="Untimed steps before timing.")
@click.option("--classifier-samples", type=click.IntRange(min=1), default=100, show_default=True, help="k for q(y|x).")
@device_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench(dataset, image_size, num_labels, num_images, data_dir, batch_size, steps, warmup, classifier_samples, device, as_json):
    """Images/s of labelled and unlabelled training steps and of the data path, and peak memory."""
    try:
        device = resolve_device(device)
    except RuntimeError as e:
        raise click.UsageError(str(e)) from e
    with user_errors():
        if dataset == "random":
            side = int(image_size)
            data = random_images(num_images, (3, side, side), num_labels, device)
            names = [f"label_{i}" for i in range(num_labels)]
        else:
            loaded = load_dataset(dataset, data_dir)
            loaded = loaded.select_labels(list(loaded.default_labels))
            data = split_tensors(loaded, "train", device)
            names = list(loaded.label_names)
    torch.manual_seed(0)
    config = CCVAEConfig(label_names=names, label_priors=[0.5] * len(names), image_shape=tuple(data.images.shape[1:]))
    result = benchmark(CCVAE(config).to(device), data, batch_size, steps, warmup, classifier_samples)
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(f"device                      {result['device']} (batch {batch_size})")
    click.echo(f"labelled steps              {result['labelled_images_per_s']:,.0f} images/s")
    click.echo(f"unlabelled steps            {result['unlabelled_images_per_s']:,.0f} images/s")
    click.echo(f"labelled / unlabelled time  {result['labelled_over_unlabelled_step_time']:.3f}")
    click.echo(f"data path alone             {result['data_images_per_s']:,.0f} images/s")
    click.echo(f"peak memory                 {result['peak_memory_mb']:,.0f} MB")
