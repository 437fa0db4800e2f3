"""Turning folders of image files into a data file: fast square crops, decoded in parallel.

Every image becomes the largest centred square of the file, resized to `size` x `size` with
a Lanczos filter. JPEGs are decoded with PIL's draft mode, which lets libjpeg scale the
picture down by 1/2, 1/4 or 1/8 while decoding (much faster than decoding at full size and
as good a low-pass filter as any), choosing the largest reduction that still leaves the
crop at least `size` pixels wide; the crop box is then scaled into the reduced picture's
coordinates, so the pixels kept are the same whatever reduction libjpeg picked.

Decoding runs in worker processes over chunks of files, at most a few chunks ahead of the
single writer, which stores them in order; memory therefore stays bounded however many
images there are.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import islice
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Sequence

import numpy as np
from PIL import Image

from ..errors import DatasetError
from .h5format import DatasetWriter

Progress = Callable[[int, int], None]
"""Called as progress(images_done, images_total) after each chunk is written."""

CHUNK_SIZE = 256
_CHANNELS = {"RGB": 3, "L": 1}


def centre_square(width: int, height: int) -> tuple[int, int, int, int]:
    """The largest centred square of a width x height picture, as (left, top, right, bottom)."""
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side


def load_square(path: str | os.PathLike | BinaryIO, size: int, mode: str) -> np.ndarray:
    """The centred square crop of an image file (a path, or a binary file object such as an
    upload's bytes in `io.BytesIO`) resized to size x size: uint8 [C, size, size].

    `mode` is "RGB" (3 channels) or "L" (1 channel, grayscale). Raises DatasetError naming the
    file if it is missing or cannot be decoded.
    """
    try:
        with Image.open(path) as img:
            width, height = img.size
            left, top, right, bottom = centre_square(width, height)
            side = right - left
            # Ask for the largest reduction (1/2, 1/4, 1/8) that keeps the crop >= size pixels;
            # draft() returns the reduced picture's size as a box (None if it cannot reduce).
            drafted = img.draft(mode, (math.ceil(width * size / side), math.ceil(height * size / side)))
            scale = width / drafted[1][2] if drafted else 1.0
            img = img.convert(mode)
            box = (left / scale, top / scale, right / scale, bottom / scale)
            img = img.resize((size, size), Image.Resampling.LANCZOS, box=box)
            pixels = np.asarray(img, dtype=np.uint8)
    except FileNotFoundError as e:
        raise DatasetError(f"missing image {path}") from e
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise DatasetError(f"cannot decode image {path}: {e}") from e
    return pixels.reshape(size, size, -1).transpose(2, 0, 1).copy()


def _load_chunk(paths: Sequence[str], size: int, mode: str) -> np.ndarray:
    return np.stack([load_square(p, size, mode) for p in paths])


def default_workers() -> int:
    """The number of CPUs this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def decode_squares(
    paths: Sequence[str | os.PathLike],
    size: int,
    mode: str,
    workers: int | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[np.ndarray]:
    """Yields the images of `paths` (see `load_square`) as uint8 [n, C, size, size] chunks, in order.

    With `workers` > 1 the chunks are decoded by that many processes (default: one per CPU),
    never more than two chunks per worker ahead of the caller.
    """
    if mode not in _CHANNELS:
        raise ValueError(f"mode must be one of {sorted(_CHANNELS)}, got {mode!r}")
    names = [str(p) for p in paths]
    chunks = (names[i : i + chunk_size] for i in range(0, len(names), chunk_size))
    workers = workers or default_workers()
    if workers <= 1:
        for chunk in chunks:
            yield _load_chunk(chunk, size, mode)
        return
    # "spawn" starts clean interpreters: safe even when the caller has threads (torch, tqdm).
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        pending = deque(pool.submit(_load_chunk, c, size, mode) for c in islice(chunks, 2 * workers))
        while pending:
            try:
                images = pending.popleft().result()
            except BrokenProcessPool as e:
                raise DatasetError(
                    "an image decoding process stopped unexpectedly (killed, out of memory, or "
                    "unable to start): retry with fewer workers, or one to decode in this process"
                ) from e
            for chunk in islice(chunks, 1):
                pending.append(pool.submit(_load_chunk, chunk, size, mode))
            yield images
    finally:
        pool.shutdown(cancel_futures=True)


def write_image_files(
    out: str | os.PathLike,
    paths: Sequence[str | os.PathLike],
    labels: np.ndarray,
    split: np.ndarray,
    *,
    size: int,
    mode: str,
    workers: int | None = None,
    progress: Progress | None = None,
    **writer_args,
) -> Path:
    """Writes the images of `paths` (row i from paths[i]) with their labels and split to `out`.

    `writer_args` go to `DatasetWriter` (label_names, label_kinds, name, description,
    default_labels, ...). The file appears only once every image has been written.
    """
    if size < 1:
        raise DatasetError(f"image size must be a positive number of pixels, got {size}")
    total = len(paths)
    with DatasetWriter(out, total, (_CHANNELS[mode], size, size), **writer_args) as writer:
        done = 0
        for images in decode_squares(paths, size, mode, workers):
            writer.write(done, images, labels[done : done + len(images)], split[done : done + len(images)])
            done += len(images)
            if progress:
                progress(done, total)
    return Path(out)
