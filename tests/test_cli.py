"""The `pyro-ccvae` commands through click's CliRunner: fit, sample, evaluate and their errors."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from pyro_ccvae import __version__
from pyro_ccvae.datasets import read_dataset
from pyro_ccvae.training.runs import load_model
from pyro_ccvae_cli.main import cli

from .helpers import tiny_synthfaces

FAST = ["--epochs", "1", "--batch-size", "32", "--classifier-samples", "8", "--z-s-dim", "4"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fit")
    data = tiny_synthfaces(folder, 200, 16)
    result = run("fit", "--dataset", data, "--out", folder / "run", "--device", "cpu", *FAST)
    assert result.exit_code == 0, result.output
    return data, folder / "run"


def test_fit_writes_a_loadable_run(trained):
    data, run_dir = trained
    config = json.loads((run_dir / "config.json").read_text())
    assert config["model"]["image_shape"] == [3, 16, 16] and config["train"]["sup_fraction"] == 0.2
    state = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert set(state) >= {"model", "optimizer", "epoch"}
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 1 and 0 <= json.loads(lines[0])["valid_accuracy"] <= 1
    model = load_model(run_dir)
    assert model.config.label_names == list(read_dataset(data).label_names)


def test_fit_refuses_to_overwrite_a_run_without_force(trained):
    data, run_dir = trained
    result = run("fit", "--dataset", data, "--out", run_dir, *FAST)
    assert result.exit_code == 2 and "already holds a run" in result.output and "--force" in result.output


def test_evaluate_json_matches_a_direct_computation(trained):
    data_path, run_dir = trained
    result = run("evaluate", "--run", run_dir, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    data = read_dataset(data_path)
    test = data.split == 2
    model = load_model(run_dir)
    with torch.no_grad():
        predicted = model.predict(torch.from_numpy(data.images[test]).float() / 255).numpy()
    per_label = (predicted == data.labels[test]).mean(0)
    assert report["per_label"] == pytest.approx(dict(zip(data.label_names, per_label)), abs=1e-6)
    assert report["accuracy"] == pytest.approx(per_label.mean(), abs=1e-6)
    table = run("evaluate", "--run", run_dir)
    assert "Smiling" in table.output and "mean" in table.output


def test_sample_writes_a_grid(trained, tmp_path):
    _, run_dir = trained
    out = tmp_path / "s.png"
    result = run("sample", "--run", run_dir, "--label", "Smiling=1", "--label", "Eyeglasses=0", "--num", "9", "--out", out)
    assert result.exit_code == 0, result.output
    width, height = Image.open(out).size
    assert width == height == 3 * 16 + 4  # 3x3 grid with 1-pixel padding


@pytest.mark.parametrize(
    "args, message",
    [
        (["--label", "Smile=1"], "unknown label 'Smile'; valid labels: Smiling, Eyeglasses"),
        (["--label", "Smiling=2"], "must be 0 or 1"),
        (["--label", "Smiling"], "NAME=VALUE"),
    ],
)
def test_sample_rejects_bad_labels_in_one_line(trained, tmp_path, args, message):
    _, run_dir = trained
    result = run("sample", "--run", run_dir, "--out", tmp_path / "x.png", *args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    "args, message, code",
    [
        (["fit", "--dataset", "celebb"], "unknown data set 'celebb'", 2),
        (["fit", "--dataset", "nowhere.h5"], "no data file at nowhere.h5", 1),
        (["fit", "--dataset", "celeba", "--data-dir", "{tmp}"], "run `pyro-ccvae data prepare celeba", 1),
        (["fit", "--sup", "0"], "must be in (0, 1]", 2),
        (["fit", "--sup", "1.5"], "must be in (0, 1]", 2),
        (["fit", "--unsup-bound", "exact"], "'exact' is not one of", 2),
        (["fit", "--dataset", "{corrupt}"], "cannot read", 1),
        (["fit", "--dataset", "{tiny}", "--labels", "Smiling,Nope"], "unknown label(s) Nope", 2),
        (["sample", "--run", "{tmp}/missing"], "is not a run folder", 1),
        (["evaluate", "--run", "{tmp}/missing"], "is not a run folder", 1),
    ],
)
def test_errors_are_one_line(tmp_path, args, message, code):
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(np.random.default_rng(0).bytes(2000))
    tiny = tiny_synthfaces(tmp_path, 50) if "{tiny}" in args else None
    args = [a.format(tmp=tmp_path, corrupt=corrupt, tiny=tiny) for a in args]
    if args[0] == "fit":
        args += ["--out", str(tmp_path / "run")] + FAST
    result = run(*args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("Error")]) == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_is_a_usage_error(tmp_path):
    result = run("fit", "--device", "cuda", "--out", tmp_path / "r", *FAST)
    assert result.exit_code == 2 and "no usable CUDA" in result.output


def test_version_and_help():
    assert __version__ in run("--version").output
    for command in ("fit", "sample", "evaluate"):
        text = run(command, "--help").output
        assert "--help" in text and "Usage" in text
