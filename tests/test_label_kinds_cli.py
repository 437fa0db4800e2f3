"""Label kinds end to end: parsing "Hair=blond" and "Age=35", a run on mixed-kind data through
the CLI (fit, evaluate with MAE and R^2, sample with --label and --sweep, manipulations), and
the data checks."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from pyro_ccvae.core.assignments import parse_assignments, parse_sweep
from pyro_ccvae.core.kinds import default_z_c_block, make_labels
from pyro_ccvae.datasets import read_dataset, write_dataset
from pyro_ccvae.datasets.h5format import check_label_values
from pyro_ccvae.datasets.synthfaces import HAIR_CLASSES, cached_synthfaces
from pyro_ccvae.errors import LabelError
from pyro_ccvae.training.runs import load_model
from pyro_ccvae_cli.main import cli

FAST = ["--epochs", "1", "--batch-size", "32", "--classifier-samples", "8", "--z-s-dim", "4", "--z-c-block", "2"]
NAMES = ["Smiling", "Hair", "Age"]
KINDS = ["binary", "categorical", "continuous"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_parse_values_of_every_kind():
    labels = make_labels(NAMES, KINDS, {"Hair": HAIR_CLASSES})
    values = parse_assignments(["Smiling=yes", "Hair=Blond", "Age=35.5"], labels)
    assert values == {"Smiling": 1.0, "Hair": 2.0, "Age": 35.5}
    assert parse_assignments(["Hair=4"], labels) == {"Hair": 4.0}
    for text, message in (("Hair=purple", "one of black, brown"), ("Hair=7", "one of"), ("Age=old", "finite number"),
                          ("Age=nan", "finite number"), ("Smiling=2", "0 or 1"), ("Height=3", "unknown label")):
        with pytest.raises(LabelError, match=message):
            parse_assignments([text], labels)


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mixed")
    data = cached_synthfaces(folder, 240, size=16, variant="mixed")
    result = run("fit", "--dataset", data, "--labels", ",".join(NAMES), "--out", folder / "run", "--device", "cpu",
                 "--continuous-prior-scale", "0.2", *FAST)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Age R^2" in result.output
    return data, folder / "run"


def test_a_mixed_run_records_kinds_and_priors(mixed_run):
    data, run_dir = mixed_run
    config = json.loads((run_dir / "config.json").read_text())["model"]
    assert config["label_kinds"] == KINDS and config["label_classes"] == {"Hair": list(HAIR_CLASSES)}
    assert config["continuous_prior_scale"] == 0.2 and load_model(run_dir).label_groups[2].prior_scale == 0.2
    dataset = read_dataset(data)
    train = dataset.split == 0
    labelled = config["label_priors"]
    assert len(labelled[1]) == 5 and abs(sum(labelled[1]) - 1) < 1e-6
    ages = dataset.labels[train, dataset.label_names.index("Age")]
    assert min(ages) < labelled[2][0] < max(ages) and 0 < labelled[2][1] < np.std(ages) * 2


def test_evaluate_reports_accuracy_and_regression(mixed_run):
    data, run_dir = mixed_run
    result = run("evaluate", "--run", run_dir, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report["per_label"]) == {"Smiling", "Hair"} and set(report["regression"]) == {"Age"}
    dataset = read_dataset(data).select_labels(NAMES)
    test = dataset.split == 2
    import torch

    with torch.no_grad():
        predicted = load_model(run_dir).predict(torch.from_numpy(dataset.images[test]).float() / 255).numpy()
    truth = dataset.labels[test]
    assert report["per_label"]["Hair"] == pytest.approx(np.mean(predicted[:, 1] == truth[:, 1]), abs=1e-6)
    assert report["regression"]["Age"]["mae"] == pytest.approx(np.mean(np.abs(predicted[:, 2] - truth[:, 2])), rel=1e-4)
    table = run("evaluate", "--run", run_dir)
    assert "Age" in table.output and "MAE" in table.output and "R^2" in table.output


def test_sample_with_labels_of_every_kind_and_sweeps(mixed_run, tmp_path):
    _, run_dir = mixed_run
    out = tmp_path / "s.png"
    result = run("sample", "--run", run_dir, "--label", "Hair=blond", "--label", "Age=35", "--num", "4", "--out", out)
    assert result.exit_code == 0, result.output
    for sweep, columns in (("Age=20:80", 5), ("Hair", 5), ("Smiling", 2)):
        result = run("sample", "--run", run_dir, "--sweep", sweep, "--steps", "5", "--num", "3", "--out", out)
        assert result.exit_code == 0, result.output
        width, height = Image.open(out).size
        assert round(width / (16 + 1)) == columns and round(height / (16 + 1)) == 3, sweep
    assert "Age = 20, 35, 50, 65, 80" in run("sample", "--run", run_dir, "--sweep", "Age=20:80", "--steps", "5",
                                              "--num", "1", "--out", out).output  # fmt: skip
    for args, message in ((["--label", "Hair=purple"], "Hair is categorical"), (["--sweep", "Hair=1:2"], "without a range"),
                          (["--sweep", "Age=20"], "LOW:HIGH"), (["--sweep", "Weight"], "unknown label")):
        result = run("sample", "--run", run_dir, *args, "--out", out)
        assert result.exit_code != 0 and message in result.output, (args, result.output)


def test_sweep_values_follow_the_prior(mixed_run):
    config = load_model(mixed_run[1]).config
    name, values = parse_sweep("Age", config.labels, 3)
    mean, std = config.label_priors[2]
    assert name == "Age" and values == pytest.approx([mean - 2 * std, mean, mean + 2 * std])
    assert parse_sweep("Hair", config.labels)[1] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_manipulations_take_every_kind(mixed_run, tmp_path):
    _, run_dir = mixed_run
    for command, extra in (("intervene", ["--label", "Hair=red", "--label", "Age=70"]), ("intervene", []),
                           ("traverse", ["--label", "Age"]), ("traverse", ["--label", "Hair"]),
                           ("diversity", ["--label", "Age=60"])):  # fmt: skip
        result = run(command, "--run", run_dir, "--out", tmp_path / f"{command}.png", *extra)
        assert result.exit_code == 0, (command, extra, result.output)


def test_baselines_refuse_non_binary_labels(mixed_run, tmp_path):
    data, _ = mixed_run
    result = run("fit", "--model", "m2", "--dataset", data, "--labels", "Smiling,Hair", "--out", tmp_path / "m2", *FAST[:4])
    assert result.exit_code != 0 and "binary labels only" in result.output and "Hair (categorical)" in result.output
    result = run("fit", "--model", "m2", "--dataset", data, "--continuous-prior-scale", "0.2", "--out", tmp_path / "m2")
    assert result.exit_code == 2 and "ccvae only" in result.output


def test_label_values_that_do_not_fit_their_kind_are_named(mixed_run, tmp_path):
    dataset = read_dataset(mixed_run[0])
    hair = dataset.label_names.index("Hair")
    dataset.labels[3, hair] = 7.0
    with pytest.raises(Exception, match="label Hair \\(categorical\\) holds the value 7"):
        check_label_values(dataset)
    path = tmp_path / "bad.h5"
    write_dataset(path, dataset)
    result = run("fit", "--dataset", path, "--out", tmp_path / "r", *FAST)
    assert result.exit_code != 0 and "Hair (categorical) holds the value 7" in result.output


def test_a_single_categorical_label_gets_a_z_c_of_its_class_count(tmp_path):
    digits = make_labels(["digit"], ["categorical"], {"digit": list("0123456789")})
    assert default_z_c_block(digits) == 10
    mixed = make_labels(["a", "hair"], ["binary", "categorical"], {"hair": list("abcde")})
    assert default_z_c_block(mixed) == 1 and default_z_c_block(mixed[:1]) == 1
    data = cached_synthfaces(tmp_path, 120, size=16, variant="mixed")
    result = run("fit", "--dataset", data, "--labels", "Hair", "--out", tmp_path / "run", *FAST[:8])
    assert result.exit_code == 0, result.output
    assert load_model(tmp_path / "run").config.z_c_block == 5


def test_mnist_trains_as_one_ten_way_label(tmp_path):
    """`fit --sup 0.06` on a file made by `prepare_mnist` from idx files in MNIST's layout
    (random pixels here: no MNIST can be downloaded), then evaluate."""
    from pyro_ccvae.datasets.idx import prepare_mnist

    from .test_datasets_real import make_idx_folder

    make_idx_folder(tmp_path / "torch" / "MNIST" / "raw", 200, 40, gz=True)
    path = prepare_mnist(tmp_path / "torch", tmp_path / "mnist.h5", valid_fraction=0.2)
    result = run("fit", "--dataset", path, "--sup", "0.06", "--out", tmp_path / "run", *FAST[:8])
    assert result.exit_code == 0, result.output
    model = load_model(tmp_path / "run")
    assert model.config.label_kinds == ["categorical"] and model.config.z_c_block == 10
    report = json.loads(run("evaluate", "--run", tmp_path / "run", "--json").output)
    assert set(report["per_label"]) == {"digit"} and 0 <= report["accuracy"] <= 1 and report["test_images"] == 40
    assert run("sample", "--run", tmp_path / "run", "--label", "digit=7", "--num", "2", "--out", tmp_path / "s.png").exit_code == 0
