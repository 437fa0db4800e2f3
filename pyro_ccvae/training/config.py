"""The settings of a run: how to train (`TrainConfig`) and the shape of the model
(`ModelOptions`), both stored in the run's config.json."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.elbo import UNSUP_BOUNDS
from ..core.model import CONTINUOUS_PRIOR_SCALE

ON_NAN = ("stop", "rollback")


@dataclass
class TrainConfig:
    dataset: str = "synthfaces"  # a built-in name or the path of a prepared .h5 file
    labels: list[str] = field(default_factory=list)  # labels to model; empty = the data set's default
    sup_fraction: float = 0.2  # f: fraction of training images whose labels are kept
    epochs: int = 8
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0
    unsup_bound: str = "enumerate"  # CCVAE: "sample", "enumerate" or "marginal" (see core/elbo.py)
    num_classifier_samples: int = 100  # CCVAE: k draws of q(z_c | x) for q(y | x), eq. (4)
    control_variate: bool = True  # CCVAE: a baseline in the gradient through eq. (4)'s weight (core/elbo.py)
    # Labelled rows in every batch where plain batches would hold fewer (f * batch_size < 8), weighted
    # to keep eq. (6)'s expectation (batches.py; docs/low_supervision.md); 0 = plain batches.
    labelled_per_batch: int = 8
    alpha: float | None = None  # M2, DIVA: classifier weight; None: the objective's default (50; 3500)
    beta: float | None = None  # CCVAE, DIVA: weight of the prior (KL) terms; None: the objective's default (1)
    contrastive_weight: float = 0.0  # CCVAE: lambda of the supervised contrastive term on z_c (poster 000); 0: none
    contrastive_temperature: float = 0.1  # CCVAE: its temperature tau
    # CCVAE, DIVA: Adam's learning rate for p_psi(z_c | y)'s parameters, as a multiple of lr. Adam moves
    # a parameter by about lr per step, so in short runs the prior lags the encoder (docs/generation.md).
    prior_lr_factor: float = 1.0
    checkpoint_every: int = 500  # steps between checkpoints; 0 = only at the end of each epoch
    on_nan: str = "stop"  # on a NaN loss: "stop", or "rollback" to the last checkpoint with a lower lr
    defaults: str = ""  # which data-set defaults filled the unset fields (training/defaults.py), for the record

    def __post_init__(self):
        if not 0 < self.sup_fraction <= 1:
            raise ValueError(f"sup_fraction must be in (0, 1], got {self.sup_fraction}")
        if self.unsup_bound not in UNSUP_BOUNDS:
            raise ValueError(f"unsup_bound must be one of {', '.join(UNSUP_BOUNDS)}, got {self.unsup_bound!r}")
        if self.on_nan not in ON_NAN:
            raise ValueError(f"on_nan must be one of {', '.join(ON_NAN)}, got {self.on_nan!r}")
        if self.labelled_per_batch < 0:
            raise ValueError(f"labelled_per_batch must be 0 or more, got {self.labelled_per_batch}")
        if self.checkpoint_every < 0:
            raise ValueError(f"checkpoint_every must be 0 or more steps, got {self.checkpoint_every}")
        if self.contrastive_weight < 0 or not self.contrastive_temperature > 0:
            raise ValueError("contrastive_weight must be non-negative and contrastive_temperature positive")
        if not self.prior_lr_factor > 0:
            raise ValueError(f"prior_lr_factor must be positive, got {self.prior_lr_factor}")
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0:
            raise ValueError("epochs and batch_size must be at least 1 and lr positive")


# How a run whose config.json predates a field was trained: it resumes and reloads as it was
# (eq. (8) without the control variate, plain batches, one learning rate).
BEFORE_RECORDED = {"control_variate": False, "labelled_per_batch": 0, "prior_lr_factor": 1.0}


@dataclass
class ModelOptions:
    """What a user chooses about a model's shape; each model takes the fields that apply to it
    (registry.py maps the latent sizes onto its config)."""

    z_c_block: int | None = None  # size of each z_c^i; None: kinds.default_z_c_block of the labels
    z_s_dim: int = 27  # size of z_\\c (M2: its z)
    likelihood: str = "laplace"  # family of p_theta(x | .)
    likelihood_scale: float = 1.0
    continuous_prior_scale: float = CONTINUOUS_PRIOR_SCALE  # CCVAE: scale of p(z_c^i | y_i), continuous labels
