"""Which training rows make up each step: plain batches, or stratified batches that hold a fixed
number of labelled rows, weighted so that every step's loss has the expectation of a plain one.

Eq. (6) is a sum over the labelled set S and the unlabelled set U. A plain batch of B rows drawn
from all N estimates it as (N / B) * its sum. With few labels most plain batches hold no
labelled row, or one: at f = 0.004 of 16,000 images a batch of 64 holds 0.26 on average. A
stratified batch takes B_l labelled rows (cycling through S, each pass in a new order) and
B_u = B - B_l unlabelled ones (one pass through U per epoch), and weighs them

    lambda_l = (B / N) * (N_l / B_l),    lambda_u = (B / N) * (N_u / B_u),

so that E[sum_i lambda_i L_i] = (B / N) * (sum_S L + sum_U L), the plain batch's expectation:
the objective is unchanged, each step sees labelled rows, and Adam's per-parameter
normalisation no longer sees the labelled rows' gradient as rare spikes
(docs/low_supervision.md measures what this does).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ..datasets.tensors import LabelledImages


class Batch(NamedTuple):
    rows: torch.Tensor  # [b] indices into the training rows (CPU)
    weights: torch.Tensor | None  # [b] per-row weights of the loss (CPU), None: all 1


def plain_batches(num_rows: int, batch_size: int, generator: torch.Generator) -> list[Batch]:
    """A random order of all rows, cut into batches of `batch_size`."""
    return [Batch(rows, None) for rows in torch.randperm(num_rows, generator=generator).split(batch_size)]


def stratified_batches(
    labelled: torch.Tensor, batch_size: int, labelled_per_batch: int, generator: torch.Generator
) -> list[Batch]:
    """Batches of `labelled_per_batch` labelled rows and `batch_size - labelled_per_batch`
    unlabelled ones, weighted as the module docstring says; `labelled` [N] (bool, CPU) marks
    the rows with at least one observed label. Plain batches (weights None) where stratifying
    changes nothing: no labelled or no unlabelled row, or plain batches that would already hold
    `labelled_per_batch` labelled rows on average."""
    labelled = labelled.cpu()
    n, n_l = labelled.numel(), int(labelled.sum())
    n_u = n - n_l
    b_l = min(labelled_per_batch, n_l, batch_size - 1)
    if n_l == 0 or n_u == 0 or b_l < 1 or n_l / n * batch_size >= labelled_per_batch:
        return plain_batches(n, batch_size, generator)
    b_u = batch_size - b_l
    unlabelled_rows = labelled.logical_not().nonzero().squeeze(1)
    labelled_rows = labelled.nonzero().squeeze(1)
    u = unlabelled_rows[torch.randperm(n_u, generator=generator)].split(b_u)
    passes = math.ceil(len(u) * b_l / n_l)
    cycled = torch.cat([labelled_rows[torch.randperm(n_l, generator=generator)] for _ in range(passes)])
    weight_l, weight_u = batch_size / n * n_l / b_l, batch_size / n * n_u / b_u
    batches = []
    for step, rows_u in enumerate(u):
        rows_l = cycled[step * b_l : (step + 1) * b_l]
        weights = torch.cat([torch.full((b_l,), weight_l), torch.full((len(rows_u),), weight_u)])
        batches.append(Batch(torch.cat([rows_l, rows_u]), weights))
    return batches


def epoch_batches(train: LabelledImages, batch_size: int, labelled_per_batch: int, generator: torch.Generator) -> list[Batch]:
    """One epoch's batches, drawn from `generator`: stratified when `labelled_per_batch` > 0."""
    if labelled_per_batch > 0:
        return stratified_batches(train.mask.any(-1), batch_size, labelled_per_batch, generator)
    return plain_batches(len(train), batch_size, generator)


def epoch_order(
    train: LabelledImages, step_size: int, labelled_per_batch: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """`epoch_batches` for steps of `step_size` rows laid end to end: the epoch's rows in the
    order they are trained on, and their weights (None for plain batches, all 1). A step takes
    the next `step_size` rows, so a position in the epoch is a number of rows (loop.py)."""
    batches = epoch_batches(train, step_size, labelled_per_batch, generator)
    rows = torch.cat([b.rows for b in batches])
    if batches[0].weights is None:
        return rows, None
    return rows, torch.cat([b.weights for b in batches])

