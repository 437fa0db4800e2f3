"""Conditional generation: images for chosen labels, the others drawn from p(y), and sweeps of
one label through its values. Draws come from an optional `torch.Generator`."""

from __future__ import annotations

import torch

from ..core.assignments import assignment_tensors
from ..rng import draw, seed_from, seeded, standard_normal

DEFAULT_BATCH = 256  # images generated at once: memory does not grow with the number asked for


@torch.no_grad()
def conditional_samples(
    model, y: torch.Tensor, mask: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Pixel means [B, C, S, S] of `model.generate` (for the CCVAE z_c ~ p_psi(z_c | y),
    z_s ~ N(0, I)), where the labels with mask True are fixed to y and the others drawn from
    p(y)."""
    drawn = model.draw_labels(y.shape[0], generator).to(y.device)
    return model.generate(torch.where(mask, y, drawn), generator)


def generated_batches(model, values: dict[str, float], num: int, generator: torch.Generator | None = None,
                      batch_size: int = DEFAULT_BATCH):  # fmt: skip
    """`num` images of `conditional_samples` with the labels in `values` ({name: value}) fixed,
    yielded in batches of at most `batch_size`, so that memory does not grow with `num`."""
    device = next(model.parameters()).device
    for start in range(0, num, batch_size):
        y, mask = assignment_tensors(values, model.config.label_names, min(batch_size, num - start), device)
        yield conditional_samples(model, y, mask, generator)


@torch.no_grad()
def sweep_samples(
    model, index: int, values: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """[B, K, C, S, S]: row b holds one draw (z_s ~ N(0, I), the noise of z_c ~ p_psi(z_c | y),
    and y_j ~ p(y_j) for the labels not fixed by `mask`), decoded with label `index` set to each
    of the K `values` in turn, so that along a row only that label's characteristic z_c^i
    changes: every column draws z_c with the same seed (common random numbers). Needs
    per-label characteristic latents (the CCVAE, DIVA)."""
    batch = y.shape[0]
    y = torch.where(mask, y, model.draw_labels(batch, generator).to(y.device))
    z_s = standard_normal((batch, model.config.z_s_dim), y, generator)
    seed = seed_from(generator) if generator is not None else int(torch.randint(2**62, ()))
    columns = []
    for value in values.tolist():
        y_k = y.clone()
        y_k[:, index] = value
        with seeded(seed, y.device):
            z_c = draw(model.conditional_prior(y_k))
        columns.append(model.decode(z_c, z_s))
    return torch.stack(columns, dim=1)
