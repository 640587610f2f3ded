"""Pixel cleaning building blocks that need no OCR: PHI rules, views, templates,
graphics, review sheets and the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from medveil.deid.policy import PixelMode
from medveil.deid.text import PhiLexicon
from medveil.errors import UsageError
from medveil.pixels import PixelReport, ReviewSheet, TemplateSet, TextRegion, clean_graphics
from medveil.pixels.candidates import candidate_crops
from medveil.pixels.detect import Line
from medveil.pixels.ocr import Reading
from medveil.pixels.phi import PhiJudge, decide, is_marker
from medveil.pixels.report import Box
from medveil.pixels.views import display_view, extremes_view, window_of
from pixel_fixtures import burn, burn_turned, covered, sample


@pytest.fixture(scope="module")
def judge() -> PhiJudge:
    original = Dataset()
    original.PatientName = "ZHANG^WEI=张^伟"
    original.PatientID = "MRN20240305"
    original.PatientBirthDate = "19510829"
    original.InstitutionName = "CLEVELAND CLINIC"
    return PhiJudge(PhiLexicon.from_dataset(original))


@pytest.mark.parametrize(
    "text",
    [
        "ZHANG WEI",
        "ZHANGWEl",  # OCR read the final I as l
        "CLEVELAN...",  # truncated by the modality
        "张伟",
        "DOB: 08/29/1951",
        "2024年3月5日",
        "00079241539",  # a banner ID that the header does not hold
        "05:24:57PM",
        "MRN2O240305",  # O for 0
    ],
)
def test_phi_lines_are_recognised_despite_ocr_noise(judge: PhiJudge, text: str) -> None:
    assert judge.is_phi(text)


@pytest.mark.parametrize(
    "text",
    [
        "03/05",  # month and day: a leading zero makes a pair of numbers a date
        "12-25",
        "25.03",
        "DOB 03/05",  # a date label needs no colon
        "D0B 3/5",  # OCR read the O of DOB as 0; the label makes 3/5 a date
        "BIRTH 3/5",
        "DATE MAR 5",
        "03月05日",
        "出生 3/5",
    ],
)
def test_month_and_day_without_a_year_are_phi(judge: PhiJudge, text: str) -> None:
    assert judge.is_phi(text)


@pytest.mark.parametrize(
    "text",
    [
        "PORTABLE",
        "L",
        "AP ERECT",
        "SUPINE",
        "4.0cm",
        "12",
        "立位",
        "",
        "1/2",  # a fraction or image counter, not a date
        "12/30",  # a frame counter: slash pairs without a leading zero are not dates
        "10:1",  # a ratio, not a time
        "5 cm",
        "12.25",  # a measurement
        "L3-5",  # vertebral levels
        "C5-1",  # a transducer name
    ],
)
def test_markers_are_not_phi(judge: PhiJudge, text: str) -> None:
    assert not judge.is_phi(text)


def test_marker_words_and_ruler_numbers() -> None:
    assert is_marker("PA ERECT") and is_marker("R") and is_marker("10 cm") and is_marker("左")
    assert not is_marker("CHEST PA") and not is_marker("12345") and not is_marker("")


def test_decide_by_mode(judge: PhiJudge) -> None:
    box = Box(0, 0, 10, 10)
    marker = Line(box, [Reading("PORTABLE", 0.99)])
    phi = Line(box, [Reading("ZHANG WEI", 0.99)])
    blurred = Line(box, [Reading("x7#", 0.4)])
    plain = Line(box, [Reading("Adv Breast", 0.99)])
    assert decide(marker, PixelMode.PHI, judge, 0).marker == "PORTABLE"
    assert decide(phi, PixelMode.PHI, judge, 0).reason == "phi"
    assert decide(blurred, PixelMode.PHI, judge, 0).reason == "unreadable"
    assert decide(plain, PixelMode.PHI, judge, 0).action == "keep"
    assert decide(marker, PixelMode.ALL_TEXT, judge, 3) == TextRegion(
        3, box, "redact", "all-text", 0.99
    )


def test_display_view_windows_and_inverts_monochrome1() -> None:
    ds = Dataset()
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.WindowCenter, ds.WindowWidth = 1000, 1000
    frame = np.array([[0, 500, 1000, 1500, 4000]], dtype=np.uint16)
    view = display_view(frame, window_of(ds), ds)
    assert view.tolist() == [[255, 255, 128, 0, 0]]


def test_display_view_signed_percentile_window() -> None:
    ds = Dataset()
    ds.PhotometricInterpretation = "MONOCHROME2"
    frame = np.linspace(-1000, 3000, 400 * 400).reshape(400, 400).astype(np.int16)
    view = display_view(frame, window_of(ds), ds)
    assert view[0, 0] == 0 and view[-1, -1] == 255
    assert np.all(np.diff(view.ravel().astype(int)) >= 0)  # monotone in the stored value


@pytest.mark.parametrize(("photometric", "shown"), [("MONOCHROME2", 255), ("MONOCHROME1", 0)])
def test_display_view_of_one_bit_data_is_full_contrast(photometric: str, shown: int) -> None:
    ds = Dataset()
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 1
    ds.WindowCenter, ds.WindowWidth = 1000, 1000  # ignored: 1-bit values are 0/1
    frame = np.zeros((20, 30), dtype=np.uint8)
    frame[5:8, 10:12] = 1
    view = display_view(frame, window_of(ds), ds)
    assert view.dtype == np.uint8 and set(np.unique(view)) == {0, 255}
    assert (view[5:8, 10:12] == shown).all() and (view[0] == 255 - shown).all()


def test_extremes_view_reveals_text_hidden_by_the_window() -> None:
    frame = np.full((200, 400), 4000, dtype=np.uint16)
    frame[:, :200] = 100
    truth = burn(frame, "ID 12345", 220, 80, 30, 4095)
    ds = Dataset()
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.WindowCenter, ds.WindowWidth = 1000, 1000  # 4000 and 4095 both show as white
    shown = display_view(frame, window_of(ds), ds)
    assert shown[truth.box.y0 : truth.box.y1, truth.box.x0 : truth.box.x1].min() == 255
    mask = extremes_view(frame)
    assert mask is not None
    assert mask[truth.box.y0 : truth.box.y1, truth.box.x0 : truth.box.x1].max() == 255
    assert extremes_view(np.zeros((50, 50), dtype=np.uint16)) is None


def test_candidates_find_small_low_contrast_text_in_a_radiograph() -> None:
    ds = pydicom.dcmread(sample("data_store", "RG1_UNCR.dcm"))
    frame = ds.pixel_array.copy()
    truth = burn(frame, "ID 998877", 1500, 40, 14, int(frame[45, 1500]) - 2500)
    view = display_view(frame, window_of(ds), ds)
    crops = [crop.box for crop in candidate_crops(view)]
    assert covered(truth.box, crops)
    assert sum(b.area for b in crops) < 0.05 * view.size  # few crops: the fast path holds


def _views_of(ds: Dataset, frame: np.ndarray) -> list[tuple[np.ndarray, bool]]:
    """The display rendering and the extremes mask (if any), each with ``mask``."""
    views = [(display_view(frame, window_of(ds), ds), False)]
    extremes = extremes_view(frame)
    return views + ([(extremes, True)] if extremes is not None else [])


@pytest.mark.parametrize("turns", [1, 3])
def test_candidates_find_a_turned_identification_strip(turns: int) -> None:
    """Name, ID and date turned 90 degrees along the edge of a large radiograph: the
    search for lines across the frame misses them, the search down it finds them."""
    ds = pydicom.dcmread(sample("data_store", "RG1_UNCR.dcm"))
    frame = ds.pixel_array.copy()
    lines = ["DOE JOHN", "ID 12345678", "1970-01-01"]
    burned = burn_turned(frame, lines, 20, 400, int(frame.max()), turns=turns, size=36)
    vertical = [
        c.box
        for view, mask in _views_of(ds, frame)
        for c in candidate_crops(view, mask=mask)
        if c.vertical
    ]
    # Most of each line in one crop (the detector's box is then padded to the rest).
    for line in burned:
        assert any(c.intersection(line.box) >= 0.8 * line.box.area for c in vertical)


def test_vertical_structures_cost_no_crop() -> None:
    """Ribs, a ruler, a scale without a spine, solid and dashed lines are long and
    narrow too; none of them may cost a detector run as a column of letters."""
    for name in ("RG1_UNCR.dcm", "RG3_UNCR.dcm"):
        ds = pydicom.dcmread(sample("data_store", name))
        frame = ds.pixel_array.copy()
        top = int(frame.max())
        frame[100:1700, 60:64] = top  # a wire
        frame[100:1700, 200:201] = top  # a thin line
        frame[100:1700, 1500:1503] = top  # a ruler: spine and ticks, longer every 5th
        for y in range(100, 1700, 10):
            frame[y : y + 2, 1503 : 1503 + (30 if y % 50 == 0 else 14)] = top
        for y in range(100, 1700, 20):  # a scale without a spine
            frame[y : y + 2, 1300:1320] = top
        for y in range(100, 1700, 12):  # a dashed line
            frame[y : y + 6, 1200:1204] = top
        for view, mask in _views_of(ds, frame):
            assert [c for c in candidate_crops(view, mask=mask) if c.vertical] == [], name


@pytest.mark.parametrize("shape", [(1, 2000), (2000, 1)])
def test_candidates_in_frames_one_pixel_thin(shape: tuple[int, int]) -> None:
    """Pooling a frame to half size must not shrink a side to zero (cv2 refuses that)."""
    view = np.random.default_rng(0).integers(0, 255, shape).astype(np.uint8)
    assert candidate_crops(view) == []


def test_shipped_template_matches_the_philips_ultrasound() -> None:
    ds = pydicom.dcmread(sample("deid_data", "ultrasounds/GREYSCALE_IMAGE.dcm"))
    regions = TemplateSet.shipped().regions_for(ds)
    assert ("philips-epiq-affiniti-us-banner", Box(0, 0, 1024, 24)) in regions
    ds.Modality = "CT"
    assert TemplateSet.shipped().regions_for(ds) == []


def test_user_templates_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - name: acme-dx-label\n"
        "    match: {manufacturer: '^acme', modality: DX, rows: 100, columns: 200}\n"
        "    regions:\n"
        "      - box: [150, 0, 200, 20]\n"
        "      - fraction: [0, 0.9, 0.5, 1.0]\n"
    )
    ds = Dataset()
    ds.Manufacturer, ds.Modality, ds.Rows, ds.Columns = "ACME Imaging", "DX", 100, 200
    templates = TemplateSet.load(rules, with_shipped=False)
    assert templates.regions_for(ds) == [
        ("acme-dx-label", Box(150, 0, 200, 20)),
        ("acme-dx-label", Box(0, 90, 100, 100)),
    ]
    ds.Rows = 101
    assert templates.regions_for(ds) == []


@pytest.mark.parametrize(
    "text",
    [
        "nothing: here",
        "rules:\n  - name: x\n    regions: []\n",
        "rules:\n  - name: x\n    match: {colour: red}\n    regions: [{box: [0, 0, 1, 1]}]\n",
        "rules:\n  - name: x\n    regions: [{fraction: [0, 0, 2, 1]}]\n",
        "rules:\n  - name: x\n    match: {model: '('}\n    regions: [{box: [0, 0, 1, 1]}]\n",
    ],
)
def test_bad_templates_are_usage_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(UsageError):
        TemplateSet.load(path)


def test_clean_graphics_scrubs_annotation_text() -> None:
    original = Dataset()
    original.PatientName = "KILLEEN^THOMAS"
    lexicon = PhiLexicon.from_dataset(original)
    ps = Dataset()
    note, label = Dataset(), Dataset()
    note.UnformattedTextValue = "Thomas Killeen 3/5 follow-up"
    label.UnformattedTextValue = "lesion 12 mm"
    layer = Dataset()
    layer.TextObjectSequence = Sequence([note, label])
    ps.GraphicAnnotationSequence = Sequence([layer])
    assert clean_graphics(ps, lexicon) == 1
    cleaned = ps.GraphicAnnotationSequence[0].TextObjectSequence
    assert "KILLEEN" not in cleaned[0].UnformattedTextValue.upper()
    assert "follow-up" in cleaned[0].UnformattedTextValue
    assert cleaned[1].UnformattedTextValue == "lesion 12 mm"


def test_review_sheet_writes_thumbnails_and_one_page(tmp_path: Path) -> None:
    sheet = ReviewSheet(tmp_path / "review")
    before = np.full((1000, 800), 90, dtype=np.uint8)
    after = before.copy()
    after[10:50, 10:300] = 0
    sheet.add("study 1/<img>.dcm", before, after, [Box(10, 10, 300, 50)])
    sheet.add("colour", np.zeros((100, 100, 3), np.uint8), np.zeros((100, 100, 3), np.uint8), [])
    index = sheet.finish()
    page = index.read_text()
    assert page.count("<tr><td>") == 2 and "&lt;img&gt;" in page
    thumbs = sorted(p.name for p in index.parent.glob("*.png"))
    assert len(thumbs) == 4
    record = json.loads((index.parent / "study_1_img_.dcm.json").read_text())
    assert record["boxes"] == 1


def test_report_summary_has_counts_not_text() -> None:
    report = PixelReport(mode="phi", frames=1, verified=True, lines_found=2)
    report.regions = [
        TextRegion(0, Box(0, 0, 5, 5), "redact", "phi", 0.9),
        TextRegion(0, Box(9, 9, 20, 20), "keep", "marker", 0.99, marker="PA"),
        TextRegion(0, Box(0, 0, 50, 10), "redact", "template"),
    ]
    assert report.boxes_found == 2 and report.boxes_redacted == 2
    assert report.kept_markers == ["PA"]
    summary = report.summary()
    assert summary["pixel_verified"] == 1 and summary["pixel_markers_kept"] == 1
    assert str(report).startswith("phi: 1 frame(s), 2 text line(s) found, 2 region(s) redacted")
