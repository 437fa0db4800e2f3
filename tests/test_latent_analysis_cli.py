"""`probe`, `frankenstein`, `traverse --dimension/--direction` and `interpolate` on tiny runs:
what they report, the files they write, and one-line errors with exit code 2 for mistakes."""

import json

import pytest
from click.testing import CliRunner
from PIL import Image

from pyro_ccvae.datasets import write_dataset
from pyro_ccvae.datasets.synthfaces import LABEL_NAMES, generate_synthfaces
from pyro_ccvae_cli.main import cli

FAST = ["--epochs", "1", "--batch-size", "32", "--z-s-dim", "4", "--device", "cpu"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A CCVAE trained on two of the nine labels, one on data with Eyeglasses and Pale_Skin
    correlated at 0.9, and an oracle; 8x8 images."""
    folder = tmp_path_factory.mktemp("latents")
    plain, correlated = folder / "plain.h5", folder / "correlated.h5"
    write_dataset(plain, generate_synthfaces(200, seed=0, size=8))
    write_dataset(correlated, generate_synthfaces(200, seed=0, size=8, correlation=("Eyeglasses", "Pale_Skin", 0.9)))
    commands = [
        ["fit", "--dataset", plain, "--labels", "Blond_Hair,Pale_Skin", "--classifier-samples", "4", "--out", folder / "subset", *FAST],
        ["fit", "--dataset", correlated, "--classifier-samples", "4", "--out", folder / "correlated", *FAST],
        ["fit", "--model", "m2", "--dataset", plain, "--out", folder / "m2", *FAST],
        ["oracle", "fit", "--dataset", plain, "--epochs", "1", "--out", folder / "oracle"],
    ]
    for command in commands:
        result = run(*command)
        assert result.exit_code == 0, result.output
    return folder


def test_probe_reports_every_label_of_the_file_and_writes_its_figures(runs, tmp_path):
    result = run("probe", "--run", runs / "subset", "--oracle", runs / "oracle", "--images", "8", "--json",
                 "--figures", tmp_path / "figures")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert list(report["labels"]) == ["Blond_Hair", "Pale_Skin", *(n for n in LABEL_NAMES if n not in ("Blond_Hair", "Pale_Skin"))]
    assert [n for n, row in report["labels"].items() if row["trained"]] == ["Blond_Hair", "Pale_Skin"]
    for row in report["labels"].values():
        assert row["score"] == "accuracy" and 0 <= row["baseline"]["accuracy"] <= 1
        assert set(row["z_c"]) == set(row["z_s"]) == {"linear", "boosted"}
    correlations = report["correlations"]
    assert len(correlations["matrix"]) == 4 and len(correlations["matrix"][0]) == len(LABEL_NAMES)
    effects = report["direction_effects"]
    assert effects["directions"] == [f"z_s[{k}]" for k in range(4)] + [f"W({n})" for n in report["labels"]]
    assert len(effects["change"]) == 13 and all(-1 <= v <= 1 for row in effects["change"] for v in row)
    for name in ("probe.png", "correlations.png", "direction_effects.png"):
        assert (tmp_path / "figures" / name).stat().st_size > 0
    table = run("probe", "--run", runs / "subset")
    assert table.exit_code == 0 and "Eyeglasses" in table.output and "z_\\c boost" in table.output


def test_frankenstein_reports_each_combination_by_each_way_of_asking(runs):
    result = run("frankenstein", "--run", runs / "correlated", "--oracle", runs / "oracle",
                 "--labels", "Eyeglasses,Pale_Skin", "--num", "10", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["rare"] == [False, True, True, False]
    assert set(report["modes"]) == {"generation", "intervention", "mixing"}
    for mode in report["modes"].values():
        assert all(0 <= s <= 1 for s in mode["success"])
    assert (runs / "correlated" / "frankenstein.png").is_file()
    table = run("frankenstein", "--run", runs / "correlated", "--oracle", runs / "oracle", "--labels", "Eyeglasses,Pale_Skin",
                "--num", "10")
    assert table.exit_code == 0 and "Eyeglasses=0, Pale_Skin=1 (rare)" in table.output


def test_traverse_moves_z_s_along_a_dimension_or_a_label_direction(runs, tmp_path):
    out = tmp_path / "dimension.png"
    result = run("traverse", "--run", runs / "subset", "--dimension", "1", "--indices", "0,1", "--steps", "5",
                 "--oracle", runs / "oracle", "--out", out)
    assert result.exit_code == 0, result.output
    assert "z_\\c[1]" in result.output and "change" in result.output
    assert Image.open(out).size == (5 * 9 + 1, 2 * 9 + 1)
    result = run("traverse", "--run", runs / "subset", "--direction", "Eyeglasses", "--out", tmp_path / "direction.png")
    assert result.exit_code == 0 and "W(Eyeglasses)" in result.output, result.output


def test_interpolate_pairs_of_images_and_two_label_values(runs, tmp_path):
    result = run("interpolate", "--run", runs / "subset", "--indices", "0,1,2,3", "--steps", "6", "--out", tmp_path / "i.png")
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "i.png").size == (6 * 9 + 1, 2 * 9 + 1)
    result = run("interpolate", "--run", runs / "subset", "--indices", "0,1,2", "--label", "Pale_Skin=0:1",
                 "--out", tmp_path / "l.png")
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "l.png").size == (8 * 9 + 1, 3 * 9 + 1)


@pytest.mark.parametrize("args, message", [
    (["traverse", "--label", "Pale_Skin", "--dimension", "1"], "give one of --label, --dimension or --direction"),
    (["traverse", "--label", "Pale_Skin", "--oracle", "x"], "--oracle goes with --dimension or --direction"),
    (["traverse", "--dimension", "4"], "z_\\c has dimensions 0 to 3, not 4"),
    (["traverse", "--direction", "Nose"], "unknown label 'Nose'"),
    (["interpolate", "--indices", "0,1,2"], "give pairs of images"),
    (["interpolate", "--label", "Pale_Skin=1"], "is not of the form NAME=FROM:TO"),
    (["frankenstein", "--oracle", "x", "--labels", "Pale_Skin"], "the test takes two different labels"),
])  # fmt: skip
def test_mistakes_are_one_line_errors_with_exit_code_2(runs, args, message):
    result = run(args[0], "--run", runs / "subset", *args[1:])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_analyses_refuse_a_model_without_z_c(runs):
    for args in (["probe"], ["interpolate"], ["traverse", "--dimension", "0"]):
        result = run(args[0], "--run", runs / "m2", *args[1:])
        assert result.exit_code == 2 and "M2 has no per-label" in result.output, result.output
