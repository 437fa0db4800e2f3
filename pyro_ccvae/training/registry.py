"""The models a run can train, by name: the CCVAE and the baselines the paper compares it with
(M2, the modified DIVA, MVAE; see baselines/). Everything that depends on which model a run
holds goes through its `ModelSpec` here: its classes, which options it takes, how the shared
latent sizes map onto its config, its objective, and which manipulations it allows.

Latent sizes (`ModelOptions.z_c_block` and `z_s_dim`): they set z_c^i and z_\\c of the CCVAE and
DIVA; M2's z is its z_\\c (z_dim = z_s_dim; its labels are decoder inputs, so z_c_block does not
apply); the MVAE's one latent z has the CCVAE's total size (latent_dim = L * z_c_block +
z_s_dim, L + 27 by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

from ..baselines import DIVA, DIVA_ELBO, M2, M2_ELBO, MVAE, MVAE_ELBO, DIVAConfig, M2Config, MVAEConfig
from ..core import CCVAE, CCVAE_ELBO, CCVAEConfig
from ..errors import InvalidRequest, NotSupported, UnknownModel
from .config import ModelOptions, TrainConfig


@dataclass(frozen=True)
class ModelSpec:
    name: str  # the name runs and commands use
    display_name: str  # the name tables use
    model_class: type
    config_class: type
    # The ModelOptions and TrainConfig fields that only some models take, and which this one does.
    options: frozenset[str]
    latent_fields: Callable[[ModelOptions, int], dict]  # (options, number of labels) -> config fields
    make_elbo: Callable[[nn.Module, TrainConfig], object]  # (model, settings) -> its objective
    # Whether some parameters get no gradient from some batches, so that DistributedDataParallel
    # must look for them every step (find_unused_parameters): the MVAE's label expert sees only
    # labelled rows. tests/test_distributed.py checks this against every model's gradients.
    unused_parameters: bool = False


def _blocks(options: ModelOptions, num_labels: int) -> dict:
    return {"z_c_block": options.z_c_block, "z_s_dim": options.z_s_dim}


def _weighted(elbo_class, *names):
    """An objective taking the TrainConfig weights `names` that are set (None: its default)."""
    return lambda model, config: elbo_class(
        **{k: getattr(config, k) for k in names if getattr(config, k) is not None}
    )


MODEL_SPECIFIC = (
    "z_c_block", "continuous_prior_scale", "unsup_bound", "num_classifier_samples", "alpha", "beta",
    "contrastive_weight", "contrastive_temperature", "prior_lr_factor",
)  # fmt: skip
CCVAE_OPTIONS = frozenset({
    "z_c_block", "continuous_prior_scale", "unsup_bound", "num_classifier_samples", "beta",
    "contrastive_weight", "contrastive_temperature", "prior_lr_factor",
})  # fmt: skip


def _ccvae_elbo(model: nn.Module, config: TrainConfig) -> CCVAE_ELBO:
    return CCVAE_ELBO(
        model.label_groups, config.num_classifier_samples, config.unsup_bound,
        beta=1.0 if config.beta is None else config.beta,
        contrastive_weight=config.contrastive_weight, contrastive_temperature=config.contrastive_temperature,
        control_variate=config.control_variate,
    )  # fmt: skip


MODELS = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "ccvae", "CCVAE", CCVAE, CCVAEConfig, CCVAE_OPTIONS,
            lambda o, n: {**_blocks(o, n), "continuous_prior_scale": o.continuous_prior_scale},
            _ccvae_elbo,
        ),
        ModelSpec(
            "m2", "M2", M2, M2Config, frozenset({"alpha"}),
            lambda o, n: {"z_dim": o.z_s_dim}, _weighted(M2_ELBO, "alpha"),
        ),
        ModelSpec(
            "diva", "DIVA", DIVA, DIVAConfig, frozenset({"z_c_block", "alpha", "beta", "prior_lr_factor"}),
            _blocks, _weighted(DIVA_ELBO, "alpha", "beta"),
        ),
        ModelSpec(
            "mvae", "MVAE", MVAE, MVAEConfig, frozenset({"z_c_block"}),
            lambda o, n: {"latent_dim": n * o.z_c_block + o.z_s_dim}, _weighted(MVAE_ELBO), unused_parameters=True,
        ),
    )
}  # fmt: skip

# Why a model cannot do a task. "diversity" (draws of z_c^i from p(z_c^i | y_i)), "ground_truth"
# (metrics that read z_c and z_\c) and "probe" (the latent-space analyses: probes, directions in
# z_\c, mixing z_c blocks) need per-label characteristic latents, which a model has exactly when
# it supports traversals.
NEEDS = {"diversity": "traverse", "ground_truth": "traverse", "probe": "traverse"}
WHY_NOT = {
    "intervene": "{name} cannot set a label in its latents, so there are no interventions",
    "traverse": "{name} has no per-label characteristic latents, so there is no traversal of a label's "
    "characteristic (as in the paper)",
    "swap": "{name} has no characteristic latents to swap, so there are no characteristic swaps",
    "conditional_generation": "{name} cannot generate images for chosen labels",
    "diversity": "{name} has no per-label characteristic latents, so there are no draws of a label's "
    "characteristic from p(z_c^i | y_i) (as in the paper)",
    "ground_truth": "{name} has no per-label characteristic latents z_c (and z_\\c) to compare with the "
    "ground-truth factors",
    "probe": "{name} has no per-label characteristic latents z_c (and z_\\c) to probe, traverse or mix",
}


def spec_of(name: str) -> ModelSpec:
    """The model called `name`; UnknownModel if there is none."""
    if name not in MODELS:
        raise UnknownModel(f"unknown model {name!r}; valid models: {', '.join(MODELS)}", setting="model_name")
    return MODELS[name]


def spec_for(model: nn.Module) -> ModelSpec:
    """The spec of a model object (by its exact class)."""
    return next(spec for spec in MODELS.values() if type(model) is spec.model_class)


def set_options(config: TrainConfig) -> set[str]:
    """The model-specific TrainConfig fields that `config` sets away from their defaults."""
    defaults = TrainConfig()
    return {k for k in MODEL_SPECIFIC if hasattr(defaults, k) and getattr(config, k) != getattr(defaults, k)}


def check_options(name: str, given: set[str]) -> None:
    """InvalidRequest if `given` (ModelOptions or TrainConfig field names set by the user)
    holds an option that model `name` does not take."""
    spec = spec_of(name)
    for option in MODEL_SPECIFIC:
        if option in given and option not in spec.options:
            takers = [s.name for s in MODELS.values() if option in s.options]
            raise InvalidRequest(
                f"{option} applies to {', '.join(takers)} only, not to the model {name}", setting=option, models=takers
            )


def build_config(name: str, options: ModelOptions, **fields_):
    """Model `name`'s config from the shared `options` and the data's fields (labels, priors,
    image shape, dataset)."""
    spec = spec_of(name)
    likelihood = {"likelihood": options.likelihood, "likelihood_scale": options.likelihood_scale}
    return spec.config_class(**fields_, **likelihood, **spec.latent_fields(options, len(fields_["label_names"])))


def why_not(model: nn.Module, task: str) -> str | None:
    """None if the model can do `task` (a key of WHY_NOT), else the reason it cannot."""
    if model.supports[NEEDS.get(task, task)]:
        return None
    return WHY_NOT[task].format(name=spec_for(model).display_name)


def require(model: nn.Module, task: str) -> None:
    """NotSupported, saying why, if the model cannot do `task`."""
    reason = why_not(model, task)
    if reason is not None:
        raise NotSupported(reason)
