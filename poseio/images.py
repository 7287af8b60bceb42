"""Images from untrusted bytes, checked before they are decoded: the format from the header
(JPEG, PNG or WebP only) and the pixel count from the declared dimensions, so a decompression
bomb (a small PNG that declares 100,000 x 100,000 pixels) is refused before any pixel is made."""
from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_SIDE = 16384  # also a check of its own: a 1 x 40,000,000 image is no photo


class BadImage(ValueError):
    """Why the bytes are not an image we accept; `status` is the HTTP status that says so."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def probe(data: bytes, max_pixels: int) -> tuple[str, int, int]:
    """(format, width, height) from the header alone (Pillow's open reads no pixel data)."""
    if not data:
        raise BadImage("the image is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own bomb check fires for huge declared sizes: still our size message, below.
        try:
            img = _header_only(data)
        except Exception:
            raise BadImage("not a JPEG, PNG or WebP image", 415) from None
    except Exception:
        raise BadImage("not a JPEG, PNG or WebP image (unreadable header)", 415) from None
    width, height = img.size
    if width < 1 or height < 1:
        raise BadImage("the image has no pixels")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > max_pixels:
        raise BadImage(f"the image declares {width} x {height} pixels; at most {max_pixels:,} pixels "
                       f"and {MAX_SIDE} per side are accepted", 413)
    return img.format, width, height


def _header_only(data: bytes):
    """Open with Pillow's bomb limit off, only to read the declared size (never decoded)."""
    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        return Image.open(io.BytesIO(data), formats=list(FORMATS))
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def decode(data: bytes, max_pixels: int) -> np.ndarray:
    """Checked, then decoded to HxWx3 uint8 RGB (the first frame of an animation), turned upright
    by its EXIF orientation as browsers show it (keypoints are in the upright image's pixels)."""
    probe(data, max_pixels)
    try:
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as img:
            img.load()  # a truncated or corrupt file fails here, not later
            return np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
    except BadImage:
        raise
    except Exception as exc:  # OSError "image file is truncated", SyntaxError for broken PNG chunks
        raise BadImage(f"the image data is truncated or corrupt ({type(exc).__name__}: {exc})") from None
