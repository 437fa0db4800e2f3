"""The independent oracle classifier (pyro_ccvae.oracle), `pyro-ccvae oracle fit`, and
`pyro-ccvae evaluate --oracle` with the paper's metrics."""

import dataclasses
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from PIL import Image

from pyro_ccvae.analysis.oracle import (
    OracleConfig,
    OracleError,
    OracleMismatch,
    OracleNet,
    fit_oracle,
    label_scorer,
    load_oracle,
    masked_bce,
    save_oracle,
)
from pyro_ccvae.datasets import write_dataset
from pyro_ccvae.datasets.synthfaces import LABEL_NAMES, generate_synthfaces
from pyro_ccvae_cli.main import cli

from .helpers import tiny_synthfaces


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("side", [8, 16, 32])
def test_the_network_maps_images_to_one_logit_per_label(side):
    net = OracleNet(OracleConfig(label_names=["a", "b"], image_shape=(1, side, side)))
    assert net(torch.rand(3, 1, side, side)).shape == (3, 2)
    one, zero = net.log_probs(torch.rand(3, 1, side, side))
    assert torch.allclose(one.exp() + zero.exp(), torch.ones(3, 2))


def test_the_network_is_not_the_ccvae_encoder():
    net = OracleNet(OracleConfig(label_names=["a"], image_shape=(3, 16, 16)))
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    with pytest.raises(ValueError, match="power of two"):
        OracleNet(OracleConfig(label_names=["a"], image_shape=(3, 12, 12)))


def test_masked_bce_ignores_missing_labels():
    logits = torch.tensor([[0.5, -1.0], [2.0, 0.0]])
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    mask = torch.tensor([[True, False], [True, True]])
    terms = [F.binary_cross_entropy_with_logits(logits[i, j], y[i, j]) for i, j in [(0, 0), (1, 0), (1, 1)]]
    assert masked_bce(logits, y, mask) == pytest.approx(sum(terms).item() / 3)


def test_missing_labels_are_masked_out_of_training():
    data = generate_synthfaces(60, seed=1, size=8)
    labels = data.labels.copy()
    labels[::3, 0] = np.nan
    labels[:, 1] = np.nan  # a label never observed
    losses = []
    net = fit_oracle(dataclasses.replace(data, labels=labels), epochs=1, batch_size=16, on_epoch=losses.append)
    assert np.isfinite(losses[0]["loss"])
    assert all(torch.isfinite(p).all() for p in net.parameters())


def test_the_oracle_learns_tiny_synthfaces():
    data = generate_synthfaces(400, seed=0, size=16)
    net = fit_oracle(data, epochs=4, batch_size=32, lr=3e-3, seed=0)
    metrics = net.config.metrics
    assert net.config.label_names == list(LABEL_NAMES)
    assert metrics["test_images"] == 40
    assert metrics["test_accuracy"] > metrics["majority_baseline"] + 0.1


def test_save_and_load_round_trip_with_weights_only(tmp_path):
    net = fit_oracle(generate_synthfaces(40, seed=0, size=8), epochs=1, batch_size=8)
    save_oracle(net, tmp_path / "o")
    state = torch.load(tmp_path / "o" / "oracle.pt", weights_only=True)
    assert set(state) == set(net.state_dict())
    config = json.loads((tmp_path / "o" / "oracle.json").read_text())
    assert config["label_names"] == list(LABEL_NAMES) and "test_accuracy" in config["metrics"]
    loaded = load_oracle(tmp_path / "o")
    x = torch.rand(4, 3, 8, 8)
    assert torch.equal(loaded(x), net(x)) and not loaded.training
    assert loaded.config == net.config


def test_loading_and_scoring_mistakes_are_oracle_errors(tmp_path):
    with pytest.raises(OracleError, match="is not an oracle folder"):
        load_oracle(tmp_path / "nowhere")
    net = OracleNet(OracleConfig(label_names=["a", "b", "c"], image_shape=(3, 8, 8)))
    save_oracle(net, tmp_path / "o")
    (tmp_path / "o" / "oracle.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(OracleError, match="cannot load the oracle"):
        load_oracle(tmp_path / "o")
    score = label_scorer(net.eval(), ["c", "a"], (3, 8, 8))
    x = torch.rand(2, 3, 8, 8)
    assert torch.equal(score(x), net(x)[:, [2, 0]])
    with pytest.raises(OracleMismatch, match="trained on other labels .* lacks d"):
        label_scorer(net, ["a", "d"], (3, 8, 8))
    with pytest.raises(OracleMismatch, match="images of shape"):
        label_scorer(net, ["a"], (3, 16, 16))


# The commands -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_and_oracle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oracle")
    data = tiny_synthfaces(folder, 100, 16)
    result = run("fit", "--dataset", data, "--out", folder / "run", "--device", "cpu", "--epochs", "1",
                 "--batch-size", "32", "--classifier-samples", "4", "--z-s-dim", "4")
    assert result.exit_code == 0, result.output
    result = run("oracle", "fit", "--dataset", data, "--out", folder / "oracle", "--epochs", "1", "--batch-size", "32",
                 "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert "test accuracy" in result.output and "majority baseline" in result.output
    return data, folder / "run", folder / "oracle"


def test_oracle_fit_refuses_to_overwrite_without_force(run_and_oracle):
    data, _, oracle = run_and_oracle
    result = run("oracle", "fit", "--dataset", data, "--out", oracle, "--epochs", "1")
    assert result.exit_code == 2 and "already holds an oracle" in result.output


def test_evaluate_with_an_oracle_reports_the_paper_metrics(run_and_oracle, tmp_path):
    _, run_dir, oracle = run_and_oracle
    figure = tmp_path / "m.png"
    result = run("evaluate", "--run", run_dir, "--oracle", oracle, "--json", "--figure", figure, "--samples", "50",
                 "--device", "cpu")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) >= {"accuracy", "per_label", "swap_score", "conditional_generation_accuracy", "intervention_matrix",
                           "intervention_condition_number", "reconstruction_error", "ground_truth"}
    matrix = np.array(report["intervention_matrix"])
    assert matrix.shape == (9, 9) and np.all(np.abs(matrix) <= 1)
    assert report["intervention_condition_number"] == pytest.approx(np.linalg.cond(matrix), rel=1e-6)
    assert report["swap_score"] >= 0 and 0 <= report["conditional_generation_accuracy"] <= 1
    assert 0 < report["reconstruction_error"] < 1
    truth = report["ground_truth"]
    assert set(truth) == {"characteristic_tracking", "leakage", "nuisance_r2"}
    assert set(truth["leakage"]["per_label"]["Smiling"]) == {"accuracy", "majority_baseline"}
    assert Image.open(figure).size[0] > 300
    table = run("evaluate", "--run", run_dir, "--oracle", oracle, "--samples", "20")
    assert table.exit_code == 0 and "swap score" in table.output and "condition number" in table.output
    assert (run_dir / "intervention_matrix.png").is_file()  # the default --figure


@pytest.mark.parametrize(
    "which, message, code", [("missing", "is not an oracle folder", 1), ("other_labels", "trained on other labels", 2)]
)
def test_evaluate_with_an_unusable_oracle_fails_in_one_line(run_and_oracle, tmp_path, which, message, code):
    data_path, run_dir, _ = run_and_oracle
    oracle = tmp_path / "o"
    if which == "other_labels":
        data = generate_synthfaces(20, seed=0, size=16)
        data = dataclasses.replace(data, label_names=tuple(n.lower() for n in data.label_names), default_labels=())
        write_dataset(tmp_path / "other.h5", data)
        fitted = run("oracle", "fit", "--dataset", tmp_path / "other.h5", "--out", oracle, "--epochs", "1", "--batch-size", "8")
        assert fitted.exit_code == 0, fitted.output
    result = run("evaluate", "--run", run_dir, "--oracle", oracle, "--json")
    assert result.exit_code == code, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("Error")]) == 1
