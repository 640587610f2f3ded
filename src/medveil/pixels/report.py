"""What pixel cleaning did to one dataset, for the batch report and the audit log.

A report never carries recognized text except the clinical markers that were
deliberately kept (``L``, ``PA``, ``PORTABLE`` ...): everything else that OCR
read may be PHI, so only its geometry and the decision are recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, order=True)
class Box:
    """Axis-aligned pixel rectangle, half-open: rows ``y0:y1``, columns ``x0:x1``."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def area(self) -> int:
        return max(0, self.width) * max(0, self.height)

    def padded(self, pad: int, rows: int, columns: int) -> Box:
        """Grow by ``pad`` on every side, clipped to the image."""
        return Box(
            max(0, self.x0 - pad),
            max(0, self.y0 - pad),
            min(columns, self.x1 + pad),
            min(rows, self.y1 + pad),
        )

    def intersection(self, other: Box) -> int:
        """Area shared with ``other``."""
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        return w * h if w > 0 and h > 0 else 0

    def union(self, other: Box) -> Box:
        return Box(
            min(self.x0, other.x0),
            min(self.y0, other.y0),
            max(self.x1, other.x1),
            max(self.y1, other.y1),
        )

    def shifted(self, dx: int, dy: int) -> Box:
        """The same box moved by ``(dx, dy)``: from a crop's coordinates to the frame's."""
        return Box(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy)


def add_merged(boxes: list[Box], box: Box) -> None:
    """Append ``box`` to ``boxes``, first absorbing every box of ``boxes`` it overlaps."""
    for other in [b for b in boxes if b.intersection(box)]:
        boxes.remove(other)
        box = box.union(other)
    boxes.append(box)


@dataclass(frozen=True)
class TextRegion:
    """One detected text line and what was decided about it.

    ``action`` is ``"redact"`` or ``"keep"``; ``reason`` says why (``"phi"``,
    ``"all-text"``, ``"unreadable"``, ``"template"``, ``"marker"``, ``"text"``).
    ``marker`` holds the recognized text only for kept clinical markers.
    """

    frame: int
    box: Box
    action: str
    reason: str
    score: float = 0.0
    marker: str | None = None


@dataclass
class PixelReport:
    """Outcome of :func:`medveil.pixels.clean_pixels` for one dataset.

    ``regions`` holds the kept lines and the filled rectangles (neighbouring
    lines of one redaction may share a rectangle); ``lines_found`` counts
    every line OCR detected.
    """

    mode: str
    frames: int = 0
    lines_found: int = 0
    regions: list[TextRegion] = field(default_factory=list)
    verified: bool = False
    rewritten: bool = False
    transfer_syntax: str = ""
    overlays_cleaned: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    review_before: np.ndarray | None = None
    review_after: np.ndarray | None = None
    review_boxes: list[Box] = field(default_factory=list)

    @property
    def boxes_found(self) -> int:
        """Text lines detected by OCR (template regions not counted)."""
        return self.lines_found

    @property
    def boxes_redacted(self) -> int:
        return sum(1 for r in self.regions if r.action == "redact")

    @property
    def kept_markers(self) -> list[str]:
        return [r.marker for r in self.regions if r.marker is not None]

    def __str__(self) -> str:
        """One PHI-free line for the batch report, e.g. ``phi: 5 found, 3 redacted, ...``."""
        state = "verified" if self.verified else "not verified"
        markers = ", ".join(self.kept_markers) or "none"
        return (
            f"{self.mode}: {self.frames} frame(s), {self.boxes_found} text line(s) found, "
            f"{self.boxes_redacted} region(s) redacted, markers kept: {markers}, "
            f"{state}, {sum(self.timings.values()):.2f} s"
        )

    def summary(self) -> dict[str, str | int]:
        """PHI-free counters for the batch report and audit event details."""
        return {
            "pixel_mode": self.mode,
            "pixel_frames": self.frames,
            "pixel_boxes_found": self.boxes_found,
            "pixel_boxes_redacted": self.boxes_redacted,
            "pixel_markers_kept": len(self.kept_markers),
            "pixel_overlays_cleaned": self.overlays_cleaned,
            "pixel_verified": int(self.verified),
            "pixel_ms": int(1000 * sum(self.timings.values())),
        }
