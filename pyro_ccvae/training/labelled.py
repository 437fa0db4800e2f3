"""What the labelled training rows can teach: how many each label has, and whether that is
enough. A label with no labelled row is refused; one whose labelled rows show a single value,
or a class with very few rows, is learned poorly or not at all, and is reported."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..core.kinds import Label
from ..errors import LabelError

FEW = 5  # a class with fewer labelled rows than this is reported as hard to learn
ENOUGH = 10  # the labelled rows per class the suggested fraction aims at


def labelled_notes(labels: Sequence[Label], values: np.ndarray, keep: np.ndarray, sup_fraction: float) -> list[str]:
    """Notes on the labelled rows `keep` of the training labels `values` [N, L] (NaN missing):
    one line with the counts, then one per label that its labelled rows teach poorly.
    LabelError, naming the label and the fraction that would give it about ENOUGH labelled
    rows per class, if a label has no labelled row at all."""
    labelled = values[keep]
    notes = [f"{len(keep)} of {len(values)} training images keep their labels (labelled fraction {sup_fraction:g})"]
    per_label = (~np.isnan(labelled)).sum(0)
    if (per_label != len(keep)).any():
        notes.append("labelled rows per label: " + ", ".join(f"{l.name} {n}" for l, n in zip(labels, per_label)))
    for i, label in enumerate(labels):
        observed = labelled[:, i][~np.isnan(labelled[:, i])]
        everywhere = values[:, i][~np.isnan(values[:, i])]
        needed = _fraction_needed(label, everywhere, len(values))
        if observed.size == 0:
            raise LabelError(
                f"label {label.name} has no labelled row at labelled fraction {sup_fraction:g} "
                f"({len(keep)} of {len(values)} training images labelled); about {needed:.2g} would give it "
                f"{ENOUGH} labelled rows per value",
                remedy=f"raise sup_fraction to at least {needed:.2g}",
                setting="sup_fraction",
                needed=f"{needed:.2g}",
            )
        if not label.discrete:
            continue
        counts = np.bincount(observed.astype(np.int64), minlength=label.num_classes())
        if np.count_nonzero(counts) < 2:
            value = label.format(float(np.flatnonzero(counts)[0]))
            notes.append(
                f"warning: label {label.name}: all {observed.size} labelled rows have the value {value}, so neither "
                f"p(y) nor the classifier can learn its other values; a labelled fraction of about {needed:.2g} "
                f"gives {ENOUGH} labelled rows per value"
            )
        elif counts.min() < FEW:
            rare = label.format(float(counts.argmin()))
            notes.append(
                f"warning: label {label.name}: the value {rare} has {counts.min()} labelled row(s); it is learned "
                f"poorly; a labelled fraction of about {needed:.2g} gives {ENOUGH} labelled rows per value"
            )
    return notes


def _fraction_needed(label: Label, values: np.ndarray, num_rows: int) -> float:
    """The labelled fraction expected to give ENOUGH labelled rows to the label's rarest value
    (to the label as a whole for a continuous one), at most 1."""
    if values.size == 0:
        return 1.0
    share = values.size / num_rows
    if label.discrete:
        counts = np.bincount(values.astype(np.int64), minlength=label.num_classes())
        share *= max(counts.min(), 1) / values.size
    return min(1.0, math.ceil(ENOUGH / (share * num_rows) * 1e4) / 1e4)
