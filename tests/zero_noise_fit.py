"""`pyro-ccvae fit ARGS...` with every reparameterised Normal draw at its mean (zero noise), for
tests/test_distributed.py to run under torchrun.

Each process of a data-parallel run draws its own noise, so two processes at batch B and one
at batch 2B estimate the same gradient with different noise and end apart by sampling noise
alone. With zero noise, and `--unsup-bound enumerate` (no draws of y), the objective is a
deterministic function of the batch, and the two must end with the same parameters up to
rounding: a difference is a mistake in sharding or in combining the gradients.

The CCVAE's control variate is turned off here: its baseline is the mean bracket of the other
rows of each process's own share, so N processes and one estimate the same expected gradient
with different baselines (core/elbo.py); the test trains its one-process reference likewise.
"""

import torch
import torch.distributions.normal


def zeros(shape, dtype, device):
    return torch.zeros(shape, dtype=dtype, device=device)


if __name__ == "__main__":
    torch.distributions.normal._standard_normal = zeros  # what Normal.rsample draws its noise with
    import dataclasses

    from pyro_ccvae.training import registry

    ccvae = registry.MODELS["ccvae"]
    registry.MODELS["ccvae"] = dataclasses.replace(
        ccvae, make_elbo=lambda model, config: ccvae.make_elbo(model, dataclasses.replace(config, control_variate=False))
    )
    from pyro_ccvae_cli.fit import fit

    fit(prog_name="pyro-ccvae fit")
