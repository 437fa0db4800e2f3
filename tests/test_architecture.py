"""The shape of the code: a new label kind is one class pair and one registry line, the
conditional prior is one function, layers import only downwards, the library speaks its own
terms (no command-line flags), the CLI has a name of its own, runs of format 2 still load, and
no library function moves torch's global random state."""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyro.distributions as dist
import pytest
import torch
from torch import nn

from pyro_ccvae.analysis.generate import conditional_samples
from pyro_ccvae.analysis.manipulate import block_prior, flip_each_label, intervene
from pyro_ccvae.core import CCVAE, CCVAE_ELBO, CCVAEConfig
from pyro_ccvae.core import kinds as kinds_module
from pyro_ccvae.core.assignments import assignment_tensors, parse_assignments
from pyro_ccvae.core.kinds import BinaryGroup, Label, LabelGroup
from pyro_ccvae.core.kinds.base import discrete_measure, missing_share
from pyro_ccvae.datasets import read_dataset, write_dataset
from pyro_ccvae.datasets.synthfaces import generate_synthfaces
from pyro_ccvae.errors import LabelError
from pyro_ccvae.training import checkpoint, registry
from pyro_ccvae.training.config import ModelOptions, TrainConfig
from pyro_ccvae.training.runs import load_model, train_new_run

from .helpers import move_off_symmetric_start

REPO = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")


# A new kind, written here as a user would write it in core/kinds/ordinal.py ------------------


class OrdinalLabel(Label):
    """An ordered label with named levels (low < mid < high); its prior is the level frequencies."""

    kind, discrete = "ordinal", True

    def check_classes(self):
        if len(self.classes) < 2:
            raise ValueError("an ordinal label needs two or more levels")

    def parse(self, text):
        if text.strip() not in self.classes:
            raise LabelError(f"{self.name} is ordinal: its value must be one of {', '.join(self.classes)}")
        return float(self.classes.index(text.strip()))

    def format(self, value):
        return self.classes[int(value)]

    def invalid(self, values):
        return values[(values != np.round(values)) | (values < 0) | (values >= len(self.classes))]

    def expected(self):
        return f"a level 0 to {len(self.classes) - 1}"

    def fit_prior(self, values):
        return (np.bincount(values.astype(int), minlength=len(self.classes)) / len(values)).tolist()

    def check_prior(self, prior):
        if len(prior) != len(self.classes):
            raise ValueError("one frequency per level")

    @classmethod
    def make_group(cls, labels, index, config):
        return OrdinalGroup(labels[0], index[0], config.z_c_block)

    def traversal_ends(self):
        return 0.0, float(len(self.classes) - 1)

    def other_value(self, predicted):
        return len(self.classes) - 1 - predicted  # the mirrored level

    def num_classes(self):
        return len(self.classes)

    def measure(self, predicted, truth):
        return discrete_measure(predicted, truth)

    def describe(self, values):
        return missing_share(values)


class OrdinalGroup(LabelGroup):
    """q(y = k | z_c) proportional to exp(k * slope . z_c + bias_k), p(z_c | y) = N(slope * y + offset, 0.5^2 I)."""

    enumerable, weighted = True, True

    def __init__(self, label, index, block_dim):
        super().__init__([label], [index], suffix=f"[{label.name}]")
        levels = len(label.classes)
        self.register_buffer("probs", torch.tensor(label.prior).clamp(min=1e-4).unsqueeze(0))
        self.slope = nn.Parameter(torch.ones(block_dim))
        self.offset = nn.Parameter(-torch.ones(block_dim))
        self.bias = nn.Parameter(torch.zeros(levels))

    def prior(self):
        return dist.Categorical(self.probs)

    def q_y(self, z_c):
        score = (z_c * self.slope).sum(-1, keepdim=True)  # [..., 1, 1]
        levels = torch.arange(len(self.bias), dtype=z_c.dtype, device=z_c.device)
        return dist.Categorical(logits=levels * score + self.bias)  # batch [..., 1]

    def conditional_prior(self, y):
        loc = y.unsqueeze(-1) * self.slope + self.offset  # [..., 1, d]
        return dist.Normal(loc, 0.5).to_event(1)

    def predict(self, z_c):
        return self.q_y(z_c).logits.argmax(-1).to(z_c.dtype)


@pytest.fixture
def ordinal_kind(monkeypatch):
    """The registry line: KINDS["ordinal"] = OrdinalLabel."""
    monkeypatch.setitem(kinds_module.KINDS, "ordinal", OrdinalLabel)


def test_a_new_kind_is_one_class_pair_and_one_registry_line(ordinal_kind, tmp_path):
    data = generate_synthfaces(240, seed=0, size=16)
    smile = data.factors[:, data.factor_names.index("char_Smiling")]
    level = np.minimum(np.floor(smile * 3), 2).astype(np.float32)[:, None]
    with_level = type(data)(
        images=data.images, labels=np.concatenate([data.labels[:, :2], level], 1),
        label_names=data.label_names[:2] + ("level",), split=data.split,
        label_kinds=("binary", "binary", "ordinal"), label_classes={"level": ["low", "mid", "high"]},
    )  # fmt: skip
    path = tmp_path / "ordinal.h5"
    write_dataset(path, with_level)
    assert read_dataset(path).label_kinds[-1] == "ordinal"

    config = TrainConfig(dataset=str(path), epochs=1, batch_size=32, num_classifier_samples=4)
    train_new_run(config, ModelOptions(z_c_block=2, z_s_dim=4), tmp_path / "run", CPU)
    model = load_model(tmp_path / "run")
    group = model.label_groups[-1]
    assert isinstance(group, OrdinalGroup) and group.y_site == "y[level]"
    assert json.loads((tmp_path / "run" / "config.json").read_text())["model"]["label_kinds"][-1] == "ordinal"

    from pyro_ccvae.analysis.evaluate import evaluate_run

    report = evaluate_run(tmp_path / "run")
    assert 0 <= report["per_label"]["level"] <= 1 and "level" not in report["regression"]

    values = parse_assignments(["level=high"], model.config.labels)
    assert values == {"level": 2.0}
    y, mask = assignment_tensors(values, model.config.label_names, 5)
    images = conditional_samples(model, y, mask, torch.Generator().manual_seed(0))
    assert images.shape == (5, 3, 16, 16)
    prior = block_prior(model, 2, 2.0)
    torch.testing.assert_close(prior.mean[0], (2.0 * group.slope + group.offset).detach())
    x = torch.rand(3, 3, 16, 16)
    assert intervene(model, x, {"level": 2.0}, use_mean=True).shape == x.shape
    flipped = flip_each_label(model, x, generator=torch.Generator().manual_seed(0))
    assert flipped.shape == (3, 3, 3, 16, 16)
    with pytest.raises(LabelError, match="one of low, mid, high"):
        parse_assignments(["level=top"], model.config.labels)


# A full-covariance conditional prior: an edit to one function ----------------------------------


class FullCovarianceBinaryGroup(BinaryGroup):
    """p(z_c^i | y_i) = N(mu_i(y_i), L L^T), L lower triangular with the diagonal prior's scales."""

    def __init__(self, labels, index, block_dim):
        super().__init__(labels, index, block_dim)
        self.lower = nn.Parameter(torch.zeros(len(index), 2, block_dim, block_dim))

    def conditional_prior(self, y):
        diagonal = self.characteristics(y)  # Normal(loc, scale).to_event(1), batch [..., L]
        rows = torch.arange(len(self.index), device=y.device)
        lower = self.lower[rows, y.long()].tril(-1)  # [..., L, d, d]
        return dist.MultivariateNormal(diagonal.mean, scale_tril=torch.diag_embed(diagonal.stddev) + lower)


class FullCovarianceCCVAE(CCVAE):
    def build_label_groups(self, config):
        labels = config.labels
        return [FullCovarianceBinaryGroup(labels, list(range(len(labels))), config.z_c_block)]


def test_a_full_covariance_prior_trains_with_the_unchanged_elbo(tiny_batch):
    config = CCVAEConfig(label_names=["a", "b", "c"], label_priors=[0.3, 0.5, 0.8], image_shape=(3, 8, 8),
                         z_c_block=2, z_s_dim=4)  # fmt: skip
    torch.manual_seed(1)
    diagonal = CCVAE(config)
    move_off_symmetric_start(diagonal)
    full = FullCovarianceCCVAE(config)
    full.load_state_dict(diagonal.state_dict(), strict=False)  # same weights, off-diagonal zero
    elbo = CCVAE_ELBO(full.label_groups, num_classifier_samples=16)
    losses = []
    for model in (diagonal, full):
        torch.manual_seed(5)
        losses.append(CCVAE_ELBO(model.label_groups, 16).differentiable_loss(model.model, model.guide, *tiny_batch))
    torch.testing.assert_close(losses[0], losses[1])  # with L diagonal, the same bound

    optimizer = torch.optim.Adam(full.parameters(), lr=0.05)
    for _ in range(5):
        loss = elbo.differentiable_loss(full.model, full.guide, *tiny_batch)
        optimizer.zero_grad()
        loss.backward()
        assert torch.isfinite(loss) and full.label_groups[0].lower.grad.tril(-1).abs().sum() > 0
        optimizer.step()
    covariance = full.conditional_prior(torch.ones(1, 3)).covariance_matrix  # [1, 3, 2, 2]
    assert covariance[0, :, 1, 0].abs().min() > 0  # the blocks are no longer diagonal


# Layers ---------------------------------------------------------------------------------------------

# Each library layer and what it may import (docs/architecture.md); a module may always import
# from its own folder.
LAYERS = {
    "errors": set(),
    "rng": set(),
    "devices": {"errors"},
    "core": {"errors", "rng"},
    "datasets": {"errors", "core"},
    "baselines": {"errors", "rng", "core"},
    "training": {"errors", "rng", "devices", "core", "datasets", "baselines"},
    "analysis": {"errors", "rng", "devices", "core", "datasets", "baselines", "training"},
    "explorer": {"errors", "rng", "devices", "core", "datasets", "baselines", "training", "analysis"},
}


def project_imports(path: Path) -> set[str]:
    """The top-level pyro_ccvae (or CLI) parts a library file imports, relative imports resolved."""
    package = path.relative_to(REPO).with_suffix("").parts[:-1]  # ("pyro_ccvae", "core", ...)
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1]) + (node.module.split(".") if node.module else [])
                names = [base + [a.name] for a in node.names] if len(base) == 1 else [base]
            else:
                names = [(node.module or "").split(".")]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".") for a in node.names]
        else:
            continue
        for parts in names:
            if parts[0] in ("cli", "pyro_ccvae_cli"):
                found.add("cli")
            elif parts[0] == "pyro_ccvae" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_library_layers_import_only_downwards():
    for path in sorted((REPO / "pyro_ccvae").rglob("*.py")):
        parts = path.relative_to(REPO / "pyro_ccvae").with_suffix("").parts
        layer = parts[0]
        if layer == "__init__":
            continue
        allowed = LAYERS[layer] | {layer, "__version__"}
        imported = project_imports(path)
        assert imported <= allowed, f"{path.relative_to(REPO)} imports {sorted(imported - allowed)}"


FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")


def test_library_errors_name_no_command_line_flag():
    for path in (REPO / "pyro_ccvae").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and node.exc is not None:
                texts = [n.value for n in ast.walk(node.exc) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
                flags = [t for t in texts if FLAG.search(t)]
                assert not flags, f"{path.relative_to(REPO)}:{node.lineno} raises with {flags}"


def test_the_command_line_is_installed_under_a_name_of_its_own(tmp_path):
    def imports(module):
        return subprocess.run([sys.executable, "-c", f"import {module}"], cwd=tmp_path, capture_output=True).returncode

    assert imports("pyro_ccvae_cli.main") == 0
    assert imports("cli") != 0


@pytest.mark.parametrize("name", ["ccvae", "ccvae_mixed", "m2", "diva", "mvae"])
def test_runs_of_format_2_build_the_parameters_their_checkpoints_hold(name):
    """config.json and the state-dict keys and shapes of runs written before the library was
    arranged in layers (recorded then, in tests/data/format2)."""
    folder = REPO / "tests" / "data" / "format2" / name
    config = checkpoint.load_config(folder)
    spec = registry.spec_of(config["model_name"])
    model = spec.model_class(spec.config_class(**config["model"]))
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    assert shapes == json.loads((folder / "state_shapes.json").read_text())


def test_library_calls_leave_the_global_generator_as_it_was(tmp_path):
    from .helpers import tiny_synthfaces

    data = tiny_synthfaces(tmp_path, 120, 16)
    x = torch.rand(2, 3, 16, 16)
    before = torch.get_rng_state()
    model, _ = train_new_run(TrainConfig(dataset=str(data), epochs=1, batch_size=32, num_classifier_samples=4),
                             ModelOptions(z_s_dim=4), tmp_path / "run", CPU)  # fmt: skip
    y, mask = assignment_tensors({"Smiling": 1.0}, model.config.label_names, 4)
    conditional_samples(model, y, mask, torch.Generator().manual_seed(0))
    flip_each_label(model, x, generator=torch.Generator().manual_seed(0))
    assert torch.equal(torch.get_rng_state(), before)
    seeding = [p.name for p in (REPO / "pyro_ccvae").rglob("*.py") if "torch.manual_seed(" in p.read_text()]
    assert seeding == ["rng.py"]


def test_the_same_seed_gives_the_same_run(tmp_path):
    from .helpers import tiny_synthfaces

    data = tiny_synthfaces(tmp_path, 120, 16)
    config = TrainConfig(dataset=str(data), epochs=1, batch_size=32, num_classifier_samples=4)
    a, _ = train_new_run(config, ModelOptions(z_s_dim=4), tmp_path / "a", CPU)
    torch.rand(100)  # the caller's global state differs between the two runs
    b, _ = train_new_run(config, ModelOptions(z_s_dim=4), tmp_path / "b", CPU)
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), name
