"""The fit loop: gradient steps on a model's objective (the CCVAE ELBO, or a baseline's; see
models.py), validation, and checkpoints a run resumes from.

A checkpoint (`Trainer.state_dict`) is written before the first step, every
`checkpoint_every` steps and at the end of each epoch. It holds everything the loop depends
on: the model and Adam states, the torch CPU (and, on CUDA, the GPU) random number generator,
the batch-order generator as it stood when the current epoch began, the position in the
epoch, the epoch's loss so far and the metrics of the finished epochs. On the CPU a run
interrupted and resumed therefore ends with exactly the parameters of one never interrupted.

NaN and infinite losses are found without a host-device sync per step: the step losses stay
on the device and are checked together every `CHECK_EVERY` steps, and before each checkpoint
together with the parameters, so a checkpoint never holds non-finite weights.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import pyro
import torch

from . import checkpoint
from .data import LabelledImages, check_label_values, label_priors, labelled_subset, split_tensors
from .datasets import ImageDataset, read_dataset, resolve_dataset
from .evaluate import label_scores
from .label_groups import default_z_c_block
from .labels import LabelError
from .models import MODELS, check_name, config_fields, make_elbo

ON_NAN = ("stop", "rollback")
CHECK_EVERY = 50  # steps between checks of the losses for NaN (one host-device sync each)
MAX_ROLLBACKS = 3  # with on_nan="rollback": rollbacks a run may take before it stops
ROLLBACK_LR_FACTOR = 0.5  # the learning rate is multiplied by this at each rollback


@dataclass
class TrainConfig:
    dataset: str = "synthfaces"  # a built-in name or the path of a prepared .h5 file
    labels: list[str] = field(default_factory=list)  # labels to model; empty = the data set's default
    sup_fraction: float = 0.2  # f: fraction of training images whose labels are kept
    epochs: int = 8
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0
    unsup_bound: str = "enumerate"  # CCVAE: "sample", "enumerate" or "marginal" (see elbo.py)
    num_classifier_samples: int = 100  # CCVAE: k draws of q(z_c | x) for q(y | x), eq. (4)
    alpha: float | None = None  # M2, DIVA: classifier weight; None: the objective's default (50; 3500)
    beta: float | None = None  # DIVA: weight of the KL terms; None: the objective's default (1)
    checkpoint_every: int = 500  # steps between checkpoints; 0 = only at the end of each epoch
    on_nan: str = "stop"  # on a NaN loss: "stop", or "rollback" to the last checkpoint with a lower lr

    def __post_init__(self):
        if self.on_nan not in ON_NAN:
            raise ValueError(f"on_nan must be one of {', '.join(ON_NAN)}, got {self.on_nan!r}")
        if self.checkpoint_every < 0:
            raise ValueError(f"checkpoint_every must be 0 or more steps, got {self.checkpoint_every}")


class Interrupted(Exception):
    """Training stopped by a signal, after writing a checkpoint to resume from."""

    def __init__(self, signum: int, position: "Position", run_dir: Path):
        self.signum, self.position, self.run_dir = signum, position, run_dir
        super().__init__(f"interrupted by {signal.Signals(signum).name} at {position}; checkpoint saved in {run_dir}")


class NonFiniteLoss(Exception):
    """A NaN or infinite loss or parameter; the last good checkpoint was left as it was."""

    def __init__(self, step: int, last_good: "Position", run_dir: Path, note: str = ""):
        self.step, self.last_good = step, last_good
        super().__init__(
            f"the loss became NaN or infinite at step {step}; the last good checkpoint, at {last_good}, "
            f"is kept in {Path(run_dir) / checkpoint.CHECKPOINT_FILE}{note}"
        )


@dataclass
class Position:
    """How far a run has trained."""

    epoch: int = 0  # epochs finished
    batch: int = 0  # batches finished in the epoch after those
    step: int = 0  # optimizer steps in all

    def __str__(self) -> str:
        return f"step {self.step} (epoch {self.epoch + 1}, batch {self.batch})"


@dataclass
class PreparedData:
    train: LabelledImages  # labels hidden outside the labelled subset
    valid: LabelledImages
    label_names: list[str]
    label_kinds: list[str]
    label_classes: dict  # categorical label -> class names
    image_shape: tuple[int, int, int]


def prepare_data(data: ImageDataset, config: TrainConfig, device: torch.device) -> PreparedData:
    """Chooses the labels and the labelled subset, and moves the splits to `device`."""
    names = config.labels or list(data.default_labels)
    unknown = [n for n in names if n not in data.label_names]
    if unknown:
        raise LabelError(f"unknown label(s) {', '.join(unknown)}; this data set has: {', '.join(data.label_names)}")
    data = data.select_labels(names)
    check_label_values(data)
    keep = labelled_subset(len(data.split_indices("train")), config.sup_fraction, config.seed)
    return PreparedData(
        train=split_tensors(data, "train", device, keep_rows=keep),
        valid=split_tensors(data, "valid", device),
        label_names=list(data.label_names),
        label_kinds=list(data.label_kinds),
        label_classes={name: list(classes) for name, classes in data.label_classes.items()},
        image_shape=data.image_shape,
    )


def training_step(model, elbo, optimizer, x, y, mask) -> torch.Tensor:
    """One gradient step on the model's loss (minus eq. 6 for the CCVAE) for a batch; returns
    the loss as a device tensor."""
    loss = elbo.differentiable_loss(model.model, model.guide, x, y, mask)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


@contextlib.contextmanager
def stop_signals(signums=(signal.SIGINT, signal.SIGTERM)):
    """Within the block, SIGINT and SIGTERM only note that they came. Yields a function that
    returns the first signal received (0 if none), to pass to `fit` as `stop`. The previous
    handlers come back when the block ends. Only the main thread may enter it."""
    received = []
    previous = {s: signal.signal(s, lambda signum, frame: received.append(signum)) for s in signums}
    try:
        yield lambda: received[0] if received else 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class Trainer:
    """One run's training state, written to and restored from its checkpoint."""

    def __init__(self, model, data: PreparedData, config: TrainConfig, run_dir: Path):
        self.model, self.data, self.config, self.run_dir = model, data, config, Path(run_dir)
        self.device = data.train.images.device
        self.elbo = make_elbo(model, config)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        self.order = torch.Generator().manual_seed(config.seed)  # draws each epoch's batch order
        self.epoch_order = self.order.get_state()  # `order` as the epoch in progress began
        self.position = Position()
        self.last_saved = Position()
        self.epoch_loss = torch.zeros((), device=self.device)
        self.epoch_seconds = 0.0  # time spent on the epoch in progress before the last resume
        self.epoch_start = time.perf_counter()
        self.history: list[dict] = []
        self.rollbacks = 0
        self.unchecked: list[torch.Tensor] = []  # step losses not yet checked for NaN

    def state_dict(self) -> dict:
        """Everything needed to go on exactly from here (see the module docstring)."""
        p = self.position
        rng = {"torch": torch.get_rng_state(), "order": self.epoch_order}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "epoch": p.epoch,
            "batch": p.batch,
            "step": p.step,
            "epoch_loss": self.epoch_loss,
            "epoch_seconds": self.epoch_seconds + time.perf_counter() - self.epoch_start if p.batch else 0.0,
            "history": self.history,
            "nan_rollbacks": self.rollbacks,
            "rng": rng,
        }

    def load_state_dict(self, state: dict) -> None:
        """Goes back to a state written by `state_dict`; CheckpointError if `state` is not one."""
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.position = Position(int(state["epoch"]), int(state["batch"]), int(state["step"]))
            self.epoch_loss = state["epoch_loss"].to(self.device)
            self.epoch_seconds = float(state["epoch_seconds"])
            self.history = list(state["history"])
            self.rollbacks = int(state["nan_rollbacks"])
            self.epoch_order = state["rng"]["order"].cpu()
            self.order.set_state(self.epoch_order)
            torch.set_rng_state(state["rng"]["torch"].cpu())
            if self.device.type == "cuda" and "cuda" in state["rng"]:
                torch.cuda.set_rng_state(state["rng"]["cuda"].cpu(), self.device)
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as e:
            raise checkpoint.CheckpointError(
                f"the checkpoint in {self.run_dir} cannot be resumed ({type(e).__name__}: {e})"
            ) from e
        self.last_saved = dataclasses.replace(self.position)
        self.unchecked.clear()

    def save(self) -> None:
        """Writes the checkpoint, once the losses since the last check and the parameters are
        known to be finite (NonFiniteLoss otherwise, leaving the last checkpoint as it was)."""
        self.check_finite(parameters=True)
        checkpoint.save_checkpoint(self.run_dir, self.state_dict())
        self.last_saved = dataclasses.replace(self.position)

    def check_finite(self, parameters: bool = False) -> None:
        """Raises NonFiniteLoss naming the first step whose loss is NaN or infinite (or, with
        `parameters`, the current step if a parameter is). One host-device sync."""
        losses = torch.stack(self.unchecked) if self.unchecked else torch.zeros(0, device=self.device)
        finite = losses.isfinite()
        if parameters:
            finite = torch.cat([finite, torch.stack([w.isfinite().all() for w in self.model.parameters()])])
        if not finite.all():
            bad = finite[: len(losses)].logical_not().nonzero()
            first = self.position.step - len(losses) + 1 + int(bad[0]) if len(bad) else self.position.step
            raise NonFiniteLoss(first, self.last_saved, self.run_dir)
        self.unchecked.clear()

    def run_epoch(self, stop: Callable[[], int] | None, on_step, on_epoch) -> None:
        """Trains from the current position to the end of the epoch, then validates and saves.
        Between steps, `stop()` returning a signal number saves and raises Interrupted."""
        train, size = self.data.train, self.config.batch_size
        self.epoch_start = time.perf_counter()
        order = torch.randperm(len(train), generator=self.order).to(self.device)
        self.model.train()
        with pyro.validation_enabled(False):
            for start in range(self.position.batch * size, len(train), size):
                self.stop_if_asked(stop)
                x, y, mask = train.batch(order[start : start + size])
                loss = self.step(x, y, mask)
                if on_step is not None:
                    on_step(loss / x.shape[0])
                if self.checkpoint_due() and start + size < len(train):
                    self.save()
        self.end_epoch(on_epoch)

    def stop_if_asked(self, stop: Callable[[], int] | None) -> None:
        """Saves and raises Interrupted if `stop()` returns a signal number."""
        signum = stop() if stop is not None else 0
        if signum:
            self.save()
            raise Interrupted(signum, dataclasses.replace(self.position), self.run_dir)

    def step(self, x, y, mask) -> torch.Tensor:
        """One training step, counted, its loss kept on the device for the NaN check."""
        loss = training_step(self.model, self.elbo, self.optimizer, x, y, mask)
        self.epoch_loss += loss
        self.unchecked.append(loss)
        self.position.batch += 1
        self.position.step += 1
        if self.position.step % CHECK_EVERY == 0:
            self.check_finite()
        return loss

    def checkpoint_due(self) -> bool:
        every = self.config.checkpoint_every
        return every > 0 and self.position.step % every == 0

    def end_epoch(self, on_epoch) -> None:
        """Validation accuracy, the epoch's metrics, the checkpoint and metrics.jsonl."""
        self.check_finite(parameters=True)  # validating NaN weights would fail in the distributions
        self.model.eval()
        scores = label_scores(self.model, self.data.valid)
        self.position = Position(self.position.epoch + 1, 0, self.position.step)
        metrics = {
            "epoch": self.position.epoch,
            "loss": self.epoch_loss.item() / len(self.data.train),
            "valid_accuracy": scores["accuracy"],  # mean over discrete labels; None without any
            "valid_per_label": scores["per_label"],
            "valid_regression": scores["regression"],  # continuous labels: MAE and R^2
            "seconds": self.epoch_seconds + time.perf_counter() - self.epoch_start,
        }
        self.history.append(metrics)
        self.epoch_order = self.order.get_state()
        self.epoch_loss = torch.zeros((), device=self.device)
        self.epoch_seconds = 0.0
        self.save()
        checkpoint.write_metrics(self.run_dir, self.history)
        if on_epoch is not None:
            on_epoch(metrics)

    def roll_back(self) -> float:
        """Returns to the last checkpoint with the learning rate lowered by ROLLBACK_LR_FACTOR;
        returns the new learning rate."""
        lrs = [group["lr"] * ROLLBACK_LR_FACTOR for group in self.optimizer.param_groups]
        rollbacks = self.rollbacks + 1
        self.load_state_dict(checkpoint.load_checkpoint(self.run_dir, self.device))
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self.rollbacks = rollbacks
        return lrs[0]


def fit(
    model,
    data: PreparedData,
    config: TrainConfig,
    run_dir: Path,
    on_step: Callable[[torch.Tensor], None] | None = None,
    on_epoch: Callable[[dict], None] | None = None,
    *,
    state: dict | None = None,
    stop: Callable[[], int] | None = None,
    on_rollback: Callable[[NonFiniteLoss, float], None] | None = None,
) -> list[dict]:
    """Trains `model` up to `config.epochs` epochs of mixed labelled/unlabelled batches and
    returns the metrics of every epoch.

    Each step maximises the model's objective (eq. 6 for the CCVAE) on one batch. After each
    epoch the validation accuracy is measured and the checkpoint and metrics.jsonl in `run_dir`
    are written; a checkpoint is also written before the first step and every
    `config.checkpoint_every` steps. `state`, a loaded checkpoint, continues a run from it.
    `on_step` receives the loss per image as a device tensor (no host sync here); `on_epoch`
    the epoch's metrics; `stop` (see `stop_signals`) is asked between steps whether to save and
    raise Interrupted. A NaN loss raises NonFiniteLoss or, with `config.on_nan == "rollback"`,
    goes back to the last checkpoint with a lower learning rate (reported to
    `on_rollback(error, new_lr)`) up to MAX_ROLLBACKS times.
    """
    trainer = Trainer(model, data, config, run_dir)
    if state is None:
        trainer.save()
    else:
        trainer.load_state_dict(state)
        checkpoint.write_metrics(run_dir, trainer.history)  # drops epochs written after the checkpoint
    while trainer.position.epoch < config.epochs:
        try:
            trainer.run_epoch(stop, on_step, on_epoch)
        except NonFiniteLoss as e:
            if config.on_nan != "rollback":
                raise
            if trainer.rollbacks >= MAX_ROLLBACKS:
                raise NonFiniteLoss(e.step, e.last_good, run_dir, f" (after {MAX_ROLLBACKS} rollbacks)") from e
            lr = trainer.roll_back()
            if on_rollback is not None:
                on_rollback(e, lr)
    return trainer.history


def train_new_run(
    config: TrainConfig,
    model_options: dict,
    run_dir: Path,
    device: torch.device,
    data_dir: str | Path | None = None,
    on_step: Callable[[torch.Tensor], None] | None = None,
    on_epoch: Callable[[dict], None] | None = None,
    *,
    replace: bool = False,
    stop: Callable[[], int] | None = None,
    on_rollback: Callable[[NonFiniteLoss, float], None] | None = None,
    model_name: str = "ccvae",
) -> tuple[torch.nn.Module, list[dict]]:
    """Loads the data, builds the model named `model_name` (a key of models.MODELS), writes the
    run's config.json and trains it (see `fit`).

    A `run_dir` already holding a run raises RunExists unless `replace`."""
    check_name(model_name)
    checkpoint.new_run_dir(run_dir, replace)
    torch.manual_seed(config.seed)  # weight init and Pyro's draws use torch's global generator
    dataset_path = resolve_dataset(config.dataset, data_dir)
    data = prepare_data(read_dataset(dataset_path), config, device)
    dataset_info = {"name": config.dataset, "path": str(dataset_path)}
    model = new_model(data, model_options, dataset_info, model_name).to(device)
    checkpoint.save_config(Path(run_dir), model.config, asdict(config), model_name)
    return model, fit(model, data, config, run_dir, on_step, on_epoch, stop=stop, on_rollback=on_rollback)


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
) -> tuple[torch.nn.Module, list[dict]]:
    """Continues the run in `run_dir` from its last checkpoint with the settings of its
    config.json (see `fit`); `epochs` may raise its number of epochs. RunMismatch if the run
    has finished, `epochs` is below the epochs done, or the data no longer fit the run."""
    run_dir = Path(run_dir)
    saved = checkpoint.load_config(run_dir)
    name, model_config, config = _configs(saved, run_dir)
    state = checkpoint.load_checkpoint(run_dir, device)
    config.epochs = _total_epochs(state.get("epoch"), config.epochs if epochs is None else epochs, run_dir)
    dataset_path = resolve_dataset(config.dataset, data_dir)
    data = checkpoint.data_for_run(model_config, read_dataset(dataset_path), run_dir, dataset_path)
    prepared = prepare_data(data, dataclasses.replace(config, labels=list(model_config.label_names)), device)
    model = MODELS[name][0](model_config).to(device)
    checkpoint.save_config(run_dir, model_config, asdict(config), name)
    return model, fit(model, prepared, config, run_dir, on_step, on_epoch, state=state, stop=stop, on_rollback=on_rollback)


def _configs(saved: dict, run_dir: Path) -> tuple[str, Any, TrainConfig]:
    """The model name, model config and training settings of a loaded config.json."""
    try:
        name = checkpoint.saved_model_name(saved)
        return name, MODELS[name][1](**saved["model"]), TrainConfig(**saved["train"])
    except (KeyError, TypeError, ValueError) as e:
        path = Path(run_dir) / checkpoint.CONFIG_FILE
        raise checkpoint.CheckpointError(f"{path} has settings this pyro-ccvae cannot use ({e})") from e


def _total_epochs(done, total: int, run_dir: Path) -> int:
    """`total`, checked to leave epochs to train after the `done` ones (RunMismatch if not)."""
    if isinstance(done, int) and total < done:
        raise checkpoint.RunMismatch(f"{run_dir} has trained {done} epochs already; --epochs must be at least that")
    if total == done:
        raise checkpoint.RunMismatch(f"{run_dir} has finished its {done} epochs; pass --epochs N with N > {done} to train longer")
    return total


def new_model(data: PreparedData, model_options: dict, dataset_info: dict, model_name: str = "ccvae") -> torch.nn.Module:
    """A fresh model (CCVAE by default) whose p(y) is fitted to the labelled training rows;
    `model_options` as in `models.config_fields`, z_c_block by default `default_z_c_block`."""
    model_class, config_class, _ = MODELS[check_name(model_name)]
    num_classes = [len(data.label_classes.get(name, ())) for name in data.label_names]
    model_options = {"z_c_block": default_z_c_block(data.label_kinds, num_classes), **model_options}
    config = config_class(
        label_names=data.label_names,
        label_priors=label_priors(data.train, data.label_kinds, num_classes),
        label_kinds=data.label_kinds,
        label_classes=data.label_classes,
        image_shape=data.image_shape,
        dataset=dataset_info,
        **config_fields(model_name, model_options, len(data.label_names)),
    )
    return model_class(config)
