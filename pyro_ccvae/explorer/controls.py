"""One control per label, shaped by what the label says about itself, and what a setting of
it does to the characteristic latents z_c^i.

- A label with named classes (categorical): pick a class k; z_c^i becomes the mean of
  p_psi(z_c^i | y_i = k).
- Another discrete label (binary): a slider along the line of `traversal_points`, from beyond
  the y_i = 0 side of p_psi(z_c^i | y_i) to beyond its y_i = 1 side, exactly as `traverse`
  moves z_c^i; position p sets z_c^i to the line's point p.
- A label with real values (continuous): a value v between its `traversal_ends`; z_c^i
  becomes the mean of p_psi(z_c^i | y_i = v).

Every control checks a setting sent by the page (`check`, InvalidRequest naming the label and
the range), applies it to codes z_c [B, L, d] through the library's manipulations (`apply`),
and says which setting is nearest to an image's own z_c^i (`encoded`), so that the page can
show where an untouched control stands.
"""

from __future__ import annotations

import math

import torch

from ..analysis.manipulate import block_prior, intervene_latents, traversal_points
from ..errors import InvalidRequest

TRAVERSAL_STEPS = 101  # positions of a traversal slider: 0 .. 100
TRAVERSAL_SPAN = 2.0  # the slider runs SPAN standard deviations beyond each side's mean, as `traverse`
VALUE_STEPS = 100  # a continuous slider moves in (high - low) / VALUE_STEPS


def words(label, value: float) -> str:
    """A label's value as the page shows it: `label.format`, a real value to 3 significant digits."""
    return label.format(value if label.discrete else float(f"{value:.3g}"))


def number(value, name: str) -> float:
    """`value` as a finite float; InvalidRequest naming the label if it is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidRequest(f"the setting of {name} must be a finite number, got {value!r}")
    return float(value)


class Control:
    """The control of label `index` of `model`."""

    widget: str  # what the page draws: "slider" (positions), "classes" or "range" (values)

    def __init__(self, model, index: int):
        self.model, self.index = model, index
        self.label = model.config.labels[index]

    @property
    def name(self) -> str:
        return self.label.name

    def describe(self) -> dict:
        """The control as the page draws it (JSON-ready)."""
        values = None  # a continuous label's values are its range
        if self.label.discrete:
            values = [{"value": float(k), "text": self.label.format(k)} for k in range(self.label.num_classes())]
        return {"name": self.name, "kind": self.label.kind, "widget": self.widget, "values": values, **self.shape()}

    def shape(self) -> dict:
        raise NotImplementedError

    def check(self, setting) -> float:
        """The setting as a number; InvalidRequest if the control cannot take it."""
        raise NotImplementedError

    def apply(self, z_c: torch.Tensor, setting: float) -> torch.Tensor:
        """z_c [B, L, d] with this label's block set by `setting` (a new tensor)."""
        raise NotImplementedError

    def encoded(self, z_c: torch.Tensor) -> float:
        """The setting nearest to the block of z_c [1, L, d] (an image's own encoding)."""
        raise NotImplementedError

    def text(self, setting: float) -> str:
        """The setting in the label's words (for captions)."""
        raise NotImplementedError


class TraversalSlider(Control):
    """A slider along `traversal_points(model, index, TRAVERSAL_STEPS, TRAVERSAL_SPAN)`."""

    widget = "slider"

    def __init__(self, model, index: int):
        super().__init__(model, index)
        self.points = traversal_points(model, index, TRAVERSAL_STEPS, TRAVERSAL_SPAN)  # [steps, d]
        self.ends = self.label.traversal_ends()
        means = block_prior(model, index, torch.tensor(self.ends)).mean.detach()  # [2, d]
        self.marks = [{"at": self.nearest(mean), "text": f"{self.name}={self.label.format(end)}"}
                      for mean, end in zip(means, self.ends)]  # fmt: skip

    def nearest(self, block: torch.Tensor) -> int:
        """The position whose point is nearest to `block` [d] along the slider's line."""
        start, end = self.points[0], self.points[-1]
        direction = end - start
        t = torch.dot(block.to(start) - start, direction) / direction.square().sum().clamp_min(1e-12)
        return round(float(t.clamp(0, 1)) * (TRAVERSAL_STEPS - 1))

    def shape(self):
        return {"min": 0, "max": TRAVERSAL_STEPS - 1, "step": 1, "marks": self.marks}

    def check(self, setting):
        if isinstance(setting, bool) or not isinstance(setting, int) or not 0 <= setting < TRAVERSAL_STEPS:
            raise InvalidRequest(
                f"the slider of {self.name} takes a position 0 to {TRAVERSAL_STEPS - 1}, got {setting!r}"
            )
        return setting

    def apply(self, z_c, setting):
        out = z_c.clone()
        out[:, self.index] = self.points[int(setting)].to(z_c)
        return out

    def encoded(self, z_c):
        return self.nearest(z_c[0, self.index])

    def text(self, setting):
        low, high = (self.label.format(end) for end in self.ends)
        return f"{self.name}: {int(setting)}/{TRAVERSAL_STEPS - 1} from {low} to {high}"


class ValueControl(Control):
    """A control that sets z_c^i to the mean of p_psi(z_c^i | y_i = value) (`intervene_latents`)."""

    def apply(self, z_c, setting):
        return intervene_latents(self.model, z_c, {self.index: setting}, use_mean=True)

    def encoded(self, z_c):
        return float(self.model.predict_labels(z_c)[0, self.index])

    def text(self, setting):
        return f"{self.name}={words(self.label, setting)}"


class ClassChoice(ValueControl):
    """One button per named class."""

    widget = "classes"

    def shape(self):
        return {"classes": [self.label.format(k) for k in range(self.label.num_classes())]}

    def check(self, setting):
        k = number(setting, self.name)
        if not (k == int(k) and 0 <= k < self.label.num_classes()):
            raise InvalidRequest(
                f"{self.name} takes a class index 0 to {self.label.num_classes() - 1}, got {setting!r}"
            )
        return k


class ValueSlider(ValueControl):
    """A slider over the label's values from one traversal end to the other."""

    widget = "range"

    def __init__(self, model, index: int):
        super().__init__(model, index)
        self.low, self.high = (float(end) for end in self.label.traversal_ends())

    def shape(self):
        marks = [{"at": v, "text": words(self.label, v)} for v in (self.low, self.high)]
        return {"min": self.low, "max": self.high, "step": (self.high - self.low) / VALUE_STEPS, "marks": marks}

    def check(self, setting):
        value = number(setting, self.name)
        slack = 1e-6 * (self.high - self.low)  # the page's steps may round the ends
        if not self.low - slack <= value <= self.high + slack:
            raise InvalidRequest(
                f"{self.name} takes a value from {words(self.label, self.low)} to {words(self.label, self.high)}, "
                f"got {value:g}"
            )
        return value

    def encoded(self, z_c):
        return min(max(super().encoded(z_c), self.low), self.high)


def control_for(model, index: int) -> Control:
    """The control of label `index`, chosen by what the label says it is."""
    label = model.config.labels[index]
    if label.classes:
        return ClassChoice(model, index)
    if label.discrete:
        return TraversalSlider(model, index)
    return ValueSlider(model, index)
