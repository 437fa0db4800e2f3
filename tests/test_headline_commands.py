"""The two commands the project is described by work exactly as typed: `pyro-ccvae sample
--label Smiling=1` after a `fit` (no --run: the most recent run), and `pyro-ccvae fit --dataset
celeba --sup 0.2` on CelebA's official files lying in the data folder (prepared once, then
trained, with no separate `data prepare`)."""

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from pyro_ccvae.training.runs import load_model
from pyro_ccvae_cli.main import cli

from .helpers import tiny_synthfaces
from .test_datasets_real import write_celeba

TINY = ["--epochs", "1", "--batch-size", "16", "--z-s-dim", "4", "--classifier-samples", "4", "--device", "cpu"]


@pytest.fixture
def fresh_folder(tmp_path, monkeypatch):
    """A new working folder, with no data or runs folder set by the environment."""
    monkeypatch.delenv("PYRO_CCVAE_DATA", raising=False)
    monkeypatch.delenv("PYRO_CCVAE_RUNS", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_sample_after_fit_uses_the_run_just_trained(fresh_folder):
    data = tiny_synthfaces(fresh_folder / "files", 120, 16)
    assert run("fit", "--dataset", data, *TINY).exit_code == 0
    result = run("sample", "--label", "Smiling=1")
    assert result.exit_code == 0, result.output
    assert f"using {Path('runs') / 'tiny-120-16-sup0.2-seed0'}, the most recent run" in result.output
    assert Image.open(fresh_folder / "samples.png").size[0] > 16


def test_commands_without_run_take_the_most_recent_run(fresh_folder):
    data = tiny_synthfaces(fresh_folder / "files", 120, 16)
    for seed in (0, 1):
        assert run("fit", "--dataset", data, "--seed", seed, *TINY).exit_code == 0
        time.sleep(0.05)
    older, newer = Path("runs/tiny-120-16-sup0.2-seed0"), Path("runs/tiny-120-16-sup0.2-seed1")
    os.utime(older / "checkpoint.pt", (time.time() + 60,) * 2)  # the seed-0 run written last
    for command, extra in (("evaluate", []), ("intervene", ["--index", "0"]), ("traverse", ["--label", "Smiling"]),
                           ("swap", ["--indices", "0,1"]), ("diversity", ["--label", "Smiling=1"])):  # fmt: skip
        result = run(command, *extra, *(["--out", f"{command}.png"] if command != "evaluate" else []))
        assert result.exit_code == 0, (command, result.output)
        assert f"using {older}, the most recent run" in result.output, command
    assert load_model(older).config.label_names == load_model(newer).config.label_names


def test_without_any_run_the_error_says_where_it_looked(fresh_folder):
    result = run("sample", "--label", "Smiling=1")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"no trained run under {fresh_folder / 'runs'}" in result.output
    assert "train one with `pyro-ccvae fit`, or pass --run DIR" in result.output


def test_fit_celeba_prepares_the_official_files_in_the_data_folder_then_trains(fresh_folder):
    write_celeba(fresh_folder / "data" / "celeba", num=24, splits=[0] * 16 + [1] * 4 + [2] * 4)
    result = run("fit", "--dataset", "celeba", "--sup", "0.5", *TINY)
    assert result.exit_code == 0, result.output
    assert f"found the official files in {fresh_folder / 'data' / 'celeba'}: preparing them once into data/celeba.h5" in result.output
    assert (fresh_folder / "data" / "celeba.h5").is_file()
    model = load_model("runs/celeba-sup0.5-seed0")
    assert model.config.image_shape == (3, 64, 64) and len(model.config.label_names) == 18
    again = run("fit", "--dataset", "celeba", "--sup", "0.5", "--out", "runs/again", *TINY)
    assert again.exit_code == 0 and "found the official files" not in again.output  # prepared once


def test_fit_takes_the_official_files_from_source(fresh_folder):
    write_celeba(fresh_folder / "downloads" / "celeba", num=24, splits=[0] * 16 + [1] * 4 + [2] * 4)
    result = run("fit", "--dataset", "celeba", "--source", "downloads", "--sup", "0.5", *TINY)
    assert result.exit_code == 0, result.output
    assert (fresh_folder / "data" / "celeba.h5").is_file()


def test_fit_celeba_without_the_files_names_every_folder_searched(fresh_folder, monkeypatch):
    elsewhere = fresh_folder / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("PYRO_CCVAE_DATA", str(elsewhere))
    result = run("fit", "--dataset", "celeba", "--data-dir", "data", *TINY)
    assert result.exit_code == 1 and "Traceback" not in result.output
    message = result.output.splitlines()[-1]
    assert str(fresh_folder / "data") in message and str(elsewhere) in message
    assert "img_align_celeba/, list_attr_celeba.txt and list_eval_partition.txt" in message
    assert "pass --source DIR" in message and "pyro-ccvae data prepare celeba" in message
