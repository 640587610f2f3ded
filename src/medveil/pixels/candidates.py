"""Cheap search for places that may hold text, so the OCR detector runs on crops.

Running the neural detector over a whole 2-3k px radiograph costs ~0.5-1 s
on one core; anatomy rarely looks like text at the scale of letter strokes,
so a morphological pre-filter finds the few regions worth a closer look:

1. white and black top-hats mark thin bright and dark strokes, thresholded
   at :data:`EDGE_LEVEL` gray levels above the local noise (text well below
   that contrast is not readable by a human either);
2. a horizontal closing joins the letters of a line into one blob;
3. blobs whose height and fill look like a text line (not a rib edge, not
   speckle) are kept, grown by a margin and merged into crops.

The filter is deliberately permissive; the detector decides what is text.
When the candidate crops cover most of the frame (speckled ultrasound, busy
secondary captures) the caller scans the whole frame instead.
"""

from __future__ import annotations

import cv2
import numpy as np

from medveil.pixels.report import Box

EDGE_LEVEL = 16
# Strokes up to ~this width (text up to ~70 px tall) stand out of a top-hat;
# region borders (an ultrasound sector, a collimator edge) do not, so text
# that touches them is not swallowed into one huge component.
STROKE_KERNEL = 9
NOISE_WINDOW = 100
NOISE_FACTOR = 2.5
MIN_LINE_HEIGHT = 8
MAX_LINE_HEIGHT = 200
MIN_FILL = 0.12
# In a mask view, text never fills its line solid; a solid block there is a
# redaction box or a plate (stroke maps of the display view have no solid
# blocks, but small dense text can fill its line there).
MAX_FILL = 0.85
# Single letters (the "L" of a laterality marker) are narrower than tall.
MIN_WIDTH = 0.3
POOL_ABOVE = 1024
MERGE_GROWTH = 1.5
MAX_CROP_AREA = 250_000  # pixels; a text block is smaller, anatomy chains are not
# Letters less than this tall (ink blobs of anatomy texture, speckle) are
# not text anyone can read; crops where most blobs are smaller are dropped.
MIN_CHARACTER = 6


def candidate_crops(view: np.ndarray, *, mask: bool = False) -> list[tuple[Box, int]]:
    """Regions of ``view`` (uint8) that may hold text, with their character height.

    A ``mask`` view (the white-on-black extremes rendering) is its own ink map.
    """
    rows, columns = view.shape
    if mask:
        ink = (view > 0).astype(np.uint8)
    else:
        kernel = np.ones((STROKE_KERNEL, STROKE_KERNEL), np.uint8)
        strokes = np.maximum(
            cv2.morphologyEx(view, cv2.MORPH_TOPHAT, kernel),
            cv2.morphologyEx(view, cv2.MORPH_BLACKHAT, kernel),
        )
        ink = (strokes >= _edge_threshold(strokes)).astype(np.uint8)
    # Strokes are found at full resolution (thin strokes of small text survive),
    # then max-pooled to half size, which quarters the cost of what follows.
    step = 2 if max(rows, columns) > POOL_ABOVE else 1
    edges = ink
    if step == 2:
        # A side of 1 px (a 1 x 2000 strip) stays 1 px: cv2 refuses a zero size.
        size = (max(1, columns // 2), max(1, rows // 2))
        pooled = cv2.resize(ink, size, interpolation=cv2.INTER_AREA)
        edges = (pooled > 0).astype(np.uint8)
    joined = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, np.ones((3, 9 // step), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    lines: list[tuple[Box, int]] = []
    for x, y, w, h, area in stats[1:count] * step:
        if not MIN_LINE_HEIGHT <= h <= MAX_LINE_HEIGHT or w < MIN_WIDTH * h:
            continue
        fill = area * step / (w * h)
        if fill < MIN_FILL or (mask and fill > MAX_FILL):
            continue
        lines.append((Box(int(x), int(y), int(x + w + step), int(y + h + step)), int(h)))
    crops = []
    for crop, height in _merge(lines, rows, columns):
        letters = _letter_heights(ink, crop)
        if len(letters) and np.percentile(letters, 75) < MIN_CHARACTER:
            continue  # specks of texture, not letters
        # A low quantile: letters that touch each other or a line measure taller.
        crops.append((crop, int(np.percentile(letters, 25)) if len(letters) else height))
    return crops


def _letter_heights(ink: np.ndarray, crop: Box) -> np.ndarray:
    """Heights of the ink blobs in ``crop``: the letters, in a line of text.

    The detector is run at the scale that brings letters to its preferred
    size; a line blob's own height is a poor guide when the line touched an
    edge (a text line crossing a drawn curve measures as tall as the curve).
    """
    count, _, stats, _ = cv2.connectedComponentsWithStats(
        ink[crop.y0 : crop.y1, crop.x0 : crop.x1], connectivity=8
    )
    blobs = stats[1:count]
    return blobs[(blobs[:, 3] >= 3) & (blobs[:, 4] >= 4), 3]


def _edge_threshold(strokes: np.ndarray) -> np.ndarray:
    """Per-pixel edge level: :data:`EDGE_LEVEL`, raised where the image is noisy.

    The local noise is the mean stroke response over ~100 px (a text line is a small
    part of that), computed on a 4x smaller image for speed.
    """
    rows, columns = strokes.shape
    small = cv2.resize(
        strokes, (max(1, columns // 4), max(1, rows // 4)), interpolation=cv2.INTER_AREA
    )
    local = cv2.blur(small.astype(np.float32), (NOISE_WINDOW // 4, NOISE_WINDOW // 4))
    level = np.clip(np.maximum(EDGE_LEVEL, NOISE_FACTOR * local), 0, 255).astype(np.uint8)
    return cv2.resize(level, (columns, rows), interpolation=cv2.INTER_NEAREST)


def _merge(lines: list[tuple[Box, int]], rows: int, columns: int) -> list[tuple[Box, int]]:
    """Grow each line by a margin and merge overlapping crops.

    Two crops merge only when their union is not much larger than both
    together, nor larger than :data:`MAX_CROP_AREA`: chains of merges across
    anatomy would otherwise build one crop the size of the image. Crops that
    stay apart may overlap; lines found twice are merged after detection.
    """
    crops: list[tuple[Box, int]] = []
    for box, height in sorted(lines, key=lambda item: (item[0].y0, item[0].x0)):
        grown = box.padded(max(8, height), rows, columns)
        merged = True
        while merged:
            merged = False
            for i, (other, other_height) in enumerate(crops):
                union = grown.union(other)
                if (
                    grown.intersection(other)
                    and union.area <= MERGE_GROWTH * (grown.area + other.area)
                    and union.area <= MAX_CROP_AREA
                ):
                    grown = union
                    height = min(height, other_height)
                    del crops[i]
                    merged = True
                    break
        crops.append((grown, height))
    return crops
