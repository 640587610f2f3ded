"""8-bit renderings of a frame for OCR, one per way text can hide.

OCR models see 8-bit images, but burned-in text lives in stored values of up to
32 bits. These renderings are scanned:

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
* ``colour``: colour frames only, how far each pixel's colour is from grey.
  ``display`` keeps only luminance, so red text on a grey of equal luminance
  vanishes there; here it is bright on black. Added only when some pixel is
  at least :data:`COLOUR_LEVEL` from grey: grey images stored as colour
  (most captures) pay nothing.
* ``outside``: the pixels beyond the window, each side stretched over 0-255
  (in-window pixels black). A window clips a bright plate and the text
  burned into it to one white, and ``extremes`` helps only when the text
  is at the frame's maximum. Added only when at least
  :data:`OUTSIDE_MIN_PIXELS` pixels lie beyond the window on one side with
  more than one stored value there (a flat clipped plate with nothing in it
  has nothing to read), reaching :data:`OUTSIDE_LEVELS` gray levels of the
  window beyond it; an image inside its window pays nothing.

``display``, ``colour`` and ``outside`` are gray renderings; ``extremes``
is a white-on-black mask.

1-bit data (BitsAllocated 1, values 0/1) has only ``display``: each frame
shown as 0/255 (inverted for MONOCHROME1); an ``extremes`` mask would be the
same picture again.

``display`` and ``outside`` are computed with one lookup table per frame
(``outside`` after one histogram), which keeps a 16-bit 2k x 2k radiograph
well under 10-15 ms per view.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.pixels import apply_color_lut, apply_voi_lut

EXTREME_MAX_FRACTION = 0.08
# Gray levels of colour difference that can make a stroke (the candidate search's level).
COLOUR_LEVEL = 16
# Fewest pixels beyond the window on one side that can hold a text line and its plate.
OUTSIDE_MIN_PIXELS = 200
# A side whose values reach less than this many of the window's gray levels
# beyond its edge is left out: text there would differ from its plate by less
# than a stroke's contrast in the window (the dark margin of a radiograph, a
# few units below the window's bottom).
OUTSIDE_LEVELS = 16
# Each side of ``outside`` is stretched from the window's edge to this percentile
# (from that side's extreme) of its pixels, so a few pixels at the very end of the
# range cannot squeeze the text's levels together.
OUTSIDE_TAIL = 0.005


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
        return _color_to_gray(_rgb8(frame))
    if window.binary:
        view = np.where(frame != 0, np.uint8(255), np.uint8(0))
        return 255 - view if window.invert else view
    if window.palette:
        return _color_to_gray(_rgb8(apply_color_lut(frame, ds)))
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


def colour_view(frame: np.ndarray, window: Window, ds: Dataset) -> np.ndarray | None:
    """The ``colour`` rendering (largest per-channel distance from the pixel's own
    luminance, stretched to 0-255), or None for a frame without colour."""
    if frame.ndim == 3:
        rgb = _rgb8(frame)
    elif window.palette:
        rgb = _rgb8(apply_color_lut(frame, ds))
    else:
        return None
    gray = _color_to_gray(rgb)
    # channel by channel in OpenCV: numpy's max over axis 2 takes ten times as long
    red, green, blue = cv2.split(rgb)
    distance = cv2.max(
        cv2.max(cv2.absdiff(red, gray), cv2.absdiff(green, gray)), cv2.absdiff(blue, gray)
    )
    top = int(distance.max())
    if top < COLOUR_LEVEL:
        return None
    return _scale(distance, 0, top)


def outside_view(frame: np.ndarray, window: Window, display: np.ndarray) -> np.ndarray | None:
    """The ``outside`` rendering of a gray frame, or None when nothing hides beyond the window.

    ``display`` (this frame's display rendering) is the cheap first test: a
    pixel beyond the window is black or white there. 32-bit frames are left
    out (their windowing has no lookup table to reuse).
    """
    if frame.ndim == 3 or window.palette or window.voi_lut or window.binary:
        return None
    if frame.dtype.itemsize > 2:
        return None
    clipped = np.count_nonzero(display == 0) + np.count_nonzero(display == 255)
    if clipped < OUTSIDE_MIN_PIXELS:
        return None
    values, lo, hi = _window_table(frame, window)
    index = _unsigned(frame)
    # OpenCV's histogram of 16-bit data is several times faster than np.bincount.
    counts = cv2.calcHist([index], [0], None, [values.size], [0, values.size]).ravel()
    table = np.zeros(values.size, dtype=np.uint8)
    used = False
    for beyond, sign, edge in ((values > hi, 1.0, hi), (values < lo, -1.0, lo)):
        side = np.where(beyond, counts, 0)
        if side.sum() < OUTSIDE_MIN_PIXELS or np.count_nonzero(side) < 2:
            continue
        tail = _tail(values, side, sign)
        if abs(tail - edge) * 255.0 < OUTSIDE_LEVELS * (hi - lo):
            continue
        table[beyond] = _scale(sign * values[beyond], sign * edge, sign * tail)
        used = True
    return table[index] if used else None


def _tail(values: np.ndarray, counts: np.ndarray, sign: float) -> float:
    """The value :data:`OUTSIDE_TAIL` of the way in from the far end of one side's pixels."""
    order = np.arange(values.size) if sign < 0 else np.arange(values.size)[::-1]
    running = np.cumsum(counts[order])
    far = int(np.searchsorted(running, OUTSIDE_TAIL * running[-1], side="right"))
    return float(values[order[min(far, values.size - 1)]])


def _rgb8(frame: np.ndarray) -> np.ndarray:
    """A colour frame as contiguous 8-bit RGB (deeper data scaled by its maximum)."""
    if frame.dtype != np.uint8:
        top = float(frame.max()) or 1.0
        frame = (frame.astype(np.float32) * (255.0 / top)).astype(np.uint8)
    return np.ascontiguousarray(frame)


def _color_to_gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _lut_view(frame: np.ndarray, window: Window) -> np.ndarray:
    """Window through a lookup table indexed by stored value (fast for 16 bits); 32-bit
    frames (RT dose, some secondary captures) are windowed value by value instead, since
    a table of 2**32 entries is out of the question."""
    values, lo, hi = _window_table(frame, window)
    scaled = _scale(values, lo, hi)
    return scaled if frame.dtype.itemsize > 2 else scaled[_unsigned(frame)]


def _window_table(frame: np.ndarray, window: Window) -> tuple[np.ndarray, float, float]:
    """The windowed value of every stored value (indexed as :func:`_unsigned` indexes;
    for 32-bit frames, of every pixel) and the window's bottom and top."""
    if frame.dtype.itemsize > 2:
        stored = frame.astype(np.float64)
    else:
        offset = 1 << (8 * frame.dtype.itemsize - 1) if frame.dtype.kind == "i" else 0
        stored = np.arange(1 << (8 * frame.dtype.itemsize), dtype=np.float64) - offset
    if window.center is not None and window.width is not None and window.width > 1:
        lo = window.center - 0.5 - (window.width - 1) / 2
        hi = window.center - 0.5 + (window.width - 1) / 2
        return stored * window.slope + window.intercept, lo, hi
    lo, hi = (float(v) for v in np.percentile(frame[::4, ::4], [0.5, 99.5]))
    if hi <= lo:
        lo, hi = float(frame.min()), float(frame.max())
    return stored, lo, hi


def _unsigned(frame: np.ndarray) -> np.ndarray:
    """Same-width unsigned index: two's complement with the sign bit flipped is offset binary."""
    if frame.dtype.kind != "i":
        return frame
    unsigned = frame.view(frame.dtype.str.replace("i", "u"))
    return unsigned ^ unsigned.dtype.type(1 << (8 * frame.dtype.itemsize - 1))


def _scale(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    span = max(hi - lo, 1e-6)
    return np.clip((values - lo) * (255.0 / span), 0, 255).astype(np.uint8)
