"""`pyro-ccvae evaluate`: test-set metrics of a trained run (paper Table 1; with an oracle also
Table 2, Table 5 and App. D.1; with ground-truth factors the synthfaces metrics)."""

from __future__ import annotations

import json

import click

from pyro_ccvae.analysis.evaluate import evaluate_run
from pyro_ccvae.devices import resolve_device

from .errors import user_errors
from .options import device_option, inception_option, run_data_option, run_option, seed_option


@click.command()
@run_option
@run_data_option
@click.option("--oracle", "oracle_dir", default=None, type=click.Path(file_okay=False),
              help="Oracle folder written by `oracle fit`: adds the swap score, conditional-generation "
              "accuracy and intervention matrix.")
@click.option("--figure", type=click.Path(dir_okay=False), default=None,
              help="PNG for the intervention matrix (with --oracle) [default: RUN/intervention_matrix.png].")
@click.option("--samples", type=click.IntRange(min=2), default=1000, show_default=True,
              help="Generated images for the conditional-generation accuracy and the Fréchet distances (against as "
              "many test images), and most pairs for the swap score.")
@inception_option
@seed_option("Seed for the swap pairs and the generated images.")
@device_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def evaluate(run_dir, dataset, oracle_dir, figure, samples, inception_weights, seed, device, as_json):
    """Test-set accuracy per binary or categorical label, MAE and R^2 per continuous label (the
    model's predictions; for the CCVAE q(y|z_c) at the mean of q(z_c|x)) and reconstruction error; with --oracle the paper's swap, generation and
    intervention metrics; on data with ground-truth factors (synthfaces) characteristic
    tracking, leakage and nuisance R^2. Works for every model `fit --model` trains; a measure a
    model cannot take is n/a (null in --json), with the reason."""
    with user_errors():
        result = evaluate_run(run_dir, resolve_device(device), dataset, oracle_dir, samples, seed, figure,
                              inception_weights)  # fmt: skip
    if as_json:
        click.echo(json.dumps(result))
        return
    _print_table(result)


def _number(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _print_table(result: dict) -> None:
    width = max(map(len, [*result["per_label"], *result["regression"], "mean"]))
    for name, value in result["per_label"].items():
        click.echo(f"{name:<{width}}  {_number(value)}")
    if result["per_label"]:
        click.echo(f"{'mean':<{width}}  {_number(result['accuracy'])}   (accuracy of the discrete labels)")
    for name, r in result["regression"].items():
        click.echo(f"{name:<{width}}  MAE {_number(r['mae'])}, R^2 {_number(r['r2'])}")
    click.echo(f"({result['test_images']} test images, {result['model']})")
    click.echo(f"reconstruction error (mean |x - x_hat|): {result['reconstruction_error']:.4f}")
    offset = result["prior_offset"]
    if offset is None or offset["per_label"]:
        click.echo("distance of p(z_c|y) from the encoded classes, in class spreads (docs/generation.md): "
                   + (_value(result, "prior_offset") if offset is None else _number(offset["mean"])))
    if "swap_score" in result:
        click.echo(f"swap score (Table 2, lower is better): {_value(result, 'swap_score')}")
        click.echo(f"conditional generation accuracy (Table 5): {_value(result, 'conditional_generation_accuracy')}")
        if result["intervention_matrix"] is None:
            click.echo(f"intervention matrix (App. D.1): {_value(result, 'intervention_matrix')}")
        else:
            click.echo(
                f"intervention matrix condition number (App. D.1): {result['intervention_condition_number']:.3g}"
                f" (figure: {result['intervention_figure']})"
            )
    if "oracle_frechet_distance" in result:
        click.echo(f"Fréchet distance of generations to test images in the oracle's features (not FID): "
                   f"{_value(result, 'oracle_frechet_distance')}")
    if "fid" in result:
        click.echo(f"FID, Inception-v3 pool features (Table 4): {_value(result, 'fid')}")
    if "ground_truth" in result and result["ground_truth"] is None:
        click.echo(f"ground-truth metrics: {_value(result, 'ground_truth')}")
    truth = result.get("ground_truth")
    if truth:
        tracking = truth["characteristic_tracking"]
        click.echo(f"characteristic tracking, mean |Spearman rho|: {_number(tracking['mean_visible'])} in the classes "
                   f"where the characteristic is drawn ({tracking['visible_from']}), {_number(tracking['mean'])} in all")
        leak = truth["leakage"]
        click.echo(
            f"label leakage into z_\\c, logistic-regression accuracy: {_number(leak['mean_accuracy'])} "
            f"(majority baseline {_number(leak['mean_majority_baseline'])})"
        )
        for name, value in leak["per_label"].items():
            if "r2" in value:
                click.echo(f"label leakage into z_\\c, {name} from a linear regression: R^2 {_number(value['r2'])}")
        click.echo(f"nuisances in z_c, mean linear R^2: {_number(truth['nuisance_r2']['mean'])}")


def _value(result: dict, key: str) -> str:
    """A measure as text: n/a with the reason where the model cannot take it."""
    reason = result["not_supported"].get(key)
    return f"n/a ({reason})" if reason else _number(result[key])
