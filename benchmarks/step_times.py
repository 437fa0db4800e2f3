"""Side-by-side step times: labelled vs unlabelled Pyro steps, and Pyro vs plain torch.

    python benchmarks/step_times.py [--device cpu|cuda] [--batch-size 128] [--image-size 64]
                                    [--num-labels 18] [--steps 20] [--rounds 3]

Each round times every variant once, in turn, on the same random data and networks, so that
drift in machine load hits all variants alike; the median over rounds is reported.
"""

import argparse
import json
import statistics
import sys
from pathlib import Path

import pyro
import torch

sys.path.insert(0, str(Path(__file__).parent))

from plain_torch_loss import plain_torch_loss  # noqa: E402

from pyro_ccvae.core import CCVAE, CCVAE_ELBO, CCVAEConfig  # noqa: E402
from pyro_ccvae.core.config import label_fields  # noqa: E402
from pyro_ccvae.rng import seeded  # noqa: E402
from pyro_ccvae.training.bench import batch_indices, random_images, random_labels, seconds_per_call  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--num-labels", type=int, default=18)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    device = torch.device(args.device)
    data = random_images(max(2048, args.batch_size), (3, args.image_size, args.image_size), args.num_labels, device)
    config = CCVAEConfig(**label_fields(random_labels(args.num_labels)), image_shape=(3, args.image_size, args.image_size))
    with seeded(0, device):
        model = CCVAE(config).to(device)
    elbo = CCVAE_ELBO(model.label_groups, 100, "enumerate")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    next_index = batch_indices(data, args.batch_size)

    def step(loss_fn, observed):
        def run(_):
            x, y, mask = data.batch(next_index(0))
            mask = mask if observed else torch.zeros_like(mask)
            loss = loss_fn(x, y, mask)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        return run

    def pyro_loss(x, y, mask):
        return elbo.differentiable_loss(model.model, model.guide, x, y, mask)

    def torch_loss(x, y, mask):
        return plain_torch_loss(model, x, y, mask)

    variants = {
        "pyro_labelled": step(pyro_loss, True),
        "pyro_unlabelled": step(pyro_loss, False),
        "torch_labelled": step(torch_loss, True),
        "torch_unlabelled": step(torch_loss, False),
    }
    times = {name: [] for name in variants}
    with pyro.validation_enabled(False):
        for _ in range(args.rounds):
            for name, run in variants.items():
                times[name].append(seconds_per_call(run, args.steps, 2, device))
    ms = {name: 1000 * statistics.median(t) for name, t in times.items()}
    result = {
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "batch_size": args.batch_size,
        "image_size": args.image_size,
        "ms_per_step": ms,
        "labelled_over_unlabelled": ms["pyro_labelled"] / ms["pyro_unlabelled"],
        "pyro_over_torch_labelled": ms["pyro_labelled"] / ms["torch_labelled"],
        "pyro_over_torch_unlabelled": ms["pyro_unlabelled"] / ms["torch_unlabelled"],
        "images_per_s_mixed": args.batch_size / (0.2 * ms["pyro_labelled"] + 0.8 * ms["pyro_unlabelled"]) * 1000,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
