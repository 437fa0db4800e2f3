"""Every script in benchmarks/ runs, at a tiny size: a benchmark nobody can run measures nothing."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
# script -> the arguments of a run of a few seconds
TINY = {
    "step_times.py": ["--steps", "1", "--rounds", "1", "--image-size", "16", "--batch-size", "8", "--num-labels", "3"],
    "prepare_celeba.py": ["--n", "12", "--workers", "1", "--size", "16"],
    "digits_z_c_size.py": ["--sizes", "1", "--seeds", "0", "--epochs", "1"],
    "explorer_update.py": ["--image-size", "16", "--updates", "3", "--warmup", "1"],
    "data_parallel.py": ["--image-size", "8", "--batch-size", "4", "--steps", "1", "--warmup", "1"],
    "low_supervision.py": ["--synthfaces", "200,16", "--sup", "0.2", "--steps", "4", "--every", "2", "--probe-every", "1",
                           "--out", "diag.json", "--figure", "diag.png"],
}
HELPERS = {"plain_torch_loss.py"}  # imported by the scripts above, not run on its own


def test_every_script_has_a_tiny_run():
    scripts = {p.name for p in BENCHMARKS.glob("*.py")}
    assert scripts == set(TINY) | HELPERS


@pytest.mark.parametrize("script", sorted(TINY))
def test_benchmark_script_runs(script, tmp_path):
    result = subprocess.run([sys.executable, str(BENCHMARKS / script), *TINY[script]], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    if script == "step_times.py":
        figures = json.loads(result.stdout)
        assert figures["ms_per_step"]["pyro_labelled"] > 0 and figures["pyro_over_torch_labelled"] > 0
    if script == "explorer_update.py":
        figures = json.loads(result.stdout)
        assert set(figures["ms"]) == {"move_library", "move_http", "new_image_http"}
        assert all(0 < t["median"] <= t["p95"] <= t["max"] for t in figures["ms"].values())
    if script == "data_parallel.py":
        figures = json.loads(result.stdout)
        assert figures["several_processes"]["processes"] == 2 and figures["several_over_one"] > 0


def test_the_threshold_probe_scores_what_z_c_tells_of_y():
    """The low-supervision records' probe: a perfectly separating z_c^i (either sign) scores 1, a
    z_c independent of y about 0.5 (checked against the held-out half only)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from low_supervision import threshold_probe_accuracy
    finally:
        sys.path.remove(str(BENCHMARKS))
    import torch

    generator = torch.Generator().manual_seed(0)
    y = (torch.rand(2000, 2, generator=generator) < 0.3).float()
    separating = torch.stack([y[:, 0] * 3 + torch.rand(2000, generator=generator), -y[:, 1]], dim=1)
    assert threshold_probe_accuracy(separating, y) == 1.0
    noise = torch.randn(2000, 2, generator=generator)
    assert abs(threshold_probe_accuracy(noise, y) - 0.7) < 0.04  # the majority rate of 1 - 0.3: nothing learned
