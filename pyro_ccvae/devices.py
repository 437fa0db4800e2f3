"""Choosing the torch device from a user's "auto", "cpu" or "cuda", and finding a model's."""

import torch


class DeviceError(RuntimeError):
    """A device that does not exist on this machine, or a name torch does not know."""


def resolve_device(name: str) -> torch.device:
    """`name` as a torch.device; "auto" is CUDA when available, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError("--device cuda was asked for but this machine has no usable CUDA GPU; use --device cpu")
    try:
        return torch.device(name)
    except RuntimeError as e:
        raise DeviceError(f"unknown device {name!r}: use auto, cpu, cuda or cuda:N") from e


def model_device(model: torch.nn.Module) -> torch.device:
    """The device a model's parameters are on."""
    return next(model.parameters()).device
