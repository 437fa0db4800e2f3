"""The model program, the data path and p(y)."""

import numpy as np
import pyro
import pytest
import torch
from pyro import poutine

from pyro_ccvae.analysis.generate import conditional_samples
from pyro_ccvae.core.assignments import assignment_tensors, parse_assignments
from pyro_ccvae.core.kinds import make_labels
from pyro_ccvae.datasets import read_dataset
from pyro_ccvae.datasets.tensors import LabelledImages, image_storage, labelled_subset, split_tensors
from pyro_ccvae.errors import LabelError
from pyro_ccvae.training.build import new_model, prepare_data
from pyro_ccvae.training.config import ModelOptions, TrainConfig

from .helpers import tiny_synthfaces


def test_prior_over_labels_is_the_labelled_frequency(tmp_path):
    data = read_dataset(tiny_synthfaces(tmp_path, 400))
    config = TrainConfig(dataset="unused", sup_fraction=0.3, seed=7)
    prepared = prepare_data(data, config, torch.device("cpu"))
    model = new_model(prepared, ModelOptions(), {})
    train_labels = data.labels[data.split == 0]
    keep = labelled_subset(len(train_labels), 0.3, 7)
    expected = train_labels[keep].mean(0)
    np.testing.assert_allclose(model.label_groups[0].probs.numpy(), expected, rtol=1e-6)
    # not the reference code's sigmoid(frequency)
    assert not np.allclose(model.label_groups[0].probs.numpy(), 1 / (1 + np.exp(-expected)), atol=0.05)
    # the hidden rows really are hidden, the kept ones observed
    assert prepared.train.mask.sum(0).tolist() == [len(keep)] * len(data.label_names)
    assert prepared.train.mask[torch.from_numpy(keep)].all()


def test_labelled_subset_is_reproducible_and_sized():
    a = labelled_subset(1000, 0.2, seed=3)
    assert np.array_equal(a, labelled_subset(1000, 0.2, seed=3))
    assert not np.array_equal(a, labelled_subset(1000, 0.2, seed=4))
    assert len(a) == 200 and len(np.unique(a)) == 200
    assert len(labelled_subset(1000, 1.0, seed=3)) == 1000
    with pytest.raises(ValueError):
        labelled_subset(1000, 0.0, seed=3)


def test_missing_labels_become_masked_zeros(tmp_path):
    data = read_dataset(tiny_synthfaces(tmp_path, 100))
    data.labels[data.split == 2][:, 0] = np.nan  # a copy: no effect
    labels = data.labels.copy()
    test_rows = np.flatnonzero(data.split == 2)
    labels[test_rows[:3], 1] = np.nan
    object.__setattr__(data, "labels", labels)
    test = split_tensors(data, "test", torch.device("cpu"))
    assert not torch.isnan(test.labels).any()
    assert test.mask[:3, 1].logical_not().all() and test.mask[3:, 1].all()
    assert (test.labels[:3, 1] == 0).all()


def test_batches_are_floats_in_unit_range_and_cover_every_row(tmp_path):
    data = read_dataset(tiny_synthfaces(tmp_path, 100))
    train = split_tensors(data, "train", torch.device("cpu"))
    seen = 0
    for x, y, mask in train.batches(32, torch.Generator().manual_seed(0), shuffle=True):
        assert x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
        seen += x.shape[0]
    assert seen == len(train)
    x, _, _ = next(train.batches(len(train)))
    torch.testing.assert_close(x, torch.from_numpy(data.images[data.split == 0]).float() / 255)


def test_unobserved_labels_are_drawn_from_the_prior(tiny_model):
    n = 4000
    y, mask = assignment_tensors({"a": 1.0}, tiny_model.config.label_names, n)
    trace = poutine.trace(tiny_model.model).get_trace(None, y, mask)
    drawn = trace.nodes["y"]["value"]
    assert (drawn[:, 0] == 1).all()
    freq = drawn[:, 1:].mean(0)
    torch.testing.assert_close(freq, tiny_model.label_groups[0].probs[1:], atol=0.03, rtol=0)


def test_fixed_labels_choose_their_conditional_prior(tiny_model):
    with torch.no_grad():
        tiny_model.label_groups[0].characteristics.loc[0, 0] = -5.0
        tiny_model.label_groups[0].characteristics.loc[0, 1] = 5.0
    n = 2000
    for value, sign in ((1.0, 1), (0.0, -1)):
        y, mask = assignment_tensors({"a": value}, tiny_model.config.label_names, n)
        trace = poutine.trace(tiny_model.model).get_trace(None, y, mask)
        z_c = trace.nodes["z_c"]["value"]
        assert (z_c[:, 0].mean() * sign) > 4.5
    images = conditional_samples(tiny_model, y, mask)
    assert images.shape == (n, 3, 8, 8) and 0 <= images.min() and images.max() <= 1


def test_model_and_guide_pass_pyro_validation(tiny_model, tiny_batch):
    x, y, mask = tiny_batch
    with pyro.validation_enabled(True):
        guide_trace = poutine.trace(tiny_model.guide).get_trace(x, y, mask)
        model_trace = poutine.trace(poutine.replay(tiny_model.model, trace=guide_trace)).get_trace(x, y, mask)
        model_trace.compute_log_prob()
        guide_trace.compute_log_prob()
    assert model_trace.nodes["x"]["log_prob"].shape == (6, 1)
    assert guide_trace.nodes["y_unobserved"]["value"].shape == (6, 3)


def test_parse_assignments():
    names = make_labels(["Smiling", "Male"], ["binary", "binary"], {})
    assert parse_assignments(["Smiling=1", "Male=no"], names) == {"Smiling": 1.0, "Male": 0.0}
    with pytest.raises(LabelError, match="valid labels: Smiling, Male"):
        parse_assignments(["Smile=1"], names)
    with pytest.raises(LabelError, match="0 or 1"):
        parse_assignments(["Smiling=2"], names)
    with pytest.raises(LabelError, match="NAME=VALUE"):
        parse_assignments(["Smiling"], names)
    with pytest.raises(LabelError, match="Smiling is given twice"):
        parse_assignments(["Smiling=1", "Smiling=0"], names)


def test_images_that_do_not_fit_the_gpu_stay_in_host_memory(monkeypatch):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (1000, 8000))
    assert image_storage(400, torch.device("cuda")) == torch.device("cuda")
    assert image_storage(600, torch.device("cuda")) == torch.device("cpu")
    assert image_storage(10**12, torch.device("cpu")) == torch.device("cpu")


def test_batches_come_to_the_device_of_the_labels():
    images = torch.arange(4 * 3 * 8 * 8, dtype=torch.int64).remainder(256).to(torch.uint8).view(4, 3, 8, 8)
    data = LabelledImages(images, torch.eye(4)[:, :2], torch.ones(4, 2, dtype=torch.bool))
    x, y, mask = data.batch(torch.tensor([2, 0]))
    torch.testing.assert_close(x, images[[2, 0]].float() / 255)
    torch.testing.assert_close(y, torch.eye(4)[[2, 0], :2])
    assert x.device == data.device
