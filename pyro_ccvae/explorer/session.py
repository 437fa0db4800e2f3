"""The explorer's state and work: a trained model, the test images of its run, the uploads, and
what the page asks of them. Every picture comes from the library's own functions
(`analysis.manipulate`, `analysis.generate`), the controls from the labels (controls.py).

An image is named by a *source*, a short string the page sends back: "test:N" (image N of the
run's test split), "prior:SEED" (a draw from the model's prior, labels from p(y), by `SEED`)
or "upload:N" (the N-th image uploaded, kept in memory: nothing is written to disk). Settings
are {label name: setting} for the controls the user has moved; a label left out keeps the
image's own z_c^i.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
from collections import OrderedDict
from typing import Mapping

import numpy as np
import torch

from ..analysis.generate import conditional_samples
from ..analysis.manipulate import diversity, label_index, pixel_variance, swap
from ..core.assignments import assignment_tensors, find_label
from ..datasets.tensors import unit_pixels
from ..devices import model_device
from ..errors import InvalidRequest
from ..training.registry import require
from ..training.runs import load_model, load_run_data
from .beliefs import label_beliefs
from .controls import Control, control_for, number, words
from .pictures import data_url, read_upload, variance_picture

SOURCE = re.compile(r"(test|prior|upload):(\d{1,9})")
KEPT_UPLOADS = 32  # uploads held at once; the oldest is forgotten first
KEPT_ENCODINGS = 64  # encodings q(z | x) of recent sources, so that moving a control only decodes
MAX_DRAWS = 36  # draws of a diversity panel


class Explorer:
    """What the page can ask of `model` (a CCVAE or DIVA: a model with characteristic latents)
    with `images`, uint8 [N, C, S, S], the run's test split, and `labels` [N, L] their labels
    (NaN: unknown; None: not known at all). Thread-safe: one request computes at a time."""

    def __init__(self, model, images: torch.Tensor, labels: np.ndarray | None = None, name: str = ""):
        require(model, "traverse")  # NotSupported for a model without per-label z_c^i (M2, MVAE)
        self.model, self.images, self.labels, self.name = model.eval(), images, labels, name
        with torch.no_grad():
            self.controls: dict[str, Control] = {
                label.name: control_for(model, i) for i, label in enumerate(model.config.labels)
            }
        self.uploads: OrderedDict[int, torch.Tensor] = OrderedDict()
        self.encodings: OrderedDict[str, tuple] = OrderedDict()
        self.upload_ids = itertools.count()
        self.lock = threading.Lock()

    @classmethod
    def from_run(cls, run_dir: str | os.PathLike, device="cpu", dataset: str | os.PathLike | None = None) -> "Explorer":
        """The explorer of a run folder, with the test split of its data file (or `dataset`)."""
        model = load_model(run_dir, device)
        data = load_run_data(run_dir, model, dataset)
        rows = data.split_indices("test")
        images = torch.from_numpy(np.ascontiguousarray(data.images[rows]))
        return cls(model, images, data.labels[rows], name=os.path.basename(os.path.normpath(run_dir)))

    @property
    def device(self) -> torch.device:
        return model_device(self.model)

    # What the page draws ---------------------------------------------------------------------

    def info(self) -> dict:
        """The run, its image shape, how many test images, and one control per label."""
        return {
            "run": self.name,
            "model": type(self.model).__name__,
            "image_shape": list(self.model.config.image_shape),
            "test_images": int(self.images.shape[0]),
            "labels": [control.describe() for control in self.controls.values()],
            "max_draws": MAX_DRAWS,
        }

    # Images by source ------------------------------------------------------------------------

    def image(self, source: str) -> torch.Tensor:
        """The image named by `source`, floats in [0, 1] [C, S, S] on the model's device;
        InvalidRequest for a malformed source, an index out of range, or a forgotten upload."""
        match = SOURCE.fullmatch(source) if isinstance(source, str) else None
        if match is None:
            raise InvalidRequest(f"an image is named test:N, prior:SEED or upload:N, got {source!r}")
        kind, number_ = match.group(1), int(match.group(2))
        if kind == "test":
            if number_ >= self.images.shape[0]:
                raise InvalidRequest(
                    f"image {number_} is out of range: the test split has {self.images.shape[0]} images"
                )
            return unit_pixels(self.images[number_].to(self.device))
        if kind == "prior":
            y, mask = assignment_tensors({}, self.model.config.label_names, 1, self.device)
            return conditional_samples(self.model, y, mask, torch.Generator().manual_seed(number_))[0]
        if number_ not in self.uploads:
            raise InvalidRequest(f"upload {number_} is not held (any more): upload the image again")
        return unit_pixels(self.uploads[number_].to(self.device))

    def upload(self, data: bytes) -> str:
        """Keeps an uploaded image file, cut as the run's data (pictures.read_upload); its source."""
        pixels = read_upload(data, tuple(self.model.config.image_shape))
        with self.lock:
            number_ = next(self.upload_ids)
            self.uploads[number_] = pixels
            while len(self.uploads) > KEPT_UPLOADS:
                forgotten, _ = self.uploads.popitem(last=False)
                self.encodings.pop(f"upload:{forgotten}", None)
        return f"upload:{number_}"

    def picture(self, source: str) -> torch.Tensor:
        """The image of `source` [C, S, S] (for the page's originals and thumbnails)."""
        with self.lock:
            return self.image(source)

    def _encoding(self, source: str) -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
        """(z_c [1, L, d], z_s [1, m_s], {label: the control's setting nearest to z_c}): the
        means of q(z | x) for the image of `source`."""
        if source not in self.encodings:
            z_c, z_s = self.model.encode(self.image(source).unsqueeze(0))
            encoded = {name: control.encoded(z_c) for name, control in self.controls.items()}
            self.encodings[source] = (z_c, z_s, encoded)
            while len(self.encodings) > KEPT_ENCODINGS:
                self.encodings.popitem(last=False)
        self.encodings.move_to_end(source)
        return self.encodings[source]

    # Manipulations ---------------------------------------------------------------------------

    def check_settings(self, settings) -> dict[str, float]:
        """{label name: setting} checked by each label's control (InvalidRequest if not)."""
        if not isinstance(settings, Mapping):
            raise InvalidRequest("settings are an object {label name: setting}")
        checked = {}
        for name, setting in settings.items():
            find_label(self.model.config.labels, name)  # LabelError naming the valid labels
            checked[name] = self.controls[name].check(setting)
        return checked

    @torch.no_grad()
    def render(self, source: str, settings: Mapping) -> dict:
        """The image of `source` with the controls in `settings` applied to its z_c, decoded:
        {"image": data URL, "beliefs": q(y_i | z_c^i) of the edited codes (beliefs.py),
        "encoded": each control's setting nearest to the image's own z_c^i, "data": the data
        set's labels of a test image (None: unknown)}."""
        settings = self.check_settings(settings)
        with self.lock:
            edited, z_s, encoded = self._encoding(source)
            for name, setting in settings.items():
                edited = self.controls[name].apply(edited, setting)
            image = self.model.decode(edited, z_s)[0]
            return {
                "image": data_url(image),
                "beliefs": label_beliefs(self.model, edited),
                "encoded": encoded,
                "data": self._data_labels(source),
                "captions": [self.controls[name].text(setting) for name, setting in settings.items()],
            }

    def _data_labels(self, source: str) -> dict[str, str | None] | None:
        kind, _, number_ = source.partition(":")
        if kind != "test" or self.labels is None:
            return None
        row = self.labels[int(number_)]
        return {
            label.name: None if np.isnan(value) else words(label, float(value))
            for label, value in zip(self.model.config.labels, row)
        }

    @torch.no_grad()
    def swap(self, source: str, other: str) -> dict:
        """Characteristic swaps (`analysis.manipulate.swap`) of two images: "source_on_other" is
        z_c of `source` decoded with z_\\c of `other`, "other_on_source" the reverse."""
        with self.lock:
            both = torch.stack([self.image(source), self.image(other)])
            cells = swap(self.model, both, both)  # [2, 2, C, S, S]: row keeps z_c, column z_\c
            return {"source_on_other": data_url(cells[0, 1]), "other_on_source": data_url(cells[1, 0])}

    @torch.no_grad()
    def diversity(self, source: str, label: str, value=None, num: int = 16, seed: int = 0) -> dict:
        """`num` draws of z_c^i ~ p_psi(z_c^i | y_i = value) for one image with everything else
        kept (`analysis.manipulate.diversity`; `value` None: the classifier's prediction), and
        their per-pixel variance as a picture."""
        if isinstance(num, bool) or not isinstance(num, int) or not 2 <= num <= MAX_DRAWS:
            raise InvalidRequest(f"the number of draws must be 2 to {MAX_DRAWS}, got {num!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
            raise InvalidRequest(f"the seed must be a whole number from 0 to 2^63 - 1, got {seed!r}")
        if not isinstance(label, str):
            raise InvalidRequest(f"name a label, got {label!r}")
        index = label_index(self.model, label)
        if value is not None:
            value = number(value, label)
            self.model.config.labels[index].check_values([value])
        with self.lock:
            x = self.image(source)
            if value is None:
                value = float(self.model.predict(x.unsqueeze(0))[0, index])
            samples = diversity(self.model, x, label, value, num, torch.Generator().manual_seed(seed))
            variance = pixel_variance(samples)
            return {
                "label": label,
                "value": value,
                "text": f"{label}={words(self.model.config.labels[index], value)}",
                "samples": [data_url(s) for s in samples],
                "variance": data_url(variance_picture(variance)),
                "max_variance": float(variance.max()),
            }
