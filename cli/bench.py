"""`pyro-ccvae bench`: training throughput on this machine."""

from __future__ import annotations

import json

import click

from pyro_ccvae.datasets import read_dataset
from pyro_ccvae.devices import resolve_device
from pyro_ccvae.training.bench import benchmark_new_ccvae, dataset_images, random_images, random_labels

from .errors import user_errors
from .options import batch_size_option, dataset_options, device_option
from .progress import ensure_dataset


@click.command()
@dataset_options("random", "'random' (images of --image-size), a built-in or prepared data set name, or an .h5 path.")
@click.option("--image-size", type=click.Choice(["16", "32", "64", "128"]), default="64", show_default=True,
              help="Image side for --dataset random.")
@click.option("--num-labels", type=click.IntRange(min=1), default=18, show_default=True, help="Labels for --dataset random.")
@click.option("--num-images", type=click.IntRange(min=1), default=4096, show_default=True, help="Images for --dataset random.")
@batch_size_option(128)
@click.option("--steps", type=click.IntRange(min=1), default=20, show_default=True, help="Timed steps of each kind.")
@click.option("--warmup", type=click.IntRange(min=0), default=3, show_default=True, help="Untimed steps before timing.")
@click.option("--classifier-samples", type=click.IntRange(min=1), default=100, show_default=True, help="k for q(y|x).")
@device_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench(dataset, data_dir, image_size, num_labels, num_images, batch_size, steps, warmup, classifier_samples, device,
          as_json):
    """Images/s of labelled and unlabelled training steps and of the data path, and peak memory."""
    with user_errors():
        device = resolve_device(device)
        if dataset == "random":
            side = int(image_size)
            data, labels = random_images(num_images, (3, side, side), num_labels, device), random_labels(num_labels)
        else:
            data, labels = dataset_images(read_dataset(ensure_dataset(dataset, data_dir)), device)
        result = benchmark_new_ccvae(data, labels, batch_size=batch_size, steps=steps, warmup=warmup,
                                     num_classifier_samples=classifier_samples)  # fmt: skip
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(f"device                      {result['device']} (batch {batch_size})")
    click.echo(f"labelled steps              {result['labelled_images_per_s']:,.0f} images/s")
    click.echo(f"unlabelled steps            {result['unlabelled_images_per_s']:,.0f} images/s")
    click.echo(f"labelled / unlabelled time  {result['labelled_over_unlabelled_step_time']:.3f}")
    click.echo(f"data path alone             {result['data_images_per_s']:,.0f} images/s")
    click.echo(f"peak memory                 {result['peak_memory_mb']:,.0f} MB")
