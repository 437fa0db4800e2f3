"""Turning "Name=value" assignments into label tensors and masks."""

from __future__ import annotations

from typing import Sequence

import torch

BINARY_VALUES = {"0": 0.0, "1": 1.0, "false": 0.0, "true": 1.0, "no": 0.0, "yes": 1.0}


class LabelError(ValueError):
    """An assignment that names an unknown label or an impossible value."""


def parse_assignments(assignments: Sequence[str], label_names: Sequence[str]) -> dict[str, float]:
    """["Smiling=1", "Male=0"] -> {"Smiling": 1.0, "Male": 0.0}, checked against `label_names`."""
    values = {}
    for text in assignments:
        name, sep, value = text.partition("=")
        name, value = name.strip(), value.strip().lower()
        if not sep or not name:
            raise LabelError(f"{text!r} is not of the form NAME=VALUE (for example Smiling=1)")
        if name not in label_names:
            raise LabelError(f"unknown label {name!r}; valid labels: {', '.join(label_names)}")
        if value not in BINARY_VALUES:
            raise LabelError(f"{name} is binary: its value must be 0 or 1, got {value!r}")
        values[name] = BINARY_VALUES[value]
    return values


def assignment_tensors(
    values: dict[str, float], label_names: Sequence[str], batch: int, device=None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(y, mask) of shape [batch, L]: the given values observed, the other labels latent."""
    y = torch.zeros(batch, len(label_names), device=device)
    mask = torch.zeros(batch, len(label_names), dtype=torch.bool, device=device)
    for name, value in values.items():
        i = list(label_names).index(name)
        y[:, i] = value
        mask[:, i] = True
    return y, mask
