"""Fréchet distances (Table 4): the formula against direct computations, the distance between
image sets through a stand-in feature network, and Inception-v3 from a local weights file only."""

import numpy as np
import pytest
import torch

from pyro_ccvae.analysis import fid
from pyro_ccvae.errors import WeightsFileError


def test_frechet_distance_of_diagonal_gaussians_is_the_closed_form():
    rng = np.random.default_rng(0)
    mu_1, mu_2 = rng.normal(size=5), rng.normal(size=5)
    var_1, var_2 = rng.uniform(0.1, 2, 5), rng.uniform(0.1, 2, 5)
    expected = np.sum((mu_1 - mu_2) ** 2) + np.sum(var_1 + var_2 - 2 * np.sqrt(var_1 * var_2))
    assert fid.frechet_distance(mu_1, np.diag(var_1), mu_2, np.diag(var_2)) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_of_full_covariances_matches_scipy_sqrtm():
    from scipy import linalg

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    s_1, s_2 = a @ a.T + 0.1 * np.eye(6), b @ b.T + 0.1 * np.eye(6)
    mu_1, mu_2 = rng.normal(size=6), rng.normal(size=6)
    expected = np.sum((mu_1 - mu_2) ** 2) + np.trace(s_1 + s_2 - 2 * linalg.sqrtm(s_1 @ s_2).real)
    assert fid.frechet_distance(mu_1, s_1, mu_2, s_2) == pytest.approx(expected, rel=1e-8)
    assert fid.frechet_distance(mu_1, s_1, mu_1, s_1) == pytest.approx(0, abs=1e-8)
    # singular covariances (3 images, 6 features) stay finite and >= 0
    f_1, f_2 = rng.normal(size=(3, 6)), rng.normal(size=(3, 6))
    assert 0 <= fid.frechet_distance(f_1.mean(0), np.cov(f_1.T), f_2.mean(0), np.cov(f_2.T)) < np.inf


def test_distance_between_image_sets_through_a_stand_in_network():
    g = torch.Generator().manual_seed(0)
    projection = torch.randn(3 * 8 * 8, 4, generator=g)

    def features(images):  # a fixed linear map of the pixels: features [B, 4]
        return images.flatten(1) @ projection

    real = torch.rand(300, 3, 8, 8, generator=g)
    brighter = (real[:200] * 0.5 + 0.5).clamp(0, 1)
    f_real, f_fake = (real.flatten(1) @ projection).double().numpy(), (brighter.flatten(1) @ projection).double().numpy()
    expected = fid.frechet_distance(f_real.mean(0), np.cov(f_real.T), f_fake.mean(0), np.cov(f_fake.T))
    assert fid.distance_between(features, real, brighter, batch_size=64) == pytest.approx(expected, rel=1e-6)
    assert expected > 1
    assert fid.distance_between(features, real, real) == pytest.approx(0, abs=1e-6)


@pytest.fixture(scope="module")
def inception_files(tmp_path_factory):
    """torchvision's and pytorch-fid's Inception-v3 layouts, randomly initialised, as weight files."""
    from torchvision.models.inception import Inception3

    folder = tmp_path_factory.mktemp("inception")
    torch.manual_seed(0)
    files = {}
    for name, classes, aux in (("torchvision", 1000, True), ("pytorch-fid", fid.FID_CLASSES, False)):
        net = Inception3(num_classes=classes, aux_logits=aux, init_weights=False)
        if classes == fid.FID_CLASSES:
            fid._use_fid_blocks(net)
        files[name] = folder / f"{name}.pth"
        torch.save(net.state_dict(), files[name])
    return files


@pytest.mark.parametrize("name", ["torchvision", "pytorch-fid"])
def test_inception_features_come_from_the_local_file_only(inception_files, name, monkeypatch):
    def no_download(*args, **kwargs):
        raise AssertionError("nothing may be downloaded")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_download)
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    features = fid.load_inception(inception_files[name])
    images = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    out = features(images)
    assert out.shape == (3, 2048) and torch.isfinite(out).all()
    assert not torch.allclose(out[0], out[1])
    torch.testing.assert_close(features(images[:1, :1].expand(1, 3, 16, 16)), features(images[:1, :1]))  # grey = repeated


def test_a_wrong_weights_file_is_a_clear_error(tmp_path):
    with pytest.raises(WeightsFileError, match="no Inception weights file"):
        fid.load_inception(tmp_path / "missing.pth")
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(WeightsFileError, match="does not hold Inception-v3 weights"):
        fid.load_inception(tmp_path / "other.pth")


def test_evaluate_reports_fid_and_the_oracle_distance_from_the_same_generations(tmp_path, monkeypatch):
    from pyro_ccvae.analysis import evaluate
    from pyro_ccvae.analysis.oracle import fit_oracle, load_oracle, save_oracle
    from pyro_ccvae.datasets import read_dataset
    from pyro_ccvae.datasets.tensors import split_tensors
    from pyro_ccvae.training.config import ModelOptions, TrainConfig
    from pyro_ccvae.training.runs import load_model, train_new_run

    from .helpers import tiny_synthfaces

    projection = torch.randn(3 * 16 * 16, 5, generator=torch.Generator().manual_seed(0))

    def stand_in(images):  # in place of Inception-v3 (tested above): 5 fixed projections of the pixels
        return images.flatten(1) @ projection

    asked = []
    monkeypatch.setattr(evaluate, "load_inception", lambda path, device: asked.append(path) or stand_in)
    data = tiny_synthfaces(tmp_path, 120, 16)
    oracle_dir = save_oracle(fit_oracle(read_dataset(data), epochs=1), tmp_path / "oracle")
    config = TrainConfig(dataset=str(data), epochs=1, batch_size=32, num_classifier_samples=4)
    train_new_run(config, ModelOptions(z_s_dim=4), tmp_path / "run", torch.device("cpu"))
    report = evaluate.evaluate_run(tmp_path / "run", oracle_dir=oracle_dir, samples=12, seed=3, inception_weights="w.pth")
    assert asked == ["w.pth"]
    assert report["fid"] > 0 and report["oracle_frechet_distance"] > 0

    # The same 12 generations (labels drawn from p(y) with the seed's generator) and 12 test images.
    model = load_model(tmp_path / "run")
    test = split_tensors(read_dataset(data), "test", torch.device("cpu"))
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        fake = model.generate(model.draw_labels(12, generator), generator)
    real = test.images[:12].float() / 255
    expected = fid.distance_between(fid.oracle_features(load_oracle(oracle_dir)), fake, real)
    assert report["oracle_frechet_distance"] == pytest.approx(expected, rel=1e-5)
    assert report["fid"] == pytest.approx(fid.distance_between(stand_in, fake, real), rel=1e-5)
