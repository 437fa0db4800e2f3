"""Training throughput of data-parallel processes against one process with as many threads.

    python benchmarks/data_parallel.py [--processes 2] [--threads 2] [--batch-size 32]
                                       [--image-size 32] [--steps 20] [--warmup 3] [--device cpu]

Trains the CCVAE (`train_new_run`, the fit loop itself, `--unsup-bound enumerate`, k = 100) on
generated synthfaces twice, with the same number of images per step (the same optimisation):

- one process with `--threads` threads at a batch of processes x batch-size;
- `--processes` processes started through torch.distributed.run (gloo on CPUs, NCCL on GPUs),
  each with `--threads / --processes` threads (at least 1) at a batch of batch-size.

The time of `--steps` steps after `--warmup` steps, as seen by rank 0, gives images per second.
Prints one JSON object. With `--device cuda` each process takes its own GPU (one against N).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def worker(args) -> None:
    """One process of a configuration (under torchrun, or alone)."""
    import torch

    from pyro_ccvae.devices import resolve_device
    from pyro_ccvae.training import distributed
    from pyro_ccvae.training.config import ModelOptions, TrainConfig
    from pyro_ccvae.training.runs import train_new_run

    torch.set_num_threads(args.threads)
    times = []
    with distributed.joined(resolve_device(args.device)) as world:

        def on_step(loss):
            if world.device.type == "cuda":
                torch.cuda.synchronize(world.device)
            times.append(time.perf_counter())

        config = TrainConfig(dataset=args.data, epochs=1, batch_size=args.batch_size, checkpoint_every=0)
        run_dir = Path(args.out) / f"run-{world.size}"
        train_new_run(config, ModelOptions(), run_dir, world.device, on_step=on_step if world.writes else None, world=world)
        if world.writes:
            seconds = times[args.warmup + args.steps - 1] - times[args.warmup - 1]
            images = args.steps * args.batch_size * world.size
            print(json.dumps({"processes": world.size, "threads_per_process": args.threads,
                              "batch_per_process": args.batch_size, "images_per_second": images / seconds}))  # fmt: skip
    if distributed.launched():  # exit without Python's teardown, as the CLI does (cli/torchrun.py): the
        sys.stdout.flush()  # gloo group's threads outlive destroy_process_group and the teardown can abort
        os._exit(0)


def configuration(args, processes: int, data: Path, out: Path) -> dict:
    threads = max(1, args.threads // processes)
    command = [__file__, "--worker", "--data", str(data), "--out", str(out), "--threads", str(threads),
               "--batch-size", str(args.batch_size * args.processes // processes), "--steps", str(args.steps),
               "--warmup", str(args.warmup), "--device", args.device]  # fmt: skip
    if processes > 1:
        command = ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(processes), *command]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    result = subprocess.run([sys.executable, *command], capture_output=True, text=True, env=env)
    if result.returncode:
        sys.exit(f"{processes} process(es) failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="threads in all: one process has them all")
    parser.add_argument("--batch-size", type=int, default=32, help="images per step of each of --processes")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    from pyro_ccvae.datasets import write_dataset
    from pyro_ccvae.datasets.synthfaces import generate_synthfaces

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data.h5"
        rows = (args.warmup + args.steps) * args.batch_size * args.processes
        write_dataset(data, generate_synthfaces(int(rows / 0.8) + 20, seed=0, size=args.image_size))  # 80 % train
        one = configuration(args, 1, data, Path(folder))
        many = configuration(args, args.processes, data, Path(folder))
    print(json.dumps({"image_size": args.image_size, "images_per_step": args.batch_size * args.processes,
                      "one_process": one, "several_processes": many,
                      "several_over_one": many["images_per_second"] / one["images_per_second"]}))  # fmt: skip


if __name__ == "__main__":
    main()
