"""Adding the mark to pixels.

The tile of chips is repeated over the image at ``chip`` pixels per chip and
smoothly interpolated, so the mark lives in mid-frequency structure that
survives windowing to 8 bits, JPEG and downscaling. Its local amplitude follows
the image's own local contrast (perceptual masking: textured regions hide more
than flat ones), and its overall power is set relative to the image's dynamic
range so that the PSNR against the original is the same on any bit depth.
Colour images are marked in luminance: the same offset is added to R, G and B.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from medveil.watermark.tile import TILE

#: PSNR of the marked image against the original, with the frame's own value
#: range (max - min) as the peak: stricter than the full bit depth's 2**BitsStored - 1.
TARGET_PSNR_DB = 45.5
#: Textured 8-bit images (speckled ultrasound, photographs of film): an 8-bit
#: frame whose own mark reads back below :data:`READBACK_Z` at the default
#: strength is marked again at the strongest of these PSNRs (flat or
#: contrast-masked amplitude, whichever reads back better) that keeps its SSIM
#: at :data:`TEXTURED_MIN_SSIM` or more, so that it stays traceable after JPEG,
#: resizing and cropping. :data:`TEXTURED_PSNR_DB` is the floor.
TEXTURED_LEVELS_DB = (40.0, 41.5, 43.0)
TEXTURED_PSNR_DB = TEXTURED_LEVELS_DB[0]
TEXTURED_MIN_SSIM = 0.99
#: Pilot z the embedder wants to read back from its own output at the default strength.
READBACK_Z = 12.0
#: Smallest image side that holds enough tile periods to be traced reliably.
MIN_SIDE = 256
#: Bounds of the masking gain relative to the image's mean local contrast.
MASK_FLOOR, MASK_CEILING = 0.25, 3.0

FloatImage = npt.NDArray[np.float32]


def chip_size(height: int, width: int) -> int:
    """Pixels per chip: about 460 chips across the short side, never fewer than 4 pixels.

    This keeps a chip about two pixels wide at the detector's working resolution
    even after the image was shrunk to half size.
    """
    return max(4, round(min(height, width) / 460))


def luminance(pixels: npt.NDArray[np.generic]) -> FloatImage:
    """Grey level of a (H, W) or (H, W, 3) RGB image as float32 (ITU-R BT.601 weights)."""
    data = pixels.astype(np.float32, copy=False)
    if data.ndim == 2:
        return data
    return data[..., 0] * 0.299 + data[..., 1] * 0.587 + data[..., 2] * 0.114


def _masking_gain(small: FloatImage) -> FloatImage:
    """Per-chip gain from the local contrast of the image seen at chip resolution."""
    mean = cv2.GaussianBlur(small, (0, 0), 1.5)
    power = cv2.GaussianBlur(small * small, (0, 0), 1.5)
    contrast = np.sqrt(np.maximum(power - mean * mean, 0.0))
    reference = float(contrast.mean()) or 1.0
    return np.clip(contrast / reference, MASK_FLOOR, MASK_CEILING)


def _saturation_weight(
    lum: FloatImage, size: tuple[int, int], low: float, high: float
) -> FloatImage:
    """Per-chip weight ``(1 - f)**2``, ``f`` the share of pixels at either end of the range.

    Flat black background, burnt-in text and saturated areas sit at ``low`` or
    ``high``: there rounding and clipping erase the mark (or only half of it
    survives, and JPEG removes the rest), so it would only spend the PSNR
    budget. The weight moves that energy to the image content.
    """
    inside = cv2.inRange(lum, low + 0.5, high - 0.5)  # 255 strictly inside the range
    small = np.asarray(cv2.resize(inside, size, interpolation=cv2.INTER_AREA), dtype=np.float32)
    share = np.asarray(cv2.GaussianBlur(small / 255.0, (0, 0), 1.0), dtype=np.float32)
    return np.asarray(np.clip(share, 0.0, 1.0) ** 2, dtype=np.float32)


def mark_offsets(
    lum: FloatImage,
    chips: npt.NDArray[np.float64],
    *,
    keep_out: npt.NDArray[np.bool_] | None = None,
    value_range: tuple[float, float] | None = None,
    masking: bool = True,
) -> FloatImage:
    """The additive mark (float32, same shape as ``lum``, unit RMS) for one tile of chips.

    ``keep_out`` marks pixels (True) that must stay untouched, such as a
    diagnostic region of interest; the mark there is exactly zero. With
    ``value_range`` (low, high), areas at either end of it get (almost) no mark.
    ``masking=False`` gives every other area the same amplitude instead of
    following the local contrast (see :data:`TEXTURED_PSNR_DB`).
    """
    height, width = lum.shape
    if min(height, width) < MIN_SIDE:
        raise ValueError(f"image {width}x{height} is too small to watermark (min side {MIN_SIDE})")
    chip = chip_size(height, width)
    rows, cols = math.ceil(height / chip) + 1, math.ceil(width / chip) + 1
    small = np.asarray(
        cv2.resize(lum, (width // chip, height // chip), interpolation=cv2.INTER_AREA),
        dtype=np.float32,
    )
    weight = _masking_gain(small) if masking else np.ones_like(small)
    if value_range is not None:
        weight *= _saturation_weight(lum, (small.shape[1], small.shape[0]), *value_range)
    gain = cv2.copyMakeBorder(
        weight,
        0,
        rows - small.shape[0],
        0,
        cols - small.shape[1],
        cv2.BORDER_REPLICATE,
    )
    reps = (math.ceil(rows / TILE), math.ceil(cols / TILE))
    grid = np.tile(chips.astype(np.float32), reps)[:rows, :cols] * gain
    upsampled = cv2.resize(grid, (cols * chip, rows * chip), interpolation=cv2.INTER_LINEAR)
    offsets = np.asarray(upsampled[:height, :width], dtype=np.float32)
    if keep_out is not None:
        offsets[keep_out] = 0.0
    offsets *= 1.0 / (float(np.sqrt(np.mean(offsets * offsets))) or 1.0)
    return offsets


def apply_offsets(
    pixels: npt.NDArray[np.generic], offsets: FloatImage, *, low: float, high: float
) -> npt.NDArray[np.generic]:
    """``pixels`` plus ``offsets`` (on every channel), rounded and clipped to [low, high]."""
    data = pixels.astype(np.float32)
    if data.ndim == 3:
        data += offsets[..., None]
    else:
        data += offsets
    np.rint(data, out=data)
    np.clip(data, low, high, out=data)
    return data.astype(pixels.dtype)


def embed_pixels(
    pixels: npt.NDArray[np.generic],
    chips: npt.NDArray[np.float64],
    *,
    low: float,
    high: float,
    keep_out: npt.NDArray[np.bool_] | None = None,
    target_psnr_db: float = TARGET_PSNR_DB,
    masking: bool = True,
) -> npt.NDArray[np.generic]:
    """A marked copy of one grey (H, W) or RGB (H, W, 3) frame, same dtype and shape.

    The strength is calibrated on the result: rounding and clipping at the
    value range (black backgrounds, saturated areas) remove part of the mark,
    so a first pass measures the actual error and a second pass spends the
    remaining budget, ending at or just above ``target_psnr_db``.
    """
    offsets = mark_offsets(
        luminance(pixels), chips, keep_out=keep_out, value_range=(low, high), masking=masking
    )
    peak = max(float(pixels.max()) - float(pixels.min()), 1.0)
    target_mse = (peak * 10 ** (-target_psnr_db / 20)) ** 2
    offsets *= math.sqrt(target_mse)
    marked = apply_offsets(pixels, offsets, low=low, high=high)
    mse = _mse(pixels, marked)
    if 0 < mse < 0.95 * target_mse:
        offsets *= math.sqrt(target_mse / mse)
        marked = apply_offsets(pixels, offsets, low=low, high=high)
    return marked


def _mse(original: npt.NDArray[np.generic], marked: npt.NDArray[np.generic]) -> float:
    error = marked.astype(np.float32) - original.astype(np.float32)
    return float(np.mean(error * error))
