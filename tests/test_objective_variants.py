"""The objective variants of the posters (beta weighting, poster 002; the supervised contrastive
term on z_c, poster 000) against direct computations, and the paper's bound as their default."""

import math

import pytest
import torch
from click.testing import CliRunner

from pyro_ccvae.core.contrastive import label_classes, supervised_contrastive
from pyro_ccvae.core.elbo import CCVAE_ELBO
from pyro_ccvae.errors import InvalidRequest
from pyro_ccvae.training.config import ModelOptions, TrainConfig
from pyro_ccvae.training.registry import spec_of
from pyro_ccvae.training.runs import train_new_run
from pyro_ccvae_cli.main import cli

from .helpers import tiny_synthfaces
from .test_elbo import K, direct_rows, fixed_draws, grads, replay_fixed


def rows_of(model, x, y, mask, z_c, z_s, bound="enumerate", seed=4, **variants):
    guide = replay_fixed(model.guide, {"z_c": z_c, "z_s": z_s})
    torch.manual_seed(seed)
    # eq. (8)'s own estimator, whose gradient the direct computations write out (the control
    # variate keeps the value and the expected gradient, not each draw's: tests/test_elbo.py)
    elbo = CCVAE_ELBO(model.label_groups, K, bound, **{"control_variate": False, **variants})
    return elbo.row_bounds(model.model, guide, x, y, mask)


# beta ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bound", ["enumerate", "marginal"])
@pytest.mark.parametrize("beta", [0.05, 0.4, 2.0])
def test_beta_weights_the_prior_terms_as_written_out(tiny_model, tiny_batch, bound, beta):
    x, y, mask = tiny_batch
    z_c, z_s = fixed_draws(tiny_model, x)
    value, surrogate = rows_of(tiny_model, x, y, mask, z_c, z_s, bound, beta=beta)
    expected = direct_rows(tiny_model, x, y, mask, bound, z_c, z_s, beta=beta)
    torch.testing.assert_close(value, expected, rtol=1e-5, atol=1e-4)
    ours, direct = grads(tiny_model, surrogate.sum()), grads(tiny_model, expected.sum())
    assert ours.keys() == direct.keys()
    for name in ours:
        torch.testing.assert_close(ours[name], direct[name], rtol=1e-4, atol=1e-4, msg=name)
    unweighted = rows_of(tiny_model, x, y, mask, z_c, z_s, bound)[0]
    assert (value - unweighted).abs().min() > 1e-3  # beta changes every row


@pytest.mark.parametrize("bound", ["enumerate", "marginal", "sample"])
def test_beta_one_and_no_contrastive_term_is_the_paper_bound(tiny_model, tiny_batch, bound):
    x, y, mask = tiny_batch
    z_c, z_s = fixed_draws(tiny_model, x)
    default = rows_of(tiny_model, x, y, mask, z_c, z_s, bound, seed=7)
    explicit = rows_of(tiny_model, x, y, mask, z_c, z_s, bound, seed=7, beta=1.0, contrastive_weight=0.0)
    torch.testing.assert_close(explicit[0], default[0], rtol=0, atol=0)
    if bound != "sample":  # the sample bound's y is a fresh draw; test_elbo checks it
        torch.testing.assert_close(default[0], direct_rows(tiny_model, x, y, mask, bound, z_c, z_s, seed=7), rtol=1e-5, atol=1e-4)


def test_beta_is_linear_in_the_prior_terms(tiny_model, tiny_batch):
    """L(beta) = L(1) + (beta - 1) P with the same P for every beta: the objective is the
    bound plus (beta - 1) times the prior terms (docs/objective.md)."""
    x, y, mask = tiny_batch
    z_c, z_s = fixed_draws(tiny_model, x)
    with torch.no_grad():
        values = {b: rows_of(tiny_model, x, y, mask, z_c, z_s, beta=b)[0] for b in (0.0, 0.5, 1.0, 3.0)}
    slope = values[1.0] - values[0.0]
    for b, value in values.items():
        torch.testing.assert_close(value, values[0.0] + b * slope, rtol=1e-5, atol=1e-2)


# The supervised contrastive term ----------------------------------------------------------


def looped_contrastive(features, classes, tau):
    """L_i of poster 000, one anchor and one positive at a time."""
    u = [f / f.norm() for f in features]
    out = []
    for i in range(len(u)):
        positives = [p for p in range(len(u)) if p != i and classes[p] == classes[i]]
        denominator = sum(math.exp(float(u[i] @ u[j]) / tau) for j in range(len(u)) if j != i)
        terms = [math.log(math.exp(float(u[i] @ u[p]) / tau) / denominator) for p in positives]
        out.append(-sum(terms) / len(terms) if terms else 0.0)
    return torch.tensor(out, dtype=torch.float64)


@pytest.mark.parametrize("tau", [0.1, 0.5, 2.0])
def test_contrastive_loss_equals_the_posters_formula(tau):
    g = torch.Generator().manual_seed(0)
    features = torch.randn(9, 4, generator=g, dtype=torch.float64)
    classes = torch.tensor([0, 1, 0, 2, 1, 1, 0, 3, 2])  # class 3 has one member: no positive
    ours = supervised_contrastive(features, classes, tau)
    torch.testing.assert_close(ours, looped_contrastive(features, classes, tau).to(ours), rtol=1e-9, atol=1e-9)
    assert ours[7] == 0 and (ours[:7] > 0).all()


def test_contrastive_loss_is_small_when_classes_are_apart_and_large_when_mixed():
    classes = torch.tensor([0, 0, 0, 1, 1, 1])
    apart = torch.tensor([[1.0, 0.0]] * 3 + [[-1.0, 0.0]] * 3)
    mixed = apart[[0, 3, 1, 4, 2, 5]]
    tau = 0.1
    assert supervised_contrastive(apart, classes, tau).max() < math.log(2) + 1e-6  # 2 positives at distance 0
    assert supervised_contrastive(mixed, classes, tau).min() > 5  # positives are the far ones
    scaled = supervised_contrastive(5 * apart, classes, tau)  # normalised: the scale does not matter
    torch.testing.assert_close(scaled, supervised_contrastive(apart, classes, tau))


def test_label_classes_group_rows_that_agree_on_every_label():
    values = torch.tensor([[0.0, 1.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    classes = label_classes(values).tolist()
    assert classes[0] == classes[2] and classes[1] == classes[4]
    assert len({classes[0], classes[1], classes[3]}) == 3


def test_contrastive_term_is_subtracted_for_fully_labelled_rows(tiny_model):
    g = torch.Generator().manual_seed(3)
    x = torch.rand(8, 3, 8, 8, generator=g)
    y = torch.tensor([[0, 1, 1], [0, 1, 1], [1, 0, 0], [1, 0, 0], [0, 1, 1], [1, 1, 1], [0, 0, 0], [1, 0, 1.0]])
    mask = torch.ones(8, 3, dtype=torch.bool)
    mask[6:] = False  # two rows without labels
    mask[5, 1] = False  # and one with a label missing: not an anchor
    z_c, z_s = fixed_draws(tiny_model, x)
    plain = rows_of(tiny_model, x, y, mask, z_c, z_s)[0]
    weight, tau = 2.5, 0.3
    value, surrogate = rows_of(tiny_model, x, y, mask, z_c, z_s, contrastive_weight=weight, contrastive_temperature=tau)
    anchors = mask.all(-1)
    means = tiny_model.encode(x)[0].flatten(1)  # the means of q(z_c | x)
    expected = torch.zeros(8)
    expected[anchors] = looped_contrastive(means[anchors].detach(), label_classes(y[anchors]), tau).float()
    torch.testing.assert_close(plain - value, weight * expected, rtol=1e-4, atol=1e-4)
    assert (expected[:5] > 0).all() and (expected[5:] == 0).all()
    # The term's gradient reaches the encoder (it shapes z_c), not the decoder.
    with_term = grads(tiny_model, surrogate.sum())
    without = grads(tiny_model, rows_of(tiny_model, x, y, mask, z_c, z_s)[1].sum())
    assert not torch.allclose(with_term["encoder.head.weight"], without["encoder.head.weight"])
    decoder = [name for name in without if name.startswith("decoder.")]
    assert decoder
    for name in decoder:
        torch.testing.assert_close(with_term[name], without[name])


def test_elbo_rejects_bad_variant_settings(tiny_model):
    with pytest.raises(ValueError, match="beta"):
        CCVAE_ELBO(tiny_model.label_groups, beta=-1)
    with pytest.raises(ValueError, match="temperature"):
        CCVAE_ELBO(tiny_model.label_groups, contrastive_weight=1, contrastive_temperature=0)


# Settings: the CCVAE takes them, other models refuse them ---------------------------------


def test_train_config_reaches_the_ccvae_objective(tiny_model):
    config = TrainConfig(beta=0.05, contrastive_weight=3.0, contrastive_temperature=0.2)
    elbo = spec_of("ccvae").make_elbo(tiny_model, config)
    assert (elbo.beta, elbo.contrastive_weight, elbo.contrastive_temperature) == (0.05, 3.0, 0.2)
    default = spec_of("ccvae").make_elbo(tiny_model, TrainConfig())
    assert (default.beta, default.contrastive_weight) == (1.0, 0.0)


@pytest.mark.parametrize("model_name, changes", [("m2", {"contrastive_weight": 1.0}), ("mvae", {"beta": 0.5}),
                                                 ("diva", {"contrastive_temperature": 0.5})])
def test_other_models_refuse_the_ccvae_variants(tmp_path, model_name, changes):
    config = TrainConfig(dataset=str(tmp_path / "unused.h5"), **changes)
    with pytest.raises(InvalidRequest, match=next(iter(changes))):
        train_new_run(config, ModelOptions(), tmp_path / "run", torch.device("cpu"), model_name=model_name)
    assert not (tmp_path / "run").exists()


def test_fit_trains_with_both_variants_and_refuses_them_for_m2(tmp_path):
    data = tiny_synthfaces(tmp_path, 120, 8)
    runner = CliRunner()
    args = ["fit", "--dataset", str(data), "--epochs", "1", "--batch-size", "32", "--z-s-dim", "4", "--sup", "0.5",
            "--device", "cpu"]
    result = runner.invoke(cli, [*args, "--beta", "0.2", "--contrastive-weight", "5", "--classifier-samples", "4",
                                 "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert '"contrastive_weight": 5.0' in (tmp_path / "run" / "config.json").read_text()
    result = runner.invoke(cli, [*args, "--model", "m2", "--contrastive-weight", "5", "--out", str(tmp_path / "m2")])
    assert result.exit_code == 2 and "--contrastive-weight applies to ccvae only" in result.output


def test_beta_above_one_stays_below_log_px_on_unlabelled_rows(tiny_model, tiny_batch):
    """For a latent-label row beta multiplies P = log p(z_s) - log q(z_s|x) + sum_i [U_i - log q(z_c^i|x)],
    and E[P] <= -KL(q(z|x) || p(z)) <= 0, so beta > 1 gives a lower bound there (docs/objective.md)."""
    from .test_elbo import importance_sampled_log_px

    x, y, _ = tiny_batch
    mask = torch.zeros_like(y, dtype=torch.bool)
    log_px = importance_sampled_log_px(tiny_model, x, num_samples=2000)
    n = 200
    copies = [t.repeat(n, *[1] * (t.dim() - 1)) for t in (x, y, mask)]
    with torch.no_grad():
        means = {}
        for beta in (1.0, 3.0):
            elbo = CCVAE_ELBO(tiny_model.label_groups, K, "enumerate", beta=beta)
            means[beta] = elbo.row_bounds(tiny_model.model, tiny_model.guide, *copies)[0].view(n, -1).mean(0)
    assert (means[3.0] < means[1.0]).all() and (means[1.0] < log_px).all()
