"""F28: metadata segments inside JPEG / JPEG 2000 frames are removed, pixels unchanged."""

from __future__ import annotations

import copy
import struct
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import numpy as np
import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, encapsulate_extended, generate_frames

from medveil.batch.reader import PixelSpan, span_contains
from medveil.deid.codestream import (
    HINT_OVERLAP,
    metadata_hint,
    strip_codestream_metadata,
    strip_j2k,
    strip_jpeg,
)
from medveil.deid.engine import Deidentifier
from medveil.deid.policy import PixelMode, Policy
from medveil.deid.pseudonyms import Pseudonymizer
from medveil.errors import DeidentificationError

PHI = b"Patient Quillfeather^Ottoline ID QX7734921"
JPEG_FILE, J2K_FILE = "SC_rgb_jpeg_dcmtk.dcm", "MR_small_jp2klossless.dcm"  # pydicom samples


def _load(name: str) -> Dataset:
    return pydicom.dcmread(get_testdata_file(name))


def _frames(ds: Dataset) -> list[bytes]:
    return list(generate_frames(ds.PixelData, number_of_frames=int(ds.get("NumberOfFrames", 1))))


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _j2k_com(text: bytes) -> bytes:
    return b"\xff\x64" + struct.pack(">HH", len(text) + 4, 1) + text


def _with_frames(ds: Dataset, frames: list[bytes], has_bot: bool = True) -> Dataset:
    out = copy.deepcopy(ds)
    out.PixelData = encapsulate(frames, has_bot=has_bot)
    return out


def _insert_jpeg(frame: bytes, segments: bytes) -> bytes:
    """Segments right after SOI and after APP0 if there is one."""
    pos = 2
    if frame[2:4] == b"\xff\xe0":
        pos = 4 + struct.unpack(">H", frame[4:6])[0]
    return frame[:pos] + segments + frame[pos:]


def _insert_j2k_tile(frame: bytes, segment: bytes) -> bytes:
    """``segment`` in the first tile-part header (after SOT), Psot adjusted."""
    sot = frame.index(b"\xff\x90\x00\x0a")
    (psot,) = struct.unpack(">L", frame[sot + 6 : sot + 10])
    new_psot = psot + len(segment) if psot else 0
    head = (
        frame[:sot]
        + frame[sot : sot + 6]
        + struct.pack(">L", new_psot)
        + frame[sot + 10 : sot + 12]
    )
    return head + segment + frame[sot + 12 :]


def _assert_stripped(before: Dataset, after: Dataset) -> None:
    assert PHI not in after.PixelData
    assert np.array_equal(before.pixel_array, after.pixel_array)


# -- JPEG family ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "SC_rgb_jpeg_dcmtk.dcm",  # baseline, APP0 JFIF
        "SC_rgb_dcmtk_+eb+cr.dcm",  # baseline, APP14 Adobe
        "JPGLosslessP14SV1_1s_1f_8b.dcm",  # lossless process 14
        "SC_rgb_jls_lossy_line.dcm",  # JPEG-LS near-lossless
    ],
)
def test_jpeg_com_and_app_segments_removed(name: str) -> None:
    ds = _load(name)
    original = _frames(ds)[0]
    planted = b"".join(
        [
            _jpeg_segment(0xFE, PHI),
            _jpeg_segment(0xE1, b"Exif\x00\x00" + PHI),
            _jpeg_segment(0xED, b"Photoshop 3.0\x00" + PHI),
            _jpeg_segment(0xEF, PHI),
        ]
    )
    dirty = _with_frames(ds, [_insert_jpeg(original, planted)])
    reference = _with_frames(ds, [original])
    removed = strip_codestream_metadata(dirty)
    assert removed >= 4
    _assert_stripped(reference, dirty)
    frame = _frames(dirty)[0]
    if original[2:4] in (b"\xff\xe0", b"\xff\xee"):  # APP0 JFIF / APP14 Adobe stay
        assert frame[2:4] == original[2:4]


def test_jpeg_keeps_app0_and_app14() -> None:
    frame = _frames(_load("SC_rgb_jpeg_dcmtk.dcm"))[0]
    adobe = _jpeg_segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x01")
    stripped, removed = strip_jpeg(_insert_jpeg(frame, adobe + _jpeg_segment(0xFE, PHI)))
    assert removed == 1
    assert stripped == _insert_jpeg(frame, adobe)
    assert stripped[2:4] == b"\xff\xe0"  # JFIF


def test_jpeg_segments_after_the_scan_removed() -> None:
    """A COM between the entropy-coded data and EOI (where multi-scan files put them)."""
    ds = _load("SC_rgb_jpeg_dcmtk.dcm")
    frame = _frames(ds)[0]
    eoi = frame.rindex(b"\xff\xd9")  # then one byte of padding
    dirty = frame[:eoi] + _jpeg_segment(0xFE, PHI) + b"\xff\xff" + frame[eoi:]
    stripped, removed = strip_jpeg(dirty)
    assert removed == 1
    assert stripped == frame


def test_jpeg_ls_multiframe_with_bot() -> None:
    ds = _load("emri_small_jpeg_ls_lossless.dcm")
    frames = _frames(ds)
    dirty = _with_frames(ds, [_insert_jpeg(f, _jpeg_segment(0xFE, PHI)) for f in frames])
    assert struct.unpack("<L", dirty.PixelData[4:8])[0] == 4 * len(frames)
    assert strip_codestream_metadata(dirty) == len(frames)
    assert struct.unpack("<L", dirty.PixelData[4:8])[0] == 4 * len(frames)  # BOT kept
    _assert_stripped(ds, dirty)


def test_jpeg_restart_markers_and_fill_bytes_are_scan_data() -> None:
    frame = _frames(_load("SC_rgb_jpeg_dcmtk.dcm"))[0]
    eoi = frame.rindex(b"\xff\xd9")
    dirty = frame[:eoi] + b"\xff\xd0\x12\xff\xff\xd1\x34" + _jpeg_segment(0xFE, PHI) + frame[eoi:]
    stripped, removed = strip_jpeg(dirty)
    assert removed == 1
    assert stripped == frame[:eoi] + b"\xff\xd0\x12\xff\xff\xd1\x34" + frame[eoi:]


def test_extended_offset_table_is_rewritten() -> None:
    ds = _load("emri_small_jpeg_ls_lossless.dcm")
    frames = _frames(ds)
    dirty = copy.deepcopy(ds)
    pixels, offsets, lengths = encapsulate_extended(
        [_insert_jpeg(f, _jpeg_segment(0xFE, PHI)) for f in frames]
    )
    dirty.PixelData = pixels
    dirty.ExtendedOffsetTable = offsets
    dirty.ExtendedOffsetTableLengths = lengths
    assert strip_codestream_metadata(dirty) == len(frames)
    assert (dirty.PixelData, dirty.ExtendedOffsetTable, dirty.ExtendedOffsetTableLengths) == (
        encapsulate_extended(frames)
    )
    _assert_stripped(ds, dirty)


@settings(max_examples=25, deadline=None)
@given(texts=st.lists(st.binary(max_size=300), min_size=1, max_size=4))
def test_any_comment_bytes_are_removed(texts: list[bytes]) -> None:
    frame = _frames(_load("SC_rgb_jpeg_dcmtk.dcm"))[0]
    segments = b"".join(_jpeg_segment(0xFE, t) for t in texts)
    stripped, removed = strip_jpeg(_insert_jpeg(frame, segments))
    assert (stripped, removed) == (frame, len(texts))


# -- JPEG 2000 -------------------------------------------------------------------------------


def test_j2k_main_and_tile_part_comments_removed() -> None:
    ds = _load("MR_small_jp2klossless.dcm")
    frame = _frames(ds)[0]
    clean, removed = strip_j2k(frame)  # the sample has a "Created by GDCM/OpenJPEG" COM
    assert removed == 1 and b"Created by" not in clean
    siz_end = 4 + struct.unpack(">H", frame[4:6])[0]
    main = frame[:siz_end] + _j2k_com(PHI) + frame[siz_end:]
    dirty = _insert_j2k_tile(main, _j2k_com(PHI + b" tile"))
    out = _with_frames(ds, [dirty])
    assert strip_codestream_metadata(out) == 3
    assert _frames(out)[0].rstrip(b"\x00") == clean.rstrip(b"\x00")
    _assert_stripped(ds, out)


def test_j2k_psot_is_updated() -> None:
    frame = _frames(_load("MR_small_jp2klossless.dcm"))[0]
    clean, _ = strip_j2k(frame)
    stripped, removed = strip_j2k(_insert_j2k_tile(clean, _j2k_com(PHI)))
    assert (stripped, removed) == (clean, 1)


def test_j2k_multiframe() -> None:
    ds = _load("emri_small_jpeg_2k_lossless.dcm")
    frames = _frames(ds)
    dirty = _with_frames(ds, [_insert_j2k_tile(f, _j2k_com(PHI)) for f in frames], has_bot=False)
    assert strip_codestream_metadata(dirty) == 2 * len(frames)  # the samples' COM and ours
    _assert_stripped(ds, dirty)


def test_jp2_boxes() -> None:
    """A JP2 file in the fragments (not allowed, written anyway): xml box and COM go."""
    frame, _ = strip_j2k(_frames(_load("MR_small_jp2klossless.dcm"))[0])
    signature = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
    ftyp = struct.pack(">L4s", 20, b"ftyp") + b"jp2 \x00\x00\x00\x00jp2 "
    xml = struct.pack(">L4s", 8 + len(PHI), b"xml ") + PHI
    stream = frame[:-2] + b"\xff\xd9"
    jp2c = struct.pack(">L4s", 8 + len(stream) + len(_j2k_com(PHI)), b"jp2c")
    siz_end = 4 + struct.unpack(">H", stream[4:6])[0]
    body = stream[:siz_end] + _j2k_com(PHI) + stream[siz_end:]
    stripped, removed = strip_j2k(signature + ftyp + xml + jp2c + body)
    assert removed == 2
    assert stripped == signature + ftyp + struct.pack(">L4s", 8 + len(stream), b"jp2c") + stream


# -- untouched and refused ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["MR_small_RLE.dcm", "MR_small.dcm", "CT_small.dcm"])
def test_other_transfer_syntaxes_untouched(name: str) -> None:
    ds = _load(name)
    data = ds.PixelData
    assert strip_codestream_metadata(ds) == 0
    assert ds.PixelData is data


def test_clean_codestream_left_byte_identical() -> None:
    ds = _load("SC_rgb_jpeg_dcmtk.dcm")
    element, data = ds["PixelData"], ds.PixelData
    assert strip_codestream_metadata(ds) == 0
    assert ds["PixelData"] is element and ds.PixelData is data


def test_shared_element_is_not_mutated() -> None:
    ds = _load("MR_small_jp2klossless.dcm")
    other = Dataset()
    other.file_meta = ds.file_meta
    element = ds["PixelData"]
    other["PixelData"] = element  # the same element object in two data sets
    data = element.value
    assert strip_codestream_metadata(other) == 1
    assert ds["PixelData"] is element and element.value is data
    assert other.PixelData != data


def _psot(frame: bytes, value: int) -> bytes:
    sot = frame.index(b"\xff\x90\x00\x0a")
    return frame[: sot + 6] + struct.pack(">L", value) + frame[sot + 10 :]


def _jpeg() -> bytes:
    return _frames(_load(JPEG_FILE))[0]


def _j2k() -> bytes:
    return _frames(_load(J2K_FILE))[0]


@pytest.mark.parametrize(
    ("source", "name", "broken"),
    [
        (JPEG_FILE, "no SOI", lambda: _jpeg()[2:]),
        (JPEG_FILE, "no EOI", lambda: _jpeg()[:-2]),
        (JPEG_FILE, "text after EOI", lambda: _jpeg() + PHI),
        (JPEG_FILE, "segment too long", lambda: _jpeg()[:2] + b"\xff\xfe\xff\xff" + PHI),
        (JPEG_FILE, "no marker", lambda: _jpeg()[:2] + b"\x00\x10" + _jpeg()[2:]),
        (JPEG_FILE, "J2K in a JPEG syntax", _j2k),
        (J2K_FILE, "no SOC", lambda: _j2k()[2:]),
        (J2K_FILE, "no EOC", lambda: _j2k()[:-2]),
        (J2K_FILE, "text after EOC", lambda: _j2k() + PHI),
        (J2K_FILE, "Psot past the end", lambda: _psot(_j2k(), 0x7FFFFFFF)),
        (J2K_FILE, "Psot inside the header", lambda: _psot(_j2k(), 14)),
        (J2K_FILE, "JPEG in a J2K syntax", _jpeg),
    ],
)
def test_malformed_codestream_refused(source: str, name: str, broken: Callable[[], bytes]) -> None:
    ds = _load(source)
    ds.PixelData = encapsulate([broken()])
    with pytest.raises(DeidentificationError):
        strip_codestream_metadata(ds)


# -- the engine and the batch fast path ----------------------------------------------------------


def _comment_dataset() -> Dataset:
    ds = _load("SC_rgb_jpeg_dcmtk.dcm")
    ds.PixelData = encapsulate([_insert_jpeg(_frames(ds)[0], _jpeg_segment(0xFE, PHI))])
    return ds


def test_engine_strips_output_only() -> None:
    ds = _comment_dataset()
    before = copy.deepcopy(ds)
    engine = Deidentifier(
        Policy(options=Policy.preset_named("basic").options, pixels=PixelMode.OFF),
        Pseudonymizer(b"k" * 32),
    )
    out = engine.run(ds).dataset
    assert ds == before and PHI in ds.PixelData  # the input is not modified
    assert PHI not in out.PixelData
    assert np.array_equal(out.pixel_array, before.pixel_array)


def test_hint_finds_every_stripped_segment(tmp_path: Path) -> None:
    ds = _comment_dataset()
    path = tmp_path / "x.dcm"
    ds.save_as(path)
    data = path.read_bytes()
    start = data.index(b"\xe0\x7f\x10\x00")
    pattern = metadata_hint(str(ds.file_meta.TransferSyntaxUID))
    assert pattern is not None
    start += 12  # the element header: its undefined length FFFFFFFF precedes an item tag FEFF
    assert span_contains(PixelSpan(path, start, len(data)), pattern, HINT_OVERLAP)
    clean = _load("SC_rgb_jpeg_dcmtk.dcm")
    clean.save_as(path)
    data = path.read_bytes()
    start = data.index(b"\xe0\x7f\x10\x00") + 12
    assert not span_contains(PixelSpan(path, start, len(data)), pattern, HINT_OVERLAP)
    assert metadata_hint(str(_load("MR_small_RLE.dcm").file_meta.TransferSyntaxUID)) is None


def test_hint_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import medveil.batch.reader as reader

    monkeypatch.setattr(reader, "_SCAN_CHUNK", 7)
    path = tmp_path / "raw"
    path.write_bytes(b"\x00" * 6 + b"\xff\xfe" + b"\x00" * 20)
    pattern = metadata_hint("1.2.840.10008.1.2.4.50")
    assert pattern is not None
    assert span_contains(PixelSpan(path, 0, 28), pattern, HINT_OVERLAP)
    assert not span_contains(PixelSpan(path, 8, 28), pattern, HINT_OVERLAP)


def test_batch_pixels_off_strips_comments(tmp_path: Path) -> None:
    from medveil.batch.discover import discover
    from medveil.batch.runner import BatchRunner, RunConfig

    source = tmp_path / "in"
    source.mkdir()
    ds = _comment_dataset()
    ds.save_as(source / "comment.dcm")
    policy = Policy(options=Policy.preset_named("basic").options, pixels=PixelMode.OFF)
    out = tmp_path / "out"
    BatchRunner(RunConfig(policy=policy, secret=b"s" * 32, out=out), []).run(discover([source]))
    written = [p for p in out.rglob("*") if p.is_file() and p.suffix == ".dcm"]
    assert len(written) == 1
    data = written[0].read_bytes()
    assert PHI not in data
    back = pydicom.dcmread(BytesIO(data))
    assert np.array_equal(back.pixel_array, _load("SC_rgb_jpeg_dcmtk.dcm").pixel_array)


def test_batch_pixels_off_keeps_fast_path_for_clean_jpeg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No marker in the pixel bytes: the header-only read, pixel bytes copied verbatim."""
    import medveil.batch.runner as runner
    from medveil.batch.discover import discover

    def no_full_read(path: Path, notes: list[str]) -> Dataset:
        raise AssertionError("full read")

    monkeypatch.setattr(runner, "read_full", no_full_read)
    source = tmp_path / "in"
    source.mkdir()
    ds = _load("SC_rgb_jpeg_dcmtk.dcm")
    ds.save_as(source / "clean.dcm")
    policy = Policy(options=Policy.preset_named("basic").options, pixels=PixelMode.OFF)
    out = tmp_path / "out"
    config = runner.RunConfig(policy=policy, secret=b"s" * 32, out=out)
    runner.BatchRunner(config, []).run(discover([source]))
    written = [p for p in out.rglob("*") if p.is_file() and p.suffix == ".dcm"]
    assert len(written) == 1
    assert pydicom.dcmread(written[0]).PixelData == ds.PixelData
