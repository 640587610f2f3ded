"""End-to-end pixel cleaning with real OCR on real images with burned-in text.

Text is burned into real radiographs and ultrasound with known boxes
(:mod:`pixel_fixtures`), in English and Chinese, at corners, banners and
mid-image, in several sizes and contrasts. Every test checks the promises of
``clean_pixels``: every PHI line is filled, markers survive in ``phi`` mode,
no pixel outside the reported redaction boxes changes, and the output
decodes. The deid-data ultrasound carries a real burned-in patient banner.
"""

from __future__ import annotations

import copy
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    RLELossless,
)

from medveil.deid.policy import PixelMode
from medveil.deid.text import PhiLexicon
from medveil.errors import PixelCleaningError
from medveil.pixels import PixelReport, TemplateSet, clean_overlays, clean_pixels
from medveil.pixels import clean as clean_module
from medveil.pixels.clean import _readable_phi
from medveil.pixels.detect import find_lines
from medveil.pixels.ocr import OcrEngine, Reading, _Memo, engine
from medveil.pixels.phi import PhiJudge
from medveil.pixels.report import Box
from medveil.pixels.views import display_view, extremes_view, window_of
from pixel_fixtures import Burned, burn, burn_turned, covered, has_cjk_font, redacted_mask

pytestmark = pytest.mark.skipif(
    not has_cjk_font(),
    reason="Noto Sans CJK is missing: run scripts/install-system-deps.sh (fonts-noto-cjk)",
)
NO_TEMPLATES = TemplateSet([])


def _lexicon(ds: Dataset) -> PhiLexicon:
    """The lexicon of a made-up original header for the burned-in text."""
    original = copy.deepcopy(ds)
    original.PatientName = "DOE^JOHN=张^伟"
    original.PatientID = "12345678"
    original.PatientBirthDate = "19700101"
    original.InstitutionName = "仁济医院"
    return PhiLexicon.from_dataset(original)


@dataclass
class Run:
    before: np.ndarray  # decoded input frames (frames, rows, columns[, 3])
    after: np.ndarray  # decoded output frames
    report: PixelReport
    dataset: Dataset  # the cleaned dataset, re-read from its Part-10 bytes


def _clean(ds: Dataset, mode: PixelMode, lexicon: PhiLexicon, **kwargs: object) -> Run:
    before = _frames(ds)
    report = clean_pixels(ds, mode=mode, phi=lexicon, **kwargs)  # type: ignore[arg-type]
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    out = pydicom.dcmread(io.BytesIO(buffer.getvalue()))
    return Run(before, _frames(out), report, out)


def _frames(ds: Dataset) -> np.ndarray:
    array = ds.pixel_array
    return array if int(ds.get("NumberOfFrames", 1) or 1) > 1 else array[np.newaxis]


def _redacted(run: Run, frame: int = 0) -> list[Box]:
    return [r.box for r in run.report.regions if r.action == "redact" and r.frame == frame]


def _assert_clean(
    run: Run, truths: list[list[Burned]], mode: PixelMode, *, most: float = 0.1
) -> None:
    """Every PHI line filled, markers kept (phi mode), nothing else changed, and at
    most ``most`` of the frame redacted."""
    assert run.report.verified and run.dataset.BurnedInAnnotation == "NO"
    for index, burned in enumerate(truths):
        boxes = _redacted(run, index)
        before, after = run.before[index], run.after[index]
        for truth in burned:
            b = truth.box
            if truth.phi or mode == PixelMode.ALL_TEXT:
                assert covered(b, boxes), f"frame {index}: {truth.text!r} not fully redacted"
                region = after[b.y0 : b.y1, b.x0 : b.x1].reshape(-1, *after.shape[2:])
                assert (region == region[0]).all(), f"{truth.text!r} is not a solid fill"
            else:
                assert np.array_equal(
                    after[b.y0 : b.y1, b.x0 : b.x1], before[b.y0 : b.y1, b.x0 : b.x1]
                )
        outside = ~redacted_mask(before.shape, boxes)
        assert np.array_equal(before[outside], after[outside]), "pixels outside the boxes changed"
        assert redacted_mask(before.shape, boxes).mean() < most, "over-redaction"


@pytest.fixture(scope="module")
def chest(pydicom_samples: Path) -> tuple[Dataset, list[Burned]]:
    """RG1: CR chest, 1955x1841, 15-bit MONOCHROME1, with text burned at max, min and mid values."""
    ds = pydicom.dcmread(pydicom_samples / "RG1_UNCR.dcm")
    pixels = ds.pixel_array.copy()
    top, bottom = int(pixels.max()), int(pixels.min())
    burned = [
        burn(pixels, "DOE^JOHN 12345678", 30, 30, 40, top),  # corner, large, saturated
        burn(pixels, "ID 998877", 1500, 40, 14, int(pixels[45, 1500]) - 2500),  # small, faint
        burn(pixels, "张伟 2024年3月5日", 1300, 1850, 28, top),  # Chinese, bottom corner
        burn(pixels, "仁济医院 放射科", 600, 1880, 30, bottom),  # banner at the foot
        burn(pixels, "DOB 01/01/1970", 820, 1000, 24, int(pixels[1000, 820]) + 4000),  # mid-image
        burn(pixels, "PORTABLE", 900, 900, 24, bottom, phi=False),
        burn(pixels, "L", 1700, 300, 60, top, phi=False),
    ]
    ds.PixelData = pixels.tobytes()
    return ds, burned


def test_chest_radiograph_phi_mode(chest: tuple[Dataset, list[Burned]]) -> None:
    ds, burned = copy.deepcopy(chest[0]), chest[1]
    run = _clean(ds, PixelMode.PHI, _lexicon(ds), keep_review_images=True)
    _assert_clean(run, [burned], PixelMode.PHI)
    assert {"PORTABLE", "L"} <= set(run.report.kept_markers)
    assert run.dataset.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert run.report.review_before is not None and run.report.review_boxes
    assert set(run.report.timings) >= {"decode", "detect", "redact", "verify", "encode"}


def test_chest_radiograph_jpeg2000_lossless(chest: tuple[Dataset, list[Burned]]) -> None:
    """The compressed variant: text burned into RG1, then JPEG 2000 lossless encoded."""
    ds, burned = copy.deepcopy(chest[0]), chest[1]
    ds.compress(JPEG2000Lossless, generate_instance_uid=False)
    run = _clean(ds, PixelMode.PHI, _lexicon(ds))
    _assert_clean(run, [burned], PixelMode.PHI)
    syntax = run.dataset.file_meta.TransferSyntaxUID
    assert syntax in (JPEG2000Lossless, ExplicitVRLittleEndian)  # lossless either way
    assert run.dataset.get("LossyImageCompression", "00") == "00"


def test_chest_radiograph_all_text_mode(chest: tuple[Dataset, list[Burned]]) -> None:
    ds, burned = copy.deepcopy(chest[0]), chest[1]
    run = _clean(ds, PixelMode.ALL_TEXT, _lexicon(ds))
    _assert_clean(run, [burned], PixelMode.ALL_TEXT)
    assert run.report.kept_markers == []


def test_dx_radiograph_small_and_low_contrast_text(deid_samples: Path) -> None:
    """cat.dcm: DX 2614x3072, 12-bit; corner labels of a few gray levels' contrast."""
    ds = pydicom.dcmread(deid_samples / "animals/cat.dcm")
    pixels = ds.pixel_array.copy()
    columns = pixels.shape[1]
    burned = [
        burn(pixels, "JOHN DOE", 20, 20, 18, int(pixels[25, 25]) + 400),
        burn(pixels, "2024-03-05 12345678", columns - 420, 24, 22, 4095),
        burn(pixels, "张伟", 40, 2500, 36, 4095),
        burn(pixels, "R", columns - 120, 1300, 48, 4095, phi=False),
    ]
    ds.PixelData = pixels.tobytes()
    run = _clean(ds, PixelMode.PHI, _lexicon(ds))
    _assert_clean(run, [burned], PixelMode.PHI)
    assert "R" in run.report.kept_markers


STRIP = ["DOE JOHN", "ID 12345678", "1970-01-01"]


@pytest.mark.parametrize("turns", [1, 3], ids=["bottom-to-top", "top-to-bottom"])
@pytest.mark.parametrize("side, shown", [("left", "dark-on-light"), ("right", "light-on-dark")])
def test_vertical_identification_strip_on_a_chest_radiograph(
    chest: tuple[Dataset, list[Burned]], turns: int, side: str, shown: str
) -> None:
    """Name, ID and birth date turned 90 degrees on a label plate along the edge of a
    radiograph larger than the whole-frame scan (the candidate search looks for lines
    across the frame): found, read turned upright, redacted as PHI, verified."""
    ds = copy.deepcopy(chest[0])
    pixels = ds.pixel_array.copy()
    top, bottom = int(pixels.max()), int(pixels.min())
    # MONOCHROME1: the smallest stored value shows white.
    plate, ink = (bottom, top) if shown == "dark-on-light" else (top, bottom)
    x = 12 if side == "left" else pixels.shape[1] - 160
    burned = burn_turned(pixels, STRIP, x, 300, ink, turns=turns, size=30, plate=plate)
    ds.PixelData = pixels.tobytes()
    judge = PhiJudge(_lexicon(ds))
    views = [display_view(pixels, window_of(ds), ds), extremes_view(pixels)]
    run = _clean(ds, PixelMode.PHI, _lexicon(ds), templates=NO_TEMPLATES)
    _assert_clean(run, [burned], PixelMode.PHI)
    # Read turned upright, not only redacted as unreadable: tall lines read as PHI.
    lines = find_lines([v for v in views if v is not None], engine())
    tall = [line for line in lines if line.box.height > 2 * line.box.width]
    assert any(judge.is_phi(text) for line in tall for text in line.texts)


@pytest.mark.parametrize("turns", [1, 3], ids=["bottom-to-top", "top-to-bottom"])
def test_vertical_name_on_a_noisy_large_frame(turns: int) -> None:
    """The red team's case: a turned name on a noisy 8-bit background (no window in the
    header, so the display view stretches the noise to full contrast), 1400 px."""
    from pydicom.data import get_testdata_file

    ds = pydicom.dcmread(str(get_testdata_file("CT_small.dcm")))
    pixels = np.random.default_rng(0).integers(0, 30, (1400, 1400)).astype(np.uint8)
    burned = burn_turned(pixels, ["DOE JOHN 12345678"], 10, 20, 255, turns=turns, size=18)
    ds.set_pixel_data(pixels, "MONOCHROME2", 8, generate_instance_uid=False)
    for keyword in ("RescaleSlope", "RescaleIntercept", "WindowCenter", "WindowWidth"):
        ds.pop(keyword, None)
    run = _clean(ds, PixelMode.PHI, _lexicon(ds), templates=NO_TEMPLATES)
    # extent.py snaps and pads a turned line along its column: the usual share limit holds
    _assert_clean(run, [burned], PixelMode.PHI)


def test_verification_reads_turned_phi_left_beside_a_redaction(
    chest: tuple[Dataset, list[Burned]],
) -> None:
    """Verification must see turned text too: a redaction that clipped the end of a
    vertical name leaves the rest readable, and verification reads it."""
    ds = copy.deepcopy(chest[0])
    pixels = ds.pixel_array.copy()
    (name,) = burn_turned(pixels, ["DOE JOHN 12345678"], 20, 300, int(pixels.max()), turns=1)
    clipped = [Box(name.box.x0, name.box.y1 - 30, name.box.x1, name.box.y1)]  # the "D"
    pixels[clipped[0].y0 : clipped[0].y1, clipped[0].x0 : clipped[0].x1] = pixels.max()
    views = [display_view(pixels, window_of(ds), ds), extremes_view(pixels)]
    leftover = _readable_phi(
        [v for v in views if v is not None], clipped, PhiJudge(_lexicon(ds)), engine(), 0
    )
    rest = Box(name.box.x0, name.box.y0, name.box.x1, name.box.y1 - 40)
    assert leftover and any(r.box.intersection(rest) for r in leftover)


# Hand-checked extents of the real banner's three text groups (columns, rows 4-20):
# "ZZZ TEST PATIENTFI... 00079241539", "DOB: 08/29/1951  M  CCHS CLEVELAN...",
# "03/02/2017  05:24:57PM".
BANNER = [Box(8, 5, 282, 20), Box(392, 5, 684, 20), Box(824, 5, 1010, 20)]


@pytest.fixture(scope="module")
def ultrasound(deid_samples: Path) -> Dataset:
    return pydicom.dcmread(deid_samples / "ultrasounds/GREYSCALE_IMAGE.dcm")


def test_real_ultrasound_banner_is_redacted_by_ocr_alone(ultrasound: Dataset) -> None:
    ds = copy.deepcopy(ultrasound)
    lexicon = PhiLexicon.from_dataset(ultrasound)
    run = _clean(ds, PixelMode.PHI, lexicon, templates=NO_TEMPLATES)
    boxes = _redacted(run)
    for box in BANNER:
        assert covered(box, boxes), f"banner text at {box} left visible"
    outside = ~redacted_mask(run.before[0].shape, boxes)
    assert np.array_equal(run.before[0][outside], run.after[0][outside])
    assert "4.0cm" in "".join(run.report.kept_markers)  # the depth scale is clinical
    # An independent OCR pass over the output finds no PHI anywhere.
    view = display_view(run.after[0], window_of(run.dataset), run.dataset)
    judge = PhiJudge(lexicon)
    readings = [t for line in find_lines([view], engine()) for t in line.texts]
    assert readings and not [t for t in readings if judge.is_phi(t)]


def test_real_ultrasound_banner_template(ultrasound: Dataset) -> None:
    ds = copy.deepcopy(ultrasound)
    run = _clean(ds, PixelMode.PHI, PhiLexicon.from_dataset(ultrasound))
    assert any(r.reason == "template" for r in run.report.regions)
    assert (run.after[0][:24] == 0).all()


def _rle_palette_two_frames(pydicom_samples: Path) -> tuple[Dataset, list[list[Burned]]]:
    ds = pydicom.dcmread(pydicom_samples / "OBXXXX1A_rle_2frame.dcm")
    pixels = ds.pixel_array.copy()
    white = 231  # the palette entry with the brightest colour; the background is 0
    burned = [
        [burn(pixels[0], "DOE^JOHN", 200, 330, 30, white)],
        [
            burn(pixels[1], "12345678 张伟", 300, 500, 26, white),
            burn(pixels[1], "AP", 600, 400, 30, white, phi=False),
        ],
    ]
    ds.PixelData = pixels.tobytes()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.compress(RLELossless, generate_instance_uid=False)
    return ds, burned


def test_multiframe_rle_palette(pydicom_samples: Path) -> None:
    ds, burned = _rle_palette_two_frames(pydicom_samples)
    run = _clean(ds, PixelMode.PHI, _lexicon(ds))
    _assert_clean(run, burned, PixelMode.PHI)
    assert run.dataset.file_meta.TransferSyntaxUID == RLELossless
    assert run.report.frames == 2


def test_jpeg_baseline_colour_is_written_lossless_as_rgb(deid_samples: Path) -> None:
    """YBR_FULL_422 JPEG in; Explicit VR LE RGB out, lossy history kept."""
    ds = pydicom.dcmread(deid_samples / "humans/ctbrain1.dcm")
    rgb = ds.pixel_array.copy()
    burn(rgb, "DOE^JOHN 1970-01-01", 20, 380, 26, (255, 255, 0))
    jpeg = io.BytesIO()
    Image.fromarray(rgb).save(jpeg, format="JPEG", quality=95, subsampling=1)  # 4:2:2
    ds.PixelData = encapsulate([jpeg.getvalue()])
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    truth = Burned("DOE^JOHN 1970-01-01", Box(20, 380, 0, 0), True)
    run = _clean(ds, PixelMode.PHI, _lexicon(ds))
    boxes = _redacted(run)
    assert boxes, "the burned name was not found"
    found = [b for b in boxes if b.y0 <= truth.box.y0 + 5 and b.y1 >= truth.box.y0 + 20]
    assert found and found[0].x0 <= 22
    assert run.dataset.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert run.dataset.PhotometricInterpretation == "RGB"
    assert run.dataset.LossyImageCompression == "01"
    outside = ~redacted_mask(run.before[0].shape, boxes)
    assert np.array_equal(run.before[0][outside], run.after[0][outside])


def test_signed_16_bit(pydicom_samples: Path) -> None:
    ds = pydicom.dcmread(pydicom_samples / "JPEG-LL.dcm")
    pixels = ds.pixel_array.copy()
    burned = [burn(pixels, "12345678", 20, 500, 24, -2000), burn(pixels, "DOE", 100, 900, 30, 2000)]
    ds.set_pixel_data(pixels, "MONOCHROME2", 16, generate_instance_uid=False)
    run = _clean(ds, PixelMode.PHI, _lexicon(ds))
    _assert_clean(run, [burned], PixelMode.PHI)
    assert run.after.dtype == np.int16


def test_month_and_day_without_a_year_are_redacted() -> None:
    """HIPAA dates include month and day alone; counters and markers stay."""
    from pydicom.data import get_testdata_file

    ds = pydicom.dcmread(str(get_testdata_file("CT_small.dcm")))
    pixels = np.random.default_rng(0).integers(20, 28, (400, 640)).astype(np.uint8)
    burned = [
        burn(pixels, "03/05", 20, 20, 24, 255),
        burn(pixels, "DOB 03/05", 20, 200, 24, 255),
        burn(pixels, "12-25", 20, 360, 24, 255),
        burn(pixels, "L", 580, 20, 40, 255, phi=False),
    ]
    ds.set_pixel_data(pixels, "MONOCHROME2", 8, generate_instance_uid=False)
    for keyword in ("RescaleSlope", "RescaleIntercept"):
        del ds[keyword]
    run = _clean(ds, PixelMode.PHI, _lexicon(ds))
    _assert_clean(run, [burned], PixelMode.PHI)
    assert run.report.kept_markers == ["L"]


def test_32_bit_dose_grid_is_windowed_and_redacted() -> None:
    """32-bit data (RT dose) is windowed value by value, not through a 2**32 lookup table;
    its text is found and redacted, and the big-endian input is written little endian."""
    from pydicom.data import get_testdata_file

    ds = pydicom.dcmread(str(get_testdata_file("rtdose_expb.dcm")))
    grid = ds.pixel_array.copy()  # (frames, 10, 10): too small for text; scale it up
    frames = np.kron(grid[:2], np.ones((48, 48), dtype=grid.dtype))
    top = int(frames.max()) + 100_000  # dose values far beyond 16 bits
    burned = [burn(frames[0], "DOE^JOHN 12345678", 20, 40, 30, top)]
    ds.NumberOfFrames = 2
    del ds.GridFrameOffsetVector
    ds.Rows, ds.Columns = frames.shape[1:]
    ds.PixelData = frames.astype(">u4").tobytes()  # set_pixel_data stops at 16 bits
    run = _clean(ds, PixelMode.PHI, _lexicon(ds))
    _assert_clean(run, [burned, []], PixelMode.PHI)
    assert run.dataset.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert run.after.dtype == np.uint32 and int(run.after.max()) > 1 << 16


def test_no_text_leaves_pixel_data_untouched(pydicom_samples: Path) -> None:
    ds = pydicom.dcmread(pydicom_samples / "emri_small_jpeg_ls_lossless.dcm")
    data = ds.PixelData
    report = clean_pixels(ds, mode=PixelMode.PHI, phi=_lexicon(ds))
    assert report.frames == 10 and report.boxes_found == 0 and not report.rewritten
    assert ds.PixelData is data and ds.BurnedInAnnotation == "NO"


def test_off_mode_does_nothing(pydicom_samples: Path) -> None:
    ds = pydicom.dcmread(pydicom_samples / "RG1_UNCR.dcm")
    report = clean_pixels(ds, mode=PixelMode.OFF, phi=_lexicon(ds))
    assert report.frames == 0 and "BurnedInAnnotation" not in ds


def test_verification_reads_phi_left_beside_a_redaction(
    chest: tuple[Dataset, list[Burned]],
) -> None:
    """A redaction box that clips a PHI line must not pass verification silently."""
    ds, burned = chest
    frame = ds.pixel_array
    view = display_view(frame, window_of(ds), ds)
    name = burned[0].box  # "DOE^JOHN 12345678"
    clipped = [Box(name.x0, name.y0, name.x0 + 30, name.y1)]  # covers only "D"
    leftover = _readable_phi([view], clipped, PhiJudge(_lexicon(ds)), engine(), 0)
    assert leftover and covered(Box(name.x0 + 40, name.y0, name.x1, name.y1), [leftover[0].box])


def test_overlay_text_is_cleared(pydicom_samples: Path) -> None:
    ds = pydicom.dcmread(pydicom_samples / "MR-SIEMENS-DICOM-WithOverlays.dcm")
    bitmap = ds.overlay_array(0x6000).astype(np.uint8)
    truth = burn(bitmap, "DOE^JOHN 12345678", 40, 400, 24, 1)
    from pydicom.pixels import pack_bits

    ds[0x6000, 0x3000].value = pack_bits(bitmap.ravel())
    assert clean_overlays(ds, mode=PixelMode.PHI, phi=_lexicon(ds)) == 1
    after = ds.overlay_array(0x6000)
    b = truth.box
    assert after[b.y0 : b.y1, b.x0 : b.x1].sum() == 0
    assert after.sum() > 0  # the rest of the overlay is still there


def test_overlay_in_unused_high_bits_is_removed(pydicom_samples: Path) -> None:
    """A retired embedded overlay (bit 15 of 12-bit data) must not survive cleaning."""
    ds = pydicom.dcmread(pydicom_samples / "MR-SIEMENS-DICOM-WithOverlays.dcm")
    del ds[0x6000, 0x3000]
    ds[0x6000, 0x0100].value = 16  # OverlayBitsAllocated
    ds[0x6000, 0x0102].value = 15  # OverlayBitPosition
    raw = np.frombuffer(ds.PixelData, dtype="<u2").reshape(ds.Rows, ds.Columns).copy()
    raw[100:120, 100:300] |= 0x8000
    ds.PixelData = raw.tobytes()
    report = clean_pixels(ds, mode=PixelMode.PHI, phi=_lexicon(ds))
    assert report.rewritten
    written = np.frombuffer(ds.PixelData, dtype="<u2").reshape(raw.shape)
    assert not (written & 0xF000).any()
    outside = ~redacted_mask(raw.shape, [r.box for r in report.regions if r.action == "redact"])
    np.testing.assert_array_equal(written[outside], (raw & 0x0FFF)[outside])


def test_multiframe_reuses_the_full_pass_for_static_text(
    deid_samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Static banner in every frame, moving anatomy, new PHI in one frame only.

    Only the first frame gets the full pass; later frames are searched where
    they differ from it, and the PHI that appears in frame 3 is still found.
    """
    rgb = pydicom.dcmread(deid_samples / "humans/ctbrain1.dcm").pixel_array.copy()
    ink = (0, 0, 0)  # the drawing is black on white
    rows, columns = np.mgrid[: rgb.shape[0], : rgb.shape[1]]
    stack, truths = [], []
    for index in range(5):
        frame = rgb.copy()
        # A soft grey blob moves along the foot of the image (no strokes, no text).
        blob = np.exp(-((columns - 120 - 40 * index) ** 2 + (rows - 400) ** 2) / 800.0)
        frame = (frame * (1 - 0.5 * blob[..., np.newaxis])).astype(np.uint8)
        burned = [
            burn(frame, "DOE^JOHN 12345678", 10, 10, 22, ink),
            burn(frame, "AP", 440, 420, 24, ink, phi=False),
        ]
        if index == 3:
            burned.append(burn(frame, "DOB 01/01/1970", 150, 200, 22, ink))
        stack.append(frame)
        truths.append(burned)
    ds = pydicom.dcmread(deid_samples / "humans/ctbrain1.dcm")
    ds.NumberOfFrames = len(stack)
    ds.set_pixel_data(np.stack(stack), "RGB", 8, generate_instance_uid=False)
    full_passes = []
    real = clean_module.find_lines

    def counting(*args: object, **kwargs: object) -> object:
        if kwargs.get("region") is None and kwargs.get("near") is None:
            full_passes.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(clean_module, "find_lines", counting)
    run = _clean(ds, PixelMode.PHI, _lexicon(ds), templates=NO_TEMPLATES)
    _assert_clean(run, truths, PixelMode.PHI)
    assert run.report.frames == 5
    assert len(full_passes) == 1


def test_ocr_answers_are_remembered_by_content(monkeypatch: pytest.MonkeyPatch) -> None:
    """Detector and recognizer are pure functions of their input: the same pixels (not
    the same array object) at the same scale are answered from memory, anything else
    (a different scale, one changed pixel) runs the model again."""
    ocr = OcrEngine()
    calls: Counter[str] = Counter()
    detect, read = ocr._detect, ocr._infer_reading

    def counted_detect(gray: np.ndarray, scale: float) -> list[Box]:
        calls["detect"] += 1
        return detect(gray, scale)

    def counted_read(crop: np.ndarray) -> Reading:
        calls["read"] += 1
        return read(crop)

    monkeypatch.setattr(ocr, "_detect", counted_detect)
    monkeypatch.setattr(ocr, "_infer_reading", counted_read)
    image = np.zeros((64, 420), np.uint8)
    burn(image, "DOE^JOHN 12345678", 10, 20, 24, 255)
    boxes = ocr.detect(image, 1.0)
    assert boxes and ocr.detect(image.copy(), 1.0) == boxes and calls["detect"] == 1
    ocr.detect(image, 1.5)
    changed = image.copy()
    changed[0, 0] = 1
    ocr.detect(changed, 1.0)
    assert calls["detect"] == 3
    crops = [image[b.y0 : b.y1, b.x0 : b.x1] for b in boxes]
    readings = ocr.recognize(crops)
    assert ocr.recognize([crop.copy() for crop in crops]) == readings
    assert calls["read"] == len(crops)
    assert any("12345678" in reading.text for reading in readings)


def test_ocr_memory_is_bounded_least_recently_used() -> None:
    memo = _Memo(2)
    first, second, third = (bytes([n]) for n in range(3))
    memo.put(first, "a")
    memo.put(second, "b")
    assert memo.get(first) == "a"  # now the most recent
    memo.put(third, "c")
    assert memo.get(second) is None and memo.get(first) == "a" and memo.get(third) == "c"


def test_phi_still_readable_after_every_verification_round_refuses_the_file(
    pydicom_samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection: a fill that leaves the pixels as they were (a broken redaction)
    must end in PixelCleaningError after the last verification round, with the
    dataset's pixel data untouched -- never in a file released with its PHI."""
    ds = pydicom.dcmread(pydicom_samples / "JPEG-LL.dcm")
    pixels = ds.pixel_array.copy()
    burn(pixels, "DOE^JOHN 12345678", 20, 500, 30, int(pixels.max()))
    ds.set_pixel_data(pixels, "MONOCHROME2", 16, generate_instance_uid=False)
    before = ds.PixelData
    fills: list[int] = []
    monkeypatch.setattr(clean_module, "_fill", lambda frame, boxes, value: fills.append(1))
    with pytest.raises(PixelCleaningError, match="still readable"):
        clean_pixels(ds, mode=PixelMode.PHI, phi=_lexicon(ds))
    assert len(fills) == clean_module.VERIFY_ROUNDS  # the first fill and one per failed round
    assert ds.PixelData == before and "BurnedInAnnotation" not in ds


def test_forget_drops_remembered_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """After ``forget`` the same input runs the model again (what a timing loop needs)."""
    ocr = OcrEngine()
    calls: list[int] = []
    detect = ocr._detect
    monkeypatch.setattr(ocr, "_detect", lambda g, s: calls.append(1) or detect(g, s))
    image = np.zeros((64, 128), np.uint8)
    ocr.detect(image, 1.0)
    ocr.detect(image, 1.0)
    ocr.forget()
    ocr.detect(image, 1.0)
    assert len(calls) == 2
