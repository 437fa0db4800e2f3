"""Turning "Name=value" assignments into label values and tensors.

Each value is read by its label (kinds/): binary labels take 0/1 (or no/yes, false/true),
categorical ones a class name (or its index), continuous ones a number ("Age=35").
"""

from __future__ import annotations

from typing import Sequence

import torch

from ..errors import LabelError
from .kinds import Label


def find_label(labels: Sequence[Label], name: str) -> tuple[int, Label]:
    """The position and object of the label called `name`; LabelError if there is none."""
    for index, label in enumerate(labels):
        if label.name == name:
            return index, label
    raise LabelError(f"unknown label {name!r}; valid labels: {', '.join(label.name for label in labels)}")


def parse_assignments(assignments: Sequence[str], labels: Sequence[Label]) -> dict[str, float]:
    """["Smiling=1", "Hair=blond", "Age=35"] -> {"Smiling": 1.0, "Hair": 2.0, "Age": 35.0},
    each value read by its label; LabelError for an unknown label, a bad value, or a label
    given twice."""
    values = {}
    for text in assignments:
        name, sep, value = text.partition("=")
        name = name.strip()
        if not sep or not name:
            raise LabelError(f"{text!r} is not of the form NAME=VALUE (for example Smiling=1)")
        if name in values:
            raise LabelError(f"{name} is given twice; give each label once")
        values[name] = find_label(labels, name)[1].parse(value)
    return values


def parse_sweep(text: str, labels: Sequence[Label], steps: int = 7) -> tuple[str, list[float]]:
    """The label and values of a sweep "NAME" or "NAME=LOW:HIGH": every value of a discrete
    label; for a continuous one `steps` values from LOW to HIGH (default: its traversal ends)."""
    name, sep, span = (part.strip() for part in text.partition("="))
    label = find_label(labels, name)[1]
    return name, label.sweep_values(span if sep else None, steps)


def parse_value_pair(text: str, labels: Sequence[Label]) -> tuple[str, float, float]:
    """"NAME=FROM:TO" -> (name, from, to), each value read by its label ("Smiling=0:1",
    "Hair=blond:red", "Age=20:80"); LabelError if the text has another form."""
    name, sep, values = (part.strip() for part in text.partition("="))
    start, colon, end = values.partition(":")
    if not sep or not colon or not name:
        raise LabelError(f"{text!r} is not of the form NAME=FROM:TO (for example Smiling=0:1)")
    label = find_label(labels, name)[1]
    return name, label.parse(start), label.parse(end)


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
