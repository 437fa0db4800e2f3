"""The CCVAE itself: the model/guide pair (model.py), its objective (elbo.py, with the optional
contrastive term of contrastive.py), the label kinds (kinds/), the networks (networks.py) and the
conditional prior of all labels (blocks.py)."""

from .config import LIKELIHOODS, ModelConfig
from .elbo import CCVAE_ELBO, UNSUP_BOUNDS
from .model import CCVAE, CCVAEConfig

__all__ = ["CCVAE", "CCVAEConfig", "CCVAE_ELBO", "LIKELIHOODS", "ModelConfig", "UNSUP_BOUNDS"]
