"""Pixel de-identification (Clean Pixel Data): burned-in text, overlays, templates.

Contract used by the batch runner (see docs/ARCHITECTURE.md)::

    clean_pixels(dataset, mode=PixelMode.PHI, phi=lexicon) -> PixelReport

How it works and how to add device templates: docs/pixels.md.
"""

from __future__ import annotations

from medveil.pixels.clean import clean_pixels
from medveil.pixels.graphics import clean_graphics
from medveil.pixels.overlays import clean_overlays
from medveil.pixels.report import Box, PixelReport, TextRegion
from medveil.pixels.review import ReviewSheet
from medveil.pixels.templates import TemplateSet

__all__ = [
    "Box",
    "PixelReport",
    "ReviewSheet",
    "TemplateSet",
    "TextRegion",
    "clean_graphics",
    "clean_overlays",
    "clean_pixels",
]
