"""Burn text into real images for the pixel tests and the pixel benchmark.

Text is rendered with Pillow into a binary mask (anti-aliasing off, so a
pixel either carries text or is untouched) and written into the stored
values, exactly like a modality burning annotations into its output. The
returned box is the exact extent of the changed pixels: the ground truth
that redaction must cover.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from medveil.pixels.report import Box

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


@dataclass(frozen=True)
class Burned:
    """Ground truth for one burned-in line of text."""

    text: str
    box: Box
    phi: bool


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    """Noto Sans CJK at ``size`` px: one font for Latin and Chinese keeps runs comparable."""
    return ImageFont.truetype(str(CJK_FONT), size)


def text_mask(text: str, size: int) -> np.ndarray:
    """Boolean mask of ``text`` tightly cropped to its inked pixels."""
    face = font(size)
    left, top, right, bottom = face.getbbox(text)
    canvas = Image.new("1", (right - left + 4, bottom - top + 4), 0)
    draw = ImageDraw.Draw(canvas)
    draw.fontmode = "1"
    draw.text((2 - left, 2 - top), text, fill=1, font=face)
    mask = np.array(canvas, dtype=bool)
    rows, columns = np.nonzero(mask)
    return mask[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]


def burn(
    image: np.ndarray,
    text: str,
    x: int,
    y: int,
    size: int,
    value: int | tuple[int, ...],
    *,
    phi: bool = True,
) -> Burned:
    """Write ``text`` with its top-left inked pixel at (x, y) into a 2-D or RGB frame.

    Chinese and Latin text use the same font, so a test needs no language flag.
    """
    mask = text_mask(text, size)
    h = min(mask.shape[0], image.shape[0] - y)
    w = min(mask.shape[1], image.shape[1] - x)
    mask = mask[:h, :w]
    region = image[y : y + h, x : x + w]
    region[mask] = value
    return Burned(text=text, box=Box(x, y, x + w, y + h), phi=phi)


def stroke_text_mask(text: str, size: int) -> np.ndarray:
    """Boolean mask of ``text`` in a stroke font (OpenCV's Hershey duplex), capitals
    about ``size`` px tall: the kind of font modalities burn, letters set closer
    than Noto's."""
    scale = size / 22
    thickness = max(2, size // 10)
    (width, height), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, thickness)
    canvas = np.zeros((height + base + 2 * thickness + 4, width + 2 * thickness + 4), np.uint8)
    origin = (thickness + 2, height + thickness + 2)
    cv2.putText(canvas, text, origin, cv2.FONT_HERSHEY_DUPLEX, scale, 255, thickness, cv2.LINE_8)
    rows, columns = np.nonzero(canvas)
    return canvas[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1] > 0


def burn_turned(
    image: np.ndarray,
    lines: list[str],
    x: int,
    y: int,
    value: int,
    *,
    turns: int,
    size: int = 30,
    plate: int | None = None,
) -> list[Burned]:
    """Burn ``lines`` turned by ``turns`` x 90 degrees counter-clockwise (1: read
    bottom to top, 3: top to bottom) as adjacent columns from (x, y), optionally on
    a plate of value ``plate`` (an identification strip along a plate's edge)."""
    masks = [np.rot90(stroke_text_mask(text, size), turns) for text in lines]
    gap = max(6, size // 3)
    if plate is not None:
        width = sum(m.shape[1] for m in masks) + gap * (len(masks) + 1)
        height = max(m.shape[0] for m in masks) + 2 * gap
        image[y : y + height, x : x + width] = plate
    x, y = (x + gap, y + gap) if plate is not None else (x, y)
    burned = []
    for text, mask in zip(lines, masks, strict=True):
        h, w = mask.shape
        image[y : y + h, x : x + w][mask] = value
        burned.append(Burned(text=text, box=Box(x, y, x + w, y + h), phi=True))
        x += w + gap
    return burned


def has_cjk_font() -> bool:
    return CJK_FONT.exists()


def sample(package: str, name: str) -> Path:
    """Path of a sample file shipped by pydicom-data (``data_store``) or deid-data."""
    module = __import__(package)
    return Path(module.__file__).parent / "data" / name


def redacted_mask(shape: tuple[int, ...], boxes: list[Box]) -> np.ndarray:
    """Boolean (rows, columns) mask of the union of ``boxes``."""
    mask = np.zeros(shape[:2], dtype=bool)
    for b in boxes:
        mask[b.y0 : b.y1, b.x0 : b.x1] = True
    return mask


def covered(box: Box, boxes: list[Box]) -> bool:
    """True when every pixel of ``box`` lies inside the union of ``boxes``."""
    return bool(
        redacted_mask((box.y1 + 1, box.x1 + 1), boxes)[box.y0 : box.y1, box.x0 : box.x1].all()
    )
