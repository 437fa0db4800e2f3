"""The notebooks run from top to bottom, in a temporary working folder, without touching the repo."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def executed(path: Path, folder: Path):
    """The notebook at `path` run from top to bottom in `folder`; fails on any cell's error."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    client.execute()
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    return notebook


def test_the_tour_runs_and_writes_every_figure(tmp_path):
    before = sorted(p.name for p in NOTEBOOKS.iterdir())
    notebook = executed(NOTEBOOKS / "tour.ipynb", tmp_path)
    written = {p.name for p in (tmp_path / "tour").iterdir()}
    assert written >= {"intervene.png", "traverse.png", "traverse_2d.png", "swap.png", "diversity_Blond_Hair.png",
                       "intervention_matrix.png"}
    assert (tmp_path / "run" / "config.json").is_file() and (tmp_path / "oracle" / "oracle.json").is_file()
    shown = sum(1 for cell in notebook.cells for o in cell.get("outputs", []) if "image/png" in o.get("data", {}))
    assert shown >= 8
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == before


def test_the_latent_analysis_runs_and_shows_each_analysis(tmp_path):
    before = sorted(p.name for p in NOTEBOOKS.iterdir())
    notebook = executed(NOTEBOOKS / "latent_analysis.ipynb", tmp_path)
    written = {p.name for p in (tmp_path / "latent_analysis").iterdir()}
    assert written >= {"probe.png", "correlations.png", "traverse_dimension.png", "traverse_direction.png",
                       "direction_effects.png", "frankenstein.png", "interpolate.png"}
    shown = sum(1 for cell in notebook.cells for o in cell.get("outputs", []) if "image/png" in o.get("data", {}))
    assert shown >= 7
    text = "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))
    assert "Eyeglasses=1, Pale_Skin=0 (rare)" in text and "{'beta': 0.05}" in text
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == before
