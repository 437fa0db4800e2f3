"""Binary, categorical and continuous labels in one CCVAE: the bound against a direct torch
computation of eq. (4) and (5) label by label, on rows with observed and latent labels mixed;
the bound below an importance-sampled log p(x, y_o); and the label groups' own factors."""

import math

import pyro.distributions as dist
import pytest
import torch
import torch.nn.functional as F

from pyro_ccvae.core.elbo import CCVAE_ELBO
from pyro_ccvae.core.model import CCVAE, CCVAEConfig

from .helpers import loc_scale
from .test_elbo import grads, replay_fixed

K = 40
NAMES = ["a", "hair", "b", "age"]  # binary, categorical (3 classes), binary, continuous
HAIR = ["black", "brown", "blond"]


@pytest.fixture
def mixed_model():
    torch.manual_seed(1)
    config = CCVAEConfig(
        label_names=NAMES,
        label_priors=[0.3, [0.5, 0.3, 0.2], 0.6, [40.0, 12.0]],
        label_kinds=["binary", "categorical", "binary", "continuous"],
        label_classes={"hair": HAIR},
        image_shape=(3, 8, 8),
        z_c_block=2,
        z_s_dim=3,
        continuous_prior_scale=0.3,
    )
    model = CCVAE(config)
    with torch.no_grad():  # move every factor off its symmetric start
        for p in model.label_groups.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return model


@pytest.fixture
def mixed_batch():
    g = torch.Generator().manual_seed(2)
    x = torch.rand(6, 3, 8, 8, generator=g)
    y = torch.tensor(
        [[1, 2, 0, 35.0], [0, 0, 1, 61.0], [1, 1, 1, 22.0], [0, 2, 0, 48.0], [1, 0, 0, 30.0], [0, 1, 1, 55.0]]
    )
    mask = torch.tensor(
        [[1, 1, 1, 1], [0, 0, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 0, 0], [0, 0, 1, 1]], dtype=torch.bool
    )
    y = torch.where(mask, y, torch.zeros_like(y))  # the data pipeline's placeholder where masked
    return x, y, mask


def test_groups_and_sites(mixed_model):
    groups = mixed_model.label_groups
    assert [(g.kind, g.index) for g in groups] == [("binary", [0, 2]), ("categorical", [1]), ("continuous", [3])]
    assert [g.y_site for g in groups] == ["y", "y[hair]", "y[age]"]
    assert [g.z_c_site for g in groups] == ["z_c", "z_c[hair]", "z_c[age]"]


def direct_terms(model, z_c, values):
    """Per label i, written out from the parameters: log p(z_c^i | y_i), log p(y_i),
    log q(y_i | z_c^i), each [..., 4], for label values `values` [..., 4] and z_c [..., 4, d]."""
    binary, hair, age = model.label_groups
    log_p_zc, log_p_y, log_q_y = [], [], []
    for j, i in enumerate((0, 2)):  # binary labels: a (Bernoulli) and b
        v = values[..., i].long()
        loc = binary.characteristics.loc[j][v]
        scale = F.softplus(binary.characteristics.raw_scale[j][v])
        log_p_zc.append(dist.Normal(loc, scale).log_prob(z_c[..., i, :]).sum(-1))
        p = binary.probs[j]
        log_p_y.append(torch.where(v == 1, p.log(), (1 - p).log()))
        logit = (z_c[..., i, :] * binary.classifier.weight[j]).sum(-1) + binary.classifier.bias[j]
        log_q_y.append(torch.where(v == 1, F.logsigmoid(logit), F.logsigmoid(-logit)))
    c = values[..., 1].long()  # categorical: hair
    loc, scale = hair.characteristics.loc[0][c], F.softplus(hair.characteristics.raw_scale[0][c])
    log_p_zc.insert(1, dist.Normal(loc, scale).log_prob(z_c[..., 1, :]).sum(-1))
    log_p_y.insert(1, hair.probs[0].log()[c])
    log_softmax = F.log_softmax(hair.classifier(z_c[..., 1, :]), -1)
    log_q_y.insert(1, log_softmax.gather(-1, c.expand(log_softmax.shape[:-1]).unsqueeze(-1)).squeeze(-1))
    a = values[..., 3]  # continuous: age
    mean, std = 40.0, 12.0
    loc = ((a - mean) / std).unsqueeze(-1) * age.slope[0] + age.offset[0]
    scale = model.config.continuous_prior_scale
    log_p_zc.append(dist.Normal(loc, scale).log_prob(z_c[..., 3, :]).sum(-1))
    log_p_y.append(dist.Normal(mean, std).log_prob(a))
    alpha, beta, s = age_posterior(model)
    log_q_y.append(dist.Normal(alpha + (z_c[..., 3, :] * beta).sum(-1), s).log_prob(a))
    return torch.stack(log_p_zc, -1), torch.stack(log_p_y, -1), torch.stack(log_q_y, -1)


def age_posterior(model):
    """(alpha, beta, s) of p(age | z_c^age) = N(alpha + beta . z, s^2) for p(age) = N(40, 12^2) and
    p(z | age) = N(slope u + offset, sigma^2), u = (age - 40) / 12, by Bayes' rule: u | z has
    precision 1 + |slope|^2 / sigma^2 and mean slope . (z - offset) / sigma^2 / precision."""
    age = model.label_groups[2]
    slope, offset, sigma2 = age.slope[0], age.offset[0], model.config.continuous_prior_scale**2
    precision = 1 + (slope**2).sum() / sigma2
    beta = 12.0 * slope / sigma2 / precision
    return 40.0 - (beta * offset).sum(), beta, 12.0 / precision.sqrt()


def direct_bound(model, x, y, mask, bound, z_c, z_s, y_u, k=K, seed=4):
    """Eq. (4) for the observed labels of each row and eq. (5) for its latent ones, label by
    label; latent discrete labels summed over their values ("enumerate", "marginal") or taken
    at y_u ("sample"); latent continuous labels always at the draw y_u; an observed continuous
    label by log p(z_c^age | age) alone, outside w and q(y_o | x)."""
    obs = mask.float()
    loc, scale = model.encoder(x)
    loc_c, loc_s = model.split_z(loc)
    scale_c, scale_s = model.split_z(scale)
    log_px = dist.Laplace(model.decode(z_c, z_s), 1.0).log_prob(x).sum((1, 2, 3))
    log_pzs = dist.Normal(0.0, 1.0).log_prob(z_s).sum(-1)
    log_qz = dist.Normal(loc_c, scale_c).log_prob(z_c).sum((-1, -2)) + dist.Normal(loc_s, scale_s).log_prob(z_s).sum(-1)

    p_zc, p_y, q_y = direct_terms(model, z_c, y)
    observed = obs * (p_zc - q_y)
    observed[:, 3] = obs[:, 3] * p_zc[:, 3]  # an observed age does not tilt q(z | x)
    discrete = obs.clone()
    discrete[:, 3] = 0  # w and q(y_o | x) cover the discrete labels only
    p_zc_u, p_y_u, q_y_u = direct_terms(model, z_c, y_u)
    latent = p_zc_u + p_y_u - q_y_u  # one draw, [B, 4]
    if bound != "sample":
        for i, num_values in ((0, 2), (1, 3), (2, 2)):  # discrete labels: all their values
            per_value = []
            for v in range(num_values):
                values = y_u.clone()
                values[:, i] = v
                p_zc_v, p_y_v, q_y_v = direct_terms(model, z_c, values)
                per_value.append((p_zc_v[:, i] + p_y_v[:, i], q_y_v[:, i]))
            if bound == "enumerate":
                latent[:, i] = sum(lq.exp() * (joint - lq) for joint, lq in per_value)
            else:
                latent[:, i] = torch.stack([joint for joint, _ in per_value]).logsumexp(0)
    bracket = log_px + log_pzs - log_qz + (observed + (1 - obs) * latent).sum(-1)

    torch.manual_seed(seed)  # the ELBO's k draws of z_c, group by group: binary, hair
    draws = torch.zeros(k, *z_c.shape)
    for columns in ([0, 2], [1]):
        draws[:, :, columns] = dist.Normal(loc_c[:, columns], scale_c[:, columns]).rsample((k,))
    log_q_y_x = (discrete * direct_terms(model, draws, y)[2]).sum(-1).logsumexp(0) - math.log(k)
    weight = ((discrete * direct_terms(model, z_c.detach(), y)[2]).sum(-1) - log_q_y_x).exp()
    return weight * bracket + log_q_y_x + (obs * p_y).sum(-1)


def draws_for(model, x, seed=3):
    """z_c, z_s from q(z|x), and y_u: discrete labels uniform, age from q(age | z_c) by
    reparameterisation (a function of the parameters, so its gradient path is tested too)."""
    g = torch.Generator().manual_seed(seed)
    loc, scale = model.encoder(x)
    z_c, z_s = model.split_z((loc + scale * torch.randn(loc.shape, generator=g)).detach())
    batch = x.shape[0]
    q_age = model.label_groups[2].q_y(z_c[:, 3:4])
    age = q_age.loc + q_age.scale * torch.randn(batch, 1, generator=g)
    discrete = torch.stack([torch.randint(0, n, (batch,), generator=g) for n in (2, 3, 2)], -1).float()
    y_u = torch.cat([discrete, age], -1)  # [B, 4] in label order
    return z_c, z_s, y_u


@pytest.mark.parametrize("bound", ["enumerate", "marginal", "sample"])
def test_mixed_kinds_bound_equals_direct_computation(mixed_model, mixed_batch, bound):
    model = mixed_model
    x, y, mask = mixed_batch
    z_c, z_s, y_u = draws_for(model, x)
    sites = {"z_c": z_c[:, [0, 2]], "z_c[hair]": z_c[:, [1]], "z_c[age]": z_c[:, [3]], "z_s": z_s.unsqueeze(1)}
    sites["y[age]_unobserved"] = y_u[:, [3]]
    if bound == "sample":
        sites["y_unobserved"], sites["y[hair]_unobserved"] = y_u[:, [0, 2]], y_u[:, [1]]
    torch.manual_seed(4)
    elbo = CCVAE_ELBO(model.label_groups, K, bound, control_variate=False)  # eq. (8)'s own estimator, as written out
    value, surrogate = elbo.row_bounds(model.model, replay_fixed(model.guide, sites), x, y, mask)
    expected = direct_bound(model, x, y, mask, bound, z_c, z_s, y_u)
    torch.testing.assert_close(value, expected, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(surrogate, value)
    ours = grads(model, surrogate.sum())
    z_c, z_s, y_u = draws_for(model, x)  # the same draws again, for a fresh graph
    direct = grads(model, direct_bound(model, x, y, mask, bound, z_c, z_s, y_u).sum())
    assert ours.keys() == direct.keys()
    for name in ours:
        if bound == "sample" and name.startswith(("label_groups.0.classifier", "label_groups.1.classifier", "encoder")):
            continue  # the sampled bound adds score-function terms for its discrete draws
        torch.testing.assert_close(ours[name], direct[name], rtol=1e-4, atol=1e-4, msg=name)


def test_every_label_row_and_kind_enters_the_bound(mixed_model, mixed_batch):
    """Changing an observed value of any kind changes that row's bound and no other row's."""
    x, y, mask = mixed_batch
    elbo = CCVAE_ELBO(mixed_model.label_groups, K, "enumerate")
    with torch.no_grad():
        torch.manual_seed(5)
        before = elbo.row_bounds(mixed_model.model, mixed_model.guide, x, y, mask)[0]
        for column, new_value in ((0, 0.0), (1, 0.0), (3, 70.0)):
            changed = y.clone()
            changed[0, column] = new_value
            torch.manual_seed(5)
            after = elbo.row_bounds(mixed_model.model, mixed_model.guide, x, changed, mask)[0]
            assert after[0] != before[0], column
            torch.testing.assert_close(after[1:], before[1:])


def log_joint_rows(model, x, y, mask, num):
    """log p(x, y_o) per row by importance sampling from the prior: y_u ~ p(y_u), z_c ~ p(z_c|y),
    z_s ~ N(0, I), so that log p(x, y_o) = log p(y_o) + log E[p(x|z)]. Efficient when p(x|z)
    is flat (a large likelihood scale), as in the test below."""
    log_px = []
    for row in range(x.shape[0]):
        labels = torch.where(mask[row], y[row], model.draw_labels(num))  # [N, L]
        loc, scale = loc_scale(model.conditional_prior(labels))
        z_c = loc + scale * torch.randn_like(loc)
        z_s = torch.randn(num, model.config.z_s_dim)
        log_px_z = model.config.likelihood_of(model.decode(z_c, z_s)).log_prob(x[row]).sum((1, 2, 3))
        log_px.append(log_px_z.logsumexp(0) - math.log(num))
    log_p_yo = (mask.float() * direct_terms(model, torch.zeros(*y.shape, 2), y)[1]).sum(-1)
    return torch.stack(log_px) + log_p_yo


@torch.no_grad()
def test_mixed_bound_is_below_log_p_x_y(mixed_model, mixed_batch):
    """E[bound] <= log p(x, y_o) on rows with mixed observed and latent labels of every kind.

    At this model's random start single draws of the bound are heavy-tailed (for one row they
    ranged from -7700 to -13 nats around a mean of -203 +/- 7): w = q(y_o|zbar_c) / q(y_o|x)
    varies by orders of magnitude where the classifiers q(y_i|z_c^i) are steep over q(z_c|x),
    and with a bracket of about -800 nats even a tenfold spread of w swamps the mean of a few
    hundred draws. Nearly flat classifiers (w within a few per cent of 1) and a flat likelihood
    (scale 30, so that the prior is a good importance sampler) make the check about the bound
    itself, not about the estimators' variance; the direct computation above checks the
    weighted terms exactly."""
    x, y, mask = mixed_batch
    # A scale of p(z_c^age | age) like q(z_c^age | x)'s keeps the bound within tens of nats at a
    # random start (at the default 0.1 it is hundreds of nats below, though still below).
    mixed_model.label_groups[2].prior_scale = 1.0
    binary, hair, _ = mixed_model.label_groups
    for weight in (binary.classifier.weight, hair.classifier.weight):
        weight.mul_(0.01)
    mixed_model.config.likelihood_scale = 30.0
    torch.manual_seed(6)
    log_p = log_joint_rows(mixed_model, x, y, mask, 20000)
    repeats = 500
    rep = lambda t: t.repeat_interleave(repeats, 0)  # noqa: E731
    for bound in ("enumerate", "marginal", "sample"):
        elbo = CCVAE_ELBO(mixed_model.label_groups, 100, bound)
        values = elbo.row_bounds(mixed_model.model, mixed_model.guide, rep(x), rep(y), rep(mask))[0]
        mean_bound = values.reshape(6, repeats).mean(-1)
        assert (mean_bound < log_p).all(), (bound, mean_bound - log_p)
        assert (mean_bound > log_p - 30).all(), (bound, mean_bound - log_p)


def test_conditional_prior_and_predictions_follow_label_order(mixed_model):
    model = mixed_model
    y = torch.tensor([[1, 2, 0, 35.0], [0, 0, 1, 61.0]])
    loc, scale = loc_scale(model.conditional_prior(y))  # [2, 4, d]
    for group in model.label_groups:
        g_loc, g_scale = loc_scale(group.conditional_prior(y[:, group.index]))
        torch.testing.assert_close(loc[:, group.index], g_loc)
        torch.testing.assert_close(scale[:, group.index], g_scale)
    z_c = torch.randn(5, 4, 2)
    predicted = model.predict_labels(z_c)
    binary, hair, age = model.label_groups
    torch.testing.assert_close(predicted[:, [0, 2]], (binary.classifier(z_c[:, [0, 2]]) > 0).float())
    torch.testing.assert_close(predicted[:, 1], hair.classifier(z_c[:, 1]).argmax(-1).float())
    torch.testing.assert_close(predicted[:, 3:], age.q_y(z_c[:, 3:]).mean)


def test_draw_labels_follow_the_priors(mixed_model):
    torch.manual_seed(7)
    drawn = mixed_model.draw_labels(20000)
    assert drawn.shape == (20000, 4)
    assert abs(drawn[:, 0].mean() - 0.3) < 0.02 and abs(drawn[:, 2].mean() - 0.6) < 0.02
    frequencies = torch.bincount(drawn[:, 1].long(), minlength=3) / 20000.0
    torch.testing.assert_close(frequencies, torch.tensor([0.5, 0.3, 0.2]), atol=0.02, rtol=0)
    assert abs(drawn[:, 3].mean() - 40) < 0.5 and abs(drawn[:, 3].std() - 12) < 0.5


def test_config_rejects_inconsistent_kinds():
    base = dict(label_names=["hair"], image_shape=(3, 8, 8))
    with pytest.raises(ValueError, match="class names"):
        CCVAEConfig(**base, label_priors=[[0.5, 0.5]], label_kinds=["categorical"])
    with pytest.raises(ValueError, match="mean, std"):
        CCVAEConfig(**base, label_priors=[[1.0, 0.0]], label_kinds=["continuous"])
    with pytest.raises(ValueError, match="unknown kind"):
        CCVAEConfig(**base, label_priors=[0.5], label_kinds=["ordinal"])


def test_label_scores_are_accuracy_mae_and_r2_of_the_predictions(mixed_model):
    from pyro_ccvae.datasets.tensors import LabelledImages
    from pyro_ccvae.training.validation import label_scores

    g = torch.Generator().manual_seed(8)
    images = torch.randint(0, 256, (50, 3, 8, 8), dtype=torch.uint8, generator=g)
    labels = torch.stack(
        [torch.randint(0, 2, (50,), generator=g), torch.randint(0, 3, (50,), generator=g),
         torch.randint(0, 2, (50,), generator=g), 20 + 60 * torch.rand(50, generator=g)], -1
    ).float()  # fmt: skip
    mask = torch.rand(50, 4, generator=g) > 0.3
    data = LabelledImages(images, torch.where(mask, labels, torch.zeros_like(labels)), mask)
    with torch.no_grad():
        scores = label_scores(mixed_model, data, batch_size=16)
        predicted = mixed_model.predict(images.float() / 255)
    for i, name in enumerate(["a", "hair", "b"]):
        column = i if i < 2 else 2
        rows = mask[:, column]
        expected = (predicted[rows, column] == labels[rows, column]).float().mean().item()
        assert scores["per_label"][name] == pytest.approx(expected)
    assert scores["accuracy"] == pytest.approx(sum(scores["per_label"].values()) / 3)
    rows = mask[:, 3]
    truth, guess = labels[rows, 3].double(), predicted[rows, 3].double()
    assert scores["regression"]["age"]["mae"] == pytest.approx((truth - guess).abs().mean().item())
    r2 = 1 - ((truth - guess) ** 2).sum() / ((truth - truth.mean()) ** 2).sum()
    assert scores["regression"]["age"]["r2"] == pytest.approx(r2.item(), rel=1e-6)


@pytest.mark.parametrize("block", [1, 2, 5])
def test_a_categorical_label_starts_as_the_bayes_classifier_of_its_prior(block):
    from pyro_ccvae.core.kinds import CategoricalGroup, CategoricalLabel

    label = CategoricalLabel("hair", ["a", "b", "c", "d", "e"], [0.4, 0.3, 0.2, 0.05, 0.05])
    group = CategoricalGroup(label, 0, block)
    means = group.characteristics.loc[0]  # [K, d]
    z = means + 0.3 * torch.randn(400, 5, block)  # draws near each class mean, unit-scale prior
    log_joint = dist.Normal(means, 1.0).log_prob(z.unsqueeze(-2)).sum(-1) + group.probs.log()  # [400, 5, K]
    torch.testing.assert_close(group.q_y(z).logits, log_joint.log_softmax(-1), atol=1e-4, rtol=1e-4)
    if block >= 5:
        assert (torch.cdist(means, means) + 10 * torch.eye(5)).min() > 4  # classes apart
