"""Choosing the torch device from a user's "auto", "cpu" or "cuda", and finding a model's."""

import torch

from .errors import DeviceError


def resolve_device(name: str | torch.device) -> torch.device:
    """`name` as a torch.device; "auto" is CUDA when available, else the CPU."""
    if isinstance(name, torch.device):
        return name
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError(
            f"the device {name} was asked for but this machine has no usable CUDA GPU",
            remedy="use the device 'cpu'",
            setting="device",
        )
    try:
        return torch.device(name)
    except RuntimeError as e:
        raise DeviceError(f"unknown device {name!r}", remedy="use auto, cpu, cuda or cuda:N", setting="device") from e


def model_device(model: torch.nn.Module) -> torch.device:
    """The device a model's parameters are on."""
    return next(model.parameters()).device
