"""The baselines (M2, modified DIVA, MVAE) against direct torch computations with fixed draws,
and the classical classifiers on tiny problems."""

import math

import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
import torch.nn.functional as F
from pyro.infer import SVI, Trace_ELBO

from pyro_ccvae.analysis.classical import classical_scores
from pyro_ccvae.baselines import (
    BASELINES,
    DIVA,
    DIVA_ELBO,
    M2,
    M2_ELBO,
    MVAE,
    MVAE_ELBO,
    DIVAConfig,
    M2Config,
    MVAEConfig,
    kingma_alpha,
    product_of_experts,
)
from pyro_ccvae.baselines.common import replay_values

from .helpers import loc_scale, move_off_symmetric_start

LABELS = dict(label_names=["a", "b", "c"], label_priors=[0.3, 0.5, 0.8], image_shape=(3, 8, 8))


@pytest.fixture
def m2():
    torch.manual_seed(1)
    return M2(M2Config(**LABELS, z_dim=4))


@pytest.fixture
def diva():
    torch.manual_seed(1)
    model = DIVA(DIVAConfig(**LABELS, z_c_block=2, z_s_dim=4))
    move_off_symmetric_start(model)
    return model


@pytest.fixture
def mvae():
    torch.manual_seed(1)
    return MVAE(MVAEConfig(**LABELS, latent_dim=5, label_hidden=16))


def grads(model, value):
    model.zero_grad()
    value.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def assert_same_grads(model, ours, direct):
    ours, direct = grads(model, ours), grads(model, direct)
    assert ours.keys() == direct.keys()
    for name in ours:
        torch.testing.assert_close(ours[name], direct[name], rtol=1e-4, atol=1e-4, msg=name)


def log_bernoulli(logits, values):
    return values * F.logsigmoid(logits) + (1 - values) * F.logsigmoid(-logits)


def log_p_y(model, values):
    p = model.label_probs if hasattr(model, "label_probs") else model.label_groups[0].probs
    return values * p.log() + (1 - values) * (1 - p).log()


# M2 -------------------------------------------------------------------------------------------


def m2_direct(model, x, y, mask, y_u, z):
    """Per row: L(x, y) of Kingma et al. eq. (6) at y = (y_o, y_u) and z [B, z_dim]; H(q(y_u|x));
    log q(y_u|x); log q(y_o|x)."""
    obs = mask.float()
    y_full = torch.where(mask, y, y_u)
    loc, raw = model.encoder_head(torch.cat([model.encoder_body(x), y_full], -1)).chunk(2, -1)
    scale = F.softplus(raw) + 1e-5
    log_px = dist.Laplace(model.decoder(torch.cat([z, y_full], -1)), 1.0).log_prob(x).sum((1, 2, 3))
    elbo = (
        log_px
        + log_p_y(model, y_full).sum(-1)
        + dist.Normal(0.0, 1.0).log_prob(z).sum(-1)
        - dist.Normal(loc, scale).log_prob(z).sum(-1)
    )
    logits = model.classifier(x)
    q = torch.sigmoid(logits)
    entropy = -(q * F.logsigmoid(logits) + (1 - q) * F.logsigmoid(-logits))
    return (
        elbo,
        ((1 - obs) * entropy).sum(-1),
        ((1 - obs) * log_bernoulli(logits, y_u)).sum(-1),
        (obs * log_bernoulli(logits, y)).sum(-1),
    )


def test_m2_sampled_objective_equals_direct_computation(m2, tiny_batch):
    x, y, mask = tiny_batch
    g = torch.Generator().manual_seed(3)
    y_u = torch.bernoulli(torch.full_like(y, 0.5), generator=g)
    z = torch.randn(6, 1, 4, generator=g)
    guide = replay_values(m2.guide, {"y_unobserved": y_u, "z": z})
    value, surrogate = M2_ELBO(alpha=2.5, label_samples=1).row_bounds(m2.model, guide, x, y, mask)
    elbo, entropy, log_q_u, log_q_o = m2_direct(m2, x, y, mask, y_u, z.squeeze(1))
    expected = elbo + entropy + 2.5 * log_q_o
    torch.testing.assert_close(value, expected, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(surrogate, value)
    # One draw: the score-function term log q(y_u|x) * L(x, y), with no baseline.
    assert_same_grads(m2, surrogate.sum(), (expected + log_q_u * elbo.detach()).sum())


def test_m2_leave_one_out_baseline(m2, tiny_batch):
    """label_samples = 3: rows with a latent label get 3 draws; value and surrogate are their
    means, each draw's score term uses the mean of the other two draws as its baseline."""
    x, y, mask = tiny_batch
    latent_rows = [2, 3, 4, 5]  # rows of tiny_batch with a latent label
    index = torch.tensor(list(range(6)) + latent_rows * 2)  # the ELBO's copies, in its order
    g = torch.Generator().manual_seed(3)
    y_u = torch.bernoulli(torch.full((len(index), 3), 0.5), generator=g)
    z = torch.randn(len(index), 1, 4, generator=g)
    guide = replay_values(m2.guide, {"y_unobserved": y_u, "z": z})
    value, surrogate = M2_ELBO(alpha=2.5, label_samples=3).row_bounds(m2.model, guide, x, y, mask)

    elbo, entropy, log_q_u, log_q_o = m2_direct(m2, x[index], y[index], mask[index], y_u, z.squeeze(1))
    per_copy = elbo + entropy + 2.5 * log_q_o
    signal = elbo.detach()
    expected_value, expected_surrogate = [], []
    for row in range(6):
        copies = (index == row).nonzero().squeeze(-1)
        expected_value.append(per_copy[copies].mean())
        if len(copies) == 1:
            baselines = torch.zeros(1)
        else:
            baselines = torch.stack([signal[copies[copies != c]].mean() for c in copies])
        scores = log_q_u[copies] * (signal[copies] - baselines)
        expected_surrogate.append((per_copy[copies] + scores - scores.detach()).mean())
    expected_value, expected_surrogate = torch.stack(expected_value), torch.stack(expected_surrogate)
    torch.testing.assert_close(value, expected_value, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(surrogate, value)
    assert_same_grads(m2, surrogate.sum(), expected_surrogate.sum())


def test_m2_enumerated_objective_equals_direct_sum(m2, tiny_batch):
    x, y, mask = tiny_batch
    configs = torch.tensor([[(k >> i) & 1 for i in range(3)] for k in range(8)], dtype=torch.float32)
    z = torch.randn(8 * 6, 1, 4, generator=torch.Generator().manual_seed(3))  # one per configuration and row
    value, surrogate = M2_ELBO(alpha=2.5, unsup_bound="enumerate").row_bounds(
        m2.model, replay_values(m2.guide, {"z": z}), x, y, mask
    )
    expected = 0
    for k, config in enumerate(configs):
        y_u = config.expand(6, 3)
        elbo, entropy, log_q_u, log_q_o = m2_direct(m2, x, y, mask, y_u, z[k * 6 : (k + 1) * 6].squeeze(1))
        counted = ~(mask & (y_u > 0.5)).any(-1)  # each configuration of the latent labels once
        expected = expected + counted * log_q_u.exp() * elbo
    expected = expected + entropy + 2.5 * log_q_o
    torch.testing.assert_close(value, expected, rtol=1e-5, atol=1e-3)
    torch.testing.assert_close(surrogate, value)
    assert_same_grads(m2, surrogate.sum(), expected.sum())


def test_m2_sampled_objective_averages_to_enumerated(m2, tiny_batch):
    x, y, mask = tiny_batch
    with torch.no_grad():  # q(z|x,y) almost a point mass, so that the draws of y dominate
        m2.encoder_head.weight[4:] = 0
        m2.encoder_head.bias[4:] = -30
        n_sample, n_enum = 1000, 100
        copies = lambda n: [t.repeat(n, *[1] * (t.dim() - 1)) for t in (x, y, mask)]  # noqa: E731
        sampled = M2_ELBO(alpha=2.5, label_samples=1).row_bounds(m2.model, m2.guide, *copies(n_sample))[0]
        sampled = sampled.view(n_sample, -1)
        enumerated = M2_ELBO(alpha=2.5, unsup_bound="enumerate").row_bounds(m2.model, m2.guide, *copies(n_enum))
        enumerated = enumerated[0].view(n_enum, -1)
    stderr = (sampled.var(0) / n_sample + enumerated.var(0) / n_enum).sqrt()
    assert (sampled[:, 2:].std(0) > enumerated[:, 2:].std(0)).all()  # y really is drawn
    assert ((sampled.mean(0) - enumerated.mean(0)).abs() < 4 * stderr + 1e-3).all()


def test_m2_mixed_batch_is_the_sum_of_its_parts(m2, tiny_batch):
    x, y, mask = tiny_batch
    g = torch.Generator().manual_seed(3)
    y_u = torch.bernoulli(torch.full_like(y, 0.5), generator=g)
    z = torch.randn(6, 1, 4, generator=g)
    elbo = M2_ELBO(alpha=2.5, label_samples=1)

    def rows(r):
        guide = replay_values(m2.guide, {"y_unobserved": y_u[r], "z": z[r]})
        return elbo.row_bounds(m2.model, guide, x[r], y[r], mask[r])[0]

    labelled = mask.all(-1)
    with torch.no_grad():
        whole = rows(slice(None))
        torch.testing.assert_close(whole[labelled], rows(labelled))
        torch.testing.assert_close(whole[~labelled], rows(~labelled))


def test_m2_options_are_checked(m2, tiny_batch):
    with pytest.raises(ValueError, match="unsup_bound"):
        M2_ELBO(unsup_bound="exact")
    many = M2(M2Config(label_names=list("abcdefghijk"), label_priors=[0.5] * 11, image_shape=(1, 8, 8), z_dim=2))
    x = torch.rand(2, 1, 8, 8)
    y, mask = torch.zeros(2, 11), torch.zeros(2, 11, dtype=torch.bool)
    with pytest.raises(ValueError, match="2\\^L"):
        M2_ELBO(unsup_bound="enumerate").loss(many.model, many.guide, x, y, mask)
    assert kingma_alpha(50_000, 100) == pytest.approx(50.0)


# DIVA -----------------------------------------------------------------------------------------


def normal_kl(m1, s1, m2, s2):
    return torch.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


def diva_direct(model, x, y, mask, z_c, z_s, beta, alpha):
    """App. C.4 per row: L^s_diva on observed labels, L^u_diva on latent ones, alpha log q(y|z_c)."""
    obs = mask.float()
    loc, scale = model.encoder(x)
    loc_c, loc_s = model.split_z(loc)
    scale_c, scale_s = model.split_z(scale)
    log_px = dist.Laplace(model.decode(z_c, z_s), 1.0).log_prob(x).sum((1, 2, 3))
    kl_s = normal_kl(loc_s, scale_s, torch.tensor(0.0), torch.tensor(1.0)).sum(-1)
    mu, sigma = loc_scale(model.conditional_prior(y))
    kl_c = normal_kl(loc_c, scale_c, mu, sigma).sum(-1)  # [B, L]
    logits = model.label_groups[0].classifier(z_c)
    auxiliary = log_bernoulli(logits, y)
    imputed = -dist.Normal(loc_c, scale_c).log_prob(z_c).sum(-1)
    for v in (0.0, 1.0):
        values = torch.full_like(y, v)
        mu, sigma = loc_scale(model.conditional_prior(values))
        log_q = log_bernoulli(logits, values)
        joint = dist.Normal(mu, sigma).log_prob(z_c).sum(-1) + log_p_y(model, values)
        imputed = imputed + log_q.exp() * (joint - log_q)
    per_label = obs * (alpha * auxiliary - beta * kl_c) + (1 - obs) * beta * imputed
    return log_px - beta * kl_s + per_label.sum(-1)


def diva_draws(model, x):
    loc, scale = model.encoder(x)
    z = (loc + scale * torch.randn(loc.shape, generator=torch.Generator().manual_seed(3))).detach()
    z_c, z_s = model.split_z(z)
    return z_c, z_s


def test_diva_objective_equals_direct_computation(diva, tiny_batch):
    x, y, mask = tiny_batch
    z_c, z_s = diva_draws(diva, x)
    guide = replay_values(diva.guide, {"z_c": z_c, "z_s": z_s.unsqueeze(1)})
    value, surrogate = DIVA_ELBO(beta=0.7, alpha=3.0).row_bounds(diva.model, guide, x, y, mask)
    expected = diva_direct(diva, x, y, mask, z_c, z_s, 0.7, 3.0)
    torch.testing.assert_close(value, expected, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(surrogate, value)
    assert_same_grads(diva, surrogate.sum(), expected.sum())


def test_diva_mixed_batch_is_the_sum_of_its_parts(diva, tiny_batch):
    x, y, mask = tiny_batch
    z_c, z_s = diva_draws(diva, x)
    elbo = DIVA_ELBO()

    def rows(r):
        guide = replay_values(diva.guide, {"z_c": z_c[r], "z_s": z_s[r].unsqueeze(1)})
        return elbo.row_bounds(diva.model, guide, x[r], y[r], mask[r])[0]

    labelled = mask.all(-1)
    with torch.no_grad():
        whole = rows(slice(None))
        torch.testing.assert_close(whole[labelled], rows(labelled))
        torch.testing.assert_close(whole[~labelled], rows(~labelled))


def test_diva_shares_the_ccvae_interface(diva, tiny_batch):
    x, y, _ = tiny_batch
    z_c, z_s = diva.encode(x)
    assert z_c.shape == (6, 3, 2) and z_s.shape == (6, 4)
    out = diva.intervene(x, {1: 1.0})
    loc, _ = loc_scale(diva.conditional_prior(torch.ones(6, 3)))
    torch.testing.assert_close(out, diva.decode(torch.stack([z_c[:, 0], loc[:, 1], z_c[:, 2]], 1), z_s))


# MVAE -----------------------------------------------------------------------------------------


def test_product_of_experts_by_hand():
    locs = [torch.tensor([[1.0], [1.0]]), torch.tensor([[3.0], [3.0]])]
    scales = [torch.tensor([[1.0], [1.0]]), torch.tensor([[0.5], [0.5]])]
    loc, scale = product_of_experts(locs, scales, [None, torch.tensor([True, False])])
    # Row 0: precisions 1 (prior) + 1 + 4 = 6, loc (0 + 1 * 1 + 3 * 4) / 6; row 1: expert 2 left out.
    torch.testing.assert_close(loc, torch.tensor([[13 / 6], [0.5]]))
    torch.testing.assert_close(scale, torch.tensor([[6**-0.5], [2**-0.5]]))


def mvae_posterior(model, x, y, mask, use_x):
    """The PoE of the prior and the experts present, written out."""
    precision, weighted = 1.0, 0.0
    if use_x:
        loc, scale = model.image_expert(x)
        precision, weighted = precision + scale**-2, weighted + loc * scale**-2
    present = mask.any(-1, keepdim=True).float()
    loc, scale = model.label_expert(y, mask)
    precision, weighted = precision + present * scale**-2, weighted + present * loc * scale**-2
    return weighted / precision, precision**-0.5


def mvae_direct(model, x, y, mask, z, use_x, label_weight):
    loc, scale = mvae_posterior(model, x, y, mask, use_x)
    value = dist.Normal(0.0, 1.0).log_prob(z).sum(-1) - dist.Normal(loc, scale).log_prob(z).sum(-1)
    value = value + label_weight * (mask * log_bernoulli(model.label_decoder(z), y)).sum(-1)
    if use_x:
        value = value + dist.Laplace(model.decoder(z), 1.0).log_prob(x).sum((1, 2, 3))
    return value


def fixed_mvae_guide(model, x_all, tables):
    """The guide with z fixed per row and view: tables["joint" | "x" | "y"] [B, m], looked up by
    which row of x_all each row is and which experts the call uses."""

    def guide(x, y, mask, x_mask=None):
        rows = [int((x_all == row).flatten(1).all(-1).nonzero()) for row in x]
        views = ["y" if x_mask is not None else ("joint" if m.any() else "x") for m in mask]
        z = torch.stack([tables[v][r] for v, r in zip(views, rows)]).unsqueeze(1)
        return replay_values(model.guide, {"z": z})(x, y, mask, x_mask=x_mask)

    return guide


def test_mvae_objective_equals_direct_computation(mvae, tiny_batch):
    x, y, mask = tiny_batch
    g = torch.Generator().manual_seed(3)
    tables = {view: torch.randn(6, 5, generator=g) for view in ("joint", "x", "y")}
    guide = fixed_mvae_guide(mvae, x, tables)
    value, surrogate = MVAE_ELBO(label_weight=3.0).row_bounds(mvae.model, guide, x, y, mask)

    labelled = mask.any(-1)
    none = torch.zeros_like(mask)
    joint = mvae_direct(mvae, x, y, mask, tables["joint"], True, 3.0)
    image_only = mvae_direct(mvae, x, y, none, tables["x"], True, 3.0)  # ELBO(x)
    labels_only = mvae_direct(mvae, x, y, mask, tables["y"], False, 3.0)  # ELBO(y_o)
    expected = torch.where(labelled, joint + image_only + labels_only, image_only)
    torch.testing.assert_close(value, expected, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(surrogate, value)
    assert_same_grads(mvae, surrogate.sum(), expected.sum())

    # The mixed batch is the sum of its parts.
    with torch.no_grad():
        for part in (labelled, ~labelled):
            alone = MVAE_ELBO(label_weight=3.0).row_bounds(mvae.model, guide, x[part], y[part], mask[part])[0]
            torch.testing.assert_close(alone, value[part].detach())


def test_mvae_joint_term_is_pyro_trace_elbo(mvae, tiny_batch):
    x, y, mask = tiny_batch
    torch.manual_seed(7)
    ours = MVAE_ELBO(label_weight=1.0, subsampled=False).loss(mvae.model, mvae.guide, x, y, mask)
    torch.manual_seed(7)
    pyros = Trace_ELBO().loss(mvae.model, mvae.guide, x, y, mask)
    assert ours == pytest.approx(pyros, rel=1e-5)


def test_mvae_manipulations(mvae, tiny_batch):
    x, y, _ = tiny_batch
    (z,) = mvae.encode(x)
    loc, _ = mvae_posterior(mvae, x, y, torch.zeros_like(y, dtype=torch.bool), True)
    torch.testing.assert_close(z, loc)
    torch.testing.assert_close(mvae.predict_proba(x), torch.sigmoid(mvae.label_decoder(loc)))
    generated = mvae.generate(y, torch.Generator().manual_seed(0))
    assert generated.shape == x.shape
    swapped = mvae.swap(x, x.flip(0))
    y_source = (mvae.predict_proba(x) > 0.5).float()
    loc, _ = mvae_posterior(mvae, x.flip(0), y_source, torch.ones_like(y, dtype=torch.bool), True)
    torch.testing.assert_close(swapped, mvae.decode(loc))


# All baselines ----------------------------------------------------------------------------------


@pytest.fixture(params=list(BASELINES))
def baseline(request):
    model_class, config_class, elbo_class = BASELINES[request.param]
    torch.manual_seed(1)
    config = config_class(**LABELS)
    return request.param, model_class(config), elbo_class()


def test_registry_config_round_trip_and_supports(baseline):
    name, model, _ = baseline
    config_class = BASELINES[name][1]
    assert config_class(**model.config.to_dict()) == model.config
    assert set(model.supports) == {"intervene", "traverse", "swap", "conditional_generation"}
    assert model.supports["traverse"] == (name == "diva")
    assert all(isinstance(v, bool) for v in model.supports.values())


def test_predictions_and_manipulation_shapes(baseline, tiny_batch):
    _, model, _ = baseline
    x, y, _ = tiny_batch
    with torch.no_grad():
        predicted = model.predict(x)
        assert predicted.shape == (6, 3) and ((predicted == 0) | (predicted == 1)).all()
        drawn = model.draw_labels(4000)
        assert ((drawn == 0) | (drawn == 1)).all()
        torch.testing.assert_close(drawn.mean(0), torch.tensor([0.3, 0.5, 0.8]), atol=0.04, rtol=0)
        for images in (model.reconstruct(x), model.decode(*model.encode(x)), model.generate(y),
                       model.intervene(x, {0: 1.0}), model.swap(x, x.flip(0))):  # fmt: skip
            assert images.shape == x.shape
            assert ((images >= 0) & (images <= 1)).all()


def test_svi_and_torch_steps_change_parameters(baseline, tiny_batch):
    name, model, elbo = baseline
    x, y, mask = tiny_batch
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    svi = SVI(model.model, model.guide, pyro.optim.Adam({"lr": 0.01}), loss=elbo)
    assert math.isfinite(svi.step(x, y, mask))
    changed = {n for n, p in model.named_parameters() if not torch.equal(before[n], p)}
    classifier = {"m2": "classifier.1.weight", "diva": "label_groups.0.classifier.weight", "mvae": "label_decoder.4.weight"}[name]
    assert classifier in changed
    assert len(changed) == len(before)  # every network is trained by the objective

    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    loss = elbo.differentiable_loss(model.model, model.guide, x, y, mask)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    assert any(not torch.equal(before[n], p) for n, p in model.named_parameters())


# Classical classifiers ------------------------------------------------------------------------


def separable_problem(rows, seed):
    """8x8 RGB images: label 0 brightens the left half, label 1 the top half; some labels missing."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.bernoulli(torch.full((rows, 2), 0.5), generator=g)
    images = 0.25 * torch.rand(rows, 3, 8, 8, generator=g)
    images[:, :, :, :4] += 0.5 * labels[:, 0, None, None, None]
    images[:, :, :4, :] += 0.5 * labels[:, 1, None, None, None]
    mask = torch.rand(rows, 2, generator=g) > 0.2
    return images, labels, mask


def test_classical_scores_on_separable_and_shuffled_labels():
    train = separable_problem(200, 0)
    test = separable_problem(200, 1)
    scores = classical_scores(*train, *test, cnn_epochs=15)
    assert list(scores) == ["cnn", "svm", "logreg", "random_forest", "knn"]
    for method, result in scores.items():
        assert result["accuracy"] > 0.9, method
        assert len(result["per_label"]) == 2 and result["features"].startswith("pixels")
        assert result["train_rows"] == train[2].sum(0).tolist()

    images, labels, mask = train
    shuffled = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(5))]
    scores = classical_scores(images, shuffled, mask, *test, cnn_epochs=15)
    for method, result in scores.items():
        assert abs(result["accuracy"] - 0.5) < 0.15, method


def test_classical_scores_on_pca_features_and_subsampling():
    train, test = separable_problem(200, 0), separable_problem(100, 1)
    scores = classical_scores(*train, *test, methods=("logreg",), features="pca", pca_components=10, max_train_rows=50)
    assert scores["logreg"]["features"].startswith("pca (10 components")
    assert scores["logreg"]["train_rows"] == [50, 50]
    assert scores["logreg"]["accuracy"] > 0.9
    uint8 = (train[0] * 255).round().to(torch.uint8)
    again = classical_scores(uint8, *train[1:], *test, methods=("logreg",))  # uint8 images are scaled to [0, 1]
    assert again["logreg"]["accuracy"] > 0.9
    with pytest.raises(ValueError, match="unknown method"):
        classical_scores(*train, *test, methods=("xgboost",))
    assert np.isnan(classical_scores(*train, test[0], test[1], torch.zeros(100, 2, dtype=torch.bool),
                                     methods=("logreg",))["logreg"]["accuracy"])  # fmt: skip
