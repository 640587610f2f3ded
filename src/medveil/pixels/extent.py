"""From detected text boxes to the rectangles that are filled.

The detector's box sometimes stops short of a line's first or last letter,
and sometimes splits one line into two boxes with a gap. A redaction must
cover the whole line, so each box is

1. snapped sideways to the ink it touches: columns of the line's rows that
   carry strokes as strong as the line's own, continuing the line with gaps
   no wider than a space;
2. padded by a fraction of its height: 0.3 (at least 4 px) up and down
   (stroke edges, descenders, capitals the box cut), 1.3 sideways (about
   two letters, for a faint first or last character that neither the
   detector nor the snapping saw: the benchmark's misses were of that kind);
3. bridged to a neighbouring redaction on the same line when the gap
   between them is narrower than a letter.
"""

from __future__ import annotations

import cv2
import numpy as np

from medveil.pixels.report import Box

PAD_X = 1.3
PAD_Y = 0.3
MAX_SNAP = 3.0  # at most this many line heights added on each side
MAX_GAP = 0.7  # largest blank run, in line heights, still inside the line
# A column is ink when its strokes reach this share of the line's own (95th
# percentile) stroke strength: letters on a darker part of the background
# are weaker than the rest of their line.
INK_SHARE = 0.25
MIN_INK = 8.0  # gray levels: below the candidate search, only a line's ends are searched
_KERNEL = np.ones((9, 9), np.uint8)
# As tall for its width as a detected vertical line (medveil.pixels.detect).
VERTICAL_LINE = 2.5


def redaction_boxes(boxes: list[Box], views: list[np.ndarray]) -> list[Box]:
    """Final fill rectangles for the detected ``boxes`` (same order, then bridged).

    A vertical line (text turned 90 degrees, :data:`VERTICAL_LINE` times taller than
    wide) is snapped and padded along its column: the frame is turned for it.
    """
    turned: list[np.ndarray] = []
    grown = []
    for box in boxes:
        if box.height < VERTICAL_LINE * box.width:
            grown.append(_pad(_snap(box, views), views[0].shape))
            continue
        if not turned:
            turned = [np.ascontiguousarray(view.T) for view in views]
        grown.append(_turn(_pad(_snap(_turn(box), turned), turned[0].shape)))
    return _bridge(grown)


def _turn(box: Box) -> Box:
    """The box in the transposed frame (and back)."""
    return Box(box.y0, box.x0, box.y1, box.x1)


def _snap(box: Box, views: list[np.ndarray]) -> Box:
    columns = views[0].shape[1]
    reach = int(MAX_SNAP * box.height)
    x0, x1 = max(0, box.x0 - reach), min(columns, box.x1 + reach)
    core = max(1, box.height // 4)
    y0, y1 = box.y0 + core, max(box.y0 + core + 1, box.y1 - core)
    ink = np.zeros(x1 - x0, dtype=bool)
    for view in views:
        band = view[box.y0 : box.y1, x0:x1]
        strokes = np.maximum(
            cv2.morphologyEx(band, cv2.MORPH_TOPHAT, _KERNEL),
            cv2.morphologyEx(band, cv2.MORPH_BLACKHAT, _KERNEL),
        )
        inside = strokes[:, box.x0 - x0 : box.x1 - x0]
        if inside.size == 0:
            continue
        level = max(MIN_INK, INK_SHARE * float(np.percentile(inside, 95)))
        ink |= (strokes[y0 - box.y0 : y1 - box.y0] >= level).any(axis=0)
    gap = max(2, int(MAX_GAP * box.height))
    left = box.x0 - x0
    blank = 0
    for x in range(box.x0 - x0 - 1, -1, -1):
        blank = 0 if ink[x] else blank + 1
        if blank > gap:
            break
        if ink[x]:
            left = x
    right = box.x1 - x0
    blank = 0
    for x in range(box.x1 - x0, x1 - x0):
        blank = 0 if ink[x] else blank + 1
        if blank > gap:
            break
        if ink[x]:
            right = x + 1
    return Box(x0 + left, box.y0, x0 + right, box.y1)


def _pad(box: Box, shape: tuple[int, ...]) -> Box:
    rows, columns = shape[0], shape[1]
    pad_x, pad_y = max(4, int(PAD_X * box.height)), max(4, int(PAD_Y * box.height))
    return Box(
        max(0, box.x0 - pad_x),
        max(0, box.y0 - pad_y),
        min(columns, box.x1 + pad_x),
        min(rows, box.y1 + pad_y),
    )


def _bridge(boxes: list[Box]) -> list[Box]:
    """Join boxes of one line separated by less than a letter."""
    result: list[Box] = []
    for box in sorted(boxes, key=lambda b: (b.y0, b.x0)):
        for i, other in enumerate(result):
            overlap = min(box.y1, other.y1) - max(box.y0, other.y0)
            gap = max(box.x0, other.x0) - min(box.x1, other.x1)
            if overlap >= 0.5 * min(box.height, other.height) and gap <= min(
                box.height, other.height
            ):
                result[i] = other.union(box)
                break
        else:
            result.append(box)
    return result
