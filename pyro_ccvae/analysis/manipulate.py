"""What the latent space lets a user do with real images (Joy et al., ICLR 2021, sections 6.1,
6.2, 6.4 and App. D.1-D.2): interventions (Fig. 11), traversals of z_c (Fig. 3, 18),
characteristic swaps (Fig. 6, 7) and diverse draws of one characteristic (Fig. 4, 5).

Every function works on the means of q_phi(z | x) ("the image's encoding") and returns pixel
means of p_theta(x | z) as tensors [..., C, S, S] on the inputs' device and dtype. The
baselines (baselines/) get reconstructions, interventions and swaps through their own methods
of those names; traversals and diversity need per-label characteristic latents z_c^i and raise
errors.NotSupported for a model without them (M2, MVAE). Random draws
take an optional `torch.Generator` so that results are reproducible without touching torch's
global generator. The `*_latents` functions return the codes handed to the decoder, so that
what a manipulation changes can be checked in latent space. A label's values, its traversal
ends and its "other value" come from its kind (core/kinds/).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from ..core import CCVAE
from ..core.assignments import find_label
from ..core.blocks import covariance
from ..devices import model_device
from ..errors import LabelError
from ..rng import draw
from ..training.registry import require

TRAVERSAL_SPAN = 2.0  # a traversal of z_c^i runs this many sd of p(z_c^i | y_i) past the two means


def label_index(model: CCVAE, name: str) -> int:
    """Position of label `name` in the model's labels; LabelError if it has no such label."""
    return find_label(model.config.labels, name)[0]


def block_prior(model: CCVAE, index: int, value: float | torch.Tensor, like: torch.Tensor | None = None):
    """p_psi(z_c^i | y_i = value) for label `index`, as a distribution of batch shape [B] and
    event shape [d] (a `core.blocks.LabelBlocks` restricted to that label).

    `value` is one number (B = 1) or a tensor [B] of per-image values: 0/1 for a binary label, a
    class index for a categorical one, any number for a continuous one (LabelError otherwise)."""
    device = model_device(model) if like is None else like.device
    value = torch.as_tensor(value, dtype=torch.float32, device=device).reshape(-1)
    model.config.labels[index].check_values(value.cpu().numpy())
    y = torch.zeros(value.shape[0], model.config.num_labels, device=device)
    y[:, index] = value
    return LabelBlock(model.conditional_prior(y), index)


class LabelBlock:
    """One label's block of a `LabelBlocks` distribution: its mean [B, d], covariance [B, d, d]
    and draws [..., B, d] (all labels are drawn, so that draws under the same seed share noise)."""

    def __init__(self, blocks, index: int):
        self.blocks, self.index = blocks, index

    @property
    def mean(self) -> torch.Tensor:
        return self.blocks.mean[..., self.index, :]

    @property
    def covariance_matrix(self) -> torch.Tensor:
        return covariance(self.blocks)[..., self.index, :, :]

    def sample(self, generator: torch.Generator | None = None, sample_shape=torch.Size()) -> torch.Tensor:
        return draw(self.blocks, generator, sample_shape)[..., self.index, :]


# Interventions (Fig. 11, App. D.1) --------------------------------------------------------


def intervene_latents(
    model: CCVAE,
    z_c: torch.Tensor,
    values: Mapping[int, float | torch.Tensor],
    use_mean: bool = False,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """z_c [B, L, d] with block i replaced for each label index i in `values`.

    The new z_c^i is a draw from p_psi(z_c^i | y_i = values[i]), or that distribution's mean
    with `use_mean`; values are numbers or per-image tensors [B] (see `block_prior`). Other
    blocks are copied."""
    out = z_c.clone()
    for index, value in values.items():
        prior = block_prior(model, index, value, like=z_c)  # batch [1] (one value) or [B]
        if use_mean:
            out[:, index] = prior.mean
        elif prior.mean.shape[0] == 1:  # one value: a draw per image
            out[:, index] = prior.sample(generator, (z_c.shape[0],))[:, 0]
        else:
            out[:, index] = prior.sample(generator)
    return out


@torch.no_grad()
def reconstruct(model: CCVAE, x: torch.Tensor) -> torch.Tensor:
    """Decoded means of q_phi(z | x): the reconstructions [B, C, S, S]."""
    return model.reconstruct(x)


@torch.no_grad()
def intervene(
    model: CCVAE,
    x: torch.Tensor,
    values: Mapping[str, float | torch.Tensor],
    use_mean: bool = False,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Images x [B, C, S, S] with the labels in `values` ({name: a value or a [B] tensor}) switched:
    encode, resample (or set to the mean) z_c^i ~ p_psi(z_c^i | y_i = value), decode (Fig. 11).
    A model without characteristic latents (M2, MVAE) switches the label itself, with nothing
    to draw (`model.intervene`)."""
    by_index = {label_index(model, name): value for name, value in values.items()}
    require(model, "intervene")
    if not model.supports["traverse"]:
        return model.intervene(x, by_index)
    z_c, z_s = model.encode(x)
    return model.decode(intervene_latents(model, z_c, by_index, use_mean, generator), z_s)


@torch.no_grad()
def flip_each_label(
    model: CCVAE, x: torch.Tensor, use_mean: bool = False, generator: torch.Generator | None = None
) -> torch.Tensor:
    """[B, L, C, S, S]: for each label i, x with y_i switched away from the classifier's
    prediction q_phi(y_i | z_c) at the image's encoding (`other_value`; one column per label, as
    in Fig. 11)."""
    predicted = model.predict(x)  # [B, L]
    columns = [
        intervene(model, x, {label.name: label.other_value(predicted[:, i])}, use_mean, generator)
        for i, label in enumerate(model.config.labels)
    ]
    return torch.stack(columns, dim=1)


# Traversals (Fig. 3, 18) ------------------------------------------------------------------


def traversal_points(model: CCVAE, index: int, steps: int, span: float = TRAVERSAL_SPAN) -> torch.Tensor:
    """`steps` evenly spaced values [steps, d] of z_c^i for label `index`.

    With v_0, v_1 the label's `traversal_ends` (0 and 1 for a binary one), mu_v the mean of
    p_psi(z_c^i | y_i = v) and u the unit vector from mu_v0 to mu_v1, the line runs from
    mu_v0 - span * s_0 * u to mu_v1 + span * s_1 * u, where s_j is the standard deviation of
    p_psi(z_c^i | y_i = v_j) along u. For d = 1 and mu_1 > mu_0 this is mean_0 - 2 sd_0 to
    mean_1 + 2 sd_1."""
    if steps < 2:
        raise ValueError(f"a traversal needs at least 2 steps, got {steps}")
    prior = block_prior(model, index, torch.tensor(model.config.labels[index].traversal_ends()))  # batch [2]
    loc = prior.mean  # [2, d]
    direction = loc[1] - loc[0]
    length = direction.norm()
    if length < 1e-8:  # the two classes share a mean: go along the diagonal
        direction = torch.ones_like(direction)
        length = direction.norm()
    unit = direction / length
    spread = torch.einsum("d,kde,e->k", unit, prior.covariance_matrix, unit).sqrt()  # [2]
    start = loc[0] - span * spread[0] * unit
    end = loc[1] + span * spread[1] * unit
    t = torch.linspace(0, 1, steps, device=loc.device, dtype=loc.dtype).unsqueeze(-1)  # [steps, 1]
    return (start + t * (end - start)).detach()


def traverse_latents(
    model: CCVAE, z_c: torch.Tensor, indices: Sequence[int], steps: int, span: float = TRAVERSAL_SPAN
) -> torch.Tensor:
    """z_c [B, L, d] -> [B, steps, L, d] for one label index, [B, steps, steps, L, d] for two
    (first label along dim 1, second along dim 2); all other blocks stay as in z_c."""
    if len(indices) not in (1, 2) or len(set(indices)) != len(indices):
        raise LabelError("traverse one label, or two different labels")
    points = [traversal_points(model, i, steps, span).to(z_c) for i in indices]  # [steps, d]
    batch, num_labels, d = z_c.shape
    grid = (steps,) * len(indices)
    out = z_c.reshape(batch, *(1,) * len(indices), num_labels, d).expand(batch, *grid, num_labels, d).clone()
    if len(indices) == 1:
        out[:, :, indices[0]] = points[0]
    else:
        out[:, :, :, indices[0]] = points[0][:, None, :]
        out[:, :, :, indices[1]] = points[1][None, :, :]
    return out


@torch.no_grad()
def traverse(
    model: CCVAE, x: torch.Tensor, labels: Sequence[str], steps: int = 7, span: float = TRAVERSAL_SPAN
) -> torch.Tensor:
    """Decoded traversals of z_c^i for one or two labels of the images x [B, C, S, S] (Fig. 3):
    [B, steps, C, S, S] for one label, [B, steps, steps, C, S, S] for two."""
    require(model, "traverse")
    indices = [label_index(model, name) for name in labels]
    z_c, z_s = model.encode(x)
    codes = traverse_latents(model, z_c, indices, steps, span)  # [B, *grid, L, d]
    grid = codes.shape[1:-2]
    z_s = z_s.reshape(z_s.shape[0], *(1,) * len(grid), -1).expand(*codes.shape[:-2], -1)
    images = model.decode(codes.flatten(0, len(grid)), z_s.flatten(0, len(grid)))
    return images.unflatten(0, codes.shape[:-2])


# Characteristic swaps (Fig. 6, 7; Table 2) ------------------------------------------------


def swap_latents(z_c: torch.Tensor, z_s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every pairing of z_c [R, L, d] (rows) with z_s [K, m_s] (columns): [R, K, L, d], [R, K, m_s]."""
    rows, cols = z_c.shape[0], z_s.shape[0]
    return (
        z_c.unsqueeze(1).expand(rows, cols, *z_c.shape[1:]),
        z_s.unsqueeze(0).expand(rows, cols, z_s.shape[-1]),
    )


@torch.no_grad()
def swap(model: CCVAE, sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """[R, K, C, S, S]: cell (r, k) is `model.swap(sources[r], targets[k])`, for the CCVAE z_c of
    sources[r] decoded with z_\\c of targets[k] (Fig. 7): rows keep the characteristics, columns
    the rest of the scene."""
    require(model, "swap")
    rows, cols = sources.shape[0], targets.shape[0]
    pairs = model.swap(sources.repeat_interleave(cols, dim=0), targets.repeat(rows, 1, 1, 1))
    return pairs.unflatten(0, (rows, cols))


# Diversity (Fig. 4, 5) --------------------------------------------------------------------


def diversity_latents(
    model: CCVAE,
    z_c: torch.Tensor,
    index: int,
    value: float,
    num: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """z_c [L, d] of one image -> [num, L, d] with z_c^i drawn `num` times from
    p_psi(z_c^i | y_i = value); the other blocks are the image's."""
    prior = block_prior(model, index, value, like=z_c)  # batch [1]
    out = z_c.unsqueeze(0).repeat(num, 1, 1)
    out[:, index] = prior.sample(generator, (num,))[:, 0]
    return out


@torch.no_grad()
def diversity(
    model: CCVAE,
    x: torch.Tensor,
    label: str,
    value: float | None = None,
    num: int = 16,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """`num` decodings [num, C, S, S] of one image x [C, S, S] (or [1, C, S, S]) with z_c^i
    redrawn from p_psi(z_c^i | y_i = value) and every other latent kept at the image's
    encoding (Fig. 4). `value` None uses the classifier's prediction for the image."""
    require(model, "diversity")
    index = label_index(model, label)
    x = x.reshape(1, *x.shape[-3:])
    z_c, z_s = model.encode(x)
    if value is None:
        value = float(model.predict_labels(z_c)[0, index])
    codes = diversity_latents(model, z_c[0], index, value, num, generator)
    return model.decode(codes, z_s.expand(num, -1))


def pixel_variance(samples: torch.Tensor) -> torch.Tensor:
    """Per-pixel variance across draws [N, C, S, S] -> [S, S], summed over channels (Fig. 5)."""
    return samples.var(dim=0, unbiased=False).sum(dim=0)
