"""Run folders on disk: `config.json` (the model's name, a key of registry.MODELS, and the model and
training settings), `checkpoint.pt` (the training state, loaded with `weights_only=True`:
tensors, dicts, lists, numbers and strings only), `metrics.jsonl` (one line per finished
epoch) and `curves.png` (the training curves).

Every file is written to a temporary name, flushed to disk and renamed over the old one, so a
run killed at any moment, SIGKILL included, keeps its last complete files. A new run is built
in a folder beside its destination (`staging_dir`) and moved in (`publish`) once its first
checkpoint is written: a run it replaces is untouched until then.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import BinaryIO, Callable

import torch

from .. import __version__
from ..errors import CheckpointError, RunExists

FORMAT_VERSION = 2  # 2: label kinds (label_priors, label_groups); runs of version 1 are upgraded on loading
# Version 1 names of the CCVAE's (and DIVA's) label parameters, then all binary, and their version 2 names.
_V1_LABEL_PARAMETERS = {
    "classifier.weight": "label_groups.0.classifier.weight",
    "classifier.bias": "label_groups.0.classifier.bias",
    "conditional_prior.loc": "label_groups.0.characteristics.loc",
    "conditional_prior.raw_scale": "label_groups.0.characteristics.raw_scale",
    "label_probs": "label_groups.0.probs",
}
CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.pt"
METRICS_FILE = "metrics.jsonl"
CURVES_FILE = "curves.png"
RUN_FILES = (CHECKPOINT_FILE, METRICS_FILE, CURVES_FILE, CONFIG_FILE)  # a run's own files; config.json last


def atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Writes `path` through `write(file)` to a temporary file, fsyncs it, then renames it."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Makes the renames in `folder` durable (POSIX)."""
    if os.name == "posix":
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def check_free(run_dir: Path, replace: bool = False) -> None:
    """RunExists if `run_dir` holds a run, unless `replace`; changes nothing on disk."""
    if (Path(run_dir) / CONFIG_FILE).exists() and not replace:
        raise RunExists(f"{run_dir} already holds a run", remedy="pass replace=True to replace it", setting="replace")


def staging_dir(run_dir: Path) -> Path:
    """A fresh, empty folder beside `run_dir` in which a new run is built until `publish`
    moves it in (left over from a run that died before that, it is cleared first)."""
    run_dir = Path(run_dir)
    staging = run_dir.parent / f".{run_dir.name}.new"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def publish(staging: Path, run_dir: Path) -> Path:
    """Moves a new run's files from `staging` into `run_dir` (made if needed), in place of the
    run there; other files in `run_dir` stay. config.json goes out first and comes in last, so
    that a crash midway leaves a folder that is not a run rather than half of an old one.
    Returns `run_dir`."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / CONFIG_FILE).unlink(missing_ok=True)
    for name in RUN_FILES:
        if (staging / name).exists():
            os.replace(staging / name, run_dir / name)
        else:
            (run_dir / name).unlink(missing_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
    _sync_folder(run_dir)
    return run_dir


def save_config(run_dir: Path, model_config, train_config: dict, model_name: str = "ccvae") -> None:
    """Writes config.json, making `run_dir` if needed; `model_name` is a key of registry.MODELS."""
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    config = {
        "format_version": FORMAT_VERSION,
        "pyro_ccvae_version": __version__,
        "model_name": model_name,
        "model": model_config.to_dict(),
        "train": train_config,
    }
    atomic_write(Path(run_dir) / CONFIG_FILE, lambda f: f.write((json.dumps(config, indent=2) + "\n").encode()))


def load_config(run_dir: Path) -> dict:
    """The run's config.json, checked for a format version this pyro-ccvae reads."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(f"{run_dir} is not a run folder: no {CONFIG_FILE}", remedy="train a run there first", setting="run_dir")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path} is not valid JSON ({e})") from e
    if not isinstance(config, dict) or not isinstance(config.get("model"), dict):
        raise CheckpointError(f"{path} is not a pyro-ccvae run config")
    version = config.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has format version {version!r}; this pyro-ccvae reads versions 1 to {FORMAT_VERSION} "
            f"(the run was written by pyro-ccvae {config.get('pyro_ccvae_version', '?')})"
        )
    if version == 1 and "label_frequencies" in config["model"]:  # every label binary then
        config["model"]["label_priors"] = config["model"].pop("label_frequencies")
    return config


def save_checkpoint(run_dir: Path, state: dict) -> None:
    """`state` holds tensors, dicts, lists, numbers and strings only."""
    atomic_write(Path(run_dir) / CHECKPOINT_FILE, lambda f: torch.save(state, f))


def load_checkpoint(run_dir: Path, device: torch.device | str = "cpu") -> dict:
    """The run's checkpoint; CheckpointError if it is missing or is not a complete checkpoint."""
    path = Path(run_dir) / CHECKPOINT_FILE
    if not path.is_file():
        raise CheckpointError(f"{run_dir} holds no {CHECKPOINT_FILE}: the run has not started training")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as e:  # torch raises many kinds for a corrupt file
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(e).__name__})") from e
    if not isinstance(state, dict) or not isinstance(state.get("model"), dict):
        raise CheckpointError(f"{path} is not a pyro-ccvae checkpoint")
    if "conditional_prior.loc" in state["model"]:  # a CCVAE or DIVA of format version 1
        state["model"] = {_V1_LABEL_PARAMETERS.get(k, k): v for k, v in state["model"].items()}
    return state


def write_metrics(run_dir: Path, history: list[dict]) -> None:
    """Replaces metrics.jsonl with one line per epoch of `history`."""
    text = "".join(json.dumps(metrics) + "\n" for metrics in history)
    atomic_write(Path(run_dir) / METRICS_FILE, lambda f: f.write(text.encode()))
