"""Pixel de-identification (Clean Pixel Data): burned-in text, overlays, templates.

Contract used by the batch runner (see docs/ARCHITECTURE.md)::

    clean_pixels(dataset, mode=PixelMode.PHI, phi=lexicon) -> PixelReport

Until the OCR engine lands this entry point fails closed.
"""

from __future__ import annotations

from typing import Any

from medveil.errors import PixelCleaningError


def clean_pixels(dataset: Any, **kwargs: Any) -> Any:
    """Fail closed: pixel cleaning is not built yet, so no file may claim it was done."""
    raise PixelCleaningError("pixel cleaning is not available in this build")
