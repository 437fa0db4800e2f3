import pyro
import pytest
import torch

from pyro_ccvae.core.model import CCVAE, CCVAEConfig

from .helpers import move_off_symmetric_start


@pytest.fixture(autouse=True)
def _fresh_rng_and_params():
    pyro.clear_param_store()
    torch.manual_seed(0)
    yield


@pytest.fixture
def tiny_model():
    """A CCVAE on 8x8 RGB images with 3 labels, 2-dim label blocks and 4-dim z_s."""
    torch.manual_seed(1)
    config = CCVAEConfig(
        label_names=["a", "b", "c"], label_priors=[0.3, 0.5, 0.8], image_shape=(3, 8, 8), z_c_block=2, z_s_dim=4
    )
    model = CCVAE(config)
    move_off_symmetric_start(model)
    return model


@pytest.fixture
def tiny_batch():
    g = torch.Generator().manual_seed(2)
    x = torch.rand(6, 3, 8, 8, generator=g)
    y = torch.bernoulli(torch.full((6, 3), 0.5), generator=g)
    mask = torch.tensor([[1, 1, 1], [1, 1, 1], [0, 0, 0], [0, 0, 0], [1, 0, 1], [0, 1, 0]], dtype=torch.bool)
    return x, y, mask
