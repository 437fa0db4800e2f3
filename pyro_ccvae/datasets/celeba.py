"""CelebA, read from its official files into the project's data format.

The source folder is laid out as torchvision's `CelebA` keeps it (the folder itself, or its
parent holding it as `celeba/`):

    img_align_celeba/000001.jpg ...   the aligned faces, 178 x 218 pixels (width x height)
    list_attr_celeba.txt              line 1: the image count; line 2: the 40 attribute names;
                                      then one line per image: `000001.jpg -1  1  1 -1 ...`
    list_eval_partition.txt           one line per image: `000001.jpg 0` (0 train, 1 valid, 2 test)

Other annotation files (identity_CelebA.txt, list_bbox_celeba.txt, ...) are not needed.

Rows follow list_attr_celeba.txt; all 40 attributes are stored as binary labels (-1 -> 0,
1 -> 1), the 18 the paper uses being the default labels; the split is the official partition.

Crop: each face is cut to its centred 178 x 178 square, the box (left, top, right, bottom) =
(0, 20, 178, 198) of the 178 x 218 picture, then resized to size x size (Lanczos). This is
the crop of the common `Resize(64), CenterCrop(64)` CelebA pipeline (e.g. PyTorch's DCGAN
tutorial). The tighter 140 x 140 crop some models use cuts off the hairline, most of the hair
and the neck, which several of the paper's labels describe (Bangs, Receding_Hairline,
Wavy_Hair, the hair colours, Wearing_Necktie), so the whole-width square is kept instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from .image_files import Progress, write_image_files

ATTRIBUTES_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
IMAGE_FOLDER = "img_align_celeba"
DEFAULT_LABELS = (
    "Arched_Eyebrows", "Bags_Under_Eyes", "Bangs", "Black_Hair", "Blond_Hair", "Brown_Hair",
    "Bushy_Eyebrows", "Chubby", "Eyeglasses", "Heavy_Makeup", "Male", "No_Beard", "Pale_Skin",
    "Receding_Hairline", "Smiling", "Wavy_Hair", "Wearing_Necktie", "Young",
)  # fmt: skip


def find_celeba(source: str | os.PathLike) -> Path:
    """The CelebA folder: `source` itself or `source`/celeba, whichever holds the attribute file."""
    source = Path(source)
    if not source.is_dir():
        raise DatasetError(f"no folder {source}: give the folder holding CelebA's {IMAGE_FOLDER}/")
    for root in (source, source / "celeba"):
        if (root / ATTRIBUTES_FILE).is_file():
            break
    else:
        raise DatasetError(
            f"missing annotation file {source / ATTRIBUTES_FILE}: the source must be CelebA's "
            f"`celeba` folder (holding {IMAGE_FOLDER}/, {ATTRIBUTES_FILE}, {PARTITION_FILE}) or its parent"
        )
    for needed in (root / PARTITION_FILE, root / IMAGE_FOLDER):
        if not needed.exists():
            raise DatasetError(
                f"missing {needed}: CelebA's official files must all be in {root}"
                + (f" (unzip {IMAGE_FOLDER}.zip there)" if needed.name == IMAGE_FOLDER else "")
            )
    return root


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"cannot read {path}: {e}") from e


def read_attributes(path: str | os.PathLike) -> tuple[list[str], list[str], np.ndarray]:
    """Reads list_attr_celeba.txt: (image file names, attribute names, float32 [N, A] of 0/1)."""
    path = Path(path)
    lines = _read_lines(path)
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise DatasetError(f"{path} does not start with an image count line and an attribute names line")
    count, names = int(lines[0]), lines[1].split()
    listed = sum(1 for line in lines[2:] if line.strip())
    if listed != count:
        raise DatasetError(f"{path} announces {count} images on line 1 but lists {listed}")
    files, values = [], np.empty((count, len(names)), np.int8)
    for number, line in enumerate(lines[2:], start=3):
        row = line.split()
        if not row:
            continue
        if len(row) != len(names) + 1 or any(v not in ("-1", "1") for v in row[1:]):
            raise DatasetError(
                f"{path}, line {number}: expected an image name and {len(names)} values -1 or 1, "
                f"got {line.strip()[:80]!r}"
            )
        values[len(files)] = row[1:]
        files.append(row[0])
    return files, names, (values == 1).astype(np.float32)


def read_partition(path: str | os.PathLike) -> dict[str, int]:
    """Reads list_eval_partition.txt: image file name -> split (0 train, 1 valid, 2 test)."""
    path = Path(path)
    partition = {}
    for number, line in enumerate(_read_lines(path), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise DatasetError(f"{path}, line {number}: expected `<image> <0, 1 or 2>`, got {line[:80]!r}")
        partition[fields[0]] = int(fields[1])
    return partition


def prepare_celeba(
    source: str | os.PathLike,
    out: str | os.PathLike,
    size: int = 64,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Path:
    """Reads CelebA from `source` (see the module docstring) and writes it to `out`.

    Images are 3 x size x size; `workers` decoding processes (default: one per CPU);
    `progress(done, total)` is called as images are written. Returns the output path. Any
    missing, malformed or undecodable file raises a DatasetError naming it.
    """
    root = find_celeba(source)
    files, names, labels = read_attributes(root / ATTRIBUTES_FILE)
    partition = read_partition(root / PARTITION_FILE)
    if not files:
        raise DatasetError(f"{root / ATTRIBUTES_FILE} lists no images")
    absent = [n for n in DEFAULT_LABELS if n not in names]
    if absent:
        raise DatasetError(f"{root / ATTRIBUTES_FILE} lacks CelebA's attribute(s) {', '.join(absent)}")
    unsplit = [f for f in files if f not in partition]
    if unsplit:
        raise DatasetError(
            f"{root / PARTITION_FILE} gives no split for {len(unsplit)} image(s) of "
            f"{ATTRIBUTES_FILE}, e.g. {unsplit[0]}"
        )
    return write_image_files(
        out,
        [os.path.join(root, IMAGE_FOLDER, f) for f in files],
        labels,
        np.array([partition[f] for f in files], dtype=np.uint8),
        size=size,
        mode="RGB",
        workers=workers,
        progress=progress,
        label_names=names,
        label_kinds=("binary",) * len(names),
        name="celeba",
        description=(
            f"CelebA aligned faces: centred square crop resized to {size}x{size}; "
            f"{len(names)} binary attributes; official train/valid/test partition"
        ),
        default_labels=DEFAULT_LABELS,
    )
