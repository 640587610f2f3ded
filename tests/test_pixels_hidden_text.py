"""Burned-in PHI that a grey, windowed, upright reading of the frame misses.

Each case is one a red team found surviving ``medveil deid`` (pixel mode
``phi``), rebuilt small with ``cv2.putText``: colour text on a grey of the same
luminance, text burned above the display window into a plate that is above it
too, a name with its letters set far apart, and a name burned upside down.
Every test cleans the frame and checks that each text pixel lies inside a
redaction box.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from medveil.deid.policy import PixelMode
from medveil.deid.text import PhiLexicon
from medveil.pixels import PixelReport, TemplateSet, clean_pixels, views
from medveil.pixels.views import display_view, window_of

FONT = cv2.FONT_HERSHEY_SIMPLEX
SIDE = 384
# Red of the same luminance as a grey: cv2's RGB to grey gives 75 for (250, 0, 0).
RED = (250, 0, 0)
GREY_OF_RED = 75


def _dataset(pixels: np.ndarray, photometric: str, **attributes: object) -> Dataset:
    """A secondary capture of ``pixels`` whose header names the patient SMITH^JOHN."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.PatientName = "SMITH^JOHN"
    ds.PatientID = "MRN4471902"
    ds.PatientBirthDate = "19610412"
    ds.Modality = "OT"
    bits = 8 * pixels.dtype.itemsize
    ds.set_pixel_data(pixels, photometric, bits, generate_instance_uid=False)
    for name, value in attributes.items():
        setattr(ds, name, value)
    return ds


def _text(lines: list[tuple[str, int]], x: int = 20, scale: float = 1.0) -> np.ndarray:
    """A mask of ``lines`` (text, baseline row) drawn at column ``x``."""
    mask = np.zeros((SIDE, SIDE), np.uint8)
    for text, row in lines:
        cv2.putText(mask, text, (x, row), FONT, scale, 255, 2)
    return mask > 0


def _clean(ds: Dataset) -> PixelReport:
    lexicon = PhiLexicon.from_dataset(ds)
    return clean_pixels(ds, mode=PixelMode.PHI, phi=lexicon, templates=TemplateSet([]))


def _uncovered(report: PixelReport, text: np.ndarray) -> int:
    """How many text pixels lie outside every redaction box."""
    covered = np.zeros_like(text)
    for region in report.regions:
        if region.action == "redact":
            covered[region.box.y0 : region.box.y1, region.box.x0 : region.box.x1] = True
    return int(np.count_nonzero(text & ~covered))


# --- colour text of the same luminance as its background ----------------------------------


def _isoluminant_rgb() -> tuple[np.ndarray, np.ndarray]:
    text = _text([("SMITH JOHN", 60), ("MRN4471902", 120)])
    rgb = np.full((SIDE, SIDE, 3), GREY_OF_RED, np.uint8)
    rgb[text] = RED
    return rgb, text


def test_red_text_on_grey_of_equal_luminance_is_redacted() -> None:
    rgb, text = _isoluminant_rgb()
    ds = _dataset(rgb, "RGB")
    assert (display_view(rgb, window_of(ds), ds) == GREY_OF_RED).all()  # invisible in grey
    assert _uncovered(_clean(ds), text) == 0


def test_isoluminant_palette_text_is_redacted() -> None:
    text = _text([("SMITH JOHN", 60)])
    indices = np.full((SIDE, SIDE), 20, np.uint8)
    indices[text] = 10
    lut = np.stack([np.arange(256) * 257] * 3, axis=1).astype(np.uint16)
    lut[10] = (RED[0] * 257, 0, 0)
    lut[20] = (GREY_OF_RED * 257,) * 3
    palette: dict[str, object] = {}
    for channel, name in enumerate(("Red", "Green", "Blue")):
        palette[f"{name}PaletteColorLookupTableDescriptor"] = [256, 0, 16]
        palette[f"{name}PaletteColorLookupTableData"] = lut[:, channel].astype("<u2").tobytes()
    ds = _dataset(indices, "PALETTE COLOR", **palette)
    assert _uncovered(_clean(ds), text) == 0


def test_colour_view_costs_nothing_for_grey_stored_as_colour() -> None:
    """A grey image stored as RGB (most captures) gets no second rendering to scan."""
    grey = np.repeat(np.linspace(0, 255, SIDE, dtype=np.uint8)[None, :, None], 3, axis=2)
    grey = np.ascontiguousarray(np.broadcast_to(grey, (SIDE, SIDE, 3)))
    ds = _dataset(grey, "RGB")
    assert views.colour_view(grey, window_of(ds), ds) is None
    rgb, text = _isoluminant_rgb()
    view = views.colour_view(rgb, window_of(ds), ds)
    assert view is not None and view[text].min() == 255 and not view[~text].any()


# --- text above the display window, on a plate above it too ----------------------------------


def _ct_with_plate_text() -> tuple[np.ndarray, np.ndarray]:
    """Signed CT, soft tissue around 1040 (16 HU); text at 2500 on a plate at 2000 (both
    far above the 40/400 window's top of 1264); a few pixels at 4095 elsewhere."""
    rng = np.random.default_rng(1)
    pixels = rng.normal(1040, 20, (SIDE, SIDE)).astype(np.int16)
    pixels[20:140, 10:360] = 2000
    text = _text([("SMITH JOHN", 70), ("MRN4471902", 120)])
    pixels[text] = 2500
    pixels[370:374, 370:374] = 4095
    pixels[:3, :3] = -1000
    return pixels, text


def _ct(pixels: np.ndarray) -> Dataset:
    return _dataset(
        pixels,
        "MONOCHROME2",
        Modality="CT",
        RescaleSlope=1,
        RescaleIntercept=-1024,
        WindowCenter=40,
        WindowWidth=400,
    )


def test_text_above_the_window_on_a_plate_is_redacted() -> None:
    pixels, text = _ct_with_plate_text()
    ds = _ct(pixels)
    shown = display_view(pixels, window_of(ds), ds)
    assert (shown[20:140, 10:360] == 255).all()  # plate and text one white
    assert _uncovered(_clean(ds), text) == 0


def test_outside_view_only_when_something_hides_beyond_the_window() -> None:
    """Pixels inside the window, or a flat clipped plate, cost no second rendering."""
    rng = np.random.default_rng(2)
    inside = rng.normal(1040, 20, (SIDE, SIDE)).astype(np.int16)
    flat = inside.copy()
    flat[20:140, 10:360] = 2000
    for pixels in (inside, flat):
        ds = _ct(pixels)
        window = window_of(ds)
        assert views.outside_view(pixels, window, display_view(pixels, window, ds)) is None
    pixels, text = _ct_with_plate_text()
    ds = _ct(pixels)
    window = window_of(ds)
    view = views.outside_view(pixels, window, display_view(pixels, window, ds))
    assert view is not None
    assert int(view[text].min()) - int(view[30:40, 300:350].max()) >= 64  # text stands out


# --- letters set far apart ----------------------------------------------------------------------


def _gray_canvas() -> np.ndarray:
    """Dark 8-bit frame with a brighter disc, its extremes elsewhere (no extremes mask)."""
    canvas = np.full((SIDE, SIDE), 40, np.uint8)
    cv2.circle(canvas, (SIDE // 2, 260), 70, 120, -1)
    canvas[-6:-2, -6:-2] = 255
    canvas[2:4, -6:-2] = 0
    return canvas


@pytest.mark.parametrize("pitch", [60, 72])
def test_name_with_letters_far_apart_is_redacted(pitch: int) -> None:
    """Read as "SMI", "T", "H" (each harmless alone), the row together is the name."""
    pixels = _gray_canvas()
    text = np.zeros_like(pixels, dtype=bool)
    for number, letter in enumerate("SMITH"):
        text |= _text([(letter, 60)], x=20 + number * pitch)
    pixels[text] = 230
    assert _uncovered(_clean(_dataset(pixels, "MONOCHROME2")), text) == 0


# --- text upside down ------------------------------------------------------------------------


def test_name_burned_upside_down_is_redacted() -> None:
    """Upright, "SMITH JOHN" turned half a turn reads confidently as "NHOC HLIWS"."""
    text = _text([("SMITH JOHN", 60)], scale=1.2)[::-1, ::-1]
    pixels = _gray_canvas()
    pixels[text] = 230
    assert _uncovered(_clean(_dataset(pixels, "MONOCHROME2")), text) == 0
