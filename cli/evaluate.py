"""`pyro-ccvae evaluate`: test-set metrics of a trained run (paper Table 1; with an oracle also
Table 2, Table 5 and App. D.1; with ground-truth factors the synthfaces metrics)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click
import torch

from pyro_ccvae.checkpoint import data_for_run, load_config, load_model
from pyro_ccvae.data import split_tensors
from pyro_ccvae.datasets import load_dataset
from pyro_ccvae.devices import resolve_device
from pyro_ccvae.evaluate import label_accuracy
from pyro_ccvae.metrics import (
    condition_number,
    ground_truth_metrics,
    measure_conditional_generation,
    measure_intervention_matrix,
    measure_reconstruction_error,
    measure_swap_score,
)
from pyro_ccvae.oracle import label_scorer, load_oracle

from .common import device_option, user_errors


def _finite(value):
    """NaN/inf -> None, recursively, so that the JSON is standard."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@click.command()
@click.option("--run", "run_dir", required=True, type=click.Path(file_okay=False), help="Run folder written by `fit`.")
@click.option("--dataset", default=None, help="Data file to test on [default: the one the run was trained on].")
@click.option("--oracle", "oracle_dir", default=None, type=click.Path(file_okay=False),
              help="Oracle folder written by `oracle fit`: adds the swap score, conditional-generation "
              "accuracy and intervention matrix.")
@click.option("--figure", type=click.Path(dir_okay=False), default=None,
              help="PNG for the intervention matrix (with --oracle) [default: RUN/intervention_matrix.png].")
@click.option("--samples", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Generated images for the conditional-generation accuracy, and most pairs for the swap score.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the swap pairs and the generated images.")
@device_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def evaluate(run_dir, dataset, oracle_dir, figure, samples, seed, device, as_json):
    """Test-set accuracy per label (predicting from the mean of q(z_c|x)) and reconstruction
    error; with --oracle the paper's swap, generation and intervention metrics; on data with
    ground-truth factors (synthfaces) characteristic tracking, leakage and nuisance R^2."""
    try:
        device = resolve_device(device)
    except RuntimeError as e:
        raise click.UsageError(str(e)) from e
    with user_errors():
        model = load_model(run_dir, device)
        scorer = None
        if oracle_dir is not None:
            scorer = label_scorer(load_oracle(oracle_dir, device), model.config.label_names, model.config.image_shape)
        path = dataset or load_config(run_dir)["model"]["dataset"]["path"]
        data = data_for_run(model.config, load_dataset(path), run_dir, path)
        test = split_tensors(data, "test", model.label_probs.device)
        accuracy, per_label = label_accuracy(model, test)
        names = model.config.label_names
        result = {
            "accuracy": accuracy,
            "per_label": dict(zip(names, per_label)),
            "test_images": len(test),
            "reconstruction_error": measure_reconstruction_error(model, test),
        }
        if scorer is not None:
            result["swap_score"] = measure_swap_score(
                model, scorer, test, samples, generator=torch.Generator().manual_seed(seed)
            )
            mean, per = measure_conditional_generation(model, scorer, samples, generator=torch.Generator().manual_seed(seed))
            result["conditional_generation_accuracy"] = mean
            result["conditional_generation_per_label"] = dict(zip(names, per))
            matrix = measure_intervention_matrix(model, scorer, test)
            result["intervention_matrix"] = matrix.tolist()
            result["intervention_condition_number"] = condition_number(matrix)
            from pyro_ccvae.plots import intervention_matrix_figure  # matplotlib only when needed

            figure = figure or str(Path(run_dir) / "intervention_matrix.png")
            intervention_matrix_figure(matrix, names, result["intervention_condition_number"], figure)
            result["intervention_figure"] = figure
        if data.factors is not None:
            result["ground_truth"] = ground_truth_metrics(model, data)
    result = _finite(result)
    if as_json:
        click.echo(json.dumps(result))
        return
    _print_table(result)


def _number(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _print_table(result: dict) -> None:
    width = max(map(len, result["per_label"]))
    for name, value in result["per_label"].items():
        click.echo(f"{name:<{width}}  {value:.3f}")
    click.echo(f"{'mean':<{width}}  {result['accuracy']:.3f}   ({result['test_images']} test images)")
    click.echo(f"reconstruction error (mean |x - x_hat|): {result['reconstruction_error']:.4f}")
    if "swap_score" in result:
        click.echo(f"swap score (Table 2, lower is better): {_number(result['swap_score'])}")
        click.echo(f"conditional generation accuracy (Table 5): {result['conditional_generation_accuracy']:.3f}")
        click.echo(
            f"intervention matrix condition number (App. D.1): {result['intervention_condition_number']:.3g}"
            f" (figure: {result['intervention_figure']})"
        )
    truth = result.get("ground_truth")
    if truth:
        click.echo(f"characteristic tracking, mean |Spearman rho|: {_number(truth['characteristic_tracking']['mean'])}")
        leak = truth["leakage"]
        click.echo(
            f"label leakage into z_\\c, logistic-regression accuracy: {_number(leak['mean_accuracy'])} "
            f"(majority baseline {_number(leak['mean_majority_baseline'])})"
        )
        click.echo(f"nuisances in z_c, mean linear R^2: {_number(truth['nuisance_r2']['mean'])}")
