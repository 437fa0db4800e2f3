"""`pyro-ccvae evaluate`: test-set metrics of a trained run."""

from __future__ import annotations

import json

import click

from pyro_ccvae.checkpoint import load_config, load_model
from pyro_ccvae.data import split_tensors
from pyro_ccvae.datasets import read_dataset
from pyro_ccvae.devices import resolve_device
from pyro_ccvae.evaluate import label_accuracy

from .common import device_option, user_errors


@click.command()
@click.option("--run", "run_dir", required=True, type=click.Path(file_okay=False), help="Run folder written by `fit`.")
@click.option("--dataset", default=None, help="Data file to test on [default: the one the run was trained on].")
@device_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def evaluate(run_dir, dataset, device, as_json):
    """Test-set accuracy per label, predicting from the mean of q(z_c|x)."""
    with user_errors():
        model = load_model(run_dir, resolve_device(device))
        path = dataset or load_config(run_dir)["model"]["dataset"]["path"]
        data = read_dataset(path).select_labels(model.config.label_names)
        test = split_tensors(data, "test", model.label_probs.device)
        accuracy, per_label = label_accuracy(model, test)
    result = {"accuracy": accuracy, "per_label": dict(zip(model.config.label_names, per_label)), "test_images": len(test)}
    if as_json:
        click.echo(json.dumps(result))
        return
    width = max(map(len, result["per_label"]))
    for name, value in result["per_label"].items():
        click.echo(f"{name:<{width}}  {value:.3f}")
    click.echo(f"{'mean':<{width}}  {accuracy:.3f}   ({len(test)} test images)")
