"""How fast `prepare_celeba` turns a CelebA folder into a data file, and how much memory it needs.

Writes N synthetic 178x218 JPEGs (smooth random colour fields with a little grain, quality
90: about the size of the real aligned faces) with CelebA's annotation files into a
temporary folder, then times `prepare_celeba` on them and reports images/second and the peak
resident memory of this process and of its decoding workers.

    python benchmarks/prepare_celeba.py --n 20000 --workers 2
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyro_ccvae.datasets.celeba import prepare_celeba  # noqa: E402

ATTRIBUTES = [f"Attribute_{i}" for i in range(22)] + [
    "Arched_Eyebrows", "Bags_Under_Eyes", "Bangs", "Black_Hair", "Blond_Hair", "Brown_Hair",
    "Bushy_Eyebrows", "Chubby", "Eyeglasses", "Heavy_Makeup", "Male", "No_Beard", "Pale_Skin",
    "Receding_Hairline", "Smiling", "Wavy_Hair", "Wearing_Necktie", "Young",
]  # fmt: skip


def make_celeba(folder: Path, n: int, seed: int = 0) -> int:
    """Writes a CelebA-layout folder of n images; returns the total JPEG bytes."""
    rng = np.random.default_rng(seed)
    images = folder / "img_align_celeba"
    images.mkdir(parents=True)
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    total = 0
    for name in names:
        coarse = Image.fromarray(rng.integers(0, 256, (14, 12, 3), dtype=np.uint8))
        smooth = np.asarray(coarse.resize((178, 218), Image.Resampling.BICUBIC), dtype=np.int16)
        grain = rng.integers(-6, 7, smooth.shape, dtype=np.int16)
        Image.fromarray(np.clip(smooth + grain, 0, 255).astype(np.uint8)).save(images / name, quality=90)
        total += (images / name).stat().st_size
    values = rng.choice(["-1", " 1"], (n, len(ATTRIBUTES)))
    lines = [str(n), " ".join(ATTRIBUTES) + " "] + [f"{name} " + " ".join(row) for name, row in zip(names, values)]
    (folder / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    splits = np.searchsorted([0.8 * n, 0.9 * n], np.arange(n), side="right")
    (folder / "list_eval_partition.txt").write_text("".join(f"{a} {s}\n" for a, s in zip(names, splits)))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="number of images to generate")
    parser.add_argument("--workers", type=int, default=2, help="decoding processes")
    parser.add_argument("--size", type=int, default=64, help="side of the prepared images")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "celeba"
        started = time.perf_counter()
        jpeg_bytes = make_celeba(folder, args.n)
        seconds = time.perf_counter() - started
        print(f"generated {args.n} JPEGs ({jpeg_bytes / args.n / 1024:.1f} KiB each) in {seconds:.0f} s")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        out = prepare_celeba(folder, Path(tmp) / "celeba.h5", size=args.size, workers=args.workers)
        seconds = time.perf_counter() - started
        print(f"prepare_celeba: {args.n} images, size {args.size}, {args.workers} workers: "
              f"{seconds:.1f} s, {args.n / seconds:.0f} images/s, output {out.stat().st_size / 2**20:.0f} MiB")
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak resident memory: main process {peak_self:.0f} MiB (before preparing: {rss_before / 1024:.0f} MiB), "
          f"largest worker {peak_children:.0f} MiB")


if __name__ == "__main__":
    main()
