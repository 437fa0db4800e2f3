"""A plain-torch version of the CCVAE loss (enumerate mode) on the same networks.

Benchmark-only baseline: it lets `step_times.py` measure what the Pyro program (traces, site
bookkeeping, the masked observation) costs over writing the same maths by hand. The library's
training uses `pyro_ccvae.elbo.CCVAE_ELBO`; tests check that against a direct computation.
"""

import math

import torch
import torch.nn.functional as F
from torch.distributions import Laplace, Normal

from pyro_ccvae.core.model import CCVAE


def plain_torch_loss(model: CCVAE, x, y, mask, num_classifier_samples: int = 100) -> torch.Tensor:
    """Minus eq. (6) for a batch, labels handled as in `CCVAE_ELBO(unsup_bound="enumerate")`,
    for a model whose labels are all binary (one label group)."""
    (binary,) = model.label_groups
    obs = mask.float()
    loc, scale = model.encoder(x)
    z = loc + scale * torch.randn_like(loc)
    z_c, z_s = model.split_z(z)
    loc_c, _ = model.split_z(loc)
    scale_c, _ = model.split_z(scale)
    log_q_z = Normal(loc, scale).log_prob(z).sum(-1)
    pixel_means = model.decode(z_c, z_s)
    log_p_x = Laplace(pixel_means, model.config.likelihood_scale).log_prob(x).flatten(1).sum(-1)
    log_p_zs = Normal(0.0, 1.0).log_prob(z_s).sum(-1)

    values = torch.stack([torch.zeros_like(y), torch.ones_like(y)])  # [2, B, L]
    log_p_zc = model.conditional_prior(values).log_prob(z_c)  # [2, B, L]
    logits = binary.classifier(z_c)
    log_q_y = torch.stack([F.logsigmoid(-logits), F.logsigmoid(logits)])  # [2, B, L]
    p = binary.probs
    log_p_y = torch.stack([(1 - p).log(), p.log()]).unsqueeze(1)  # [2, 1, L]

    index = y.long().unsqueeze(0)
    observed = obs * (log_p_zc.gather(0, index)[0] - log_q_y.gather(0, index)[0])
    latent = (log_q_y.exp() * (log_p_zc + log_p_y - log_q_y)).sum(0)
    bracket = log_p_x + log_p_zs - log_q_z + (observed + (1 - obs) * latent).sum(-1)

    draws = loc_c + scale_c * torch.randn((num_classifier_samples, *loc_c.shape), device=x.device)
    log_q_draws = -F.binary_cross_entropy_with_logits(binary.classifier(draws), y.expand(num_classifier_samples, -1, -1), reduction="none")
    log_q_y_x = (obs * log_q_draws).sum(-1).logsumexp(0) - math.log(num_classifier_samples)
    log_q_zbar = -(obs * F.binary_cross_entropy_with_logits(binary.classifier(z_c.detach()), y, reduction="none")).sum(-1)
    weight = (log_q_zbar - log_q_y_x).exp()
    log_p_yo = (obs * (y * p.log() + (1 - y) * (1 - p).log())).sum(-1)
    return -(weight * bracket + log_q_y_x + log_p_yo).sum()
