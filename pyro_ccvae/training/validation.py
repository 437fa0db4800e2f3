"""How well a model's predictions recover the labels of a split, each label by its kind's own
measure (accuracy, or MAE and R^2): the validation figures of the fit loop and Table 1."""

from __future__ import annotations

import torch

from ..datasets.tensors import LabelledImages


@torch.no_grad()
def label_scores(model, data: LabelledImages, batch_size: int = 512) -> dict:
    """The measures of `model.predict(x)` (for the CCVAE, q(y|z_c) at the mean of q(z_c|x)) on
    the observed labels of `data`:

    - "per_label": {name: accuracy} of each label measured by accuracy (binary, categorical);
    - "accuracy": their mean (None if there are none);
    - "regression": {name: {"mae", "r2"}} of each label measured so (continuous), R^2 around the
      mean of the observed values scored.
    """
    predicted = torch.cat([model.predict(x).double() for x, _, _ in data.batches(batch_size)]).cpu().numpy()
    truth, mask = data.labels.double().cpu().numpy(), data.mask.cpu().numpy()
    per_label, regression = {}, {}
    for i, label in enumerate(model.config.labels):
        measure = label.measure(predicted[mask[:, i], i], truth[mask[:, i], i])
        if "accuracy" in measure:
            per_label[label.name] = measure["accuracy"]
        else:
            regression[label.name] = measure
    accuracy = sum(per_label.values()) / len(per_label) if per_label else None
    return {"accuracy": accuracy, "per_label": per_label, "regression": regression}
