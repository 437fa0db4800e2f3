"""CheXpert (the downsampled CheXpert-v1.0-small release), read into the project's data format.

The source folder is `CheXpert-v1.0-small` itself or its parent, holding:

    train.csv, valid.csv          columns Path, Sex, Age, Frontal/Lateral, AP/PA and the 14
                                  observations (No Finding, ..., Support Devices)
    train/patient00001/study1/view1_frontal.jpg ...   and valid/... the same way

A `Path` entry such as `CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg` names
the file from the release's parent folder; its first component (the release folder's name) is
replaced by the folder actually found, so a renamed release folder still works.

Every row of both CSVs becomes one grayscale image: the centred square of the radiograph
(the full width of the usual portrait 320 x 390 picture), resized to size x size (Lanczos).
All 14 observations are binary labels: 1.0 -> 1, 0.0 -> 0, and both uncertain (-1.0) and
blank (not mentioned) -> NaN, i.e. missing; nothing is guessed.

Splits: the official valid.csv (a few hundred images, labelled by radiologists) is the test
split, as there is no public test set. The validation split is carved out of train.csv by
patient, so no patient is in two splits: the sorted patient ids are shuffled with a fixed
seed (numpy default_rng(0)) and the first `valid_fraction` of them (at least one) go to
validation, with all their images. The same train.csv therefore always gives the same split.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path, PurePosixPath

import numpy as np

from ..errors import DatasetError
from .h5format import SPLITS
from .image_files import Progress, write_image_files

OBSERVATIONS = (
    "No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion",
    "Edema", "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion",
    "Pleural Other", "Fracture", "Support Devices",
)  # fmt: skip
DEFAULT_LABELS = ("Cardiomegaly", "Edema", "Consolidation", "Atelectasis", "Pleural Effusion")
VALID_SEED = 0
_VALUES = {1.0: 1.0, 0.0: 0.0, -1.0: np.nan}  # -1.0 is "uncertain": stored as missing
_PATIENT = re.compile(r"patient\d+")


def find_chexpert(source: str | os.PathLike) -> Path:
    """The release folder: `source` or `source`/CheXpert-v1.0-small, whichever holds train.csv."""
    source = Path(source)
    if not source.is_dir():
        raise DatasetError(f"no folder {source}: give the CheXpert-v1.0-small folder or its parent")
    for root in (source, source / "CheXpert-v1.0-small"):
        if (root / "train.csv").is_file():
            break
    else:
        raise DatasetError(
            f"missing {source / 'train.csv'}: the source must be the CheXpert-v1.0-small folder "
            "(holding train.csv, valid.csv, train/ and valid/) or its parent"
        )
    if not (root / "valid.csv").is_file():
        raise DatasetError(f"missing {root / 'valid.csv'}: CheXpert's files must all be in {root}")
    return root


def _label(value: str | None, path: Path, line: int, column: str) -> float:
    if value is None:
        raise DatasetError(f"{path}, line {line}: too few fields (no {column})")
    try:
        return _VALUES[float(value)] if value.strip() else np.nan
    except (ValueError, KeyError):
        raise DatasetError(
            f"{path}, line {line}: {column} is {value!r}; expected 1.0, 0.0, -1.0 or blank"
        ) from None


def read_csv(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """Reads train.csv or valid.csv: (the Path entries, float32 [N, 14] labels with NaN = missing)."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in ("Path",) + OBSERVATIONS if c not in (reader.fieldnames or ())]
            if missing:
                raise DatasetError(f"{path} lacks the column(s) {', '.join(missing)}: is it a CheXpert CSV?")
            rows = [
                (row["Path"], [_label(row[c], path, reader.line_num, c) for c in OBSERVATIONS])
                for row in reader
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DatasetError(f"cannot read {path}: {e}") from e
    labels = np.array([r[1] for r in rows], dtype=np.float32).reshape(len(rows), len(OBSERVATIONS))
    return [r[0] for r in rows], labels


def _image_path(root: Path, entry: str) -> Path:
    parts = PurePosixPath(entry).parts
    if parts and parts[0] not in ("train", "valid"):
        parts = parts[1:]  # the release folder's name, e.g. CheXpert-v1.0-small
    return root.joinpath(*parts)


def _patient(entry: str, csv_path: Path) -> str:
    found = [p for p in PurePosixPath(entry).parts if _PATIENT.fullmatch(p)]
    if not found:
        raise DatasetError(f"{csv_path}: cannot find the patient id (patientNNNNN) in Path {entry!r}")
    return found[0]


def validation_patients(patients: list[str], valid_fraction: float) -> set[str]:
    """The patients whose images form the validation split (see the module docstring)."""
    unique = sorted(set(patients))
    count = max(1, round(valid_fraction * len(unique)))
    if count >= len(unique):
        raise DatasetError(
            f"train.csv has {len(unique)} patient(s): too few to keep {valid_fraction:.0%} for validation"
        )
    order = np.random.default_rng(VALID_SEED).permutation(len(unique))
    return {unique[i] for i in order[:count]}


def prepare_chexpert(
    source: str | os.PathLike,
    out: str | os.PathLike,
    size: int = 64,
    workers: int | None = None,
    progress: Progress | None = None,
    valid_fraction: float = 0.05,
) -> Path:
    """Reads CheXpert-v1.0-small from `source` (see the module docstring) and writes it to `out`.

    Images are 1 x size x size; `workers` decoding processes (default: one per CPU);
    `progress(done, total)` is called as images are written; `valid_fraction` of train.csv's
    patients form the validation split. Returns the output path. Any missing, malformed or
    undecodable file raises a DatasetError naming it.
    """
    root = find_chexpert(source)
    train_entries, train_labels = read_csv(root / "train.csv")
    test_entries, test_labels = read_csv(root / "valid.csv")
    if not train_entries:
        raise DatasetError(f"{root / 'train.csv'} lists no images")
    patients = [_patient(e, root / "train.csv") for e in train_entries]
    held_out = validation_patients(patients, valid_fraction)
    split = np.array(
        [SPLITS["valid"] if p in held_out else SPLITS["train"] for p in patients]
        + [SPLITS["test"]] * len(test_entries),
        dtype=np.uint8,
    )
    return write_image_files(
        out,
        [_image_path(root, e) for e in train_entries + test_entries],
        np.concatenate([train_labels, test_labels]),
        split,
        size=size,
        mode="L",
        workers=workers,
        progress=progress,
        label_names=OBSERVATIONS,
        label_kinds=("binary",) * len(OBSERVATIONS),
        name="chexpert",
        description=(
            f"CheXpert-v1.0-small radiographs: centred square crop resized to {size}x{size}, grayscale; "
            "14 observations (uncertain and blank = missing); test = official valid.csv, "
            f"valid = {valid_fraction:.0%} of train.csv's patients"
        ),
        default_labels=DEFAULT_LABELS,
    )
