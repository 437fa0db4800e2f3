"""Robustness: atomic checkpoints, exact resume after SIGKILL/SIGINT/SIGTERM, the NaN guard,
safe loading, and one-line errors with the right exit code for bad input."""

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from pyro_ccvae.datasets import DatasetError, read_dataset, write_dataset
from pyro_ccvae.datasets.celeba import DEFAULT_LABELS as CELEBA_LABELS
from pyro_ccvae.errors import CheckpointError, Interrupted, NonFiniteLoss, RunMismatch
from pyro_ccvae.training import checkpoint, loop
from pyro_ccvae.training.checkpoint import load_checkpoint
from pyro_ccvae.training.config import ModelOptions, TrainConfig
from pyro_ccvae.training.loop import MAX_ROLLBACKS, Position, stop_signals
from pyro_ccvae.training.runs import data_for_run, load_model, resume_run, train_new_run
from pyro_ccvae_cli.data import data as data_command
from pyro_ccvae_cli.main import cli

from .helpers import one_line_error, tiny_synthfaces, wait_for_a_step_checkpoint

CPU = torch.device("cpu")
REPO = Path(__file__).resolve().parents[1]
# 80 training images in plain batches of 16: 5 steps per epoch, a checkpoint every 2 steps
# (stratified batches resume exactly too: tests/test_batches.py).
TRAIN = dict(epochs=2, batch_size=16, num_classifier_samples=8, checkpoint_every=2, labelled_per_batch=0)
MODEL = ModelOptions(z_s_dim=4)
FIT_ARGS = ["--epochs", "2", "--batch-size", "16", "--classifier-samples", "8", "--z-s-dim", "4",
            "--checkpoint-every", "2", "--labelled-per-batch", "0", "--device", "cpu"]  # fmt: skip


def run(*args, command=cli):
    return CliRunner().invoke(command, [str(a) for a in args], catch_exceptions=False)



def config(data_file: Path, **changes) -> TrainConfig:
    return TrainConfig(dataset=str(data_file), **{**TRAIN, **changes})


def assert_same_parameters(run_dir: Path, expected: dict) -> None:
    state = load_model(run_dir).state_dict()
    assert state.keys() == expected.keys()
    for name, value in expected.items():
        assert torch.equal(state[name], value), name


def epochs_in_metrics(run_dir: Path) -> list[int]:
    return [json.loads(line)["epoch"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    return tiny_synthfaces(tmp_path_factory.mktemp("data"), 100, 16)


@pytest.fixture(scope="module")
def reference(data_file, tmp_path_factory) -> tuple[Path, dict, list[dict]]:
    """A run never interrupted: its folder, final parameters and metrics."""
    run_dir = tmp_path_factory.mktemp("reference") / "run"
    model, history = train_new_run(config(data_file), MODEL, run_dir, CPU)
    return run_dir, {k: v.clone() for k, v in model.state_dict().items()}, history


def same_metrics(a: list[dict], b: list[dict]) -> bool:
    without_time = lambda history: [{k: v for k, v in m.items() if k != "seconds"} for m in history]  # noqa: E731
    return without_time(a) == without_time(b)


# ---------------------------------------------------------------- checkpoints and exact resume


def test_checkpoint_holds_the_training_state_and_loads_weights_only(reference):
    run_dir, _, history = reference
    state = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert (state["epoch"], state["batch"], state["step"], state["nan_rollbacks"]) == (2, 0, 10, 0)
    assert set(state["rng"]) == {"torch", "order"} and all(t.dtype == torch.uint8 for t in state["rng"].values())
    assert state["history"] == history and epochs_in_metrics(run_dir) == [1, 2]
    assert state["optimizer"]["state"] and not list(run_dir.glob("*.tmp"))


def test_a_failed_write_leaves_the_last_checkpoint(tmp_path, monkeypatch):
    checkpoint.save_checkpoint(tmp_path, {"model": {"w": torch.ones(3)}})

    def dies_midway(state, f):
        f.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.torch, "save", dies_midway)
    with pytest.raises(OSError):
        checkpoint.save_checkpoint(tmp_path, {"model": {"w": torch.zeros(3)}})
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(tmp_path)["model"]["w"], torch.ones(3))


def test_resume_at_an_epoch_end_ends_like_an_uninterrupted_run(data_file, reference, tmp_path):
    run_dir = tmp_path / "run"
    train_new_run(config(data_file, epochs=1), MODEL, run_dir, CPU)
    _, history = resume_run(run_dir, CPU, epochs=2)
    assert_same_parameters(run_dir, reference[1])
    assert same_metrics(history, reference[2]) and epochs_in_metrics(run_dir) == [1, 2]
    assert json.loads((run_dir / "config.json").read_text())["train"]["epochs"] == 2


@pytest.mark.parametrize("stop_before_step, position", [(4, Position(0, 3, 3)), (8, Position(1, 2, 7))])
def test_resume_mid_epoch_ends_like_an_uninterrupted_run(data_file, reference, tmp_path, stop_before_step, position):
    run_dir = tmp_path / "run"
    asked = itertools.count(1)
    stop = lambda: signal.SIGTERM if next(asked) == stop_before_step else 0  # noqa: E731
    with pytest.raises(Interrupted) as interrupted:
        train_new_run(config(data_file), MODEL, run_dir, CPU, stop=stop)
    assert interrupted.value.position == position and interrupted.value.signum == signal.SIGTERM
    state = load_checkpoint(run_dir)
    assert Position(state["epoch"], state["batch"], state["step"]) == position
    with (run_dir / "metrics.jsonl").open("a") as f:  # as if a killed run had written a line too many
        f.write(json.dumps({"epoch": 2}) + "\n")
    _, history = resume_run(run_dir, CPU)
    assert_same_parameters(run_dir, reference[1])
    assert same_metrics(history, reference[2]) and epochs_in_metrics(run_dir) == [1, 2]


def test_stop_signals_only_note_the_signal_and_restore_the_handlers():
    before = signal.getsignal(signal.SIGTERM)
    with stop_signals() as stop:
        assert stop() == 0
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.01)
        assert stop() == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before


# ---------------------------------------------------------------- real processes and signals


def start_fit(run_dir: Path, data_file: Path) -> subprocess.Popen:
    """A `pyro-ccvae fit` process (importing only the fit command, to start faster)."""
    code = "from pyro_ccvae_cli.fit import fit; fit(prog_name='pyro-ccvae fit')"
    args = [sys.executable, "-c", code, "--dataset", str(data_file), "--out", str(run_dir), *FIT_ARGS]
    return subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_run_killed_with_sigkill_resumes_to_the_same_end(data_file, reference, tmp_path):
    run_dir = tmp_path / "run"
    process = start_fit(run_dir, data_file)
    wait_for_a_step_checkpoint(process, run_dir / "checkpoint.pt")
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    assert load_checkpoint(run_dir)["step"] >= 2
    result = run("fit", "--resume", run_dir)
    assert result.exit_code == 0, result.output
    assert_same_parameters(run_dir, reference[1])
    assert epochs_in_metrics(run_dir) == [1, 2]


def test_sigterm_saves_a_checkpoint_and_exits_143_then_resumes(data_file, reference, tmp_path):
    run_dir = tmp_path / "run"
    process = start_fit(run_dir, data_file)
    wait_for_a_step_checkpoint(process, run_dir / "checkpoint.pt")
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    step = load_checkpoint(run_dir)["step"]
    assert f"Error: interrupted by SIGTERM at step {step} (epoch" in stderr
    assert f"checkpoint saved in {run_dir}; resume with: pyro-ccvae fit --resume {run_dir}" in stderr
    assert "Traceback" not in stderr
    assert run("fit", "--resume", run_dir).exit_code == 0
    assert_same_parameters(run_dir, reference[1])


def test_sigint_saves_a_checkpoint_and_exits_130_then_resumes(data_file, reference, tmp_path, monkeypatch):
    """Ctrl-C in this very process, through the handler the CLI installs."""
    real_step, steps = loop.training_step, itertools.count(1)

    def interrupted_step(*args):
        loss = real_step(*args)
        if next(steps) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return loss

    monkeypatch.setattr(loop, "training_step", interrupted_step)
    before = signal.getsignal(signal.SIGINT)
    run_dir = tmp_path / "run"
    result = run("fit", "--dataset", data_file, "--out", run_dir, *FIT_ARGS)
    one_line_error(result, 130, f"interrupted by SIGINT at step 3 (epoch 1, batch 3); checkpoint saved in {run_dir}; "
                                f"resume with: pyro-ccvae fit --resume {run_dir}")  # fmt: skip
    assert signal.getsignal(signal.SIGINT) is before
    monkeypatch.undo()
    assert run("fit", "--resume", run_dir).exit_code == 0
    assert_same_parameters(run_dir, reference[1])


# ---------------------------------------------------------------- NaN guard


def poison_weights(monkeypatch, at_steps) -> None:
    """Makes every weight NaN after the training steps (counted over the process) in `at_steps`."""
    real_step, steps = loop.training_step, itertools.count(1)

    def poisoned(model, *args):
        loss = real_step(model, *args)
        if next(steps) in at_steps:
            with torch.no_grad():
                for w in model.parameters():
                    w.fill_(float("nan"))
        return loss

    monkeypatch.setattr(loop, "training_step", poisoned)


@pytest.mark.parametrize("every, first_nan, last_good", [("2", 4, Position(0, 2, 2)), ("0", 4, Position(0, 0, 0))])
def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(
    data_file, tmp_path, monkeypatch, every, first_nan, last_good
):
    poison_weights(monkeypatch, {first_nan - 1})
    run_dir = tmp_path / "run"
    result = run("fit", "--dataset", data_file, "--out", run_dir, *FIT_ARGS, "--checkpoint-every", every)
    one_line_error(result, 1, f"the loss became NaN or infinite at step {first_nan}; the last good checkpoint, "
                              f"at {last_good}, is kept in {run_dir / 'checkpoint.pt'}")  # fmt: skip
    state = load_checkpoint(run_dir)
    assert Position(state["epoch"], state["batch"], state["step"]) == last_good
    assert all(torch.isfinite(w).all() for w in state["model"].values() if w.is_floating_point())


def test_rollback_lowers_the_learning_rate_and_finishes(data_file, tmp_path, monkeypatch):
    poison_weights(monkeypatch, {3})
    rollbacks = []
    run_dir = tmp_path / "run"
    on_rollback = lambda error, lr: rollbacks.append((error.step, lr))  # noqa: E731
    train_new_run(config(data_file, on_nan="rollback"), MODEL, run_dir, CPU, on_rollback=on_rollback)
    state = load_checkpoint(run_dir)
    assert rollbacks == [(4, TrainConfig.lr * loop.ROLLBACK_LR_FACTOR)] and state["nan_rollbacks"] == 1
    assert state["optimizer"]["param_groups"][0]["lr"] == rollbacks[0][1] and epochs_in_metrics(run_dir) == [1, 2]


def test_rollbacks_are_bounded(data_file, tmp_path, monkeypatch):
    poison_weights(monkeypatch, range(3, 1000))
    with pytest.raises(NonFiniteLoss, match=rf"step 4; .* at step 2 .*\(after {MAX_ROLLBACKS} rollbacks\)"):
        train_new_run(config(data_file, on_nan="rollback"), MODEL, tmp_path / "run", CPU)
    assert load_checkpoint(tmp_path / "run")["step"] == 2


# ---------------------------------------------------------------- loading runs and data


@pytest.fixture
def other_data(data_file, tmp_path):
    """Data files that do not fit the reference run: another label set, another image size."""
    data = read_dataset(data_file)
    relabelled = tmp_path / "relabelled.h5"
    write_dataset(relabelled, replace(data, label_names=("Frowning",) + data.label_names[1:], default_labels=()))
    return {"labels": relabelled, "shape": tiny_synthfaces(tmp_path, 50, 8)}


@pytest.mark.parametrize("kind, message", [("labels", "models label(s) Smiling that {data} lacks"),
                                           ("shape", "was trained on 3x16x16 images but {data} holds 3x8x8 images")])  # fmt: skip
def test_data_that_do_not_fit_the_run_are_named(reference, other_data, kind, message):
    run_dir, path = reference[0], other_data[kind]
    expected = f"the run {run_dir} " + message.format(data=path)
    with pytest.raises(RunMismatch, match=re.escape(expected)):
        data_for_run(load_model(run_dir).config, read_dataset(path), run_dir, path)
    one_line_error(run("evaluate", "--run", run_dir, "--dataset", path), 2, expected)


def test_a_newer_config_format_is_refused(reference, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    config_json = json.loads((reference[0] / "config.json").read_text())
    (run_dir / "config.json").write_text(json.dumps({**config_json, "format_version": 99}))
    (run_dir / "checkpoint.pt").write_bytes((reference[0] / "checkpoint.pt").read_bytes())
    one_line_error(run("sample", "--run", run_dir, "--out", tmp_path / "s.png"), 1, "has format version 99")


def test_a_run_of_format_version_1_loads_and_resumes(data_file, reference, tmp_path):
    """Runs written before label kinds (all labels binary, parameters named classifier.*,
    conditional_prior.*, label_probs, config field label_frequencies) still load and resume."""
    old_names = {new: old for old, new in checkpoint._V1_LABEL_PARAMETERS.items()}
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    config_json = json.loads((reference[0] / "config.json").read_text())
    config_json["format_version"] = 1
    config_json["model"]["label_frequencies"] = config_json["model"].pop("label_priors")
    del config_json["model"]["label_kinds"], config_json["model"]["label_classes"]
    config_json["train"]["epochs"] = 2
    (run_dir / "config.json").write_text(json.dumps(config_json))
    state = torch.load(reference[0] / "checkpoint.pt", weights_only=True)
    state["model"] = {old_names.get(k, k): v for k, v in state["model"].items()}
    assert "conditional_prior.loc" in state["model"]
    torch.save(state, run_dir / "checkpoint.pt")
    assert_same_parameters(run_dir, reference[1])
    resume_run(run_dir, CPU, epochs=3)
    assert json.loads((run_dir / "config.json").read_text())["format_version"] == checkpoint.FORMAT_VERSION


def corrupt_copies(real: bytes, seed: int) -> tuple[list[bytes], list[bytes]]:
    """(random bytes of several lengths and truncations of `real`, which must not load;
    copies of `real` with 20 bytes changed, which may)."""
    rng = np.random.default_rng(seed)
    broken = [rng.bytes(n) for n in (0, 1, 8, 512, 100_000)]
    broken += [real[:n] for n in np.linspace(0, len(real) - 1, 8).astype(int)]
    changed = []
    for _ in range(4):
        copy = bytearray(real)
        for i in rng.integers(0, len(real), 20):
            copy[i] = rng.integers(0, 256)
        changed.append(bytes(copy))
    return broken, changed


def must_fail_cleanly(load, blob: bytes, broken: list[bytes], error: type) -> bool:
    """Whether `load()` raised `error`; raising nothing is allowed only for changed copies."""
    try:
        load()
    except error:
        return True
    assert blob not in broken, "a random or truncated file loaded"
    return False


@pytest.mark.parametrize("seed", [0, 1])
def test_corrupt_checkpoints_give_clean_errors(reference, tmp_path, seed):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_bytes((reference[0] / "config.json").read_bytes())
    broken, changed = corrupt_copies((reference[0] / "checkpoint.pt").read_bytes(), seed)
    for blob in broken + changed:
        (run_dir / "checkpoint.pt").write_bytes(blob)
        if must_fail_cleanly(lambda: load_model(run_dir), blob, broken, CheckpointError):
            one_line_error(run("sample", "--run", run_dir, "--out", tmp_path / "s.png"), 1, f"{run_dir}")
            one_line_error(run("fit", "--resume", run_dir), 1, f"{run_dir}")


@pytest.mark.parametrize("seed", [0, 1])
def test_corrupt_data_files_give_clean_errors(data_file, tmp_path, seed):
    path = tmp_path / "corrupt.h5"
    broken, _ = corrupt_copies(data_file.read_bytes(), seed)  # changed bytes can make h5py allocate GBs
    for blob in broken:
        path.write_bytes(blob)
        with pytest.raises(DatasetError):
            read_dataset(path)
        one_line_error(run("fit", "--dataset", path, "--out", tmp_path / "run", *FIT_ARGS), 1, f"{path}")
        info = run("info", path, command=data_command)  # reads less than read_dataset: may succeed
        if info.exit_code:
            one_line_error(info, 1, f"{path}")


# ---------------------------------------------------------------- bad input on the command line


def test_resume_errors(reference, tmp_path):
    run_dir = reference[0]
    one_line_error(run("fit", "--resume", tmp_path / "nothing"), 1, "is not a run folder")
    one_line_error(run("fit", "--resume", run_dir), 2, f"{run_dir} has finished its 2 epochs; pass --epochs N")
    one_line_error(run("fit", "--resume", run_dir, "--epochs", "1"), 2, "has trained 2 epochs already")
    result = run("fit", "--resume", run_dir, "--lr", "0.1", "--out", tmp_path / "x")
    assert result.exit_code == 2 and "not --lr, --out" in result.output


def test_force_replaces_only_the_run_files(data_file, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "notes.txt").write_text("mine")
    (run_dir / "config.json").write_text("{}")
    one_line_error(run("fit", "--dataset", data_file, "--out", run_dir, *FIT_ARGS), 2, "already holds a run")
    result = run("fit", "--dataset", data_file, "--out", run_dir, *FIT_ARGS, "--epochs", "1", "--force")
    assert result.exit_code == 0, result.output
    assert (run_dir / "notes.txt").read_text() == "mine" and epochs_in_metrics(run_dir) == [1]


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["fit", "--device", "tpu"], 2, "unknown device 'tpu'"),
        (["fit", "--dataset", "celebb"], 2, "unknown data set 'celebb'"),
        (["fit", "--labels", "Smiling,Nope"], 2, "unknown label(s) Nope"),
        (["fit", "--sup", "-0.5"], 2, "must be in (0, 1]"),
        (["fit", "--on-nan", "ignore"], 2, "'ignore' is not one of"),
        (["sample", "--run", "{run}", "--label", "Smiling=maybe"], 2, "must be 0 or 1"),
    ],
)
def test_usage_mistakes_exit_2(data_file, reference, tmp_path, args, code, message):
    args = [a.format(run=reference[0]) for a in args]
    if args[0] == "fit":
        args += ["--out", str(tmp_path / "run")] + (["--dataset", str(data_file)] if "--dataset" not in args else [])
    else:
        args += ["--out", str(tmp_path / "s.png")]
    one_line_error(run(*args), code, message)


def test_a_corrupt_jpeg_is_named(tmp_path):
    folder = tmp_path / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    Image.new("RGB", (178, 218), "gray").save(folder / "img_align_celeba" / "000001.jpg")
    (folder / "img_align_celeba" / "000002.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    rows = [f"00000{i}.jpg " + " ".join(["1"] * len(CELEBA_LABELS)) for i in (1, 2)]
    (folder / "list_attr_celeba.txt").write_text("\n".join(["2", " ".join(CELEBA_LABELS), *rows]) + "\n")
    (folder / "list_eval_partition.txt").write_text("000001.jpg 0\n000002.jpg 0\n")
    args = ["prepare", "celeba", "--source", folder, "--out", tmp_path / "c.h5", "--size", "8", "--workers", "1"]
    one_line_error(run(*args, command=data_command), 1, f"cannot decode image {folder / 'img_align_celeba' / '000002.jpg'}")
    assert not (tmp_path / "c.h5").exists()
