"""Turn whatever a user uploads into an 8-bit RGB array the face pipeline can trust.

Handles EXIF orientation, greyscale/RGBA/palette/CMYK/16-bit/float modes and caps the size, so that
every later stage sees one format.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from facegan.errors import InvalidImageError

MAX_SIDE = 4096
"""Longest side kept; larger photos are downscaled (Lanczos) before anything else happens."""

MAX_PIXELS = 64_000_000
"""Largest image decoded at all (8000x8000): a 140 kB palette PNG can claim 12000x12000 pixels, and
decoding it would take seconds and gigabytes before the downscale to ``MAX_SIDE`` could help."""

MIN_SIDE = 32
"""Smallest side accepted: below this there is no face to find."""

ImageInput = Union[str, os.PathLike, bytes, Image.Image, np.ndarray]


def load_image(source: ImageInput, max_side: int = MAX_SIDE) -> np.ndarray:
    """Return an HxWx3 uint8 RGB array, upright and at most ``max_side`` pixels on its long side."""
    image = _open(source)
    image = _to_rgb(image)
    if min(image.size) < MIN_SIDE:
        raise InvalidImageError(
            f"The image is only {image.size[0]}x{image.size[1]} pixels; please use one at least "
            f"{MIN_SIDE} pixels on each side."
        )
    if max(image.size) > max_side:
        scale = max_side / max(image.size)
        new_size = (max(1, round(image.size[0] * scale)), max(1, round(image.size[1] * scale)))
        image = image.resize(new_size, Image.Resampling.LANCZOS)
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))


def _open(source: ImageInput) -> Image.Image:
    if source is None:
        raise InvalidImageError("No image was given: please upload a photo.")
    if isinstance(source, np.ndarray):
        return _array_to_image(source)
    if isinstance(source, Image.Image):
        image = source
    else:
        try:
            if isinstance(source, (bytes, bytearray)):
                image = Image.open(io.BytesIO(source))
            else:
                path = Path(source)
                if not path.is_file():
                    raise InvalidImageError(f"The file {path.name!r} does not exist.")
                if path.stat().st_size == 0:
                    raise InvalidImageError(
                        f"The file {path.name!r} is empty (0 bytes): please upload the photo again."
                    )
                image = Image.open(path)
            _refuse_bombs(image)
            image.load()
        except Image.DecompressionBombError as exc:
            raise InvalidImageError(
                "The image has too many pixels to process safely; please downscale it first."
            ) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise InvalidImageError(
                "This file could not be read as an image. Please upload a JPEG, PNG, WebP, BMP, "
                "GIF or TIFF photo."
            ) from exc
    try:
        return ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError):
        return image


def _refuse_bombs(image: Image.Image) -> None:
    """Refuse from the header alone, before any pixel is decoded."""
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise InvalidImageError(
            f"The image is {width}x{height} pixels, more than this app decodes "
            f"({MAX_PIXELS // 1_000_000} megapixels); please downscale it first."
        )


def _array_to_image(array: np.ndarray) -> Image.Image:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise InvalidImageError(f"An image array must be HxW, HxWx3 or HxWx4, not {array.shape}.")
    if array.size == 0:
        raise InvalidImageError("The image is empty.")
    array = _to_uint8(array)
    return Image.fromarray(np.ascontiguousarray(array))


def _to_uint8(array: np.ndarray) -> np.ndarray:
    """Rescale 16-bit, integer or float pixel data to 0..255 by its type's natural range."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.floating):
        finite = np.nan_to_num(array.astype(np.float64))
        top = 1.0 if finite.max(initial=0.0) <= 1.0 else 255.0
        return np.clip(finite / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
    top = 65535.0 if array.max(initial=0) > 255 else 255.0
    return np.clip(array.astype(np.float64) / top * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _to_rgb(image: Image.Image) -> Image.Image:
    """Flatten any PIL mode to RGB; transparency is composited on white as a viewer would show it."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        image = Image.fromarray(_to_uint8(np.asarray(image)))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return image.convert("RGB")
