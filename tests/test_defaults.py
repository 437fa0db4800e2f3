"""Settings by data set: the paper's for CelebA and CheXpert (recognised by the name stored in
the file), quick CPU ones otherwise; what the user gives wins, and the run records both."""

import dataclasses
import json

import pytest
from click.testing import CliRunner

from pyro_ccvae.datasets import read_dataset, write_dataset
from pyro_ccvae.training.defaults import PAPER, QUICK, settings_for
from pyro_ccvae_cli.main import cli

from .helpers import tiny_synthfaces


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    synthfaces = tiny_synthfaces(folder, 120, 16)
    data = read_dataset(synthfaces)
    named = {}
    for name in ("celeba", "chexpert"):  # the same pictures, stored under a real data set's name
        named[name] = folder / f"my-{name}-copy.h5"
        write_dataset(named[name], dataclasses.replace(data, name=name))
    return {"synthfaces": synthfaces, **named}


@pytest.mark.parametrize("name, defaults", [("synthfaces", QUICK), ("celeba", PAPER), ("chexpert", PAPER)])
def test_each_data_set_gets_its_defaults_and_given_values_win(files, name, defaults):
    config = settings_for(str(files[name]), None, lr=None, epochs=None, batch_size=None)
    assert (config.epochs, config.batch_size, config.lr) == (defaults.epochs, defaults.batch_size, defaults.lr)
    assert config.defaults == f"{defaults.name} ({name})"
    given = settings_for(str(files[name]), None, lr=0.01, epochs=3, batch_size=None, sup_fraction=0.06)
    assert (given.epochs, given.batch_size, given.lr, given.sup_fraction) == (3, defaults.batch_size, 0.01, 0.06)


def test_the_paper_settings_are_the_papers():
    assert (PAPER.lr, PAPER.epochs, PAPER.batch_size) == (2e-4, 100, 200)  # App. C.3; DESIGN.md's batch ~200


def test_fit_records_the_settings_and_which_defaults_applied(files, tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["fit", "--dataset", str(files["celeba"]), "--epochs", "1", "--z-s-dim", "4",
                                      "--classifier-samples", "4", "--device", "cpu", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "config.json").read_text())
    train, model = saved["train"], saved["model"]
    assert (train["epochs"], train["batch_size"], train["lr"], train["defaults"]) == (1, 200, 2e-4, "paper (celeba)")
    assert model["z_c_block"] == 1 and model["z_s_dim"] == 4  # m_c = one dimension per label; m_\c as given
    help_text = " ".join(CliRunner().invoke(cli, ["fit", "--help"]).output.split())
    assert "celeba, chexpert: 0.0002" in help_text and "celeba, chexpert: 100" in help_text
