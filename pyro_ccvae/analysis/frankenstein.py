"""The Frankenstein test (poster 000): train on data where two binary labels A and B are
correlated, then ask the model for each combination (a, b), the rare ones included, and let an
independent oracle say which combination it got. The poster asked for "red one, green zero"
and got "green one, red zero".

Three ways of asking for (a, b):

    generation:   y ~ p(y) with y_A = a, y_B = b; z_c ~ p_psi(z_c | y), z_\\c ~ N(0, I); decode
                  (`model.generate`: every model that generates);
    intervention: test images with z_c^A and z_c^B set to the means of p_psi(z_c^i | y_i)
                  (`model.intervene`: every model that intervenes, with its own manipulation);
    mixing:       the poster's z_c mixing: each test image keeps its z_\\c and other blocks, and
                  takes z_c^A from a random test image whose true y_A = a and z_c^B from one whose
                  true y_B = b (CCVAE and DIVA: per-label blocks z_c^i).

The combination obtained is the oracle's reading (p > 1/2 for each of A and B). A combination
is "rare" when the training images hold it less often than independent labels with the same
marginals would (for a positive correlation: (0, 1) and (1, 0)).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from ..core.assignments import find_label
from ..datasets.h5format import ImageDataset
from ..datasets.tensors import unit_pixels
from ..devices import model_device
from ..errors import LabelError
from ..training.registry import why_not
from ..training.runs import load_model, load_run_data
from .evaluate import finite
from .metrics import Oracle
from .oracle import label_scorer, load_oracle

COMBINATIONS = ((0, 0), (0, 1), (1, 0), (1, 1))


def combination_index(values) -> np.ndarray:
    """0/1 values [N, 2] of (A, B) -> the index [N] of their combination in COMBINATIONS (2a + b)."""
    values = np.asarray(values)
    return (2 * values[:, 0] + values[:, 1]).astype(np.int64)


def combination_frequencies(values) -> np.ndarray:
    """The share [4] of rows holding each combination of COMBINATIONS (rows with NaN skipped)."""
    values = np.asarray(values, np.float64)
    values = values[~np.isnan(values).any(-1)]
    return np.bincount(combination_index(values.round()), minlength=4) / max(len(values), 1)


def rare_combinations(frequencies) -> np.ndarray:
    """bool [4]: the combinations held less often than under independence with the same marginals."""
    f = np.asarray(frequencies, np.float64)
    p_a, p_b = f[2] + f[3], f[1] + f[3]
    independent = np.array([(1 - p_a) * (1 - p_b), (1 - p_a) * p_b, p_a * (1 - p_b), p_a * p_b])
    return f < independent - 1e-12


def outcome_matrix(asked, obtained) -> np.ndarray:
    """M [4, 4]: row r, the share of the images asked for combination r that the oracle read as
    each combination (NaN rows for combinations never asked for)."""
    asked, obtained = np.asarray(asked), np.asarray(obtained)
    out = np.full((4, 4), np.nan)
    for r in range(4):
        rows = asked == r
        if rows.any():
            out[r] = np.bincount(obtained[rows], minlength=4) / rows.sum()
    return out


def summary(outcome: np.ndarray, rare: np.ndarray) -> dict:
    """Success rate per combination (the diagonal) and its mean over the rare and the common ones."""
    success = np.diag(outcome)
    return {
        "outcome": outcome.tolist(),
        "success": success.tolist(),
        "rare_success": float(np.nanmean(success[rare])) if rare.any() else float("nan"),
        "common_success": float(np.nanmean(success[~rare])) if (~rare).any() else float("nan"),
    }


@torch.no_grad()
def read_combination(oracle: Oracle, images: torch.Tensor, batch_size: int = 250) -> np.ndarray:
    """The combination index [N] the oracle (logits [N, 2] for A and B) reads in each image."""
    logits = torch.cat([oracle(images[s : s + batch_size]) for s in range(0, len(images), batch_size)])
    return combination_index((logits > 0).long().cpu().numpy())


@torch.no_grad()
def frankenstein_test(
    model,
    oracle: Oracle,
    data: ImageDataset,
    labels: Sequence[str],
    num: int = 500,
    generator: torch.Generator | None = None,
) -> dict:
    """The test for the binary labels `labels` = (A, B) of `model`, on `data` (the model's
    labels in its order: training frequencies, and test images for intervention and mixing):
    `num` generated images per combination, and the first `num` test images intervened on or
    mixed for each. `oracle` maps images to logits [N, 2] for A and B in that order. Returns
    {"labels", "combinations", "train_frequency", "rare", "modes": {mode: `summary`},
    "not_supported": {mode: reason}}."""
    generator = generator or torch.Generator().manual_seed(0)
    indices = _binary_pair(model, labels)
    train, test = data.split_indices("train"), data.split_indices("test")[:num]
    frequency = combination_frequencies(data.labels[train][:, indices])
    rare = rare_combinations(frequency)
    device = model_device(model)
    x = unit_pixels(torch.from_numpy(data.images[test]).to(device))
    truth = data.labels[test][:, indices]

    modes: dict[str, Callable[[tuple[int, int]], torch.Tensor]] = {}
    not_supported = {}
    if why_not(model, "conditional_generation") is None:
        modes["generation"] = lambda combo: _generate(model, indices, combo, num, generator)
    else:
        not_supported["generation"] = why_not(model, "conditional_generation")
    if why_not(model, "intervene") is None:
        modes["intervention"] = lambda combo: model.intervene(x, dict(zip(indices, map(float, combo))))
    else:
        not_supported["intervention"] = why_not(model, "intervene")
    if why_not(model, "probe") is None:
        modes["mixing"] = lambda combo: _mix(model, x, truth, indices, combo, generator)
    else:
        not_supported["mixing"] = why_not(model, "probe")

    results = {}
    for mode, ask in modes.items():
        asked, obtained = [], []
        for r, combo in enumerate(COMBINATIONS):
            images = ask(combo)
            asked.append(np.full(len(images), r))
            obtained.append(read_combination(oracle, images))
        results[mode] = summary(outcome_matrix(np.concatenate(asked), np.concatenate(obtained)), rare)
    return {
        "labels": list(labels),
        "combinations": [f"{labels[0]}={a}, {labels[1]}={b}" for a, b in COMBINATIONS],
        "train_frequency": frequency.tolist(),
        "rare": rare.tolist(),
        "modes": results,
        "not_supported": not_supported,
    }


def _binary_pair(model, labels: Sequence[str]) -> list[int]:
    """The model's indices of two different binary labels; LabelError otherwise."""
    if len(labels) != 2 or labels[0] == labels[1]:
        raise LabelError(f"the test takes two different labels, got {', '.join(labels) or 'none'}")
    indices = []
    for name in labels:
        index, label = find_label(model.config.labels, name)
        if not (label.discrete and label.num_classes() == 2):
            raise LabelError(f"{name} is {label.kind}: the test combines two-valued labels")
        indices.append(index)
    return indices


def _generate(model, indices, combo, num, generator) -> torch.Tensor:
    y = model.draw_labels(num, generator).to(model_device(model))
    for index, value in zip(indices, combo):
        y[:, index] = value
    return model.generate(y, generator)


def _mix(model, x, truth, indices, combo, generator) -> torch.Tensor:
    """x with z_c^A and z_c^B taken from random images of x whose true labels are the asked values."""
    z_c, z_s = model.encode(x)
    mixed = z_c.clone()
    for column, (index, value) in enumerate(zip(indices, combo)):
        donors = np.flatnonzero(truth[:, column] == value)
        if not donors.size:
            raise LabelError(f"no test image has {model.config.label_names[index]}={value} to take z_c from")
        pick = torch.from_numpy(donors)[torch.randint(len(donors), (len(x),), generator=generator)]
        mixed[:, index] = z_c[pick.to(z_c.device), index]
    return model.decode(mixed, z_s)


def frankenstein_run(
    run_dir,
    oracle_dir,
    labels: Sequence[str],
    device: torch.device | str = "cpu",
    dataset=None,
    num: int = 500,
    seed: int = 0,
) -> dict:
    """`frankenstein_test` of the run in `run_dir` on its data file (or `dataset`), scored by the
    oracle in `oracle_dir`; JSON-ready (NaN as None)."""
    model = load_model(run_dir, device)
    _binary_pair(model, labels)
    scorer = label_scorer(load_oracle(oracle_dir, device), list(labels), model.config.image_shape)
    data = load_run_data(run_dir, model, dataset)
    return finite(frankenstein_test(model, scorer, data, labels, num, torch.Generator().manual_seed(seed)))
