"""The models Joy et al. (2021) compare CCVAE against (sec. 6, App. C.4), as Pyro model/guide
pairs with CCVAE's networks and public interface.

`BASELINES[name]` is (model class, config class, ELBO class):

    model_class, config_class, elbo_class = BASELINES["m2"]
    model = model_class(config_class(label_names=..., label_priors=..., image_shape=..., **model_options))
    elbo = elbo_class(**objective_options)
    loss = elbo.differentiable_loss(model.model, model.guide, x, y, mask)

Every model has `config` (with `to_dict()`), `model(x, y, mask)`, `guide(x, y, mask)`,
`predict(x) -> [B, L]`, `draw_labels(num)`, `encode(x)` (a tuple of latent means, `decode(*encode(x))`
reconstructs), `reconstruct`, `generate(y)`, `intervene(x, {label: value})`, `swap(sources,
targets)`, and a class attribute `supports` saying which manipulations it allows.
"""

from .diva import DIVA, DIVA_ELBO, DIVAConfig
from .m2 import M2, M2_ELBO, M2Config, kingma_alpha
from .mvae import MVAE, MVAE_ELBO, MVAEConfig, product_of_experts

BASELINES = {
    "m2": (M2, M2Config, M2_ELBO),
    "diva": (DIVA, DIVAConfig, DIVA_ELBO),
    "mvae": (MVAE, MVAEConfig, MVAE_ELBO),
}

__all__ = [
    "BASELINES",
    "DIVA",
    "DIVAConfig",
    "DIVA_ELBO",
    "M2",
    "M2Config",
    "M2_ELBO",
    "MVAE",
    "MVAEConfig",
    "MVAE_ELBO",
    "kingma_alpha",
    "product_of_experts",
]
