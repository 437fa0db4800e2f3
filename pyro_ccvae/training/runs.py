"""Runs as a whole: start one (`train_new_run`), continue one (`resume_run`), and load what a
run folder holds (`load_model`, `load_run_data`, `run_images`)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

import torch

from ..datasets import BUILT_IN, PREPARED, ImageDataset, load_dataset, read_dataset, resolve_dataset
from ..datasets.h5format import fingerprint
from ..datasets.tensors import select_images
from ..errors import CheckpointError, NonFiniteLoss, RunMismatch
from ..rng import seeded
from . import checkpoint, registry
from .build import new_model, prepare_data
from .config import BEFORE_RECORDED, ModelOptions, TrainConfig
from .distributed import SOLO, World
from .loop import fit

DEFAULT_RUNS_DIR = "runs"


def runs_dir() -> Path:
    """Where `fit` puts run folders unless told otherwise: $PYRO_CCVAE_RUNS, else ./runs."""
    return Path(os.environ.get("PYRO_CCVAE_RUNS") or DEFAULT_RUNS_DIR)


def latest_run(folder: str | os.PathLike | None = None) -> Path:
    """The run folder under `folder` (default `runs_dir()`, searched at any depth) whose
    checkpoint was written last; CheckpointError saying where it looked if there is none."""
    root = Path(folder) if folder is not None else runs_dir()
    runs = [p.parent for p in root.glob(f"**/{checkpoint.CHECKPOINT_FILE}") if (p.parent / checkpoint.CONFIG_FILE).is_file()]
    if not runs:
        raise CheckpointError(
            f"no trained run under {root.resolve()} (looked for folders holding {checkpoint.CONFIG_FILE} "
            f"and {checkpoint.CHECKPOINT_FILE})",
            remedy="train one, or name the run folder",
            setting="latest_run",
        )
    return max(runs, key=lambda run: (run / checkpoint.CHECKPOINT_FILE).stat().st_mtime)


def saved_model_name(config: dict) -> str:
    """The model name of a loaded config.json: "ccvae" for runs written before there were others."""
    return registry.spec_of(config.get("model_name", "ccvae")).name


def load_model(run_dir: str | os.PathLike, device: torch.device | str = "cpu"):
    """The trained model of a run folder (a CCVAE or a baseline, by its config.json), in eval
    mode on `device`."""
    config = checkpoint.load_config(run_dir)
    state = checkpoint.load_checkpoint(run_dir, device)
    try:
        spec = registry.spec_of(saved_model_name(config))
        model = spec.model_class(spec.config_class(**config["model"]))
        model.load_state_dict(state["model"])
    except (TypeError, ValueError, RuntimeError, KeyError) as e:
        raise CheckpointError(f"the checkpoint in {run_dir} does not fit its config.json ({e})") from e
    return model.to(device).eval()


def data_for_run(model_config, data: ImageDataset, run_dir, data_path) -> ImageDataset:
    """`data` with the run's labels, in the run's order; RunMismatch naming both the run and
    the data file if the file lacks one of those labels or holds images of another shape."""
    missing = [n for n in model_config.label_names if n not in data.label_names]
    if missing:
        raise RunMismatch(
            f"the run {run_dir} models label(s) {', '.join(missing)} that {data_path} lacks "
            f"(it has: {', '.join(data.label_names)})"
        )
    expected = tuple(model_config.image_shape)
    if data.image_shape != expected:
        raise RunMismatch(
            f"the run {run_dir} was trained on {_shape(expected)} images but {data_path} holds {_shape(data.image_shape)} images"
        )
    return data.select_labels(model_config.label_names)


def _shape(shape) -> str:
    return "x".join(map(str, shape))


def trained_data_path(run_dir, model_config) -> Path:
    """The data file the run was trained on. Runs store it absolute; older ones relative to the
    folder `fit` ran in, looked up from here and from the folder above the runs folder (where
    `fit` ran for runs/NAME). CheckpointError naming it if it is not found."""
    stored = Path(model_config.dataset.get("path", ""))
    for candidate in (stored, Path(run_dir).resolve().parent.parent / stored):
        if stored.parts and candidate.is_file():
            return candidate
    raise CheckpointError(
        f"the data file the run {run_dir} was trained on, {stored}, is not found",
        remedy="give the data file, or the data folder holding it",
        setting="run_data",
        path=stored,
    )


def load_run_data(run_dir, model, dataset: str | os.PathLike | None = None, other_labels: bool = False) -> ImageDataset:
    """The data a run was trained on (or `dataset`), with the run's labels in its order; with
    `other_labels` the file's other labels (those the model was not trained on) follow them."""
    path = dataset or trained_data_path(run_dir, model.config)
    data = load_dataset(path)
    selected = data_for_run(model.config, data, run_dir, path)
    if not other_labels:
        return selected
    return data.select_labels([*selected.label_names, *(n for n in data.label_names if n not in selected.label_names)])


def run_images(run_dir, model, split: str, indices, dataset: str | os.PathLike | None = None) -> torch.Tensor:
    """Images number `indices` of `split` of the run's data (or `dataset`), as floats in [0, 1]
    on the model's device."""
    return select_images(load_run_data(run_dir, model, dataset), split, indices, next(model.parameters()).device)


def as_recorded(config: TrainConfig, data_dir: str | Path | None = None) -> TrainConfig:
    """`config` as a run records it: a data set given as a file is recorded by its absolute
    path (where it is, not where `fit` ran); a data set's name stays a name."""
    if config.dataset in BUILT_IN + tuple(PREPARED):
        return config
    return dataclasses.replace(config, dataset=str(resolve_dataset(config.dataset, data_dir).resolve()))


def train_new_run(
    config: TrainConfig,
    options: ModelOptions,
    run_dir: Path,
    device: torch.device,
    data_dir: str | Path | None = None,
    on_step: Callable[[torch.Tensor], None] | None = None,
    on_epoch: Callable[[dict], None] | None = None,
    *,
    replace: bool = False,
    stop: Callable[[], int] | None = None,
    on_rollback: Callable[[NonFiniteLoss, float], None] | None = None,
    on_epoch_start: Callable[[int, int, int], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    model_name: str = "ccvae",
    world: World = SOLO,
) -> tuple[torch.nn.Module, list[dict]]:
    """Loads and checks the data, builds the model named `model_name` (a key of
    registry.MODELS), and trains it (see `loop.fit`). Weight initialisation and every draw come
    from `config.seed` (torch's global generator is given back as it was). `on_note` receives
    notes on the labelled rows (training.labelled).

    A `run_dir` already holding a run raises RunExists unless `replace`; a run it replaces is
    left untouched until the new run has checked all its inputs and written its first
    checkpoint (it is built beside it, then moved in: checkpoint.staging_dir, publish). With
    several processes (`world`, see distributed.py), every one calls this; rank 0 writes."""
    registry.check_options(model_name, registry.set_options(config))
    run_dir = Path(run_dir)
    spec = registry.spec_of(model_name)
    with seeded(config.seed, device):
        with world.agreement():  # every process reads and checks the data and builds the model
            checkpoint.check_free(run_dir, replace)
            dataset_path = resolve_dataset(config.dataset, data_dir).resolve()
            config = as_recorded(config, data_dir)
            dataset = read_dataset(dataset_path)
            data = prepare_data(dataset, config, device)
            dataset_info = {"name": config.dataset, "path": str(dataset_path), "fingerprint": fingerprint(dataset)}
            model = new_model(data, options, dataset_info, model_name).to(device)
            staging = checkpoint.staging_dir(run_dir) if world.writes else run_dir
            if world.writes:
                checkpoint.save_config(staging, model.config, asdict(config), model_name)
        for note in data.notes if on_note is not None else ():
            on_note(note)
        elbo = world.objective(spec.make_elbo(model, config), model, spec.unused_parameters)
        history = fit(
            model, elbo, data, config, staging, on_step, on_epoch, stop=stop, on_rollback=on_rollback,
            on_epoch_start=on_epoch_start, world=world,
            publish=lambda: checkpoint.publish(staging, run_dir) if world.writes else run_dir,
        )  # fmt: skip
        return model, history


def resume_run(
    run_dir: Path,
    device: torch.device,
    data_dir: str | Path | None = None,
    on_step: Callable[[torch.Tensor], None] | None = None,
    on_epoch: Callable[[dict], None] | None = None,
    *,
    epochs: int | None = None,
    stop: Callable[[], int] | None = None,
    on_rollback: Callable[[NonFiniteLoss, float], None] | None = None,
    on_epoch_start: Callable[[int, int, int], None] | None = None,
    world: World = SOLO,
) -> tuple[torch.nn.Module, list[dict]]:
    """Continues the run in `run_dir` from its last checkpoint with the settings of its
    config.json (see `loop.fit`); `epochs` may raise its number of epochs. The data file is
    the one the run was trained on (`trained_data_path`), or the run's data set found in
    `data_dir`; never another data set: RunMismatch if its fingerprint differs from the
    recorded one, if the run has finished, or if `epochs` is below the epochs done. With
    several processes (`world`), as many as the run had before or not, every one calls this
    and reads the run folder; rank 0 writes it."""
    run_dir = Path(run_dir)
    with world.agreement():
        saved = checkpoint.load_config(run_dir)
        spec, model_config, config = _configs(saved, run_dir)
        state = checkpoint.load_checkpoint(run_dir, device)
        config.epochs = _total_epochs(state.get("epoch"), config.epochs if epochs is None else epochs, run_dir)
        if data_dir is not None:
            dataset_path = resolve_dataset(config.dataset, data_dir)
        else:
            dataset_path = trained_data_path(run_dir, model_config)
        dataset = read_dataset(dataset_path)
        recorded = model_config.dataset.get("fingerprint")
        if recorded is not None and fingerprint(dataset) != recorded:
            raise RunMismatch(f"{dataset_path} is not the data the run {run_dir} was trained on (its contents differ)")
        data = data_for_run(model_config, dataset, run_dir, dataset_path)
        prepared = prepare_data(data, dataclasses.replace(config, labels=list(model_config.label_names)), device)
    with seeded(config.seed, device):  # the checkpoint's generator states replace this seed's
        model = spec.model_class(model_config).to(device)
        if world.writes:
            checkpoint.save_config(run_dir, model_config, asdict(config), spec.name)
        elbo = world.objective(spec.make_elbo(model, config), model, spec.unused_parameters)
        history = fit(model, elbo, prepared, config, run_dir, on_step, on_epoch, state=state, stop=stop,
                      on_rollback=on_rollback, on_epoch_start=on_epoch_start, world=world)  # fmt: skip
    return model, history


def _configs(saved: dict, run_dir: Path) -> tuple[registry.ModelSpec, Any, TrainConfig]:
    """The model spec, model config and training settings of a loaded config.json."""
    try:
        spec = registry.spec_of(saved_model_name(saved))
        return spec, spec.config_class(**saved["model"]), TrainConfig(**{**BEFORE_RECORDED, **saved["train"]})
    except (KeyError, TypeError, ValueError) as e:
        path = Path(run_dir) / checkpoint.CONFIG_FILE
        raise CheckpointError(f"{path} has settings this pyro-ccvae cannot use ({e})") from e


def _total_epochs(done, total: int, run_dir: Path) -> int:
    """`total`, checked to leave epochs to train after the `done` ones (RunMismatch if not)."""
    if isinstance(done, int) and total < done:
        raise RunMismatch(
            f"{run_dir} has trained {done} epochs already", remedy=f"ask for at least {done} epochs", setting="epochs", done=done
        )
    if total == done:
        raise RunMismatch(
            f"{run_dir} has finished its {done} epochs",
            remedy=f"ask for more than {done} epochs to train longer",
            setting="epochs",
            done=done,
        )
    return total
