"""Small data files and shared checks for the tests."""

import subprocess
import time
from pathlib import Path

import torch

from pyro_ccvae.datasets import write_dataset
from pyro_ccvae.datasets.synthfaces import generate_synthfaces


def tiny_synthfaces(folder: Path, num_images: int = 200, size: int = 16) -> Path:
    path = Path(folder) / f"tiny-{num_images}-{size}.h5"
    write_dataset(path, generate_synthfaces(num_images, seed=0, size=size))
    return path


@torch.no_grad()
def move_off_symmetric_start(model) -> None:
    """Perturbs the binary labels' conditional prior and classifier bias (CCVAE, DIVA), so that
    tests do not run at the symmetric initial values."""
    binary = model.label_groups[0]
    binary.characteristics.loc.add_(0.3 * torch.randn_like(binary.characteristics.loc))
    binary.classifier.bias.add_(torch.randn_like(binary.classifier.bias))


def loc_scale(distribution):
    """(mean, standard deviation) of a diagonal Gaussian such as p_psi(z_c | y)."""
    return distribution.mean, distribution.stddev


def one_line_error(result, code: int, message: str) -> None:
    """A click result that failed with exit code `code` and exactly one error line holding
    `message`, without a traceback."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and message in errors[0], result.output


def wait_for_a_step_checkpoint(process: subprocess.Popen, path: Path, timeout: float = 90) -> None:
    """Returns once the checkpoint written before the first step has been replaced."""
    first, deadline = None, time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            version = (path.stat().st_ino, path.stat().st_mtime_ns)
        except FileNotFoundError:
            version = None
        if first is None:
            first = version
        elif version is not None and version != first:
            return
        time.sleep(0.002)
    process.kill()
    raise AssertionError(f"no checkpoint after a step while the run went on: {process.communicate()[1][-3000:]}")
