"""The distortions a leaked copy typically went through, to check that a mark survives them.

These model the export paths seen in practice: a 16-bit image windowed to an
8-bit PNG or JPEG (with the DICOM window, or a percentile window when there is
none), shrunk, cropped, brightened, re-encoded. The robustness tests and the
benchmark use them, and an operator can use them to check their own images.
All functions return a new array and never modify their input.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.generic]


def window_to_8bit(
    pixels: Image,
    *,
    center: float | None = None,
    width: float | None = None,
    percentiles: tuple[float, float] = (0.5, 99.5),
    invert: bool = False,
) -> npt.NDArray[np.uint8]:
    """Linear VOI window to 8 bits; without ``center``/``width``, a percentile window."""
    data = pixels.astype(np.float32)
    if center is None or width is None:
        low, high = (float(v) for v in np.percentile(data, percentiles))
    else:
        low, high = center - width / 2, center + width / 2
    scaled = (data - low) * (255.0 / max(high - low, 1e-6))
    if invert:
        scaled = 255.0 - scaled
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def jpeg(pixels: npt.NDArray[np.uint8], quality: int) -> npt.NDArray[np.uint8]:
    """Encode and decode as baseline JPEG at ``quality`` (colour arrays are RGB)."""
    colour = pixels.ndim == 3
    data = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR) if colour else pixels
    ok, encoded = cv2.imencode(".jpg", data, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    flag = cv2.IMREAD_COLOR if colour else cv2.IMREAD_GRAYSCALE
    decoded = np.asarray(cv2.imdecode(encoded, flag), dtype=np.uint8)
    return np.asarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)) if colour else decoded


def resize(pixels: Image, factor: float) -> Image:
    """Uniform rescale by ``factor`` (area averaging when shrinking, as image tools do)."""
    method = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return np.asarray(
        cv2.resize(np.asarray(pixels), None, fx=factor, fy=factor, interpolation=method)
    )


def crop(pixels: Image, fraction: float, side: str) -> Image:
    """Cut ``fraction`` of the rows/columns away from ``side``.

    ``side`` is one of ``left``, ``right``, ``top``, ``bottom``, or a corner
    (``top-left``, ``bottom-right``...), which cuts that fraction along both axes.
    """
    height, width = pixels.shape[:2]
    rows, cols = slice(0, height), slice(0, width)
    cut_rows, cut_cols = round(height * fraction), round(width * fraction)
    for part in side.split("-"):
        if part == "top":
            rows = slice(cut_rows, height)
        elif part == "bottom":
            rows = slice(0, height - cut_rows)
        elif part == "left":
            cols = slice(cut_cols, width)
        elif part == "right":
            cols = slice(0, width - cut_cols)
        else:
            raise ValueError(f"unknown side {part!r}")
    return pixels[rows, cols].copy()


def _clip_like(data: npt.NDArray[np.float32], like: Image) -> Image:
    """``data`` rounded and saturated to the integer type of ``like``."""
    info = np.iinfo(like.dtype.type)  # type: ignore[type-var]
    return np.clip(np.rint(data), info.min, info.max).astype(like.dtype)


def gaussian_noise(pixels: Image, sigma: float, seed: int = 0) -> Image:
    """Add white Gaussian noise of standard deviation ``sigma`` (in pixel units)."""
    noise = np.random.default_rng(seed).normal(0.0, sigma, pixels.shape).astype(np.float32)
    return _clip_like(pixels.astype(np.float32) + noise, pixels)


def brightness(pixels: Image, delta: float) -> Image:
    """Add ``delta`` to every pixel, saturating at the type's range."""
    return _clip_like(pixels.astype(np.float32) + delta, pixels)


def contrast(pixels: Image, factor: float) -> Image:
    """Scale the deviation from the mean grey level by ``factor``, saturating."""
    data = pixels.astype(np.float32)
    mean = float(data.mean())
    return _clip_like((data - mean) * factor + mean, pixels)
