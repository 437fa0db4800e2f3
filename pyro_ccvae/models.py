"""The models a run can train, by name: the CCVAE and the baselines the paper compares it with
(M2, the modified DIVA, MVAE; see baselines/). Everything that depends on which model a run
holds goes through here: its config and objective, and which manipulations it allows.

Latent sizes: the CLI's --z-c-block and --z-s-dim (`model_options` z_c_block and z_s_dim) set
z_c^i and z_\\c of the CCVAE and DIVA; M2's z is its z_\\c (z_dim = z_s_dim; its labels are
decoder inputs, so z_c_block does not apply); the MVAE's one latent z has the CCVAE's total size
(latent_dim = L * z_c_block + z_s_dim, L + 27 by default).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

from .baselines import BASELINES
from .elbo import CCVAE_ELBO
from .model import CCVAE, CCVAEConfig

if TYPE_CHECKING:
    from .train import TrainConfig

MODELS = {"ccvae": (CCVAE, CCVAEConfig, CCVAE_ELBO), **BASELINES}  # name: (model, config, ELBO) classes
DISPLAY_NAMES = {"ccvae": "CCVAE", "m2": "M2", "diva": "DIVA", "mvae": "MVAE"}
# The weights of TrainConfig (alpha, beta) each objective takes; None there: the objective's default.
WEIGHTS = {"ccvae": (), "m2": ("alpha",), "diva": ("alpha", "beta"), "mvae": ()}

# Why a model cannot do a task. "diversity" (draws of z_c^i from p(z_c^i | y_i)) and "ground_truth"
# (metrics that read z_c and z_\c) need per-label characteristic latents, which a model has
# exactly when it supports traversals.
NEEDS = {"diversity": "traverse", "ground_truth": "traverse"}
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
}


class UnknownModel(ValueError):
    """A model name that is not one of MODELS (or an unknown classical classifier)."""


class NotSupported(ValueError):
    """A manipulation or measure that the model cannot do."""


def check_name(name: str) -> str:
    if name not in MODELS:
        raise UnknownModel(f"unknown model {name!r}; valid models: {', '.join(MODELS)}")
    return name


def model_name(model: nn.Module) -> str:
    """The name in MODELS of the model's class."""
    return next(name for name, (cls, _, _) in MODELS.items() if type(model) is cls)


def config_fields(name: str, model_options: dict, num_labels: int) -> dict:
    """The config fields of model `name` for the shared `model_options` (likelihood,
    likelihood_scale, z_c_block, z_s_dim, and for the CCVAE continuous_prior_scale; see the
    module docstring for the latent sizes)."""
    options = dict(model_options)
    if name != "ccvae":
        options.pop("continuous_prior_scale", None)
    z_c_block = options.pop("z_c_block", CCVAEConfig.z_c_block)
    z_s_dim = options.pop("z_s_dim", CCVAEConfig.z_s_dim)
    if name in ("ccvae", "diva"):
        return {**options, "z_c_block": z_c_block, "z_s_dim": z_s_dim}
    if name == "m2":
        return {**options, "z_dim": z_s_dim}
    return {**options, "latent_dim": num_labels * z_c_block + z_s_dim}


def make_elbo(model: nn.Module, config: TrainConfig):
    """The model's objective with the settings of `config` that it takes: unsup_bound and
    num_classifier_samples for the CCVAE, alpha and beta (where not None) for the baselines."""
    name = model_name(model)
    weights = {k: getattr(config, k) for k in ("alpha", "beta") if getattr(config, k) is not None}
    unused = [k for k in weights if k not in WEIGHTS[name]]
    if unused:
        raise ValueError(f"the {DISPLAY_NAMES[name]} objective takes no {' or '.join(unused)}")
    if name == "ccvae":
        return CCVAE_ELBO(model.label_groups, config.num_classifier_samples, config.unsup_bound)
    return MODELS[name][2](**weights)


def why_not(model: nn.Module, task: str) -> str | None:
    """None if the model can do `task` (a key of WHY_NOT), else the reason it cannot."""
    if model.supports[NEEDS.get(task, task)]:
        return None
    return WHY_NOT[task].format(name=DISPLAY_NAMES[model_name(model)])


def require(model: nn.Module, task: str) -> None:
    """NotSupported, saying why, if the model cannot do `task`."""
    reason = why_not(model, task)
    if reason is not None:
        raise NotSupported(reason)
