"""Stratified batches: a fixed number of labelled rows per batch, weighted so that every
epoch's weighted loss has the plain batches' expectation (training/batches.py)."""

import pytest
import torch

from pyro_ccvae.core.elbo import CCVAE_ELBO
from pyro_ccvae.training.batches import plain_batches, stratified_batches


def test_stratified_batches_hold_the_labelled_rows_and_keep_the_expectation():
    n_l, n_u, batch, per_batch = 20, 560, 64, 8  # 10 steps of 56 unlabelled rows, 4 passes through S
    labelled = torch.zeros(n_l + n_u, dtype=torch.bool)
    labelled[torch.randperm(n_l + n_u, generator=torch.Generator().manual_seed(0))[:n_l]] = True
    batches = stratified_batches(labelled, batch, per_batch, torch.Generator().manual_seed(1))
    assert len(batches) == n_u // (batch - per_batch)
    rows = torch.cat([b.rows for b in batches])
    assert all(int(labelled[b.rows].sum()) == per_batch and len(b.rows) == batch for b in batches)
    unlabelled_seen = rows[~labelled[rows]]
    assert sorted(unlabelled_seen.tolist()) == sorted(torch.nonzero(~labelled).squeeze(1).tolist())  # each once
    assert torch.bincount(rows[labelled[rows]], minlength=n_l + n_u)[labelled].tolist() == [4] * n_l

    # For any per-row values, the epoch's weighted sum is (steps * B / N) times the sum over all rows.
    values = torch.randn(n_l + n_u, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    weighted = sum((b.weights.double() * values[b.rows]).sum() for b in batches)
    n = n_l + n_u
    assert float(weighted) == pytest.approx(len(batches) * batch / n * float(values.sum()), rel=1e-6)
    assert batches[0].weights[0] == pytest.approx(batch / n * n_l / per_batch)  # labelled rows first
    assert batches[0].weights[-1] == pytest.approx(batch / n * n_u / (batch - per_batch))


def test_batches_stay_plain_where_stratifying_changes_nothing():
    g = torch.Generator().manual_seed(0)
    many = torch.rand(1000, generator=g) < 0.2  # 12.8 labelled rows per batch of 64 already
    assert all(b.weights is None for b in stratified_batches(many, 64, 8, g))
    for mask in (torch.zeros(100, dtype=torch.bool), torch.ones(100, dtype=torch.bool)):
        assert all(b.weights is None for b in stratified_batches(mask, 64, 8, g))
    plain = plain_batches(100, 64, torch.Generator().manual_seed(3))
    assert sorted(torch.cat([b.rows for b in plain]).tolist()) == list(range(100))


def test_weighted_loss_weighs_each_row(tiny_model, tiny_batch):
    elbo = CCVAE_ELBO(tiny_model.label_groups, 10)
    weights = torch.tensor([0.5, 2.0, 1.0, 0.0, 3.0, 1.0])
    torch.manual_seed(0)
    _, surrogate = elbo.row_bounds(tiny_model.model, tiny_model.guide, *tiny_batch)
    torch.manual_seed(0)
    loss = elbo.weighted_loss(tiny_model.model, tiny_model.guide, weights, *tiny_batch)
    torch.testing.assert_close(loss, -(weights * surrogate).sum())
    torch.manual_seed(0)
    plain = elbo.differentiable_loss(tiny_model.model, tiny_model.guide, *tiny_batch)
    torch.manual_seed(0)
    torch.testing.assert_close(elbo.weighted_loss(tiny_model.model, tiny_model.guide, torch.ones(6), *tiny_batch), plain)


def test_a_run_with_stratified_batches_resumes_exactly(tmp_path):
    import itertools
    import signal

    from pyro_ccvae.errors import Interrupted
    from pyro_ccvae.training.config import ModelOptions, TrainConfig
    from pyro_ccvae.training.runs import load_model, resume_run, train_new_run

    from .helpers import tiny_synthfaces

    data = tiny_synthfaces(tmp_path, 100, 16)
    config = TrainConfig(dataset=str(data), sup_fraction=0.1, epochs=2, batch_size=16, num_classifier_samples=8,
                         labelled_per_batch=4, checkpoint_every=2)  # fmt: skip
    cpu, options = torch.device("cpu"), ModelOptions(z_s_dim=4)
    reference, _ = train_new_run(config, options, tmp_path / "reference", cpu)
    asked = itertools.count(1)
    with pytest.raises(Interrupted):
        train_new_run(config, options, tmp_path / "run", cpu, stop=lambda: signal.SIGTERM if next(asked) == 7 else 0)
    resume_run(tmp_path / "run", cpu)
    resumed = load_model(tmp_path / "run").state_dict()
    for name, value in reference.state_dict().items():
        assert torch.equal(resumed[name], value), name
