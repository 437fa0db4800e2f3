"""Classification accuracy of q_phi(y | z_c) at the mean of q_phi(z_c | x)."""

from __future__ import annotations

import torch

from .data import LabelledImages
from .model import CCVAE


@torch.no_grad()
def label_accuracy(model: CCVAE, data: LabelledImages, batch_size: int = 512) -> tuple[float, list[float]]:
    """(mean over labels, per-label accuracies), counting only observed labels."""
    correct = torch.zeros(data.labels.shape[1], device=data.labels.device)
    count = torch.zeros_like(correct)
    for x, y, mask in data.batches(batch_size):
        predicted = model.predict_proba(x) > 0.5
        correct += ((predicted == (y > 0.5)) & mask).sum(0)
        count += mask.sum(0)
    per_label = (correct / count.clamp(min=1)).tolist()
    return sum(per_label) / len(per_label), per_label
