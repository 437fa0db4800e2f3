"""Choosing the torch device from a user's "auto", "cpu" or "cuda"."""

import torch


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for but this machine has no usable CUDA GPU; use --device cpu")
    return torch.device(name)
