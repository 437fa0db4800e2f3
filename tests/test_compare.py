"""The baselines through the training and evaluation path: `fit --model`, `evaluate`, resume,
the manipulation commands' not-supported errors, and `compare` with its table."""

import dataclasses
import json
import shutil
import signal

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from pyro_ccvae.analysis.compare import compare
from pyro_ccvae.analysis.oracle import fit_oracle, save_oracle
from pyro_ccvae.baselines import DIVA, M2, MVAE
from pyro_ccvae.core.model import CCVAE
from pyro_ccvae.datasets import read_dataset
from pyro_ccvae.errors import Interrupted, RunExists
from pyro_ccvae.training.config import ModelOptions, TrainConfig
from pyro_ccvae.training.runs import load_model, train_new_run
from pyro_ccvae_cli.main import cli

from .helpers import one_line_error, tiny_synthfaces

FAST = ["--epochs", "1", "--batch-size", "32", "--z-s-dim", "4", "--device", "cpu"]
CLASSES = {"ccvae": CCVAE, "m2": M2, "diva": DIVA, "mvae": MVAE}


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)



@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_synthfaces(tmp_path_factory.mktemp("data"), 200, 16)


@pytest.fixture(scope="module")
def runs(data, tmp_path_factory):
    """One run folder per baseline, fitted through the CLI."""
    folder = tmp_path_factory.mktemp("runs")
    for name in ("m2", "diva", "mvae"):
        result = run("fit", "--model", name, "--dataset", data, "--out", folder / name, *FAST)
        assert result.exit_code == 0, result.output
    return folder


@pytest.mark.parametrize("name", ["m2", "diva", "mvae"])
def test_a_fitted_baseline_loads_as_its_class_and_evaluates(runs, name):
    config = json.loads((runs / name / "config.json").read_text())
    assert config["model_name"] == name
    assert type(load_model(runs / name)) is CLASSES[name]
    result = run("evaluate", "--run", runs / name, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["model"] == name and 0 <= report["accuracy"] <= 1 and report["reconstruction_error"] > 0
    if name == "diva":  # per-label characteristic latents: the ground-truth metrics apply
        assert report["ground_truth"]["leakage"]["per_label"] and not report["not_supported"]
    else:
        assert report["ground_truth"] is None and "no per-label characteristic latents" in report["not_supported"]["ground_truth"]


def test_baseline_accuracy_is_predict_proba_on_the_test_split(runs, data):
    report = json.loads(run("evaluate", "--run", runs / "m2", "--json").output)
    dataset = read_dataset(data)
    test = dataset.split == 2
    with torch.no_grad():
        probs = load_model(runs / "m2").predict_proba(torch.from_numpy(dataset.images[test]).float() / 255).numpy()
    per_label = ((probs > 0.5) == (dataset.labels[test] > 0.5)).mean(0)
    assert report["per_label"] == pytest.approx(dict(zip(dataset.label_names, per_label)), abs=1e-6)
    assert report["accuracy"] == pytest.approx(per_label.mean(), abs=1e-6)
    text = run("evaluate", "--run", runs / "m2").output
    assert "ground-truth metrics: n/a (M2 has no per-label characteristic latents" in text


def test_a_baseline_run_resumes(runs, tmp_path):
    run_dir = tmp_path / "mvae"
    shutil.copytree(runs / "mvae", run_dir)
    result = run("fit", "--resume", run_dir, "--epochs", "2")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["epoch"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()] == [1, 2]
    assert torch.load(run_dir / "checkpoint.pt", weights_only=True)["epoch"] == 2
    assert type(load_model(run_dir)) is MVAE


def test_a_run_without_a_model_name_is_a_ccvae(runs, tmp_path, data):
    result = run("fit", "--dataset", data, "--out", tmp_path / "run", "--classifier-samples", "4", *FAST)
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config.pop("model_name") == "ccvae"
    (tmp_path / "run" / "config.json").write_text(json.dumps(config))  # as written before the baselines
    assert type(load_model(tmp_path / "run")) is CCVAE


@pytest.mark.parametrize(
    "args, message",
    [
        (["traverse", "--label", "Smiling"],
         "M2 has no per-label characteristic latents, so there is no traversal of a label's characteristic (as in the paper)"),
        (["diversity", "--label", "Smiling=1"], "M2 has no per-label characteristic latents, so there are no draws"),
    ],
)  # fmt: skip
def test_manipulations_m2_cannot_do_are_one_line_errors(runs, tmp_path, args, message):
    result = run(args[0], "--run", runs / "m2", *args[1:], "--out", tmp_path / "x.png")
    one_line_error(result, 2, message)
    assert not (tmp_path / "x.png").exists()


def test_manipulations_m2_can_do_write_images(runs, tmp_path):
    assert run("swap", "--run", runs / "m2", "--indices", "0,1", "--out", tmp_path / "s.png").exit_code == 0
    assert run("intervene", "--run", runs / "m2", "--indices", "0", "--out", tmp_path / "i.png").exit_code == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["compare", "--models", "ccvae,foo"], "unknown model 'foo'; valid models: ccvae, m2, diva, mvae"),
        (["compare", "--classical", "xgboost"], "unknown classical classifier(s) xgboost"),
        (["fit", "--model", "m2", "--alpha", "1", "--classifier-samples", "4"], "--classifier-samples applies to ccvae only"),
        (["fit", "--alpha", "3"], "--alpha applies to m2, diva only"),
    ],
)
def test_unknown_models_and_misplaced_options_are_usage_errors(data, tmp_path, args, message):
    result = run(*args, "--dataset", data, "--out", tmp_path / "out", "--epochs", "1")
    one_line_error(result, 2, message)
    assert not (tmp_path / "out").exists()


def markdown_rows(text: str, title: str) -> dict:
    """The rows of the table under the bold `title` in comparison.md: {first cell: other cells}."""
    block = text.split(f"**{title}**", 1)[1].split("**", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in block.splitlines() if line.startswith("| ")]
    return {cells[0]: cells[1:] for cells in rows}


def test_compare_runs_the_grid_and_writes_tables_json_figure_and_commands(data, tmp_path):
    oracle = save_oracle(fit_oracle(read_dataset(data), epochs=1), tmp_path / "oracle")
    out = tmp_path / "cmp"
    args = ["compare", "--dataset", data, "--models", "ccvae,m2", "--sup", "0.2,1.0", "--seeds", "0,1", "--epochs", "1",
            "--batch-size", "32", "--out", out, "--oracle", oracle, "--classical", "logreg", "--samples", "20",
            "--device", "cpu"]  # fmt: skip
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report == json.loads((out / "comparison.json").read_text())
    assert set(report) == {"settings", "cells", "summary", "classical"}
    assert [(c["model"], c["sup"], c["seed"]) for c in report["cells"]] == [
        (m, f, s) for f in (0.2, 1.0) for s in (0, 1) for m in ("ccvae", "m2")
    ]
    for cell in report["cells"]:
        assert type(load_model(cell["run"])) is CLASSES[cell["model"]]
        assert all(isinstance(cell[k], float) for k in ("accuracy", "swap_score", "oracle_frechet_distance",
                                                        "conditional_generation_accuracy", "reconstruction_error"))
        assert cell["fid"] is None and "Inception-v3" in cell["notes"]["fid"]
    ccvae = [c for c in report["cells"] if c["model"] == "ccvae"]
    assert all(isinstance(c["tracking_visible"], float) and isinstance(c["leakage_accuracy"], float) for c in ccvae)
    # mean and sample standard deviation over the two seeds
    for model, sup in (("ccvae", 0.2), ("m2", 1.0)):
        values = [c["accuracy"] for c in report["cells"] if c["model"] == model and c["sup"] == sup]
        stats = report["summary"][model][f"{sup:g}"]["accuracy"]
        assert stats == pytest.approx({"mean": np.mean(values), "sd": np.std(values, ddof=1), "n": 2})
    assert [r["method"] for r in report["classical"]["cells"]] == ["logreg"] * 4

    text = (out / "comparison.md").read_text()
    table = markdown_rows(text, "Table 1: classification accuracy")
    assert list(table) == ["model", "CCVAE", "M2", "logreg (classical)"] and table["model"] == ["f = 0.2", "f = 1"]
    stats = report["summary"]["m2"]["1"]["accuracy"]
    assert table["M2"][1] == f"{stats['mean']:.3f} ± {stats['sd']:.3f}"
    assert "Table 4: FID" not in text  # no cell has it
    assert markdown_rows(text, "characteristic tracking, all classes (including those where the characteristic is not drawn)")["M2"] == ["n/a", "n/a"]
    assert (out / "comparison.png").stat().st_size > 1000
    commands = (out / "commands.sh").read_text().splitlines()
    assert sum(line.startswith("pyro-ccvae fit --model") for line in commands) == 8
    assert f"pyro-ccvae fit --model m2 --sup 1 --seed 1 --dataset {data}" in (out / "commands.sh").read_text()


def test_a_stopped_comparison_continues_where_it_stopped(data, tmp_path):
    """Finished cells are read back, an interrupted one resumes from its checkpoint, a missing
    evaluation is measured again; a cell with other settings is an error unless forced."""
    config = TrainConfig(dataset=str(data), epochs=2, batch_size=32)
    out = tmp_path / "cmp"

    def grid(**kwargs):
        stages = {}
        on_cell = lambda number, total, cell, stage: stages.setdefault(cell.folder, []).append(stage)  # noqa: E731
        compare(config, out, ["ccvae", "mvae"], [0.5], [0], samples=10, on_cell=on_cell, **kwargs)
        return stages

    assert grid() == {"ccvae-sup0.5-seed0": ["training", "evaluating"], "mvae-sup0.5-seed0": ["training", "evaluating"]}
    first = json.loads((out / "comparison.json").read_text())
    assert grid() == {"ccvae-sup0.5-seed0": ["finished"], "mvae-sup0.5-seed0": ["finished"]}
    assert json.loads((out / "comparison.json").read_text())["cells"] == first["cells"]

    (out / "ccvae-sup0.5-seed0" / "evaluation.json").unlink()
    stop_after = iter([0, 0, signal.SIGINT])  # the mvae cell is stopped after two steps
    shutil.rmtree(out / "mvae-sup0.5-seed0")
    with pytest.raises(Interrupted):
        train_new_run(dataclasses.replace(config, sup_fraction=0.5), ModelOptions(), out / "mvae-sup0.5-seed0", torch.device("cpu"),
                      model_name="mvae", stop=lambda: next(stop_after))  # fmt: skip
    assert grid() == {"ccvae-sup0.5-seed0": ["evaluating"], "mvae-sup0.5-seed0": ["resuming", "evaluating"]}
    history = [json.loads(line) for line in (out / "mvae-sup0.5-seed0" / "metrics.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2]

    config = dataclasses.replace(config, epochs=3)  # more epochs: trained on from the checkpoints
    starts = []  # the fit loop's hooks reach every cell trained or resumed (the progress display's steps)
    hooks = {"on_epoch_start": lambda epoch, done, total: starts.append((epoch, done, total))}
    assert grid(train_hooks=hooks) == {"ccvae-sup0.5-seed0": ["resuming", "evaluating"], "mvae-sup0.5-seed0": ["resuming", "evaluating"]}
    assert [(epoch, done) for epoch, done, _ in starts] == [(3, 0), (3, 0)] and all(total > 0 for *_, total in starts)
    assert torch.load(out / "ccvae-sup0.5-seed0" / "checkpoint.pt", weights_only=True)["epoch"] == 3

    config = dataclasses.replace(config, lr=5e-4)
    with pytest.raises(RunExists, match="other settings in ccvae-sup0.5-seed0, mvae-sup0.5-seed0"):
        grid()
    assert grid(force=True) == {"ccvae-sup0.5-seed0": ["training", "evaluating"], "mvae-sup0.5-seed0": ["training", "evaluating"]}


def test_a_comparison_given_a_relative_data_path_continues(data, tmp_path, monkeypatch):
    """A run records its data file's absolute path; the same command run again (relative
    --dataset and --oracle), from the same folder or another, reads its cells back: it neither
    calls them other settings nor evaluates them again."""
    shutil.copy(data, tmp_path / "faces.h5")
    monkeypatch.chdir(tmp_path)
    save_oracle(fit_oracle(read_dataset(data), epochs=1), tmp_path / "oracle")
    args = ["compare", "--dataset", "faces.h5", "--models", "mvae", "--epochs", "1", "--batch-size", "32",
            "--samples", "10", "--out", "cmp", "--oracle", "oracle", "--device", "cpu"]  # fmt: skip
    first = run(*args)
    assert first.exit_code == 0, first.output
    again = run(*args)
    assert again.exit_code == 0, again.output
    assert "mvae f=0.2 seed 0: finished" in again.output
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # the same files by other relative paths: still finished
    moved = [{"faces.h5": "../faces.h5", "cmp": "../cmp", "oracle": "../oracle"}.get(a, a) for a in args]
    from_elsewhere = run(*moved)
    assert from_elsewhere.exit_code == 0, from_elsewhere.output
    assert "mvae f=0.2 seed 0: finished" in from_elsewhere.output
