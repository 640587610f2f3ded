"""Forensic watermarking of exported images and leak tracing.

Every export gets a random 32-bit id, embedded invisibly (PSNR >= 45 dB on the
full bit depth; 40 dB for textured 8-bit images such as ultrasound, whose
speckle hides a weaker mark from the detector) as a keyed spread-spectrum tile
repeated over the image, so the id can be read back from a leaked copy that
was windowed to 8 bits, JPEG compressed, shrunk or cropped. The export
registry maps the id to recipient, purpose, time and instances. See
docs/watermark.md for the scheme, its measured robustness and what it does
not resist (collusion by averaging).

    from medveil.watermark import export_file, trace_file
"""

from __future__ import annotations

from medveil.watermark.detect import FALSE_POSITIVE_LIMIT, Detection, Detector
from medveil.watermark.embed import embed_pixels, luminance
from medveil.watermark.registry import ExportRecord, ExportRegistry, format_export_id
from medveil.watermark.service import (
    TraceResult,
    export_file,
    mark_picture,
    region_mask,
    trace_file,
)
from medveil.watermark.tile import KeyedTile

__all__ = [
    "FALSE_POSITIVE_LIMIT",
    "Detection",
    "Detector",
    "ExportRecord",
    "ExportRegistry",
    "KeyedTile",
    "TraceResult",
    "embed_pixels",
    "export_file",
    "format_export_id",
    "luminance",
    "mark_picture",
    "region_mask",
    "trace_file",
]
