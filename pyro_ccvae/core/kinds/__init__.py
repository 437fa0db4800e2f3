"""The label kinds, by the name data files and run configs use for them.

A new kind is a new file in this folder (a `Label` and a `LabelGroup` subclass, see base.py)
and one line in `KINDS`.
"""

from __future__ import annotations

from typing import Sequence

from ...errors import LabelError
from .base import MIN_PROB, Label, LabelGroup
from .binary import BinaryGroup, BinaryLabel
from .categorical import CategoricalGroup, CategoricalLabel
from .continuous import ContinuousGroup, ContinuousLabel

KINDS: dict[str, type[Label]] = {
    "binary": BinaryLabel,
    "categorical": CategoricalLabel,
    "continuous": ContinuousLabel,
}


def make_label(name: str, kind: str, classes: Sequence[str] = (), prior=None) -> Label:
    """The label `name` of the kind named `kind`; LabelError if no such kind exists."""
    if kind not in KINDS:
        raise LabelError(f"label {name}: unknown kind {kind!r}; known kinds: {', '.join(KINDS)}")
    return KINDS[kind](name, classes, prior)


def make_labels(names: Sequence[str], kinds: Sequence[str], classes: dict, priors: Sequence | None = None) -> list[Label]:
    """`make_label` for parallel lists (as stored in data files and configs)."""
    priors = list(priors) if priors is not None else [None] * len(names)
    return [make_label(n, k, classes.get(n, ()), p) for n, k, p in zip(names, kinds, priors)]


def make_label_groups(labels: Sequence[Label], config) -> list[LabelGroup]:
    """The groups of a model's labels: one per kind whose labels share sites (in the order
    they first appear), then one per other label, in label order (see base.py)."""
    groups = []
    for kind in dict.fromkeys(type(label) for label in labels if label.shares_sites):
        index = [i for i, label in enumerate(labels) if type(label) is kind]
        groups.append(kind.make_group([labels[i] for i in index], index, config))
    for i, label in enumerate(labels):
        if not label.shares_sites:
            groups.append(type(label).make_group([label], [i], config))
    return groups


def default_z_c_block(labels: Sequence[Label]) -> int:
    """The size of each z_c^i unless chosen: the label's `natural_block_size` for a model of
    one label (K for a K-class categorical one), else 1 (the paper's CelebA models)."""
    return labels[0].natural_block_size() if len(labels) == 1 else 1


__all__ = [
    "KINDS",
    "MIN_PROB",
    "BinaryGroup",
    "BinaryLabel",
    "CategoricalGroup",
    "CategoricalLabel",
    "ContinuousGroup",
    "ContinuousLabel",
    "Label",
    "LabelGroup",
    "default_z_c_block",
    "make_label",
    "make_label_groups",
    "make_labels",
]
