"""Test-set evaluation of a trained run: classification accuracy and, for continuous labels,
mean absolute error and R^2 (`label_scores`; accuracy is Table 1),
reconstruction error, and with an oracle the swap score (Table 2), conditional-generation
accuracy (Table 5) and intervention matrix (App. D.1); see metrics.py. Any model of
models.MODELS: a measure the model cannot take is None, with the reason in "not_supported"."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from .checkpoint import data_for_run, load_config, load_model, saved_model_name
from .data import LabelledImages, split_tensors
from .datasets import load_dataset
from .devices import model_device
from .metrics import (
    condition_number,
    ground_truth_metrics,
    measure_conditional_generation,
    measure_intervention_matrix,
    measure_reconstruction_error,
    measure_swap_score,
)
from .models import why_not
from .oracle import label_scorer, load_oracle


@torch.no_grad()
def label_scores(model, data: LabelledImages, batch_size: int = 512) -> dict:
    """How well `model.predict(x)` recovers the observed labels of `data` (for the CCVAE, q(y|z_c)
    at the mean of q(z_c|x)):

    - "per_label": {name: accuracy} of each binary or categorical label;
    - "accuracy": their mean (None if there are none);
    - "regression": {name: {"mae": mean absolute error, "r2": 1 - SSE / SST}} of each continuous
      label, SST around the mean of the observed values scored.
    """
    names, kinds = model.config.label_names, model.config.label_kinds
    sums = torch.zeros(6, len(names), dtype=torch.float64, device=data.device)  # count, correct, |e|, e^2, y, y^2
    for x, y, mask in data.batches(batch_size):
        predicted, obs = model.predict(x).double(), mask.double()
        y = y.double()
        error = predicted - y
        sums += torch.stack([obs, obs * (error == 0), obs * error.abs(), obs * error**2, obs * y, obs * y**2]).sum(1)
    count, correct, abs_error, sq_error, total, total_sq = sums.tolist()
    per_label, regression = {}, {}
    for i, (name, kind) in enumerate(zip(names, kinds)):
        n = max(count[i], 1.0)
        if kind == "continuous":
            spread = total_sq[i] - total[i] ** 2 / n
            r2 = 1 - sq_error[i] / spread if spread > 0 else math.nan
            regression[name] = {"mae": abs_error[i] / n, "r2": r2}
        else:
            per_label[name] = correct[i] / n
    accuracy = sum(per_label.values()) / len(per_label) if per_label else None
    return {"accuracy": accuracy, "per_label": per_label, "regression": regression}


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
) -> dict:
    """The test-set measures of the run in `run_dir` on its data file (or `dataset`), as a
    JSON-ready dict (NaN as None): "model" (its name), "accuracy", "per_label" and "regression"
    (see `label_scores`), "test_images",
    "reconstruction_error"; with `oracle_dir` also "swap_score" (at most `samples` pairs),
    "conditional_generation_accuracy" (and per label, from `samples` images),
    "intervention_matrix" and its condition number, drawn to `figure` (default
    RUN/intervention_matrix.png); on data with ground-truth factors "ground_truth". `seed`
    fixes the swap pairs and the generated labels. "not_supported" maps each measure the
    model cannot take (set to None) to the reason."""
    config = load_config(run_dir)
    model = load_model(run_dir, device)
    not_binary = [f"{n} ({k})" for n, k in zip(model.config.label_names, model.config.label_kinds) if k != "binary"]
    scorer = None
    if oracle_dir is not None and not not_binary:
        scorer = label_scorer(load_oracle(oracle_dir, device), model.config.label_names, model.config.image_shape)
    path = dataset or config["model"]["dataset"]["path"]
    data = data_for_run(model.config, load_dataset(path), run_dir, path)
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
        for key in ("swap_score", "conditional_generation_accuracy", "intervention_matrix"):
            result[key] = None
            result["not_supported"][key] = reason
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
    if data.factors is not None and supported("ground_truth", "ground_truth"):
        result["ground_truth"] = ground_truth_metrics(model, data)
    return finite(result)
