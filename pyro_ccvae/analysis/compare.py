"""The paper's comparison (Tables 1, 2, 4 and 5, plus the ground-truth measures synthetic data
allows) over a grid of models x labelled fractions f x seeds, each cell a run of its own:

    OUT/<model>-sup<f>-seed<s>/        a run folder, as `fit` writes it, plus evaluation.json
    OUT/classical-sup<f>-seed<s>.json  the classical classifiers on that cell's labelled rows
    OUT/comparison.json                every cell's measures, and per model and f their mean and
                                       standard deviation over the seeds
    OUT/comparison.md                  one table per measure, shaped like the paper's
    OUT/comparison.png                 each measure against f, one line per model

Every model of a seed gets the same data, labelled rows, settings and draws of the data order.
A comparison stopped at any point continues when called again with the same settings: a cell
with evaluation.json is read back, a cell with a checkpoint resumes from it, and only the rest
is trained. Asked for more epochs, the cells of a finished comparison are trained on from their
checkpoints (as `fit --resume --epochs`) and evaluated again. A cell holding a run with other
settings is an error unless `force` (then it is trained anew).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from ..datasets import read_dataset, resolve_dataset
from ..datasets.tensors import split_tensors
from ..errors import InvalidRequest, RunExists, UnknownModel
from ..training import checkpoint
from ..training.build import prepare_data
from ..training.config import BEFORE_RECORDED, ModelOptions, TrainConfig
from ..training.registry import MODELS, spec_of
from ..training.runs import as_recorded, resume_run, train_new_run
from .classical import METHODS, classical_scores
from .evaluate import evaluate_run, finite

# key: (short name for figures, title of its table, lower is better)
MEASURES = {
    "accuracy": ("accuracy (Table 1)", "Table 1: classification accuracy", False),
    "swap_score": ("swap score (Table 2)", "Table 2: characteristic swaps, mean abs. difference of the oracle's "
                   "log-probabilities (lower is better)", True),
    "fid": ("FID (Table 4)", "Table 4: FID, Inception-v3 features (lower is better)", True),
    "oracle_frechet_distance": ("Fréchet distance, oracle features", "Fréchet distance of generations to test "
                                "images in the oracle's features; not FID (lower is better)", True),
    "conditional_generation_accuracy": ("conditional generation (Table 5)", "Table 5: conditional generation, "
                                        "accuracy under the oracle", False),
    "reconstruction_error": ("reconstruction error", "reconstruction error, mean abs. pixel difference "
                             "(lower is better)", True),
    "tracking_visible": ("tracking, visible classes", "characteristic tracking: mean within-class |Spearman rho| "
                         "of z_c^i and the hidden characteristic, in the classes where it is drawn", False),
    "tracking_all": ("tracking, all classes", "characteristic tracking, all classes (including those where the "
                     "characteristic is not drawn)", False),
    "leakage_accuracy": ("leakage into z_\\c", "leakage into z_\\c: accuracy of a logistic regression predicting "
                         "the labels from z_\\c (lower is better)", True),
    "leakage_baseline": ("majority baseline", "majority-class accuracy, the floor of the leakage probe", True),
}  # fmt: skip
# Why a measure is n/a when the evaluation does not say: the input it needs was not given.
NEEDS = {
    "swap_score": "needs an oracle",
    "conditional_generation_accuracy": "needs an oracle",
    "oracle_frechet_distance": "needs an oracle",
    "fid": "needs a local Inception-v3 weights file",
    "tracking_visible": "needs data with ground-truth factors",
    "tracking_all": "needs data with ground-truth factors",
    "leakage_accuracy": "needs data with ground-truth factors",
    "leakage_baseline": "needs data with ground-truth factors",
}
JSON_FILE, MARKDOWN_FILE, FIGURE_FILE, EVALUATION_FILE = "comparison.json", "comparison.md", "comparison.png", "evaluation.json"
SAME_RUN = ("dataset", "labels", "sup_fraction", "epochs", "batch_size", "lr", "seed", "unsup_bound",
            "num_classifier_samples", "alpha", "beta", "control_variate", "labelled_per_batch", "prior_lr_factor")  # fmt: skip


@dataclass(frozen=True)
class Cell:
    model: str
    sup: float
    seed: int

    @property
    def folder(self) -> str:
        return f"{self.model}-sup{self.sup:g}-seed{self.seed}"

    def __str__(self) -> str:
        return f"{self.model} f={self.sup:g} seed {self.seed}"


def compare(
    config: TrainConfig,
    out_dir: str | Path,
    models: Sequence[str] = tuple(MODELS),
    sups: Sequence[float] | None = None,
    seeds: Sequence[int] | None = None,
    device: torch.device | str = "cpu",
    data_dir: str | Path | None = None,
    oracle_dir: str | Path | None = None,
    classical: Sequence[str] = (),
    samples: int = 1000,
    force: bool = False,
    inception_weights: str | Path | None = None,
    on_cell: Callable[[int, int, Cell, str], None] | None = None,
    train_hooks: dict[str, Callable] | None = None,
) -> dict:
    """Trains and evaluates every cell (model, f, seed) of `models` x `sups` x `seeds` (default:
    config's f and seed) with `config`'s other settings (each model's objective with its
    defaults), scores the `classical` classifiers for each (f, seed), and writes and returns the
    comparison {"settings", "cells", "summary", "classical"} (see the module docstring).

    Each cell is evaluated by `evaluate.evaluate_run` with `oracle_dir`, `inception_weights`,
    `samples` and the cell's seed. Names, and cells holding runs with other settings
    (RunExists unless `force`), are checked before anything is trained. `on_cell(number, total,
    cell, stage)` reports each cell's "finished" (read back), "training", "resuming" and
    "evaluating" (and the classical classifiers as the cell ("classical", f, seed));
    `train_hooks` (on_step, on_epoch, on_epoch_start, on_rollback) go to the fit loop of each
    cell trained or resumed."""
    models = list(dict.fromkeys(spec_of(name).name for name in models))
    if not models:
        raise UnknownModel(f"name at least one model: {', '.join(MODELS)}", setting="models")
    unknown = [m for m in classical if m not in METHODS]
    if unknown:
        raise UnknownModel(
            f"unknown classical classifier(s) {', '.join(unknown)}; valid: {', '.join(METHODS)}", setting="classical"
        )
    sups = list(dict.fromkeys(float(f) for f in (sups or [config.sup_fraction])))
    seeds = list(dict.fromkeys(int(s) for s in (seeds if seeds is not None else [config.seed])))
    for f in sups:
        if not 0 < f <= 1:
            raise InvalidRequest(f"each labelled fraction must be in (0, 1], got {f:g}", setting="sup_fraction")
    out_dir, device = Path(out_dir), torch.device(device)
    cells = [Cell(m, f, s) for f in sups for s in seeds for m in models]
    recorded = as_recorded(config, data_dir)  # as each cell's config.json will hold it
    configs = {cell: dataclasses.replace(recorded, sup_fraction=cell.sup, seed=cell.seed) for cell in cells}
    taken = [cell for cell in cells if not _fits(out_dir / cell.folder, cell, configs[cell])]
    if taken and not force:
        raise RunExists(
            f"{out_dir} already holds runs with other settings in {', '.join(c.folder for c in taken)}",
            remedy="pass force=True to train them anew",
            setting="replace",
        )
    evaluation_settings = {"oracle": _text(oracle_dir), "inception_weights": _text(inception_weights), "samples": samples}

    rows, last = [], None
    total = len(cells) + (len(sups) * len(seeds) if classical else 0)
    for number, cell in enumerate(cells, 1):
        run_dir = out_dir / cell.folder

        def report(stage, number=number, cell=cell):
            if on_cell is not None:
                on_cell(number, total, cell, stage)

        last = _evaluation(run_dir, cell, configs[cell], evaluation_settings, cell in taken, report, device, data_dir,
                           oracle_dir, inception_weights, samples, train_hooks or {})  # fmt: skip
        rows.append({"model": cell.model, "sup": cell.sup, "seed": cell.seed, **_row(last), "run": str(run_dir)})

    dataset_path = resolve_dataset(config.dataset, data_dir)
    classical_rows = []
    if classical:
        for number, (f, seed) in enumerate(((f, s) for f in sups for s in seeds), len(cells) + 1):
            if on_cell is not None:
                on_cell(number, total, Cell("classical", f, seed), f"training {', '.join(classical)}")
            scores = _classical(out_dir, configs[Cell(models[0], f, seed)], dataset_path, classical)
            classical_rows += [{"method": m, "sup": f, "seed": seed, "accuracy": scores[m]["accuracy"]} for m in classical]

    settings = {k: getattr(config, k) for k in ("epochs", "batch_size", "lr", "labelled_per_batch", "defaults")}
    result = {
        "settings": {
            "dataset": config.dataset,
            "dataset_path": str(dataset_path),
            "labels": list(last["per_label"]) if last else [],
            "models": models,
            "sups": sups,
            "seeds": seeds,
            **settings,
            "test_images": last["test_images"] if last else None,
            **evaluation_settings,
            "device": str(device),
        },
        "cells": rows,
        "summary": summarise(rows, "model", list(MEASURES)),
        "classical": {"cells": classical_rows, "summary": summarise(classical_rows, "method", ["accuracy"])},
    }
    result = finite(result)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / JSON_FILE).write_text(json.dumps(result, indent=2) + "\n")
    (out_dir / MARKDOWN_FILE).write_text(markdown_tables(result))
    from .plots import comparison_figure  # matplotlib only when needed

    comparison_figure(result, MEASURES, out_dir / FIGURE_FILE, floors={"leakage_accuracy": "leakage_baseline"})
    return result


def _text(path) -> str | None:
    """A path as cells record it (absolute: the same folder given from elsewhere is the same)."""
    return None if path is None else str(Path(path).resolve())


def _fits(run_dir: Path, cell: Cell, config: TrainConfig) -> bool:
    """Whether `run_dir` is free, or holds a run of `cell` with `config`'s settings."""
    if not (run_dir / checkpoint.CONFIG_FILE).exists():
        return True
    try:
        saved = checkpoint.load_config(run_dir)
    except Exception:  # an unreadable config.json: not a run this comparison can continue
        return False
    train = {**BEFORE_RECORDED, **saved.get("train", {})}  # with the fields its config.json predates
    expected = dataclasses.asdict(config)
    same = all(train.get(k) == expected[k] for k in SAME_RUN if k != "epochs")
    fewer_epochs = isinstance(train.get("epochs"), int) and train["epochs"] <= config.epochs  # resumed to more
    return saved.get("model_name", "ccvae") == cell.model and same and fewer_epochs


def _evaluation(run_dir, cell, config, evaluation_settings, replace, report, device, data_dir, oracle_dir,
                inception_weights, samples, train_hooks) -> dict:  # fmt: skip
    """The cell's evaluation: read back when done with the same evaluation settings, else
    (after training or resuming its run as needed) measured and written to evaluation.json."""
    path = run_dir / EVALUATION_FILE
    if not replace and path.is_file():
        saved = json.loads(path.read_text())
        if saved.get("evaluated_with") == {**evaluation_settings, "epochs": config.epochs}:
            report("finished")
            return saved
    state = None if replace else _trained_epochs(run_dir)
    if state is None:
        report("training")
        train_new_run(config, ModelOptions(), run_dir, device, data_dir, replace=True, model_name=cell.model,
                      **train_hooks)  # fmt: skip
    elif state < config.epochs:
        report("resuming")
        resume_run(run_dir, device, data_dir, epochs=config.epochs, **train_hooks)
    report("evaluating")
    evaluation = evaluate_run(run_dir, device, oracle_dir=oracle_dir, samples=samples, seed=cell.seed,
                              inception_weights=inception_weights)  # fmt: skip
    evaluation["evaluated_with"] = {**evaluation_settings, "epochs": config.epochs}
    path.write_text(json.dumps(evaluation, indent=2) + "\n")
    return evaluation


def _trained_epochs(run_dir: Path) -> int | None:
    """Epochs the run in `run_dir` has finished (None if there is no checkpoint to go on from)."""
    if not (run_dir / checkpoint.CHECKPOINT_FILE).is_file():
        return None
    try:
        return int(checkpoint.load_checkpoint(run_dir, "cpu")["epoch"])
    except Exception:  # a checkpoint that cannot be read: train the cell anew
        return None


def _row(evaluation: dict) -> dict:
    """A cell's measures from its evaluation (None where they do not apply) and the reasons."""
    truth = evaluation.get("ground_truth") or {}
    tracking, leakage = truth.get("characteristic_tracking", {}), truth.get("leakage", {})
    values = {key: evaluation.get(key) for key in MEASURES}
    values.update(tracking_visible=tracking.get("mean_visible"), tracking_all=tracking.get("mean"),
                  leakage_accuracy=leakage.get("mean_accuracy"), leakage_baseline=leakage.get("mean_majority_baseline"))  # fmt: skip
    unsupported = dict(evaluation.get("not_supported", {}))
    if "ground_truth" in unsupported:
        unsupported.update({k: unsupported["ground_truth"] for k in NEEDS if k.startswith(("tracking", "leakage"))})
    notes = {key: unsupported.get(key, NEEDS.get(key, "not measured")) for key, value in values.items() if value is None}
    return {**values, "notes": notes}


def _classical(out_dir: Path, config: TrainConfig, dataset_path: Path, methods: Sequence[str]) -> dict:
    """The classical classifiers on the labelled training rows of (f, seed) and the test split,
    read back from OUT/classical-sup<f>-seed<s>.json when computed before."""
    path = out_dir / f"classical-sup{config.sup_fraction:g}-seed{config.seed}.json"
    saved = json.loads(path.read_text()) if path.is_file() else {}
    missing = [m for m in methods if m not in saved]
    if missing:
        data = read_dataset(dataset_path)
        prepared = prepare_data(data, config, torch.device("cpu"))
        train = prepared.train
        test = split_tensors(data.select_labels(prepared.label_names), "test", torch.device("cpu"))
        saved.update(finite(classical_scores(train.images, train.labels, train.mask, test.images, test.labels,
                                             test.mask, methods=missing, seed=config.seed)))  # fmt: skip
        path.write_text(json.dumps(saved, indent=2) + "\n")
    return saved


def summarise(rows: list[dict], by: str, measures: Sequence[str]) -> dict:
    """{name: {f (as text): {measure: {"mean", "sd", "n"}}}} over the seeds of each (name, f):
    sd is the sample standard deviation (0 for one seed); None where no seed has a value."""
    summary = {}
    for row in rows:
        summary.setdefault(row[by], {}).setdefault(f"{row['sup']:g}", []).append(row)
    out = {}
    for name, by_sup in summary.items():
        out[name] = {}
        for sup, group in by_sup.items():
            out[name][sup] = {}
            for key in measures:
                values = [r[key] for r in group if r.get(key) is not None and math.isfinite(r[key])]
                sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
                out[name][sup][key] = {"mean": float(np.mean(values)), "sd": sd, "n": len(values)} if values else None
    return out


def _number(value: float) -> str:
    return f"{value:.1f}" if abs(value) >= 100 else f"{value:.3f}"


def _cell(stats: dict | None) -> str:
    if stats is None:
        return "n/a"
    return _number(stats["mean"]) + (f" ± {_number(stats['sd'])}" if stats["n"] > 1 else "")


def markdown_tables(result: dict) -> str:
    """The comparison as Markdown: one table per measure that any cell has, rows the models
    (and, for accuracy, the classical classifiers), columns the labelled fractions, cells mean ±
    standard deviation over the seeds; the reasons for n/a below each table."""
    settings = result["settings"]
    sups = [f"{f:g}" for f in settings["sups"]]
    seeds = settings["seeds"]
    lines = [
        f"Comparison on {settings['dataset']} ({settings['test_images']} test images): {settings['epochs']} epochs, "
        f"batch {settings['batch_size']}, learning rate {settings['lr']:g} ({settings['defaults'] or 'settings given'}); "
        f"{len(seeds)} seed(s) ({', '.join(map(str, seeds))}), mean ± standard deviation over seeds; oracle: "
        f"{settings['oracle'] or 'none'}.",
    ]
    for key, (_, title, _) in MEASURES.items():
        rows = {name: by_sup for name, by_sup in result["summary"].items()}
        if not any(by_sup.get(f, {}).get(key) for by_sup in rows.values() for f in sups):
            continue
        lines += ["", f"**{title}**", "", "| model | " + " | ".join(f"f = {f}" for f in sups) + " |",
                  "|---" * (len(sups) + 1) + "|"]  # fmt: skip
        for name, by_sup in rows.items():
            display = MODELS[name].display_name
            lines.append(f"| {display} | " + " | ".join(_cell(by_sup.get(f, {}).get(key)) for f in sups) + " |")
        if key == "accuracy":
            for method, by_sup in result["classical"]["summary"].items():
                lines.append(f"| {method} (classical) | " + " | ".join(_cell(by_sup.get(f, {}).get(key)) for f in sups) + " |")
        notes = sorted({(MODELS[c["model"]].display_name, c["notes"][key]) for c in result["cells"] if key in c["notes"]})
        lines += [""] * bool(notes) + [f"- {display}: n/a, {reason}." for display, reason in notes]
    return "\n".join(lines).rstrip() + "\n"
