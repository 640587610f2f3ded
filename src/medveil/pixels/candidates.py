"""Cheap search for places that may hold text, so the OCR detector runs on crops.

Running the neural detector over a whole 2-3k px radiograph costs ~0.5-1 s
on one core; anatomy rarely looks like text at the scale of letter strokes,
so a morphological pre-filter finds the few regions worth a closer look:

1. white and black top-hats mark thin bright and dark strokes, thresholded
   at :data:`EDGE_LEVEL` gray levels above the local noise (text well below
   that contrast is not readable by a human either);
2. a horizontal closing joins the letters of a line into one blob;
3. blobs whose height and fill look like a text line (not a rib edge, not
   speckle) are kept, grown by a margin and merged into crops;
4. the same ink map is searched down the frame for columns of letters: text
   turned 90 degrees, such as the identification strip along the edge of a
   radiograph or mammogram (:func:`_vertical_crops`). Those crops are marked
   ``vertical``: the detector reads them turned upright.

The filter is deliberately permissive; the detector decides what is text.
When the candidate crops cover most of the frame (speckled ultrasound, busy
secondary captures) the caller scans the whole frame instead.
"""

from __future__ import annotations

from typing import NamedTuple

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
# Columns of letters (text turned 90 degrees): at least this many times
# longer than wide, with at least this many letter blobs, each at least this
# many px across the column (text under ~14 px is not searched turned) and
# at least this long along the column for its size across it.
VERTICAL_ASPECT = 2.5
VERTICAL_LETTERS = 3
VERTICAL_CHARACTER = 10
VERTICAL_SLIVER = 0.2


class Crop(NamedTuple):
    """A region that may hold text, with the height of its letters.

    ``vertical`` crops hold a column of letters (text turned 90 degrees, read
    bottom to top or top to bottom): ``height`` is then the letters' extent
    across the column, and the detector is run on the crop turned upright.
    """

    box: Box
    height: int
    vertical: bool = False


def candidate_crops(view: np.ndarray, *, mask: bool = False) -> list[Crop]:
    """Regions of ``view`` (uint8) that may hold text, with their character height.

    A ``mask`` view (the white-on-black extremes rendering) is its own ink map.
    Lines of letters are searched across the frame (the usual case) and, on
    the same ink map, down it (:func:`_vertical_crops`).
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
    lines = _line_blobs(stats[1:count] * step, step, mask)
    crops = []
    for crop, height in _merge(lines, rows, columns):
        letters = _letter_heights(ink, crop)
        if len(letters) and np.percentile(letters, 75) < MIN_CHARACTER:
            continue  # specks of texture, not letters
        # A low quantile: letters that touch each other or a line measure taller.
        crops.append(Crop(crop, int(np.percentile(letters, 25)) if len(letters) else height))
    return crops + _vertical_crops(ink, edges, step)


def _line_blobs(stats: np.ndarray, step: int, mask: bool) -> list[tuple[Box, int]]:
    """The blobs (rows of x, y, w, h, area, in full-size pixels) shaped like a text line."""
    lines: list[tuple[Box, int]] = []
    for x, y, w, h, area in stats:
        if not MIN_LINE_HEIGHT <= h <= MAX_LINE_HEIGHT or w < MIN_WIDTH * h:
            continue
        fill = area * step / (w * h)
        if fill < MIN_FILL or (mask and fill > MAX_FILL):
            continue
        lines.append((Box(int(x), int(y), int(x + w + step), int(y + h + step)), int(h)))
    return lines


def _vertical_crops(ink: np.ndarray, edges: np.ndarray, step: int) -> list[Crop]:
    """Columns of letters: text turned 90 degrees (an identification strip along
    the edge of a radiograph or mammogram).

    The search for lines across the frame runs again down the (pooled) ink
    map, with stricter tests, since many things in an image are
    long and narrow and none of them should cost a detector run: the column
    must be :data:`VERTICAL_ASPECT` times longer than wide (a few letters),
    and hold at least :data:`VERTICAL_LETTERS` separate blobs at least
    :data:`VERTICAL_CHARACTER` px across (a ruler, a catheter, a drawn or
    collimator line is one long blob; the ticks of a scale are flat slivers,
    not letters; anatomy texture is smaller). The letters are not joined
    across the column, so two columns (lines of a turned block) a few pixels
    apart stay two columns.
    """
    joined = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, np.ones((9 // step, 1), np.uint8))
    # Outlines, not labelled components: this map is sparse, and tracing it costs
    # a fraction of labelling every pixel of the frame again.
    contours, _ = cv2.findContours(joined, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return []
    rects = np.array([cv2.boundingRect(c) for c in contours])
    across, along = rects[:, 2] * step, rects[:, 3] * step
    rects = rects[
        (along >= VERTICAL_ASPECT * across)
        & (across >= MIN_LINE_HEIGHT)
        & (across <= MAX_LINE_HEIGHT)
    ]
    # Turned lines (x and y swapped), so the merge of lines across the frame applies.
    # No test of solid fill: small dense letters close up solid at half size, and a
    # solid block (a filled redaction in a mask view) is one blob, not letters.
    lines = [
        (Box(y * step, x * step, (y + h + 1) * step, (x + w + 1) * step), w * step)
        for x, y, w, h in rects.tolist()
        if np.count_nonzero(joined[y : y + h, x : x + w]) >= MIN_FILL * w * h
    ]
    crops = []
    for turned, _ in _merge(lines, ink.shape[1], ink.shape[0]):
        crop = Box(turned.y0, turned.x0, turned.y1, turned.x1)
        blobs = _letters(ink, crop)
        # Letters measured across the column: their height when read.
        across, along = blobs[:, 2], blobs[:, 3]
        letters = blobs[(across >= VERTICAL_CHARACTER) & (along >= VERTICAL_SLIVER * across)]
        if len(letters) >= VERTICAL_LETTERS:
            crops.append(Crop(crop, int(np.percentile(letters[:, 2], 25)), vertical=True))
    return crops


def _letters(ink: np.ndarray, crop: Box) -> np.ndarray:
    """Stats (x, y, w, h, area) of the ink blobs of ``crop`` big enough to be letters."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(
        ink[crop.y0 : crop.y1, crop.x0 : crop.x1], connectivity=8
    )
    blobs = stats[1:count]
    return blobs[(blobs[:, 2] >= 3) & (blobs[:, 3] >= 3) & (blobs[:, 4] >= 4)]


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
