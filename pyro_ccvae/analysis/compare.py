"""The comparison of the paper's Tables 1, 2 and 5: several models trained on the same data
with the same seed (so the same labelled rows and the same draws of the data order), each
evaluated on the same test split with the same oracle, and optionally the classical
classifiers on the same labelled training rows and the same test split.

`compare` writes OUT/<model>/ (a run folder, as `fit` writes, plus evaluation.json), and
OUT/comparison.json and OUT/comparison.md with one row per model: accuracy, swap score,
conditional-generation accuracy, reconstruction error (None / n/a where a measure does not
apply: no oracle, or a model that cannot take it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Sequence

import torch

from ..datasets import read_dataset, resolve_dataset
from ..datasets.tensors import split_tensors
from ..errors import RunExists, UnknownModel
from ..training import checkpoint
from ..training.build import prepare_data
from ..training.config import ModelOptions, TrainConfig
from ..training.registry import MODELS, spec_of
from ..training.runs import train_new_run
from .classical import METHODS, classical_scores
from .evaluate import evaluate_run, finite

COLUMNS = {  # key in the JSON: column header in the markdown table
    "accuracy": "accuracy (Table 1)",
    "swap_score": "swap score (Table 2, lower is better)",
    "conditional_generation_accuracy": "conditional generation (Table 5)",
    "reconstruction_error": "reconstruction error",
}
JSON_FILE, MARKDOWN_FILE, EVALUATION_FILE = "comparison.json", "comparison.md", "evaluation.json"


def compare(
    config: TrainConfig,
    out_dir: str | Path,
    models: Sequence[str] = tuple(MODELS),
    device: torch.device | str = "cpu",
    data_dir: str | Path | None = None,
    oracle_dir: str | Path | None = None,
    classical: Sequence[str] = (),
    samples: int = 1000,
    force: bool = False,
    on_model: Callable[[str, str], None] | None = None,
    on_step: Callable[[torch.Tensor], None] | None = None,
    on_epoch: Callable[[dict], None] | None = None,
) -> dict:
    """Trains each model in `models` with `config` (data, labelled fraction, epochs, batch
    size, lr, seed; each model's objective with its defaults) in OUT/<model>, evaluates it
    (`evaluate.evaluate_run`, with `oracle_dir` if given, `samples` swap pairs and generated
    images), scores the `classical` classifiers, and writes and returns the comparison
    {"models": {name: row}, "classical": {method: scores}, "settings": {...}}.

    Names are checked, and the run folders (RunExists if one holds a run, unless `force`),
    before anything is trained. `on_model(name, stage)` reports each model's "training" and
    "evaluating" (and the classical classifiers' training as name "classical"); `on_step` and
    `on_epoch` are passed to `training.loop.fit`."""
    models = list(dict.fromkeys(spec_of(name).name for name in models))
    if not models:
        raise UnknownModel(f"name at least one model: {', '.join(MODELS)}", setting="models")
    unknown = [m for m in classical if m not in METHODS]
    if unknown:
        raise UnknownModel(
            f"unknown classical classifier(s) {', '.join(unknown)}; valid: {', '.join(METHODS)}", setting="classical"
        )
    out_dir = Path(out_dir)
    taken = [name for name in models if (out_dir / name / checkpoint.CONFIG_FILE).exists()]
    if taken and not force:
        raise RunExists(
            f"{out_dir} already holds runs of {', '.join(taken)}", remedy="pass force=True to replace them", setting="replace"
        )

    rows, evaluation = {}, {}
    for name in models:
        run_dir = out_dir / name
        if on_model is not None:
            on_model(name, "training")
        train_new_run(config, ModelOptions(), run_dir, device, data_dir, on_step, on_epoch, replace=force, model_name=name)
        if on_model is not None:
            on_model(name, "evaluating")
        evaluation = evaluate_run(run_dir, device, oracle_dir=oracle_dir, samples=samples, seed=config.seed)
        (run_dir / EVALUATION_FILE).write_text(json.dumps(evaluation, indent=2) + "\n")
        rows[name] = {**_row(evaluation, oracle_dir is not None), "run": str(run_dir)}

    dataset_path = resolve_dataset(config.dataset, data_dir)
    if classical and on_model is not None:
        on_model("classical", f"training {', '.join(classical)}")
    settings = {k: getattr(config, k) for k in ("sup_fraction", "epochs", "batch_size", "lr", "seed")}
    result = {
        "models": rows,
        "classical": finite(_classical_scores(config, dataset_path, classical)) if classical else {},
        "settings": {
            "dataset": config.dataset,
            "dataset_path": str(dataset_path),
            "labels": list(evaluation["per_label"]),
            **settings,
            "test_images": evaluation["test_images"],
            "oracle": None if oracle_dir is None else str(oracle_dir),
            "samples": samples,
            "device": str(device),
        },
    }
    (out_dir / JSON_FILE).write_text(json.dumps(result, indent=2) + "\n")
    (out_dir / MARKDOWN_FILE).write_text(markdown_table(result))
    return result


def _row(evaluation: dict, with_oracle: bool) -> dict:
    """The table's columns from an evaluation, None where they do not apply, with the reasons."""
    row = {key: evaluation.get(key) for key in COLUMNS}
    notes = dict(evaluation["not_supported"])
    if not with_oracle:
        for key in ("swap_score", "conditional_generation_accuracy"):
            notes[key] = "needs an oracle"
    row["notes"] = {key: reason for key, reason in notes.items() if key in COLUMNS}
    return row


def _classical_scores(config: TrainConfig, dataset_path: Path, methods: Sequence[str]) -> dict:
    """The classical classifiers on the labelled training rows of the runs (the same labels,
    labelled fraction and seed) and on their test split."""
    data = read_dataset(dataset_path)
    prepared = prepare_data(data, config, torch.device("cpu"))
    train = prepared.train
    test = split_tensors(data.select_labels(prepared.label_names), "test", torch.device("cpu"))
    return classical_scores(train.images, train.labels, train.mask, test.images, test.labels, test.mask,
                            methods=methods, seed=config.seed)  # fmt: skip


def _cell(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def markdown_table(result: dict) -> str:
    """The comparison as a markdown table (numbers to 4 decimals), reasons for n/a below it."""
    lines = ["| model | " + " | ".join(COLUMNS.values()) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    notes = []
    for name, row in result["models"].items():
        display = MODELS[name].display_name
        lines.append(f"| {display} | " + " | ".join(_cell(row[key]) for key in COLUMNS) + " |")
        notes += [f"- {display}, {COLUMNS[key]}: n/a, {reason}." for key, reason in row["notes"].items()]
    for method, scores in result["classical"].items():
        lines.append(f"| {method} (classical) | {_cell(scores['accuracy'])} |" + " n/a |" * (len(COLUMNS) - 1))
    if result["classical"]:
        notes.append("- classical classifiers: accuracy only (they neither generate nor reconstruct images).")
    settings = result["settings"]
    header = (
        f"Comparison on {settings['dataset']} with labelled fraction f = {settings['sup_fraction']:g}, "
        f"{settings['epochs']} epochs, seed {settings['seed']}; test split; oracle: {settings['oracle'] or 'none'}."
    )
    return "\n".join([header, "", *lines, "", *notes]).rstrip() + "\n"
