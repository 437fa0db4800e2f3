"""The CCVAE objective, eq. (6) of Joy et al. (2021), as a Pyro ELBO.

For each row with observed labels y_o and latent labels y_u (o or u may be empty):

    L(x, y_o) = E_{q(z|x)}[ w * ( log p(x|z) + log p(z_s) - log q(z|x)
                                  + sum_{i in o} [ log p(z_c^i|y_i) - log q(y_i|z_c^i) ]
                                  + sum_{i in u} U_i(z_c^i) ) ]
                + log q(y_o|x) + log p(y_o)

    w        = q(y_o | zbar_c) / q(y_o | x)         zbar_c: z_c not reparameterised (App. C.3.1)
    q(y_o|x) ~ logsumexp_j log q(y_o | z_c^(j)) - log k,   z^(j) ~ q(z|x)     (eq. 4, App. B.1)
    U_i      = E_{q(y_i|z_c^i)}[ log p(z_c^i|y_i) + log p(y_i) - log q(y_i|z_c^i) ]   (eq. 5)

With every label observed this is eq. (4) (with the gradient fix of eq. (8)); with none it is
eq. (5), where w = 1 and q(y_o|x) = p(y_o) = 1; docs/objective.md derives the mixed case.
Because p(z_c|y), p(y) and q(y|z_c) factorise over labels, U_i is computed per label. For a
discrete label (binary or categorical) `unsup_bound` chooses how:

- "sample":    one draw y_i ~ q(y_i|z_c^i), score-function gradient (the reference code);
- "enumerate": the exact expectation over the values of y_i (no sampling variance);
- "marginal":  log sum_{y_i} p(z_c^i|y_i) p(y_i) - a tighter bound (Jensen applied once), in
               which the classifier learns from labelled rows only.

A continuous label's U_i is always one reparameterised draw y_i ~ q(y_i|z_c^i) (its values
cannot be summed). An observed continuous label enters only through log p(z_c^i|y_i) +
log p(y_i): it is left out of w and of q(y_o|x), i.e. the variational distribution is tilted by
the discrete observed labels only (still a lower bound; docs/objective.md says why).

What one evaluation estimates (one draw z ~ q(z|x) per row, k draws for q(y_o|x)):

- The value is a slightly low estimate of the bound, not an unbiased one: the log of a k-draw
  mean underestimates log q(y_o|x) on average (Jensen), and 1/q(y_o|x) inside w is
  overestimated on average, which for the usual negative bracket also lowers the value. Both
  biases shrink as 1/k.
- The gradient is not an unbiased estimate of the bound's gradient either, on purpose: eq. (8)
  does not reparameterise z_c inside w (App. C.3.1). For the classifier this changes nothing in
  expectation (up to the k-draw bias), but the encoder loses the pathwise part of grad w, so
  that in expectation its gradient gains -E[w * bracket] * grad log q(y_o|x): a pull towards
  classifying the labelled rows whose weight is the size of the bracket (about the image's
  log-likelihood: thousands of nats). This, not the explicit log q(y_o|x) (weight 1), is what
  makes z_c predictive in practice; docs/low_supervision.md measures it.
- With `control_variate`, a baseline c (the mean bracket of the batch's other rows) is taken
  out of the bracket where it multiplies grad w and put back where its expectation is known
  (`RowParts.combine`): the same value and expected gradient, with the noise that the bracket's
  thousands of nats bring to the classifier's gradient removed.

The model and guide must use the sites of `kinds.LabelGroup`: for each group, labels
"y<suffix>" (split by `obs_mask` into "..._observed" and "..._unobserved") and characteristic
latents "z_c<suffix>" in a plate of labels at dim -1, rows in a plate at dim -2. Every other
site (z_s, x, ...) enters through the generic log p - log q of a Trace_ELBO and must be
reparameterised or observed.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import torch
from pyro import poutine
from pyro.infer import config_enumerate
from pyro.infer.elbo import ELBO
from pyro.poutine.util import site_is_subsample

from .contrastive import label_classes, supervised_contrastive
from .kinds import LabelGroup

UNSUP_BOUNDS = ("sample", "enumerate", "marginal")


class RowwiseELBO(ELBO):
    """A Pyro ELBO defined by `row_bounds(model, guide, x, y, mask) -> (value, surrogate)`, both
    [B]: `value` is a Monte Carlo estimate of the per-row objective (a bound, plus any
    classifier term), `surrogate` has the same value and the gradient training follows (each
    objective says how that relates to the objective's own gradient; for the CCVAE see the
    module docstring).

    Implements both `loss_and_grads` (used by `SVI.step`) and `differentiable_loss` (used with
    torch optimizers and `ELBOModule`); `CCVAE_ELBO` and the baselines' objectives build on it."""

    def __init__(self, num_particles: int = 1):
        super().__init__(num_particles=num_particles, max_plate_nesting=2)

    def row_bounds(self, model, guide, *args, **kwargs) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def _get_trace(self, model, guide, args, kwargs):
        raise NotImplementedError(f"{type(self).__name__} builds its traces in row_bounds")

    def differentiable_loss(self, model, guide, *args, **kwargs) -> torch.Tensor:
        """Minus the objective summed over rows, averaged over particles."""
        loss = 0.0
        for _ in range(self.num_particles):
            _, surrogate = self.row_bounds(model, guide, *args, **kwargs)
            loss = loss - surrogate.sum() / self.num_particles
        return loss

    def weighted_loss(self, model, guide, weights: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        """Minus the objective with each row's term times `weights` [B], averaged over particles
        (stratified batches: training/batches.py)."""
        loss = 0.0
        for _ in range(self.num_particles):
            _, surrogate = self.row_bounds(model, guide, *args, **kwargs)
            loss = loss - (weights * surrogate).sum() / self.num_particles
        return loss

    def loss(self, model, guide, *args, **kwargs) -> float:
        with torch.no_grad():
            return self.differentiable_loss(model, guide, *args, **kwargs).item()

    def loss_and_grads(self, model, guide, *args, **kwargs) -> float:
        loss = self.differentiable_loss(model, guide, *args, **kwargs)
        loss.backward(retain_graph=self.retain_graph)
        return loss.item()


class CCVAE_ELBO(RowwiseELBO):
    """The CCVAE bound: eq. (4) for labelled rows, eq. (5) for unlabelled ones, eq. (6) summed.

    :param label_groups: the model's `label_groups`; eq. (4) needs each group's classifier
        q(y | z_c) at fresh draws of z_c to estimate q(y | x).
    :param num_classifier_samples: k, the draws from the guide's own q(z_c | x) for q(y | x).
    :param unsup_bound: how latent discrete labels are handled: "sample", "enumerate" or "marginal".
    :param beta: weight of the prior terms (1: the paper's bound).
    :param contrastive_weight: lambda, weight of the supervised contrastive term (0: none).
    :param contrastive_temperature: tau of the contrastive term.
    :param control_variate: take the batch's mean bracket out of the gradient through w (same
        value and expected gradient, far less noise; see `RowParts.combine` and
        docs/low_supervision.md); False gives the plain estimator of eq. (8).
    """

    def __init__(
        self,
        label_groups: Sequence[LabelGroup],
        num_classifier_samples: int = 100,
        unsup_bound: str = "enumerate",
        num_particles: int = 1,
        beta: float = 1.0,
        contrastive_weight: float = 0.0,
        contrastive_temperature: float = 0.1,
        control_variate: bool = True,
    ):
        if unsup_bound not in UNSUP_BOUNDS:
            raise ValueError(f"unsup_bound must be one of {', '.join(UNSUP_BOUNDS)}, got {unsup_bound!r}")
        if num_classifier_samples < 1:
            raise ValueError("num_classifier_samples must be at least 1")
        if beta < 0 or contrastive_weight < 0 or not contrastive_temperature > 0:
            raise ValueError("beta and contrastive_weight must be non-negative and contrastive_temperature positive")
        if contrastive_weight > 0 and not any(group.labels[0].discrete for group in label_groups):
            raise ValueError("the contrastive term classes rows by their discrete labels, and there are none")
        super().__init__(num_particles=num_particles)
        self.label_groups = list(label_groups)
        self.num_classifier_samples = num_classifier_samples
        self.unsup_bound = unsup_bound
        self.beta = beta
        self.contrastive_weight = contrastive_weight
        self.contrastive_temperature = contrastive_temperature
        self.control_variate = control_variate

    def row_bounds(self, model, guide, *args, **kwargs) -> tuple[torch.Tensor, torch.Tensor]:
        """One draw of the bound per row, [B], and the surrogate whose gradient trains the model
        (see `RowParts.combine`)."""
        parts = self.row_parts(model, guide, *args, **kwargs)
        return parts.combine(leave_one_out_mean(parts.bracket) if self.control_variate else None)

    def row_parts(self, model, guide, *args, **kwargs) -> "RowParts":
        """The pieces of one draw of the bound, per row (`RowParts`), before they are combined;
        `row_bounds` combines them, and diagnostics can take gradients of each."""
        if self.unsup_bound == "sample":
            guide_run = guide
        else:  # each discrete y_unobserved takes all its values at once, in a new dim left of the plates
            guide_run = poutine.enum(config_enumerate(guide, "parallel"), first_available_dim=-3)
        guide_trace = poutine.trace(guide_run).get_trace(*args, **kwargs)
        model_trace = poutine.trace(poutine.replay(model, trace=guide_trace)).get_trace(*args, **kwargs)
        g, m = guide_trace.nodes, model_trace.nodes
        label_sites = {name for group in self.label_groups for name in _site_names(group)}
        batch = m[self.label_groups[0].y_site + "_observed"]["mask"].shape[0]

        # Sites outside the label part (x, z_s, ...): log p - log q as in Trace_ELBO; the latent
        # ones are prior terms, weighted by beta.
        other = _other_sites(m, label_sites)
        bracket = sum(row_sum(site_log_prob(m[n]), batch) for n in other if m[n]["is_observed"])
        priors = sum(row_sum(site_log_prob(m[n]), batch) for n in other if not m[n]["is_observed"])
        priors = priors - sum(row_sum(site_log_prob(g[n]), batch) for n in _other_sites(g, label_sites))
        bracket = bracket + self.beta * priors
        terms = [self._label_terms(group, g, m) for group in self.label_groups]
        bracket = bracket + sum(row_sum(t.bracket, batch) for t in terms)
        score = sum(row_sum(t.score, batch) for t in terms)
        log_p_yo = sum(t.log_p_yo for t in terms)
        weighted = [t for t in terms if t.log_q_yo_draws is not None]
        penalty = self.contrastive_weight * self._contrastive(g, m, batch) if self.contrastive_weight > 0 else 0.0
        if not weighted:  # no label tilts q(z | x): w = 1 and q(y_o | x) does not enter
            return RowParts(bracket, score, log_p_yo, None, None, None, penalty)
        # q(y_o | x) from k draws of the guide's own q(z_c | x): no second encoder pass (eq. 4).
        log_k = math.log(self.num_classifier_samples)
        log_q_yo_x = sum(t.log_q_yo_draws for t in weighted).logsumexp(0) - log_k
        log_q_yo_x_fixed = sum(t.log_q_yo_fixed_draws for t in weighted).logsumexp(0) - log_k
        log_q_yo_zbar = sum(t.log_q_yo_zbar for t in weighted)
        return RowParts(bracket, score, log_p_yo, log_q_yo_x, log_q_yo_zbar, log_q_yo_x_fixed, penalty)

    def _contrastive(self, g, m, batch: int) -> torch.Tensor:
        """L_i [B] of `contrastive.supervised_contrastive` on the means of q(z_c | x) of the rows
        whose discrete labels are all observed, classed by those labels' values; 0 elsewhere."""
        means = torch.cat([g[group.z_c_site]["fn"].mean.reshape(batch, -1) for group in self.label_groups], -1)
        observed = [m[group.y_site + "_observed"] for group in self.label_groups if group.labels[0].discrete]
        values = torch.cat([site["value"].reshape(batch, -1).to(means.dtype) for site in observed], -1)
        rows = torch.cat([site["mask"].reshape(batch, -1) for site in observed], -1).all(-1)
        loss = means.new_zeros(batch)
        loss[rows] = supervised_contrastive(means[rows], label_classes(values[rows]), self.contrastive_temperature)
        return loss

    def _label_terms(self, group: LabelGroup, g, m) -> "_LabelTerms":
        """One label group's share of the bound (see the module docstring)."""
        observed = m[group.y_site + "_observed"]
        y_obs, mask = observed["value"], observed["mask"]  # [B, L_g]
        obs = mask.to(y_obs.dtype)
        z_c, q_zc = g[group.z_c_site]["value"], g[group.z_c_site]["fn"]  # [B, L_g, d], q(z_c | x)
        q_y = g[group.y_site + "_unobserved"]["fn"]  # q(y | z_c), batch [B, L_g]
        y_u = g[group.y_site + "_unobserved"]["value"]  # [B, L_g] drawn, or [V, 1, ..., 1] enumerated
        p_y = m[group.y_site + "_unobserved"]["fn"]

        def by_value(log_prob):  # [V, B, L_g]: one slice per enumerated value of y_u, else V = 1
            return log_prob.reshape(-1, *mask.shape)

        log_p_zc = by_value(m[group.z_c_site]["fn"].log_prob(z_c))
        # Observed labels, inside the weighted bracket of eq. (4): log p(z_c^i|y_i), and for a
        # weighted label - log q(y_i|z_c^i) (at observed labels every slice of log_p_zc is the same).
        observed_part = obs * log_p_zc[0]
        # Latent labels, eq. (5): U_i per label.
        joint_u = log_p_zc + by_value(p_y.log_prob(y_u))  # log p(z_c^i|y_i) + log p(y_i)
        log_q_u = by_value(q_y.log_prob(y_u))
        score = torch.zeros_like(obs)
        if group.enumerable and self.unsup_bound == "enumerate":
            latent_part = (log_q_u.exp() * (joint_u - log_q_u)).sum(0)
        elif group.enumerable and self.unsup_bound == "marginal":
            latent_part = joint_u.logsumexp(0)
        else:  # one draw: reparameterised (continuous), or discrete with a score-function term
            latent_part = (joint_u - log_q_u)[0]
            if not q_y.has_rsample:
                score_terms = (1 - obs) * log_q_u[0] * latent_part.detach()
                score = score_terms - score_terms.detach()  # value zero, gradient the score term
        log_p_yo = (obs * observed["fn"].log_prob(y_obs)).sum(-1)  # [B]
        # The prior terms, weighted by beta (a latent label's U_i, its score term included).
        priors = self.beta * (observed_part + (1 - obs) * latent_part - q_zc.log_prob(z_c))
        score = self.beta * score
        if not group.weighted:
            # An observed continuous label does not tilt q(z | x): the variational distribution
            # is q(y_d | z_c) q(z | x) / q(y_d | x) over the observed weighted labels d only, so
            # this label adds log p(z_c^i|y_i) to the bracket and nothing to w or q(y_o | x).
            return _LabelTerms(priors, score, None, None, None, log_p_yo)

        z_c_draws = q_zc.rsample((self.num_classifier_samples,))  # [k, B, L_g, d]
        return _LabelTerms(
            bracket=priors - obs * q_y.log_prob(y_obs),
            score=score,
            log_q_yo_draws=(obs * group.q_y(z_c_draws).log_prob(y_obs)).sum(-1),  # [k, B]
            log_q_yo_fixed_draws=(obs * group.q_y(z_c_draws.detach()).log_prob(y_obs)).sum(-1),  # [k, B]
            log_q_yo_zbar=(obs * group.q_y(z_c.detach()).log_prob(y_obs)).sum(-1),  # [B]
            log_p_yo=log_p_yo,
        )


class RowParts(NamedTuple):
    """The pieces of one draw of the CCVAE bound, each [B] (see the module docstring).

    bound = w * bracket + log q(y_o|x) + log p(y_o),   w = exp(log_q_yo_zbar - log_q_yo_x);
    without a weighted observed label (`log_q_yo_x` None), w = 1 and q(y_o|x) does not enter."""

    bracket: torch.Tensor  # log p(x,z_c,z_s,y_o)-type terms inside the weighted expectation
    score: torch.Tensor  # zero-valued score-function terms of drawn latent labels ("sample" only), unweighted
    log_p_yo: torch.Tensor  # log p(y_o)
    log_q_yo_x: torch.Tensor | None  # log q(y_o | x) from k draws of q(z_c | x)
    log_q_yo_zbar: torch.Tensor | None  # log q(y_o | zbar_c), zbar_c detached (App. C.3.1)
    log_q_yo_x_fixed: torch.Tensor | None  # log q(y_o | x) with the k draws detached (for the control variate)
    penalty: torch.Tensor | float = 0.0  # the contrastive term, subtracted outside the weighted bracket

    @property
    def weight(self) -> torch.Tensor | None:
        """w = q(y_o | zbar_c) / q(y_o | x) per row (None: w = 1)."""
        return None if self.log_q_yo_x is None else (self.log_q_yo_zbar - self.log_q_yo_x).exp()

    def combine(self, baseline: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(bound, surrogate), both [B]. The surrogate has the bound's value; its gradient is
        the estimator training follows: eq. (8) for the observed labels (z_c not
        reparameterised inside w), and for drawn latent labels the score-function term,
        weighted by w (detached) as the bound weights everything in the bracket.

        `baseline` c [B] (detached, independent of each row's own draw z) is a control variate
        for the weighted rows: the gradient through w is taken with bracket - c in place of the
        bracket, and c returns where it has an expectation, so the expected gradient is that of
        eq. (8) (exactly for the encoder; for the classifier up to the k-draw bias of q(y_o|x))
        while the noise w * bracket brings (w spans orders of magnitude, the bracket is
        thousands of nats) shrinks to w * (bracket - c): the classifier sees
        (bracket - c) * grad w in place of bracket * grad w (E[grad_psi w] = 0), and the
        encoder's pull -w * bracket * grad log q(y_o|x) becomes -(w (bracket - c) + c) * grad
        log q(y_o|x) (E[w] = 1). The value is not changed."""
        if self.log_q_yo_x is None:
            bound = self.bracket + self.log_p_yo - self.penalty
            return bound, bound + self.score
        weight = self.weight
        bound = weight * self.bracket + self.log_q_yo_x + self.log_p_yo - self.penalty  # eq. (4) / (5), per row
        if baseline is None:
            return bound, bound + weight.detach() * self.score
        c = baseline.detach()
        # grad_psi: (B - c) grad w + w grad B + grad log q(y|x); grad_phi: -(w (B - c) + c) grad log q(y|x) + w grad B
        estimator = weight * (self.bracket - c) - c * (self.log_q_yo_x - self.log_q_yo_x_fixed) + self.log_q_yo_x
        estimator = estimator + weight.detach() * self.score - self.penalty
        return bound, bound.detach() + (estimator - estimator.detach())


class _LabelTerms(NamedTuple):
    bracket: torch.Tensor  # [B, L_g], the group's terms inside the weighted bracket
    score: torch.Tensor  # [B, L_g], zero-valued score-function terms ("sample" only)
    log_q_yo_draws: torch.Tensor | None  # [k, B], log q(y_o | z_c^(j)) of the group's observed labels
    log_q_yo_fixed_draws: torch.Tensor | None  # [k, B], the same at the draws z_c^(j) detached
    log_q_yo_zbar: torch.Tensor | None  # [B], log q(y_o | zbar_c); both None for an unweighted group
    log_p_yo: torch.Tensor  # [B], log p(y_o)


def leave_one_out_mean(values: torch.Tensor) -> torch.Tensor | None:
    """For each row, the mean of the other rows' values (detached), [B]; None for one row."""
    values = values.detach()
    n = values.shape[0]
    return None if n < 2 else (values.sum() - values) / (n - 1)


def _site_names(group: LabelGroup) -> tuple[str, ...]:
    return (group.y_site, group.y_site + "_observed", group.y_site + "_unobserved", group.z_c_site)


def _other_sites(nodes, label_sites: set[str]) -> list[str]:
    return [
        name
        for name, site in nodes.items()
        if site["type"] == "sample"
        and name not in label_sites
        and not site_is_subsample(site)
        and not site["infer"].get("_deterministic")
    ]


def site_log_prob(site) -> torch.Tensor:
    """log_prob of a site's value, times the site's mask (poutine.mask / obs_mask) if any."""
    log_prob = site["fn"].log_prob(site["value"])
    if site.get("mask") is not None:
        log_prob = log_prob * site["mask"]
    return log_prob


def row_sum(values: torch.Tensor, batch: int) -> torch.Tensor:
    """Sums everything but the leading row dimension: [B, ...] -> [B]."""
    return values.reshape(batch, -1).sum(-1)
