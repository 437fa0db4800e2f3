"""Synthfaces: a built-in data set of procedurally drawn cartoon faces (no download needed).

Each image is an RGB cartoon head and shoulders on a plain background, drawn with soft
anti-aliased edges (coverage of a signed distance, in pixel units) at any square size. The
geometry lives in normalised coordinates, so every size draws the same face.

Labels (binary, drawn independently with the frequencies LABEL_FREQUENCIES):
    Smiling, Eyeglasses, Bangs, Blond_Hair, Mustache, Pale_Skin, Wearing_Necktie,
    Wearing_Hat, Rosy_Cheeks.

Characteristics: each label has a hidden continuous value in [0, 1] ("char_<Label>"), drawn
independently of everything, that changes how the label's feature looks within a label value:
    Smiling          y=1: how wide and open the smile;  y=0: flat (0) to slightly frowning (1)
    Eyeglasses       frame thickness
    Bangs            fringe length
    Blond_Hair       y=1: platinum (0) to golden (1);   y=0: dark brown (0) to black (1)
    Mustache         thickness
    Pale_Skin        y=1: how pale;                      y=0: how dark (medium to dark)
    Wearing_Necktie  tie colour hue
    Wearing_Hat      hat height
    Rosy_Cheeks      patch size and intensity

Nuisances no label explains, drawn independently: background colour (bg_r, bg_g, bg_b),
face position (face_x, face_y: the head's centre as a fraction of the image), face_size (the
scale of the drawing) and shirt_hue.

Variants. The above is the "binary" variant (the default, data set name "synthfaces"). The
"mixed" variant ("synthfaces-mixed") has labels of all three kinds (MIXED_LABEL_NAMES):
    the eight binary labels above other than Blond_Hair, with the same frequencies and looks;
    Hair  categorical, HAIR_CLASSES = black, brown, blond, red, grey (HAIR_FREQUENCIES), each
          a clearly different colour; its characteristic char_Hair is the shade within the class;
    Age   continuous, in years, uniform on AGE_RANGE = [20, 80] and independent of the rest:
          drawn as wrinkles on the face (forehead lines, lines under the eyes, folds from the nose
          to the mouth) whose number, length and darkness grow smoothly with age (none at 20).
Its factors are char_<Label> for the eight binary labels and Hair, then the same nuisances.

`sample_factors` draws labels and factors, `render` draws them (a pure function, so callers can
re-render with chosen labels and factors), `generate_synthfaces` makes a whole `ImageDataset`
and `cached_synthfaces` keeps one on disk; each takes `variant="binary"` or `"mixed"`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from .h5format import SPLITS, ImageDataset, write_dataset

LABEL_NAMES = (
    "Smiling",
    "Eyeglasses",
    "Bangs",
    "Blond_Hair",
    "Mustache",
    "Pale_Skin",
    "Wearing_Necktie",
    "Wearing_Hat",
    "Rosy_Cheeks",
)
LABEL_FREQUENCIES = (0.45, 0.35, 0.4, 0.3, 0.4, 0.35, 0.3, 0.4, 0.5)
NUISANCE_NAMES = ("bg_r", "bg_g", "bg_b", "face_x", "face_y", "face_size", "shirt_hue")
FACTOR_NAMES = tuple("char_" + name for name in LABEL_NAMES) + NUISANCE_NAMES

# Ranges the nuisances are drawn from (uniformly); all lie in [0, 1].
NUISANCE_RANGES = (
    (0.35, 0.8),  # bg_r (muted colours)
    (0.35, 0.8),  # bg_g
    (0.35, 0.8),  # bg_b
    (0.465, 0.535),  # face_x: head centre, fraction of the width
    (0.395, 0.445),  # face_y: head centre, fraction of the height
    (0.86, 0.96),  # face_size: scale of the drawing
    (0.0, 1.0),  # shirt_hue
)
# The classes of each label in which its characteristic char_<Label> changes the picture: a face
# without a mustache has no mustache thickness. Smiling (a flat to frowning mouth), Blond_Hair
# (dark brown to black) and Pale_Skin (medium to dark) vary within both classes.
SHOWN_IN_BOTH = ("Smiling", "Blond_Hair", "Pale_Skin")
DRAWING_VERSION = 2  # raise whenever render() draws differently
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)  # train, valid, test
CHUNK = 1000  # images rendered at a time (bounds memory)

DESCRIPTION = (
    "Synthfaces: procedurally drawn cartoon faces, built into pyro-ccvae so that it runs with "
    "no download. Nine binary labels (" + ", ".join(LABEL_NAMES) + ") are drawn independently "
    "(unless a correlation was asked for); each has a hidden continuous characteristic in [0, 1] "
    "that changes how its feature looks (smile width, frame thickness, fringe length, hair shade, "
    "moustache thickness, skin tone, tie hue, hat height, cheek size), stored as factors "
    "char_<Label>, together with the nuisances background colour, face position, face size and "
    "shirt hue. Split 80/10/10 into train/valid/test."
)

VARIANTS = ("binary", "mixed")

# The mixed variant: eight binary labels, a categorical Hair and a continuous Age.
MIXED_BINARY_NAMES = tuple(name for name in LABEL_NAMES if name != "Blond_Hair")
MIXED_BINARY_FREQUENCIES = tuple(LABEL_FREQUENCIES[LABEL_NAMES.index(name)] for name in MIXED_BINARY_NAMES)
MIXED_LABEL_NAMES = MIXED_BINARY_NAMES + ("Hair", "Age")
MIXED_LABEL_KINDS = ("binary",) * len(MIXED_BINARY_NAMES) + ("categorical", "continuous")
MIXED_FACTOR_NAMES = tuple("char_" + name for name in MIXED_BINARY_NAMES + ("Hair",)) + NUISANCE_NAMES
HAIR_CLASSES = ("black", "brown", "blond", "red", "grey")
HAIR_FREQUENCIES = (0.25, 0.25, 0.2, 0.15, 0.15)
# Hair colour of each class at shade char_Hair = 0 and = 1 (linear in between). Apart in value
# (black ~0.1, brown ~0.4, red/blond/grey ~0.6-0.9) and in hue (grey neutral, red saturated):
# any two shades of two classes are at least 0.25 apart in RGB.
HAIR_COLOURS = (
    ((0.04, 0.035, 0.035), (0.11, 0.095, 0.09)),  # black: jet .. soft black
    ((0.5, 0.3, 0.13), (0.36, 0.21, 0.09)),  # brown: light chestnut .. dark brown
    ((0.98, 0.9, 0.55), (0.88, 0.66, 0.2)),  # blond: platinum .. golden
    ((0.9, 0.38, 0.12), (0.75, 0.19, 0.07)),  # red: ginger .. auburn
    ((0.6, 0.61, 0.63), (0.86, 0.87, 0.89)),  # grey: steel .. silver
)
AGE_RANGE = (20.0, 80.0)  # years; Age is uniform on it and drawn with wrinkles (none at 20)
MIXED_DRAWING_VERSION = 2  # raise whenever render(..., variant="mixed") draws differently
WRINKLE_SHADE = 0.32  # a wrinkle at full strength multiplies the colour under it by this
WRINKLE_HALF_WIDTH = 0.03  # half the width of a wrinkle line, in the face's local units
WRINKLE_SOFT = 1.6  # pixels over which a wrinkle's edge fades
AGE_SKIN_SHADE = 0.8  # at age intensity 1 the whole face's skin is multiplied by this (weathered)

MIXED_DESCRIPTION = (
    "Synthfaces, mixed variant: procedurally drawn cartoon faces, built into pyro-ccvae, with labels "
    "of all three kinds. Eight binary labels (" + ", ".join(MIXED_BINARY_NAMES) + ") drawn "
    "independently (unless a correlation was asked for), each with a hidden characteristic in [0, 1] "
    "that changes how its feature looks; Hair, categorical with classes " + ", ".join(HAIR_CLASSES)
    + " (frequencies " + ", ".join(map(str, HAIR_FREQUENCIES)) + "), whose characteristic is the "
    f"shade within the class; Age, continuous in years, uniform on [{AGE_RANGE[0]:g}, {AGE_RANGE[1]:g}], "
    "drawn as wrinkles (forehead lines, lines under the eyes, nose-to-mouth folds) that grow with age. Factors: "
    "char_<Label> for the binary labels and Hair, then the nuisances background colour, face "
    "position, face size and shirt hue. Split 80/10/10 into train/valid/test."
)


def variant_names(variant: str = "binary") -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(label names, label kinds, factor names) of a variant; a ValueError for an unknown one."""
    if variant == "binary":
        return LABEL_NAMES, ("binary",) * len(LABEL_NAMES), FACTOR_NAMES
    if variant == "mixed":
        return MIXED_LABEL_NAMES, MIXED_LABEL_KINDS, MIXED_FACTOR_NAMES
    raise ValueError(f"unknown synthfaces variant {variant!r}; valid variants: {', '.join(VARIANTS)}")


def characteristic_classes(variant: str = "binary") -> dict[str, list[int]]:
    """{factor "char_<Label>": the classes of the label in which it is drawn} of a variant
    (written into every synthfaces file as the attribute `characteristic_classes`)."""
    _, _, factor_names = variant_names(variant)
    classes = {}
    for factor in factor_names:
        label = factor.removeprefix("char_")
        if label == factor:
            continue
        if label == "Hair":
            classes[factor] = list(range(len(HAIR_CLASSES)))
        else:
            classes[factor] = [0, 1] if label in SHOWN_IN_BOTH else [1]
    return classes


# ----------------------------------------------------------------------------------------
# Sampling


def _binary_labels(variant: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The names and frequencies of a variant's binary (Bernoulli) labels."""
    variant_names(variant)  # rejects an unknown variant
    if variant == "mixed":
        return MIXED_BINARY_NAMES, MIXED_BINARY_FREQUENCIES
    return LABEL_NAMES, LABEL_FREQUENCIES


def _check_correlation(correlation, variant: str = "binary") -> tuple[int, int, float]:
    """Validates (label_a, label_b, rho) for two binary labels of `variant`; returns their
    indices among the variant's binary labels and P(a=1, b=1)."""
    names, frequencies = _binary_labels(variant)
    try:
        name_a, name_b, rho = correlation
        rho = float(rho)
    except (TypeError, ValueError):
        raise ValueError(f"correlation must be (label_a, label_b, rho), got {correlation!r}") from None
    label_names, label_kinds, _ = variant_names(variant)
    kinds = dict(zip(label_names, label_kinds))
    other = [n for n in (name_a, name_b) if n in kinds and kinds[n] != "binary"]
    if other:
        raise ValueError(
            "correlation is only for binary labels, but "
            + " and ".join(f"{n} is {kinds[n]}" for n in other)
            + f"; binary labels of the {variant} variant: " + ", ".join(names)
        )
    unknown = [n for n in (name_a, name_b) if n not in names]
    if unknown:
        raise ValueError(
            f"unknown label(s) {', '.join(map(str, unknown))} in correlation; valid names: "
            + ", ".join(names)
        )
    if name_a == name_b:
        raise ValueError(f"correlation needs two different labels, got {name_a} twice")
    a, b = names.index(name_a), names.index(name_b)
    pa, pb = frequencies[a], frequencies[b]
    sd = math.sqrt(pa * (1 - pa) * pb * (1 - pb))
    # P(a=1, b=1) must lie in [max(0, pa + pb - 1), min(pa, pb)] for the marginals to hold.
    lo = max(-1.0, (max(0.0, pa + pb - 1) - pa * pb) / sd)
    hi = min(1.0, (min(pa, pb) - pa * pb) / sd)
    if not (-1 < rho < 1) or not (lo - 1e-9 <= rho <= hi + 1e-9):
        raise ValueError(
            f"correlation {rho} between {name_a} (p={pa}) and {name_b} (p={pb}) is not feasible; "
            f"it must lie in [{lo:.3f}, {hi:.3f}] and strictly inside (-1, 1)"
        )
    p11 = min(max(pa * pb + rho * sd, max(0.0, pa + pb - 1)), min(pa, pb))
    return a, b, p11


def sample_factors(rng: np.random.Generator, num_images: int, correlation=None, variant: str = "binary"):
    """Draws labels (float32 [N, L]) and factors (float32 [N, F]) of a variant.

    binary: L = 9 labels (LABEL_NAMES, 0/1), F = len(FACTOR_NAMES).
    mixed: L = 10 labels (MIXED_LABEL_NAMES: 8 binary 0/1, the Hair class index 0..4 and the
    Age in years), F = len(MIXED_FACTOR_NAMES).

    Binary labels are independent Bernoulli draws (LABEL_FREQUENCIES), except that with
    `correlation=(label_a, label_b, rho)` the pair (a, b) has Pearson correlation rho and the
    same marginals. Hair is drawn with HAIR_FREQUENCIES and Age uniformly on AGE_RANGE, both
    independently of everything. Characteristics are uniform on [0, 1]; nuisances uniform on
    NUISANCE_RANGES.
    """
    names, frequencies = _binary_labels(variant)
    labels = _sample_binary(rng, num_images, names, frequencies, correlation, variant)
    if variant == "mixed":
        hair = np.searchsorted(np.cumsum(HAIR_FREQUENCIES), rng.random(num_images), side="right")
        hair = np.minimum(hair, len(HAIR_CLASSES) - 1)  # guards the float sum of frequencies
        lo, hi = AGE_RANGE
        age = lo + (hi - lo) * rng.random(num_images)
        labels = np.concatenate([labels, hair[:, None], age[:, None]], axis=1)
    chars = rng.random((num_images, len(FACTOR_NAMES) - len(NUISANCE_NAMES)))
    lo, hi = np.asarray(NUISANCE_RANGES).T
    nuisances = lo + (hi - lo) * rng.random((num_images, len(NUISANCE_NAMES)))
    factors = np.concatenate([chars, nuisances], axis=1)
    return labels.astype(np.float32), factors.astype(np.float32)


def _sample_binary(rng, num_images: int, names, frequencies, correlation, variant: str) -> np.ndarray:
    """Bernoulli draws (bool [N, len(names)]), with the pair in `correlation` correlated."""
    p = np.asarray(frequencies)
    u = rng.random((num_images, len(names)))
    labels = u < p
    if correlation is not None:
        a, b, p11 = _check_correlation(correlation, variant)
        pa, pb = p[a], p[b]
        # One uniform picks a cell of the 2x2 joint, laid out on [0, 1) as
        # (1,1): [0, p11)  (1,0): [p11, pa)  (0,1): [pa, pa + pb - p11)  (0,0): the rest.
        ua = u[:, a]
        labels[:, a] = ua < pa
        labels[:, b] = (ua < p11) | ((ua >= pa) & (ua < pa + pb - p11))
    return labels


def assign_split(rng: np.random.Generator, num_images: int) -> np.ndarray:
    """Split codes (uint8 [N]): a random 80/10/10 train/valid/test assignment."""
    n_train = round(SPLIT_FRACTIONS[0] * num_images)
    n_valid = round(SPLIT_FRACTIONS[1] * num_images)
    split = np.full(num_images, SPLITS["test"], np.uint8)
    order = rng.permutation(num_images)
    split[order[:n_train]] = SPLITS["train"]
    split[order[n_train : n_train + n_valid]] = SPLITS["valid"]
    return split


# ----------------------------------------------------------------------------------------
# Signed distances, in the face's local units (u to the right, v down, head centre at 0, 0).
# Negative inside. Arguments broadcast: coordinates [B, h, 1] / [B, 1, w], parameters [B, 1, 1].


def _circle(u, v, cu, cv, r):
    return np.sqrt((u - cu) ** 2 + (v - cv) ** 2) - r


def _ellipse(u, v, cu, cv, rx, ry):
    # A good approximation of the distance to an ellipse: k0 (k0 - 1) / k1.
    du, dv = (u - cu) / rx, (v - cv) / ry
    k0 = np.sqrt(du * du + dv * dv)
    k1 = np.sqrt((du / rx) ** 2 + (dv / ry) ** 2) + 1e-6
    return k0 * (k0 - 1) / k1


def _box(u, v, cu, cv, hw, hh, r=0.0):
    """Rectangle centred at (cu, cv) with half sizes hw, hh and corner radius r."""
    qu = np.abs(u - cu) - (hw - r)
    qv = np.abs(v - cv) - (hh - r)
    outside = np.sqrt(np.maximum(qu, 0) ** 2 + np.maximum(qv, 0) ** 2)
    return outside + np.minimum(np.maximum(qu, qv), 0) - r


def _hsv(h, s, v):
    """HSV -> RGB for arrays of hues [N] (s, v scalars or [N]); returns [N, 3]."""
    h = np.asarray(h, np.float32)[:, None]
    k = (np.array([5.0, 3.0, 1.0], np.float32) + 6 * h) % 6
    return v * (1 - s * np.clip(np.minimum(k, 4 - k), 0, 1))


def _lerp(c0, c1, t):
    """Colours from c0 (t=0) to c1 (t=1); t [N] -> [N, 3]."""
    c0, c1 = np.asarray(c0, np.float32), np.asarray(c1, np.float32)
    return c0 + (c1 - c0) * t[:, None]


# ----------------------------------------------------------------------------------------
# Rendering


def _paint(img, pose, box, sdf, colour, weight=None, soft=1.0, within=None):
    """Composites one shape over `img` (float32 [B, 3, H, W]), in place.

    pose: (cx, cy, s) per image [B]; box: (u0, u1, v0, v1) bounds of the shape in local units,
    used only to restrict the work to the pixels it can touch; sdf(u, v) -> signed distance in
    local units; colour [B, 3] or [3]; weight [B] scales the opacity (e.g. a label);
    soft > 1 blurs the edge over `soft` pixels; within(u, v), a signed distance, confines the
    shape to pixels whose centres lie inside that region (fading over the pixel at its edge).
    """
    covered = _coverage(img, pose, box, sdf, weight, soft, within)
    if covered is None:
        return
    region, alpha = covered
    colour = np.broadcast_to(np.asarray(colour, np.float32), (len(pose[0]), 3))
    region += alpha[:, None] * (colour[:, :, None, None] - region)


def _darken(img, pose, box, sdf, factor, weight=None, soft=1.0, within=None):
    """Like `_paint`, but the shape multiplies what lies under it by `factor` (a shadow or a
    crease: darker whatever the colour beneath) instead of covering it."""
    covered = _coverage(img, pose, box, sdf, weight, soft, within)
    if covered is not None:
        region, alpha = covered
        region *= 1 - (1 - factor) * alpha[:, None]


def _coverage(img, pose, box, sdf, weight, soft, within):
    """(the view of `img` a shape can touch [B, 3, h, w], its opacity there [B, h, w]), or None
    when it touches nothing; the arguments are `_paint`'s."""
    if weight is not None and not np.any(weight):
        return None
    size = img.shape[-1]
    cx, cy, s = pose
    u0, u1, v0, v1 = box
    margin = 1 + soft
    c0 = max(int(np.floor(np.min(cx + s * u0) * size - margin)), 0)
    c1 = min(int(np.ceil(np.max(cx + s * u1) * size + margin)), size)
    r0 = max(int(np.floor(np.min(cy + s * v0) * size - margin)), 0)
    r1 = min(int(np.ceil(np.max(cy + s * v1) * size + margin)), size)
    if c0 >= c1 or r0 >= r1:
        return None
    # Pixel centres in image units, then in each face's local units.
    xs = (np.arange(c0, c1, dtype=np.float32) + 0.5) / size
    ys = (np.arange(r0, r1, dtype=np.float32) + 0.5) / size
    cx3, cy3, s3 = cx[:, None, None], cy[:, None, None], s[:, None, None]
    u = (xs[None, None, :] - cx3) / s3
    v = (ys[None, :, None] - cy3) / s3
    sd_pixels = sdf(u, v) * (s3 * (size / soft))
    alpha = np.clip(0.5 - sd_pixels, 0, 1)
    if weight is not None:
        alpha = alpha * np.asarray(weight, np.float32)[:, None, None]
    if within is not None:
        alpha = alpha * np.clip(-within(u, v) * (s3 * size), 0, 1)
    return img[:, :, r0:r1, c0:c1], alpha


def hair_colour(hair, shade) -> np.ndarray:
    """The mixed variant's hair colours (float32 [N, 3]) for class indices [N] and shades [N]."""
    hair = np.asarray(hair).astype(np.int64)
    table = np.asarray(HAIR_COLOURS, np.float32)  # [classes, 2, 3]
    c0, c1 = table[hair, 0], table[hair, 1]
    return c0 + (c1 - c0) * np.asarray(shade, np.float32)[:, None]


def age_intensity(age) -> np.ndarray:
    """How strongly age shows (float32 [N]): 0 at AGE_RANGE[0] (and younger), 1 at AGE_RANGE[1]."""
    lo, hi = AGE_RANGE
    return np.clip((np.asarray(age, np.float32) - lo) / (hi - lo), 0, 1).astype(np.float32)


def _segment(u, v, u0, v0, u1, v1):
    """Distance to the segment from (u0, v0) to (u1, v1); ends [B, 1, 1] or scalars."""
    du, dv = u1 - u0, v1 - v0
    t = np.clip(((u - u0) * du + (v - v0) * dv) / (du * du + dv * dv + 1e-12), 0, 1)
    return np.sqrt((u - u0 - t * du) ** 2 + (v - v0 - t * dv) ** 2)


def _paint_forehead_lines(img, pose, age, head):
    """Up to three horizontal forehead lines (under any hair): line k appears from
    age intensity k / 4 and reaches full darkness and length at (k + 2) / 4. Only on the head."""
    for k in range(3):
        strength = np.clip(2 * age - 0.5 * k, 0, 1)
        half = (0.05 + 0.05 * strength)[:, None, None]
        v_k = -0.093 - 0.03 * k

        def crease(u, v, half=half, v_k=v_k):
            return np.maximum(np.abs(v - v_k - 0.5 * u * u) - WRINKLE_HALF_WIDTH, np.abs(u) - half)

        _darken(img, pose, (-0.12, 0.12, -0.17, -0.07), crease, WRINKLE_SHADE, strength, WRINKLE_SOFT, head)


def _paint_age_lines(img, pose, age, head):
    """Lines under the eyes and folds from the nose towards the mouth corners, both longer and
    darker with age (absent at intensity 0). Only on the head."""
    grow = (0.5 + 0.5 * age)[:, None, None]
    for side in (-1, 1):
        def under_eye(u, v, side=side):
            du = u - side * 0.085
            arc = np.abs(v - 0.036 - 3.0 * du * du) - WRINKLE_HALF_WIDTH
            return np.maximum(arc, np.abs(du) - 0.036 * grow)

        def fold(u, v, side=side):  # from beside the nose down and out, growing at its lower end
            d = _segment(u, v, side * 0.062, 0.05, side * (0.062 + 0.08 * grow), 0.05 + 0.115 * grow)
            return d - WRINKLE_HALF_WIDTH

        _darken(img, pose, (-0.14, 0.14, 0.01, 0.08), under_eye, WRINKLE_SHADE, age * 0.9, WRINKLE_SOFT, head)
        _darken(img, pose, (-0.16, 0.16, 0.03, 0.18), fold, WRINKLE_SHADE, age, WRINKLE_SOFT, head)


def _render_chunk(labels: np.ndarray, factors: np.ndarray, size: int, variant: str = "binary") -> np.ndarray:
    n = len(labels)
    mixed = variant == "mixed"
    binary_names = MIXED_BINARY_NAMES if mixed else LABEL_NAMES
    char_names = binary_names + ("Hair",) if mixed else LABEL_NAMES
    y = {name: labels[:, i] for i, name in enumerate(binary_names)}
    c = {name: factors[:, i] for i, name in enumerate(char_names)}
    nz = {name: factors[:, len(char_names) + i] for i, name in enumerate(NUISANCE_NAMES)}
    pose = (nz["face_x"], nz["face_y"], nz["face_size"])
    age = age_intensity(labels[:, -1]) if mixed else None

    def col(x):  # per-image scalar -> [B, 1, 1] for the distance functions
        return np.asarray(x, np.float32)[:, None, None]

    def pick(label, when_1, when_0):  # per-image choice of colours [B, 3]
        return np.where(label[:, None] > 0.5, when_1, when_0)

    outline = np.array([0.18, 0.12, 0.1], np.float32)
    skin = pick(
        y["Pale_Skin"],
        _lerp([0.97, 0.84, 0.76], [1.0, 0.95, 0.93], c["Pale_Skin"]),  # pale .. very pale
        _lerp([0.83, 0.6, 0.43], [0.46, 0.29, 0.19], c["Pale_Skin"]),  # medium .. dark
    )
    if mixed:
        hair = hair_colour(labels[:, len(binary_names)], c["Hair"])
    else:
        hair = pick(
            y["Blond_Hair"],
            _lerp([0.98, 0.92, 0.6], [0.88, 0.62, 0.14], c["Blond_Hair"]),  # platinum .. golden
            _lerp([0.36, 0.2, 0.09], [0.06, 0.05, 0.05], c["Blond_Hair"]),  # dark brown .. black
        )
    shirt = _hsv(nz["shirt_hue"], 0.5, 0.55)
    tie = _hsv(c["Wearing_Necktie"], 0.85, 0.85)

    img = np.empty((n, 3, size, size), np.float32)
    img[:] = factors[:, len(char_names) : len(char_names) + 3, None, None]  # background

    # Shoulders and shirt, extending below the image; a white shirt front (V) under the neck.
    _paint(img, pose, (-0.5, 0.5, 0.3, 2.0), lambda u, v: _box(u, v, 0, 0.9, 0.39, 0.56, 0.15) - 0.012, outline)
    _paint(img, pose, (-0.5, 0.5, 0.3, 2.0), lambda u, v: _box(u, v, 0, 0.9, 0.39, 0.56, 0.15), shirt)

    def shirt_front(u, v):  # triangle: top edge at v=0.35, sides meeting at (0, 0.6)
        return np.maximum(0.35 - v, (np.abs(u) * 0.25 + (v - 0.6) * 0.1) / math.hypot(0.25, 0.1))

    _paint(img, pose, (-0.12, 0.12, 0.33, 0.62), shirt_front, [0.96, 0.96, 0.94])
    neck = skin * 0.88
    _paint(img, pose, (-0.1, 0.1, 0.1, 0.42), lambda u, v: _box(u, v, 0, 0.25, 0.075, 0.13, 0.03), neck)

    # Necktie: a knot and a blade widening downwards to a point.
    def tie_blade(u, v):
        sides = (np.abs(u) - 0.022 - 0.16 * (v - 0.39)) / math.hypot(1, 0.16)
        point = (np.abs(u) + v - 0.6) / math.sqrt(2)
        return np.maximum(np.maximum(sides, point), 0.39 - v)

    necktie = y["Wearing_Necktie"]
    _paint(img, pose, (-0.1, 0.1, 0.34, 0.63), lambda u, v: tie_blade(u, v) - 0.008, outline, necktie)
    _paint(img, pose, (-0.1, 0.1, 0.34, 0.63), tie_blade, tie, necktie)
    _paint(img, pose, (-0.06, 0.06, 0.34, 0.44), lambda u, v: _box(u, v, 0, 0.395, 0.03, 0.025, 0.01) - 0.008, outline, necktie)
    _paint(img, pose, (-0.06, 0.06, 0.34, 0.44), lambda u, v: _box(u, v, 0, 0.395, 0.03, 0.025, 0.01), tie * 0.8, necktie)

    # Hair behind the head (visible around its top and sides), cut off above the jaw.
    def back_hair(u, v):
        return np.maximum(_ellipse(u, v, 0, -0.03, 0.27, 0.3), v - 0.09)

    _paint(img, pose, (-0.3, 0.3, -0.35, 0.12), lambda u, v: back_hair(u, v) - 0.012, outline)
    _paint(img, pose, (-0.3, 0.3, -0.35, 0.12), back_hair, hair)

    # Ears, head.
    for side in (-1, 1):
        ear = lambda u, v, side=side: _circle(u, v, side * 0.215, 0.02, 0.042)
        _paint(img, pose, (-0.28, 0.28, -0.04, 0.08), lambda u, v: ear(u, v) - 0.012, outline)
        _paint(img, pose, (-0.28, 0.28, -0.04, 0.08), ear, skin * 0.95)
    head = lambda u, v: _ellipse(u, v, 0, 0, 0.22, 0.27)
    _paint(img, pose, (-0.25, 0.25, -0.3, 0.3), lambda u, v: head(u, v) - 0.012, outline)
    _paint(img, pose, (-0.25, 0.25, -0.3, 0.3), head, skin)
    if mixed:  # age: weathered skin and forehead lines, under the hair (bangs and hairline hide them)
        _darken(img, pose, (-0.25, 0.25, -0.3, 0.3), head, AGE_SKIN_SHADE, age, 1.0, head)
        _paint_forehead_lines(img, pose, age, head)

    # Hair over the top of the head: a cap down to a hairline that is lower at the temples;
    # bangs are a scalloped fringe reaching down the forehead.
    scalp = lambda u, v: _ellipse(u, v, 0, 0, 0.235, 0.285)
    _paint(img, pose, (-0.25, 0.25, -0.3, 0.0), lambda u, v: np.maximum(scalp(u, v), v + 0.19 - 2.5 * u * u), hair)
    fringe_end = col(-0.115 + 0.075 * c["Bangs"])

    def bangs(u, v):
        edge = fringe_end + 0.012 * np.cos(u * (2 * math.pi / 0.055)) - 0.6 * u * u
        return np.maximum(scalp(u, v), v - edge)

    _paint(img, pose, (-0.25, 0.25, -0.3, 0.0), bangs, hair, y["Bangs"])

    # Rosy cheeks: soft pink patches.
    cheek_r = col(0.05 + 0.02 * c["Rosy_Cheeks"])
    cheek_alpha = y["Rosy_Cheeks"] * (0.85 + 0.15 * c["Rosy_Cheeks"])
    for side in (-1, 1):
        cheek = lambda u, v, side=side: _circle(u, v, side * 0.13, 0.075, cheek_r)
        _paint(img, pose, (-0.2, 0.2, 0.0, 0.15), cheek, [1.0, 0.2, 0.3], cheek_alpha, soft=1.5)

    # Eyes: whites and pupils.
    for side in (-1, 1):
        white = lambda u, v, side=side: _ellipse(u, v, side * 0.085, -0.01, 0.042, 0.029)
        pupil = lambda u, v, side=side: _circle(u, v, side * 0.082, -0.008, 0.019)
        _paint(img, pose, (-0.15, 0.15, -0.05, 0.03), lambda u, v: white(u, v) - 0.006, outline)
        _paint(img, pose, (-0.15, 0.15, -0.05, 0.03), white, [1.0, 1.0, 1.0])
        _paint(img, pose, (-0.15, 0.15, -0.05, 0.03), pupil, [0.08, 0.06, 0.06])

    # Nose.
    _paint(img, pose, (-0.05, 0.05, 0.0, 0.1), lambda u, v: _ellipse(u, v, 0, 0.05, 0.02, 0.016), skin * 0.78)
    if mixed:  # age: lines under the eyes and nose-to-mouth folds
        _paint_age_lines(img, pose, age, head)

    # Moustache: a drooping band, thickest in the middle, tapering to its ends.
    half_thick = col(0.012 + 0.016 * c["Mustache"])

    def moustache(u, v):
        taper = np.sqrt(np.clip(1 - (u / 0.09) ** 2, 0, 1))
        band = np.abs(v - 0.093 - 1.6 * u * u) - half_thick * taper
        return np.maximum(band, np.abs(u) - 0.09)

    _paint(img, pose, (-0.1, 0.1, 0.06, 0.13), moustache, [0.07, 0.05, 0.04], y["Mustache"])

    # Mouth: the region between two parabolas v = 0.15 + a * (1 - (u / w)^2), thickened by t.
    # A smile is an open crescent (middle lower than the corners); otherwise a thin line,
    # flat to slightly frowning.
    smiling = y["Smiling"] > 0.5
    width = col(np.where(smiling, 0.1 + 0.04 * c["Smiling"], 0.065))
    top = col(np.where(smiling, 0.012 + 0.012 * c["Smiling"], -0.014 * c["Smiling"]))
    bottom = col(np.where(smiling, 0.06 + 0.035 * c["Smiling"], -0.014 * c["Smiling"]))
    thick = col(np.where(smiling, 0.008, 0.01))

    def mouth(u, v):
        f = 1 - (u / width) ** 2
        dv = v - 0.15
        return np.maximum(np.maximum(top * f - thick - dv, dv - bottom * f - thick), np.abs(u) - width)

    _paint(img, pose, (-0.13, 0.13, 0.1, 0.24), mouth, [0.62, 0.06, 0.1])

    # Eyeglasses: tinted lenses, two rings, a bridge and the arms towards the ears.
    glasses = y["Eyeglasses"]
    frame = col(0.016 + 0.012 * c["Eyeglasses"])

    def frames(u, v):
        rings = np.minimum(_circle(u, v, -0.085, -0.01, 0.062), _circle(u, v, 0.085, -0.01, 0.062))
        d = np.abs(rings) - frame
        d = np.minimum(d, _box(u, v, 0, -0.015, 0.03, 0.0, 0.0) - frame)  # bridge
        d = np.minimum(d, _box(u, v, 0, -0.02, 0.22, 0.0, 0.0) - 0.8 * frame)  # arms
        return np.maximum(d, -_box(u, v, 0, -0.02, 0.145, 0.1))  # arms only outside the rings

    def lenses(u, v):
        return np.minimum(_circle(u, v, -0.085, -0.01, 0.062), _circle(u, v, 0.085, -0.01, 0.062))

    _paint(img, pose, (-0.16, 0.16, -0.08, 0.06), lenses, [0.35, 0.7, 1.0], glasses * 0.7)
    _paint(img, pose, (-0.24, 0.24, -0.1, 0.08), frames, [0.08, 0.08, 0.1], glasses)

    # Hat: a brim across the top of the head and a crown whose height is the characteristic.
    hat = y["Wearing_Hat"]
    crown_top = col(-0.2 - (0.09 + 0.11 * c["Wearing_Hat"]))

    def hat_shape(u, v):
        brim = _box(u, v, 0, -0.2, 0.29, 0.028, 0.02)
        crown = np.maximum(_box(u, v, 0, -0.4, 0.18, 0.2, 0.05), crown_top - v)
        return np.minimum(brim, crown)

    band = lambda u, v: np.maximum(_box(u, v, 0, -0.245, 0.18, 0.022), hat_shape(u, v))
    _paint(img, pose, (-0.32, 0.32, -0.45, -0.15), lambda u, v: hat_shape(u, v) - 0.012, outline, hat)
    _paint(img, pose, (-0.32, 0.32, -0.45, -0.15), hat_shape, [0.2, 0.24, 0.45], hat)
    _paint(img, pose, (-0.2, 0.2, -0.28, -0.21), band, [0.85, 0.22, 0.2], hat)

    return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)


def render(labels, factors, size: int = 64, variant: str = "binary") -> np.ndarray:
    """Draws faces with the given labels and factors of a variant: binary [N, 9] and
    [N, len(FACTOR_NAMES)]; mixed [N, 10] and [N, len(MIXED_FACTOR_NAMES)], where Hair must be
    a class index 0..4 and Age (in years) is drawn clipped to AGE_RANGE.

    Returns uint8 [N, 3, size, size]. Deterministic given its inputs; works in chunks of CHUNK.
    """
    label_names, _, factor_names = variant_names(variant)
    labels = np.asarray(labels, np.float32)
    factors = np.asarray(factors, np.float32)
    if labels.ndim != 2 or labels.shape[1] != len(label_names):
        raise ValueError(f"labels must be [N, {len(label_names)}] for the {variant} variant, got {labels.shape}")
    if factors.shape != (len(labels), len(factor_names)):
        raise ValueError(f"factors must be [{len(labels)}, {len(factor_names)}], got {factors.shape}")
    if variant == "mixed":
        if np.isnan(labels).any():
            raise ValueError("labels to draw must not be NaN")
        hair = labels[:, label_names.index("Hair")]
        if not np.all(np.isin(hair, np.arange(len(HAIR_CLASSES)))):
            raise ValueError(f"Hair must be a class index 0..{len(HAIR_CLASSES) - 1} ({', '.join(HAIR_CLASSES)})")
    out = np.empty((len(labels), 3, size, size), np.uint8)
    for start in range(0, len(labels), CHUNK):
        stop = start + CHUNK
        out[start:stop] = _render_chunk(labels[start:stop], factors[start:stop], size, variant)
    return out


# ----------------------------------------------------------------------------------------
# Data sets


def generate_synthfaces(
    num_images: int = 20000, seed: int = 0, size: int = 64, correlation=None, variant: str = "binary"
) -> ImageDataset:
    """The whole synthfaces data set of a variant in memory; the same arguments give identical data."""
    if num_images < 1:
        raise ValueError(f"num_images must be at least 1, got {num_images}")
    label_names, label_kinds, factor_names = variant_names(variant)
    rng = np.random.default_rng(seed)
    labels, factors = sample_factors(rng, num_images, correlation, variant)
    split = assign_split(rng, num_images)
    generator = {
        "num_images": num_images,
        "seed": seed,
        "size": size,
        "correlation": list(correlation) if correlation is not None else None,
    }
    if variant == "binary":
        extra = {"generator": generator, "label_frequencies": dict(zip(LABEL_NAMES, LABEL_FREQUENCIES))}
        name, description, classes = "synthfaces", DESCRIPTION, {}
    else:
        extra = {
            "generator": {**generator, "variant": variant},
            "label_frequencies": dict(zip(MIXED_BINARY_NAMES, MIXED_BINARY_FREQUENCIES)),
            "hair_frequencies": dict(zip(HAIR_CLASSES, HAIR_FREQUENCIES)),
            "age_range": list(AGE_RANGE),
        }
        name, description, classes = "synthfaces-mixed", MIXED_DESCRIPTION, {"Hair": list(HAIR_CLASSES)}
    extra["characteristic_classes"] = characteristic_classes(variant)
    return ImageDataset(
        images=render(labels, factors, size, variant),
        labels=labels,
        label_names=label_names,
        split=split,
        label_kinds=label_kinds,
        factors=factors,
        factor_names=factor_names,
        name=name,
        description=description,
        label_classes=classes,
        extra_attrs=extra,
    )


def synthfaces_file_name(
    num_images: int = 20000, seed: int = 0, size: int = 64, correlation=None, variant: str = "binary"
) -> str:
    """The cache file name encoding the options and the drawing's version, e.g.
    synthfaces-v2-n20000-s0-64px.h5 or synthfaces-mixed-v2-n20000-s0-64px.h5 (a changed
    drawing never reuses an old cache)."""
    variant_names(variant)  # rejects an unknown variant
    if variant == "binary":
        name = f"synthfaces-v{DRAWING_VERSION}-n{num_images}-s{seed}-{size}px"
    else:
        name = f"synthfaces-{variant}-v{MIXED_DRAWING_VERSION}-n{num_images}-s{seed}-{size}px"
    if correlation is not None:
        _check_correlation(correlation, variant)
        a, b, rho = correlation
        name += f"-corr-{a}-{b}-{float(rho)!r}"
    return name + ".h5"


def cached_synthfaces(
    folder: str | os.PathLike,
    num_images: int = 20000,
    seed: int = 0,
    size: int = 64,
    correlation=None,
    variant: str = "binary",
) -> Path:
    """The path of the synthfaces file for these options under `folder`, made if missing."""
    path = Path(folder) / synthfaces_file_name(num_images, seed, size, correlation, variant)
    if not path.is_file():
        write_dataset(path, generate_synthfaces(num_images, seed, size, correlation, variant))
    return path
