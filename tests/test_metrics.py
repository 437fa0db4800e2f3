"""The metrics of pyro_ccvae.metrics against direct computations on small arrays, and the
measuring functions against a fake model and fake oracles whose effects are known."""

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from torch import nn

from pyro_ccvae.analysis.metrics import (
    condition_number,
    conditional_generation_accuracy,
    ground_truth_metrics,
    intervention_matrix,
    leakage,
    log_prob_of,
    measure_conditional_generation,
    measure_intervention_matrix,
    measure_prior_offset,
    measure_reconstruction_error,
    measure_swap_score,
    reconstruction_error,
    regression_r2,
    spearman_within_classes,
    swap_score,
)
from pyro_ccvae.core.model import CCVAE, CCVAEConfig
from pyro_ccvae.core.networks import DiagonalConditionalPrior
from pyro_ccvae.datasets.synthfaces import LABEL_NAMES, generate_synthfaces
from pyro_ccvae.datasets.tensors import LabelledImages, unit_pixels

L = 3


class FakeModel(nn.Module):
    """Images [B, 1, 2, L]: row 0 holds z_c (pixel p <-> z = 8 p - 4), row 1 holds z_s; decoding
    writes them back, so reconstructions are exact. p(z_c^i | y_i) = N(+-2, 1)."""

    def __init__(self):
        super().__init__()
        self.config = SimpleNamespace(num_labels=L, label_names=["a", "b", "c"], z_s_dim=L)
        self.conditional_prior = DiagonalConditionalPrior(L, 1)
        self.register_buffer("label_probs", torch.full((L,), 0.5))

    def encode(self, x):
        return (8 * x[:, 0, 0, :] - 4).unsqueeze(-1), x[:, 0, 1, :]

    def decode(self, z_c, z_s):
        return torch.stack([(z_c[..., 0] + 4) / 8, z_s], dim=1).unsqueeze(1)

    # The manipulations the measures run, as the CCVAE does them from encode, decode and p(z_c | y).
    reconstruct, swap, generate, intervene = CCVAE.reconstruct, CCVAE.swap, CCVAE.generate, CCVAE.intervene


def fake_split(n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 1, 2, L), generator=g, dtype=torch.uint8)
    labels = torch.bernoulli(torch.full((n, L), 0.5), generator=g)
    mask = torch.rand(n, L, generator=g) > 0.2
    return LabelledImages(images, labels * mask, mask)


def z_c_oracle(coupling=None):
    """Logits 10 A z_c, read off the images: A = I plus `coupling`."""
    a = torch.eye(L) if coupling is None else torch.eye(L) + coupling
    return lambda x: 10 * (8 * x[:, 0, 0, :] - 4) @ a.T


def z_s_oracle(x):
    return 6 * (x[:, 0, 1, :] - 0.5)


# On arrays -------------------------------------------------------------------------------------


def test_log_prob_of_is_the_bernoulli_log_probability():
    logits = torch.tensor([[-2.0, 0.0, 3.0]])
    labels = torch.tensor([[0.0, 1.0, 1.0]])
    expected = torch.log(torch.tensor([[1 - torch.sigmoid(torch.tensor(-2.0)), 0.5, torch.sigmoid(torch.tensor(3.0))]]))
    assert torch.allclose(log_prob_of(logits, labels), expected)


def test_swap_score_on_hand_made_log_probs():
    before = np.log([[0.9, 0.5], [0.2, 0.7]])
    after = np.log([[0.6, 0.5], [0.4, 0.7]])
    expected = (abs(np.log(0.9) - np.log(0.6)) + 0 + abs(np.log(0.2) - np.log(0.4)) + 0) / 4
    assert swap_score(before, after) == pytest.approx(expected)
    mask = np.array([[True, False], [False, False]])
    assert swap_score(before, after, mask) == pytest.approx(abs(np.log(0.9) - np.log(0.6)))
    assert np.isnan(swap_score(before, after, np.zeros((2, 2), bool)))


def test_conditional_generation_accuracy_on_hand_made_probs():
    probs = np.array([[0.9, 0.2], [0.4, 0.6], [0.7, 0.1]])
    y = np.array([[1, 0], [1, 1], [0, 1]])
    mean, per_label = conditional_generation_accuracy(probs, y)
    assert per_label == pytest.approx([1 / 3, 2 / 3])
    assert mean == pytest.approx(0.5)


def test_intervention_matrix_and_condition_number_against_a_loop():
    rng = np.random.default_rng(0)
    on, off = rng.random((3, 5, 3)), rng.random((3, 5, 3))
    expected = np.array([[np.mean([on[i, n, j] - off[i, n, j] for n in range(5)]) for j in range(3)] for i in range(3)])
    assert np.allclose(intervention_matrix(on, off), expected)
    s = np.linalg.svd(expected, compute_uv=False)
    assert condition_number(expected) == pytest.approx(s.max() / s.min())
    assert condition_number(np.diag([2.0, 2.0])) == pytest.approx(1.0)


def test_reconstruction_error_is_the_mean_absolute_difference():
    x = torch.tensor([[0.0, 0.5], [1.0, 0.25]])
    assert reconstruction_error(x, x + torch.tensor([[0.1, -0.3], [0.0, 0.2]])) == pytest.approx(0.15)


def test_spearman_within_classes_matches_scipy():
    rng = np.random.default_rng(1)
    z, c = rng.normal(size=60), rng.random(60)
    y = (rng.random(60) > 0.4).astype(float)
    c[y == 1] = -2 * z[y == 1] + 0.1 * rng.normal(size=int(y.sum()))  # strongly anti-correlated in class 1
    result = spearman_within_classes(z, c, y)
    for value in (0, 1):
        rows = y == value
        assert result[f"class_{value}"] == pytest.approx(abs(spearmanr(z[rows], c[rows]).statistic))
    assert result["class_1"] > 0.9
    assert result["mean"] == pytest.approx((result["class_0"] + result["class_1"]) / 2)
    few = spearman_within_classes(z[:4], c[:4], np.array([0, 0, 0, 1.0]))
    assert np.isnan(few["class_1"]) and few["mean"] == few["class_0"]


def test_leakage_is_perfect_when_z_holds_the_label_and_the_baseline_when_it_is_noise():
    rng = np.random.default_rng(2)
    y_train, y_test = (rng.random((400, 2)) < [0.3, 0.5]).astype(float), (rng.random((200, 2)) < [0.3, 0.5]).astype(float)
    holds = leakage(y_train + 0.01 * rng.normal(size=y_train.shape), y_train, y_test, y_test)
    assert [r["accuracy"] for r in holds] == [1.0, 1.0]
    noise = leakage(rng.normal(size=(400, 5)), y_train, rng.normal(size=(200, 5)), y_test)
    for column, r in enumerate(noise):
        majority = float(y_train[:, column].mean() >= 0.5)
        assert r["majority_baseline"] == pytest.approx(np.mean(y_test[:, column] == majority))
        assert abs(r["accuracy"] - r["majority_baseline"]) < 0.1
    y_missing = y_train.copy()
    y_missing[:50, 0] = np.nan
    assert leakage(y_missing[:, :1], y_missing[:, :1], y_test[:, :1], y_test[:, :1])[0]["accuracy"] == 1.0


def test_regression_r2_sees_linear_factors_and_not_noise():
    rng = np.random.default_rng(3)
    z_train, z_test = rng.normal(size=(300, 4)), rng.normal(size=(100, 4))
    w = rng.normal(size=(4, 2))
    f_train, f_test = z_train @ w + 0.01 * rng.normal(size=(300, 2)), z_test @ w + 0.01 * rng.normal(size=(100, 2))
    assert min(regression_r2(z_train, f_train, z_test, f_test)) > 0.99
    r2 = regression_r2(z_train, rng.random((300, 2)), z_test, rng.random((100, 2)))
    assert max(r2) < 0.1


# Measuring a model -------------------------------------------------------------------------------


def test_intervention_matrix_of_a_clean_oracle_is_the_identity():
    model, split = FakeModel(), fake_split()
    matrix = measure_intervention_matrix(model, z_c_oracle(), split)
    assert np.allclose(matrix, np.eye(L), atol=1e-6)
    assert condition_number(matrix) == pytest.approx(1.0, abs=1e-4)


def test_intervention_matrix_shows_an_oracle_that_mixes_labels():
    model, split = FakeModel(), fake_split()
    coupling = torch.zeros(L, L)
    coupling[1, 0] = 0.5  # label b's logit also reads z_c^a
    matrix = measure_intervention_matrix(model, z_c_oracle(coupling), split, max_images=25)
    z = 8 * split.images[:25].double() / 255 - 4
    z_b = z[:, 0, 0, 1]
    expected = (torch.sigmoid(10 * (z_b + 0.5 * 2)) - torch.sigmoid(10 * (z_b - 0.5 * 2))).mean()
    assert matrix[0, 1] == pytest.approx(expected.item(), abs=1e-5)
    z_a = z[:, 0, 0, 0]
    expected = (torch.sigmoid(10 * (2 + 0.5 * z_a)) - torch.sigmoid(10 * (-2 + 0.5 * z_a))).mean()
    assert matrix[1, 1] == pytest.approx(expected.item(), abs=1e-5)
    assert matrix[0, 0] == pytest.approx(1, abs=1e-6) and matrix[2, 2] == pytest.approx(1, abs=1e-6)
    assert matrix[1, 0] == pytest.approx(0) and matrix[2, 0] == pytest.approx(0)


def test_swap_score_is_zero_for_an_oracle_of_z_c_and_direct_for_one_of_z_s():
    model, split = FakeModel(), fake_split()
    assert measure_swap_score(model, z_c_oracle(), split) == pytest.approx(0, abs=1e-6)
    sources, targets = torch.arange(10), torch.arange(10).roll(3)
    score = measure_swap_score(model, z_s_oracle, split, pairs=(sources, targets), batch_size=4)
    x = split.images.float() / 255
    truth, mask = split.labels[sources], split.mask[sources]
    before = log_prob_of(z_s_oracle(x[sources]), truth)
    after = log_prob_of(z_s_oracle(x[targets]), truth)  # swapped image: z_s (row 1) of the target
    assert score == pytest.approx((before - after).abs()[mask].mean().item(), rel=1e-5)


def test_conditional_generation_accuracy_of_a_model_with_separated_classes():
    model = FakeModel()
    mean, per_label = measure_conditional_generation(model, z_c_oracle(), num=3000, generator=torch.Generator().manual_seed(0))
    phi_2 = 0.97725  # P(N(2, 1) > 0): the chance a draw lands on its class's side
    assert mean == pytest.approx(phi_2, abs=0.01) and len(per_label) == L
    blind, _ = measure_conditional_generation(model, lambda x: torch.zeros(x.shape[0], L), num=3000)
    assert blind == pytest.approx(0.5, abs=0.03)  # random guessing scores 1/2, as in Table 5


def test_reconstruction_error_of_a_model_off_by_a_constant():
    model, split = FakeModel(), fake_split()
    assert measure_reconstruction_error(model, split) == pytest.approx(0, abs=1e-6)
    model.decode = lambda z_c, z_s: FakeModel.decode(model, z_c, z_s) + 0.1
    assert measure_reconstruction_error(model, split, batch_size=7) == pytest.approx(0.1, abs=1e-6)


def test_ground_truth_metrics_on_tiny_synthfaces():
    data = generate_synthfaces(120, seed=0, size=16)
    torch.manual_seed(0)
    config = CCVAEConfig(label_names=list(LABEL_NAMES), label_priors=[0.5] * 9, image_shape=(3, 16, 16), z_s_dim=4)
    model = CCVAE(config).eval()
    result = ground_truth_metrics(model, data)
    tracking, leaks, r2 = result["characteristic_tracking"], result["leakage"], result["nuisance_r2"]
    assert set(tracking["per_label"]) == set(LABEL_NAMES) == set(leaks["per_label"])
    assert set(r2["per_factor"]) == {"bg_r", "bg_g", "bg_b", "face_x", "face_y", "face_size", "shirt_hue"}
    # Direct computation for one label: the first z_c block against char_Bangs within each class.
    test = data.split_indices("test")
    with torch.no_grad():
        z_c, _ = model.encode(torch.from_numpy(data.images[test]).float() / 255)
    i = LABEL_NAMES.index("Bangs")
    characteristic = data.factors[test, data.factor_names.index("char_Bangs")]
    expected = spearman_within_classes(z_c[:, i, 0].numpy(), characteristic, data.labels[test, i])
    bangs = tracking["per_label"]["Bangs"]
    assert {k: bangs[k] for k in expected} == pytest.approx(expected, nan_ok=True)
    # A face without bangs has no fringe length: only class 1 counts where it is drawn.
    assert bangs["visible_classes"] == [1] and bangs["mean_visible"] == pytest.approx(expected["class_1"], nan_ok=True)
    smiling = tracking["per_label"]["Smiling"]  # a flat to frowning mouth in class 0, a smile in class 1
    assert smiling["visible_classes"] == [0, 1] and smiling["mean_visible"] == pytest.approx(smiling["mean"], nan_ok=True)
    assert tracking["visible_from"] == "data file"
    assert tracking["mean_visible"] == pytest.approx(np.nanmean([t["mean_visible"] for t in tracking["per_label"].values()]))
    for value in leaks["per_label"].values():
        assert 0 <= value["accuracy"] <= 1 and 0 <= value["majority_baseline"] <= 1
    with pytest.raises(ValueError, match="factors"):
        ground_truth_metrics(model, dataclasses.replace(data, factors=None, factor_names=()))

    # Files written before the attribute: synthfaces falls back on its drawing, others count every class.
    attrs = {k: v for k, v in data.extra_attrs.items() if k != "characteristic_classes"}
    older = ground_truth_metrics(model, dataclasses.replace(data, extra_attrs=attrs))["characteristic_tracking"]
    assert older["visible_from"] == "synthfaces drawing (older file)" and older["mean_visible"] == tracking["mean_visible"]
    other = ground_truth_metrics(model, dataclasses.replace(data, extra_attrs=attrs, name="faces"))["characteristic_tracking"]
    assert other["visible_from"] == "not recorded: all classes" and other["mean_visible"] == pytest.approx(other["mean"])


@torch.no_grad()
def test_prior_offset_is_the_distance_of_the_prior_from_each_encoded_class_in_its_spread(tiny_model):
    """With p(z_c^i | y_i = v) placed at the mean encoding of class v the offset is 0; moved by
    3 class spreads for y_i = 1 only, each label's offset (the mean over its two classes) is 1.5."""
    g = torch.Generator().manual_seed(5)
    images = torch.randint(0, 256, (64, 3, 8, 8), generator=g, dtype=torch.uint8)
    y = torch.bernoulli(torch.full((64, 3), 0.5), generator=g)
    split = LabelledImages(images, y, torch.ones_like(y, dtype=torch.bool))
    loc, scale = tiny_model.encoder(unit_pixels(images))
    z_c, q_scale = tiny_model.split_z(loc)[0], tiny_model.split_z(scale)[0]  # [64, 3, 2]
    prior_loc = tiny_model.label_groups[0].characteristics.loc  # [3 labels, 2 values, 2]
    spreads = torch.zeros(3, 2)
    for i in range(3):
        for v in (0, 1):
            rows = y[:, i] == v
            prior_loc[i, v] = z_c[rows, i].mean(0)
            spreads[i, v] = (z_c[rows, i].var(0) + q_scale[rows, i].square().mean(0)).mean().sqrt()
    at_classes = measure_prior_offset(tiny_model, split, batch_size=16, min_images=1)
    assert at_classes["mean"] == pytest.approx(0, abs=1e-5)
    direction = torch.tensor([0.6, 0.8])  # a unit vector in each 2-dim block
    prior_loc[:, 1] += 3 * spreads[:, 1:] * direction
    moved = measure_prior_offset(tiny_model, split, batch_size=16, min_images=1)
    assert moved["per_label"] == pytest.approx({"a": 1.5, "b": 1.5, "c": 1.5}, rel=1e-4)
    assert moved["mean"] == pytest.approx(1.5, rel=1e-4)
