"""Pictures in and out of the explorer: images as PNG bytes and data URLs, uploads checked and
cut as the run's data was (`datasets.image_files.load_square`), variance maps in colour."""

from __future__ import annotations

import base64
import io
import warnings

import numpy as np
import torch
from matplotlib import colormaps
from PIL import Image

from ..datasets.image_files import load_square
from ..errors import DatasetError, UnsupportedImage, UploadError, UploadTooLarge

MAX_UPLOAD_BYTES = 10 * 2**20  # an upload's file size
MAX_UPLOAD_PIXELS = 50_000_000  # an upload's width x height (a small file can hold a huge image)
UPLOAD_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")  # PIL's names of the accepted types
MODES = {1: "L", 3: "RGB"}  # image channels -> PIL mode


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """Pixel means [C, S, S] in [0, 1] -> uint8 [S, S, C], rounded to the nearest level."""
    return image.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def png_bytes(image: torch.Tensor) -> bytes:
    """An image [C, S, S] in [0, 1] (1 or 3 channels) as PNG file bytes."""
    pixels = to_uint8(image)
    buffer = io.BytesIO()
    Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels, MODES[pixels.shape[-1]]).save(buffer, "PNG")
    return buffer.getvalue()


def data_url(image: torch.Tensor) -> str:
    """An image [C, S, S] in [0, 1] as a "data:image/png;base64,..." URL for an <img>."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def variance_picture(variance: torch.Tensor) -> torch.Tensor:
    """A per-pixel variance map [S, S] as an RGB image [3, S, S] in the "magma" colours, scaled
    so that the largest variance is the brightest."""
    scaled = (variance / variance.max().clamp_min(1e-12)).detach().float().cpu().numpy()
    rgb = colormaps["magma"](scaled)[..., :3]  # [S, S, 3]
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).float()


def read_upload(data: bytes, image_shape: tuple[int, int, int]) -> torch.Tensor:
    """An uploaded file as the run's data would hold it: its largest centred square resized to
    the run's size, in the run's colours, uint8 [C, S, S]. UploadTooLarge over MAX_UPLOAD_BYTES
    or MAX_UPLOAD_PIXELS, UnsupportedImage unless it is one of UPLOAD_FORMATS, UploadError if
    it cannot be decoded."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(f"the upload is {len(data) / 2**20:.1f} MiB; the limit is {MAX_UPLOAD_BYTES // 2**20} MiB")
    if not data:
        raise UploadError("the upload is empty: send the bytes of an image file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                kind, (width, height) = img.format, img.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise UnsupportedImage(f"the upload is not an image of a known type ({', '.join(UPLOAD_FORMATS)})") from e
    if kind not in UPLOAD_FORMATS:
        raise UnsupportedImage(f"the upload is a {kind} image; send one of {', '.join(UPLOAD_FORMATS)}")
    if width * height > MAX_UPLOAD_PIXELS:
        raise UploadTooLarge(f"the upload is {width}x{height} pixels; the limit is {MAX_UPLOAD_PIXELS:,} pixels")
    channels, side, _ = image_shape
    try:
        pixels = load_square(io.BytesIO(data), side, MODES[channels])
    except DatasetError as e:
        raise UploadError(f"the uploaded {kind} image cannot be decoded ({e.__cause__ or e})") from e
    return torch.from_numpy(pixels)
