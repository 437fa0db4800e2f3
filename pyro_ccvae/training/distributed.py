"""Data-parallel training: one model trained by several processes, started by torchrun
(torch.distributed.run) on one machine or several, with torch.distributed (NCCL between GPUs,
gloo on CPUs).

`World` is the group of processes of a run; a run without torchrun is `SOLO`, one process,
for which every method below is free and changes nothing, so the fit loop (loop.py) has one
path. How the processes share the work:

- Rows: every process draws the same shuffled order of the training rows each epoch (the
  generator a single process uses); a step takes the next N x batch_size rows of it and
  process r trains on the r-th of N nearly equal parts (`share`).
- Gradients: DistributedDataParallel around a module whose forward returns the model's loss
  (`objective`, Pyro's route for DDP: the ELBO as a torch loss with a torch optimizer). Each
  process's loss is the sum over its rows and a communication hook *sums* the gradients (DDP
  would average them), so every process takes the gradient of the loss summed over the step's
  N x batch_size rows: what one process computes for a batch of that size.
- What every process must decide alike is decided together: whether to stop on a signal
  (`first_signal`, every step) and whether the losses and parameters are finite (`all_finite`).
- Only rank 0 writes (`writes`). A checkpoint holds the epoch's loss summed over the processes
  (`sum`), the number of processes, and the random state of each (`gather`): a run resumed with
  as many processes goes on exactly; with another number, the processes beyond rank 0 start
  from seeds of their own (`own_noise`). Its position in the epoch is in rows, valid for any
  number of processes.

Failures: an exchange that fails because another process stopped or died raises ProcessLost
(`failures`) instead of waiting for it; errors while the processes set a run up are shared
(`agreement`), so that every process stops and rank 0 can report the first one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import uuid
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ..errors import CCVAEError, DeviceError, PeerFailed, ProcessLost
from ..rng import MAX_SEED, reseed

# Words of the errors torch raises when the other side of an exchange is gone (gloo raises a
# plain RuntimeError saying so; NCCL and the store raise torch.distributed.DistError).
_LOST = ("Connection closed", "Connection reset", "Broken pipe", "NCCL", "Socket", "timed out", "Timed out")


def launched() -> bool:
    """Whether this process was started by torchrun (its environment says so)."""
    return dist.is_torchelastic_launched()


def launched_rank() -> int:
    """This process's rank under torchrun (0 without it)."""
    return int(os.environ.get("RANK", "0")) if launched() else 0


def launched_size() -> int:
    """The number of processes torchrun started for the run (1 without it)."""
    return int(os.environ.get("WORLD_SIZE", "1")) if launched() else 1


@dataclasses.dataclass(frozen=True)
class World:
    """The processes training one model: this one is `rank` of `size`, computing on `device`."""

    rank: int = 0
    size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def writes(self) -> bool:
        """Whether this process writes the run's files (rank 0)."""
        return self.rank == 0

    def share(self, rows: torch.Tensor) -> torch.Tensor:
        """This process's part of a step's rows: the r-th of `size` parts as equal as can be (in
        a short last step of an epoch, some may be empty)."""
        return rows.tensor_split(self.size)[self.rank]

    def objective(self, elbo, model: nn.Module, unused_parameters: bool = False):
        """`elbo` for the fit loop: itself for one process, else run through
        DistributedDataParallel (`DataParallelObjective`). `unused_parameters`: some parameters
        of `model` get no gradient from some batches (registry.ModelSpec.unused_parameters)."""
        if self.size == 1:
            return elbo
        return DataParallelObjective(elbo, model, unused_parameters, self.device)

    def first_signal(self, signum: int) -> int:
        """The largest of the signal numbers the processes received (0: none): every process
        stops if one was asked to."""
        if self.size == 1:
            return signum
        received = torch.tensor([signum])  # on the CPU: gloo, without waiting for a GPU
        dist.all_reduce(received, op=dist.ReduceOp.MAX)
        return int(received)

    def all_finite(self, finite: torch.Tensor) -> torch.Tensor:
        """`finite` (bool, the same shape in every process) true where it is true in all."""
        if self.size == 1:
            return finite
        every = finite.to(torch.uint8)
        dist.all_reduce(every, op=dist.ReduceOp.MIN)
        return every.bool()

    def sum(self, value: torch.Tensor) -> torch.Tensor:
        """`value` summed over the processes (a new tensor)."""
        total = value.clone()
        if self.size > 1:
            dist.all_reduce(total)
        return total

    def gather(self, item) -> list:
        """[the `item` of each process], in rank order; `item` is pickled."""
        if self.size == 1:
            return [item]
        items = [None] * self.size
        dist.all_gather_object(items, item)
        return items

    def own_noise(self, seed: int, step: int) -> None:
        """Starts torch's global generators of the processes other than rank 0 from a seed of
        their own, made from (`seed`, rank, `step`), so that they draw other noise than rank 0
        (which keeps its state, as one process would). Inside rng.seeded, like all training."""
        if self.rank:
            words = np.random.SeedSequence([seed % 2**64, self.rank, step]).generate_state(1, np.uint64)
            reseed(int(words[0]) % MAX_SEED)

    @contextlib.contextmanager
    def failures(self, last_checkpoint: Callable[[], tuple] | None = None):
        """Within the block, an exchange that fails because another process is gone raises
        ProcessLost; `last_checkpoint()` gives (its position, the run folder) for the message."""
        try:
            yield
        except RuntimeError as e:
            if self.size == 1 or not (isinstance(e, dist.DistError) or any(w in str(e) for w in _LOST)):
                raise
            raise ProcessLost(self.rank, self.size, _cause(e), *(last_checkpoint() if last_checkpoint else ())) from e

    @contextlib.contextmanager
    def agreement(self):
        """Runs the block, then tells every process whether it failed in any: a process whose
        block raised a library error (or OSError) raises it, the others PeerFailed with the first
        such error, so that none goes on (or waits) alone."""
        if self.size == 1:
            yield
            return
        error = None
        try:
            yield
        except (CCVAEError, OSError) as e:
            error = e
        with self.failures():
            errors = self.gather(None if error is None else str(error))
        if error is not None:
            raise error
        failed = [(rank, text) for rank, text in enumerate(errors) if text is not None]
        if failed:
            raise PeerFailed(failed[0][0], self.size, failed[0][1])

    def first(self, work: Callable[[], object]):
        """`work()` on rank 0, then, once it has succeeded there, on the others (for work that
        makes files the others then find made, such as preparing a data set)."""
        result = None
        for turn in (True, False):
            with self.agreement():
                if self.writes == turn:
                    result = work()
        return result


SOLO = World()


def _cause(error: Exception) -> str:
    """The gist of a failed exchange's error: its first sentence, without source locations."""
    text = re.sub(r"\[[^\]\s]*:\d+\]\s*", "", str(error).splitlines()[0] if str(error) else type(error).__name__)
    return text.split(". ")[0].rsplit("Error: ", 1)[-1].strip()


class _BatchLoss(nn.Module):
    """The model's loss on a batch as the forward of a module (what DDP wraps), times `weight`
    (a number, or one per row: stratified batches, batches.py)."""

    def __init__(self, elbo, model: nn.Module):
        super().__init__()
        self.model, self.elbo = model, elbo

    def forward(self, x, y, mask, weight):
        if isinstance(weight, torch.Tensor):
            return self.elbo.weighted_loss(self.model.model, self.model.guide, weight, x, y, mask)
        return weight * self.elbo.differentiable_loss(self.model.model, self.model.guide, x, y, mask)


def _sum_gradients(process_group, bucket):
    """DDP communication hook: the gradients summed over the processes (DDP's own averages)."""
    work = dist.all_reduce(bucket.buffer(), group=process_group, async_op=True)
    return work.get_future().then(lambda future: future.value()[0])


class DataParallelObjective:
    """An objective with the ELBO's `differentiable_loss(model.model, model.guide, x, y, mask)`
    that runs it through DistributedDataParallel, whose backward pass sums the gradients over
    the processes. A process with no rows in a step (the short last one) computes the loss of
    one blank unlabelled image times 0, so that it still takes part in the exchange."""

    def __init__(self, elbo, model: nn.Module, unused_parameters: bool, device: torch.device):
        self.model = model
        self.module = DistributedDataParallel(
            _BatchLoss(elbo, model),
            device_ids=[device] if device.type == "cuda" else None,
            find_unused_parameters=unused_parameters,
        )
        self.module.register_comm_hook(None, _sum_gradients)

    def differentiable_loss(self, model, guide, x, y, mask) -> torch.Tensor:
        return self.weighted_loss(model, guide, None, x, y, mask)

    def weighted_loss(self, model, guide, weights, x, y, mask) -> torch.Tensor:
        """The loss with each row's term times `weights` [b] (None: all 1)."""
        if (model, guide) != (self.model.model, self.model.guide):
            raise ValueError("a DataParallelObjective computes the loss of the model it was made for")
        if x.shape[0]:
            return self.module(x, y, mask, 1.0 if weights is None else weights)
        return self.module(x.new_zeros((1, *x.shape[1:])), y.new_zeros((1, *y.shape[1:])), mask.new_zeros((1, *mask.shape[1:])), 0.0)


@contextlib.contextmanager
def joined(device: torch.device):
    """The `World` of this process: SOLO without torchrun; under torchrun, it joins the others
    (NCCL for GPUs, with gloo for CPU tensors; gloo on CPUs) and leaves at the end of the block.
    A device "cuda" without a number becomes this process's GPU, cuda:LOCAL_RANK."""
    size = launched_size()
    if size == 1:
        yield World(device=device)
        return
    rank, local_rank = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"])  # set by torchrun
    if device.type == "cuda":
        local_size, gpus = int(os.environ.get("LOCAL_WORLD_SIZE", "1")), torch.cuda.device_count()
        if device.index is not None and local_size > 1:  # every process finds these, so that none waits
            raise DeviceError(
                f"the device {device} is one GPU for the {local_size} processes of this machine",
                remedy="ask for the device 'cuda': each process then takes its own",
            )
        if local_size > gpus:
            raise DeviceError(
                f"{local_size} processes on this machine need a GPU each but it has {gpus}",
                remedy="start at most one process per GPU",
            )
        device = device if device.index is not None else torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group("cpu:gloo,cuda:nccl" if device.type == "cuda" else "gloo")
    try:
        world = World(rank, size, device)
        yield world
        with world.failures():  # no process leaves while another still uses the group
            dist.all_reduce(torch.zeros(1))  # a barrier, on the CPU (gloo) whatever the device
    finally:
        dist.destroy_process_group()


def launch(num_processes: int, module_args: list[str]) -> int:
    """Runs `python -m MODULE ARGS...` (`module_args`) as `num_processes` processes of this
    machine through torch.distributed.run, as `torchrun --standalone --nproc-per-node N -m
    MODULE ARGS...` does (its rendezvous on a free port of this machine; it sets OMP_NUM_THREADS to 1 in this process's environment for
    them unless it is set). Returns the job's exit status: 0, or that of the lowest-ranked
    process that failed (128 + the signal's number for one killed by a signal, or when this
    process was sent one, which its processes are sent too). torch's launcher logs nothing:
    the processes report."""
    from torch.distributed import run as torchrun
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import elastic_launch

    standalone = ["--nnodes", "1", "--rdzv-backend", "c10d", "--rdzv-endpoint", "localhost:0", "--rdzv-id", uuid.uuid4().hex]
    args = torchrun.parse_args([*standalone, "--nproc-per-node", str(num_processes), "-m", *module_args])
    disabled = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        config, command, command_args = torchrun.config_from_args(args)
        elastic_launch(config, command)(*command_args)
        return 0
    except ChildFailedError as e:
        code = min(e.failures.items())[1].exitcode
        return code if code > 0 else 128 - code
    except SignalException as e:
        return 128 + int(e.sigval)
    finally:
        logging.disable(disabled)
