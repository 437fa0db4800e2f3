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


def test_the_recorded_characteristic_classes_are_the_drawing(tmp_path):
    """characteristic_classes (written into every file) says in which classes a characteristic
    changes the picture: nowhere else does it."""
    classes = sf.characteristic_classes("binary")
    assert set(classes) == {f"char_{name}" for name in LABEL_NAMES}
    labels, factors = draws(seed=6, n=40)
    for name in LABEL_NAMES:
        j = LABEL_NAMES.index(name)
        absent = labels.copy()
        absent[:, j] = 0
        low, high = factors.copy(), factors.copy()
        low[:, j], high[:, j] = 0.0, 1.0
        if classes[f"char_{name}"] == [1]:  # a face without the feature has no such characteristic
            np.testing.assert_array_equal(render(absent, low, 16), render(absent, high, 16))
        else:  # both values of the label have a look
            assert classes[f"char_{name}"] == [0, 1]
            assert mean_abs_diff(render(absent, low, 32), render(absent, high, 32)) > 0.05
    assert [n for n in LABEL_NAMES if classes[f"char_{n}"] == [1]] == [
        "Eyeglasses", "Bangs", "Mustache", "Wearing_Necktie", "Wearing_Hat", "Rosy_Cheeks"]  # fmt: skip
    assert sf.characteristic_classes("mixed")["char_Hair"] == [0, 1, 2, 3, 4]
    path = tmp_path / "f.h5"
    h5format.write_dataset(path, sf.generate_synthfaces(20, size=16))
    assert read_dataset(path).extra_attrs["characteristic_classes"] == classes


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

    from pyro_ccvae.datasets import read_dataset
    from pyro_ccvae_cli.main import cli

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


# ---------------------------------------------------------------- the binary variant stays as it was


# Fingerprints of the binary variant measured with the code before the mixed variant existed:
# sha256 of labels, factors and split (exact), and each image's pixel sum (to within a few
# levels, so that a last-bit difference of float maths on another machine cannot fail it).
BINARY_FINGERPRINTS = [
    (
        dict(num_images=12, seed=3, size=32),
        "dc12ad16a4bda300b67778af0316fa1f",
        [402368, 370527, 400384, 395020, 443618, 378704, 437081, 383020, 432519, 427938, 407896, 435259],
    ),
    (
        dict(num_images=12, seed=5, size=64, correlation=("Smiling", "Bangs", 0.4)),
        "dd18c20e95e4a710c5bef4c010d996f3",
        [1618369, 1554039, 1625143, 1316905, 1396518, 1653170, 1607058, 1651511, 1714211, 1790225, 1717379, 1685710],
    ),
]


@pytest.mark.parametrize("args, digest, sums", BINARY_FINGERPRINTS)
def test_binary_variant_is_unchanged(args, digest, sums):
    import hashlib

    data = generate_synthfaces(**args)
    explicit = generate_synthfaces(**args, variant="binary")
    for field in ("images", "labels", "factors", "split"):
        np.testing.assert_array_equal(getattr(data, field), getattr(explicit, field))
    h = hashlib.sha256()
    for field in ("labels", "factors", "split"):
        h.update(np.ascontiguousarray(getattr(data, field)).tobytes())
    assert h.hexdigest()[:32] == digest
    got = data.images.reshape(len(sums), -1).sum(1, dtype=np.int64)
    assert np.abs(got - np.asarray(sums)).max() <= 4
    assert data.name == "synthfaces" and data.label_classes == {}
    assert sf.synthfaces_file_name() == "synthfaces-v2-n20000-s0-64px.h5" and sf.DRAWING_VERSION == 2


# ---------------------------------------------------------------- the mixed variant

from pyro_ccvae.datasets.synthfaces import (  # noqa: E402
    AGE_RANGE,
    HAIR_CLASSES,
    HAIR_FREQUENCIES,
    MIXED_BINARY_FREQUENCIES,
    MIXED_BINARY_NAMES,
    MIXED_FACTOR_NAMES,
    MIXED_LABEL_KINDS,
    MIXED_LABEL_NAMES,
)

HAIR, AGE = MIXED_LABEL_NAMES.index("Hair"), MIXED_LABEL_NAMES.index("Age")


def mixed_draws(seed=0, n=N_DRAWS, correlation=None):
    return sample_factors(np.random.default_rng(seed), n, correlation, variant="mixed")


def local_coords(factors, size):
    """Each pixel centre in its face's local units: u [N, 1, W], v [N, H, 1]."""
    cx, cy, s = (factors[:, MIXED_FACTOR_NAMES.index(n)][:, None, None] for n in ("face_x", "face_y", "face_size"))
    centres = (np.arange(size, dtype=np.float32) + 0.5) / size
    return (centres[None, None, :] - cx) / s, (centres[None, :, None] - cy) / s, s * size  # last: pixels per unit


def test_mixed_names_kinds_and_shapes():
    assert MIXED_BINARY_NAMES == tuple(n for n in LABEL_NAMES if n != "Blond_Hair")
    assert MIXED_LABEL_NAMES == MIXED_BINARY_NAMES + ("Hair", "Age")
    assert MIXED_LABEL_KINDS == ("binary",) * 8 + ("categorical", "continuous")
    assert MIXED_FACTOR_NAMES == tuple("char_" + n for n in MIXED_BINARY_NAMES + ("Hair",)) + FACTOR_NAMES[9:]
    assert HAIR_CLASSES == ("black", "brown", "blond", "red", "grey")
    assert len(HAIR_FREQUENCIES) == 5 and abs(sum(HAIR_FREQUENCIES) - 1) < 1e-9 and AGE_RANGE == (20, 80)
    labels, factors = mixed_draws(n=10)
    assert labels.shape == (10, 10) and labels.dtype == np.float32
    assert factors.shape == (10, len(MIXED_FACTOR_NAMES)) and factors.dtype == np.float32
    for size in (16, 32, 64):
        images = render(labels, factors, size, variant="mixed")
        assert images.shape == (10, 3, size, size) and images.dtype == np.uint8
    with pytest.raises(ValueError, match="mixed"):
        render(labels[:, :9], factors[:, :9], variant="mixed")
    with pytest.raises(ValueError, match="variant"):
        render(labels, factors, variant="colour")
    bad = labels.copy()
    bad[0, HAIR] = 5
    with pytest.raises(ValueError, match="Hair"):
        render(bad, factors, 16, variant="mixed")
    bad[0, HAIR] = 1.5
    with pytest.raises(ValueError, match="Hair"):
        render(bad, factors, 16, variant="mixed")
    bad[0, HAIR], bad[1, AGE] = 1, np.nan
    with pytest.raises(ValueError, match="NaN"):
        render(bad, factors, 16, variant="mixed")


def test_mixed_sampling_statistics():
    labels, factors = mixed_draws()
    np.testing.assert_allclose(labels[:, :8].mean(0), MIXED_BINARY_FREQUENCIES, atol=0.015)
    np.testing.assert_allclose(MIXED_BINARY_FREQUENCIES, [LABEL_FREQUENCIES[LABEL_NAMES.index(n)] for n in MIXED_BINARY_NAMES])
    hair = labels[:, HAIR]
    assert set(np.unique(hair)) == set(range(5))
    np.testing.assert_allclose(np.bincount(hair.astype(int)) / len(hair), HAIR_FREQUENCIES, atol=0.015)
    age = labels[:, AGE]
    assert age.min() >= 20 and age.max() <= 80
    np.testing.assert_allclose(np.quantile(age, [0.25, 0.5, 0.75]), [35, 50, 65], atol=1.0)
    # Hair and Age independent of the other labels and of the characteristics.
    onehot = np.eye(5)[hair.astype(int)]
    everything = np.concatenate([labels[:, :8], onehot, age[:, None], factors[:, :9]], 1)
    r = np.abs(np.corrcoef(everything.T))
    hair_columns, age_column = list(range(8, 13)), 13
    others = [j for j in range(everything.shape[1]) if j not in hair_columns]
    assert r[np.ix_(hair_columns, others)].max() < 0.04  # (the one-hot columns anticorrelate)
    assert np.delete(r[age_column], age_column).max() < 0.04
    assert factors[:, :9].min() >= 0 and factors[:, :9].max() <= 1


def test_mixed_is_deterministic_and_chunked_consistently(monkeypatch):
    a = generate_synthfaces(60, seed=3, size=16, variant="mixed")
    b = generate_synthfaces(60, seed=3, size=16, variant="mixed")
    for field in ("images", "labels", "factors", "split"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    monkeypatch.setattr(sf, "CHUNK", 7)
    np.testing.assert_array_equal(render(a.labels, a.factors, 16, variant="mixed"), a.images)


def test_mixed_correlation_is_for_binary_labels_only():
    labels, _ = mixed_draws(seed=2, correlation=("Smiling", "Mustache", 0.5))
    i, j = MIXED_LABEL_NAMES.index("Smiling"), MIXED_LABEL_NAMES.index("Mustache")
    assert abs(np.corrcoef(labels[:, i], labels[:, j])[0, 1] - 0.5) < 0.03
    for other, kind in (("Hair", "categorical"), ("Age", "continuous")):
        with pytest.raises(ValueError, match=f"{other} is {kind}"):
            mixed_draws(correlation=("Smiling", other, 0.3))
    with pytest.raises(ValueError, match="Rosy_Cheeks"):  # Blond_Hair is not a label here
        mixed_draws(correlation=("Smiling", "Blond_Hair", 0.3))
    with pytest.raises(ValueError, match="Hair is categorical"):
        cached_synthfaces("unused", correlation=("Hair", "Smiling", 0.1), variant="mixed")


@pytest.mark.parametrize("name", MIXED_BINARY_NAMES)
def test_mixed_binary_labels_look_as_in_the_binary_variant(name):
    labels, factors = mixed_draws(seed=4, n=40)
    labels[:, HAIR] = 1  # brown, as the binary variant's dark hair
    images = render(labels, factors, 32, variant="mixed").astype(np.float32)
    flipped = labels.copy()
    j = MIXED_LABEL_NAMES.index(name)
    flipped[:, j] = 1 - flipped[:, j]
    new = render(flipped, factors, 32, variant="mixed").astype(np.float32)
    assert np.abs(new - images).max(axis=(1, 2, 3)).min() >= 20


def test_hair_classes_are_clearly_distinct_colours():
    shades = np.linspace(0, 1, 51)
    colours = [sf.hair_colour(np.full(51, k), shades) for k in range(5)]
    for a in range(5):
        for b in range(a + 1, 5):
            gap = np.linalg.norm(colours[a][:, None] - colours[b][None], axis=-1).min()
            assert gap >= 0.25, (HAIR_CLASSES[a], HAIR_CLASSES[b], gap)
    # The drawn side hair (beside the temples) has exactly the class's colour at its shade.
    labels, factors = mixed_draws(seed=8, n=100)
    images = render(labels, factors, 64, variant="mixed").astype(np.int32)
    f = {n: factors[:, MIXED_FACTOR_NAMES.index(n)] for n in ("face_x", "face_y", "face_size")}
    want = np.round(sf.hair_colour(labels[:, HAIR], factors[:, MIXED_FACTOR_NAMES.index("char_Hair")]) * 255)
    for side in (-1, 1):
        cols = np.floor((f["face_x"] + side * 0.24 * f["face_size"]) * 64).astype(int)
        rows = np.floor((f["face_y"] - 0.1 * f["face_size"]) * 64).astype(int)
        assert np.abs(images[np.arange(100), :, rows, cols] - want).max() <= 1


def test_each_hair_class_changes_only_the_hair():
    labels, factors = mixed_draws(seed=6, n=60)
    size = 32
    u, v, per_unit = local_coords(factors, size)
    margin = 1.5 / per_unit  # anti-aliased edges reach about a pixel out
    hair_region = (u / (0.27 + margin)) ** 2 + ((v + 0.03) / (0.3 + margin)) ** 2 <= 1
    hair_region &= v <= 0.09 + margin  # [N, H, W]: the hair behind the head, the cap and bangs
    images = []
    for k in range(5):
        relabelled = labels.copy()
        relabelled[:, HAIR] = k
        images.append(render(relabelled, factors, size, variant="mixed").astype(np.int32))
    for a in range(5):
        for b in range(a + 1, 5):
            diff = np.abs(images[a] - images[b]).max(1)  # [N, H, W]
            assert not diff[~hair_region].any(), (HAIR_CLASSES[a], HAIR_CLASSES[b])
            assert diff.max(axis=(1, 2)).min() >= 40  # every face's hair changes clearly
            assert (diff > 0).sum(axis=(1, 2)).min() >= 10


def test_age_changes_only_the_face_and_darkens_it_monotonically():
    labels, factors = mixed_draws(seed=7, n=60)
    size = 32
    u, v, _ = local_coords(factors, size)
    face = (u / 0.22) ** 2 + (v / 0.27) ** 2 <= 1  # pixel centres on the head
    ages = (20, 35, 50, 65, 80)
    images = []
    for age in ages:
        aged = labels.copy()
        aged[:, AGE] = age
        images.append(render(aged, factors, size, variant="mixed").astype(np.int32))
    young = labels.copy()
    young[:, AGE] = 5  # drawn as 20: no wrinkles
    np.testing.assert_array_equal(render(young, factors, size, variant="mixed"), images[0])
    darkness = []
    for img in images:
        assert np.array_equal(img.transpose(1, 0, 2, 3)[:, ~face], images[0].transpose(1, 0, 2, 3)[:, ~face])
        darkness.append((255 - img).sum(axis=(1, 2, 3)))  # per face
    for younger, older, d0, d1 in zip(images, images[1:], darkness, darkness[1:]):
        assert (older - younger).max() <= 1  # no pixel gets brighter (up to rounding)
        assert (d1 - d0).min() > 0  # every face gets darker
    assert (darkness[-1] - darkness[0]).min() > 300  # and clearly so: 80 is strong


def test_age_is_recoverable_from_the_face_pixels_by_ridge_regression():
    # Measured R^2: 0.883 here (seed 11); 0.88-0.90 at 64x64 and 0.87-0.88 at 32x32 over other seeds.
    n, held_out, size = 2500, 500, 64
    labels, factors = mixed_draws(seed=11, n=n)
    images = render(labels, factors, size, variant="mixed")
    rows, cols = slice(int(0.13 * size), int(np.ceil(0.71 * size))), slice(int(0.25 * size), int(np.ceil(0.75 * size)))
    x = images[:, :, rows, cols].reshape(n, -1).astype(np.float64) / 255  # every face lies in this window
    age = labels[:, AGE].astype(np.float64)
    train, test = slice(0, n - held_out), slice(n - held_out, n)
    x -= x[train].mean(0)
    y = age - age[train].mean()
    kernel = x[train] @ x[train].T  # ridge regression in its dual form (fewer images than pixels)
    weights = x[train].T @ np.linalg.solve(kernel + 1.0 * np.eye(len(kernel)), y[train])
    residual = x[test] @ weights - y[test]
    r2 = 1 - np.sum(residual**2) / np.sum((y[test] - y[test].mean()) ** 2)
    assert r2 >= 0.8, r2


def test_mixed_file_writes_kinds_and_classes_and_reads_back(tmp_path):
    path = cached_synthfaces(tmp_path, num_images=100, seed=2, size=16, variant="mixed")
    assert path == tmp_path / "synthfaces-mixed-v2-n100-s2-16px.h5"
    assert path != cached_synthfaces(tmp_path, num_images=100, seed=2, size=16)
    data = read_dataset(path)
    expected = generate_synthfaces(100, seed=2, size=16, variant="mixed")
    for field in ("images", "labels", "factors", "split"):
        np.testing.assert_array_equal(getattr(data, field), getattr(expected, field))
    assert data.name == "synthfaces-mixed" and "Age" in data.description and "grey" in data.description
    assert data.label_names == MIXED_LABEL_NAMES and data.label_kinds == MIXED_LABEL_KINDS
    assert data.label_classes == {"Hair": list(HAIR_CLASSES)}
    assert data.factor_names == MIXED_FACTOR_NAMES
    assert data.extra_attrs["generator"]["variant"] == "mixed"
    hair, age = data.labels[:, HAIR], data.labels[:, AGE]
    assert np.array_equal(hair, np.round(hair)) and hair.min() >= 0 and hair.max() <= 4
    assert age.min() >= 20 and age.max() <= 80 and len(np.unique(age)) == 100
    corr = cached_synthfaces(tmp_path, num_images=100, seed=2, size=16, correlation=("Smiling", "Bangs", 0.5), variant="mixed")
    assert "mixed" in corr.name and "Smiling" in corr.name and corr != path


def test_cli_writes_a_mixed_file(tmp_path):
    from click.testing import CliRunner

    from pyro_ccvae_cli.main import cli

    runner = CliRunner()
    args = ["data", "synthfaces", "--num-images", "50", "--size", "16", "--data-dir", str(tmp_path)]
    result = runner.invoke(cli, args + ["--variant", "mixed"])
    assert result.exit_code == 0, result.output
    path = result.output.strip()
    assert "mixed" in path
    data = read_dataset(path)
    assert data.label_kinds == MIXED_LABEL_KINDS and data.label_classes == {"Hair": list(HAIR_CLASSES)}
    info = runner.invoke(cli, ["data", "info", path])
    assert info.exit_code == 0 and "categorical" in info.output and "continuous" in info.output
    bad = runner.invoke(cli, args + ["--variant", "mixed", "--correlate", "Hair,Smiling,0.3"])
    assert bad.exit_code == 2 and "categorical" in bad.output and "Traceback" not in bad.output
    assert runner.invoke(cli, args + ["--variant", "colour"]).exit_code == 2


def test_resolve_dataset_builds_the_mixed_file(tmp_path, monkeypatch):
    from pyro_ccvae.datasets import BUILT_IN, resolve_dataset

    assert "synthfaces-mixed" in BUILT_IN
    real = sf.cached_synthfaces
    calls = []

    def small(folder, **kwargs):  # the default 20000 images at 64x64 would take ~10 s
        calls.append(kwargs)
        return real(folder, num_images=40, size=16, **kwargs)

    monkeypatch.setattr(sf, "cached_synthfaces", small)
    mixed = resolve_dataset("synthfaces-mixed", tmp_path)
    assert mixed.name == "synthfaces-mixed-v2-n40-s0-16px.h5" and mixed.is_file()
    assert read_dataset(mixed).name == "synthfaces-mixed"
    binary = resolve_dataset("synthfaces", tmp_path)
    assert binary.name == "synthfaces-v2-n40-s0-16px.h5" and read_dataset(binary).name == "synthfaces"
    assert calls == [{"variant": "mixed"}, {"variant": "binary"}]
    assert sf.synthfaces_file_name(variant="mixed") == "synthfaces-mixed-v2-n20000-s0-64px.h5"
