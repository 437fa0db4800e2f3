"""The classical classifiers of the poster's benchmark table (../shared/papers/000: CNN, SVM,
logistic regression, random forest, k-NN), on the same splits as the VAEs.

Binary labels only, one classifier per label (the CNN: one network with one output per label),
trained only on the training rows where that label is observed (`train_mask`) and scored on the
test rows where it is observed (`test_mask`). Inputs are the images as grayscale, downsampled
by area averaging to `side` x `side` (16 x 16 by default) and flattened ("pixels"), or the
first `pca_components` principal components of those pixels ("pca"), a fixed feature map fitted
on the training images (labelled or not: PCA uses no labels). The CNN always sees the
downsampled grayscale images. SVM, logistic regression and k-NN see standardised features.

Runtime: each label's training rows are subsampled (fixed seed) to at most `max_train_rows`
(5,000 by default) for every method; an RBF SVM and k-NN on all of CelebA's labelled rows would
take far longer than the VAEs' evaluation. The CNN is small (two 3x3 conv layers) and trains
for `cnn_epochs` epochs with Adam.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..rng import seeded

METHODS = ("cnn", "svm", "logreg", "random_forest", "knn")
FEATURES = ("pixels", "pca")


def grayscale_pixels(images, side: int = 16) -> torch.Tensor:
    """Images [N, C, S, S] (uint8 0-255 or float 0-1; [N, S, S] for one channel) -> grayscale
    [N, 1, s, s] floats in [0, 1], area-averaged to s = min(side, S)."""
    x = torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images)
    x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
    if x.dim() == 3:
        x = x.unsqueeze(1)
    gray = x.mean(1, keepdim=True)
    side = min(side, gray.shape[-1])
    return F.adaptive_avg_pool2d(gray, side) if gray.shape[-1] != side else gray


def _pixel_note(pixels: torch.Tensor) -> str:
    return f"pixels ({pixels.shape[-1]}x{pixels.shape[-1]} grayscale)"


def _features(train_pixels: torch.Tensor, test_pixels: torch.Tensor, features: str, pca_components: int, seed: int):
    train = train_pixels.flatten(1).numpy()
    test = test_pixels.flatten(1).numpy()
    if features == "pixels":
        return train, test, _pixel_note(train_pixels)
    from sklearn.decomposition import PCA

    components = min(pca_components, train.shape[0], train.shape[1])
    pca = PCA(n_components=components, random_state=seed).fit(train)
    side = train_pixels.shape[-1]
    return pca.transform(train), pca.transform(test), f"pca ({components} components of {side}x{side} grayscale)"


def _sklearn_classifier(method: str, seed: int):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if method == "svm":
        return make_pipeline(StandardScaler(), SVC(kernel="rbf", C=1.0, gamma="scale", random_state=seed))
    if method == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    if method == "random_forest":
        return RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1)
    if method == "knn":
        return make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5))
    raise ValueError(f"unknown method {method!r}")


def _subsample(rows: np.ndarray, limit: int | None, rng: np.random.Generator) -> np.ndarray:
    if limit is None or len(rows) <= limit:
        return rows
    return np.sort(rng.choice(rows, size=limit, replace=False))


class SmallCNN(nn.Module):
    """[N, 1, s, s] -> logits [N, L]: two 3x3 conv layers, pooled to 4x4, and two linear layers."""

    def __init__(self, num_labels: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(32 * 16, 64), nn.ReLU(), nn.Linear(64, num_labels),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _cnn_predictions(train_x, train_y, train_mask, test_x, epochs: int, seed: int, batch_size: int = 64) -> np.ndarray:
    """Fits SmallCNN with the binary cross-entropy of the observed labels; test predictions [N, L]."""
    generator = torch.Generator().manual_seed(seed)
    with seeded(seed):
        net = SmallCNN(train_y.shape[1])
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    mean, std = train_x.mean(), train_x.std().clamp(min=1e-6)
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    observed = train_mask.float()
    for _ in range(epochs):
        for rows in torch.randperm(len(train_x), generator=generator).split(batch_size):
            loss = F.binary_cross_entropy_with_logits(net(train_x[rows]), train_y[rows], reduction="none")
            loss = (loss * observed[rows]).sum() / observed[rows].sum().clamp(min=1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        return (net(test_x) > 0).numpy()


def classical_scores(
    train_images,
    train_labels,
    train_mask,
    test_images,
    test_labels,
    test_mask,
    methods: Sequence[str] = METHODS,
    features: str = "pixels",
    side: int = 16,
    pca_components: int = 50,
    max_train_rows: int | None = 5000,
    cnn_epochs: int = 20,
    seed: int = 0,
) -> dict[str, dict]:
    """Test accuracy of each classical method, per label and averaged over labels.

    images: [N, C, S, S] (uint8 or floats in [0, 1]); labels: [N, L] 0/1; mask: [N, L] bool,
    True where a label is observed (None: all observed). Tensors or arrays.
    Returns {method: {"accuracy": mean over labels, "per_label": [L floats], "features": what
    the method saw, "train_rows": [rows used per label]}}; a label with no observed test row
    scores NaN and is left out of the mean. A label with one class among its training rows is
    predicted as that class.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    if features not in FEATURES:
        raise ValueError(f"features must be one of {', '.join(FEATURES)}, got {features!r}")
    train_y = _as_array(train_labels).astype(np.float32) > 0.5
    test_y = _as_array(test_labels).astype(np.float32) > 0.5
    train_m = np.ones_like(train_y) if train_mask is None else _as_array(train_mask).astype(bool)
    test_m = np.ones_like(test_y) if test_mask is None else _as_array(test_mask).astype(bool)
    num_labels = train_y.shape[1]
    train_pixels, test_pixels = grayscale_pixels(train_images, side), grayscale_pixels(test_images, side)
    rng = np.random.default_rng(seed)
    rows_per_label = [_subsample(np.flatnonzero(train_m[:, i]), max_train_rows, rng) for i in range(num_labels)]

    results = {}
    sklearn_methods = [m for m in methods if m != "cnn"]
    if sklearn_methods:
        train_f, test_f, note = _features(train_pixels, test_pixels, features, pca_components, seed)
        for method in sklearn_methods:
            predictions = np.zeros_like(test_y)
            for i, rows in enumerate(rows_per_label):
                targets = train_y[rows, i]
                if len(rows) == 0 or targets.all() or not targets.any():
                    predictions[:, i] = bool(len(rows)) and bool(targets.all())
                    continue
                predictions[:, i] = _sklearn_classifier(method, seed).fit(train_f[rows], targets).predict(test_f)
            results[method] = _scores(predictions, test_y, test_m, note, rows_per_label)
    if "cnn" in methods:
        rows = np.unique(np.concatenate(rows_per_label))  # the rows any label's classifier may use
        used = np.zeros_like(train_m)
        for i, label_rows in enumerate(rows_per_label):
            used[label_rows, i] = True
        index = torch.as_tensor(rows, dtype=torch.long)
        predictions = _cnn_predictions(
            train_pixels[index], torch.as_tensor(train_y[rows], dtype=torch.float32), torch.as_tensor(used[rows]),
            test_pixels, cnn_epochs, seed,
        )  # fmt: skip
        results["cnn"] = _scores(predictions, test_y, test_m, _pixel_note(train_pixels), rows_per_label)
    return {m: results[m] for m in methods}


def _as_array(values) -> np.ndarray:
    return values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)


def _scores(predictions, truth, mask, note: str, rows_per_label) -> dict:
    per_label = []
    for i in range(truth.shape[1]):
        observed = mask[:, i]
        per_label.append(float((predictions[observed, i] == truth[observed, i]).mean()) if observed.any() else math.nan)
    scored = [a for a in per_label if not math.isnan(a)]
    return {
        "accuracy": sum(scored) / len(scored) if scored else math.nan,
        "per_label": per_label,
        "features": note,
        "train_rows": [len(r) for r in rows_per_label],
    }
