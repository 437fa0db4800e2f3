"""Run folders: `config.json` (the model and training settings) beside `checkpoint.pt` (state
dicts only, loaded with `weights_only=True`). Files are written to a temporary name and
renamed, so a run killed mid-write keeps its last complete checkpoint.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from . import __version__
from .model import CCVAE, CCVAEConfig

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.pt"
METRICS_FILE = "metrics.jsonl"


class CheckpointError(Exception):
    """A run folder that is missing, incomplete or does not fit what was asked of it."""


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def save_config(run_dir: Path, model_config: CCVAEConfig, train_config: dict) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "format_version": FORMAT_VERSION,
        "pyro_ccvae_version": __version__,
        "model": model_config.to_dict(),
        "train": train_config,
    }
    _atomic_write(run_dir / CONFIG_FILE, lambda p: p.write_text(json.dumps(config, indent=2) + "\n"))


def load_config(run_dir: Path) -> dict:
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(f"{run_dir} is not a run folder: no {CONFIG_FILE} (train one with `pyro-ccvae fit`)")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path} is not valid JSON ({e})") from e
    if not isinstance(config, dict) or config.get("format_version", 0) > FORMAT_VERSION or "model" not in config:
        raise CheckpointError(f"{path} is not a run config this pyro-ccvae can read")
    return config


def save_checkpoint(run_dir: Path, state: dict) -> None:
    """`state` holds state dicts, tensors and plain numbers only."""
    _atomic_write(Path(run_dir) / CHECKPOINT_FILE, lambda p: torch.save(state, p))


def load_checkpoint(run_dir: Path, device: torch.device | str = "cpu") -> dict:
    path = Path(run_dir) / CHECKPOINT_FILE
    if not path.is_file():
        raise CheckpointError(f"{run_dir} holds no {CHECKPOINT_FILE}: the run has not finished an epoch yet")
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as e:  # torch raises many kinds for a corrupt file
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(e).__name__})") from e


def load_model(run_dir: Path, device: torch.device | str = "cpu") -> CCVAE:
    """The trained CCVAE of a run folder, in eval mode on `device`."""
    config = load_config(run_dir)
    try:
        model = CCVAE(CCVAEConfig(**config["model"]))
        model.load_state_dict(load_checkpoint(run_dir, device)["model"])
    except (TypeError, ValueError, RuntimeError, KeyError) as e:
        raise CheckpointError(f"the checkpoint in {run_dir} does not fit its config.json ({e})") from e
    return model.to(device).eval()


def append_metrics(run_dir: Path, metrics: dict) -> None:
    with open(Path(run_dir) / METRICS_FILE, "a") as f:
        f.write(json.dumps(metrics) + "\n")
