"""PHI in places an outside red team found kept (session 4): each finding has a test that
fails on the code before the fix.

Header: public blobs over 64 KiB, public tags no dictionary knows stored as bytes or
numbers, a kept text attribute written with a number VR, images inside sequence items,
names and identifiers of removed attributes that the lexicon did not learn, katakana
against hiragana. Pixels: Overlay Data longer than its declared planes.
"""

from __future__ import annotations

import base64
import gzip
import struct
import zlib
from io import BytesIO

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.pixels import pack_bits
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from medveil.deid.embedded import MAX_PAYLOAD, MAX_TOTAL, embedded_payloads
from medveil.deid.engine import Deidentifier, deidentify
from medveil.deid.policy import PixelMode, Policy
from medveil.deid.pseudonyms import Pseudonymizer
from medveil.deid.text import PhiLexicon
from medveil.deid.verify import verify
from medveil.errors import DeidentificationError
from medveil.pixels import clean_overlays
from medveil.profiles.options import Option

SECRET = bytes(range(32))
NAME, FIRST, MRN = "Quillfeather", "Ottoline", "MRN88771234"
PHI = f"{NAME} {FIRST} {MRN}".encode()


def image(**extra: object) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.99.1.1"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, "1.2.826.0.1.99.1.1"
    ds.PatientName = f"{NAME}^{FIRST}"
    ds.PatientID = MRN
    ds.Modality = "CT"
    for keyword, value in extra.items():
        setattr(ds, keyword, value)
    return ds


def written(ds: Dataset) -> bytes:
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def clean_bytes(ds: Dataset, preset: str = "research") -> bytes:
    """The de-identified file, or b"" when the engine refused it (fail closed is clean)."""
    try:
        out = deidentify(ds, Policy.preset_named(preset), secret=SECRET)
    except DeidentificationError:
        return b""
    out.preamble = bytes(128)
    return written(out)


@pytest.mark.parametrize("preset", ["basic", "research"])
def test_a_large_public_blob_naming_the_patient_is_searched(preset: str) -> None:
    ds = image(ICCProfile=(b"desc " + PHI).ljust(70_000, b"\0"))
    ds.OpticalPathSequence = Sequence([Dataset()])
    ds.OpticalPathSequence[0].ICCProfile = (b"desc " + PHI).ljust(70_000, b"\0")
    assert NAME.encode() not in clean_bytes(ds, preset)


@pytest.mark.parametrize("vr", ["OB", "OW", "OF", "OD", "OL", "FL", "US"])
def test_an_unknown_public_tag_holding_bytes_or_numbers_is_removed(vr: str) -> None:
    ds = image()
    ds.add_new(0x0018FFF2, vr, PHI.ljust(64, b" ") if vr.startswith("O") else 7)
    out = deidentify(ds, Policy.preset_named("basic"), secret=SECRET)
    assert 0x0018FFF2 not in out


def test_unknown_public_text_and_known_repeating_groups_stay() -> None:
    """Text can be searched and stays; (6000,0010) OverlayRows is known, though pydicom's
    dictionary_has_tag says otherwise."""
    ds = image()
    ds.add_new(0x0018FFF4, "LO", "PROTOCOL A")
    ds.add_new(0x60000010, "US", 4)
    ds.add_new(0x60000011, "US", 4)
    out = deidentify(ds, Policy.preset_named("basic"), secret=SECRET)
    assert out[0x0018FFF4].value == "PROTOCOL A"
    assert out[0x60000010].value == 4


def _with_raw_element(ds: Dataset, tag: int, vr: bytes, value: bytes) -> Dataset:
    """``ds`` written and read back with one explicit VR element spliced in as ``vr``."""
    data = written(ds)
    at = data.index(struct.pack("<HH", 0x0028, 0x0002))  # before SamplesPerPixel, in order
    element = struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr, len(value)) + value
    return pydicom.dcmread(DicomBytesIO(data[:at] + element + data[at:]))


@pytest.mark.parametrize("vr", [b"FD", b"US", b"UL", b"SL", b"OF"])
def test_a_kept_text_attribute_written_with_a_number_vr_is_read_as_text(vr: bytes) -> None:
    ds = image(SamplesPerPixel=1)
    value = f"for {MRN} {NAME} ".encode().ljust(32, b" ")
    spliced = _with_raw_element(ds, 0x00283003, vr, value)  # LUTExplanation (LO), kept
    assert NAME.encode() not in clean_bytes(spliced, "basic")


def test_a_number_string_written_as_a_number_is_left_alone() -> None:
    """IS written as US by a converter holds no text: the file is released as it was."""
    ds = image(SamplesPerPixel=1)
    spliced = _with_raw_element(ds, 0x00280008, b"US", struct.pack("<H", 1))  # NumberOfFrames
    out = deidentify(spliced, Policy.preset_named("basic"), secret=SECRET)
    assert out.get_item(0x00280008).VR == "US"


def test_images_inside_sequence_items_are_removed() -> None:
    item = Dataset()
    item.Rows = item.Columns = 8
    item.BitsAllocated, item.BitsStored, item.HighBit, item.PixelRepresentation = 8, 8, 7, 0
    item.PixelData = PHI.ljust(64, b" ")
    ds = image(DerivationCodeSequence=Sequence([item]))
    out = deidentify(ds, Policy.preset_named("research"), secret=SECRET)
    assert "PixelData" not in out.DerivationCodeSequence[0]
    assert NAME.encode() not in clean_bytes(ds)


@pytest.mark.parametrize(
    ("keyword", "value", "text"),
    [
        ("CameraOwnerName", "Qwenolda Brightwater", "photo by Qwenolda Brightwater"),
        ("ContainerIdentifier", "SP23-889911", "block SP23-889911 reviewed"),
        ("BarcodeValue", "BC99887766", "label BC99887766"),
        ("DeviceID", "DVC667788", "device DVC667788 calibrated"),
        ("DetectorID", "XRD55667", "detector XRD55667 replaced"),
    ],
)
def test_removed_identifiers_teach_the_lexicon(keyword: str, value: str, text: str) -> None:
    ds = image(**{keyword: value}, ImageComments=text)
    ds.add_new(0x00283003, "LO", text)  # LUTExplanation: kept, unlisted
    assert value.encode() not in clean_bytes(ds, "basic")
    assert value.encode() not in clean_bytes(ds, "research")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("山田^太郎=やまだ^たろう", "患者 ヤマダ タロウ 様"),
        ("山田^太郎=ヤマダ^タロウ", "患者 やまだ たろう 様"),
    ],
)
def test_katakana_and_hiragana_spell_one_name(name: str, text: str) -> None:
    ds = Dataset()
    ds.PatientName = name
    spans = PhiLexicon.from_dataset(ds).find(text)
    found = "".join(text[span.start : span.end] for span in spans)
    assert text.split()[1] in found and text.split()[2] in found


def test_overlay_bytes_past_the_declared_plane_are_cut() -> None:
    """A blank 64 x 64 overlay (nothing to redact, so its plane is not rewritten) with a
    second plane of text appended: no viewer shows it, but it is in the file."""
    ds = image(Rows=64, Columns=64)
    ds.add_new(0x60000010, "US", 64)  # OverlayRows
    ds.add_new(0x60000011, "US", 64)  # OverlayColumns
    ds.add_new(0x60000040, "CS", "G")  # OverlayType
    ds.add_new(0x60000050, "SS", [1, 1])  # OverlayOrigin
    ds.add_new(0x60000100, "US", 1)  # OverlayBitsAllocated
    ds.add_new(0x60000102, "US", 0)  # OverlayBitPosition
    blank = pack_bits(np.zeros(64 * 64, dtype=np.uint8))
    ds.add_new(0x60003000, "OW", blank + PHI.ljust(64, b" "))
    clean_overlays(ds, mode=PixelMode.PHI, phi=PhiLexicon.from_dataset(ds))
    assert ds[0x6000, 0x3000].value == blank


@pytest.mark.parametrize("date", ["15Jan2023", "17APR1961", "05MAR24"])
def test_run_together_dates_in_kept_text_go(date: str) -> None:
    """SegmentLabel is kept by every profile; a date typed into it is still a date."""
    segment = Dataset()
    segment.SegmentLabel = f"lesion {date}"
    ds = image(SegmentSequence=Sequence([segment]))
    out = deidentify(ds, Policy.preset_named("basic"), secret=SECRET)
    assert date not in str(out.SegmentSequence[0].SegmentLabel)


def test_a_kept_number_spelling_the_patient_id_is_emptied() -> None:
    """AcquisitionNumber (IS) is kept by the profile; the MRN's digits typed into it are not."""
    ds = image(PatientID="55190077", AcquisitionNumber="55190077", InstanceNumber="7")
    out = deidentify(ds, Policy.preset_named("basic"), secret=SECRET)
    assert str(out.get("AcquisitionNumber", "") or "") == ""
    assert out.InstanceNumber == 7


def test_the_gate_searches_kept_numbers() -> None:
    ds = image(PatientID="55190077", AcquisitionNumber="3")
    engine = Deidentifier(Policy.preset_named("basic"), Pseudonymizer(SECRET))
    result = engine.run(ds)
    result.dataset.AcquisitionNumber = "55190077"  # as if the engine had missed it
    with pytest.raises(DeidentificationError, match="AcquisitionNumber"):
        verify(
            original=ds,
            output=result.dataset,
            rules=engine.rules,
            lexicon=result.lexicon,
            generated={result.patient_pseudonym},
        )


@pytest.mark.parametrize(
    "raw_name",
    [
        b"\xef\xbb\xbfQUILLFEATHERBY^ROSAMUNDEQ",  # a UTF-8 byte-order mark
        b"QUILL\xc2\xadFEATHERBY^ROSAMUNDEQ",  # a soft hyphen
        b"QUILLFEATHERBY^ROSAMUNDEQ\xff",  # a byte that is not UTF-8
    ],
)
def test_a_name_is_learnt_as_it_reads(raw_name: bytes) -> None:
    """Invisible or undecodable characters in the PN must not hide the name in other text."""
    ds = image(SpecificCharacterSet="ISO_IR 192", ImageComments="Follow-up QUILLFEATHERBY ok")
    ds.add_new(0x0018FFF4, "LO", "QUILLFEATHERBY ROSAMUNDEQ seen")  # unlisted: kept, searched
    ds.PatientName = raw_name  # bytes: written as they are
    read_back = pydicom.dcmread(DicomBytesIO(written(ds)))
    out = deidentify(read_back, Policy.preset_named("basic"), secret=SECRET)
    kept = str(out[0x0018FFF4].value)
    assert "QUILLFEATHERBY" not in kept and "ROSAMUNDEQ" not in kept
    assert "seen" in kept


# --- private elements kept under Retain Safe Private (the TCIA knowledge base's "k") ----------


def safe_private(ds: Dataset) -> Dataset | None:
    """The output under research + Retain Safe Private, or None when refused."""
    policy = Policy.preset_named("research").with_options(Option.RETAIN_SAFE_PRIVATE)
    try:
        return deidentify(ds, policy, secret=SECRET)
    except DeidentificationError:
        return None


def test_a_kept_private_blob_hiding_a_compressed_document_goes() -> None:
    report = f"<report><name>{NAME}^{FIRST}</name><id>{MRN}</id></report>".encode()
    for packed in (zlib.compress(report), gzip.compress(report)):
        ds = image()
        block = ds.private_block(0x0019, "HOLOGIC, Inc.", create=True)
        block.add_new(0x64, "OB", b"HDR\x00" + packed)
        block.add_new(0x85, "LO", "kept")  # a neighbour that stays
        out = safe_private(ds)
        assert out is not None
        kept = out.private_block(0x0019, "HOLOGIC, Inc.")
        assert 0x00191064 not in out and kept[0x85].value == "kept"


def test_a_kept_private_text_hiding_base64_goes() -> None:
    report = f"<name>{NAME}^{FIRST}</name>".encode()
    ds = image()
    block = ds.private_block(0x0019, "HOLOGIC, Inc.", create=True)
    block.add_new(0x62, "LT", f"<IP><Blob>{base64.b64encode(report).decode()}</Blob></IP>")
    out = safe_private(ds)
    assert out is None or 0x00191062 not in out


@pytest.mark.parametrize(("group", "creator", "element", "vr"), [
    (0x0011, "GEMS_PATI_01", 0x10, "SS"),
    (0x0009, "GEMS_PETD_01", 0x16, "SL"),
    (0x0009, "GEMS_PETD_01", 0x2C, "SL"),
])  # fmt: skip
def test_kept_private_numbers_whose_bytes_spell_the_name_go(
    group: int, creator: str, element: int, vr: str
) -> None:
    ds = image()
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian  # the VR comes from the dictionary
    value = f"{FIRST}X{NAME}".encode().ljust(32, b" ")  # glued to other letters, too
    ds.private_block(group, creator, create=True).add_new(element, "OB", value)
    read_back = pydicom.dcmread(DicomBytesIO(written(ds)))
    assert vr == read_back[group << 16 | 0x1000 | element].VR
    out = safe_private(read_back)
    assert out is None or (group << 16 | 0x1000 | element) not in out


@pytest.mark.parametrize(
    ("charset", "codec", "name"),
    [
        ("ISO_IR 144", "iso8859_5", "Иванов^Пётр"),
        ("ISO_IR 126", "iso8859_7", "Παπαδόπουλος^Γιώργος"),
        ("ISO_IR 138", "iso8859_8", "כהנוביץ^אברהם"),
        ("ISO_IR 166", "tis_620", "สมชาย^ใจดีมาก"),
        ("ISO_IR 192", "utf-32-le", "Wojciechowskiego^Jan"),
    ],
)
def test_a_kept_private_blob_in_the_files_own_character_set_is_read(
    charset: str, codec: str, name: str
) -> None:
    ds = image(SpecificCharacterSet=charset, PatientName=name)
    family = name.split("^")[0]
    blob = b"ANNOTATE" + family.encode(codec) + b" END"  # 4-byte aligned, for UTF-32
    ds.private_block(0x0019, "FDMS 1.0", create=True).add_new(0x90, "OB", blob)
    out = safe_private(ds)
    assert out is None or 0x00191090 not in out


def test_unpacking_is_bounded() -> None:
    """Decompression bombs and many streams stop at the budget, not at the memory's end."""
    bomb = zlib.compress(bytes(64 * 1024 * 1024), 9)  # 64 MiB of zeros in ~64 KiB
    payloads = embedded_payloads(bomb * 8)
    assert payloads and sum(map(len, payloads)) <= MAX_TOTAL
    assert all(len(payload) <= MAX_PAYLOAD for payload in payloads)
