"""Tests of the built-in synthetic faces: sampling, rendering, interventions and the file cache."""

import numpy as np
import pytest

from pyro_ccvae.datasets import h5format, read_dataset
from pyro_ccvae.datasets import synthfaces as sf
from pyro_ccvae.datasets.synthfaces import (
    FACTOR_NAMES,
    LABEL_FREQUENCIES,
    LABEL_NAMES,
    cached_synthfaces,
    generate_synthfaces,
    render,
    sample_factors,
)

N_DRAWS = 20000  # for statistics of sample_factors (cheap: no rendering)


def draws(seed=0, correlation=None, n=N_DRAWS):
    return sample_factors(np.random.default_rng(seed), n, correlation)


@pytest.fixture(scope="module")
def batch():
    labels, factors = draws(seed=1, n=200)
    return labels, factors, render(labels, factors, 32).astype(np.float32)


def mean_abs_diff(a, b):
    return np.abs(a.astype(np.float32) - b.astype(np.float32)).mean()


def col(name):
    return FACTOR_NAMES.index(name)


# ---------------------------------------------------------------- names, shapes, determinism


def test_names_and_shapes():
    assert LABEL_NAMES == (
        "Smiling", "Eyeglasses", "Bangs", "Blond_Hair", "Mustache",
        "Pale_Skin", "Wearing_Necktie", "Wearing_Hat", "Rosy_Cheeks",
    )
    assert len(LABEL_FREQUENCIES) == 9 and len(set(LABEL_FREQUENCIES)) > 1
    assert all(0.3 <= p <= 0.6 for p in LABEL_FREQUENCIES)
    assert FACTOR_NAMES[:9] == tuple("char_" + n for n in LABEL_NAMES)
    assert {"bg_r", "bg_g", "bg_b", "face_x", "face_y", "face_size", "shirt_hue"} <= set(FACTOR_NAMES)
    labels, factors = draws(n=10)
    assert labels.shape == (10, 9) and labels.dtype == np.float32
    assert factors.shape == (10, len(FACTOR_NAMES)) and factors.dtype == np.float32
    for size in (16, 32, 64):
        images = render(labels, factors, size)
        assert images.shape == (10, 3, size, size) and images.dtype == np.uint8


def test_render_rejects_bad_shapes():
    labels, factors = draws(n=4)
    with pytest.raises(ValueError):
        render(labels[:, :8], factors)
    with pytest.raises(ValueError):
        render(labels, factors[:3])


def test_same_seed_same_data_other_seed_different():
    a = generate_synthfaces(150, seed=3, size=16)
    b = generate_synthfaces(150, seed=3, size=16)
    c = generate_synthfaces(150, seed=4, size=16)
    for field in ("images", "labels", "factors", "split"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.images, c.images)
    assert not np.array_equal(a.labels, c.labels)
    corr = ("Smiling", "Bangs", 0.4)
    d = generate_synthfaces(150, seed=3, size=16, correlation=corr)
    e = generate_synthfaces(150, seed=3, size=16, correlation=corr)
    np.testing.assert_array_equal(d.images, e.images)
    np.testing.assert_array_equal(d.labels, e.labels)


def test_render_is_chunked_consistently(monkeypatch):
    labels, factors = draws(n=25)
    whole = render(labels, factors, 16)
    monkeypatch.setattr(sf, "CHUNK", 7)
    np.testing.assert_array_equal(render(labels, factors, 16), whole)


def test_sizes_draw_the_same_face():
    labels, factors = draws(n=50)
    big = render(labels, factors, 64).astype(np.float32)
    small = render(labels, factors, 16).astype(np.float32)
    pooled = big.reshape(50, 3, 16, 4, 16, 4).mean(axis=(3, 5))
    # Far closer than the same face shifted by one pixel.
    assert mean_abs_diff(pooled, small) < 0.5 * mean_abs_diff(np.roll(small, 1, -1), small)


# ---------------------------------------------------------------- sampling statistics


def test_label_frequencies_and_independence():
    labels, factors = draws()
    np.testing.assert_allclose(labels.mean(0), LABEL_FREQUENCIES, atol=0.015)
    assert set(np.unique(labels)) == {0.0, 1.0}
    r = np.corrcoef(labels.T)
    assert np.abs(r[~np.eye(9, dtype=bool)]).max() < 0.04
    # Characteristics uniform on [0, 1] and independent of the labels.
    chars = factors[:, :9]
    assert chars.min() >= 0 and chars.max() <= 1
    np.testing.assert_allclose(chars.mean(0), 0.5, atol=0.015)
    r = np.corrcoef(np.concatenate([labels, chars], 1).T)[:9, 9:]
    assert np.abs(r).max() < 0.04


def test_nuisances_in_range_and_varied():
    _, factors = draws()
    nuisances = factors[:, 9:]
    assert nuisances.min() >= 0 and nuisances.max() <= 1
    assert (nuisances.std(0) > 0.01).all()
    assert factors[:, col("face_size")].min() > 0.5  # a face, not a dot


@pytest.mark.parametrize("a, b, rho", [("Smiling", "Eyeglasses", 0.5), ("Bangs", "Wearing_Hat", -0.3)])
def test_correlation_option(a, b, rho):
    labels, _ = draws(seed=2, correlation=(a, b, rho))
    i, j = LABEL_NAMES.index(a), LABEL_NAMES.index(b)
    assert abs(np.corrcoef(labels[:, i], labels[:, j])[0, 1] - rho) < 0.03
    np.testing.assert_allclose(labels.mean(0), LABEL_FREQUENCIES, atol=0.015)
    # The other labels are the ones an uncorrelated draw gives.
    plain, _ = draws(seed=2)
    others = [k for k in range(9) if k != j]
    np.testing.assert_array_equal(labels[:, others], plain[:, others])


def test_correlation_errors():
    with pytest.raises(ValueError, match="feasible"):
        draws(correlation=("Smiling", "Eyeglasses", 0.9))  # the most is ~0.81
    with pytest.raises(ValueError, match="feasible"):
        draws(correlation=("Smiling", "Eyeglasses", -0.9))
    with pytest.raises(ValueError):
        draws(correlation=("Blond_Hair", "Wearing_Necktie", 1.0))
    with pytest.raises(ValueError, match="Rosy_Cheeks"):  # lists the valid names
        draws(correlation=("Smiling", "Beard", 0.2))
    with pytest.raises(ValueError):
        draws(correlation=("Smiling", "Smiling", 0.2))
    with pytest.raises(ValueError):
        cached_synthfaces("unused", correlation=("Nope", "Smiling", 0.1))


# ---------------------------------------------------------------- visibility and locality


@pytest.mark.parametrize("name", LABEL_NAMES)
def test_flipping_a_label_changes_the_image(batch, name):
    labels, factors, images = batch
    flipped = labels.copy()
    j = LABEL_NAMES.index(name)
    flipped[:, j] = 1 - flipped[:, j]
    new = render(flipped, factors, 32).astype(np.float32)
    assert mean_abs_diff(new, images) > 0.3
    # Every single face changes visibly somewhere.
    assert np.abs(new - images).max(axis=(1, 2, 3)).min() >= 20


def test_label_flips_are_local(batch):
    labels, factors, images = batch
    h = images.shape[-2]

    def flip_diff(name):
        flipped = labels.copy()
        j = LABEL_NAMES.index(name)
        flipped[:, j] = 1 - flipped[:, j]
        return np.abs(render(flipped, factors, 32).astype(np.float32) - images).sum(1)  # [N, H, W]

    hat = flip_diff("Wearing_Hat")
    assert hat[:, : h // 2].sum() > 0.95 * hat.sum()
    tie = flip_diff("Wearing_Necktie")
    assert tie[:, h // 2 :].sum() > 0.95 * tie.sum()
    smile = flip_diff("Smiling")
    assert smile.sum() > 0
    assert smile[:, [0, 0, -1, -1], [0, -1, 0, -1]].sum() == 0  # corners are background


@pytest.mark.parametrize("name", LABEL_NAMES)
def test_characteristic_changes_the_look_within_the_label(name):
    j = LABEL_NAMES.index(name)
    labels, factors = draws(seed=5, n=60)
    labels[:, j] = 1
    low, high = factors.copy(), factors.copy()
    low[:, j], high[:, j] = 0.1, 0.9
    assert mean_abs_diff(render(labels, low, 32), render(labels, high, 32)) > 0.1


def test_characteristic_of_an_absent_feature_changes_nothing():
    labels, factors = draws(seed=6, n=40)
    for name in ("Eyeglasses", "Bangs", "Mustache", "Wearing_Necktie", "Wearing_Hat", "Rosy_Cheeks"):
        j = LABEL_NAMES.index(name)
        absent = labels.copy()
        absent[:, j] = 0
        other = factors.copy()
        other[:, j] = 1 - other[:, j]
        np.testing.assert_array_equal(render(absent, factors, 16), render(absent, other, 16))
    # ...but for labels whose both values have a look, it does.
    for name in ("Smiling", "Blond_Hair", "Pale_Skin"):
        j = LABEL_NAMES.index(name)
        absent = labels.copy()
        absent[:, j] = 0
        low, high = factors.copy(), factors.copy()
        low[:, j], high[:, j] = 0.0, 1.0
        assert mean_abs_diff(render(absent, low, 32), render(absent, high, 32)) > 0.05


def test_background_nuisance_changes_corners_only_there(batch):
    labels, factors, images = batch
    other = factors.copy()
    other[:, col("bg_r")] = np.where(factors[:, col("bg_r")] > 0.55, 0.35, 0.8)
    new = render(labels, other, 32).astype(np.float32)
    corners = np.abs(new - images)[:, 0][:, [0, 0], [0, -1]]  # top corners, red channel
    assert corners.min() > 50
    # The face itself (centre pixel) keeps its colour.
    c = images.shape[-1] // 2
    assert np.array_equal(new[:, :, c - 2 : c + 2, c - 2 : c + 2], images[:, :, c - 2 : c + 2, c - 2 : c + 2])


def test_face_position_moves_the_face(batch):
    labels, factors, images = batch
    other = factors.copy()
    other[:, col("face_x")] += 0.03
    assert mean_abs_diff(render(labels, other, 32), images) > 1


# ---------------------------------------------------------------- data set and cache


def test_cached_synthfaces_writes_once_and_round_trips(tmp_path, monkeypatch):
    path = cached_synthfaces(tmp_path, num_images=300, seed=7, size=16)
    assert path == tmp_path / "synthfaces-v2-n300-s7-16px.h5"
    assert path.is_file() and not list(tmp_path.glob("*.tmp"))
    mtime = path.stat().st_mtime_ns

    def no_regeneration(*args, **kwargs):
        raise AssertionError("regenerated a cached file")

    monkeypatch.setattr(sf, "generate_synthfaces", no_regeneration)
    assert cached_synthfaces(tmp_path, num_images=300, seed=7, size=16) == path
    assert path.stat().st_mtime_ns == mtime
    monkeypatch.undo()

    data = read_dataset(path)
    expected = generate_synthfaces(300, seed=7, size=16)
    np.testing.assert_array_equal(data.images, expected.images)
    np.testing.assert_array_equal(data.labels, expected.labels)
    np.testing.assert_array_equal(data.factors, expected.factors)
    np.testing.assert_array_equal(data.split, expected.split)
    assert data.name == "synthfaces" and data.description
    assert data.label_names == LABEL_NAMES and data.factor_names == FACTOR_NAMES
    assert data.label_kinds == ("binary",) * 9
    assert data.image_shape == (3, 16, 16)
    counts = [len(data.split_indices(s)) for s in ("train", "valid", "test")]
    assert counts == [240, 30, 30]
    assert set(np.unique(data.split)) == set(h5format.SPLITS.values())


def test_cache_name_encodes_the_options(tmp_path):
    plain = cached_synthfaces(tmp_path, num_images=50, seed=0, size=16)
    corr = cached_synthfaces(tmp_path, num_images=50, seed=0, size=16, correlation=("Smiling", "Bangs", 0.5))
    assert plain != corr and "Smiling" in corr.name and "Bangs" in corr.name
    assert not np.array_equal(read_dataset(plain).labels, read_dataset(corr).labels)


def test_cli_writes_a_correlated_file_and_rejects_bad_options(tmp_path):
    from click.testing import CliRunner

    from cli.main import cli
    from pyro_ccvae.datasets import read_dataset

    runner = CliRunner()
    args = ["data", "synthfaces", "--num-images", "3000", "--size", "16", "--data-dir", str(tmp_path)]
    result = runner.invoke(cli, args + ["--correlate", "Smiling,Mustache,0.6"])
    assert result.exit_code == 0, result.output
    data = read_dataset(result.output.strip())
    names = list(data.label_names)
    rho = np.corrcoef(data.labels[:, names.index("Smiling")], data.labels[:, names.index("Mustache")])[0, 1]
    assert abs(rho - 0.6) < 0.06
    bad = runner.invoke(cli, args + ["--correlate", "Smiling,Nope,0.5"])
    assert bad.exit_code == 2 and "Nope" in bad.output and "Traceback" not in bad.output
    malformed = runner.invoke(cli, args + ["--correlate", "Smiling"])
    assert malformed.exit_code == 2 and "LABEL_A,LABEL_B,RHO" in malformed.output
