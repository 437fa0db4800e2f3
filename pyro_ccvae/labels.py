"""Turning "Name=value" assignments into label tensors and masks.

A value is read by its label's kind: binary labels take 0/1 (or no/yes, false/true),
categorical ones a class name (or its index), continuous ones a number ("Age=35").
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import torch

BINARY_VALUES = {"0": 0.0, "1": 1.0, "false": 0.0, "true": 1.0, "no": 0.0, "yes": 1.0}


class LabelError(ValueError):
    """An assignment that names an unknown label or an impossible value."""


def invalid_values(values: np.ndarray, kind: str, num_classes: int = 0) -> np.ndarray:
    """The entries of `values` that a label of `kind` (with `num_classes` classes, if
    categorical) cannot take: not 0/1, not a class index, or not finite."""
    values = np.asarray(values, dtype=np.float64)
    if kind == "binary":
        return values[(values != 0) & (values != 1)]
    if kind == "categorical":
        return values[(values != np.round(values)) | (values < 0) | (values >= num_classes)]
    return values[~np.isfinite(values)]


def expected_values(kind: str, num_classes: int = 0) -> str:
    """What a value of a label of `kind` must be, for messages."""
    if kind == "binary":
        return "0 or 1"
    if kind == "categorical":
        return f"a class index 0 to {num_classes - 1}"
    return "a finite number"


def parse_value(name: str, text: str, kind: str = "binary", classes: Sequence[str] = ()) -> float:
    """The label value of `text` for label `name` of `kind`: 0/1, a class index, or a number."""
    text = text.strip()
    if kind == "binary":
        if text.lower() not in BINARY_VALUES:
            raise LabelError(f"{name} is binary: its value must be 0 or 1, got {text!r}")
        return BINARY_VALUES[text.lower()]
    if kind == "categorical":
        lowered = [c.lower() for c in classes]
        if text.lower() in lowered:
            return float(lowered.index(text.lower()))
        if text.isdigit() and int(text) < len(classes):
            return float(text)
        raise LabelError(f"{name} is categorical: its value must be one of {', '.join(classes)}, got {text!r}")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise LabelError(f"{name} is continuous: its value must be a finite number (for example {name}=35), got {text!r}")
    return value


def parse_assignments(
    assignments: Sequence[str],
    label_names: Sequence[str],
    label_kinds: Sequence[str] | None = None,
    label_classes: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, float]:
    """["Smiling=1", "Hair=blond", "Age=35"] -> {"Smiling": 1.0, "Hair": 2.0, "Age": 35.0},
    checked against `label_names` and read by `label_kinds` (default: all binary) and the
    class names in `label_classes`."""
    kinds = dict(zip(label_names, label_kinds or ["binary"] * len(label_names)))
    values = {}
    for text in assignments:
        name, sep, value = text.partition("=")
        name = name.strip()
        if not sep or not name:
            raise LabelError(f"{text!r} is not of the form NAME=VALUE (for example Smiling=1)")
        if name not in kinds:
            raise LabelError(f"unknown label {name!r}; valid labels: {', '.join(label_names)}")
        values[name] = parse_value(name, value, kinds[name], (label_classes or {}).get(name, ()))
    return values


def parse_for(assignments: Sequence[str], config) -> dict[str, float]:
    """`parse_assignments` against a model config's labels, kinds and classes."""
    return parse_assignments(assignments, config.label_names, config.label_kinds, config.label_classes)


def sweep_values(text: str, config, steps: int = 7) -> tuple[str, list[float]]:
    """The label and values of a sweep "NAME" or "NAME=LOW:HIGH" for a model config: every
    value of a binary or categorical label; for a continuous one `steps` values from LOW to
    HIGH, by default mean -/+ 2 standard deviations of p(y_i)."""
    name, sep, span = (part.strip() for part in text.partition("="))
    if name not in config.label_names:
        raise LabelError(f"unknown label {name!r}; valid labels: {', '.join(config.label_names)}")
    index = config.label_names.index(name)
    kind = config.label_kinds[index]
    if kind != "continuous":
        if sep:
            raise LabelError(f"{name} is {kind}: sweep it without a range (--sweep {name}), over all its values")
        return name, [float(v) for v in range(len(config.label_classes.get(name, (0, 1))))]
    mean, std = config.label_priors[index]
    low, high = mean - 2 * std, mean + 2 * std
    if sep:
        low_text, colon, high_text = span.partition(":")
        if not colon:
            raise LabelError(f"a sweep range is LOW:HIGH, for example {name}=20:80; got {span!r}")
        low, high = (parse_value(name, t, kind) for t in (low_text, high_text))
    if steps < 2:
        raise LabelError(f"a sweep of {name} needs at least 2 steps")
    return name, [low + (high - low) * k / (steps - 1) for k in range(steps)]


def format_value(value: float, kind: str = "binary", classes: Sequence[str] = ()) -> str:
    """The text a user would write for a label value (the inverse of `parse_value`)."""
    if kind == "categorical":
        return classes[int(value)]
    if kind == "continuous":
        return f"{value:g}"
    return str(int(value))


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
