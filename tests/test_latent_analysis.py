"""The latent-space analyses of the posters (probes, correlations, directions in z_\\c, the
Frankenstein test, interpolations) against direct computations and fakes with known answers."""

import numpy as np
import pytest
import torch
from torch import nn

from pyro_ccvae.analysis.directions import (
    alphas,
    direction_effects,
    label_direction,
    shifted_latents,
    traverse_direction,
    unit_direction,
)
from pyro_ccvae.analysis.frankenstein import (
    combination_frequencies,
    combination_index,
    frankenstein_test,
    outcome_matrix,
    rare_combinations,
)
from pyro_ccvae.analysis.interpolate import interpolate_images, interpolate_label, interpolate_latents
from pyro_ccvae.analysis.probe import label_columns, latent_label_correlations, probe_estimator, probe_label
from pyro_ccvae.baselines import M2, M2Config
from pyro_ccvae.core.kinds import make_label, make_labels
from pyro_ccvae.datasets.h5format import ImageDataset
from pyro_ccvae.errors import InvalidRequest, LabelError, NotSupported

from .test_manipulate import DecoderSpy

BINARY = make_label("A", "binary")
CONTINUOUS = make_label("Age", "continuous")
HAIR = make_label("Hair", "categorical", ("black", "blond", "red"))


# Probes ------------------------------------------------------------------------------------


def synthetic_latents(n, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4))


def test_probes_equal_direct_sklearn_fits_and_the_majority_baseline():
    z_train, z_test = synthetic_latents(600, 0), synthetic_latents(300, 1)
    y_train, y_test = (z_train[:, 0] - z_train[:, 2] > 0.3).astype(float), (z_test[:, 0] - z_test[:, 2] > 0.3).astype(float)
    y_train[:5] = np.nan  # missing labels are skipped
    result = probe_label(BINARY, z_train, y_train, z_test, y_test)
    known = ~np.isnan(y_train)
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(z_train[known], y_train[known])
    boosted = HistGradientBoostingClassifier(random_state=0).fit(z_train[known], y_train[known])
    assert result["linear"]["accuracy"] == pytest.approx(np.mean(linear.predict(z_test) == y_test))
    assert result["boosted"]["accuracy"] == pytest.approx(np.mean(boosted.predict(z_test) == y_test))
    majority = float(np.nanmean(y_train) > 0.5)
    assert result["baseline"]["accuracy"] == pytest.approx(np.mean(y_test == majority))
    assert result["linear"]["accuracy"] > 0.95 and result["baseline"]["accuracy"] < 0.75


def test_only_the_boosted_probe_reads_a_non_linear_code():
    z_train, z_test = synthetic_latents(2000, 2), synthetic_latents(500, 3)
    ring = lambda z: (np.abs(z[:, 1]) > 0.7).astype(float)  # noqa: E731 - a label no line separates
    result = probe_label(BINARY, z_train, ring(z_train), z_test, ring(z_test))
    assert result["boosted"]["accuracy"] > 0.95
    assert result["linear"]["accuracy"] < 0.6  # chance: the classes are about equally frequent
    square = probe_label(CONTINUOUS, z_train, z_train[:, 3] ** 2, z_test, z_test[:, 3] ** 2)
    assert square["boosted"]["r2"] > 0.9 and square["linear"]["r2"] < 0.05
    assert set(square["baseline"]) == {"mae", "r2"} and square["baseline"]["r2"] <= 0


def test_noise_latents_score_the_baseline_and_one_class_gives_the_baseline():
    rng = np.random.default_rng(4)
    y_train, y_test = rng.integers(0, 3, 800).astype(float), rng.integers(0, 3, 400).astype(float)
    result = probe_label(HAIR, rng.normal(size=(800, 3)), y_train, rng.normal(size=(400, 3)), y_test)
    for probe in ("linear", "boosted"):
        assert abs(result[probe]["accuracy"] - 1 / 3) < 0.08
    one = probe_label(BINARY, rng.normal(size=(50, 2)), np.ones(50), rng.normal(size=(20, 2)), np.zeros(20))
    assert one["linear"] == one["boosted"] == one["baseline"] == {"accuracy": 0.0}
    with pytest.raises(ValueError, match="probe"):
        probe_estimator("forest", True)


def test_label_columns_and_correlations_match_numpy():
    rng = np.random.default_rng(5)
    values = np.stack([rng.integers(0, 2, 300), rng.integers(0, 3, 300), rng.normal(50, 10, 300)], axis=1).astype(float)
    values[:7, 2] = np.nan
    names, columns = label_columns([BINARY, HAIR, CONTINUOUS], values)
    assert names == ["A", "Hair=black", "Hair=blond", "Hair=red", "Age"]
    np.testing.assert_array_equal(columns[:, 2], (values[:, 1] == 1).astype(float))
    z = rng.normal(size=(300, 3))
    z[:, 1] += 0.1 * values[:, 0]
    correlations = latent_label_correlations(z, columns)
    assert correlations.shape == (3, 5)
    for k in range(3):
        for c in range(5):
            rows = ~np.isnan(columns[:, c])
            assert correlations[k, c] == pytest.approx(np.corrcoef(z[rows, k], columns[rows, c])[0, 1])
    constant = latent_label_correlations(np.ones((10, 1)), np.arange(10.0)[:, None])
    assert constant[0, 0] == 0


# Directions in z_\c ------------------------------------------------------------------------


def test_label_direction_recovers_the_separating_direction():
    rng = np.random.default_rng(6)
    w = np.array([2.0, -1.0, 0.0, 0.5])
    z = rng.normal(size=(3000, 4))
    binary = label_direction(BINARY, z, (z @ w + 0.1 * rng.normal(size=3000) > 0).astype(float))
    assert np.linalg.norm(binary) == pytest.approx(1.0)
    assert binary @ w / np.linalg.norm(w) > 0.98
    towards_zero = label_direction(BINARY, z, (z @ w > 0).astype(float), value=0.0)
    assert towards_zero @ binary < -0.98
    age = label_direction(CONTINUOUS, z, 40 + 5 * z @ w + rng.normal(size=3000))
    assert age @ w / np.linalg.norm(w) > 0.99
    hair = rng.integers(0, 3, 3000).astype(float)
    z[:, 3] += 3 * (hair == 2)
    assert label_direction(HAIR, z, hair, value=2.0)[3] > 0.95
    with pytest.raises(LabelError):
        label_direction(BINARY, z, np.ones(3000))


def test_unit_direction_and_shifts():
    np.testing.assert_array_equal(unit_direction(4, 2), [0, 0, 1, 0])
    with pytest.raises(InvalidRequest, match="0 to 3"):
        unit_direction(4, 4)
    z_s = torch.randn(3, 4)
    shifted = shifted_latents(z_s, torch.tensor([0.0, 1.0, 0.0, 0.0]), alphas(5, 2.0))
    torch.testing.assert_close(shifted[:, :, 1] - z_s[:, None, 1], torch.linspace(-2, 2, 5).expand(3, 5))
    torch.testing.assert_close(shifted[:, :, [0, 2, 3]], z_s[:, None, [0, 2, 3]].expand(3, 5, 3))


def test_traversal_along_e_k_changes_only_z_s_k(tiny_model, tiny_batch):
    x = tiny_batch[0][:3]
    z_c, z_s = tiny_model.encode(x)
    spy = DecoderSpy(tiny_model)
    images = traverse_direction(tiny_model, x, unit_direction(4, 1), steps=5, span=3.0)
    assert images.shape == (3, 5, 3, 8, 8)
    (codes_c, codes_s), = spy.calls
    codes_c, codes_s = codes_c.unflatten(0, (3, 5)), codes_s.unflatten(0, (3, 5))
    torch.testing.assert_close(codes_c, z_c.detach().unsqueeze(1).expand(-1, 5, -1, -1))
    others = [0, 2, 3]
    torch.testing.assert_close(codes_s[:, :, others], z_s.detach()[:, None, others].expand(-1, 5, -1))
    torch.testing.assert_close(codes_s[:, :, 1] - z_s.detach()[:, None, 1], torch.linspace(-3, 3, 5).expand(3, 5))


class BrightnessModel(nn.Module):
    """A fake model whose decoder paints every pixel sigmoid(z_s[0]): only e_0 changes images."""

    supports = {"intervene": True, "traverse": True, "swap": True, "conditional_generation": True}

    def __init__(self):
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(1))

    def encode(self, x):
        return torch.zeros(len(x), 1, 1), torch.zeros(len(x), 3)

    def decode(self, z_c, z_s):
        return torch.sigmoid(z_s[:, :1, None, None]).expand(-1, 1, 4, 4)


def brightness_oracle(images):
    """Logits of two labels: 'bright' is the image's mean pixel, 'other' ignores the image."""
    p = images.mean((1, 2, 3)).clamp(1e-6, 1 - 1e-6)
    return torch.stack([torch.logit(p), torch.zeros_like(p)], dim=-1)


def test_direction_effects_measure_the_oracle_change_along_each_direction():
    model = BrightnessModel()
    directions = {"e0": unit_direction(3, 0), "e1": unit_direction(3, 1), "mix": np.array([0.6, 0.8, 0.0])}
    means = direction_effects(model, brightness_oracle, torch.zeros(4, 1, 4, 4), directions, span=2.0, steps=3)
    expected_e0 = torch.sigmoid(torch.tensor([-2.0, 0.0, 2.0])).numpy()
    np.testing.assert_allclose(means["e0"][:, 0], expected_e0, rtol=1e-5)
    np.testing.assert_allclose(means["e1"][:, 0], 0.5, rtol=1e-5)
    np.testing.assert_allclose(means["mix"][:, 0], torch.sigmoid(0.6 * torch.tensor([-2.0, 0.0, 2.0])).numpy(), rtol=1e-5)
    np.testing.assert_allclose(means["e0"][:, 1], 0.5)


# The Frankenstein test ----------------------------------------------------------------------


def test_combination_bookkeeping():
    np.testing.assert_array_equal(combination_index([[0, 0], [0, 1], [1, 0], [1, 1]]), [0, 1, 2, 3])
    values = np.array([[0, 0]] * 60 + [[1, 1]] * 30 + [[0, 1]] * 4 + [[1, 0]] * 6 + [[np.nan, 1]] * 3)
    frequency = combination_frequencies(values)
    np.testing.assert_allclose(frequency, [0.6, 0.04, 0.06, 0.3])
    np.testing.assert_array_equal(rare_combinations(frequency), [False, True, True, False])
    assert not rare_combinations([0.25, 0.25, 0.25, 0.25]).any()
    outcome = outcome_matrix([0, 0, 1, 1, 1, 1], [0, 3, 1, 1, 0, 2])
    np.testing.assert_allclose(outcome[0], [0.5, 0, 0, 0.5])
    np.testing.assert_allclose(outcome[1], [0.25, 0.5, 0.25, 0])
    assert np.isnan(outcome[2]).all()


class PairModel(nn.Module):
    """A fake two-label model on 1x1 images with two channels holding (y_A, y_B). `confused`:
    it draws B as it draws A, as a model that learnt the correlation would."""

    supports = {"intervene": True, "traverse": True, "swap": True, "conditional_generation": True}

    def __init__(self, confused: bool):
        super().__init__()
        self.confused = confused
        self.unused = nn.Parameter(torch.zeros(1))
        self.config = type("Config", (), {"labels": make_labels(["A", "B"], ["binary"] * 2, {}), "label_names": ["A", "B"]})

    def draw_labels(self, num, generator=None):
        return torch.bernoulli(torch.full((num, 2), 0.5), generator=generator)

    def generate(self, y, generator=None):
        return self.decode(y.unsqueeze(-1), None)

    def encode(self, x):
        return x[:, :, 0, :].clone(), torch.zeros(len(x), 1)  # z_c [B, 2, 1]: the two channels

    def decode(self, z_c, z_s):
        a, b = z_c[:, 0, 0], z_c[:, 1, 0]
        return torch.stack([a, a if self.confused else b], dim=1)[:, :, None, None]

    def intervene(self, x, values):
        z_c, z_s = self.encode(x)
        for index, value in values.items():
            z_c[:, index] = value
        return self.decode(z_c, z_s)


def pair_oracle(images):
    return 20 * (images[:, :, 0, 0] - 0.5)


def pair_data():
    rng = np.random.default_rng(7)
    a = rng.random(400) < 0.4
    b = np.where(rng.random(400) < 0.9, a, ~a)  # B follows A 90% of the time
    labels = np.stack([a, b], axis=1).astype(np.float32)
    images = (255 * labels).astype(np.uint8)[:, :, None, None]
    split = np.where(np.arange(400) < 300, 0, 2).astype(np.uint8)
    return ImageDataset(images=images, labels=labels, label_names=("A", "B"), split=split)


def test_frankenstein_scores_a_faithful_model_perfectly_and_a_confused_one_only_on_common_pairs():
    data = pair_data()
    faithful = frankenstein_test(PairModel(False), pair_oracle, data, ["A", "B"], num=60)
    assert faithful["rare"] == [False, True, True, False]
    assert set(faithful["modes"]) == {"generation", "intervention", "mixing"}
    for mode in faithful["modes"].values():
        np.testing.assert_allclose(mode["outcome"], np.eye(4))
        assert mode["rare_success"] == mode["common_success"] == 1.0
    confused = frankenstein_test(PairModel(True), pair_oracle, data, ["A", "B"], num=60)
    for mode in confused["modes"].values():
        assert mode["success"] == [1.0, 0.0, 0.0, 1.0]  # asked (0, 1): got (0, 0); asked (1, 0): got (1, 1)
        np.testing.assert_allclose(np.asarray(mode["outcome"])[1], [1, 0, 0, 0])
        np.testing.assert_allclose(np.asarray(mode["outcome"])[2], [0, 0, 0, 1])
        assert mode["rare_success"] == 0.0 and mode["common_success"] == 1.0
    expected = combination_frequencies(data.labels[:300])
    np.testing.assert_allclose(confused["train_frequency"], expected)


def test_frankenstein_refuses_other_than_two_binary_labels():
    model, data = PairModel(False), pair_data()
    for labels in (["A"], ["A", "A"], ["A", "C"]):
        with pytest.raises(LabelError):
            frankenstein_test(model, pair_oracle, data, labels)
    model.config.labels = [make_label("A", "binary"), make_label("B", "continuous")]
    with pytest.raises(LabelError, match="continuous"):
        frankenstein_test(model, pair_oracle, data, ["A", "B"])


# Interpolation ------------------------------------------------------------------------------


def test_interpolate_latents_is_the_straight_line():
    start, end = torch.tensor([[0.0, 2.0]]), torch.tensor([[4.0, -2.0]])
    line = interpolate_latents(start, end, 5)
    assert line.shape == (5, 1, 2)
    torch.testing.assert_close(line[0], start)
    torch.testing.assert_close(line[-1], end)
    torch.testing.assert_close(line[2], (start + end) / 2)
    torch.testing.assert_close(line[1:] - line[:-1], ((end - start) / 4).expand(4, 1, 2))


def test_interpolations_end_at_the_two_images_and_the_two_conditional_priors(tiny_model, tiny_batch):
    x = tiny_batch[0]
    images = interpolate_images(tiny_model, x[:2], x[2:4], steps=6)
    assert images.shape == (2, 6, 3, 8, 8)
    torch.testing.assert_close(images[:, 0], tiny_model.reconstruct(x[:2]))
    torch.testing.assert_close(images[:, -1], tiny_model.reconstruct(x[2:4]))
    rows = interpolate_label(tiny_model, x[:3], "b", 0.0, 1.0, steps=4)
    torch.testing.assert_close(rows[:, 0], tiny_model.intervene(x[:3], {1: 0.0}))
    torch.testing.assert_close(rows[:, -1], tiny_model.intervene(x[:3], {1: 1.0}))
    spy = DecoderSpy(tiny_model)
    interpolate_label(tiny_model, x[:3], "b", 0.0, 1.0, steps=4)
    (codes, _), = spy.calls
    z_c = tiny_model.encode(x[:3])[0].detach()
    torch.testing.assert_close(codes.unflatten(0, (3, 4))[:, :, [0, 2]], z_c[:, None, [0, 2]].expand(-1, 4, -1, -1))


def test_analyses_that_need_z_c_refuse_m2():
    m2 = M2(M2Config(label_names=["a", "b"], label_priors=[0.5, 0.5], image_shape=(3, 8, 8), z_dim=4))
    x = torch.rand(2, 3, 8, 8)
    with pytest.raises(NotSupported, match="M2 has no per-label"):
        interpolate_images(m2, x, x)
    with pytest.raises(NotSupported, match="M2 has no per-label"):
        traverse_direction(m2, x, unit_direction(4, 0))
