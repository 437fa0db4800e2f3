"""`prior_lr_factor`: Adam's learning rate for p_psi(z_c | y)'s parameters as a multiple of lr
(docs/generation.md), through the training loop's parameter groups and `fit --prior-lr-factor`."""

import json

import pytest
import torch
from click.testing import CliRunner

from pyro_ccvae.core.elbo import CCVAE_ELBO
from pyro_ccvae.training.config import TrainConfig
from pyro_ccvae.training.loop import parameter_groups, training_step
from pyro_ccvae_cli.main import cli

from .helpers import one_line_error, tiny_synthfaces

FAST = ["--epochs", "1", "--batch-size", "32", "--z-s-dim", "4", "--device", "cpu"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("factor", [1.0, 10.0])
def test_adams_first_step_moves_the_prior_by_factor_times_lr(tiny_model, tiny_batch, factor):
    """Adam's first step moves each parameter by lr * g / (|g| + eps), about lr: the prior's
    parameters by about factor * lr, every other parameter by at most lr."""
    lr = 1e-3
    config = TrainConfig(lr=lr, prior_lr_factor=factor)
    groups = parameter_groups(tiny_model, config)
    assert len(groups) == (1 if factor == 1 else 2)
    prior = {id(p) for p in tiny_model.conditional_prior_parameters()}
    assert prior and prior <= {id(p) for p in tiny_model.parameters()}
    before = {name: p.detach().clone() for name, p in tiny_model.named_parameters()}
    optimizer = torch.optim.Adam(groups, lr=lr)
    training_step(tiny_model, CCVAE_ELBO(tiny_model.label_groups, 10), optimizer, *tiny_batch)
    moved = {name: (p.detach() - before[name]).abs().max().item() for name, p in tiny_model.named_parameters()}
    prior_moves = [moved[n] for n, p in tiny_model.named_parameters() if id(p) in prior]
    other_moves = [moved[n] for n, p in tiny_model.named_parameters() if id(p) not in prior]
    assert max(prior_moves) == pytest.approx(factor * lr, rel=1e-3)
    assert max(other_moves) == pytest.approx(lr, rel=1e-3)


def test_fit_records_the_factor_resumes_with_it_and_refuses_it_for_m2(tmp_path):
    data = tiny_synthfaces(tmp_path, 200, 16)
    result = run("fit", "--dataset", data, "--out", tmp_path / "run", "--prior-lr-factor", "10", *FAST)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "run" / "config.json").read_text())["train"]["prior_lr_factor"] == 10.0
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert [group["lr"] for group in state["optimizer"]["param_groups"]] == pytest.approx([1e-3, 1e-2])
    resumed = run("fit", "--resume", tmp_path / "run", "--epochs", "2")
    assert resumed.exit_code == 0, resumed.output
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert state["epoch"] == 2 and len(state["optimizer"]["param_groups"]) == 2
    refused = run("fit", "--model", "m2", "--dataset", data, "--out", tmp_path / "m2", "--prior-lr-factor", "10", *FAST)
    one_line_error(refused, 2, "--prior-lr-factor applies to ccvae, diva only, not to --model m2")
