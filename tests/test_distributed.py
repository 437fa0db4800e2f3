"""Data-parallel training (training/distributed.py) with 2 CPU processes (gloo) under torchrun:
two processes at batch B train the model one process trains at batch 2B; a signal to one
process stops both with a checkpoint; a killed process ends the run with one line, and a
run resumes with another number of processes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.distributions.normal
from click.testing import CliRunner

from pyro_ccvae.datasets import read_dataset
from pyro_ccvae.rng import seeded
from pyro_ccvae.training import registry
from pyro_ccvae.training.build import new_model, prepare_data
from pyro_ccvae.training.checkpoint import load_checkpoint
from pyro_ccvae.training.config import ModelOptions, TrainConfig
from pyro_ccvae.training.distributed import World
from pyro_ccvae.training.runs import load_model, train_new_run
from pyro_ccvae_cli.main import cli

from .helpers import tiny_synthfaces, wait_for_a_step_checkpoint
from .zero_noise_fit import zeros

REPO = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")
# 101 images, 81 training rows, 16 of them labelled (f = 0.2): with batch 8 on 2 processes, each
# step of 16 rows takes 8 labelled ones (labelled_per_batch, weighted: training/batches.py) and 8
# of the 65 unlabelled ones, so 9 steps per epoch, the last of 9 rows.
TRAIN = dict(epochs=2, batch_size=8, num_classifier_samples=4, unsup_bound="enumerate", checkpoint_every=4,
             control_variate=False)  # as tests/zero_noise_fit.py (see there)
FIT_ARGS = ["--epochs", "2", "--batch-size", "8", "--classifier-samples", "4", "--unsup-bound", "enumerate",
            "--checkpoint-every", "4", "--z-s-dim", "4", "--device", "cpu"]  # fmt: skip
# A run long enough to be stopped in the middle: 11 steps of 8 rows per epoch.
LONG_ARGS = ["--epochs", "4", "--batch-size", "4", "--classifier-samples", "4", "--checkpoint-every", "2",
             "--z-s-dim", "4", "--device", "cpu"]  # fmt: skip


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    return tiny_synthfaces(tmp_path_factory.mktemp("data"), 101, 8)


def errors(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr[-3000:]
    return [line for line in stderr.splitlines() if line.startswith("Error")]


def epochs_in_metrics(run_dir: Path) -> list[int]:
    return [json.loads(line)["epoch"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def start_fit(*args) -> subprocess.Popen:
    """`pyro-ccvae fit ARGS --devices 2` (importing only the fit command, to start faster)."""
    code = "from pyro_ccvae_cli.fit import fit; fit(prog_name='pyro-ccvae fit')"
    args = [sys.executable, "-c", code, *map(str, args), "--devices", "2"]
    return subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def process_of_rank(launcher: subprocess.Popen, rank: int, timeout: float = 60) -> int:
    """The pid of the process of `rank` among the launcher's children (from /proc)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in Path("/proc").iterdir():
            try:
                parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                environ = (proc / "environ").read_bytes().split(b"\0") if parent == launcher.pid else []
            except (OSError, ValueError, IndexError):
                continue
            if f"RANK={rank}".encode() in environ:
                return int(proc.name)
        time.sleep(0.05)
    launcher.kill()
    raise AssertionError(f"no process of rank {rank}: {launcher.communicate()[1][-2000:]}")


def test_two_processes_at_batch_b_train_the_model_of_one_at_batch_2b(data_file, tmp_path, monkeypatch):
    """Same parameters and Adam moments (which would be halved if DDP averaged the gradients
    instead of summing them), same metrics; rank 0 alone writes and reports."""
    two = tmp_path / "two"
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         str(REPO / "tests" / "zero_noise_fit.py"), "--dataset", str(data_file), "--out", str(two), *FIT_ARGS],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("run saved in") == 1 and not errors(result.stderr)
    monkeypatch.setattr(torch.distributions.normal, "_standard_normal", zeros)
    one = tmp_path / "one"
    model, history = train_new_run(
        TrainConfig(dataset=str(data_file), **{**TRAIN, "batch_size": 16}), ModelOptions(z_s_dim=4), one, CPU
    )
    two_state, one_state = load_checkpoint(two), load_checkpoint(one)
    assert (two_state["world_size"], one_state["world_size"], two_state["step"]) == (2, 1, 18)
    assert len(two_state["rng"]["ranks"]) == 2 and "ranks" not in one_state["rng"]
    trained, start = load_model(two).state_dict(), initial_parameters(data_file)
    for name, value in model.state_dict().items():  # the sums run in another order: rounding differs
        # (on one CPU, one weight of 262,144 differed by 1.9e-5 after 18 steps)
        torch.testing.assert_close(trained[name], value, rtol=1e-4, atol=5e-5, msg=name)
    moved = max((value - start[name]).abs().max() for name, value in model.state_dict().items() if value.is_floating_point())
    assert moved > 0.01  # training moved the parameters far more than the tolerance
    for (_, a), (_, b) in zip(sorted(two_state["optimizer"]["state"].items()), sorted(one_state["optimizer"]["state"].items())):
        torch.testing.assert_close(a["exp_avg"], b["exp_avg"], rtol=1e-3, atol=1e-5)
        torch.testing.assert_close(a["exp_avg_sq"], b["exp_avg_sq"], rtol=1e-3, atol=1e-8)
    two_history = [json.loads(line) for line in (two / "metrics.jsonl").read_text().splitlines()]
    for a, b in zip(two_history, history, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
        assert a["valid_per_label"] == b["valid_per_label"]
    assert sorted(p.name for p in two.iterdir()) == sorted(p.name for p in one.iterdir())  # curves.png included
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"]  # no staging folder left

    # evaluate as typed under torchrun (--run-dir: torchrun's parser takes --run for --run-path): one report
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         "-m", "pyro_ccvae_cli", "evaluate", "--run-dir", str(two)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0 and not errors(result.stderr), result.stderr[-3000:]
    assert result.stdout.count("(accuracy of the discrete labels)") == 1, result.stdout


def initial_parameters(data_file: Path) -> dict:
    """The parameters the runs above start from (the seed's weights)."""
    config = TrainConfig(dataset=str(data_file), **TRAIN)
    with seeded(config.seed):
        data = prepare_data(read_dataset(data_file), config, CPU)
        return new_model(data, ModelOptions(z_s_dim=4), {"name": "", "path": ""}).state_dict()


def test_a_signal_to_one_process_or_its_death_stops_the_run_which_resumes_with_two_or_one(data_file, tmp_path):
    """SIGTERM to process 1 stops both after a step, with a checkpoint; the run resumes on 2
    processes; killing process 1 then ends the run within seconds with one line, keeping the
    last checkpoint; one process finishes the run."""
    run_dir = tmp_path / "run"
    launcher = start_fit("--dataset", data_file, "--out", run_dir, *LONG_ARGS)
    rank1 = process_of_rank(launcher, 1)
    wait_for_a_step_checkpoint(launcher, run_dir / "checkpoint.pt")
    os.kill(rank1, signal.SIGTERM)
    _, stderr = launcher.communicate(timeout=60)
    assert launcher.returncode == 143, stderr[-3000:]
    state = load_checkpoint(run_dir)
    assert errors(stderr) == [
        (f"Error: interrupted by SIGTERM at step {state['step']} (epoch {state['epoch'] + 1}, batch {state['batch']}); "
         f"checkpoint saved in {run_dir}; resume with: pyro-ccvae fit --resume {run_dir}")
    ]  # fmt: skip
    assert state["world_size"] == 2 and 0 < state["step"] < 40

    launcher = start_fit("--resume", run_dir)
    rank1 = process_of_rank(launcher, 1)
    wait_for_a_step_checkpoint(launcher, run_dir / "checkpoint.pt")
    os.kill(rank1, signal.SIGKILL)
    killed = time.monotonic()
    _, stderr = launcher.communicate(timeout=60)
    assert time.monotonic() - killed < 20 and launcher.returncode == 1, stderr[-3000:]
    last = load_checkpoint(run_dir)
    (line,) = errors(stderr)
    assert "process 0 of 2: another process of the run stopped or died (" in line
    assert f"the last checkpoint, at step {last['step']} (epoch" in line and f"is kept in {run_dir}" in line
    assert line.endswith(f"resume with: pyro-ccvae fit --resume {run_dir}")
    assert last["world_size"] == 2 and state["step"] < last["step"] < 44

    result = CliRunner().invoke(cli, ["fit", "--resume", str(run_dir)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert epochs_in_metrics(run_dir) == [1, 2, 3, 4] and load_checkpoint(run_dir)["world_size"] == 1


@pytest.mark.parametrize("name", list(registry.MODELS))
def test_unused_parameters_is_set_for_the_models_that_leave_some_without_a_gradient(name, data_file):
    """DistributedDataParallel needs find_unused_parameters exactly when some parameter can get
    no gradient from a process's rows; a process may have only labelled or only unlabelled ones."""
    config = TrainConfig(dataset=str(data_file), **TRAIN)
    data = prepare_data(read_dataset(data_file), config, CPU)
    model = new_model(data, ModelOptions(z_s_dim=4), {"name": "", "path": ""}, name)
    elbo = registry.spec_of(name).make_elbo(model, config)
    labelled = data.train.mask.any(1)
    without_gradient = set()
    for rows in (labelled.nonzero()[:8, 0], (~labelled).nonzero()[:8, 0]):
        model.zero_grad(set_to_none=True)
        elbo.differentiable_loss(model.model, model.guide, *data.train.batch(rows)).backward()
        without_gradient |= {n for n, p in model.named_parameters() if p.grad is None}
    assert registry.spec_of(name).unused_parameters == bool(without_gradient), sorted(without_gradient)


def test_each_process_takes_its_share_of_a_step():
    rows = torch.arange(17)
    shares = [World(rank, 3).share(rows) for rank in range(3)]
    assert torch.equal(torch.cat(shares), rows) and [len(s) for s in shares] == [6, 6, 5]
    assert [len(World(rank, 2).share(torch.arange(1))) for rank in range(2)] == [1, 0]


def test_under_torchrun_other_commands_run_and_usage_errors_report_on_rank_0_alone(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "test")
    monkeypatch.setenv("RANK", "1")
    result = CliRunner().invoke(cli, ["evaluate", "--run", str(tmp_path / "none")])
    assert result.exit_code == 0 and result.output == ""
    result = CliRunner().invoke(cli, ["fit", "--devices", "2"])
    assert result.exit_code == 2 and result.output == ""
    monkeypatch.setenv("RANK", "0")
    result = CliRunner().invoke(cli, ["evaluate", "--run", str(tmp_path / "none")])
    assert result.exit_code == 1 and "is not a run folder" in result.output
    result = CliRunner().invoke(cli, ["fit", "--devices", "2"])
    assert result.exit_code == 2 and "under torchrun, --nproc-per-node says how many" in result.output
