"""The CCVAE ELBO against direct torch computations of eq. (4), (5) and (8)."""

import math

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro import poutine
from pyro.infer import SVI

from pyro_ccvae.core.elbo import CCVAE_ELBO

from .helpers import loc_scale

K = 50


def fixed_draws(model, x, seed=3):
    """One draw (z_c, z_s) from q(z|x), shaped as the guide's sites."""
    loc, scale = model.encoder(x)
    g = torch.Generator().manual_seed(seed)
    z = (loc + scale * torch.randn(loc.shape, generator=g)).detach()
    z_c, z_s = model.split_z(z)
    return z_c, z_s.unsqueeze(1)


def replay_fixed(guide, values):
    """The guide with some latent sites fixed to `values` (still latent, unlike poutine.condition)."""
    trace = poutine.Trace()
    for name, value in values.items():
        trace.add_node(name, type="sample", is_observed=False, value=value, infer={})
    return poutine.replay(guide, trace=trace)


def elbo_rows(model, x, y, mask, bound, z_c, z_s, k=K, seed=4, y_unobserved=None, control_variate=False):
    """The CCVAE_ELBO's (value, surrogate) at fixed draws; by default eq. (8)'s own estimator,
    as `direct_rows` writes it out."""
    data = {"z_c": z_c, "z_s": z_s}
    if y_unobserved is not None:
        data["y_unobserved"] = y_unobserved
    guide = replay_fixed(model.guide, data)
    torch.manual_seed(seed)
    elbo = CCVAE_ELBO(model.label_groups, k, bound, control_variate=control_variate)
    value, surrogate = elbo.row_bounds(model.model, guide, x, y, mask)
    return value, surrogate


def direct_rows(model, x, y, mask, bound, z_c, z_s, k=K, seed=4, y_unobserved=None, detach_weight=True, beta=1.0):
    """Eq. (4) for observed labels and eq. (5) for latent ones, written out with torch; `beta`
    (poster 002's variant) multiplies every prior term: log p(z_s) - log q(z_s|x), log p(z_c^i|y_i)
    or the latent label's term, and - log q(z_c|x)."""
    obs = mask.float()
    loc, scale = model.encoder(x)
    loc_c, loc_s = model.split_z(loc)
    scale_c, scale_s = model.split_z(scale)
    z_s = z_s.squeeze(1)
    log_px = dist.Laplace(model.decode(z_c, z_s), 1.0).log_prob(x).sum((1, 2, 3))
    log_pzs = dist.Normal(0.0, 1.0).log_prob(z_s).sum(-1)
    log_qz = dist.Normal(loc_c, scale_c).log_prob(z_c).sum((-1, -2)) + dist.Normal(loc_s, scale_s).log_prob(z_s).sum(-1)

    def log_p_zc(values):  # log p(z_c^i | y_i = values_i), [B, L]
        mu, sigma = loc_scale(model.conditional_prior(values))
        return dist.Normal(mu, sigma).log_prob(z_c).sum(-1)

    def log_q_y(z, values):  # log q(y_i = values_i | z_i), [..., L]
        return dist.Bernoulli(logits=model.label_groups[0].classifier(z)).log_prob(values)

    def log_p_y(values):
        p = model.label_groups[0].probs
        return values * p.log() + (1 - values) * (1 - p).log()

    if bound == "sample":
        latent = log_p_zc(y_unobserved) + log_p_y(y_unobserved) - log_q_y(z_c, y_unobserved)
    else:
        per_value = []
        for v in (0.0, 1.0):
            values = torch.full_like(y, v)
            per_value.append((log_p_zc(values) + log_p_y(values), log_q_y(z_c, values)))
        if bound == "enumerate":
            latent = sum(lq.exp() * (joint - lq) for joint, lq in per_value)
        else:
            latent = torch.logaddexp(per_value[0][0], per_value[1][0])
    priors = log_pzs - log_qz + (obs * log_p_zc(y) + (1 - obs) * latent).sum(-1)
    bracket = log_px + beta * priors - (obs * log_q_y(z_c, y)).sum(-1)

    torch.manual_seed(seed)
    draws = dist.Normal(loc_c, scale_c).rsample((k,))
    log_q_y_x = torch.logsumexp((obs * log_q_y(draws, y)).sum(-1), 0) - math.log(k)
    z_bar = z_c.detach() if detach_weight else z_c
    weight = ((obs * log_q_y(z_bar, y)).sum(-1) - log_q_y_x).exp()
    return weight * bracket + log_q_y_x + (obs * log_p_y(y)).sum(-1)


def grads(model, value):
    model.zero_grad()
    value.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("bound", ["enumerate", "marginal", "sample"])
def test_bounds_equal_direct_computation(tiny_model, tiny_batch, bound):
    x, y, mask = tiny_batch
    z_c, z_s = fixed_draws(tiny_model, x)
    y_u = torch.bernoulli(torch.full_like(y, 0.5)) if bound == "sample" else None
    value, surrogate = elbo_rows(tiny_model, x, y, mask, bound, z_c, z_s, y_unobserved=y_u)
    expected = direct_rows(tiny_model, x, y, mask, bound, z_c, z_s, y_unobserved=y_u)
    torch.testing.assert_close(value, expected, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(surrogate, value)
    if bound != "sample":  # same gradients too (the sample bound adds a score-function term)
        ours = grads(tiny_model, surrogate.sum())
        direct = grads(tiny_model, expected.sum())
        assert ours.keys() == direct.keys()
        for name in ours:
            torch.testing.assert_close(ours[name], direct[name], rtol=1e-4, atol=1e-4, msg=name)


def test_classifier_weight_is_not_reparameterised(tiny_model, tiny_batch):
    """App. C.3.1: inside w = q(y|zbar_c)/q(y|x), z_c carries no gradient to the encoder."""
    x, y, mask = tiny_batch
    loc, _ = tiny_model.encoder(x)
    z_c, z_s = tiny_model.split_z(loc)  # z as a function of the encoder, so gradients reach it
    ours = grads(tiny_model, elbo_rows(tiny_model, x, y, mask, "enumerate", z_c, z_s.unsqueeze(1))[0].sum())
    loc, _ = tiny_model.encoder(x)
    z_c, z_s = tiny_model.split_z(loc)
    detached = grads(tiny_model, direct_rows(tiny_model, x, y, mask, "enumerate", z_c, z_s.unsqueeze(1)).sum())
    loc, _ = tiny_model.encoder(x)
    z_c, z_s = tiny_model.split_z(loc)
    reparameterised = direct_rows(tiny_model, x, y, mask, "enumerate", z_c, z_s.unsqueeze(1), detach_weight=False)
    reparameterised = grads(tiny_model, reparameterised.sum())
    name = "encoder.head.weight"
    torch.testing.assert_close(ours[name], detached[name], rtol=1e-4, atol=1e-4)
    assert not torch.allclose(ours[name], reparameterised[name], rtol=1e-3, atol=1e-3)


def test_enumerate_is_the_mean_of_sample(tiny_model, tiny_batch):
    x, y, mask = tiny_batch
    mask = torch.zeros_like(mask)  # all labels latent: eq. (5)
    z_c, z_s = fixed_draws(tiny_model, x)
    n = 4000  # draws of y, as copies of the batch (rows are independent)
    with torch.no_grad():
        enumerated, _ = elbo_rows(tiny_model, x, y, mask, "enumerate", z_c, z_s)
        copies = [t.repeat(n, *[1] * (t.dim() - 1)) for t in (x, y, mask, z_c, z_s)]
        guide = replay_fixed(tiny_model.guide, {"z_c": copies[3], "z_s": copies[4]})
        elbo = CCVAE_ELBO(tiny_model.label_groups, K, "sample")
        draws = elbo.row_bounds(tiny_model.model, guide, *copies[:3])[0].view(n, -1)
    stderr = draws.std(0) / math.sqrt(draws.shape[0])
    assert (draws.std(0) > 0).all()  # y really is drawn
    assert ((draws.mean(0) - enumerated).abs() < 4 * stderr + 1e-4).all()


def test_marginal_is_at_least_enumerate(tiny_model, tiny_batch):
    x, y, mask = tiny_batch
    for seed in range(5):
        z_c, z_s = fixed_draws(tiny_model, x, seed)
        with torch.no_grad():
            enumerated, _ = elbo_rows(tiny_model, x, y, mask, "enumerate", z_c, z_s)
            marginal, _ = elbo_rows(tiny_model, x, y, mask, "marginal", z_c, z_s)
        assert (marginal >= enumerated - 1e-5).all()
        latent_rows = (~mask).any(-1)
        assert (marginal[latent_rows] > enumerated[latent_rows]).all()
        torch.testing.assert_close(marginal[~latent_rows], enumerated[~latent_rows])


@torch.no_grad()
def importance_sampled_log_px(model, x, num_samples=5000):
    """log p(x) = log E_{q(z|x)}[p(x|z) p(z) / q(z|x)], p(z_c) = prod_i sum_{y_i} p(z_c^i|y_i) p(y_i)."""
    loc, scale = model.encoder(x)
    q = dist.Normal(loc, scale)
    z = q.sample((num_samples,))  # [N, B, m]
    z_c, z_s = model.split_z(z)
    log_px_z = dist.Laplace(model.decode(z_c.flatten(0, 1), z_s.flatten(0, 1)), 1.0).log_prob(x.repeat(num_samples, 1, 1, 1))
    log_px_z = log_px_z.sum((1, 2, 3)).view(num_samples, -1)
    p = model.label_groups[0].probs
    log_pzc = 0
    for v, log_pv in ((0.0, (1 - p).log()), (1.0, p.log())):
        mu, sigma = loc_scale(model.conditional_prior(torch.full(z_c.shape[:-1], v)))
        term = dist.Normal(mu, sigma).log_prob(z_c).sum(-1) + log_pv
        log_pzc = term if v == 0.0 else torch.logaddexp(log_pzc, term)
    log_w = log_px_z + log_pzc.sum(-1) + dist.Normal(0.0, 1.0).log_prob(z_s).sum(-1) - q.log_prob(z).sum(-1)
    return torch.logsumexp(log_w, 0) - math.log(num_samples)


def test_unsupervised_bounds_stay_below_log_px(tiny_model, tiny_batch):
    x, y, _ = tiny_batch
    mask = torch.zeros_like(y, dtype=torch.bool)
    log_px = importance_sampled_log_px(tiny_model, x)
    n = 500  # draws of the bound, as copies of the batch
    with torch.no_grad():
        for bound in ("sample", "enumerate", "marginal"):
            elbo = CCVAE_ELBO(tiny_model.label_groups, K, bound)
            copies = [t.repeat(n, *[1] * (t.dim() - 1)) for t in (x, y, mask)]
            mean = elbo.row_bounds(tiny_model.model, tiny_model.guide, *copies)[0].view(n, -1).mean(0)
            assert (mean < log_px).all(), bound
            assert (mean > log_px - 50).all(), bound  # and not trivially far below


def test_mixed_batch_is_the_sum_of_its_parts(tiny_model, tiny_batch):
    x, y, mask = tiny_batch
    labelled = mask.any(-1)
    # The parts draw their k samples of q(z_c|x) separately; a near-zero scale of q(z_c|x) makes
    # those draws (and so q(y|x)) the same however the batch is split.
    m = tiny_model.config.z_c_dim + tiny_model.config.z_s_dim
    with torch.no_grad():
        tiny_model.encoder.head.weight[m : m + tiny_model.config.z_c_dim] = 0
        tiny_model.encoder.head.bias[m : m + tiny_model.config.z_c_dim] = -30
    z_c, z_s = fixed_draws(tiny_model, x)
    with torch.no_grad():
        whole, _ = elbo_rows(tiny_model, x, y, mask, "enumerate", z_c, z_s)
        parts = [
            elbo_rows(tiny_model, x[rows], y[rows], mask[rows], "enumerate", z_c[rows], z_s[rows])[0]
            for rows in (labelled, ~labelled)
        ]
    torch.testing.assert_close(whole[labelled], parts[0], rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(whole[~labelled], parts[1], rtol=1e-4, atol=1e-3)


def test_svi_step_and_both_loss_paths(tiny_model, tiny_batch):
    x, y, mask = tiny_batch
    elbo = CCVAE_ELBO(tiny_model.label_groups, K, "enumerate")
    torch.manual_seed(5)
    loss = elbo.differentiable_loss(tiny_model.model, tiny_model.guide, x, y, mask)
    expected = grads(tiny_model, loss)
    tiny_model.zero_grad()
    torch.manual_seed(5)
    elbo.loss_and_grads(tiny_model.model, tiny_model.guide, x, y, mask)
    for name, p in tiny_model.named_parameters():
        torch.testing.assert_close(p.grad, expected[name])

    before = tiny_model.label_groups[0].classifier.weight.detach().clone()
    svi = SVI(tiny_model.model, tiny_model.guide, pyro.optim.Adam({"lr": 0.01}), loss=elbo)
    value = svi.step(x, y, mask)
    assert math.isfinite(value)
    assert not torch.equal(before, tiny_model.label_groups[0].classifier.weight)


def test_elbo_rejects_unknown_bound(tiny_model):
    with pytest.raises(ValueError, match="unsup_bound"):
        CCVAE_ELBO(tiny_model.label_groups, unsup_bound="exact")


@pytest.mark.parametrize("control_variate", [False, True])
def test_sample_gradient_is_unbiased_on_mixed_rows(tiny_model, tiny_batch, control_variate):
    """On rows with some labels observed and others latent, the mean of many `sample` gradients
    is the `enumerate` gradient: the score-function term carries the weight w of the bound."""
    x, y, mask = tiny_batch
    mixed = mask.any(-1) & ~mask.all(-1)
    x, y, mask = x[mixed], y[mixed], mask[mixed]
    z_c, z_s = fixed_draws(tiny_model, x)
    # w far from 1: the observed labels' classifier decides, and differs between the draws.
    with torch.no_grad():
        tiny_model.label_groups[0].classifier.weight.mul_(3.0)
    chunks, per_chunk = 25, 200
    copies = [t.repeat(per_chunk, *[1] * (t.dim() - 1)) for t in (x, y, mask, z_c, z_s)]
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        q_y = dist.Bernoulli(logits=tiny_model.label_groups[0].classifier(copies[3]))
    sampled = []
    for _ in range(chunks):
        y_u = torch.bernoulli(q_y.probs, generator=g)
        _, surrogate = elbo_rows(tiny_model, *copies[:3], "sample", copies[3], copies[4], y_unobserved=y_u,
                                 control_variate=control_variate)  # fmt: skip
        sampled.append(grads(tiny_model, surrogate.sum() / per_chunk))
    _, surrogate = elbo_rows(tiny_model, *copies[:3], "enumerate", copies[3], copies[4], control_variate=control_variate)
    enumerated = grads(tiny_model, surrogate.sum() / per_chunk)
    checked = 0
    for name, expected in enumerated.items():
        draws = torch.stack([s[name] for s in sampled])
        stderr = draws.std(0) / math.sqrt(chunks)
        assert ((draws.mean(0) - expected).abs() <= 4 * stderr + 1e-4 * (1 + expected.abs())).all(), name
        checked += int((draws.std(0) > 1e-6).any())
    assert checked  # some gradients really vary with the draws of y


def chunked_gradients(model, elbo, batch, chunks, copies, seed=11):
    """The surrogate's gradient per chunk of `copies` copies of the batch (fresh draws in each),
    averaged over the copies: [chunks] dicts of gradients."""
    x, y, mask = batch
    data = [t.repeat(copies, *[1] * (t.dim() - 1)) for t in (x, y, mask)]
    torch.manual_seed(seed)
    out = []
    for _ in range(chunks):
        _, surrogate = elbo.row_bounds(model.model, model.guide, *data)
        out.append(grads(model, surrogate.sum() / copies))
    return out


def test_control_variate_keeps_the_value_and_the_expected_gradient(tiny_model, tiny_batch):
    """The baseline of RowParts.combine changes neither the bound's value nor (with q(y|x)
    estimated closely, k large) the expected gradient; it cuts the classifier's noise."""
    x, y, mask = tiny_batch
    z_c, z_s = fixed_draws(tiny_model, x)
    guide = replay_fixed(tiny_model.guide, {"z_c": z_c, "z_s": z_s})
    values = []
    for control in (False, True):
        torch.manual_seed(4)
        values.append(CCVAE_ELBO(tiny_model.label_groups, K, control_variate=control).row_bounds(tiny_model.model, guide, x, y, mask))
    torch.testing.assert_close(values[0][0], values[1][0])
    torch.testing.assert_close(values[1][1], values[1][0])  # the surrogate's value is the bound's

    k, chunks, copies = 200, 16, 60
    plain = chunked_gradients(tiny_model, CCVAE_ELBO(tiny_model.label_groups, k, control_variate=False), tiny_batch,
                              chunks, copies)  # fmt: skip
    controlled = chunked_gradients(tiny_model, CCVAE_ELBO(tiny_model.label_groups, k, control_variate=True),
                                   tiny_batch, chunks, copies)  # fmt: skip
    for name in plain[0]:
        a, b = torch.stack([g[name] for g in plain]), torch.stack([g[name] for g in controlled])
        error = (a.var(0) / chunks + b.var(0) / chunks).sqrt()
        assert ((a.mean(0) - b.mean(0)).abs() <= 4 * error + 1e-3 * (1 + a.mean(0).abs())).all(), name
    noise = {kind: torch.stack([g["label_groups.0.classifier.weight"] for g in gs]).std(0).mean()
             for kind, gs in (("plain", plain), ("controlled", controlled))}  # fmt: skip
    assert noise["controlled"] < noise["plain"] / 3
