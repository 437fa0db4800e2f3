"""Interventions, traversals, swaps and diversity (pyro_ccvae.manipulate) and their commands:
what reaches the decoder, where traversals go, what draws are drawn from, and the PNGs."""

import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from pyro_ccvae.analysis.grids import grid_rows, headed_grid
from pyro_ccvae.analysis.manipulate import (
    diversity,
    diversity_latents,
    flip_each_label,
    intervene,
    intervene_latents,
    pixel_variance,
    reconstruct,
    swap,
    swap_latents,
    traversal_points,
    traverse,
    traverse_latents,
)
from pyro_ccvae.core.model import CCVAE, CCVAEConfig
from pyro_ccvae.errors import LabelError
from pyro_ccvae_cli.main import cli

from .helpers import loc_scale, tiny_synthfaces


class DecoderSpy:
    """Replaces model.decode, recording the codes it is given."""

    def __init__(self, model):
        self.decode, self.calls = model.decode, []
        model.decode = self

    def __call__(self, z_c, z_s):
        self.calls.append((z_c.detach().clone(), z_s.detach().clone()))
        return self.decode(z_c, z_s)


def prior(model, index, value):
    loc, scale = loc_scale(model.conditional_prior(torch.full((1, model.config.num_labels), float(value))))
    return loc[0, index].detach(), scale[0, index].detach()


# Interventions ------------------------------------------------------------------------------


def test_intervention_changes_only_the_chosen_block(tiny_model, tiny_batch):
    x = tiny_batch[0]
    spy = DecoderSpy(tiny_model)
    z_c, z_s = tiny_model.encode(x)
    images = intervene(tiny_model, x, {"b": 1}, generator=torch.Generator().manual_seed(0))
    (new_c, new_s), = spy.calls
    assert images.shape == x.shape
    assert torch.equal(new_s, z_s.detach())
    keep = [0, 2]
    assert torch.equal(new_c[:, keep], z_c[:, keep].detach())
    assert not torch.isclose(new_c[:, 1], z_c[:, 1]).any()


def test_intervention_with_the_mean_sets_the_block_to_the_prior_mean(tiny_model, tiny_batch):
    x = tiny_batch[0]
    z_c, _ = tiny_model.encode(x)
    per_image = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    out = intervene_latents(tiny_model, z_c, {0: per_image, 2: 1.0}, use_mean=True)
    for n, value in enumerate(per_image):
        assert torch.allclose(out[n, 0], prior(tiny_model, 0, value)[0])
    assert torch.allclose(out[:, 2], prior(tiny_model, 2, 1)[0].expand(6, -1))
    assert torch.equal(out[:, 1], z_c[:, 1])


def test_intervention_draws_come_from_the_conditional_prior(tiny_model):
    z_c = torch.zeros(20000, 3, 2)
    out = intervene_latents(tiny_model, z_c, {1: 0.0}, generator=torch.Generator().manual_seed(3))
    loc, scale = prior(tiny_model, 1, 0)
    assert torch.allclose(out[:, 1].mean(0), loc, atol=0.03)
    assert torch.allclose(out[:, 1].std(0), scale, rtol=0.03)
    same = intervene_latents(tiny_model, z_c, {1: 0.0}, generator=torch.Generator().manual_seed(3))
    assert torch.equal(same, out)  # reproducible from the generator


def test_flip_each_label_switches_away_from_the_prediction(tiny_model, tiny_batch):
    x = tiny_batch[0]
    columns = flip_each_label(tiny_model, x, use_mean=True)
    assert columns.shape == (6, 3, 3, 8, 8)
    predicted = tiny_model.predict(x)
    expected = intervene(tiny_model, x, {"c": 1 - predicted[:, 2]}, use_mean=True)
    assert torch.allclose(columns[:, 2], expected)


def test_unknown_labels_and_values_are_label_errors(tiny_model, tiny_batch):
    with pytest.raises(LabelError, match="unknown label 'z'; valid labels: a, b, c"):
        intervene(tiny_model, tiny_batch[0], {"z": 1})
    with pytest.raises(LabelError, match="must be 0 or 1"):
        intervene(tiny_model, tiny_batch[0], {"a": 2})
    with pytest.raises(LabelError):
        traverse(tiny_model, tiny_batch[0], ["a", "a"])


def test_device_and_dtype_follow_the_inputs(tiny_model, tiny_batch):
    model, x = tiny_model.double(), tiny_batch[0].double()
    assert intervene(model, x, {"a": 1}).dtype == torch.float64
    assert traverse(model, x[:1], ["a"], steps=3).dtype == torch.float64
    assert diversity(model, x[0], "b", 1.0, num=3).dtype == torch.float64


# Traversals ---------------------------------------------------------------------------------


def test_traversal_goes_from_below_class_0_to_above_class_1_for_one_dim_blocks():
    model = CCVAE(CCVAEConfig(label_names=["a", "b"], label_priors=[0.5, 0.5], image_shape=(3, 8, 8), z_s_dim=2))
    with torch.no_grad():
        model.label_groups[0].characteristics.loc.copy_(torch.tensor([[[-1.0], [3.0]], [[0.5], [-2.0]]]))
    points = traversal_points(model, 0, steps=5)
    (loc0, sd0), (loc1, sd1) = prior(model, 0, 0), prior(model, 0, 1)
    assert points[0].item() == pytest.approx((loc0 - 2 * sd0).item(), abs=1e-6)
    assert points[-1].item() == pytest.approx((loc1 + 2 * sd1).item(), abs=1e-6)
    assert (points.diff(dim=0) > 0).all() and torch.allclose(points.diff(dim=0), points.diff(dim=0)[0])
    # Label b has mu_1 < mu_0: the traversal still starts on the y=0 side and ends beyond mu_1.
    points_b = traversal_points(model, 1, steps=5)
    assert points_b[0].item() > 0.5 and points_b[-1].item() < -2.0


def test_traversal_with_blocks_of_two_runs_along_the_line_between_the_means(tiny_model):
    points = traversal_points(tiny_model, 1, steps=9, span=1.5)
    (loc0, sd0), (loc1, sd1) = prior(tiny_model, 1, 0), prior(tiny_model, 1, 1)
    unit = (loc1 - loc0) / (loc1 - loc0).norm()
    along = (points - loc0) @ unit
    off_line = (points - loc0) - along[:, None] * unit
    assert off_line.abs().max() < 1e-5
    assert (along.diff() > 0).all()
    assert along[0].item() == pytest.approx(-1.5 * (unit**2 @ sd0**2).sqrt().item(), abs=1e-5)
    assert along[-1].item() == pytest.approx(((loc1 - loc0).norm() + 1.5 * (unit**2 @ sd1**2).sqrt()).item(), abs=1e-5)


def test_traverse_latents_moves_only_the_traversed_blocks(tiny_model, tiny_batch):
    z_c, _ = tiny_model.encode(tiny_batch[0][:2])
    grid = traverse_latents(tiny_model, z_c.detach(), [2, 0], steps=4)
    assert grid.shape == (2, 4, 4, 3, 2)
    assert torch.equal(grid[:, :, :, 1], z_c[:, None, None, 1].detach().expand(2, 4, 4, 2))
    assert torch.allclose(grid[0, :, 0, 2], traversal_points(tiny_model, 2, 4))  # rows: first label
    assert torch.allclose(grid[0, 0, :, 0], traversal_points(tiny_model, 0, 4))  # columns: second


def test_traverse_decodes_each_point_with_the_image_z_s(tiny_model, tiny_batch):
    x = tiny_batch[0][:2]
    spy = DecoderSpy(tiny_model)
    images = traverse(tiny_model, x, ["b"], steps=5)
    assert images.shape == (2, 5, 3, 8, 8)
    (codes_c, codes_s), = spy.calls
    _, z_s = tiny_model.encode(x)
    assert torch.equal(codes_s, z_s.detach().repeat_interleave(5, dim=0))
    assert torch.allclose(codes_c[:5, 1], traversal_points(tiny_model, 1, 5))
    assert traverse(tiny_model, x[:1], ["a", "c"], steps=3).shape == (1, 3, 3, 3, 8, 8)


# Swaps -----------------------------------------------------------------------------------------


def test_swap_keeps_z_c_of_the_source_and_z_s_of_the_target(tiny_model, tiny_batch):
    x = tiny_batch[0]
    sources, targets = x[:2], x[2:5]
    spy = DecoderSpy(tiny_model)
    cells = swap(tiny_model, sources, targets)
    assert cells.shape == (2, 3, 3, 8, 8)
    (codes_c, codes_s), = spy.calls
    z_c, _ = tiny_model.encode(sources)
    _, z_s = tiny_model.encode(targets)
    codes_c, codes_s = codes_c.unflatten(0, (2, 3)), codes_s.unflatten(0, (2, 3))
    for r in range(2):
        for k in range(3):
            assert torch.allclose(codes_c[r, k], z_c[r])
            assert torch.allclose(codes_s[r, k], z_s[k])


def test_swapping_an_image_with_itself_is_its_reconstruction(tiny_model, tiny_batch):
    x = tiny_batch[0][:3]
    cells = swap(tiny_model, x, x)
    assert torch.allclose(torch.stack([cells[i, i] for i in range(3)]), reconstruct(tiny_model, x), atol=1e-6)
    c, s = swap_latents(torch.zeros(2, 3, 2), torch.ones(4, 5))
    assert c.shape == (2, 4, 3, 2) and s.shape == (2, 4, 5)


# Diversity --------------------------------------------------------------------------------------


def test_diversity_draws_come_from_the_conditional_prior(tiny_model):
    z_c = torch.randn(3, 2)
    draws = diversity_latents(tiny_model, z_c, 2, 1.0, 20000, torch.Generator().manual_seed(5))
    loc, scale = prior(tiny_model, 2, 1)
    assert torch.allclose(draws[:, 2].mean(0), loc, atol=0.03)
    assert torch.allclose(draws[:, 2].std(0), scale, rtol=0.03)
    assert torch.equal(draws[:, :2], z_c[:2].expand(20000, 2, 2))


def test_diversity_keeps_the_other_latents_and_uses_the_prediction_by_default(tiny_model, tiny_batch):
    x = tiny_batch[0][3]
    spy = DecoderSpy(tiny_model)
    samples = diversity(tiny_model, x, "a", num=7, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (7, 3, 8, 8)
    (codes_c, codes_s), = spy.calls
    z_c, z_s = tiny_model.encode(x[None])
    assert torch.equal(codes_s, z_s.detach().expand(7, -1)) and torch.equal(codes_c[:, 1:], z_c[:, 1:].detach().expand(7, 2, 2))
    predicted = float(tiny_model.predict(x[None])[0, 0])
    again = diversity_latents(tiny_model, z_c[0].detach(), 0, predicted, 7, torch.Generator().manual_seed(0))
    assert torch.allclose(codes_c, again)


def test_pixel_variance_is_the_variance_over_draws_summed_over_channels():
    samples = torch.rand(10, 3, 4, 4, dtype=torch.float64)
    expected = ((samples - samples.mean(0)) ** 2).mean(0).sum(0)
    assert torch.allclose(pixel_variance(samples), expected)


# Grids -----------------------------------------------------------------------------------------


def test_grids_lay_images_out_row_by_row():
    a, b = torch.zeros(2, 1, 2, 2), torch.ones(2, 3, 1, 2, 2)
    rows = grid_rows([a, b])
    assert rows.shape == (8, 1, 2, 2) and rows[0].sum() == 0 and rows[1:4].min() == 1 and rows[4].sum() == 0
    cells = torch.full((2, 3, 1, 2, 2), 0.5)
    flat = headed_grid(cells, torch.zeros(2, 1, 2, 2), torch.full((3, 1, 2, 2), 0.25))
    assert flat.shape == (12, 1, 2, 2)
    assert flat[0].min() == 1  # white corner
    assert (flat[1:4] == 0.25).all() and (flat[4] == 0).all() and (flat[5:8] == 0.5).all()


# The commands ------------------------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("manipulate")
    data = tiny_synthfaces(folder, 100, 16)
    result = run("fit", "--dataset", data, "--out", folder / "run", "--device", "cpu", "--epochs", "1",
                 "--batch-size", "32", "--classifier-samples", "4", "--z-s-dim", "4")
    assert result.exit_code == 0, result.output
    return folder / "run"


def size(path):
    return Image.open(path).size


def cells(n):  # pixels of n 16x16 images in a row, with save_grid's 1-pixel padding
    return n * 17 + 1


def test_intervene_writes_originals_reconstructions_and_interventions(trained_run, tmp_path):
    out = tmp_path / "i.png"
    result = run("intervene", "--run", trained_run, "--indices", "0,2", "--out", out, "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert size(out) == (cells(2 + 9), cells(2))  # original, reconstruction, one column per label
    result = run("intervene", "--run", trained_run, "--index", "1", "--label", "Smiling=1", "--label", "Bangs=0",
                 "--num", "3", "--out", out)
    assert result.exit_code == 0, result.output
    assert size(out) == (cells(5), cells(1))


def test_traverse_writes_a_row_per_image_or_a_2d_grid(trained_run, tmp_path):
    out = tmp_path / "t.png"
    result = run("traverse", "--run", trained_run, "--label", "Smiling", "--indices", "0,1,2", "--steps", "6", "--out", out)
    assert result.exit_code == 0, result.output
    assert size(out) == (cells(6), cells(3))
    result = run("traverse", "--run", trained_run, "--label", "Smiling", "--label", "Wearing_Hat", "--steps", "4", "--out", out)
    assert result.exit_code == 0, result.output
    assert size(out) == (cells(4), cells(4))


def test_swap_writes_a_grid_with_header_row_and_column(trained_run, tmp_path):
    out = tmp_path / "s.png"
    result = run("swap", "--run", trained_run, "--indices", "0,1", "--targets", "2,3,4", "--out", out)
    assert result.exit_code == 0, result.output
    assert size(out) == (cells(4), cells(3))


def test_diversity_writes_a_figure(trained_run, tmp_path):
    out = tmp_path / "d.png"
    result = run("diversity", "--run", trained_run, "--label", "Eyeglasses=1", "--num", "9", "--out", out)
    assert result.exit_code == 0, result.output
    assert size(out)[0] > 400
    assert run("diversity", "--run", trained_run, "--label", "Eyeglasses", "--out", out).exit_code == 0


@pytest.mark.parametrize(
    "args, message, code",
    [
        (["intervene", "--label", "Smile=1"], "unknown label 'Smile'; valid labels: Smiling", 2),
        (["intervene", "--label", "Smiling=2"], "must be 0 or 1", 2),
        (["intervene", "--indices", "0,99"], "image 99 is out of range: the test split has 10 images", 2),
        (["intervene", "--indices", "a,b"], "comma-separated image numbers", 2),
        (["traverse", "--label", "Nope"], "unknown label 'Nope'", 2),
        (["traverse", "--label", "Smiling", "--label", "Bangs", "--indices", "0,1"], "a 2-D traversal takes one image", 2),
        (["traverse", "--label", "Smiling", "--label", "Bangs", "--label", "Mustache"], "one label, or two different labels", 2),
        (["swap", "--targets", "-1"], "image -1 is out of range", 2),
        (["diversity", "--label", "Nope=1"], "unknown label 'Nope'", 2),
        (["diversity", "--label", "Smiling", "--indices", "0,1"], "diversity takes one image", 2),
        (["intervene", "--split", "valid", "--index", "10"], "the valid split has 10 images", 2),
        (["swap", "--dataset", "{tmp}/missing.h5"], "no data file at", 1),
        (["swap", "--dataset", "{small}"], "was trained on 3x16x16 images but", 2),
        (["swap", "--run", "{tmp}/missing"], "is not a run folder", 1),
    ],
)
def test_command_errors_are_one_line(trained_run, tmp_path, args, message, code):
    small = tiny_synthfaces(tmp_path, 20, 8) if "{small}" in args else None
    args = [a.format(tmp=tmp_path, small=small) for a in args]
    if "--run" not in args:
        args[1:1] = ["--run", str(trained_run)]
    if args[0] in ("traverse", "diversity") and "--label" not in args:
        args += ["--label", "Smiling"]
    result = run(*args, "--out", tmp_path / "x.png")
    assert result.exit_code == code, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("Error")]) == 1
    assert not (tmp_path / "x.png").exists()
