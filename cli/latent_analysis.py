"""`pyro-ccvae probe` and `pyro-ccvae frankenstein`: the latent-space analyses of poster 000
(the work is in pyro_ccvae.analysis.latent_analysis and frankenstein)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pyro_ccvae.analysis.directions import DIRECTION_SPAN
from pyro_ccvae.analysis.frankenstein import frankenstein_run
from pyro_ccvae.analysis.latent_analysis import probe_run
from pyro_ccvae.analysis.plots import correlation_figure, direction_effects_figure, frankenstein_figure, probe_figure
from pyro_ccvae.analysis.probe import main_score
from pyro_ccvae.devices import resolve_device

from .errors import user_errors
from .options import device_option, names, run_data_option, run_option, seed_option

oracle_option = click.option("--oracle", "oracle_dir", default=None, type=click.Path(file_okay=False),
                             help="Oracle folder written by `oracle fit`.")  # fmt: skip
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")


@click.command("probe")
@run_option
@run_data_option
@oracle_option
@click.option("--max-train", type=click.IntRange(min=10), default=5000, show_default=True,
              help="Training images (drawn at random) the probes and directions are fitted on.")
@click.option("--span", type=click.FloatRange(min=0, min_open=True), default=DIRECTION_SPAN, show_default=True,
              help="With --oracle: each direction u of z_\\c is scored from z_\\c - SPAN u to z_\\c + SPAN u (poster "
              "000's range).")
@click.option("--images", type=click.IntRange(min=1), default=200, show_default=True,
              help="With --oracle: test images moved along each direction.")
@seed_option("Seed for the training images drawn and the boosted probes.")
@device_option
@click.option("--figures", type=click.Path(file_okay=False), default=None,
              help="Folder for probe.png, correlations.png (and with --oracle direction_effects.png) [default: RUN/probe].")
@json_option
def probe(run_dir, dataset, oracle_dir, max_train, span, images, seed, device, figures, as_json):
    """Where each label of the run's data file lives, including labels the model was not trained
    on: test accuracy (R^2 for a continuous label) of a linear probe (logistic regression) and a
    gradient-boosted one from z_c and from z_\\c, fitted on training images, beside the majority
    (or mean) baseline; Corr(z_\\c[k], y) per dimension; with --oracle, the change of every oracle
    label along each base vector e_k of z_\\c and along each label's probe direction W/|W|."""
    with user_errors():
        result = probe_run(run_dir, resolve_device(device), dataset, max_train, seed, oracle_dir, span, images)
        folder = Path(figures or Path(run_dir) / "probe")
        result["figures"] = {"probe": str(folder / "probe.png"), "correlations": str(folder / "correlations.png")}
        probe_figure(result, result["figures"]["probe"])
        correlation_figure(result["correlations"], result["figures"]["correlations"])
        if "direction_effects" in result:
            result["figures"]["direction_effects"] = str(folder / "direction_effects.png")
            direction_effects_figure(result["direction_effects"], result["figures"]["direction_effects"])
    if as_json:
        click.echo(json.dumps(result))
        return
    _print_probes(result)


def _score(measure: dict) -> str:
    value = main_score(measure)
    return "n/a" if value is None else f"{value:.3f}"


def _print_probes(result: dict) -> None:
    labels = result["labels"]
    width = max(map(len, [*labels, "label"]))
    heads = ["baseline", "z_c lin", "z_c boost", "z_\\c lin", "z_\\c boost"]
    click.echo(f"{'label':<{width}}  {'trained':<7}  {'score':<8}  " + "  ".join(f"{h:>11}" for h in heads))
    for name, row in labels.items():
        cells = [row["baseline"], row["z_c"]["linear"], row["z_c"]["boosted"], row["z_s"]["linear"], row["z_s"]["boosted"]]
        trained = "yes" if row["trained"] else "no"
        click.echo(f"{name:<{width}}  {trained:<7}  {row['score']:<8}  " + "  ".join(f"{_score(c):>11}" for c in cells))
    click.echo(f"(probes fitted on {result['train_images']} training images, scored on {result['test_images']} test images)")
    effects = result.get("direction_effects")
    if effects:
        click.echo(f"change in the oracle's p(y = 1) along directions of z_\\c (alpha {-effects['span']:g} -> "
                   f"{effects['span']:g}, {effects['images']} test images):")
        dims = [d for d in effects["directions"] if d.startswith("z_s[")]
        for j, name in enumerate(effects["oracle_labels"]):
            change = dict(zip(effects["directions"], (row[j] for row in effects["change"])))
            best = max(dims, key=lambda d: abs(change[d]))
            own = f"W({name}) {change[f'W({name})']:+.2f}, " if f"W({name})" in change else ""
            click.echo(f"  {name:<{width}}  {own}largest base vector {best} {change[best]:+.2f}")
    click.echo("figures: " + ", ".join(result["figures"].values()))


@click.command("frankenstein")
@run_option
@run_data_option
@click.option("--oracle", "oracle_dir", required=True, type=click.Path(file_okay=False),
              help="Oracle folder written by `oracle fit` (best trained on data where the two labels are independent).")
@click.option("--labels", required=True, metavar="A,B", help="The two binary labels, e.g. the pair of `data synthfaces --correlate`.")
@click.option("--num", type=click.IntRange(min=1), default=500, show_default=True,
              help="Generated images per combination, and test images intervened on or mixed.")
@seed_option("Seed for the generated labels and latents and the images mixed.")
@device_option
@click.option("--figure", type=click.Path(dir_okay=False), default=None,
              help="PNG of the outcome matrices [default: RUN/frankenstein.png].")
@json_option
def frankenstein(run_dir, dataset, oracle_dir, labels, num, seed, device, figure, as_json):
    """The Frankenstein test (poster 000): ask for every combination of two labels (rare ones
    too, when they are correlated in the training data) by conditional generation, by
    intervention and by mixing z_c blocks of other images, and report how often the oracle
    finds the combination asked for."""
    with user_errors():
        result = frankenstein_run(run_dir, oracle_dir, names(labels), resolve_device(device), dataset, num, seed)
        result["figure"] = str(figure or Path(run_dir) / "frankenstein.png")
        frankenstein_figure(result, result["figure"])
    if as_json:
        click.echo(json.dumps(result))
        return
    modes = list(result["modes"])
    width = max(map(len, result["combinations"])) + 7
    click.echo(f"{'combination asked for':<{width}}  {'train share':>11}  " + "  ".join(f"{m:>12}" for m in modes))
    for r, combination in enumerate(result["combinations"]):
        name = combination + (" (rare)" if result["rare"][r] else "")
        rates = "  ".join(f"{result['modes'][m]['success'][r]:>12.3f}" for m in modes)
        click.echo(f"{name:<{width}}  {result['train_frequency'][r]:>11.3f}  {rates}")
    for key, title in (("rare_success", "rare, mean"), ("common_success", "common, mean")):
        values = "  ".join(f"{_number(result['modes'][m][key]):>12}" for m in modes)
        click.echo(f"{title:<{width}}  {'':>11}  {values}")
    for mode, reason in result["not_supported"].items():
        click.echo(f"{mode}: n/a ({reason})")
    click.echo(f"(success: share of images the oracle reads as the combination asked for; figure: {result['figure']})")


def _number(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
