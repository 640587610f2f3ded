"""8-bit renderings of a frame for OCR, one per way text can hide.

OCR models see 8-bit images, but burned-in text lives in stored values of up to
32 bits. Two renderings are scanned:

* ``display``: what a viewer shows: the header's VOI LUT or first
  WindowCenter/WindowWidth, else a 0.5-99.5 percentile window; MONOCHROME1 is
  inverted; colour (and palette colour, through its LUT) is converted to
  luminance.
* ``extremes``: a white-on-black mask of the pixels at the frame's maximum
  (and minimum) stored value. Modalities burn text at the largest value;
  a window that clips bright anatomy hides such text in ``display`` but the
  mask shows it at full contrast. A value that fills more than
  :data:`EXTREME_MAX_FRACTION` of the frame is background, not text, and is
  left out of the mask.

1-bit data (BitsAllocated 1, values 0/1) has only ``display``: each frame
shown as 0/255 (inverted for MONOCHROME1); an ``extremes`` mask would be the
same picture again.

Both renderings are computed with one lookup table per frame, which keeps a
16-bit 2k x 2k radiograph well under 10 ms per view.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.pixels import apply_color_lut, apply_voi_lut

EXTREME_MAX_FRACTION = 0.08


@dataclass(frozen=True)
class Window:
    """How stored values of one dataset map to display gray levels."""

    center: float | None
    width: float | None
    slope: float
    intercept: float
    invert: bool
    voi_lut: bool
    palette: bool
    binary: bool = False


def window_of(ds: Dataset) -> Window:
    """Read the display parameters once per dataset (not per frame)."""
    return Window(
        center=_first(ds.get("WindowCenter")),
        width=_first(ds.get("WindowWidth")),
        slope=float(ds.get("RescaleSlope", 1) or 1),
        intercept=float(ds.get("RescaleIntercept", 0) or 0),
        invert=ds.get("PhotometricInterpretation") == "MONOCHROME1",
        voi_lut="VOILUTSequence" in ds,
        palette=ds.get("PhotometricInterpretation") == "PALETTE COLOR",
        binary=int(ds.get("BitsAllocated", 0) or 0) == 1,
    )


def _first(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, MultiValue | list | tuple):
        value = value[0] if len(value) else None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def display_view(frame: np.ndarray, window: Window, ds: Dataset) -> np.ndarray:
    """The ``display`` rendering of one frame as uint8 (rows, columns)."""
    if frame.ndim == 3:
        return _color_to_gray(frame)
    if window.binary:
        view = np.where(frame != 0, np.uint8(255), np.uint8(0))
        return 255 - view if window.invert else view
    if window.palette:
        return _color_to_gray(apply_color_lut(frame, ds))
    if window.voi_lut:
        shown = apply_voi_lut(frame, ds).astype(np.float32)
        lo, hi = float(shown.min()), float(shown.max())
        view = _scale(shown, lo, hi)
    else:
        view = _lut_view(frame, window)
    return 255 - view if window.invert else view


def extremes_view(frame: np.ndarray) -> np.ndarray | None:
    """The ``extremes`` mask, or None when neither extreme looks like text."""
    if frame.ndim == 3:
        gray = frame.max(axis=2)
        mask = gray >= np.iinfo(frame.dtype).max
        return _mask_or_none(mask)
    lo, hi = int(frame.min()), int(frame.max())
    if lo == hi:
        return None
    mask = frame == hi
    low = frame == lo
    if low.mean() <= EXTREME_MAX_FRACTION:
        mask |= low
    return _mask_or_none(mask)


def _mask_or_none(mask: np.ndarray) -> np.ndarray | None:
    fraction = float(mask.mean())
    if fraction == 0.0 or fraction > EXTREME_MAX_FRACTION:
        return None
    return mask.astype(np.uint8) * 255


def _color_to_gray(frame: np.ndarray) -> np.ndarray:
    if frame.dtype != np.uint8:
        top = float(frame.max()) or 1.0
        frame = (frame.astype(np.float32) * (255.0 / top)).astype(np.uint8)
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)


def _lut_view(frame: np.ndarray, window: Window) -> np.ndarray:
    """Window through a lookup table indexed by stored value (fast for 16 bits); 32-bit
    frames (RT dose, some secondary captures) are windowed value by value instead, since
    a table of 2**32 entries is out of the question."""
    wide = frame.dtype.itemsize > 2
    if wide:
        stored = frame.astype(np.float64)
    else:
        offset = 1 << (8 * frame.dtype.itemsize - 1) if frame.dtype.kind == "i" else 0
        stored = np.arange(1 << (8 * frame.dtype.itemsize), dtype=np.float64) - offset
    if window.center is not None and window.width is not None and window.width > 1:
        values = stored * window.slope + window.intercept
        lo = window.center - 0.5 - (window.width - 1) / 2
        hi = window.center - 0.5 + (window.width - 1) / 2
    else:
        values = stored
        lo, hi = (float(v) for v in np.percentile(frame[::4, ::4], [0.5, 99.5]))
        if hi <= lo:
            lo, hi = float(frame.min()), float(frame.max())
    scaled = _scale(values, lo, hi)
    return scaled if wide else scaled[_unsigned(frame)]


def _unsigned(frame: np.ndarray) -> np.ndarray:
    """Same-width unsigned index: two's complement with the sign bit flipped is offset binary."""
    if frame.dtype.kind != "i":
        return frame
    unsigned = frame.view(frame.dtype.str.replace("i", "u"))
    return unsigned ^ unsigned.dtype.type(1 << (8 * frame.dtype.itemsize - 1))


def _scale(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    span = max(hi - lo, 1e-6)
    return np.clip((values - lo) * (255.0 / span), 0, 255).astype(np.uint8)
