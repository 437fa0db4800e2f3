"""Fréchet distances between generated and real images: the paper's Table 4 (FID, App. D.3),
and a stand-in that needs no download.

    d^2 = |mu_1 - mu_2|^2 + tr(S_1 + S_2 - 2 (S_1 S_2)^{1/2})

between Gaussians fitted (mean mu, covariance S) to the features of two sets of images.

- FID (Heusel et al., 2017): the features are the 2048 pooled activations of Inception-v3, from a
  weights file the user already has: torchvision's `inception_v3_google-*.pth` or pytorch-fid's
  `pt_inception-2015-12-05-*.pth` (the network FID is defined with; its 1008-way classifier and
  pooling differences are detected from the file). Nothing is ever downloaded. Images are
  resized to 299x299 (bilinear) and scaled to [-1, 1], as pytorch-fid does; grey images are
  repeated over three channels.
- Oracle Fréchet distance: the same distance in the features of the project's independent oracle
  CNN (analysis/oracle.py; its hidden layer after the ReLU). Always available where an oracle is;
  it is not FID and its values are on another scale, so it is never reported as FID.

Both depend on the number of images (fewer images, larger distance): compare models only at the
same counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import WeightsFileError

Features = Callable[[torch.Tensor], torch.Tensor]  # images [B, C, S, S] in [0, 1] -> features [B, D]
INCEPTION_SIDE = 299
FID_CLASSES = 1008  # pytorch-fid's Inception (the TensorFlow original) has 1008 outputs, torchvision's 1000


def gaussian_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """(mean [D], covariance [D, D]) of features [N, D] (N >= 2), in float64."""
    f = np.asarray(torch.as_tensor(features).detach().cpu(), np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"need features [N >= 2, D], got shape {f.shape}")
    return f.mean(0), np.cov(f, rowvar=False)


def frechet_distance(mu_1, sigma_1, mu_2, sigma_2) -> float:
    """The Fréchet (2-Wasserstein) distance squared between N(mu_1, sigma_1) and N(mu_2, sigma_2).

    tr((S_1 S_2)^{1/2}) is computed as the sum of the square roots of the eigenvalues of the
    symmetric S_1^{1/2} S_2 S_1^{1/2} (similar to S_1 S_2): two symmetric eigendecompositions,
    stable when the covariances are singular (fewer images than features)."""
    mu_1, mu_2 = np.atleast_1d(np.asarray(mu_1, np.float64)), np.atleast_1d(np.asarray(mu_2, np.float64))
    sigma_1, sigma_2 = np.atleast_2d(np.asarray(sigma_1, np.float64)), np.atleast_2d(np.asarray(sigma_2, np.float64))
    values, vectors = np.linalg.eigh(sigma_1)
    root_1 = (vectors * np.sqrt(values.clip(min=0))) @ vectors.T
    middle = root_1 @ sigma_2 @ root_1
    root_trace = np.sqrt(np.linalg.eigvalsh((middle + middle.T) / 2).clip(min=0)).sum()
    diff = mu_1 - mu_2
    return float(diff @ diff + np.trace(sigma_1) + np.trace(sigma_2) - 2 * root_trace)


@torch.no_grad()
def features_of(features: Features, images: torch.Tensor, batch_size: int = 100) -> torch.Tensor:
    """features(images) in batches: [N, D] on the CPU."""
    return torch.cat([features(images[start : start + batch_size]).cpu() for start in range(0, len(images), batch_size)])


def distance_between(features: Features, images_1: torch.Tensor, images_2: torch.Tensor, batch_size: int = 100) -> float:
    """The Fréchet distance between two sets of images [N, C, S, S] in [0, 1] in a feature space."""
    stats_1 = gaussian_statistics(features_of(features, images_1, batch_size))
    stats_2 = gaussian_statistics(features_of(features, images_2, batch_size))
    return frechet_distance(*stats_1, *stats_2)


# Inception-v3 from a local file -----------------------------------------------------------------


def load_inception(weights: str | Path, device: torch.device | str = "cpu") -> Features:
    """The 2048-d pool features of Inception-v3 with the weights in the file `weights`
    (torchvision's or pytorch-fid's state dict), as a function of images in [0, 1]; WeightsFileError
    if the file is missing or holds other weights. Nothing is downloaded."""
    from torchvision.models.inception import Inception3

    path = Path(weights)
    if not path.is_file():
        raise WeightsFileError(f"no Inception weights file at {path}", setting="inception_weights")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        num_classes = state["fc.weight"].shape[0]
        aux = any(key.startswith("AuxLogits.") for key in state)
        net = Inception3(num_classes=num_classes, aux_logits=aux, transform_input=False, init_weights=False)
        if num_classes == FID_CLASSES:
            _use_fid_blocks(net)
        net.load_state_dict(state)
    except (KeyError, RuntimeError, AttributeError, TypeError, ValueError, OSError) as e:
        raise WeightsFileError(
            f"{path} does not hold Inception-v3 weights of torchvision or pytorch-fid ({type(e).__name__}: {e})",
            setting="inception_weights",
        ) from e
    net.fc = nn.Identity()
    net = net.to(device).eval()

    def features(images: torch.Tensor) -> torch.Tensor:
        x = images.to(device=device, dtype=torch.float32)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = F.interpolate(x, size=(INCEPTION_SIDE, INCEPTION_SIDE), mode="bilinear", align_corners=False)
        return net(2 * x - 1)  # [B, 2048]

    return features


def _use_fid_blocks(net: nn.Module) -> None:
    """pytorch-fid's Inception: its average pools leave padding out of the count, and the last
    block max-pools (how the TensorFlow network FID is defined with computes)."""
    from torchvision.models.inception import InceptionA, InceptionC, InceptionE

    def branch_pool_of(kind):
        return {
            "avg": lambda x: F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False),
            "max": lambda x: F.max_pool2d(x, 3, stride=1, padding=1),
        }[kind]

    class FIDInceptionA(InceptionA):
        def _forward(self, x):
            b5 = self.branch5x5_2(self.branch5x5_1(x))
            b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            return [self.branch1x1(x), b5, b3, self.branch_pool(branch_pool_of("avg")(x))]

    class FIDInceptionC(InceptionC):
        def _forward(self, x):
            b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
            b7d = self.branch7x7dbl_1(x)
            for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
                b7d = layer(b7d)
            return [self.branch1x1(x), b7, b7d, self.branch_pool(branch_pool_of("avg")(x))]

    class FIDInceptionE(InceptionE):
        def __init__(self, in_channels, pool):
            super().__init__(in_channels)
            self.pool = branch_pool_of(pool)

        def _forward(self, x):
            b3 = self.branch3x3_1(x)
            b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
            b3d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
            b3d = torch.cat([self.branch3x3dbl_3a(b3d), self.branch3x3dbl_3b(b3d)], 1)
            return [self.branch1x1(x), b3, b3d, self.branch_pool(self.pool(x))]

    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE(1280, "avg")
    net.Mixed_7c = FIDInceptionE(2048, "max")


# The oracle's features ----------------------------------------------------------------------------


def oracle_features(net) -> Features:
    """The hidden layer (after its ReLU) of an oracle CNN (analysis/oracle.py) as features."""
    head = net.head  # Dropout, Linear, ReLU, Linear

    def features(images: torch.Tensor) -> torch.Tensor:
        net.eval()
        return head[2](head[1](net.features(images)))

    return features


# Generations against test images -----------------------------------------------------------------


@torch.no_grad()
def measure_frechet_distances(
    model,
    split,
    features: dict[str, Features],
    num: int = 1000,
    batch_size: int = 250,
    generator: torch.Generator | None = None,
) -> dict[str, float]:
    """{name: Fréchet distance between `num` generated images and `num` images of `split`} in
    each feature space of `features` (at most as many as the split holds). Generations are
    `model.generate(y)` for labels y ~ p(y) (`model.draw_labels`), so that both sets follow the
    data's label frequencies."""
    from ..datasets.tensors import unit_pixels

    generator = generator or torch.Generator().manual_seed(0)
    num = min(num, len(split))
    real = torch.cat([unit_pixels(split.images[start : start + batch_size]) for start in range(0, num, batch_size)])
    fake = []
    for start in range(0, num, batch_size):
        y = model.draw_labels(min(batch_size, num - start), generator).to(real.device)
        fake.append(model.generate(y, generator))
    fake = torch.cat(fake)
    return {name: distance_between(f, fake, real) for name, f in features.items()}
