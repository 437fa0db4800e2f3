"""From a data set and settings to what the fit loop trains: the chosen labels with the
labelled subset hidden (`prepare_data`) and a fresh model whose p(y) is fitted to it
(`new_model`)."""

from __future__ import annotations

import dataclasses

import torch

from ..core.config import label_fields
from ..core.kinds import default_z_c_block, make_labels
from ..datasets import ImageDataset
from ..datasets.h5format import check_label_values, trainable_problem
from ..datasets.tensors import fit_label_priors, labelled_subset, split_tensors
from ..errors import DatasetError, LabelError
from . import registry
from .config import ModelOptions, TrainConfig
from .labelled import labelled_notes
from .loop import PreparedData


def prepare_data(data: ImageDataset, config: TrainConfig, device: torch.device) -> PreparedData:
    """Checks that the models can train on `data` with `config` (DatasetError, LabelError),
    chooses the labels and the labelled subset, and moves the splits to `device`; the notes
    say how many labelled rows there are and which labels they teach poorly."""
    problem = trainable_problem(data)
    if problem:
        raise DatasetError(f"{data.path or data.name or 'the data set'} cannot be trained on: {problem}")
    names = config.labels or list(data.default_labels)
    unknown = [n for n in names if n not in data.label_names]
    if unknown:
        raise LabelError(
            f"unknown label(s) {', '.join(unknown)}; this data set has: {', '.join(data.label_names)}", setting="labels"
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise LabelError(f"the label(s) {', '.join(repeated)} are listed more than once", setting="labels")
    data = data.select_labels(names)
    check_label_values(data)
    train_rows = data.split_indices("train")
    keep = labelled_subset(len(train_rows), config.sup_fraction, config.seed)
    notes = labelled_notes(data.labels_info, data.labels[train_rows], keep, config.sup_fraction)
    return PreparedData(
        train=split_tensors(data, "train", device, keep_rows=keep),
        valid=split_tensors(data, "valid", device),
        label_names=list(data.label_names),
        label_kinds=list(data.label_kinds),
        label_classes={name: list(classes) for name, classes in data.label_classes.items()},
        image_shape=data.image_shape,
        notes=notes,
    )


def new_model(data: PreparedData, options: ModelOptions, dataset_info: dict, model_name: str = "ccvae") -> torch.nn.Module:
    """A fresh model (the CCVAE by default) whose p(y) is fitted to the labelled training rows;
    `options.z_c_block` None means `kinds.default_z_c_block` of the labels. Its weights come
    from torch's global generator (callers seed it: see rng.seeded)."""
    labels = make_labels(data.label_names, data.label_kinds, data.label_classes)
    labels = [label.with_prior(prior) for label, prior in zip(labels, fit_label_priors(data.train, labels))]
    if options.z_c_block is None:
        options = dataclasses.replace(options, z_c_block=default_z_c_block(labels))
    config = registry.build_config(
        model_name, options, **label_fields(labels), image_shape=data.image_shape, dataset=dataset_info
    )
    return registry.spec_of(model_name).model_class(config)
