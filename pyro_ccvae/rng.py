"""The library's one random-number policy: functions take a seed or a `torch.Generator`, and
none changes torch's global generator for its caller.

Code that must draw from torch's global generator (Pyro's samplers, `nn.Module` weight
initialisation, `Distribution.sample`) runs inside `seeded(...)`, which forks the global state,
seeds it, and gives the caller's state back when the block ends.
"""

from __future__ import annotations

import contextlib

import torch

MAX_SEED = 2**62


@contextlib.contextmanager
def seeded(seed: int, device: torch.device | str | None = None):
    """Within the block torch's global generators (the CPU's, and `device`'s if it is a GPU)
    start from `seed`; afterwards they are as they were before the block."""
    device = torch.device(device) if device is not None else torch.device("cpu")
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def reseed(seed: int) -> None:
    """Starts torch's global generators (the CPU's and every GPU's) from `seed`. Only for code
    already inside `seeded(...)`, which gives the caller's state back: a process of a
    data-parallel run draws its own noise so (training/distributed.py)."""
    torch.manual_seed(seed)


def seed_from(generator: torch.Generator) -> int:
    """A seed drawn from `generator` (advancing it)."""
    return int(torch.randint(MAX_SEED, (), generator=generator, device=generator.device))


def draw(distribution, generator: torch.Generator | None = None, sample_shape=torch.Size()):
    """A draw from any torch distribution; from `generator` when given, else from torch's
    global generator. Two calls with generators in the same state draw the same base noise
    for distributions of the same shapes (common random numbers)."""
    if generator is None:
        return distribution.sample(sample_shape)
    with seeded(seed_from(generator), distribution.mean.device):
        return distribution.sample(sample_shape)


def standard_normal(shape, like: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Standard normal draws on `like`'s device and dtype, from `generator` when given."""
    device = generator.device if generator is not None else like.device
    return torch.randn(shape, generator=generator, device=device, dtype=like.dtype).to(like.device)
