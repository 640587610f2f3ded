"""Burned-in text inside overlay planes (60xx,3000) that the policy keeps.

The Basic profile removes Overlay Data, but an override or the Clean
Graphics option may keep it; overlays then get the same treatment as pixel
data: each plane is unpacked to a bitmap, rendered white on black, OCR'd,
and the bits inside redacted boxes are cleared. Overlays are 1-bit, so the
fill is "off", which is what an overlay without annotation looks like.

Overlays embedded in the unused high bits of Pixel Data (a retired
encoding) are removed outright by :func:`medveil.pixels.clean_pixels`:
reading the frames clears every set bit above BitsStored and has the
pixels rewritten (:attr:`medveil.pixels.codec.Frames.hidden`).
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import pack_bits

from medveil.deid.policy import PixelMode
from medveil.deid.text import PhiLexicon
from medveil.errors import PixelCleaningError
from medveil.pixels.detect import find_lines
from medveil.pixels.ocr import engine
from medveil.pixels.phi import PhiJudge, decide

OVERLAY_GROUPS = range(0x6000, 0x6020, 2)


def clean_overlays(dataset: Dataset, *, mode: PixelMode, phi: PhiLexicon) -> int:
    """Clear text in every kept overlay plane; return how many planes changed."""
    if mode == PixelMode.OFF:
        return 0
    judge = PhiJudge(phi)
    changed = 0
    for group in OVERLAY_GROUPS:
        if (group, 0x3000) not in dataset:
            continue
        _drop_undeclared_bits(dataset, group)
        try:
            bitmap = dataset.overlay_array(group).astype(bool)
        except Exception as exc:  # an overlay we cannot read could hold PHI
            raise PixelCleaningError(f"cannot decode overlay group {group:04X}: {exc}") from exc
        planes = bitmap if bitmap.ndim == 3 else bitmap[np.newaxis]
        dirty = False
        for plane in planes:
            boxes = [
                line.box.padded(max(2, line.box.height // 8), *plane.shape)
                for line in find_lines([_view(plane)], engine())
                if decide(line, mode, judge, 0).action == "redact"
            ]
            if not boxes:
                continue  # nothing read there was PHI, and re-reading it would say the same
            for box in boxes:
                plane[box.y0 : box.y1, box.x0 : box.x1] = False
            dirty = True
            for line in find_lines([_view(plane)], engine()):
                if any(judge.is_phi(t) for t in line.texts):
                    raise PixelCleaningError(f"PHI still readable in overlay group {group:04X}")
        if dirty:
            dataset[group, 0x3000].value = pack_bits(planes.ravel().astype(np.uint8))
            changed += 1
    return changed


def _drop_undeclared_bits(dataset: Dataset, group: int) -> None:
    """Cut Overlay Data to the planes its rows, columns and frame count declare: bytes
    past them are read by no viewer and by no OCR here, and may hold a plane of their own."""
    try:
        rows, columns = int(dataset[group, 0x0010].value), int(dataset[group, 0x0011].value)
        declared_frames = dataset.get((group, 0x0015))
        frames = int(declared_frames.value or 1) if declared_frames is not None else 1
    except (KeyError, TypeError, ValueError) as exc:
        raise PixelCleaningError(f"overlay group {group:04X} has no usable size") from exc
    declared = (rows * columns * frames + 7) // 8
    declared += declared % 2  # values have an even length
    data = dataset[group, 0x3000].value
    if isinstance(data, bytes | bytearray) and len(data) > declared:
        dataset[group, 0x3000].value = bytes(data[:declared])


def _view(plane: np.ndarray) -> np.ndarray:
    """An overlay plane rendered white on black for OCR."""
    return plane.astype(np.uint8) * 255
