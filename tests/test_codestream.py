"""F28: metadata segments inside JPEG / JPEG 2000 frames are removed, pixels unchanged."""

from __future__ import annotations

import copy
import struct
from collections.abc import Callable
from io import BytesIO
from itertools import pairwise
from pathlib import Path

import numpy as np
import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, encapsulate_extended, generate_frames
from pydicom.uid import JPEGBaseline8Bit

from medveil.batch.reader import PixelSpan, span_contains
from medveil.deid.codestream import (
    HINT_OVERLAP,
    metadata_hint,
    reads_whole_stream,
    strip_annex_b,
    strip_bmff,
    strip_codestream_metadata,
    strip_j2k,
    strip_jpeg,
    strip_jxl,
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
    if original[2:4] == b"\xff\xee" or original[2:11] == b"\xff\xe0\x00\x10JFIF\x00":
        assert frame[2:4] == original[2:4]  # APP14 Adobe and a bare APP0 JFIF stay
    elif original[2:4] == b"\xff\xe0":  # another APP0 (Mitra's LJIF) goes; decoding is the same
        assert frame[2:4] != b"\xff\xe0"


def test_jpeg_keeps_app0_and_app14() -> None:
    frame = _frames(_load("SC_rgb_jpeg_dcmtk.dcm"))[0]
    adobe = _jpeg_segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x01")
    stripped, removed = strip_jpeg(_insert_jpeg(frame, adobe + _jpeg_segment(0xFE, PHI)))
    assert removed == 1
    assert stripped == _insert_jpeg(frame, adobe)
    assert stripped[2:4] == b"\xff\xe0"  # JFIF


def _with_app0(frame: bytes, app0: bytes) -> bytes:
    """``frame`` with its APP0 segment (if any) replaced by ``app0``."""
    rest = frame[2:]
    if rest[:2] == b"\xff\xe0":
        rest = rest[2 + struct.unpack(">H", rest[2:4])[0] :]
    return frame[:2] + app0 + rest


def test_jpeg_app0_thumbnails_are_cut() -> None:
    """A JFIF thumbnail is an image of its own (burned-in text and all): the header stays
    without it; a JFXX extension, which holds only a thumbnail, goes."""
    frame = _frames(_load(JPEG_FILE))[0]
    header = b"JFIF\x00\x01\x02\x01\x00\x48\x00\x48"
    bare = _jpeg_segment(0xE0, header + b"\x00\x00")
    thumbnail = bytes([2, 1]) + PHI[:6]  # 2 x 1 RGB pixels: the name, as colour values
    with_thumbnail = _with_app0(frame, _jpeg_segment(0xE0, header + thumbnail))
    stripped, removed = strip_jpeg(with_thumbnail)
    assert removed == 1
    assert stripped == _with_app0(frame, bare)
    jfxx = _jpeg_segment(0xE0, b"JFXX\x00\x10" + PHI)
    stripped, removed = strip_jpeg(_insert_jpeg(_with_app0(frame, bare), jfxx))
    assert (stripped, removed) == (_with_app0(frame, bare), 1)
    assert strip_jpeg(_with_app0(frame, bare)) == (_with_app0(frame, bare), 0)
    hint = metadata_hint(JPEGBaseline8Bit)
    assert hint is not None
    assert hint.search(with_thumbnail) and not hint.search(_with_app0(frame, bare))


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


# -- JPEG XL -----------------------------------------------------------------------------------

JXL_CODESTREAM = b"\xff\x0a" + bytes(range(1, 31))  # a bare codestream (signature FF0A)
JXL_SIGNATURE = b"\x00\x00\x00\x0cJXL \r\n\x87\n"


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">L", 8 + len(payload)) + kind + payload


def _jxl_container(*metadata: bytes) -> bytes:
    return JXL_SIGNATURE + _box(b"ftyp", b"jxl \x00\x00\x00\x00jxl ") + b"".join(metadata)


def test_jxl_bare_codestream_untouched() -> None:
    assert strip_jxl(JXL_CODESTREAM) == (JXL_CODESTREAM, 0)


def test_jxl_container_metadata_boxes_removed() -> None:
    jxlc = _box(b"jxlc", JXL_CODESTREAM)
    parts = _box(b"jxlp", b"\x00\x00\x00\x00" + JXL_CODESTREAM[:10])
    dirty = _jxl_container(
        _box(b"Exif", b"\x00\x00\x00\x00II*\x00" + PHI),
        _box(b"xml ", PHI),
        _box(b"jumb", _box(b"jumd", PHI)),
        _box(b"brob", b"Exif" + PHI),  # brotli-compressed: cannot be read, goes anyway
        _box(b"zzzz", PHI),  # unknown: decoders ignore it
        jxlc,
        parts,
    )
    stripped, removed = strip_jxl(dirty + b"\x00")
    assert removed == 5
    assert stripped == _jxl_container(jxlc, parts) + b"\x00"


def test_jxl_reconstruction_data_refused() -> None:
    dirty = _jxl_container(_box(b"jbrd", PHI), _box(b"jxlc", JXL_CODESTREAM))
    with pytest.raises(DeidentificationError, match="jbrd"):
        strip_jxl(dirty)


@pytest.mark.parametrize(
    "frame",
    [b"\xff\xd8\xff\xe0", JXL_SIGNATURE + b"\x00\x00\x00\x40ftyp"],
    ids=["JPEG in a JPEG XL syntax", "box past the end"],
)
def test_jxl_malformed_refused(frame: bytes) -> None:
    with pytest.raises(DeidentificationError):
        strip_jxl(frame)


def test_jxl_dataset_and_hint() -> None:
    ds = _video_dataset("1.2.840.10008.1.2.4.110", [_jxl_container(_box(b"xml ", PHI))])
    ds.NumberOfFrames = 1
    pattern = metadata_hint("1.2.840.10008.1.2.4.110")
    assert pattern is not None and pattern.search(ds.PixelData)
    assert not pattern.search(encapsulate([JXL_CODESTREAM]))
    assert strip_codestream_metadata(ds) == 1
    assert PHI not in ds.PixelData


# -- MPEG video ---------------------------------------------------------------------------------

MPEG4 = "1.2.840.10008.1.2.4.102"  # MPEG-4 AVC/H.264 High Profile / Level 4.1
HEVC = "1.2.840.10008.1.2.4.107"
MPEG2 = "1.2.840.10008.1.2.4.100"
MEDIA = b"\x00\x00\x00\x01\x65" + bytes(range(200, 250))  # the coded samples in mdat


def _full_box(kind: bytes, payload: bytes) -> bytes:
    return _box(kind, b"\x00\x00\x00\x00" + payload)


def _visual_entry(name: bytes, *children: bytes) -> bytes:
    fields = bytes(6) + b"\x00\x01" + bytes(16) + struct.pack(">HH", 4, 4)
    fields += struct.pack(">LLLH", 0x480000, 0x480000, 0, 1)
    fields += bytes([len(name)]) + name.ljust(31, b"\x00") + b"\x00\x18\xff\xff"
    return _box(b"avc1", fields + b"".join(children))


def _mp4(handler: bytes = b"vide", mdat_first: bool = False) -> tuple[bytes, int]:
    """An MP4 file with PHI in every box that may hold text; and where its sample lies."""
    avcc = _box(b"avcC", b"\x01\x64\x00\x1f\xff\xe1\x00\x04\x67\x64\x00\x1f\x01\x00\x02\x68\xee")
    stsd = _full_box(
        b"stsd", struct.pack(">L", 1) + _visual_entry(PHI[:31], avcc, _box(b"uuid", PHI))
    )

    def stbl(chunk_offset: int) -> bytes:
        stco = _full_box(b"stco", struct.pack(">LL", 1, chunk_offset))
        stsz = _full_box(b"stsz", struct.pack(">LLL", 0, 1, len(MEDIA)))
        return _box(b"stbl", stsd + stco + stsz)

    def moov(chunk_offset: int) -> bytes:
        hdlr = _full_box(b"hdlr", bytes(4) + handler + bytes(12) + PHI + b"\x00")
        url = _full_box(b"url ", PHI)
        dinf = _box(b"dinf", _full_box(b"dref", struct.pack(">L", 1) + url))
        minf = _box(b"minf", _full_box(b"vmhd", bytes(8)) + dinf + stbl(chunk_offset))
        mdia = _box(b"mdia", _full_box(b"mdhd", bytes(20)) + hdlr + minf)
        udta = _box(b"udta", _box(b"\xa9nam", PHI) + bytes(4))
        meta = _full_box(b"meta", _box(b"ilst", _box(b"\xa9ART", _box(b"data", PHI))))
        trak = _box(b"trak", _full_box(b"tkhd", bytes(80)) + mdia + udta)
        return _box(b"moov", _full_box(b"mvhd", bytes(96)) + trak + udta + meta)

    ftyp = _box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41")
    mdat = _box(b"mdat", MEDIA)
    top_uuid = _box(b"uuid", bytes(16) + PHI)
    if mdat_first:
        offset = len(ftyp) + 8
        return ftyp + mdat + moov(offset) + top_uuid, offset
    head = ftyp + moov(0) + top_uuid
    return ftyp + moov(len(head) + 8) + top_uuid + mdat, len(head) + 8


def _video_dataset(syntax: str, fragments: list[bytes], has_bot: bool = True) -> Dataset:
    """A data set whose fragments are given as they are (video: one stream in all)."""
    ds = Dataset()
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.NumberOfFrames = 30
    items = b"".join(
        b"\xfe\xff\x00\xe0" + struct.pack("<L", len(f) + len(f) % 2) + f + b"\x00" * (len(f) % 2)
        for f in fragments
    )
    bot = b"\xfe\xff\x00\xe0" + (b"\x04\x00\x00\x00" + bytes(4) if has_bot else bytes(4))
    ds.PixelData = bot + items
    return ds


def _chunk(stream: bytes, offset: int) -> bytes:
    return stream[offset : offset + len(MEDIA)]


@pytest.mark.parametrize("mdat_first", [False, True])
def test_mp4_metadata_neutralised_offsets_kept(mdat_first: bool) -> None:
    dirty, offset = _mp4(mdat_first=mdat_first)
    assert dirty.count(PHI[:31]) == 8 and _chunk(dirty, offset) == MEDIA
    clean, removed = strip_bmff(dirty)
    assert PHI[:31] not in clean
    assert removed == 8  # hdlr and url names, compressor name, uuid x2, udta x2, meta
    assert len(clean) == len(dirty)
    assert _chunk(clean, offset) == MEDIA  # stco still points at the sample
    assert struct.pack(">LL", 1, offset) in clean
    for kind in (b"udta", b"meta", b"uuid", b"\xa9nam"):
        assert kind not in clean
    for kind in (b"ftyp", b"moov", b"mvhd", b"trak", b"stsd", b"avcC", b"stco", b"mdat"):
        assert kind in clean
    assert strip_bmff(clean) == (clean, 0)


@pytest.mark.parametrize("handler", [b"text", b"sbtl", b"meta", b"subt"])
def test_mp4_text_track_refused(handler: bytes) -> None:
    with pytest.raises(DeidentificationError, match="samples may be text"):
        strip_bmff(_mp4(handler)[0])


def _nal(header: bytes, payload: bytes, zero_byte: bool = True) -> bytes:
    return (b"\x00" if zero_byte else b"") + b"\x00\x00\x01" + header + payload


@pytest.mark.parametrize(
    ("syntax", "keep", "drop"),
    [
        # H.264: AUD, SPS, PPS, IDR slice kept; SEI (6) dropped
        (MPEG4, [b"\x09\xf0", b"\x67\x64\x00\x1f", b"\x68\xee\x3c\x80", b"\x65\x88\x84"], b"\x06"),
        # HEVC: AUD, VPS, IDR kept; prefix SEI (39) and suffix SEI (40) dropped
        (HEVC, [b"\x46\x01\x50", b"\x40\x01\x0c", b"\x26\x01\xaf"], b"\x4e\x01"),
        (HEVC, [b"\x46\x01\x50", b"\x26\x01\xaf"], b"\x50\x01"),
        # MPEG-2: sequence header, GOP, picture, slice kept; user data (B2) dropped
        (MPEG2, [b"\xb3\x01\x40\xf0", b"\xb8\x00\x08", b"\x00\x00\x0f", b"\x01\x13\xf8"], b"\xb2"),
    ],
)
def test_annex_b_text_units_removed(syntax: str, keep: list[bytes], drop: bytes) -> None:
    units = [_nal(h, b"\x11\x22") for h in keep]
    dirty = units[0] + _nal(drop, PHI) + b"".join(units[1:]) + _nal(drop, PHI, False) + b"\x00"
    stripped, removed = strip_annex_b(dirty, syntax)
    assert removed == 2
    assert stripped == b"".join(units)  # the pad went with the last unit
    ds = _video_dataset(syntax, [dirty[:20], dirty[20:]], has_bot=False)
    assert strip_codestream_metadata(ds) == 2
    assert PHI not in ds.PixelData
    frames = list(pydicom.encaps.generate_fragments(ds.PixelData[8:]))
    assert len(frames) == 2 and b"".join(frames).rstrip(b"\x00") == stripped.rstrip(b"\x00")


def test_annex_b_zero_byte_of_the_next_unit_kept() -> None:
    """SEI before the first slice: the slice keeps its 4-byte start code (zero_byte)."""
    sei, slice_ = _nal(b"\x06", PHI + b"\x80", True), _nal(b"\x65", b"\x88", True)
    stripped, _ = strip_annex_b(_nal(b"\x09", b"\xf0") + sei + slice_, MPEG4)
    assert stripped.endswith(b"\x00\x00\x00\x01\x65\x88")


@pytest.mark.parametrize(
    ("syntax", "stream", "reason"),
    [
        (MPEG4, b"\x47\x40\x00\x10" + PHI, "transport stream"),
        (MPEG2, b"\x00\x00\x01\xba\x44" + PHI, "program stream"),
        (MPEG4, b"\x00\x00\x01\xe0\x00\x10" + PHI, "NAL unit header"),
        (MPEG4, PHI, "neither"),
        (MPEG4, b"\x00\x00\x00\x30moov" + PHI, "box length"),
    ],
)
def test_video_containers_not_checked_are_refused(syntax: str, stream: bytes, reason: str) -> None:
    with pytest.raises(DeidentificationError, match=reason):
        strip_codestream_metadata(_video_dataset(syntax, [stream]))


def test_mp4_across_fragments_rewritten_in_place() -> None:
    """Thirty frames, one stream in three fragments: every fragment keeps its length."""
    dirty, _ = _mp4()
    cut = [0, 50, 130, len(dirty)]
    ds = _video_dataset(MPEG4, [dirty[a:b] for a, b in pairwise(cut)])
    before = ds.PixelData
    assert strip_codestream_metadata(ds) == 8
    assert len(ds.PixelData) == len(before)
    assert PHI[:31] not in ds.PixelData
    stream = b"".join(pydicom.encaps.generate_fragments(ds.PixelData[12:]))
    assert stream[: len(dirty)] == strip_bmff(dirty)[0]


def test_video_hint_always_reads_in_full() -> None:
    """No byte pattern tells a video stream clean: every one is read and stripped, without
    a scan first."""
    for syntax in (MPEG4, HEVC, MPEG2, "1.2.840.10008.1.2.4.102.1"):
        assert reads_whole_stream(syntax)
    assert not reads_whole_stream(JPEGBaseline8Bit)


def test_batch_pixels_off_neutralises_mp4_metadata(tmp_path: Path) -> None:
    from medveil.batch.discover import discover
    from medveil.batch.runner import BatchRunner, RunConfig

    source = tmp_path / "in"
    source.mkdir()
    dirty, _ = _mp4()
    ds = _load("SC_rgb_jpeg_dcmtk.dcm")
    ds.file_meta.TransferSyntaxUID = MPEG4
    ds.NumberOfFrames = 1
    ds.PixelData = encapsulate([dirty])
    ds.save_as(source / "video.dcm")
    policy = Policy(options=Policy.preset_named("basic").options, pixels=PixelMode.OFF)
    out = tmp_path / "out"
    BatchRunner(RunConfig(policy=policy, secret=b"s" * 32, out=out), []).run(discover([source]))
    (written,) = [p for p in out.rglob("*") if p.is_file() and p.suffix == ".dcm"]
    data = written.read_bytes()
    assert PHI[:31] not in data
    assert pydicom.dcmread(written).PixelData == encapsulate([strip_bmff(dirty)[0]])


@pytest.mark.parametrize(
    ("syntax", "header"),
    [
        (MPEG4, b"\x18"),  # H.264 type 24: unspecified, skipped by decoders
        (MPEG4, b"\x10"),  # H.264 type 16: reserved
        (HEVC, b"\x60\x01"),  # HEVC type 48: unspecified
        (HEVC, b"\x54\x01"),  # HEVC type 42: reserved
        (MPEG2, b"\xb0"),  # MPEG-2 reserved start code
        (MPEG2, b"\xb6"),
    ],
)
def test_annex_b_reserved_and_unspecified_units_are_refused(syntax: str, header: bytes) -> None:
    """Decoders skip such units, so they could carry any text: nothing proves them clean."""
    stream = _nal(b"\x09\xf0" if syntax != MPEG2 else b"\xb3\x01", b"") + _nal(header, PHI)
    with pytest.raises(DeidentificationError, match="reserved or unspecified"):
        strip_annex_b(stream, syntax)


def test_annex_b_filler_units_are_dropped() -> None:
    slice_ = _nal(b"\x65", b"\x88\x84")
    stripped, removed = strip_annex_b(_nal(b"\x0c", PHI) + slice_, MPEG4)  # type 12: filler
    assert removed == 1 and PHI not in stripped


def _hvcc(*arrays: tuple[int, bytes]) -> bytes:
    """An HEVC decoder configuration with one NAL unit per (type, unit) array."""
    body = bytes(22) + bytes([len(arrays)])
    for kind, unit in arrays:
        body += bytes([kind]) + struct.pack(">HH", 1, len(unit)) + unit
    return _box(b"hvcC", body)


def _hevc_entry(hvcc: bytes) -> bytes:
    stsd = _full_box(b"stsd", struct.pack(">L", 1) + _visual_entry(b"", hvcc))
    hdlr = _full_box(b"hdlr", bytes(4) + b"vide" + bytes(13))
    minf = _box(b"minf", _box(b"stbl", stsd))
    return _box(b"moov", _box(b"trak", _box(b"mdia", hdlr + minf)))


def test_hevc_configuration_with_parameter_sets_only_is_kept() -> None:
    stream = _hevc_entry(_hvcc((32, b"\x40\x01\x0c"), (33, b"\x42\x01\x01"), (34, b"\x44\x01")))
    assert strip_bmff(stream)[0] == stream


def test_hevc_configuration_carrying_sei_is_refused() -> None:
    """x265 writes its settings as user-data SEI, which ffmpeg copies into hvcC."""
    stream = _hevc_entry(_hvcc((32, b"\x40\x01\x0c"), (39, b"\x4e\x01\x05" + PHI)))
    with pytest.raises(DeidentificationError, match="NAL units of type 39"):
        strip_bmff(stream)


def test_short_sound_entry_is_refused_as_malformed() -> None:
    hdlr = _full_box(b"hdlr", bytes(4) + b"soun" + bytes(13))
    stsd = _full_box(b"stsd", struct.pack(">L", 1) + _box(b"mp4a", bytes(6)))
    stream = _box(b"moov", _box(b"trak", _box(b"mdia", hdlr + _box(b"minf", _box(b"stbl", stsd)))))
    with pytest.raises(DeidentificationError, match="sample entry length"):
        strip_bmff(stream)
