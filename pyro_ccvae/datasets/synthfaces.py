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

`sample_factors` draws labels and factors, `render` draws them (a pure function, so callers can
re-render with chosen labels and factors), `generate_synthfaces` makes a whole `ImageDataset`
and `cached_synthfaces` keeps one on disk.
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


# ----------------------------------------------------------------------------------------
# Sampling


def _check_correlation(correlation) -> tuple[int, int, float]:
    """Validates (label_a, label_b, rho); returns the two label indices and P(a=1, b=1)."""
    try:
        name_a, name_b, rho = correlation
        rho = float(rho)
    except (TypeError, ValueError):
        raise ValueError(f"correlation must be (label_a, label_b, rho), got {correlation!r}") from None
    unknown = [n for n in (name_a, name_b) if n not in LABEL_NAMES]
    if unknown:
        raise ValueError(
            f"unknown label(s) {', '.join(map(str, unknown))} in correlation; valid names: "
            + ", ".join(LABEL_NAMES)
        )
    if name_a == name_b:
        raise ValueError(f"correlation needs two different labels, got {name_a} twice")
    a, b = LABEL_NAMES.index(name_a), LABEL_NAMES.index(name_b)
    pa, pb = LABEL_FREQUENCIES[a], LABEL_FREQUENCIES[b]
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


def sample_factors(rng: np.random.Generator, num_images: int, correlation=None):
    """Draws labels (float32 [N, 9], 0/1) and factors (float32 [N, len(FACTOR_NAMES)]).

    Labels are independent Bernoulli(LABEL_FREQUENCIES) draws, except that with
    `correlation=(label_a, label_b, rho)` the pair (a, b) has Pearson correlation rho and the
    same marginals. Characteristics are uniform on [0, 1]; nuisances uniform on NUISANCE_RANGES.
    """
    p = np.asarray(LABEL_FREQUENCIES)
    u = rng.random((num_images, len(LABEL_NAMES)))
    labels = u < p
    if correlation is not None:
        a, b, p11 = _check_correlation(correlation)
        pa, pb = p[a], p[b]
        # One uniform picks a cell of the 2x2 joint, laid out on [0, 1) as
        # (1,1): [0, p11)  (1,0): [p11, pa)  (0,1): [pa, pa + pb - p11)  (0,0): the rest.
        ua = u[:, a]
        labels[:, a] = ua < pa
        labels[:, b] = (ua < p11) | ((ua >= pa) & (ua < pa + pb - p11))
    chars = rng.random((num_images, len(LABEL_NAMES)))
    lo, hi = np.asarray(NUISANCE_RANGES).T
    nuisances = lo + (hi - lo) * rng.random((num_images, len(NUISANCE_NAMES)))
    factors = np.concatenate([chars, nuisances], axis=1)
    return labels.astype(np.float32), factors.astype(np.float32)


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


def _paint(img, pose, box, sdf, colour, weight=None, soft=1.0):
    """Composites one shape over `img` (float32 [B, 3, H, W]), in place.

    pose: (cx, cy, s) per image [B]; box: (u0, u1, v0, v1) bounds of the shape in local units,
    used only to restrict the work to the pixels it can touch; sdf(u, v) -> signed distance in
    local units; colour [B, 3] or [3]; weight [B] scales the opacity (e.g. a label);
    soft > 1 blurs the edge over `soft` pixels.
    """
    if weight is not None and not np.any(weight):
        return
    size = img.shape[-1]
    cx, cy, s = pose
    u0, u1, v0, v1 = box
    margin = 1 + soft
    c0 = max(int(np.floor(np.min(cx + s * u0) * size - margin)), 0)
    c1 = min(int(np.ceil(np.max(cx + s * u1) * size + margin)), size)
    r0 = max(int(np.floor(np.min(cy + s * v0) * size - margin)), 0)
    r1 = min(int(np.ceil(np.max(cy + s * v1) * size + margin)), size)
    if c0 >= c1 or r0 >= r1:
        return
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
    colour = np.broadcast_to(np.asarray(colour, np.float32), (len(cx), 3))
    region = img[:, :, r0:r1, c0:c1]
    region += alpha[:, None] * (colour[:, :, None, None] - region)


def _render_chunk(labels: np.ndarray, factors: np.ndarray, size: int) -> np.ndarray:
    n = len(labels)
    y = {name: labels[:, i] for i, name in enumerate(LABEL_NAMES)}
    c = {name: factors[:, i] for i, name in enumerate(LABEL_NAMES)}
    nz = {name: factors[:, len(LABEL_NAMES) + i] for i, name in enumerate(NUISANCE_NAMES)}
    pose = (nz["face_x"], nz["face_y"], nz["face_size"])

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
    hair = pick(
        y["Blond_Hair"],
        _lerp([0.98, 0.92, 0.6], [0.88, 0.62, 0.14], c["Blond_Hair"]),  # platinum .. golden
        _lerp([0.36, 0.2, 0.09], [0.06, 0.05, 0.05], c["Blond_Hair"]),  # dark brown .. black
    )
    shirt = _hsv(nz["shirt_hue"], 0.5, 0.55)
    tie = _hsv(c["Wearing_Necktie"], 0.85, 0.85)

    img = np.empty((n, 3, size, size), np.float32)
    img[:] = factors[:, len(LABEL_NAMES) : len(LABEL_NAMES) + 3, None, None]  # background

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


def render(labels, factors, size: int = 64) -> np.ndarray:
    """Draws faces with the given labels [N, 9] and factors [N, len(FACTOR_NAMES)].

    Returns uint8 [N, 3, size, size]. Deterministic given its inputs; works in chunks of CHUNK.
    """
    labels = np.asarray(labels, np.float32)
    factors = np.asarray(factors, np.float32)
    if labels.ndim != 2 or labels.shape[1] != len(LABEL_NAMES):
        raise ValueError(f"labels must be [N, {len(LABEL_NAMES)}], got {labels.shape}")
    if factors.shape != (len(labels), len(FACTOR_NAMES)):
        raise ValueError(f"factors must be [{len(labels)}, {len(FACTOR_NAMES)}], got {factors.shape}")
    out = np.empty((len(labels), 3, size, size), np.uint8)
    for start in range(0, len(labels), CHUNK):
        stop = start + CHUNK
        out[start:stop] = _render_chunk(labels[start:stop], factors[start:stop], size)
    return out


# ----------------------------------------------------------------------------------------
# Data sets


def generate_synthfaces(
    num_images: int = 20000, seed: int = 0, size: int = 64, correlation=None
) -> ImageDataset:
    """The whole synthfaces data set in memory; the same arguments give identical data."""
    if num_images < 1:
        raise ValueError(f"num_images must be at least 1, got {num_images}")
    rng = np.random.default_rng(seed)
    labels, factors = sample_factors(rng, num_images, correlation)
    split = assign_split(rng, num_images)
    return ImageDataset(
        images=render(labels, factors, size),
        labels=labels,
        label_names=LABEL_NAMES,
        split=split,
        label_kinds=("binary",) * len(LABEL_NAMES),
        factors=factors,
        factor_names=FACTOR_NAMES,
        name="synthfaces",
        description=DESCRIPTION,
        extra_attrs={
            "generator": {
                "num_images": num_images,
                "seed": seed,
                "size": size,
                "correlation": list(correlation) if correlation is not None else None,
            },
            "label_frequencies": dict(zip(LABEL_NAMES, LABEL_FREQUENCIES)),
        },
    )


def synthfaces_file_name(num_images: int = 20000, seed: int = 0, size: int = 64, correlation=None) -> str:
    """The cache file name encoding the options and the drawing's version, e.g.
    synthfaces-v2-n20000-s0-64px.h5 (a changed drawing never reuses an old cache)."""
    name = f"synthfaces-v{DRAWING_VERSION}-n{num_images}-s{seed}-{size}px"
    if correlation is not None:
        _check_correlation(correlation)
        a, b, rho = correlation
        name += f"-corr-{a}-{b}-{float(rho)!r}"
    return name + ".h5"


def cached_synthfaces(
    folder: str | os.PathLike, num_images: int = 20000, seed: int = 0, size: int = 64, correlation=None
) -> Path:
    """The path of the synthfaces file for these options under `folder`, made if missing."""
    path = Path(folder) / synthfaces_file_name(num_images, seed, size, correlation)
    if not path.is_file():
        write_dataset(path, generate_synthfaces(num_images, seed, size, correlation))
    return path
