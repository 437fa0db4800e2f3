"""Why does the CCVAE learn slowly, or not at all, when few labels are observed?

    python benchmarks/low_supervision.py --dataset FILE.h5 --sup 0.004,0.06,0.2 [--steps 1250]
        [--every 50] [--lr 1e-3] [--batch-size 64] [--seed 0] [--set key=value ...] [--out diag.json]

Trains a CCVAE exactly as `fit` does (the library's model, objective and Adam step; batches
drawn as the fit loop draws them) and, every --every steps, records:

- validation accuracy (mean over labels, on up to 1,000 validation images);
- the conditional prior p(z_c^i | y_i): its location and scale for y_i = 0 and 1 per label;
- the classifier q(y_i | z_c^i) = sigmoid(a_i z_c^i + b_i): a_i and b_i;
- z_c under q(z_c | x) on the validation images: the separation of the classes in z_c^i
  (|mean_1 - mean_0| / pooled sd of the encoder means), the spread of the encoder means across
  images, and the mean scale of q(z_c^i | x) (z_c ignores x when the first two are ~0);
- on every --probe-every-th step of the window, the gradient of the batch's loss split by source: labelled rows
  through w = q(y|zbar_c)/q(y|x) (the term bracket * dw), labelled rows through everything else,
  and unlabelled rows; for the classifier, the encoder's head, the prior and the decoder, the
  mean norm over the window and, for the classifier, the signal-to-noise ratio
  |mean gradient| / sd over steps; the batch's number of labelled rows and the spread of w.

--set passes TrainConfig fields (e.g. --set lr=3e-4 or --set control_variate=false) so that
the same trajectories can be recorded with a change of settings. Prints one JSON line per record;
--out writes everything as JSON; --figure draws the trajectories, of this run and of earlier
ones given with --with NAME=FILE.json (their --out), side by side. Read docs/low_supervision.md
for what the records showed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyro
import torch
import torch.nn.functional as F

from pyro_ccvae.core.elbo import leave_one_out_mean
from pyro_ccvae.datasets import read_dataset, resolve_dataset
from pyro_ccvae.datasets.synthfaces import cached_synthfaces
from pyro_ccvae.rng import seeded
from pyro_ccvae.training import registry
from pyro_ccvae.training.build import new_model, prepare_data
from pyro_ccvae.training.config import ModelOptions, TrainConfig
from pyro_ccvae.training.loop import batch_orders, training_step

GROUPS = ("classifier", "prior", "encoder_head", "decoder")


def parameter_groups(model) -> dict[str, list[torch.nn.Parameter]]:
    binary = model.label_groups[0]
    return {
        "classifier": list(binary.classifier.parameters()),
        "prior": list(binary.characteristics.parameters()),
        "encoder_head": list(model.encoder.head.parameters()),
        "decoder": list(model.decoder.parameters()),
    }


def flat_grad(value: torch.Tensor, params: list[torch.nn.Parameter]) -> torch.Tensor:
    if not value.requires_grad:
        return torch.zeros(sum(p.numel() for p in params))
    grads = torch.autograd.grad(value, params, retain_graph=True, allow_unused=True)
    return torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(grads, params)])


def gradient_sources(model, elbo, x, y, mask, weights=None) -> dict:
    """Gradients of minus the batch's surrogate (each row times `weights`, if given), by source,
    per parameter group (flattened)."""
    parts = elbo.row_parts(model.model, model.guide, x, y, mask)
    labelled = mask.any(-1)
    lam = torch.ones_like(parts.bracket) if weights is None else weights
    sources = {}
    if parts.log_q_yo_x is None:  # no labelled row in the batch is weighted
        w = torch.ones_like(parts.bracket)
        via_w = torch.zeros(())
        rest = -(lam * (parts.bracket + parts.log_p_yo + parts.score))[labelled].sum()
    else:
        w = parts.weight
        baseline = leave_one_out_mean(parts.bracket) if elbo.control_variate else torch.zeros_like(w)
        # (bracket - c) * dw, and the baseline's own term (see RowParts.combine)
        via_w = -(w * (parts.bracket.detach() - baseline) - baseline * (parts.log_q_yo_x - parts.log_q_yo_x_fixed))
        via_w = (lam * via_w)[labelled].sum()
        rest = -(lam * (w.detach() * (parts.bracket + parts.score) + parts.log_q_yo_x + parts.log_p_yo))[labelled].sum()
    unlabelled = -(lam * (parts.bracket + parts.score + parts.log_p_yo))[~labelled].sum()
    groups = parameter_groups(model)
    for name, value in (("labelled_via_w", via_w), ("labelled_rest", rest), ("unlabelled", unlabelled)):
        sources[name] = {group: flat_grad(value, params) for group, params in groups.items()}
    log_w = w[labelled].log() if labelled.any() else torch.zeros(0)
    stats = {
        "labelled_rows": int(labelled.sum()),
        "log_w_sd": float(log_w.detach().std()) if log_w.numel() > 1 else None,
        "w_max_share": float(w[labelled].detach().max() / w[labelled].detach().sum()) if labelled.any() else None,
        "bracket_labelled": float(parts.bracket[labelled].detach().mean()) if labelled.any() else None,
    }
    return sources, stats


def threshold_probe_accuracy(z: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy (mean over labels) of the best threshold on each z_c^i, chosen on the first half
    of the rows and scored on the second: what z_c still tells of y, whatever the classifier."""
    half = z.shape[0] // 2
    scores = []
    for i in range(z.shape[1]):
        fit_z, fit_y, test_z, test_y = z[:half, i], y[:half, i] > 0.5, z[half:, i], y[half:, i] > 0.5
        ordered = fit_z.sort().values
        cuts = torch.cat([ordered[:1] - 1, (ordered[1:] + ordered[:-1]) / 2, ordered[-1:] + 1])  # midpoints
        above = fit_z[None, :] >= cuts[:, None]  # [cuts, rows]
        agree = (above == fit_y[None]).float().mean(1)
        best = int(torch.maximum(agree, 1 - agree).argmax())
        sign = bool(agree[best] >= 0.5)
        scores.append(float(((test_z >= cuts[best]) == (test_y if sign else ~test_y)).float().mean()))
    return float(np.mean(scores))


def labelled_accuracy(model, train, max_images: int = 1000) -> float | None:
    """Accuracy of q(y | z_c) on the labelled training rows (their observed labels)."""
    rows = train.mask.any(1).nonzero().squeeze(1)[:max_images]
    if len(rows) == 0:
        return None
    x, y, mask = train.batch(rows.cpu())
    return float((model.predict(x) == y)[mask].float().mean())


@torch.no_grad()
def latent_state(model, valid, train, max_images: int = 1000) -> dict:
    binary = model.label_groups[0]
    x, y, mask = valid.batch(torch.arange(min(len(valid), max_images)))
    loc, scale = model.encoder(x)
    loc_c, _ = model.split_z(loc)
    scale_c, _ = model.split_z(scale)
    z, s = loc_c[..., 0], scale_c[..., 0]  # first dimension of each block, [N, L]
    predicted = model.predict(x)
    accuracy = ((predicted == y) | ~mask).float().mean(0)
    separation = []
    for i in range(z.shape[1]):
        z0, z1 = z[y[:, i] == 0, i], z[y[:, i] == 1, i]
        pooled = math.sqrt(0.5 * (z0.var().item() + z1.var().item()) + 1e-12)
        separation.append(abs(z1.mean().item() - z0.mean().item()) / pooled)
    return {
        "valid_accuracy": float(accuracy.mean()),
        "labelled_train_accuracy": labelled_accuracy(model, train, max_images),
        "zc_threshold_probe_accuracy": threshold_probe_accuracy(z, y),
        "prior_loc": binary.characteristics.loc[..., 0].tolist(),  # [L, 2]: y = 0, y = 1
        "prior_scale": F.softplus(binary.characteristics.raw_scale[..., 0]).tolist(),
        "classifier_weight": binary.classifier.weight[:, 0].tolist(),
        "classifier_bias": binary.classifier.bias.tolist(),
        "zc_separation": separation,  # |mean_1 - mean_0| / pooled sd, per label
        "zc_mean_spread": z.std(0).tolist(),  # sd of the encoder means across images
        "zc_q_scale": s.mean(0).tolist(),  # mean scale of q(z_c^i | x)
    }


def summarise(window: list[tuple[dict, dict]]) -> dict:
    out = {"labelled_rows": float(np.mean([s["labelled_rows"] for _, s in window]))}
    sds = [s["log_w_sd"] for _, s in window if s["log_w_sd"] is not None]
    out["log_w_sd"] = float(np.mean(sds)) if sds else None
    shares = [s["w_max_share"] for _, s in window if s["w_max_share"] is not None]
    out["w_max_share"] = float(np.mean(shares)) if shares else None
    brackets = [s["bracket_labelled"] for _, s in window if s["bracket_labelled"] is not None]
    out["bracket_labelled"] = float(np.mean(brackets)) if brackets else None
    for source in ("labelled_via_w", "labelled_rest", "unlabelled"):
        for group in GROUPS:
            g = torch.stack([sources[source][group] for sources, _ in window])  # [steps, P]
            out[f"{source}/{group}/norm"] = float(g.norm(dim=1).mean())
            if group == "classifier":
                mean = g.mean(0)
                noise = (g - mean).norm(dim=1).pow(2).mean().sqrt()
                out[f"{source}/{group}/snr"] = float(mean.norm() / (noise + 1e-12))
    return out


@torch.no_grad()
def bayes_start(model) -> None:
    """Sets the binary classifier to the Bayes classifier of p(y) p(z_c | y) (equal scales):
    slope (mu_1 - mu_0) / sigma^2 = 4 at the start, bias logit p(y = 1)."""
    binary = model.label_groups[0]
    loc = binary.characteristics.loc  # [L, 2, d]
    scale = F.softplus(binary.characteristics.raw_scale)
    binary.classifier.weight.copy_((loc[:, 1] - loc[:, 0]) / scale[:, 0] ** 2)
    odds = torch.logit(binary.probs)
    binary.classifier.bias.copy_(odds + ((loc[:, 0] ** 2 - loc[:, 1] ** 2) / (2 * scale[:, 0] ** 2)).sum(-1))


def parse_field(config: TrainConfig, name: str, text: str):
    """A TrainConfig field's value from text, typed like its default."""
    default = getattr(config, name)
    if isinstance(default, bool):
        return text.lower() in ("1", "true", "yes")
    return type(default)(text) if default is not None else float(text)


def run(args, sup: float) -> list[dict]:
    overrides = dict(kv.split("=", 1) for kv in args.set)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    if set(overrides) - fields:
        raise SystemExit(f"unknown TrainConfig field(s): {', '.join(sorted(set(overrides) - fields))}")
    typed = {k: parse_field(TrainConfig(), k, v) for k, v in overrides.items()}
    config = TrainConfig(dataset=args.dataset, sup_fraction=sup, lr=args.lr, batch_size=args.batch_size, seed=args.seed, **typed)
    device = torch.device("cpu")
    records = []
    with seeded(config.seed):
        path = resolve_dataset(config.dataset, None)
        data = prepare_data(read_dataset(path), config, device)
        model = new_model(data, ModelOptions(), {"name": "diag", "path": str(path)})
        if args.start == "bayes":
            bayes_start(model)
        elbo = registry.spec_of("ccvae").make_elbo(model, config)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        generator = torch.Generator().manual_seed(config.seed)
        window, step, started = [], 0, time.perf_counter()
        orders = batch_orders(data.train, config, generator)
        with pyro.validation_enabled(False):
            while step < args.steps:
                for index, weights in next(orders):
                    if step >= args.steps:
                        break
                    x, y, mask = data.train.batch(index)
                    model.train()
                    if step % args.probe_every == 0:
                        window.append(gradient_sources(model, elbo, x, y, mask, weights))
                    loss = training_step(model, elbo, optimizer, x, y, mask, weights)
                    step += 1
                    if step % args.every == 0:
                        model.eval()
                        record = {"sup": sup, "step": step, "loss_per_image": float(loss) / x.shape[0],
                                  "seconds": time.perf_counter() - started,
                                  **latent_state(model, data.valid, data.train), **summarise(window)}  # fmt: skip
                        window = []
                        records.append(record)
                        print(json.dumps(record), flush=True)
    return records


FIGURE_PANELS = (  # (title, function of a record)
    ("validation accuracy", lambda r: r["valid_accuracy"]),
    ("classifier slope a_i (mean)", lambda r: float(np.mean(r["classifier_weight"]))),
    ("prior modes: mu_1 - mu_0 (mean)", lambda r: float(np.mean([b - a for a, b in r["prior_loc"]]))),
    ("z_c: sd of encoder means / mean q scale", lambda r: float(np.mean(r["zc_mean_spread"]) / np.mean(r["zc_q_scale"]))),
    ("classifier gradient, labelled rows via w", lambda r: r["labelled_via_w/classifier/norm"]),
    ("classifier gradient, unlabelled rows", lambda r: r["unlabelled/classifier/norm"]),
)


def draw_figure(runs: dict[str, dict], path: str) -> None:
    """One row per labelled fraction, one panel per FIGURE_PANELS, one line per run."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    sups = sorted({sup for records in runs.values() for sup in records}, key=float)
    figure = Figure(figsize=(3.3 * len(FIGURE_PANELS), 2.6 * len(sups)))
    axes = figure.subplots(len(sups), len(FIGURE_PANELS), squeeze=False)
    for row, sup in enumerate(sups):
        for column, (title, value) in enumerate(FIGURE_PANELS):
            ax = axes[row][column]
            for name, records in runs.items():
                points = records.get(sup, [])
                ax.plot([r["step"] for r in points], [value(r) for r in points], label=name)
            if "gradient" in title:
                ax.set_yscale("symlog", linthresh=1)
            ax.set_title(f"f = {sup}: {title}", fontsize=8)
            ax.set_xlabel("step", fontsize=7)
            ax.tick_params(labelsize=7)
    handles, names = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, names, loc="lower center", ncol=len(names), fontsize=8)
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    figure.savefig(path, dpi=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="synthfaces")
    parser.add_argument("--synthfaces", default=None, metavar="N,SIZE",
                        help="train on N synthfaces images of SIZE pixels, drawn into a temporary folder")
    parser.add_argument("--sup", default="0.004,0.06,0.2")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--every", type=int, default=50, help="steps between records")
    parser.add_argument("--probe-every", type=int, default=5, help="steps between gradient probes")
    parser.add_argument("--lr", type=float, default=TrainConfig().lr)
    parser.add_argument("--batch-size", type=int, default=TrainConfig().batch_size)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], help="TrainConfig field=value")
    parser.add_argument("--start", choices=("model", "bayes"), default="model",
                        help="the binary classifier's start: the model's (a = 1, b = 0), or the Bayes classifier of its prior")
    parser.add_argument("--out", default=None)
    parser.add_argument("--name", default="this run", help="this run's name in the figure")
    parser.add_argument("--figure", default=None, help="PNG of the trajectories")
    parser.add_argument("--with", dest="others", action="append", default=[], help="NAME=FILE.json of an earlier --out")
    parser.add_argument("--only-draw", action="store_true", help="only draw --with runs (no training)")
    args = parser.parse_args()
    if args.synthfaces:
        num, size = (int(v) for v in args.synthfaces.split(","))
        args.dataset = str(cached_synthfaces(tempfile.mkdtemp(), num, size=size))
    results = {} if args.only_draw else {str(sup): run(args, float(sup)) for sup in args.sup.split(",")}
    if args.out:
        Path(args.out).write_text(json.dumps({"args": vars(args), "records": results}) + "\n")
    if args.figure:
        runs = {name: json.loads(Path(file).read_text())["records"] for name, file in (o.split("=", 1) for o in args.others)}
        if results:
            runs[args.name] = results
        draw_figure(runs, args.figure)
    print(f"done: {sum(map(len, results.values()))} records", file=sys.stderr)


if __name__ == "__main__":
    main()
