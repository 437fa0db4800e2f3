"""Test-set evaluation of a trained run: classification accuracy and, for continuous labels,
mean absolute error and R^2 (`label_scores`; accuracy is Table 1),
reconstruction error, and with an oracle the swap score (Table 2), conditional-generation
accuracy (Table 5) and intervention matrix (App. D.1); see metrics.py. Any model of
training.registry.MODELS: a measure the model cannot take is None, with the reason in
"not_supported"."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from ..core.kinds import BinaryLabel
from ..datasets.tensors import split_tensors
from ..devices import model_device
from ..training.checkpoint import load_config
from ..training.registry import why_not
from ..training.runs import load_model, load_run_data, saved_model_name
from ..training.validation import label_scores
from .metrics import (
    condition_number,
    ground_truth_metrics,
    measure_conditional_generation,
    measure_intervention_matrix,
    measure_prior_offset,
    measure_reconstruction_error,
    measure_swap_score,
)
from .fid import load_inception, measure_frechet_distances, oracle_features
from .oracle import label_scorer, load_oracle


def finite(value):
    """NaN/inf -> None, recursively, so that the JSON is standard."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def evaluate_run(
    run_dir: str | Path,
    device: torch.device | str = "cpu",
    dataset: str | Path | None = None,
    oracle_dir: str | Path | None = None,
    samples: int = 1000,
    seed: int = 0,
    figure: str | Path | None = None,
    inception_weights: str | Path | None = None,
) -> dict:
    """The test-set measures of the run in `run_dir` on its data file (or `dataset`), as a
    JSON-ready dict (NaN as None): "model" (its name), "accuracy", "per_label" and "regression"
    (see `label_scores`), "test_images",
    "reconstruction_error"; with `oracle_dir` also "swap_score" (at most `samples` pairs),
    "conditional_generation_accuracy" (and per label, from `samples` images),
    "intervention_matrix" and its condition number, drawn to `figure` (default
    RUN/intervention_matrix.png), and "oracle_frechet_distance" (Fréchet distance between
    generated and test images in the oracle's features); with `inception_weights` (a local
    Inception-v3 weights file) "fid" (Table 4); both from `samples` generations and as many test
    images (fid.py); on data with ground-truth factors "ground_truth"; "prior_offset" (how far
    p_psi(z_c | y) sits from the encoded classes, `measure_prior_offset`). `seed` fixes the swap
    pairs and the generated labels. "not_supported" maps each measure the model cannot take
    (set to None) to the reason."""
    config = load_config(run_dir)
    model = load_model(run_dir, device)
    not_binary = [f"{label.name} ({label.kind})" for label in model.config.labels if not isinstance(label, BinaryLabel)]
    scorer = oracle = None
    if oracle_dir is not None and not not_binary:
        oracle = load_oracle(oracle_dir, device)
        scorer = label_scorer(oracle, model.config.label_names, model.config.image_shape)
    data = load_run_data(run_dir, model, dataset)
    test = split_tensors(data, "test", model_device(model))
    names = model.config.label_names
    result = {
        "model": saved_model_name(config),
        **label_scores(model, test),
        "test_images": len(test),
        "reconstruction_error": measure_reconstruction_error(model, test),
        "not_supported": {},
    }

    def supported(key: str, task: str) -> bool:
        reason = why_not(model, task)
        if reason is not None:
            result[key] = None
            result["not_supported"][key] = reason
        return reason is None

    if oracle_dir is not None and not_binary:
        reason = "the oracle measures are defined for binary labels; this model also has " + ", ".join(not_binary)
        for key in ("swap_score", "conditional_generation_accuracy", "intervention_matrix", "oracle_frechet_distance"):
            result[key] = None
            result["not_supported"][key] = reason
    distances = {}
    if scorer is not None:
        distances["oracle_frechet_distance"] = oracle_features(oracle)
    if inception_weights is not None:
        distances["fid"] = load_inception(inception_weights, model_device(model))
    distances = {key: f for key, f in distances.items() if supported(key, "conditional_generation")}
    if distances:
        generator = torch.Generator().manual_seed(seed)
        result.update(measure_frechet_distances(model, test, distances, samples, generator=generator))
    if scorer is not None:
        if supported("swap_score", "swap"):
            generator = torch.Generator().manual_seed(seed)
            result["swap_score"] = measure_swap_score(model, scorer, test, samples, generator=generator)
        if supported("conditional_generation_accuracy", "conditional_generation"):
            generator = torch.Generator().manual_seed(seed)
            mean, per = measure_conditional_generation(model, scorer, samples, generator=generator)
            result["conditional_generation_accuracy"] = mean
            result["conditional_generation_per_label"] = dict(zip(names, per))
        if supported("intervention_matrix", "intervene"):
            from .plots import intervention_matrix_figure  # matplotlib only when needed

            matrix = measure_intervention_matrix(model, scorer, test)
            result["intervention_matrix"] = matrix.tolist()
            result["intervention_condition_number"] = condition_number(matrix)
            result["intervention_figure"] = str(figure or Path(run_dir) / "intervention_matrix.png")
            intervention_matrix_figure(matrix, names, result["intervention_condition_number"], result["intervention_figure"])
    if supported("prior_offset", "diversity"):
        result["prior_offset"] = measure_prior_offset(model, test)
    if data.factors is not None and supported("ground_truth", "ground_truth"):
        result["ground_truth"] = ground_truth_metrics(model, data)
    return finite(result)
