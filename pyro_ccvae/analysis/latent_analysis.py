"""The latent-space analyses of poster 000 for a trained run: where each label of the run's data
file lives (probes from z_c and from z_\\c, for the labels the model was trained on and the
others), how the dimensions of z_\\c correlate with them, and, with an oracle, how much each
label changes along each direction of z_\\c (every base vector e_k and every label's probe
direction W / |W|). See probe.py and directions.py for the pieces.

Probes and directions are fitted on (up to `max_train` random) training images and scored on
the test split; the labels are the data file's true labels (all of them, not only the run's
labelled subset). Latents are the means of q(z | x); z_c is all label blocks together.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..core.assignments import find_label
from ..datasets.tensors import unit_pixels
from ..devices import model_device
from ..training.registry import require
from ..training.runs import load_model, load_run_data
from .directions import DIRECTION_SPAN, direction_effects, label_direction, unit_direction
from .evaluate import finite
from .metrics import encode_rows, training_sample
from .oracle import label_scorer, load_oracle
from .probe import PROBES, label_columns, latent_label_correlations, main_score, probe_label

LATENTS = {"z_c": "all label blocks z_c^i", "z_s": "z_\\c, the latents no label explains"}


def probe_run(
    run_dir: str | Path,
    device: torch.device | str = "cpu",
    dataset: str | Path | None = None,
    max_train: int = 5000,
    seed: int = 0,
    oracle_dir: str | Path | None = None,
    span: float = DIRECTION_SPAN,
    effect_images: int = 200,
) -> dict:
    """The analyses of the run in `run_dir` on its data file (or `dataset`), JSON-ready:

    "labels": per label of the file, {"kind", "trained" (whether the model models it),
        "score" ("accuracy" or "r2"), "baseline", "z_c" and "z_s" (each {probe: measure})};
    "correlations": {"dimensions" (names of z_\\c's dimensions), "columns" (label columns, a
        class each for a label with more than two), "matrix" [m_s][C]}, Corr(z_\\c[k], y_l) on
        the training images;
    with `oracle_dir`, "direction_effects": {"span", "images", "oracle_labels", "directions"
        (names), "change" [D][J]: the oracle's mean p(y_j = 1) at alpha = span minus at -span
        over the first `effect_images` test images, "probe_score" (the label probe's test score
        of each W direction)}.
    """
    model = load_model(run_dir, device)
    require(model, "probe")
    data = load_run_data(run_dir, model, dataset, other_labels=True)
    labels, trained = data.labels_info, set(model.config.label_names)
    train_rows, test_rows = training_sample(data, max_train, seed), data.split_indices("test")
    zc_train, zs_train = encode_rows(model, data, train_rows)
    zc_test, zs_test = encode_rows(model, data, test_rows)
    latents = {
        "z_c": (zc_train.reshape(len(train_rows), -1), zc_test.reshape(len(test_rows), -1)),
        "z_s": (zs_train, zs_test),
    }
    y_train, y_test = data.labels[train_rows], data.labels[test_rows]

    per_label = {}
    for i, label in enumerate(labels):
        scores = {
            name: probe_label(label, train, y_train[:, i], test, y_test[:, i], seed=seed)
            for name, (train, test) in latents.items()
        }
        per_label[label.name] = {
            "kind": label.kind,
            "trained": label.name in trained,
            "score": "accuracy" if label.discrete else "r2",
            "baseline": scores["z_c"]["baseline"],
            **{name: {probe: s[probe] for probe in PROBES} for name, s in scores.items()},
        }
    columns, values = label_columns(labels, y_train)
    dimensions = [f"z_s[{k}]" for k in range(zs_train.shape[1])]
    result = {
        "model_labels": list(model.config.label_names),
        "train_images": len(train_rows),
        "test_images": len(test_rows),
        "probes": PROBES,
        "latents": LATENTS,
        "labels": per_label,
        "correlations": {
            "dimensions": dimensions,
            "columns": columns,
            "matrix": latent_label_correlations(zs_train, values).tolist(),
        },
    }
    if oracle_dir is not None:
        result["direction_effects"] = _direction_effects(
            model, oracle_dir, labels, zs_train, y_train, data, test_rows[:effect_images], span, result
        )
    return finite(result)


def _direction_effects(model, oracle_dir, labels, zs_train, y_train, data, rows, span, result) -> dict:
    """The "direction_effects" entry of `probe_run`."""
    net = load_oracle(oracle_dir, model_device(model))
    oracle_labels = list(net.config.label_names)
    scorer = label_scorer(net, oracle_labels, model.config.image_shape)
    directions = {name: unit_direction(zs_train.shape[1], k) for k, name in enumerate(result["correlations"]["dimensions"])}
    probe_scores = {}
    for i, label in enumerate(labels):
        name = f"W({label.name})"
        directions[name] = label_direction(label, zs_train, y_train[:, i])
        probe_scores[name] = main_score(result["labels"][label.name]["z_s"]["linear"])
    x = unit_pixels(torch.from_numpy(data.images[rows]).to(model_device(model)))
    means = direction_effects(model, scorer, x, directions, span, steps=2)
    return {
        "span": span,
        "images": len(rows),
        "oracle_labels": oracle_labels,
        "directions": list(directions),
        "change": [(m[-1] - m[0]).tolist() for m in means.values()],
        "probe_score": probe_scores,
    }


def run_label_direction(
    run_dir: str | Path, model, label: str, dataset: str | Path | None = None, max_train: int = 5000, seed: int = 0
) -> np.ndarray:
    """W / |W| in z_\\c for `label`, "NAME" or "NAME=VALUE", any label of the run's data file
    (see `directions.label_direction`), fitted on (up to `max_train`) training images."""
    require(model, "probe")
    data = load_run_data(run_dir, model, dataset, other_labels=True)
    name, sep, text = label.partition("=")
    index, found = find_label(data.labels_info, name.strip())
    rows = training_sample(data, max_train, seed)
    _, z_s = encode_rows(model, data, rows)
    return label_direction(found, z_s, data.labels[rows, index], found.parse(text) if sep else None)
