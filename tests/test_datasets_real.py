"""Preparing CelebA, CheXpert, MNIST and Fashion-MNIST from small copies of their official layouts."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from pyro_ccvae.datasets.celeba import DEFAULT_LABELS as CELEBA_DEFAULT
from pyro_ccvae.datasets.celeba import prepare_celeba
from pyro_ccvae.datasets.chexpert import OBSERVATIONS, prepare_chexpert
from pyro_ccvae.datasets.h5format import DatasetError, read_dataset
from pyro_ccvae.datasets.idx import FASHION_MNIST_CLASSES, prepare_fashion_mnist, prepare_mnist
from pyro_ccvae.datasets.image_files import decode_squares, load_square
from pyro_ccvae_cli.data import data

# ---------------------------------------------------------------- CelebA

CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose "
    "Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee "
    "Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard "
    "Oval_Face Pale_Skin Pointy_Nose Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair "
    "Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick Wearing_Necktie Wearing_Necklace Young"
).split()
CELEBA_N = 12
CELEBA_SPLITS = [0, 0, 1, 0, 2, 0, 1, 2, 0, 0, 2, 1]


def celeba_face(i: int) -> Image.Image:
    """A 178x218 picture: red encodes the image, green ramps down the 178x178 centre square
    (clamped above and below it), blue ramps across it, so position errors show."""
    y = np.arange(218)[:, None] * np.ones((1, 178))
    x = np.ones((218, 1)) * np.arange(178)[None, :]
    pixels = np.stack(
        [np.full((218, 178), 10 + 20 * i), np.clip((y - 20 + 0.5) / 178 * 255, 0, 255), (x + 0.5) / 178 * 255],
        axis=-1,
    )
    return Image.fromarray(pixels.round().astype(np.uint8), "RGB")


def expected_face(i: int, size: int) -> np.ndarray:
    """What face i should become: the ramps sampled at the centres of size x size cells."""
    ramp = (np.arange(size) + 0.5) / size * 255
    return np.stack(
        [np.full((size, size), 10.0 + 20 * i), np.repeat(ramp[:, None], size, 1), np.repeat(ramp[None, :], size, 0)]
    )


def write_celeba(folder: Path, num: int = CELEBA_N, splits=CELEBA_SPLITS, seed: int = 1) -> np.ndarray:
    """CelebA's official files for `num` faces in `folder` (the `celeba` folder itself);
    returns the 0/1 attributes, row for row."""
    (folder / "img_align_celeba").mkdir(parents=True)
    names = [f"{i + 1:06d}.jpg" for i in range(num)]
    for i, name in enumerate(names):
        celeba_face(i).save(folder / "img_align_celeba" / name, quality=95)
    attributes = np.random.default_rng(seed).integers(0, 2, (num, len(CELEBA_ATTRIBUTES)))
    lines = [str(num), " ".join(CELEBA_ATTRIBUTES) + " "]
    lines += [f"{name} " + " ".join(f"{2 * v - 1:2d}" for v in row) for name, row in zip(names, attributes)]
    (folder / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    (folder / "list_eval_partition.txt").write_text("".join(f"{n} {s}\n" for n, s in zip(names, splits)))
    (folder / "identity_CelebA.txt").write_text("".join(f"{n} {i}\n" for i, n in enumerate(names)))
    (folder / "list_bbox_celeba.txt").write_text(f"{num}\nimage_id x_1 y_1 width height\n")
    return attributes.astype(np.float32)


@pytest.fixture
def celeba_root(tmp_path) -> tuple[Path, np.ndarray]:
    """torchvision's layout: ROOT/celeba/{img_align_celeba/, list_attr_celeba.txt, ...}."""
    attributes = write_celeba(tmp_path / "torchvision" / "celeba")
    assert len({tuple(r) for r in attributes}) == CELEBA_N  # each row's labels are its own
    return tmp_path / "torchvision", attributes


@pytest.mark.parametrize("size", [64, 32])
def test_celeba_images_labels_and_splits_row_for_row(celeba_root, tmp_path, size):
    root, attributes = celeba_root
    out = prepare_celeba(root, tmp_path / "celeba.h5", size=size, workers=1)
    d = read_dataset(out)
    assert d.name == "celeba" and d.image_shape == (3, size, size) and d.num_images == CELEBA_N
    assert d.label_names == tuple(CELEBA_ATTRIBUTES) and set(d.label_kinds) == {"binary"}
    assert d.default_labels == CELEBA_DEFAULT and len(CELEBA_DEFAULT) == 18
    np.testing.assert_array_equal(d.labels, attributes)
    np.testing.assert_array_equal(d.split, CELEBA_SPLITS)
    for i in range(CELEBA_N):
        error = np.abs(d.images[i].astype(float) - expected_face(i, size))
        assert error.max() < 10, f"row {i}: crop or content off by {error.max()}"


def test_celeba_accepts_the_celeba_folder_itself_and_the_progress_callback(celeba_root, tmp_path):
    root, _ = celeba_root
    calls = []
    prepare_celeba(root / "celeba", tmp_path / "c.h5", size=16, workers=1, progress=lambda *a: calls.append(a))
    assert calls[-1] == (CELEBA_N, CELEBA_N)


def test_parallel_decoding_keeps_the_order(celeba_root):
    root, _ = celeba_root
    paths = sorted((root / "celeba" / "img_align_celeba").glob("*.jpg"))
    serial = np.concatenate(list(decode_squares(paths, 16, "RGB", workers=1)))
    chunks = list(decode_squares(paths, 16, "RGB", workers=2, chunk_size=3))
    assert [len(c) for c in chunks] == [3, 3, 3, 3]
    np.testing.assert_array_equal(np.concatenate(chunks), serial)


def test_landscape_pictures_keep_their_centred_square(tmp_path):
    path = tmp_path / "landscape.png"
    Image.fromarray(np.asarray(celeba_face(3)).transpose(1, 0, 2).copy()).save(path)
    expected = expected_face(3, 32).transpose(0, 2, 1)
    assert np.abs(load_square(path, 32, "RGB") - expected).max() < 10


def test_celeba_undecodable_image_is_named(celeba_root, tmp_path):
    root, _ = celeba_root
    bad = root / "celeba" / "img_align_celeba" / "000005.jpg"
    bad.write_bytes(b"this is not a JPEG" * 10)
    with pytest.raises(DatasetError, match=r"cannot decode image .*000005\.jpg"):
        prepare_celeba(root, tmp_path / "c.h5", size=16, workers=1)
    assert not (tmp_path / "c.h5").exists() and not (tmp_path / "c.h5.tmp").exists()


def test_celeba_missing_files_are_named(celeba_root, tmp_path):
    root, _ = celeba_root
    (root / "celeba" / "img_align_celeba" / "000007.jpg").unlink()
    with pytest.raises(DatasetError, match=r"missing image .*000007\.jpg"):
        prepare_celeba(root, tmp_path / "c.h5", size=16, workers=1)
    (root / "celeba" / "list_eval_partition.txt").unlink()
    with pytest.raises(DatasetError, match=r"missing .*list_eval_partition\.txt"):
        prepare_celeba(root, tmp_path / "c.h5")
    (root / "celeba" / "list_attr_celeba.txt").unlink()
    with pytest.raises(DatasetError, match=r"missing annotation file .*list_attr_celeba\.txt"):
        prepare_celeba(root, tmp_path / "c.h5")


def test_celeba_malformed_attribute_line_is_named(celeba_root, tmp_path):
    root, _ = celeba_root
    path = root / "celeba" / "list_attr_celeba.txt"
    lines = path.read_text().splitlines()
    lines[4] = lines[4].replace("-1", "0", 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"list_attr_celeba\.txt, line 5"):
        prepare_celeba(root, tmp_path / "c.h5")


# ---------------------------------------------------------------- CheXpert

CHEXPERT_HEADER = ["Path", "Sex", "Age", "Frontal/Lateral", "AP/PA", *OBSERVATIONS]
CHEXPERT_SIZES = [(320, 390), (390, 320), (256, 256), (320, 389)]
_CHEXPERT_VALUES = {"1.0": 1.0, "0.0": 0.0, "-1.0": np.nan, "": np.nan}


def _chexpert_rows(rng, patients, folder, first):
    """CSV rows (one or two studies per patient, frontal and lateral views) and their truths."""
    rows, truths = [], []
    for patient in patients:
        for study in range(1, 1 + (patient % 2) + 1):
            for view, kind in ((1, "Frontal"), (2, "Lateral")):
                while True:
                    raw = list(rng.choice(list(_CHEXPERT_VALUES), len(OBSERVATIONS)))
                    labels = tuple(_CHEXPERT_VALUES[v] for v in raw)
                    if labels not in {t[1] for t in truths}:
                        break
                path = f"CheXpert-v1.0-small/{folder}/patient{patient:05d}/study{study}/view{view}_{kind.lower()}.jpg"
                rows.append([path, "Female", "61", kind, "AP" if kind == "Frontal" else "", *raw])
                truths.append((first + len(truths), labels, f"patient{patient:05d}"))
    return rows, truths


@pytest.fixture
def chexpert_root(tmp_path):
    """ROOT/CheXpert-v1.0-small/{train.csv, valid.csv, train/..., valid/...} with grayscale JPEGs."""
    release = tmp_path / "downloads" / "CheXpert-v1.0-small"
    rng = np.random.default_rng(2)
    train_rows, train_truths = _chexpert_rows(rng, range(1, 11), "train", 0)
    valid_rows, valid_truths = _chexpert_rows(rng, range(64541, 64543), "valid", len(train_rows))
    for name, rows in (("train.csv", train_rows), ("valid.csv", valid_rows)):
        release.mkdir(parents=True, exist_ok=True)
        with open(release / name, "w", newline="") as f:
            csv.writer(f).writerows([CHEXPERT_HEADER, *rows])
    for k, row in enumerate(train_rows + valid_rows):
        file = release / Path(row[0]).relative_to("CheXpert-v1.0-small")
        file.parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", CHEXPERT_SIZES[k % len(CHEXPERT_SIZES)], 10 + 6 * k).save(file, quality=95)
    return tmp_path / "downloads", train_truths, valid_truths


def test_chexpert_images_labels_and_splits_row_for_row(chexpert_root, tmp_path):
    root, train, valid = chexpert_root
    d = read_dataset(prepare_chexpert(root, tmp_path / "x.h5", size=32, workers=1))
    assert d.name == "chexpert" and d.image_shape == (1, 32, 32) and d.num_images == len(train) + len(valid)
    assert d.label_names == OBSERVATIONS and set(d.label_kinds) == {"binary"}
    assert d.default_labels == ("Cardiomegaly", "Edema", "Consolidation", "Atelectasis", "Pleural Effusion")
    for row, labels, _ in train + valid:
        np.testing.assert_array_equal(d.labels[row], np.array(labels, np.float32))
        assert abs(d.images[row].mean() - (10 + 6 * row)) < 2, f"row {row} holds another image"
    assert np.isnan(d.labels).any() and (d.labels == 0).any() and (d.labels == 1).any()
    # valid.csv is the test split; train.csv splits by patient into train and valid
    assert list(d.split[len(train):]) == [2] * len(valid)
    by_patient = {}
    for row, _, patient in train:
        by_patient.setdefault(patient, set()).add(int(d.split[row]))
    assert all(len(s) == 1 for s in by_patient.values()), "a patient is in two splits"
    assert sorted(s.pop() for s in by_patient.values()) == [0] * 9 + [1]


def test_chexpert_uncertain_and_blank_are_missing(chexpert_root, tmp_path):
    root, _, _ = chexpert_root
    csv_path = root / "CheXpert-v1.0-small" / "train.csv"
    rows = list(csv.reader(open(csv_path)))
    edema = CHEXPERT_HEADER.index("Edema")
    for row, value in zip(rows[1:5], ["1.0", "0.0", "-1.0", ""]):
        row[edema] = value
    with open(csv_path, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    d = read_dataset(prepare_chexpert(root / "CheXpert-v1.0-small", tmp_path / "x.h5", size=16, workers=1))
    column = d.labels[:4, OBSERVATIONS.index("Edema")]
    assert column[0] == 1 and column[1] == 0 and np.isnan(column[2]) and np.isnan(column[3])


def test_chexpert_bad_value_and_missing_files_are_named(chexpert_root, tmp_path):
    root, _, _ = chexpert_root
    release = root / "CheXpert-v1.0-small"
    (release / "train" / "patient00003" / "study1" / "view1_frontal.jpg").unlink()
    with pytest.raises(DatasetError, match=r"missing image .*patient00003.study1.view1_frontal\.jpg"):
        prepare_chexpert(root, tmp_path / "x.h5", size=16, workers=1)
    text = (release / "valid.csv").read_text().splitlines()
    text[2] = text[2].rsplit(",", 1)[0] + ",2.0"
    (release / "valid.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(DatasetError, match=r"valid\.csv, line 3: Support Devices is '2\.0'"):
        prepare_chexpert(root, tmp_path / "x.h5")
    (release / "valid.csv").unlink()
    with pytest.raises(DatasetError, match=r"missing .*valid\.csv"):
        prepare_chexpert(root, tmp_path / "x.h5")


# ---------------------------------------------------------------- MNIST and Fashion-MNIST


def write_idx(path: Path, array: np.ndarray) -> None:
    """Writes an idx file byte for byte (gzipped when the name ends in .gz)."""
    magic = {1: 0x00000801, 3: 0x00000803}[array.ndim]
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)


def make_idx_folder(raw: Path, n_train: int, n_test: int, gz: bool, seed: int = 3):
    raw.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    sets = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        ext = ".gz" if gz else ""
        write_idx(raw / f"{prefix}-images-idx3-ubyte{ext}", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte{ext}", labels)
        sets[prefix] = images, labels
    return sets


def test_mnist_raw_files_row_for_row(tmp_path):
    sets = make_idx_folder(tmp_path / "torch" / "MNIST" / "raw", 30, 8, gz=False)
    d = read_dataset(prepare_mnist(tmp_path / "torch", tmp_path / "m.h5", valid_fraction=1 / 6))
    images = np.concatenate([sets["train"][0], sets["t10k"][0]])
    labels = np.concatenate([sets["train"][1], sets["t10k"][1]])
    assert d.name == "mnist" and d.image_shape == (1, 32, 32)
    np.testing.assert_array_equal(d.images[:, 0, 2:30, 2:30], images)
    assert not d.images[:, :, :2].any() and not d.images[:, :, 30:].any()
    assert not d.images[:, :, :, :2].any() and not d.images[:, :, :, 30:].any()
    np.testing.assert_array_equal(d.labels[:, 0], labels)
    assert d.label_names == ("digit",) and d.label_kinds == ("categorical",)
    assert d.label_classes == {"digit": [str(i) for i in range(10)]}
    np.testing.assert_array_equal(d.split, [0] * 25 + [1] * 5 + [2] * 8)


def test_fashion_mnist_gzipped_files_from_the_raw_folder_itself(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    sets = make_idx_folder(raw, 20, 4, gz=True)
    d = read_dataset(prepare_fashion_mnist(raw, tmp_path / "f.h5", size=28, valid_fraction=0.2))
    np.testing.assert_array_equal(d.images[:, 0], np.concatenate([sets["train"][0], sets["t10k"][0]]))
    np.testing.assert_array_equal(d.labels[:, 0], np.concatenate([sets["train"][1], sets["t10k"][1]]))
    assert d.label_classes == {"item": list(FASHION_MNIST_CLASSES)} and d.name == "fashion-mnist"


def test_idx_bad_magic_truncation_and_mismatch_are_named(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    make_idx_folder(raw, 20, 4, gz=False)
    labels = raw / "t10k-labels-idx1-ubyte"
    labels.write_bytes((0x803).to_bytes(4, "big") + labels.read_bytes()[4:])
    bad_magic = r"t10k-labels-idx1-ubyte is not an idx labels file: magic number 0x00000803"
    with pytest.raises(DatasetError, match=bad_magic):
        prepare_mnist(tmp_path, tmp_path / "m.h5", valid_fraction=0.2)
    write_idx(labels, np.zeros(5, np.uint8))
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte has 4 images but .*t10k-labels-idx1-ubyte has 5"):
        prepare_mnist(tmp_path, tmp_path / "m.h5", valid_fraction=0.2)
    images = raw / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-10])
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte is truncated"):
        prepare_mnist(tmp_path, tmp_path / "m.h5", valid_fraction=0.2)
    write_idx(images, np.zeros((20, 28, 28), np.uint8))
    (raw / "t10k-images-idx3-ubyte").unlink()
    with pytest.raises(DatasetError, match=r"missing .*t10k-images-idx3-ubyte"):
        prepare_mnist(tmp_path, tmp_path / "m.h5", valid_fraction=0.2)


# ---------------------------------------------------------------- the command line


def test_cli_prepare_then_info(celeba_root, tmp_path):
    root, attributes = celeba_root
    out = tmp_path / "prepared" / "celeba.h5"
    args = ["prepare", "celeba", "--source", str(root), "--out", str(out), "--size", "16", "--workers", "1"]
    result = CliRunner().invoke(data, args)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: {CELEBA_N} images" in result.output and "images/s" in result.output
    result = CliRunner().invoke(data, ["info", str(out)])
    assert result.exit_code == 0, result.output
    assert "12 of 3x16x16" in result.output and "train 6, valid 3, test 3" in result.output
    smiling = attributes[:, CELEBA_ATTRIBUTES.index("Smiling")].mean()
    assert "* Smiling" in result.output and f"{smiling:.1%} positive, 0.0% missing" in result.output


def test_cli_default_out_under_the_data_dir_and_categorical_info(tmp_path):
    """A subset of MNIST's training files (60 images, not 60,000) keeps the default share, 1/6,
    for validation, or the share asked for."""
    make_idx_folder(tmp_path / "src" / "MNIST" / "raw", 60, 3, gz=True)
    args = ["prepare", "mnist", "--source", str(tmp_path / "src"), "--data-dir", str(tmp_path / "d")]
    result = CliRunner().invoke(data, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d" / "mnist.h5").is_file()
    result = CliRunner().invoke(data, ["info", str(tmp_path / "d" / "mnist.h5")])
    assert "digit" in result.output and "categorical" in result.output
    assert "train 50, valid 10, test 3" in result.output
    assert CliRunner().invoke(data, [*args, "--valid-fraction", "0.25", "--force"]).exit_code == 0
    assert "train 45, valid 15, test 3" in CliRunner().invoke(data, ["info", str(tmp_path / "d" / "mnist.h5")]).output
    refused = CliRunner().invoke(data, ["prepare", "celeba", "--source", str(tmp_path), "--valid-fraction", "0.2"])
    assert refused.exit_code == 2 and "keeps its official split" in refused.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["prepare", "celeba", "--source", "{tmp}/empty"], "missing annotation file {tmp}/empty/list_attr_celeba.txt"),
        (["prepare", "chexpert", "--source", "{tmp}/nowhere"], "no folder {tmp}/nowhere"),
        (["info", "{tmp}/none.h5"], "no data file at {tmp}/none.h5"),
        (["info", "{tmp}/empty/junk.h5"], "cannot read {tmp}/empty/junk.h5"),
    ],
)
def test_cli_errors_are_one_line_without_traceback(tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "junk.h5").write_bytes(b"not hdf5")
    args = [a.format(tmp=tmp_path) for a in args] + (["--out", str(tmp_path / "o.h5")] if args[0] == "prepare" else [])
    result = CliRunner().invoke(data, args)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: " + message.format(tmp=tmp_path)), result.output
    assert "Traceback" not in result.output


def test_cli_refuses_to_overwrite_without_force(celeba_root, tmp_path):
    root, _ = celeba_root
    out = tmp_path / "celeba.h5"
    out.write_bytes(b"precious")
    args = ["prepare", "celeba", "--source", str(root), "--out", str(out), "--size", "16", "--workers", "1"]
    result = CliRunner().invoke(data, args)
    assert result.exit_code == 1 and "already exists: pass --force" in result.output and out.read_bytes() == b"precious"
    assert CliRunner().invoke(data, args + ["--force"]).exit_code == 0
    assert read_dataset(out).num_images == CELEBA_N
