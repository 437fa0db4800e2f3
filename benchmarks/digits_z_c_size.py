"""Which size of z_c classifies a single 10-way label best (the choice of the paper's App. D.6)?

    python benchmarks/digits_z_c_size.py [--sizes 1,2,5,10] [--seeds 0,1] [--sup 0.06] [--epochs 40]

No MNIST file can be downloaded here, so this stands in with the handwritten digits that ship
inside scikit-learn (1,797 images of 8x8 pixels, 16 grey levels, from the UCI "optical
recognition of handwritten digits" set): each is upscaled 3x to 24x24, padded to 28x28 and
written as MNIST's idx files, which `prepare_mnist` reads into the project's format (padded
to 32x32) exactly as it reads MNIST. The first 1,500 images are the training set (the last 200
of them for validation), the other 297 the test set. For each z_c size and seed, a CCVAE
with one categorical label ("digit") is trained on a fraction --sup of the training labels
and its test accuracy printed, as one JSON line per run and a table at the end.
"""

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits

from pyro_ccvae.datasets import read_dataset
from pyro_ccvae.datasets.idx import prepare_mnist
from pyro_ccvae.datasets.tensors import split_tensors
from pyro_ccvae.training.config import ModelOptions, TrainConfig
from pyro_ccvae.training.runs import load_model, train_new_run
from pyro_ccvae.training.validation import label_scores

NUM_TRAIN = 1500


def write_idx(path: Path, array: np.ndarray, magic: int) -> None:
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def digits_as_mnist(root: Path) -> Path:
    """sklearn's digits as MNIST idx files under root/MNIST/raw; returns the prepared .h5."""
    digits = load_digits()
    images = np.kron(digits.images / 16.0 * 255, np.ones((3, 3)))  # [N, 24, 24]
    images = np.pad(images, ((0, 0), (2, 2), (2, 2))).round()  # [N, 28, 28]
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for which, rows in (("train", slice(0, NUM_TRAIN)), ("t10k", slice(NUM_TRAIN, None))):
        write_idx(raw / f"{which}-images-idx3-ubyte", images[rows], 0x00000803)
        write_idx(raw / f"{which}-labels-idx1-ubyte", digits.target[rows], 0x00000801)
    return prepare_mnist(root, root / "digits.h5", valid_fraction=200 / NUM_TRAIN)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,2,5,10")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--sup", type=float, default=0.06)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data_path = digits_as_mnist(tmp)
        data = read_dataset(data_path)
        results = {}
        for size in map(int, args.sizes.split(",")):
            for seed in map(int, args.seeds.split(",")):
                config = TrainConfig(dataset=str(data_path), sup_fraction=args.sup, epochs=args.epochs, lr=args.lr, seed=seed)
                run_dir = tmp / f"z{size}-s{seed}"
                train_new_run(config, ModelOptions(z_c_block=size), run_dir, torch.device("cpu"))
                model = load_model(run_dir)
                accuracy = label_scores(model, split_tensors(data, "test", torch.device("cpu")))["accuracy"]
                results.setdefault(size, []).append(accuracy)
                print(json.dumps({"z_c_block": size, "seed": seed, "sup": args.sup, "test_accuracy": accuracy}), flush=True)
    print(f"\n| z_c size | test accuracy (mean of {len(args.seeds.split(','))} seeds) | per seed |")
    print("|---|---|---|")
    for size, values in results.items():
        print(f"| {size} | {statistics.mean(values):.3f} | {', '.join(f'{v:.3f}' for v in values)} |")


if __name__ == "__main__":
    main()
