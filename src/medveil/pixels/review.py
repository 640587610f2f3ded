"""Before/after contact sheets for a human to check pixel redaction.

OCR can miss text, so a de-identification run can be reviewed by eye:
``medveil deid --review DIR`` writes, per cleaned image, a before and an
after thumbnail with the redacted boxes outlined, and one ``index.html``
per run listing them side by side.

Each :meth:`ReviewSheet.add` writes only its own files (two PNGs and a small
JSON record), so worker processes can add images concurrently; the parent
calls :meth:`ReviewSheet.finish` once to build the HTML from the records.
The sheet shows pixel content, which may include PHI that was missed: it
belongs with the identifiable originals, not with the de-identified output.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import cv2
import numpy as np

from medveil.pixels.report import Box

THUMBNAIL_SIDE = 512
_OUTLINE = (0, 0, 255)  # red in OpenCV's BGR order
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ReviewSheet:
    """One run's review directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def add(self, name: str, before: np.ndarray, after: np.ndarray, boxes: list[Box]) -> None:
        """Write thumbnails of one image (uint8 gray or RGB; boxes in their pixels)."""
        slug = _UNSAFE.sub("_", name).strip("_") or "image"
        for suffix, image in (("before", before), ("after", after)):
            cv2.imwrite(str(self.directory / f"{slug}.{suffix}.png"), _thumbnail(image, boxes))
        record = {"name": name, "slug": slug, "boxes": len(boxes)}
        (self.directory / f"{slug}.json").write_text(json.dumps(record), encoding="utf-8")

    def finish(self) -> Path:
        """Write ``index.html`` listing every image added so far; return its path."""
        records = [
            json.loads(p.read_text(encoding="utf-8")) for p in sorted(self.directory.glob("*.json"))
        ]
        rows = "\n".join(_row(r) for r in records)
        page = (
            "<!doctype html><meta charset=utf-8><title>medveil pixel review</title>"
            "<style>img{max-width:512px}td{vertical-align:top;padding:4px}</style>"
            f"<h1>Pixel redaction review ({len(records)} images)</h1>"
            "<p>Red outlines: redacted regions. Check that no identifying text remains.</p>"
            "<table><tr><th>image</th><th>boxes</th><th>before</th><th>after</th></tr>"
            f"{rows}</table>\n"
        )
        index = self.directory / "index.html"
        index.write_text(page, encoding="utf-8")
        return index


def _row(record: dict[str, object]) -> str:
    slug = html.escape(str(record["slug"]))
    return (
        f"<tr><td>{html.escape(str(record['name']))}</td><td>{record['boxes']}</td>"
        f'<td><img src="{slug}.before.png"></td><td><img src="{slug}.after.png"></td></tr>'
    )


def _thumbnail(image: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """Downscaled BGR copy with the boxes outlined."""
    bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image[..., ::-1].copy()
    scale = min(1.0, THUMBNAIL_SIDE / max(image.shape[:2]))
    small = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    for b in boxes:
        top_left = (int(b.x0 * scale), int(b.y0 * scale))
        bottom_right = (int(b.x1 * scale), int(b.y1 * scale))
        cv2.rectangle(small, top_left, bottom_right, _OUTLINE, 1)
    return small
