"""How long one update of the explorer takes: a control moved, the image decoded, q(y_i|z_c^i)
read, the PNG encoded and sent back (`pyro-ccvae explore`).

    python benchmarks/explorer_update.py [--run DIR] [--image-size 64] [--updates 200] [--warmup 10]

Without --run the model is a fresh CCVAE (weights from seed 0) with the labels of
synthfaces-mixed (8 binary, Hair with 5 classes, Age), on random images: an update does the
same work whatever the weights. Each update moves one control to a new setting, in turn over
all labels. Timed three ways, as median, 95th percentile and maximum in milliseconds:

- move_library: Explorer.render in this process (the image's encoding is kept, as when a
  control moves);
- move_http: the same request as the page sends it, POST /api/render over loopback HTTP with
  a kept-alive connection, JSON answer read;
- new_image_http: POST /api/render for an image not seen before (its encoding included).
"""

import argparse
import http.client
import json
import statistics
import threading
import time

import torch

from pyro_ccvae.core import CCVAE, CCVAEConfig
from pyro_ccvae.core.config import label_fields
from pyro_ccvae.core.kinds import make_labels
from pyro_ccvae.datasets.synthfaces import AGE_RANGE, HAIR_CLASSES, HAIR_FREQUENCIES, MIXED_LABEL_NAMES
from pyro_ccvae.explorer import Explorer, make_server
from pyro_ccvae.rng import seeded


def mixed_model(size: int) -> CCVAE:
    """A fresh CCVAE for size x size RGB images with synthfaces-mixed's labels."""
    binary = [n for n in MIXED_LABEL_NAMES if n not in ("Hair", "Age")]
    mean_age, sd_age = sum(AGE_RANGE) / 2, (AGE_RANGE[1] - AGE_RANGE[0]) / 12**0.5
    labels = make_labels(
        [*binary, "Hair", "Age"],
        ["binary"] * len(binary) + ["categorical", "continuous"],
        {"Hair": list(HAIR_CLASSES)},
        [0.5] * len(binary) + [list(HAIR_FREQUENCIES), [mean_age, sd_age]],
    )
    with seeded(0):
        return CCVAE(CCVAEConfig(**label_fields(labels), image_shape=(3, size, size))).eval()


def summary(seconds: list[float]) -> dict:
    ms = sorted(1000 * s for s in seconds)
    return {"median": statistics.median(ms), "p95": ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))], "max": ms[-1]}


def settings_in_turn(explorer: Explorer, count: int) -> list[dict]:
    """`count` settings, each moving one control (labels in turn) to a new place in its range."""
    controls = list(explorer.info()["labels"])
    out = []
    for k in range(count):
        control = controls[k % len(controls)]
        t = (k * 0.37) % 1.0
        if control["widget"] == "classes":
            setting = k % len(control["classes"])
        elif control["widget"] == "slider":
            setting = round(t * control["max"])
        else:
            setting = control["min"] + t * (control["max"] - control["min"])
        out.append({control["name"]: setting})
    return out


def timed(function, arguments: list) -> list[float]:
    seconds = []
    for argument in arguments:
        start = time.perf_counter()
        function(argument)
        seconds.append(time.perf_counter() - start)
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", default=None, help="a run folder to explore instead of a fresh model")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()

    if args.run:
        explorer = Explorer.from_run(args.run)
    else:
        images = torch.randint(0, 256, (args.warmup + args.updates + 1, 3, args.image_size, args.image_size),
                               dtype=torch.uint8, generator=torch.Generator().manual_seed(0))  # fmt: skip
        explorer = Explorer(mixed_model(args.image_size), images)
    if explorer.images.shape[0] < args.warmup + args.updates + 1:
        parser.error(f"the run's test split has fewer than {args.warmup + args.updates + 1} images")
    server = make_server(explorer, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)

    def post(body: dict) -> dict:
        connection.request("POST", "/api/render", json.dumps(body), {"Content-Type": "application/json"})
        response = connection.getresponse()
        answer = json.loads(response.read())
        assert response.status == 200, answer
        return answer

    settings = settings_in_turn(explorer, args.warmup + args.updates)
    for s in settings[: args.warmup]:
        explorer.render("test:0", s)
        post({"source": "test:0", "settings": s})
    moves = settings[args.warmup :]
    library = timed(lambda s: explorer.render("test:0", s), moves)
    over_http = timed(lambda s: post({"source": "test:0", "settings": s}), moves)
    new_images = timed(lambda n: post({"source": f"test:{n}", "settings": {}}), range(1, args.updates + 1))
    connection.close()
    server.shutdown()
    server.server_close()
    print(json.dumps({
        "model": args.run or f"fresh CCVAE, synthfaces-mixed labels, {args.image_size}x{args.image_size}",
        "image_shape": list(explorer.model.config.image_shape),
        "labels": len(explorer.controls),
        "torch_threads": torch.get_num_threads(),
        "updates": args.updates,
        "ms": {"move_library": summary(library), "move_http": summary(over_http), "new_image_http": summary(new_images)},
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
