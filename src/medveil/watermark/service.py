"""Watermarked export and leak tracing: the operations behind the CLI.

``export_file`` marks one image for one recipient: it allocates an export id in
the registry, embeds it, audits the export and only then writes the output, so
an export that could not be audited never leaves the gateway (fail closed).
``trace_file`` reads the mark of a leaked copy and looks its export id up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from medveil.audit import AuditEvent, AuditLog
from medveil.crypto.files import write_private_file
from medveil.watermark.detect import Detection, Detector
from medveil.watermark.embed import (
    READBACK_Z,
    TEXTURED_LEVELS_DB,
    TEXTURED_MIN_SSIM,
    embed_pixels,
    luminance,
)
from medveil.watermark.fidelity import ssim
from medveil.watermark.images import Picture, encode_picture, read_picture
from medveil.watermark.keys import key_path, load_or_create_key
from medveil.watermark.registry import ExportRecord, ExportRegistry, format_export_id
from medveil.watermark.tile import KeyedTile

#: Frames of a multi-frame leak that the tracer inspects before giving up.
TRACE_FRAMES = 4

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class TraceResult:
    """The detector's verdict on a leaked file and, when found, the export it names."""

    detection: Detection
    record: ExportRecord | None


def region_mask(
    shape: tuple[int, int], *, box: Box | None = None, mask_file: Path | None = None
) -> npt.NDArray[np.bool_] | None:
    """Pixels to keep unmarked: a box ``(x, y, width, height)`` and/or a mask image.

    Any non-zero pixel of the mask image is protected; it must have the image's size.
    """
    if box is None and mask_file is None:
        return None
    keep_out = np.zeros(shape, dtype=bool)
    if box is not None:
        x, y, width, height = box
        if width <= 0 or height <= 0 or x < 0 or y < 0:
            raise ValueError(f"invalid region of interest {box}")
        keep_out[y : y + height, x : x + width] = True
    if mask_file is not None:
        mask = cv2.imread(str(mask_file), cv2.IMREAD_GRAYSCALE)
        if mask is None:
            raise ValueError(f"cannot read the mask image {mask_file}")
        if mask.shape != shape:
            raise ValueError(f"mask {mask.shape[::-1]} does not match the image {shape[::-1]}")
        keep_out |= mask > 0
    return keep_out


def mark_picture(
    picture: Picture, export_id: int, key: bytes, keep_out: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.generic]:
    """Every frame of ``picture`` carrying ``export_id`` under ``key``.

    Frames are marked at the default strength (:data:`TARGET_PSNR_DB`). An
    8-bit frame whose mark then reads back weakly (strong texture such as
    ultrasound speckle hides it from the detector) is marked with the textured
    profile instead: the strongest of :data:`TEXTURED_LEVELS_DB` that keeps an
    SSIM of at least :data:`TEXTURED_MIN_SSIM`, with a flat or a
    contrast-masked amplitude, whichever reads back better. If no level keeps
    the SSIM, the frame stays at the default strength.
    """
    chips = KeyedTile.from_key(key).chips(export_id)
    detector = Detector(key)
    marked = []
    for frame in picture.frames:
        out = embed_pixels(frame, chips, low=picture.low, high=picture.high, keep_out=keep_out)
        if picture.peak <= 255:
            out = _textured(frame, out, chips, picture, detector, keep_out)
        marked.append(out)
    return np.stack(marked)


def _textured(
    frame: npt.NDArray[np.generic],
    marked: npt.NDArray[np.generic],
    chips: npt.NDArray[np.float64],
    picture: Picture,
    detector: Detector,
    keep_out: npt.NDArray[np.bool_] | None,
) -> npt.NDArray[np.generic]:
    """``marked``, or the textured-profile mark of ``frame`` if ``marked`` reads back weakly."""
    best, best_z = marked, detector.read_back(luminance(marked))
    if best_z >= READBACK_Z:
        return marked
    own_range = max(float(frame.max()) - float(frame.min()), 1.0)
    for masking in (False, True):
        # The strongest level that keeps the SSIM, for each kind of amplitude.
        for target_psnr_db in TEXTURED_LEVELS_DB:
            candidate = embed_pixels(
                frame,
                chips,
                low=picture.low,
                high=picture.high,
                keep_out=keep_out,
                target_psnr_db=target_psnr_db,
                masking=masking,
            )
            if ssim(frame, candidate, own_range) >= TEXTURED_MIN_SSIM:
                z_score = detector.read_back(luminance(candidate))
                if z_score > best_z:
                    best, best_z = candidate, z_score
                break
    return best


def export_file(
    home: Path,
    source: Path,
    target: Path,
    *,
    recipient: str,
    purpose: str,
    actor: str,
    box: Box | None = None,
    mask_file: Path | None = None,
) -> ExportRecord:
    """Write a copy of ``source`` to ``target`` watermarked for ``recipient``."""
    picture = read_picture(source)
    keep_out = region_mask(picture.frames.shape[1:3], box=box, mask_file=mask_file)
    key = load_or_create_key(home)
    registry = ExportRegistry(home)
    try:
        with registry.reserve(
            recipient=recipient, purpose=purpose, actor=actor, instances=picture.instance_uids
        ) as record:
            payload = encode_picture(
                picture, mark_picture(picture, record.export_id, key, keep_out), target
            )
            with AuditLog.open(home) as log:
                log.append(
                    AuditEvent(
                        actor=actor,
                        action="watermark.embed",
                        object_id=record.label,
                        purpose=purpose,
                        details={"instances": len(record.instances), "frames": len(picture.frames)},
                    )
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            write_private_file(target, payload)
    finally:
        registry.close()
    return record


def trace_file(home: Path, leaked: Path, *, actor: str) -> TraceResult:
    """Look for this home's watermark in ``leaked`` and name the export it carries."""
    if not key_path(home).exists():
        raise ValueError(f"{home} has no watermark key: nothing was ever exported from it")
    picture = read_picture(leaked)
    detector = Detector(load_or_create_key(home))
    detection = detector.detect(luminance(picture.frames[0]))
    for frame in picture.frames[1:TRACE_FRAMES]:
        if detection.found:
            break
        detection = detector.detect(luminance(frame))
    record = None
    if detection.export_id is not None:
        registry = ExportRegistry(home)
        try:
            record = registry.lookup(detection.export_id)
        finally:
            registry.close()
    with AuditLog.open(home) as log:
        log.append(
            AuditEvent(
                actor=actor,
                action="watermark.trace",
                object_id=None
                if detection.export_id is None
                else format_export_id(detection.export_id),
                details={
                    "found": int(detection.found),
                    "false_positive": f"{detection.false_positive:.1e}",
                },
            )
        )
    return TraceResult(detection, record)
