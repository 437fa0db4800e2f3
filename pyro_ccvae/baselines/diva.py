"""DIVA (Ilse et al., 2019) as modified by Joy et al. (2021), App. C.4.

The modifications remove the domain latent z_d and factorise the classifier per label, which
leaves CCVAE's graphical model; only the objective differs. So the model and guide are those of
`core.model.CCVAE`, with the same networks (Table 3 encoder and decoder, diagonal classifier,
diagonal conditional prior), z = (z_c, z_s):

    model:  p(y) p_psi(z_c | y) p(z_s) p_theta(x | z)
    guide:  q_phi(z | x) q_phi(y | z_c)          q(y | z_c) = prod_i q(y_i | z_c^i)

and the objective is `DIVA_ELBO`: a beta-weighted bound plus an auxiliary classifier (DIVA's
classifier is not part of the bound, unlike CCVAE's q(y | x), which falls out of eq. 4).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from pyro import poutine
from pyro.infer import config_enumerate
from torch.distributions import kl_divergence

from ..core.elbo import RowwiseELBO, row_sum, site_log_prob
from ..core.model import CCVAE, CCVAEConfig
from .common import require_binary, traces


@dataclass
class DIVAConfig(CCVAEConfig):
    """The fields of `CCVAEConfig`: the modified DIVA has the CCVAE's networks and sizes. Its
    objective is written for binary labels only."""

    def __post_init__(self):
        super().__post_init__()
        require_binary(self, "DIVA")


class DIVA(CCVAE):
    """Modified DIVA (App. C.4) as a Pyro model/guide pair: `CCVAE`'s program under the name
    "diva", and everything else of `CCVAE` (encode, decode, predict, draw_labels, reconstruct,
    generate, intervene, swap, ...).

    `supports`: everything, as the paper notes (footnote 2: DIVA can perform the same tasks as
    CCVAE with the suggested modifications). The functions of `manipulate` and `metrics`
    written for CCVAE work on it unchanged."""

    module_name = "diva"


class DIVA_ELBO(RowwiseELBO):
    """The modified DIVA objective of App. C.4, per row, for observed labels o and latent ones u:

        row = E_{q(z|x)} log p(x|z) - beta KL(q(z_s|x) || p(z_s))
              + sum_{i in o} [ -beta KL(q(z_c^i|x) || p(z_c^i|y_i))  + alpha E_{q(z_c^i|x)} log q(y_i|z_c^i) ]
              + sum_{i in u} beta E_{q(z_c^i|x) q(y_i|z_c^i)} [ log p(z_c^i|y_i) - log q(z_c^i|x)
                                                                + log p(y_i) - log q(y_i|z_c^i) ]

    With every label observed this is L^s_diva(x, y) plus the auxiliary classifier; with none it
    is L^u_diva(x). The KL terms are exact (Normal against Normal), the expectations over z use
    the guide's draw, and "y has to be imputed" is done exactly: the expectation over y_i ~
    q(y_i|z_c^i) is a sum over y_i in {0, 1} (everything factorises per label).

    Reading of the final objective: App. C.4 writes the alpha term inside the sum over the
    unlabelled set U, where y is unknown; E log q(y|z_c) needs an observed y, and DIVA (Ilse et
    al.) and the student report (001, App. A) put the auxiliary classifier on labelled data,
    so it is applied to the observed labels here. Inside it z_c is reparameterised (the
    classifier trains the encoder, as in DIVA).

    Defaults: beta = 1 and alpha = 3500, DIVA's own weights (the defaults of Ilse et al.'s code:
    aux_loss_multiplier_y = 3500, betas 1); the paper attributes DIVA's swap scores and weaker
    reconstructions to this heavy classifier weight (sec. 6.4).

    The model and guide must use the site names of `DIVA` / `core.model.CCVAE`.
    """

    def __init__(self, beta: float = 1.0, alpha: float = 3500.0, num_particles: int = 1):
        if beta < 0 or alpha < 0:
            raise ValueError("beta and alpha must be non-negative")
        super().__init__(num_particles=num_particles)
        self.beta = beta
        self.alpha = alpha

    def row_bounds(self, model, guide, *args, **kwargs) -> tuple[torch.Tensor, torch.Tensor]:
        # y_unobserved takes both values at once, in a new dim left of the plates.
        guide_run = poutine.enum(config_enumerate(guide, "parallel"), first_available_dim=-3)
        g, m = traces(model, guide_run, *args, **kwargs)

        observed = m["y_observed"]
        y_obs, mask = observed["value"], observed["mask"]  # [B, L]
        batch, num_labels = mask.shape
        obs = mask.to(y_obs.dtype)
        z_c, q_zc = g["z_c"]["value"], g["z_c"]["fn"]  # [B, L, d], q(z_c | x)
        p_zc = m["z_c"]["fn"]  # p(z_c | y), batch [2, B, L] over the enumerated latent labels
        q_y = g["y_unobserved"]["fn"]  # q(y | z_c), batch [B, L]
        y_u = g["y_unobserved"]["value"]  # [2, 1, 1]

        log_px = row_sum(site_log_prob(m["x"]), batch)
        kl_s = row_sum(kl_divergence(g["z_s"]["fn"], m["z_s"]["fn"]), batch)
        # Observed labels: at them every enumerated slice of p(z_c | y) is the same.
        kl_c = kl_divergence(q_zc, p_zc).reshape(-1, batch, num_labels)[0]  # [B, L]
        auxiliary = q_y.log_prob(torch.where(mask, y_obs, torch.zeros_like(y_obs)))  # log q(y_i | z_c^i)
        # Latent labels: exact expectation over y_i ~ q(y_i | z_c^i).
        log_q_u = q_y.log_prob(y_u)  # [2, B, L]
        joint = p_zc.log_prob(z_c) + m["y_unobserved"]["fn"].log_prob(y_u)  # log p(z_c^i|y_i) + log p(y_i)
        imputed = (log_q_u.exp() * (joint - log_q_u)).sum(0) - q_zc.log_prob(z_c)  # [B, L]

        per_label = obs * (self.alpha * auxiliary - self.beta * kl_c) + (1 - obs) * self.beta * imputed
        value = log_px - self.beta * kl_s + per_label.sum(-1)
        return value, value
