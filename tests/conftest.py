import pyro
import pytest
import torch

from pyro_ccvae.core.model import CCVAE, CCVAEConfig
from pyro_ccvae.datasets import write_dataset
from pyro_ccvae.datasets.synthfaces import generate_synthfaces
from pyro_ccvae.explorer import Explorer
from pyro_ccvae.training.config import ModelOptions, TrainConfig
from pyro_ccvae.training.runs import train_new_run

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


@pytest.fixture(scope="session")
def mixed_run(tmp_path_factory):
    """A run of one short epoch on tiny synthfaces-mixed (120 16x16 images): binary,
    categorical and continuous labels."""
    folder = tmp_path_factory.mktemp("mixed_run")
    path = folder / "mixed.h5"
    write_dataset(path, generate_synthfaces(120, seed=0, size=16, variant="mixed"))
    config = TrainConfig(dataset=str(path), epochs=1, batch_size=32, num_classifier_samples=4)
    train_new_run(config, ModelOptions(z_s_dim=4), folder / "run", torch.device("cpu"))
    return folder / "run"


@pytest.fixture(scope="session")
def explorer(mixed_run):
    """The explorer (pyro_ccvae.explorer.Explorer) of `mixed_run`."""
    return Explorer.from_run(mixed_run)
