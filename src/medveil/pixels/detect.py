"""Find and read the text lines of one frame.

For every rendering of the frame (:mod:`medveil.pixels.views`) the cheap
candidate search proposes crops, the neural detector finds text lines in
them, and the recognizer reads each line from the rendering it was found in.
Lines found in both renderings are merged, keeping every reading (a line is
redacted if any reading of it is PHI).

Text turned 90 degrees (an identification strip along a plate's edge) is
found by the candidate search as a column of letters; the detector runs on
that crop turned upright, and a vertical line is read turned both ways
(bottom to top and top to bottom: which one is right is not known), keeping
both readings, so PHI in either is redacted.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from medveil.pixels.candidates import Crop, candidate_crops
from medveil.pixels.ocr import OcrEngine, Reading
from medveil.pixels.report import Box, add_merged

# Above this share of the frame, candidate crops are no cheaper than a full scan.
FULL_SCAN_SHARE = 0.35
# A full scan brings the frame's longest side to this size, zooming at most
# 2x (small frames) and shrinking large ones.
FULL_SCAN_SIDE = 1280
FULL_SCAN_MAX_SCALE = 2.0
# Crops are scaled so their letters reach the detector's preferred height,
# zooming at most MAX_SCALE.
TARGET_CHARACTER_HEIGHT = 22.0
MAX_SCALE = 2.0
# A full scan cannot stretch each line's contrast; local histogram
# equalisation does the same for the whole frame at once.
_CLAHE = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8))
# Frames up to this size are scanned whole (at up to 2x): candidate search
# saves little there, and drawn lines (captures, ultrasound calipers) that
# touch text can hide it from the candidate search.
SMALL_SIDE = 1024
# Crops smaller than this many pixels are upscaled to it (at most 2x):
# detecting in a small crop is cheap, and small text needs the zoom.
BOOST_PIXELS = 40_000
# Upscaling stops at this many detector input pixels per crop: a crop that
# merged a tiny blob with large text must not be blown up as a whole.
MAX_CROP_PIXELS = 120_000
# A reading at least this confident is not repeated on another rendering.
CONFIDENT = 0.9
# Gray renderings besides the display (colour difference, pixels beyond the
# window) show text at full contrast, so it reads well there; what the detector
# finds there and the recognizer reads below this is texture (colour Doppler
# blobs, clipped bone), not text, and is left out.
RENDERING_SCORE = 0.6
# A line the detector finds upright that is this many times taller than wide
# is vertical text (a single tall letter such as "1" is about 2-3x).
VERTICAL_LINE = 2.5


@dataclass
class Line:
    """A detected text line with all readings of it."""

    box: Box
    readings: list[Reading]
    vertical: bool = False  # turned 90 degrees: read turned both ways
    view: int = 0  # the view it was first found in, where it can be read again

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.readings]

    @property
    def score(self) -> float:
        return max((r.score for r in self.readings), default=0.0)


def find_lines(
    views: list[np.ndarray],
    engine: OcrEngine,
    *,
    read: bool = True,
    near: list[Box] | None = None,
    region: Box | None = None,
    renderings: int = 1,
) -> list[Line]:
    """Detect (and with ``read``, recognize) text in every view.

    ``views[0]`` is the display rendering; the first ``renderings`` views are
    gray renderings, searched for text by their strokes (the display and its
    kin, such as :func:`medveil.pixels.views.colour_view`); the rest are
    white-on-black masks (:func:`medveil.pixels.views.extremes_view`), their
    own ink. A line found only in a gray rendering other than the display
    must read at least :data:`RENDERING_SCORE` there.

    With ``near`` (the verification pass after redaction), only candidate
    crops touching one of those boxes are scanned. A line already read
    confidently in an earlier view is not read again.

    With ``region`` (a part of a multi-frame image's frame that differs
    from the frame that had the full pass), the frame is scanned as a whole
    frame would be (same full-scan choice, scale and equalisation), but the
    detector runs only on that region or on candidate crops touching it.
    """
    lines: list[Line] = []
    for number, view in enumerate(views):
        whole = number == 0 and near is None
        mask = number >= renderings
        found = _detect(view, engine, near, whole, mask=mask, region=region)
        if not read:
            for box, vertical in found:
                _add(lines, Line(box, [], vertical, number))
            continue
        unread = [(b, v) for b, v in found if not _read_confidently(lines, b)]
        for box, vertical in found:
            if (box, vertical) not in unread:
                # grows the line's box; its reading stands
                _add(lines, Line(box, [], vertical, number))
        crops = [_line_crops(view, box, vertical) for box, vertical in unread]
        readings = iter(engine.recognize([c for pair in crops for c in pair]))
        for (box, vertical), pair in zip(unread, crops, strict=True):
            line = Line(box, [next(readings) for _ in pair], vertical, number)
            if 0 < number < renderings and line.score < RENDERING_SCORE:
                continue  # texture of a colour or clipped rendering, not text
            _add(lines, line)
    return lines


def read_turned(line: Line, views: list[np.ndarray], engine: OcrEngine) -> Reading:
    """The line read turned half a turn, from the view it was found in.

    Text burned in upside down (a plate put in the wrong way round) reads
    upright as confident nonsense ("NHOC HLIWS"); turned, it reads as what
    it says.
    """
    crop = _line_crops(views[line.view], line.box, vertical=False)[0]
    return engine.recognize([np.ascontiguousarray(crop[::-1, ::-1])])[0]


def _read_confidently(lines: list[Line], box: Box) -> bool:
    return any(line.score >= CONFIDENT and _same_line(line.box, box) for line in lines)


def _same_line(a: Box, b: Box) -> bool:
    shared = a.intersection(b)
    return shared > 0 and shared >= 0.5 * min(a.area, b.area)


def _detect(
    view: np.ndarray,
    engine: OcrEngine,
    near: list[Box] | None,
    whole: bool,
    *,
    mask: bool,
    region: Box | None = None,
) -> list[tuple[Box, bool]]:
    """Text boxes in one view, each with whether it is a vertical line.

    With ``whole``, small frames and frames whose candidates cover most of
    them are scanned whole; otherwise (the extremes mask, the verification
    pass) only candidate crops are.
    """
    rows, columns = view.shape
    if whole and max(rows, columns) <= SMALL_SIDE:
        return _upright(_full_scan(view, engine, region))
    if near is not None and mask:
        crops = _crops_near(view, near)
    else:
        crops = candidate_crops(view, mask=mask)
    if near is not None:
        crops = [c for c in crops if any(c[0].intersection(b) for b in near)]
    if region is not None:
        crops = [c for c in crops if c[0].intersection(region)]
    if whole and coverage([c.box for c in crops], rows, columns) > FULL_SCAN_SHARE:
        return _upright(_full_scan(view, engine, region))
    found: list[tuple[Box, bool]] = []
    for crop, height, vertical in crops:
        budget = (MAX_CROP_PIXELS / crop.area) ** 0.5
        boost = min(FULL_SCAN_MAX_SCALE, (BOOST_PIXELS / crop.area) ** 0.5)
        scale = float(np.clip(TARGET_CHARACTER_HEIGHT / max(height, 1), 0.5, MAX_SCALE))
        scale = min(max(scale, boost), max(0.5, budget))
        pixels = _stretch(view[crop.y0 : crop.y1, crop.x0 : crop.x1])
        if vertical:
            found += [
                (_unturn(box, crop), box.width >= box.height)
                for box in engine.detect(np.ascontiguousarray(np.rot90(pixels, -1)), scale)
            ]
        else:
            found += _upright(
                [box.shifted(crop.x0, crop.y0) for box in engine.detect(pixels, scale)]
            )
    return found


def _upright(boxes: list[Box]) -> list[tuple[Box, bool]]:
    """Boxes the detector found in an upright image; the very tall ones are vertical text."""
    return [(box, box.height >= VERTICAL_LINE * box.width) for box in boxes]


def _unturn(box: Box, crop: Box) -> Box:
    """A box found in ``crop`` turned clockwise (``np.rot90(pixels, -1)``), in the frame."""
    return Box(crop.x0 + box.y0, crop.y1 - box.x1, crop.x0 + box.y1, crop.y1 - box.x0)


def coverage(boxes: list[Box], rows: int, columns: int) -> float:
    """Share of the frame inside the union of ``boxes`` (on an 8x coarser grid)."""
    grid = np.zeros((rows // 8 + 1, columns // 8 + 1), dtype=bool)
    for b in boxes:
        grid[b.y0 // 8 : b.y1 // 8 + 1, b.x0 // 8 : b.x1 // 8 + 1] = True
    return float(grid.mean())


def _crops_near(view: np.ndarray, near: list[Box]) -> list[Crop]:
    """Candidate crops of a mask view, searched only in windows around ``near`` boxes."""
    rows, columns = view.shape
    windows: list[Box] = []
    for box in near:
        add_merged(windows, box.padded(3 * box.height, rows, columns))
    return [
        crop._replace(box=crop.box.shifted(w.x0, w.y0))
        for w in windows
        for crop in candidate_crops(view[w.y0 : w.y1, w.x0 : w.x1], mask=True)
    ]


def _full_scan(view: np.ndarray, engine: OcrEngine, region: Box | None = None) -> list[Box]:
    """The whole frame at once, scaled so small text reaches the detector's size.

    With ``region``, the frame is equalised whole but only that part is scanned.
    """
    scale = min(FULL_SCAN_MAX_SCALE, FULL_SCAN_SIDE / max(view.shape))
    equalised = _CLAHE.apply(view)
    if region is None:
        return engine.detect(equalised, scale)
    part = equalised[region.y0 : region.y1, region.x0 : region.x1]
    return [b.shifted(region.x0, region.y0) for b in engine.detect(part, scale)]


def _stretch(crop: np.ndarray) -> np.ndarray:
    """Spread a crop's own gray range over 0-255: faint text becomes plain text."""
    lo, hi = (float(v) for v in np.percentile(crop, [0.5, 99.5]))
    if hi - lo < 1:
        return crop
    return np.clip((crop.astype(np.float32) - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)


def _line_crops(view: np.ndarray, box: Box, vertical: bool) -> list[np.ndarray]:
    """The line with a little margin, which the recognizer reads best; a vertical
    line turned both ways (read bottom to top, and top to bottom)."""
    pad = max(2, (box.width if vertical else box.height) // 6)
    b = box.padded(pad, *view.shape)
    crop = _stretch(view[b.y0 : b.y1, b.x0 : b.x1])
    if not vertical:
        return [crop]
    return [np.ascontiguousarray(np.rot90(crop, -1)), np.ascontiguousarray(np.rot90(crop, 1))]


def _add(lines: list[Line], new: Line) -> None:
    """Merge ``new`` into a line it mostly overlaps, else append it."""
    for line in lines:
        if _same_line(line.box, new.box):
            line.box = line.box.union(new.box)
            line.readings.extend(new.readings)
            line.vertical = line.vertical or new.vertical
            return
    lines.append(new)
