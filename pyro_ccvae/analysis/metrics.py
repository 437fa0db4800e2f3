"""The paper's quantitative measures of what a CCVAE's latent space does (Joy et al., ICLR
2021), plus ground-truth measures that only synthetic data with known factors allows.

Each measure is first a small function on arrays or tensors (tested against direct
computations), then a `measure_*` function that runs a model, and where needed an oracle, on
images to get those arrays. An oracle here is any callable images [B, C, S, S] -> logits
[B, L] over the model's labels in the model's order (see `oracle.label_scorer`).

The `measure_*` functions run a model only through the manipulations every model has
(`reconstruct`, `swap`, `generate`, `intervene`; see core/model.py and baselines/), so the baselines
are scored the same way, each with its own version of the manipulation (M2 and MVAE swap and
switch the labels themselves: they have no characteristic latents). `ground_truth_metrics`
reads z_c and z_\\c and needs a model that has them (CCVAE, DIVA).

Definitions chosen:
    swap score (Table 2): mean over (source, target) pairs and observed labels i of
        |log p_oracle(y_i = t_i | source image) - log p_oracle(y_i = t_i | swapped image)|,
        with t_i the source's true label and the swapped image `model.swap(source, target)`,
        for the CCVAE decoded from z_c of the source and z_\\c of the target (means of
        q(z | x)). Lower is better.
    conditional generation accuracy (Table 5): y_i ~ Bernoulli(1/2) independently (so that an
        oracle that ignores the images scores 1/2, the paper's "random guessing"), images
        `model.generate(y)` (for the CCVAE z_c ~ p_psi(z_c | y), z_\\c ~ N(0, I), decode); the
        fraction of labels the oracle predicts (probability > 1/2) as conditioned, mean over
        labels.
    intervention matrix (App. D.1, Fig. 10): M[i, j] = mean over test images of
        p_oracle(y_j = 1 | x with y_i set to 1) - p_oracle(y_j = 1 | x with y_i set to 0),
        x with y_i set being `model.intervene(x, {i: value})` (for the CCVAE z_c^i set to the
        mean of p_psi(z_c^i | y_i = value)); a change in probability (not log-probability,
        which is unbounded when the oracle is sure). Ideal: a large diagonal, zero elsewhere;
        its condition number is numpy.linalg.cond(M).
    reconstruction error: mean absolute pixel difference between test images and
        `model.reconstruct(x)`, the decoded means of q(z | x).
    ground truth (synthfaces): characteristic tracking, leakage into z_\\c, nuisances in z_c;
        see `ground_truth_metrics`.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..datasets.h5format import ImageDataset
from ..datasets.tensors import LabelledImages, unit_pixels
from ..devices import model_device
from .probe import probe_estimator

Oracle = Callable[[torch.Tensor], torch.Tensor]  # images [B, C, S, S] -> logits [B, L]

# Metrics on arrays ---------------------------------------------------------------------------


def log_prob_of(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """log p(y = labels) under Bernoulli(logits), elementwise."""
    return -F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype), reduction="none")


def swap_score(source_log_probs, swapped_log_probs, mask=None) -> float:
    """Table 2: mean |source_log_probs - swapped_log_probs| over the entries where `mask` is
    True (all when None). Both are [N, L] log-probabilities of the source's true labels."""
    a = np.asarray(torch.as_tensor(source_log_probs).detach().cpu(), np.float64)
    b = np.asarray(torch.as_tensor(swapped_log_probs).detach().cpu(), np.float64)
    m = np.ones(a.shape, bool) if mask is None else np.asarray(torch.as_tensor(mask).cpu(), bool)
    return float(np.abs(a - b)[m].mean()) if m.any() else float("nan")


def conditional_generation_accuracy(oracle_probs, conditioned) -> tuple[float, list[float]]:
    """Table 5: (mean over labels, per-label accuracy) of the oracle's predictions
    (probability > 1/2) against the labels the images were generated with, both [N, L]."""
    p = np.asarray(torch.as_tensor(oracle_probs).detach().cpu(), np.float64)
    y = np.asarray(torch.as_tensor(conditioned).detach().cpu(), np.float64)
    per_label = ((p > 0.5) == (y > 0.5)).mean(axis=0)
    return float(per_label.mean()), per_label.tolist()


def intervention_matrix(probs_on, probs_off) -> np.ndarray:
    """App. D.1: probs_on, probs_off [L, N, L] hold p_oracle(y_j = 1) for image n after setting
    y_i = 1 (on) or y_i = 0 (off), i on the first axis and j on the last. Returns M [L, L],
    M[i, j] = mean_n (probs_on - probs_off)[i, n, j]."""
    on = np.asarray(torch.as_tensor(probs_on).detach().cpu(), np.float64)
    off = np.asarray(torch.as_tensor(probs_off).detach().cpu(), np.float64)
    return (on - off).mean(axis=1)


def condition_number(matrix) -> float:
    """numpy.linalg.cond (2-norm): how far a square matrix is from a scaled identity."""
    return float(np.linalg.cond(np.asarray(matrix, np.float64)))


def reconstruction_error(x, reconstruction) -> float:
    """Mean absolute pixel difference."""
    return float((torch.as_tensor(x).double() - torch.as_tensor(reconstruction).double()).abs().mean())


# Ground-truth metrics on arrays (synthfaces) -------------------------------------------------


def spearman_within_classes(z, characteristic, labels) -> dict:
    """|Spearman rho| between a latent z [N] and a hidden characteristic [N] within each class
    of a discrete label [N] (NaN labels skipped): {"class_0", "class_1", ..., "mean"}, a key per
    class (0 and 1 for a binary label); a class with fewer than 3 images or constant values
    gives NaN and is left out of the mean."""
    from scipy.stats import spearmanr

    z, c, y = (np.asarray(a, np.float64).reshape(-1) for a in (z, characteristic, labels))
    out = {}
    for value in sorted({0, 1} | set(np.unique(y[~np.isnan(y)]).astype(int).tolist())):
        rows = y == value
        if rows.sum() < 3 or np.ptp(z[rows]) == 0 or np.ptp(c[rows]) == 0:
            out[f"class_{value}"] = float("nan")
        else:
            out[f"class_{value}"] = float(abs(spearmanr(z[rows], c[rows]).statistic))
    known = [v for v in out.values() if not np.isnan(v)]
    out["mean"] = float(np.mean(known)) if known else float("nan")
    return out


def leakage(z_train, y_train, z_test, y_test, discrete: Sequence[bool] | None = None) -> list[dict]:
    """How well each label can be predicted from latents it should not be in (z_\\c), on
    standardised features fitted on the training rows and scored on the test rows (labels
    [N, L] may hold NaN, skipped), by whether the label is discrete (default: all are):

    - discrete (binary, categorical): {"accuracy" of a logistic regression, "majority_baseline",
      the accuracy of always predicting the training majority class};
    - continuous: {"r2" of a linear regression}, 0 being no better than the training mean (the
      poster's leakage probe: age from z_\\c).
    """
    from sklearn.metrics import r2_score

    z_train, z_test = np.asarray(z_train, np.float64), np.asarray(z_test, np.float64)
    y_train, y_test = np.asarray(y_train, np.float64), np.asarray(y_test, np.float64)
    results = []
    for i, is_discrete in enumerate(discrete or [True] * y_train.shape[1]):
        tr, te = ~np.isnan(y_train[:, i]), ~np.isnan(y_test[:, i])
        if not is_discrete:
            if te.sum() < 2 or tr.sum() < 2:
                results.append({"r2": float("nan")})
                continue
            regression = probe_estimator("linear", discrete=False).fit(z_train[tr], y_train[tr, i])
            results.append({"r2": float(r2_score(y_test[te, i], regression.predict(z_test[te])))})
            continue
        yt, ye = np.round(y_train[tr, i]).astype(int), np.round(y_test[te, i]).astype(int)
        majority = int(np.bincount(yt).argmax()) if yt.size else 0
        baseline = float(np.mean(ye == majority)) if ye.size else float("nan")
        if ye.size == 0:
            accuracy = float("nan")
        elif np.unique(yt).size < 2:
            accuracy = baseline
        else:
            classifier = probe_estimator("linear", discrete=True).fit(z_train[tr], yt)
            accuracy = float(np.mean(classifier.predict(z_test[te]) == ye))
        results.append({"accuracy": accuracy, "majority_baseline": baseline})
    return results


def regression_r2(z_train, f_train, z_test, f_test) -> list[float]:
    """Test R^2 of a linear regression from z to each column of f (fitted on the training
    rows): how much of each nuisance factor the latents z (here z_c) carry."""
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import r2_score

    f_train, f_test = np.asarray(f_train, np.float64), np.asarray(f_test, np.float64)
    predicted = LinearRegression().fit(np.asarray(z_train, np.float64), f_train).predict(np.asarray(z_test, np.float64))
    return [float(r2_score(f_test[:, k], predicted[:, k])) for k in range(f_test.shape[1])]


# Running a model (and an oracle) ---------------------------------------------------------------


def _images(split: LabelledImages, rows: torch.Tensor) -> torch.Tensor:
    return unit_pixels(split.images[rows])


@torch.no_grad()
def encode_rows(model, data: ImageDataset, rows: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Means of q(z | x) of the images `rows` of a data file, as arrays: z_c [N, L, d], z_s [N, m_s]."""
    device = model_device(model)
    parts = []
    for start in range(0, len(rows), batch_size):
        x = unit_pixels(torch.from_numpy(data.images[rows[start : start + batch_size]]).to(device))
        parts.append(model.encode(x))
    return torch.cat([p[0] for p in parts]).cpu().numpy(), torch.cat([p[1] for p in parts]).cpu().numpy()


@torch.no_grad()
def encode_split(model, split: LabelledImages, batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Means of q(z | x) for a whole split: z_c [N, L, d], z_s [N, m_s]."""
    parts = [model.encode(x) for x, _, _ in split.batches(batch_size)]
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


@torch.no_grad()
def measure_prior_offset(model, split: LabelledImages, batch_size: int = 256, min_images: int = 10) -> dict:
    """How far p_psi(z_c^i | y_i = v) sits from where the encoder puts the images of class v
    (docs/generation.md): |mean of the prior - mean of the encoder means| / the class's spread
    (the sd of the encoder means combined with q(z_c^i | x)'s mean scale), for each discrete label
    averaged over its classes with at least `min_images` images: {"mean", "per_label"}. About 0
    where generation draws z_c where images of the class are encoded; above 1, elsewhere."""
    locs, scales, labels = [], [], []
    for x, y, _ in split.batches(batch_size):
        loc, scale = model.encoder(x)
        locs.append(model.split_z(loc)[0]), scales.append(model.split_z(scale)[0]), labels.append(y)
    z_c, q_scale, y = torch.cat(locs), torch.cat(scales), torch.cat(labels)  # [N, L, d], [N, L, d], [N, L]
    prior_means = model.conditional_prior(y).mean  # [N, L, d], each row's own labels
    per_label = {}
    for i, label in enumerate(model.config.labels):
        if not label.discrete:
            continue
        offsets = []
        for value in y[:, i].unique():
            rows = y[:, i] == value
            if rows.sum() < min_images:
                continue
            spread = (z_c[rows, i].var(0) + q_scale[rows, i].square().mean(0)).mean().sqrt()
            offsets.append(((prior_means[rows, i][0] - z_c[rows, i].mean(0)).norm() / spread).item())
        per_label[label.name] = mean(offsets)
    return {"mean": mean(per_label.values()), "per_label": per_label}


@torch.no_grad()
def measure_reconstruction_error(model, split: LabelledImages, batch_size: int = 256) -> float:
    """Mean absolute pixel error of the reconstructions `model.reconstruct(x)`."""
    total, count = 0.0, 0
    for x, _, _ in split.batches(batch_size):
        total += (model.reconstruct(x) - x).abs().sum().item()
        count += x.numel()
    return total / count


def _derangement(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(sources, targets): a random order of 0..n-1 and, for each, a different image."""
    order = torch.randperm(n, generator=generator)
    return order, order.roll(1) if n > 1 else order


@torch.no_grad()
def measure_swap_score(
    model,
    oracle: Oracle,
    split: LabelledImages,
    num_pairs: int = 1000,
    batch_size: int = 256,
    generator: torch.Generator | None = None,
    pairs: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> float:
    """Table 2 on (source, target) pairs of images of `split`: see `swap_score` and the module
    docstring. `pairs` (two index tensors) defaults to up to `num_pairs` random pairs of
    distinct images, each image a source at most once."""
    if pairs is None:
        sources, targets = _derangement(len(split), generator or torch.Generator().manual_seed(0))
        pairs = sources[:num_pairs], targets[:num_pairs]
    sources, targets = pairs
    device = split.images.device
    before, after, masks = [], [], []
    for start in range(0, len(sources), batch_size):
        s = sources[start : start + batch_size].to(device)
        t = targets[start : start + batch_size].to(device)
        x_source = _images(split, s)
        swapped = model.swap(x_source, _images(split, t))
        truth = split.labels[s]
        before.append(log_prob_of(oracle(x_source), truth))
        after.append(log_prob_of(oracle(swapped), truth))
        masks.append(split.mask[s])
    return swap_score(torch.cat(before), torch.cat(after), torch.cat(masks))


@torch.no_grad()
def measure_conditional_generation(
    model,
    oracle: Oracle,
    num: int = 1000,
    batch_size: int = 256,
    generator: torch.Generator | None = None,
) -> tuple[float, list[float]]:
    """Table 5 with `num` generated images: (mean, per-label) oracle accuracy on labels drawn
    y_i ~ Bernoulli(1/2); see the module docstring."""
    generator = generator or torch.Generator().manual_seed(0)
    device = model_device(model)
    probs, labels = [], []
    for start in range(0, num, batch_size):
        count = min(batch_size, num - start)
        y = torch.bernoulli(torch.full((count, model.config.num_labels), 0.5), generator=generator).to(device)
        probs.append(torch.sigmoid(oracle(model.generate(y, generator))))
        labels.append(y)
    return conditional_generation_accuracy(torch.cat(probs), torch.cat(labels))


@torch.no_grad()
def measure_intervention_matrix(
    model, oracle: Oracle, split: LabelledImages, max_images: int = 500, batch_size: int = 256
) -> np.ndarray:
    """App. D.1 / Fig. 10 on the first `max_images` images of `split`: for each label i, every
    image is intervened on with y_i = 1 and with y_i = 0 (`model.intervene`; for the CCVAE
    z_c^i set to the mean of p_psi(z_c^i | y_i), the rest kept at the image's encoding), and
    the oracle's probabilities of every label compared; see `intervention_matrix`."""
    num_labels = model.config.num_labels
    on = [[] for _ in range(num_labels)]
    off = [[] for _ in range(num_labels)]
    for start in range(0, min(len(split), max_images), batch_size):
        rows = torch.arange(start, min(start + batch_size, len(split), max_images), device=split.images.device)
        x = _images(split, rows)
        for i in range(num_labels):
            for value, store in ((1.0, on), (0.0, off)):
                store[i].append(torch.sigmoid(oracle(model.intervene(x, {i: value}))))
    return intervention_matrix(
        torch.stack([torch.cat(p) for p in on]), torch.stack([torch.cat(p) for p in off])
    )


def training_sample(data: ImageDataset, max_rows: int, seed: int = 0) -> np.ndarray:
    """The training rows of a data file, or `max_rows` of them drawn at random (sorted)."""
    rows = data.split_indices("train")
    if len(rows) > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_rows, replace=False))
    return rows
def mean(values) -> float:
    """The mean of the values that are not NaN (NaN if none is)."""
    values = [v for v in values if not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def visible_classes(data: ImageDataset) -> tuple[dict[str, list[int]] | None, str]:
    """({factor "char_<Label>": the label's classes in which it is drawn} or None, where that
    came from): the data file's attribute `characteristic_classes`; for a synthfaces file
    written before it had one, the drawing's own table; else None (every class counts)."""
    from ..datasets import synthfaces

    recorded = data.extra_attrs.get("characteristic_classes")
    if recorded is not None:
        return {k: [int(c) for c in v] for k, v in recorded.items()}, "data file"
    variants = {"synthfaces": "binary", "synthfaces-mixed": "mixed"}
    if data.name in variants:
        return synthfaces.characteristic_classes(variants[data.name]), "synthfaces drawing (older file)"
    return None, "not recorded: all classes"


@torch.no_grad()
def ground_truth_metrics(
    model,
    data: ImageDataset,
    max_train: int = 5000,
    batch_size: int = 256,
    seed: int = 0,
) -> dict:
    """What only known factors allow (`data.factors`, e.g. synthfaces), from the means of
    q(z | x), split into z_c and z_\\c (CCVAE, DIVA); `data` carries the model's labels in the
    model's order.

    characteristic_tracking: per discrete label i with a factor "char_<label>", |Spearman rho|
        between z_c^i (its first dimension when d > 1) and that hidden characteristic within
        each class of y_i on the test split (`spearman_within_classes`), their mean over all
        classes ("mean") and over the classes in which the characteristic is drawn
        ("mean_visible"; see `visible_classes`: in the others it does not change the image, so
        any correlation there is noise by construction); "mean" and "mean_visible" average
        these over labels, and "visible_from" says where the visible classes came from.
    leakage: per label, test accuracy of a logistic regression from z_\\c, fitted on (up to
        `max_train` random) training images, next to the majority-class baseline, or for a
        continuous label the R^2 of a linear regression (`leakage`); close to the baseline
        (R^2 near 0) means z_\\c holds no label information.
    nuisance_r2: per factor not named "char_*", the test R^2 of a linear regression from z_c
        (all blocks), fitted on the same training images (`regression_r2`); near 0 means z_c
        leaves the nuisances to z_\\c.
    """
    if data.factors is None:
        raise ValueError("ground-truth metrics need a data set with factors")
    train_rows = training_sample(data, max_train, seed)
    test_rows = data.split_indices("test")
    zc_train, zs_train = encode_rows(model, data, train_rows, batch_size)
    zc_test, zs_test = encode_rows(model, data, test_rows, batch_size)
    labels = model.config.labels
    names = [label.name for label in labels]
    factor_names = list(data.factor_names)
    visible, visible_from = visible_classes(data)
    tracking = {}
    for i, name in enumerate(names):
        factor = f"char_{name}"
        if factor in factor_names and labels[i].discrete:
            column = factor_names.index(factor)
            rho = spearman_within_classes(zc_test[:, i, 0], data.factors[test_rows, column], data.labels[test_rows, i])
            shown = visible.get(factor) if visible is not None else None
            shown = [int(k.removeprefix("class_")) for k in rho if k != "mean"] if shown is None else shown
            values = [rho[f"class_{c}"] for c in shown if f"class_{c}" in rho]
            tracking[name] = {**rho, "visible_classes": shown, "mean_visible": mean(values)}
    discrete = [label.discrete for label in labels]
    leaks = dict(zip(names, leakage(zs_train, data.labels[train_rows], zs_test, data.labels[test_rows], discrete)))
    nuisances = [k for k, n in enumerate(factor_names) if not n.startswith("char_")]
    r2 = regression_r2(
        zc_train.reshape(len(train_rows), -1),
        data.factors[train_rows][:, nuisances],
        zc_test.reshape(len(test_rows), -1),
        data.factors[test_rows][:, nuisances],
    ) if nuisances else []

    return {
        "characteristic_tracking": {
            "per_label": tracking,
            "mean": mean([t["mean"] for t in tracking.values()]),
            "mean_visible": mean([t["mean_visible"] for t in tracking.values()]),
            "visible_from": visible_from,
        },
        "leakage": {
            "per_label": leaks,
            "mean_accuracy": mean([v["accuracy"] for v in leaks.values() if "accuracy" in v]),
            "mean_majority_baseline": mean([v["majority_baseline"] for v in leaks.values() if "accuracy" in v]),
        },
        "nuisance_r2": {
            "per_factor": {factor_names[k]: v for k, v in zip(nuisances, r2)},
            "mean": mean(r2),
        },
    }
