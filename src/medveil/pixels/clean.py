"""``clean_pixels``: detect, decide, redact and verify burned-in text in every frame.

Per frame: OCR finds text lines (:mod:`medveil.pixels.detect`), each line is
redacted or kept according to the mode (:func:`decide`; in ``phi`` mode kept
lines get two second looks, :func:`_decide`: the row of fragments they are
part of, and their reading turned upside down), template regions are added,
the boxes are filled, and a verification pass runs OCR again on the
redacted frame. PHI that verification still reads is redacted too and
the frame verified again; after :data:`VERIFY_ROUNDS` passes that still
read PHI the file is refused (:class:`PixelCleaningError`). Verification
looks at the regions whose pixels changed: every other region is
bit-identical to what the first pass already judged, so re-reading it could
only repeat the same answer.

An object without an image (structured report, RT plan, waveform...) has
only its overlay planes cleaned; it gets no BurnedInAnnotation, which its IOD
does not have.

Fill value: the darkest displayed value (the smallest stored value of the
dataset for MONOCHROME2, the largest for MONOCHROME1, 0 for colour and
palette indices), so a redaction reads as a black box and never leaves the
data's value range (which a literal 0 could do for signed CT or offset data).
1-bit data (binary segmentations) is filled with 0, a cleared bit.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import cv2
import numpy as np
from pydicom.dataset import Dataset

from medveil.deid.policy import PixelMode
from medveil.deid.text import PhiLexicon
from medveil.errors import PixelCleaningError
from medveil.pixels.codec import Frames, read_frames, write_frames
from medveil.pixels.detect import Line, find_lines, read_turned
from medveil.pixels.extent import redaction_boxes
from medveil.pixels.ocr import OcrEngine, engine
from medveil.pixels.overlays import clean_overlays
from medveil.pixels.phi import CONFIDENT, PhiJudge, decide, judge_rows, words
from medveil.pixels.report import Box, PixelReport, TextRegion, add_merged
from medveil.pixels.templates import TemplateSet
from medveil.pixels.views import (
    Window,
    colour_view,
    display_view,
    extremes_view,
    outside_view,
    window_of,
)

REVIEW_SIDE = 768
# Verification passes per frame: PHI found by a pass is redacted and the
# frame verified again; PHI still read by the last pass quarantines the file.
VERIFY_ROUNDS = 3
# Multi-frame reuse (:func:`_changed_regions`): differing pixels are gathered
# on tiles of this size, grown by this margin, and a frame whose changed
# boxes cover more than this share of it gets the full pass.
CHANGE_TILE = 16
CHANGE_MARGIN = 32
CHANGE_FULL_PASS = 0.9
# Kept lines this many letters and digits long or longer are read turned half a turn too.
TURNED_CHARACTERS = 4
# Pixel Data, Float Pixel Data, Double Float Pixel Data: an object with none of them
# has no image to clean (float images are refused by the decoder, failing closed).
PIXEL_DATA_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)


def clean_pixels(
    dataset: Dataset,
    *,
    mode: PixelMode,
    phi: PhiLexicon,
    templates: TemplateSet | None = None,
    original: Dataset | None = None,
    keep_review_images: bool = False,
) -> PixelReport:
    """Remove burned-in text from every frame of ``dataset`` in place.

    ``phi`` is the lexicon of the *original* header; ``original`` (optional)
    is the original dataset, used only to match device templates when the
    de-identified copy no longer names the device. Raises
    :class:`PixelCleaningError` when the pixels cannot be decoded or encoded,
    or when PHI is still readable after redaction.
    """
    report = PixelReport(mode=str(mode))
    if mode == PixelMode.OFF:
        return report
    clock = _Clock(report.timings)
    if not any(tag in dataset for tag in PIXEL_DATA_TAGS):
        # No image (SR, RT plan or structure set, waveform, key objects, presentation
        # states): only overlay planes can carry burned-in text.
        with clock("overlays"):
            report.overlays_cleaned = clean_overlays(dataset, mode=mode, phi=phi)
        report.verified = True
        return report
    with clock("decode"):
        frames = read_frames(dataset)
    report.frames = frames.count
    rules = templates if templates is not None else TemplateSet.shipped()
    fixed = rules.regions_for(original if original is not None else dataset)
    judge = PhiJudge(phi)
    ocr = engine()
    window = window_of(dataset)
    fill = _fill_value(frames, dataset)
    # Data no viewer shows (bits above BitsStored, such as retired embedded
    # overlays; bytes or frames beyond the declared ones) vanishes when the
    # decoded frames are written back.
    changed = frames.hidden
    read = mode == PixelMode.PHI
    # The last frame that had the full detection pass, its views, how many of
    # them are renderings, and its decisions: later frames with as many
    # renderings reuse them where their views are identical.
    reference: tuple[list[np.ndarray], int, list[TextRegion]] | None = None
    for index in range(frames.count):
        frame = frames.array[index]
        with clock("detect"):
            before, renderings = _views(frame, window, dataset)
            moved = None
            if reference is not None and reference[1] == renderings:
                moved = _changed_regions(before, reference[0])
            if reference is None or moved is None:
                lines = find_lines(before, ocr, read=read, renderings=renderings)
                decided = _decide(lines, before, mode, judge, ocr, index)
                reference = (before, renderings, decided)
            else:
                # Lines in unchanged pixels are the reference's, already decided.
                regions_moved, mask = moved
                lines = [
                    line
                    for region in regions_moved
                    for line in find_lines(
                        before, ocr, read=read, region=region, renderings=renderings
                    )
                    if mask[line.box.y0 : line.box.y1, line.box.x0 : line.box.x1].any()
                ]
                decided = _decide(lines, before, mode, judge, ocr, index)
                decided += [replace(r, frame=index) for r in reference[2]]
            report.lines_found += len(decided)
            regions = [r for r in decided if r.action == "keep"] + _redactions(decided, before)
        regions += [TextRegion(index, box, "redact", "template") for _, box in fixed]
        report.regions += regions
        boxes = [r.box for r in regions if r.action == "redact"]
        if not boxes:
            continue
        with clock("redact"):
            _fill(frame, boxes, fill)
            changed = True
        with clock("verify"):
            after, renderings = _views(frame, window, dataset)
            for attempt in range(1, VERIFY_ROUNDS + 1):
                leftover = _readable_phi(after, boxes, judge, ocr, index, renderings)
                if not leftover:
                    break
                if attempt == VERIFY_ROUNDS:
                    box = leftover[0].box
                    raise PixelCleaningError(
                        f"burned-in PHI still readable in frame {index} after redaction "
                        f"at rows {box.y0}-{box.y1}, columns {box.x0}-{box.x1}"
                    )
                more = _redactions(leftover, after)
                report.regions += more
                more_boxes = [r.box for r in more]
                boxes += more_boxes
                _fill(frame, more_boxes, fill)
                after, renderings = _views(frame, window, dataset)
        if keep_review_images and report.review_before is None:
            _keep_review(report, before[0], after[0], boxes)
    with clock("overlays"):
        report.overlays_cleaned = clean_overlays(dataset, mode=mode, phi=phi)
    if changed:
        with clock("encode"):
            report.transfer_syntax = str(write_frames(dataset, frames))
        report.rewritten = True
    else:
        report.transfer_syntax = str(frames.transfer_syntax)
    report.verified = True
    dataset.BurnedInAnnotation = "NO"
    return report


def _changed_regions(
    views: list[np.ndarray], reference: list[np.ndarray]
) -> tuple[list[Box], np.ndarray] | None:
    """The parts of a frame whose renderings differ from the reference frame's.

    Burned-in text of a multi-frame image is almost always static: where a
    frame renders exactly like the reference frame (the last one that had the
    full pass), the reference's lines and decisions hold for it, and only the
    rest (moving anatomy, a changing counter) needs the detector. Differing
    pixels are gathered on a grid of :data:`CHANGE_TILE` px, grown by
    :data:`CHANGE_MARGIN` px (a line partly inside is seen whole), and each
    connected area becomes one box. Returns ``None`` (full pass) when the
    renderings are not comparable or the boxes cover most of the frame;
    else the boxes and the mask of differing pixels.
    """
    if len(views) != len(reference):
        return None
    rows, columns = views[0].shape
    changed = np.zeros((rows, columns), dtype=bool)
    for view, old in zip(views, reference, strict=True):
        if view.shape != old.shape:
            return None
        changed |= np.not_equal(view, old)
    if not changed.any():
        return [], changed
    tiles_y, tiles_x = -(-rows // CHANGE_TILE), -(-columns // CHANGE_TILE)
    padded = np.zeros((tiles_y * CHANGE_TILE, tiles_x * CHANGE_TILE), dtype=bool)
    padded[:rows, :columns] = changed
    grid = np.asarray(
        padded.reshape(tiles_y, CHANGE_TILE, tiles_x, CHANGE_TILE).any(axis=(1, 3)), dtype=np.uint8
    )
    count, _, stats, _ = cv2.connectedComponentsWithStats(grid, connectivity=8)
    regions: list[Box] = []
    for x, y, w, h, _ in stats[1:count]:
        tiles = Box(
            int(x) * CHANGE_TILE,
            int(y) * CHANGE_TILE,
            min(columns, int(x + w) * CHANGE_TILE),
            min(rows, int(y + h) * CHANGE_TILE),
        )
        add_merged(regions, tiles.padded(CHANGE_MARGIN, rows, columns))
    if sum(r.area for r in regions) > CHANGE_FULL_PASS * rows * columns:
        return None
    return regions, changed


def _views(frame: np.ndarray, window: Window, ds: Dataset) -> tuple[list[np.ndarray], int]:
    """The views OCR scans (:mod:`medveil.pixels.views`) and how many of them, from
    the first, are gray renderings; the rest are masks."""
    display = display_view(frame, window, ds)
    if window.binary:
        return [display], 1  # 0/255 already: an extremes mask would repeat it
    extra = (colour_view(frame, window, ds), outside_view(frame, window, display))
    renderings = [display, *(view for view in extra if view is not None)]
    extremes = extremes_view(frame)
    masks = [] if extremes is None else [extremes]
    return renderings + masks, len(renderings)


def _decide(
    lines: list[Line],
    views: list[np.ndarray],
    mode: PixelMode,
    judge: PhiJudge,
    ocr: OcrEngine,
    frame: int,
) -> list[TextRegion]:
    """Redact or keep each line; in ``phi`` mode, with two second looks at kept ones:
    the rows they are fragments of (:func:`judge_rows`), and the line read turned
    half a turn (:func:`_upside_down`)."""
    decided = [decide(line, mode, judge, frame) for line in lines]
    if mode != PixelMode.PHI:
        return decided
    decided = judge_rows(lines, decided, judge)
    return [
        _upside_down(line, region, views, judge, ocr)
        for line, region in zip(lines, decided, strict=True)
    ]


def _upside_down(
    line: Line, region: TextRegion, views: list[np.ndarray], judge: PhiJudge, ocr: OcrEngine
) -> TextRegion:
    """``region`` redacted when its kept text, read turned half a turn, is PHI.

    The turned reading counts only when it is as confident as a kept line
    must be (:data:`medveil.pixels.phi.CONFIDENT`): turned, upright text reads
    as unsure nonsense, and nonsense can match a short term of the header.
    Only confidently read text that is no marker gets the second reading (one
    recognizer run per such line, no detection): a marker read as one is
    whatever way up, a vertical line was read both ways already, and a line
    of fewer than :data:`TURNED_CHARACTERS` letters and digits holds no name,
    ID or date.
    """
    if region.action != "keep" or region.reason != "text" or line.vertical:
        return region
    if max(len("".join(words(text))) for text in line.texts) < TURNED_CHARACTERS:
        return region
    turned = read_turned(line, views, ocr)
    if turned.score < CONFIDENT or not judge.is_phi(turned.text):
        return region  # an upright line turned reads as unsure nonsense
    return replace(region, action="redact", reason="phi")


def _readable_phi(
    views: list[np.ndarray],
    boxes: list[Box],
    judge: PhiJudge,
    ocr: OcrEngine,
    frame: int,
    renderings: int = 1,
) -> list[TextRegion]:
    """OCR the changed areas again; PHI read there means redaction was incomplete.

    The whole redacted frame gets the cheap candidate scan; the detector and
    recognizer then run on every candidate touching a redacted box (letter
    fragments left at a box's edge, the rest of a line the first pass read
    only in part). A filled box itself is no candidate: it has no strokes.
    """
    return [
        TextRegion(frame, line.box, "redact", "verify", line.score)
        for line in find_lines(views, ocr, near=boxes, renderings=renderings)
        if any(judge.is_phi(text) for text in line.texts)
    ]


def _fill(frame: np.ndarray, boxes: list[Box], value: int) -> None:
    for box in boxes:
        frame[box.y0 : box.y1, box.x0 : box.x1] = value


def _redactions(decided: list[TextRegion], views: list[np.ndarray]) -> list[TextRegion]:
    """The fill rectangles of the lines to redact, each with the reason of its first line."""
    redact = [r for r in decided if r.action == "redact"]
    regions = []
    for box in redaction_boxes([r.box for r in redact], views):
        source = next(r for r in redact if r.box.intersection(box))
        regions.append(replace(source, box=box))
    return regions


def _fill_value(frames: Frames, ds: Dataset) -> int:
    if int(ds.get("BitsAllocated", 0) or 0) == 1:
        return 0  # 1-bit (segmentation) data: cleared bits
    if frames.is_color or frames.photometric == "PALETTE COLOR":
        return 0
    if ds.get("PhotometricInterpretation") == "MONOCHROME1":
        return int(frames.array.max())
    return int(frames.array.min())


def _keep_review(
    report: PixelReport, before: np.ndarray, after: np.ndarray, boxes: list[Box]
) -> None:
    scale = min(1.0, REVIEW_SIDE / max(before.shape))
    size = (max(1, round(before.shape[1] * scale)), max(1, round(before.shape[0] * scale)))
    report.review_before = cv2.resize(before, size, interpolation=cv2.INTER_AREA)
    report.review_after = cv2.resize(after, size, interpolation=cv2.INTER_AREA)
    report.review_boxes = [
        Box(
            int(b.x0 * scale),
            int(b.y0 * scale),
            int(np.ceil(b.x1 * scale)),
            int(np.ceil(b.y1 * scale)),
        )
        for b in boxes
    ]


class _Clock:
    """Accumulates wall time per phase into the report's timings."""

    def __init__(self, timings: dict[str, float]) -> None:
        self._timings = timings

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self._timings[phase] = self._timings.get(phase, 0.0) + time.perf_counter() - start
