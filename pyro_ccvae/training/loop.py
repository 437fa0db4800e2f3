"""The fit loop: gradient steps on a model's objective (the CCVAE ELBO, or a baseline's; see
registry.py), validation, and checkpoints a run resumes from.

A checkpoint (`Trainer.state_dict`) is written before the first step, every
`checkpoint_every` steps and at the end of each epoch. It holds everything the loop depends
on: the model and Adam states, the torch CPU (and, on CUDA, the GPU) random number generator,
the batch-order generator as it stood when the current epoch began, the position in the
epoch, the epoch's loss so far and the metrics of the finished epochs. On the CPU a run
interrupted and resumed therefore ends with exactly the parameters of one never interrupted.

NaN and infinite losses are found without a host-device sync per step: the step losses stay
on the device and are checked together every `CHECK_EVERY` steps, and before each checkpoint
together with the parameters, so a checkpoint never holds non-finite weights.

With several processes (a `distributed.World` from torchrun) each step takes N x batch_size
rows of the epoch's order, each process its share, and the processes decide together when to
stop and whether the losses are finite; rank 0 alone writes. The position in the epoch is also
kept in rows, so a run resumes with any number of processes (distributed.py says how). With
stratified batches (batches.py: `labelled_per_batch` labelled rows in each step of N x
batch_size rows) the epoch's order depends on the step's size, so a run resumed in the middle
of an epoch with another number of processes draws the rest of that epoch from a new order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pyro
import torch

from ..datasets.tensors import LabelledImages
from ..errors import CheckpointError, Interrupted, NonFiniteLoss
from . import checkpoint
from .batches import epoch_batches, epoch_order
from .config import TrainConfig
from .curves import curves_figure
from .distributed import SOLO, World
from .validation import label_scores

CHECK_EVERY = 50  # steps between checks of the losses for NaN (one host-device sync each)
MAX_ROLLBACKS = 3  # with on_nan="rollback": rollbacks a run may take before it stops
ROLLBACK_LR_FACTOR = 0.5  # the learning rate is multiplied by this at each rollback


@dataclass
class Position:
    """How far a run has trained."""

    epoch: int = 0  # epochs finished
    batch: int = 0  # steps finished in the epoch after those (each of N x batch_size rows with N processes)
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
    notes: list[str] = dataclasses.field(default_factory=list)  # what the labelled rows teach (labelled.py)


def batch_orders(train: LabelledImages, config: TrainConfig, generator: torch.Generator):
    """Endless epochs of batches (`batches.epoch_batches`), for code that trains outside `Trainer`."""
    while True:
        yield epoch_batches(train, config.batch_size, config.labelled_per_batch, generator)


def training_step(model, elbo, optimizer, x, y, mask, weights: torch.Tensor | None = None) -> torch.Tensor:
    """One gradient step on the model's loss (minus eq. 6 for the CCVAE) for a batch, each row's
    term times `weights` if given (stratified batches, batches.py); returns the loss as a
    device tensor."""
    if weights is None:
        loss = elbo.differentiable_loss(model.model, model.guide, x, y, mask)
    else:
        loss = elbo.weighted_loss(model.model, model.guide, weights, x, y, mask)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


@contextlib.contextmanager
def stop_signals(signums=(signal.SIGINT, signal.SIGTERM)):
    """Yields a function to pass to `fit` as `stop`: it returns the first of SIGINT and SIGTERM
    received (0 if none). The handlers that note them are installed by its first call, that is
    once training has started (until then the signals act as usual, so that a start-up stuck
    in reading a file can still be interrupted); the previous handlers come back when the block
    ends. Only the main thread may enter it."""
    received, previous = [], {}

    def stop() -> int:
        if not previous:
            previous.update({s: signal.signal(s, lambda signum, frame: received.append(signum)) for s in signums})
        return received[0] if received else 0

    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def parameter_groups(model, config: TrainConfig) -> list[dict]:
    """Adam's parameter groups: every parameter at config.lr, except p_psi(z_c | y)'s at
    config.prior_lr_factor times it (one group when the factor is 1)."""
    if config.prior_lr_factor == 1:
        return [{"params": list(model.parameters())}]
    prior = {id(p) for p in model.conditional_prior_parameters()}
    return [
        {"params": [p for p in model.parameters() if id(p) not in prior]},
        {"params": [p for p in model.parameters() if id(p) in prior], "lr": config.lr * config.prior_lr_factor},
    ]


class Trainer:
    """One run's training state, written to and restored from its checkpoint."""

    def __init__(self, model, elbo, data: PreparedData, config: TrainConfig, run_dir: Path, world: World = SOLO):
        self.model, self.elbo, self.data, self.config, self.run_dir = model, elbo, data, config, Path(run_dir)
        self.world = world
        self.device = data.train.labels.device
        self.optimizer = torch.optim.Adam(parameter_groups(model, config), lr=config.lr)
        self.order = torch.Generator().manual_seed(config.seed)  # draws each epoch's batch order
        self.epoch_order = self.order.get_state()  # `order` as the epoch in progress began
        self.position = Position()
        self.rows_done = 0  # rows of the epoch's order trained on, by all processes
        self.last_saved = Position()
        self.epoch_loss = torch.zeros((), device=self.device)
        self.epoch_seconds = 0.0  # time spent on the epoch in progress before the last resume
        self.epoch_start = time.perf_counter()
        self.history: list[dict] = []
        self.rollbacks = 0
        self.unchecked: list[torch.Tensor] = []  # step losses not yet checked for NaN
        world.own_noise(config.seed, 0)

    def state_dict(self) -> dict:
        """Everything needed to go on exactly from here (see the module docstring). Every
        process of a run calls it: it sums the epoch's loss and gathers their random states."""
        p = self.position
        states = self.world.gather(self.rng_state())
        rng = {**states[0], "order": self.epoch_order}
        if self.world.size > 1:
            rng["ranks"] = states
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "epoch": p.epoch,
            "batch": p.batch,
            "step": p.step,
            "epoch_rows": self.rows_done,
            "world_size": self.world.size,
            "epoch_loss": self.world.sum(self.epoch_loss),
            "epoch_seconds": self.epoch_seconds + time.perf_counter() - self.epoch_start if p.batch else 0.0,
            "history": self.history,
            "nan_rollbacks": self.rollbacks,
            "rng": rng,
        }

    def rng_state(self) -> dict:
        """This process's torch generators (the CPU's, and the GPU's when training on one)."""
        state = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            state["cuda"] = torch.cuda.get_rng_state(self.device)
        return state

    def load_state_dict(self, state: dict) -> None:
        """Goes back to a state written by `state_dict`; CheckpointError if `state` is not one."""
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.position = Position(int(state["epoch"]), int(state["batch"]), int(state["step"]))
            self.rows_done = int(state.get("epoch_rows", self.position.batch * self.config.batch_size))  # one process before
            loss = state["epoch_loss"].to(self.device)  # summed over the processes: rank 0 holds it
            self.epoch_loss = loss if self.world.writes else torch.zeros_like(loss)
            self.epoch_seconds = float(state["epoch_seconds"])
            self.history = list(state["history"])
            self.rollbacks = int(state["nan_rollbacks"])
            self.epoch_order = state["rng"]["order"].cpu()
            self.order.set_state(self.epoch_order)
            self.load_rng_state(state["rng"])
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as e:
            raise CheckpointError(f"the checkpoint in {self.run_dir} cannot be resumed ({type(e).__name__}: {e})") from e
        self.last_saved = dataclasses.replace(self.position)
        self.unchecked.clear()

    def load_rng_state(self, rng: dict) -> None:
        """This process's generators from a checkpoint's: its own if the run had as many
        processes, rank 0's for rank 0, else a seed of its own (World.own_noise)."""
        ranks = rng.get("ranks")
        own = ranks[self.world.rank] if ranks is not None and len(ranks) == self.world.size else rng
        if self.world.rank and own is rng:
            self.world.own_noise(self.config.seed, self.position.step)
            return
        torch.set_rng_state(own["torch"].cpu())
        if self.device.type == "cuda" and "cuda" in own:
            torch.cuda.set_rng_state(own["cuda"].cpu(), self.device)

    def save(self) -> None:
        """Writes the checkpoint, once the losses since the last check and the parameters are
        known to be finite (NonFiniteLoss otherwise, leaving the last checkpoint as it was)."""
        self.check_finite(parameters=True)
        state = self.state_dict()
        if self.world.writes:
            checkpoint.save_checkpoint(self.run_dir, state)
        self.last_saved = dataclasses.replace(self.position)

    def check_finite(self, parameters: bool = False) -> None:
        """Raises NonFiniteLoss naming the first step whose loss is NaN or infinite (or, with
        `parameters`, the current step if a parameter is), the same in every process. One
        host-device sync."""
        losses = torch.stack(self.unchecked) if self.unchecked else torch.zeros(0, device=self.device)
        finite = losses.isfinite()
        if parameters:
            finite = torch.cat([finite, torch.stack([w.isfinite().all() for w in self.model.parameters()])])
        finite = self.world.all_finite(finite)
        if not finite.all():
            bad = finite[: len(losses)].logical_not().nonzero()
            first = self.position.step - len(losses) + 1 + int(bad[0]) if len(bad) else self.position.step
            raise NonFiniteLoss(first, self.last_saved, self.run_dir / checkpoint.CHECKPOINT_FILE)
        self.unchecked.clear()

    def run_epoch(self, stop: Callable[[], int] | None, on_step, on_epoch, on_epoch_start=None) -> None:
        """Trains from the current position to the end of the epoch, then validates and saves.
        Between steps, `stop()` returning a signal number saves and raises Interrupted."""
        train, size = self.data.train, self.config.batch_size * self.world.size
        self.epoch_start = time.perf_counter()
        order, weights = epoch_order(train, size, self.config.labelled_per_batch, self.order)
        order = order.to(self.device)
        weights = None if weights is None else weights.to(self.device)
        if on_epoch_start is not None:
            steps_left = math.ceil((len(order) - self.rows_done) / size)
            on_epoch_start(self.position.epoch + 1, self.position.batch, self.position.batch + steps_left)
        self.model.train()
        with pyro.validation_enabled(False):
            while self.rows_done < len(order):
                self.stop_if_asked(stop)
                step_rows = slice(self.rows_done, self.rows_done + size)
                x, y, mask = train.batch(self.world.share(order[step_rows]))
                loss = self.step(x, y, mask, None if weights is None else self.world.share(weights[step_rows]))
                self.rows_done += len(order[step_rows])
                if on_step is not None:
                    on_step(loss / x.shape[0])
                if self.checkpoint_due() and self.rows_done < len(order):
                    self.save()
        self.end_epoch(on_epoch)

    def stop_if_asked(self, stop: Callable[[], int] | None) -> None:
        """Saves and raises Interrupted if `stop()` returns a signal number in any process."""
        signum = self.world.first_signal(stop() if stop is not None else 0)
        if signum:
            self.save()
            raise Interrupted(signum, dataclasses.replace(self.position), self.run_dir)

    def step(self, x, y, mask, weights=None) -> torch.Tensor:
        """One training step, counted, its loss kept on the device for the NaN check."""
        loss = training_step(self.model, self.elbo, self.optimizer, x, y, mask, weights)
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
            "loss": self.world.sum(self.epoch_loss).item() / len(self.data.train),
            "valid_accuracy": scores["accuracy"],  # mean over discrete labels; None without any
            "valid_per_label": scores["per_label"],
            "valid_regression": scores["regression"],  # continuous labels: MAE and R^2
            "seconds": self.epoch_seconds + time.perf_counter() - self.epoch_start,
        }
        self.history.append(metrics)
        self.epoch_order = self.order.get_state()
        self.epoch_loss = torch.zeros((), device=self.device)
        self.epoch_seconds = 0.0
        self.rows_done = 0
        self.save()
        self.write_history()
        if on_epoch is not None:
            on_epoch(metrics)

    def write_history(self) -> None:
        """metrics.jsonl and the training curves of the finished epochs (by rank 0)."""
        if not self.world.writes:
            return
        checkpoint.write_metrics(self.run_dir, self.history)
        if self.history:
            curves_figure(self.history, self.run_dir / checkpoint.CURVES_FILE)

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
    elbo,
    data: PreparedData,
    config: TrainConfig,
    run_dir: Path,
    on_step: Callable[[torch.Tensor], None] | None = None,
    on_epoch: Callable[[dict], None] | None = None,
    *,
    state: dict | None = None,
    stop: Callable[[], int] | None = None,
    on_rollback: Callable[[NonFiniteLoss, float], None] | None = None,
    on_epoch_start: Callable[[int, int, int], None] | None = None,
    publish: Callable[[], Path] | None = None,
    world: World = SOLO,
) -> list[dict]:
    """Trains `model` up to `config.epochs` epochs of mixed labelled/unlabelled batches and
    returns the metrics of every epoch.

    Each step maximises the model's objective `elbo` (eq. 6 for the CCVAE) on one batch. After each
    epoch the validation accuracy is measured and the checkpoint and metrics.jsonl in `run_dir`
    are written; a checkpoint is also written before the first step and every
    `config.checkpoint_every` steps. `state`, a loaded checkpoint, continues a run from it.
    `on_step` receives the loss per image as a device tensor (no host sync here);
    `on_epoch_start(epoch, batches done, batches in the epoch)` each epoch's start; `on_epoch`
    the epoch's metrics; `stop` (see `stop_signals`) is asked between steps whether to save and
    raise Interrupted. A NaN loss raises NonFiniteLoss or, with `config.on_nan == "rollback"`,
    goes back to the last checkpoint with a lower learning rate (reported to
    `on_rollback(error, new_lr)`) up to MAX_ROLLBACKS times. A new run built in a staging
    folder (`run_dir`) is moved to its place by `publish()` (which returns that place) once its
    first checkpoint is written (checkpoint.staging_dir, checkpoint.publish).

    With several processes (`world`, see distributed.py) every one calls `fit` with `elbo` from
    `world.objective`; rank 0 writes the files; a process that finds another gone raises
    ProcessLost, leaving the last checkpoint.
    """
    trainer = Trainer(model, elbo, data, config, run_dir, world)
    with world.failures(lambda: (trainer.last_saved, trainer.run_dir)):
        if state is None:
            trainer.save()
            if publish is not None:
                trainer.run_dir = publish()
        else:
            trainer.load_state_dict(state)
            trainer.write_history()  # drops epochs written after the checkpoint
        while trainer.position.epoch < config.epochs:
            try:
                trainer.run_epoch(stop, on_step, on_epoch, on_epoch_start)
            except NonFiniteLoss as e:
                if config.on_nan != "rollback":
                    raise
                if trainer.rollbacks >= MAX_ROLLBACKS:
                    raise NonFiniteLoss(
                        e.step, e.last_good, trainer.run_dir / checkpoint.CHECKPOINT_FILE, f" (after {MAX_ROLLBACKS} rollbacks)"
                    ) from e
                lr = trainer.roll_back()
                if on_rollback is not None:
                    on_rollback(e, lr)
    return trainer.history
