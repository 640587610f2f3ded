"""``encode_file`` writes exactly what pydicom writes (medveil.batch.header_writer).

Every check is differential: ``encode_file(ds)`` against ``pydicom.dcmwrite(buffer,
ds, enforce_file_format=True)`` on a deep copy of the same dataset -- over the
engine's outputs (PHI corpus, several policies, full and header-only reads), the
red-team corpus, the sample files raw and de-identified, and hand-built datasets
for each encoding and value type. A spy on pydicom's element writer shows which
elements took the per-element fallback, so the fast path is shown to do the work
where it should (an encoder that left everything to pydicom would pass the
byte comparisons alone).

pydicom warns about much of the red-team corpus (invalid values on purpose) and
about the values these tests push onto its fallbacks: the bytes are what is tested.
"""

from __future__ import annotations

import copy
import dataclasses
import struct
from collections.abc import Callable
from datetime import date, time
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.filebase import DicomIO
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
)
from pydicom.valuerep import DA, PersonName

import phi_corpus
import redteam_corpus
from medveil.batch import header_writer, writer
from medveil.batch.header_writer import UnsupportedEncoding, encode_file
from medveil.batch.writer import CLEAN_PREAMBLE, stage_dataset
from medveil.deid.engine import Deidentifier
from medveil.deid.policy import PixelMode, Policy
from medveil.deid.pseudonyms import Pseudonymizer
from medveil.errors import DeidentificationError
from test_redteam import POLICIES
from test_samples import DEID_SAMPLES, PYDICOM_SAMPLES

pytestmark = pytest.mark.filterwarnings("ignore")

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
SYNTAXES = [ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian]


def deidentifier(label: str) -> Deidentifier:
    preset, extra = POLICIES[label]
    base = Policy.preset_named(preset)
    policy = dataclasses.replace(base, options=base.options | set(extra), pixels=PixelMode.OFF)
    return Deidentifier(policy, Pseudonymizer(bytes(32)))


def pydicom_bytes(ds: Dataset) -> bytes:
    buffer = BytesIO()
    pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def assert_pydicom_bytes(ds: Dataset) -> bytes:
    """``encode_file(ds)`` is what pydicom writes; so is pydicom's output after it ran
    (what it changed in ``ds`` is what pydicom changes)."""
    ds.preamble = CLEAN_PREAMBLE
    expected = pydicom_bytes(copy.deepcopy(ds))
    assert encode_file(ds) == expected
    assert pydicom_bytes(ds) == expected
    return expected


def assert_same_outcome(ds: Dataset) -> str:
    """Like :func:`assert_pydicom_bytes`, for inputs pydicom may refuse: then encode_file
    fails too; it declines only files pydicom must guess or deflate. Returns what happened."""
    ds.preamble = CLEAN_PREAMBLE
    try:
        expected = pydicom_bytes(copy.deepcopy(ds))
    except Exception as exc:
        with pytest.raises((UnsupportedEncoding, type(exc))):
            encode_file(ds)
        return "refused"
    try:
        actual = encode_file(ds)
    except UnsupportedEncoding:
        syntax = getattr(ds, "file_meta", {}).get("TransferSyntaxUID")
        assert syntax is None or syntax == DeflatedExplicitVRLittleEndian or syntax.is_private
        return "declined"
    assert actual == expected
    return "written"


def read(source: Path | bytes, header_only: bool) -> Dataset:
    fp = BytesIO(source) if isinstance(source, bytes) else source
    return pydicom.dcmread(fp, force=True, stop_before_pixels=header_only)


@pytest.fixture
def fallbacks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Tags of the elements ``encode_file`` left to pydicom's element writer."""
    tags: list[int] = []
    original = header_writer.write_data_element

    def spy(fp: DicomIO, elem: object, encodings: object = None) -> None:
        tags.append(int(elem.tag))  # type: ignore[attr-defined]
        original(fp, elem, encodings)  # type: ignore[arg-type]

    monkeypatch.setattr(header_writer, "write_data_element", spy)
    return tags


def new_file(syntax: str = ExplicitVRLittleEndian) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = UID(syntax)
    ds.SOPClassUID = CT_IMAGE
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.2.1125.7.1"
    return ds


# -- the engine's outputs and the corpora -------------------------------------------------------


@pytest.mark.parametrize("label", POLICIES)
def test_engine_outputs_of_the_phi_corpus(
    label: str, phi_files: list[phi_corpus.CorpusFile]
) -> None:
    deid = deidentifier(label)
    for file in phi_files:
        for header_only in (False, True):
            assert_pydicom_bytes(deid.run(read(file.path, header_only)).dataset)


def test_engine_outputs_of_the_benchmark_bases(tmp_path: Path) -> None:
    """The benchmark's mix: chest radiographs (RG1_UNCR) among the small images."""
    bases = ("chest", "ct", "chest", "us", "chest", "mr-j2k")
    files = phi_corpus.write_corpus(tmp_path, 6, seed=2026, bases=bases)
    deid = deidentifier("research")
    syntaxes = set()
    for file in files:
        for header_only in (False, True):
            ds = deid.run(read(file.path, header_only)).dataset
            syntaxes.add(ds.file_meta.TransferSyntaxUID)
            assert_pydicom_bytes(ds)
    assert JPEG2000Lossless in syntaxes


@pytest.mark.parametrize("label", ["raw", "research", "basic"])
def test_redteam_corpus(label: str) -> None:
    deid = None if label == "raw" else deidentifier(label)
    seen = {"written": 0, "declined": 0, "refused": 0}
    for case in redteam_corpus.build_corpus():
        for header_only in (False, True):
            try:
                ds = read(case.data, header_only)
                if deid is not None:
                    ds = deid.run(ds).dataset
            except DeidentificationError:
                continue  # refused by the engine: nothing is written
            except Exception:
                assert case.broken, case.name
                continue
            seen[assert_same_outcome(ds)] += 1
    assert seen["written"] > 150, seen


@pytest.fixture(scope="module")
def samples(pydicom_samples: Path, deid_samples: Path) -> list[Path]:
    return [pydicom_samples / n for n in PYDICOM_SAMPLES] + [deid_samples / n for n in DEID_SAMPLES]


@pytest.mark.parametrize("header_only", [False, True])
def test_sample_files_raw_and_deidentified(samples: list[Path], header_only: bool) -> None:
    deid = deidentifier("research")
    for path in samples:
        assert_pydicom_bytes(read(path, header_only))
        assert_pydicom_bytes(deid.run(read(path, header_only)).dataset)


def test_raw_elements_are_copied_as_read(fallbacks: list[int]) -> None:
    """Read back in its own encoding, a file's raw elements (odd lengths too) are copied."""
    ds = new_file()
    ds.PatientID = "ID7"
    ds.Rows = 8
    data = pydicom_bytes(ds)
    odd = RawDataElement(BaseTag(0x00081030), "LO", 3, b"abc", 0, False, True)
    back = read(data, header_only=False)
    back._dict[odd.tag] = odd
    written = assert_pydicom_bytes(back)
    assert b"LO\x03\x00abc" in written
    assert fallbacks == []


def test_raw_elements_pydicom_re_encodes(fallbacks: list[int]) -> None:
    """A changed character set: pydicom converts and re-encodes every raw element."""
    back = read(pydicom_bytes(new_file()), header_only=True)
    raws = {
        0x00080008: ("CS", b"DERIVED\\PRIMARY \0 \0"),  # trailing padding dropped
        0x00080060: ("CS", b"CT\0"),
        0x00080020: ("DA", b"20240102 "),
        0x00280010: ("US", b"\x08\x00"),
        0x00281101: ("SS", b"\xff\xff\x00\x00\x10\x00"),  # LUT descriptor: first value unsigned
        0x00189087: ("FD", struct.pack("<d", 1.5)),
        0x00420011: ("OB", b"\x01\x02\x03"),
        0x00081030: ("LO", b"head "),
        0x00200013: ("IS", b" 12 "),
    }
    for tag, (vr, value) in raws.items():
        back._dict[BaseTag(tag)] = RawDataElement(
            BaseTag(tag), vr, len(value), value, 0, False, True
        )
    back.SpecificCharacterSet = "ISO_IR 192"
    written = assert_pydicom_bytes(back)
    assert b"CS\x10\x00DERIVED\\PRIMARY " in written
    assert b"CS\x02\x00CT" in written
    assert b"OB\0\0\x04\0\0\0\x01\x02\x03\0" in written
    assert fallbacks == []


# -- hand-built datasets -------------------------------------------------------------------


def every_handled_type(ds: Dataset) -> Dataset:
    """One element of each VR with the value types the fast path encodes."""
    ds.RetrieveAETitle = ["AE1", "AE_TWO"]
    ds.PatientAge = "042Y"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.StudyDate = "20240102"
    ds.SeriesDate = DA("20240103")
    ds.AcquisitionDateTime = "20240102112233.5"
    ds.StudyTime = "112233"
    ds.SliceThickness = "1.25"
    ds.PixelSpacing = [0.5, "0.25"]
    ds.InstanceNumber = 7
    ds.SeriesNumber = "12"
    ds.StudyDescription = "odd"
    ds.ImageComments = "a longer comment\r\nwith two lines"
    ds.PatientName = "Doe^Jane^^Dr"
    ds.OtherPatientNames = [PersonName("A^B"), PersonName("C^D=E^F")]
    ds.StudyID = "S1"
    ds.AdditionalPatientHistory = "history"
    ds.add_new(0x00400441, "UC", ["uc1", "uc2"])
    ds.FrameOfReferenceUID = "1.2.3"
    ds.add_new(0x0040E010, "UR", "http://example.org/x")
    ds.add_new(0x00404001, "UT", "unlimited text")
    ds.Rows, ds.Columns = 8, 9
    ds.add_new(0x00189219, "SS", [-3, 4])
    ds.add_new(0x00280303, "AT", [0x00100010, 0x7FE00010])
    ds.add_new(0x00209165, "AT", 0x00100020)
    ds.add_new(0x00189808, "UL", 70000)
    ds.add_new(0x00720076, "SL", [-70000, 5])
    ds.add_new(0x0072007F, "SV", -(2**40))
    ds.add_new(0x00720082, "UV", [2**63, 1])
    ds.add_new(0x00189087, "FD", 1.5)
    ds.add_new(0x00189219 + 1, "FL", [0.1, -2.5])
    ds.add_new(0x00420011, "OB", b"\x01\x02\x03")
    ds.add_new(0x00660023, "OW", b"\x01\x02\x03\x04")
    ds.add_new(0x00720075, "OD", b"\0" * 8)
    ds.add_new(0x00660016, "OF", b"\0" * 4)
    ds.add_new(0x00660040, "OL", b"\1" * 4)
    ds.add_new(0x00720073, "OV", b"\2" * 8)
    ds.add_new(0x00189369, "UN", b"odd")
    ds.ContentDate = ""  # empty values of several VRs
    ds.PatientSex = None
    ds.add_new(0x00280106, "US", None)
    ds.ReferencedStudySequence = []
    ds.add_new(0x00091010, "LO", "private, converted")
    ds.add_new(0x00090010, "LO", "ACME 1.0")
    return ds


def nested(depth: int) -> Sequence:
    item = Dataset()
    item.CodeValue = f"V{depth}"
    item.CodeMeaning = f"level {depth}"
    if depth > 1:
        item.ContentSequence = nested(depth - 1)
    return Sequence([item, Dataset()])


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_every_handled_type_takes_the_fast_path(syntax: str, fallbacks: list[int]) -> None:
    ds = every_handled_type(new_file(syntax))
    ds.ContentSequence = nested(3)
    ds.ContentSequence[0].is_undefined_length_sequence_item = True
    ds.ConceptNameCodeSequence = nested(2)
    ds["ConceptNameCodeSequence"].is_undefined_length = True
    written = assert_pydicom_bytes(ds)
    assert fallbacks == []
    assert b"V3" in written and b"level 1" in written


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_text_in_single_byte_and_utf8_takes_the_fast_path(
    syntax: str, fallbacks: list[int]
) -> None:
    cases = (("ISO_IR 100", "latin_1", "Müller, Zoë"), ("ISO_IR 192", "utf8", "Zhang^San=张^三"))
    for charset, codec, text in cases:
        ds = new_file(syntax)
        ds.SpecificCharacterSet = charset
        ds.StudyDescription = text.replace("^", " ").replace("=", " ")
        ds.PatientName = text
        ds.ContentSequence = nested(1)
        ds.ContentSequence[0].CodeMeaning = text.replace("^", " ")  # inherits the charset
        written = assert_pydicom_bytes(ds)
        assert ds.StudyDescription.encode(codec) in written
    assert fallbacks == []


def test_text_in_other_character_sets_falls_back(fallbacks: list[int]) -> None:
    ds = new_file()
    ds.SpecificCharacterSet = "GB18030"
    ds.StudyDescription = "胸部 CT"
    ds.PatientName = "Wang^Xiaodong=王^小東"
    written = assert_pydicom_bytes(ds)
    assert "胸部".encode("gb18030") in written
    assert 0x00081030 in fallbacks


def test_text_the_charset_cannot_encode_falls_back(fallbacks: list[int]) -> None:
    ds = new_file()
    ds.StudyDescription = "Ωmega"  # no (0008,0005): ISO 8859-1 has no Omega
    assert_pydicom_bytes(ds)
    assert fallbacks == [0x00081030]


def test_dates_pydicom_formats_itself_fall_back(fallbacks: list[int]) -> None:
    ds = new_file()
    ds.StudyDate = date(2024, 1, 2)  # no original string: pydicom's strftime
    ds.StudyTime = time(11, 22, 33, 500)
    ds.SeriesDate = DA(date(2024, 1, 3))  # a DA keeps the string it was made from
    written = assert_pydicom_bytes(ds)
    assert b"20240102" in written and b"112233.000500" in written and b"20240103" in written
    assert fallbacks == [0x00080020, 0x00080030]


def test_values_too_long_for_a_16_bit_length_fall_back(fallbacks: list[int]) -> None:
    ds = new_file()
    ds.ImageComments = "x" * 70_000  # LT: pydicom writes it as UN in explicit VR
    written = assert_pydicom_bytes(ds)
    assert b"UN\0\0" in written
    assert fallbacks == [0x00204000]


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_ambiguous_vr(syntax: str) -> None:
    ds = new_file(syntax)
    ds.PixelRepresentation = 1
    ds.add_new(0x00280106, "US or SS", -5)  # SmallestImagePixelValue
    ds.ContentSequence = [Dataset()]
    ds.ContentSequence[0].add_new(0x00280107, "US or SS", b"\x05\x00")
    assert_pydicom_bytes(ds)


def test_ambiguous_vr_in_a_file_read_back(fallbacks: list[int]) -> None:
    """Implicit VR read back: raw elements pydicom types as 'US or SS' are re-encoded."""
    ds = new_file(ImplicitVRLittleEndian)
    ds.PixelRepresentation = 0
    ds.add_new(0x00280106, "US", 3)
    back = read(pydicom_bytes(ds), header_only=True)
    back.SpecificCharacterSet = "ISO_IR 192"  # a changed charset: every element re-encoded
    assert_pydicom_bytes(back)


def test_group_lengths() -> None:
    """Dataset group lengths above group 6 are dropped; the meta's is recomputed."""
    ds = new_file()
    ds.add_new(0x00080000, "UL", 1234)
    ds.add_new(0x00040000, "UL", 4)
    ds.file_meta.FileMetaInformationGroupLength = 9999
    written = assert_pydicom_bytes(ds)
    (meta_length,) = struct.unpack("<L", written[140:144])
    meta_end = 144 + meta_length
    assert written[meta_end : meta_end + 4] == b"\x04\x00\x00\x00"  # (0004,0000) kept
    assert b"\x08\x00\x00\x00UL" not in written


def test_file_meta_is_completed_as_pydicom_completes_it() -> None:
    ds = new_file()
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.999"  # stale: follows the data set
    written = assert_pydicom_bytes(ds)
    assert ds.SOPInstanceUID.encode() in written[:400]
    assert b"1.2.3.999" not in written
    assert "ImplementationClassUID" not in ds.file_meta  # completed in a copy, as pydicom does


def test_private_elements_raw_and_converted(fallbacks: list[int]) -> None:
    ds = new_file(ImplicitVRLittleEndian)
    ds.add_new(0x00090010, "LO", "ACME 1.0")
    ds.add_new(0x00091001, "LO", "converted")
    ds.add_new(0x00091002, "UN", b"\x01\x02")
    back = read(pydicom_bytes(ds), header_only=True)  # raw, VR unknown (implicit)
    back.add_new(0x00091003, "SH", "new")
    assert_pydicom_bytes(back)
    back.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian  # private VRs looked up
    assert_pydicom_bytes(back)
    assert fallbacks == []


# -- what only pydicom decides -------------------------------------------------------------


def declined(ds: Dataset) -> None:
    with pytest.raises(UnsupportedEncoding):
        encode_file(ds)


def test_declines_what_pydicom_must_guess_or_deflate() -> None:
    ds = new_file(DeflatedExplicitVRLittleEndian)
    declined(ds)
    del ds.file_meta
    declined(ds)
    declined(new_file("1.2.3.4.5"))  # private: pydicom needs the encoding spelled out


def test_declines_what_pydicom_refuses() -> None:
    ds = new_file()
    ds.file_meta.MediaStorageSOPClassUID = CT_IMAGE
    del ds.SOPInstanceUID  # and the meta has none either
    declined(ds)
    with pytest.raises(AttributeError):
        pydicom_bytes(ds)
    meta_in_body = new_file()
    meta_in_body.add_new(0x00020010, "UI", ExplicitVRLittleEndian)
    declined(meta_in_body)
    little = read(pydicom_bytes(new_file()), header_only=True)
    little.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    declined(little)  # save_as will not change the byte order


# -- properties ------------------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\\"), max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    syntax=st.sampled_from(SYNTAXES),
    charset=st.sampled_from([None, "ISO_IR 100", "ISO_IR 192"]),
    texts=st.lists(TEXT, min_size=4, max_size=4),
    names=st.lists(TEXT, min_size=1, max_size=3),
    numbers=st.lists(st.integers(0, 0xFFFF), max_size=4),
)
def test_random_text_and_numbers(
    syntax: str,
    charset: str | None,
    texts: list[str],
    names: list[str],
    numbers: list[int],
) -> None:
    ds = new_file(syntax)
    if charset:
        ds.SpecificCharacterSet = charset
    ds.StudyDescription, ds.ImageComments, ds.StudyID, ds.AccessionNumber = texts
    ds.PatientName = names if len(names) > 1 else names[0]
    ds.add_new(0x00280010, "US", numbers)
    ds.ContentSequence = [Dataset()]
    ds.ContentSequence[0].CodeMeaning = texts[0]
    assert_pydicom_bytes(ds)


# -- the writer ------------------------------------------------------------------------------


def staged_bytes(ds: Dataset, tmp_path: Path) -> bytes:
    staged = stage_dataset(ds, tmp_path / "out.dcm", fsync=False)
    return staged.read_bytes()


def test_stage_dataset_writes_with_the_encoder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Dataset] = []
    encode: Callable[[Dataset], bytes] = writer.encode_file

    def spy(ds: Dataset) -> bytes:
        calls.append(ds)
        return encode(ds)

    monkeypatch.setattr(writer, "encode_file", spy)
    ds = every_handled_type(new_file())
    ds.preamble = b"\xff" * 128  # replaced by the clean preamble
    clean = copy.deepcopy(ds)
    clean.preamble = CLEAN_PREAMBLE
    expected = pydicom_bytes(clean)
    assert staged_bytes(ds, tmp_path) == expected
    assert calls == [ds]


def test_stage_dataset_falls_back_to_pydicom(tmp_path: Path) -> None:
    ds = new_file(DeflatedExplicitVRLittleEndian)
    ds.StudyDescription = "deflated"
    ds.preamble = CLEAN_PREAMBLE
    assert staged_bytes(ds, tmp_path) == pydicom_bytes(copy.deepcopy(ds))


# -- transfer syntaxes newer than pydicom ---------------------------------------------------------

#: Each newer syntax and a compressed one pydicom knows, written with as many bytes.
NEWER_AND_KNOWN = [
    ("1.2.840.10008.1.2.4.110", "1.2.840.10008.1.2.4.100"),  # JPEG XL lossless; MPEG-2
    ("1.2.840.10008.1.2.4.111", "1.2.840.10008.1.2.4.100"),
    ("1.2.840.10008.1.2.4.112", "1.2.840.10008.1.2.4.100"),
    ("1.2.840.10008.1.2.8.1", "1.2.840.10008.1.2.4.50"),  # Deflated Image Frame; JPEG
]


def encapsulated_file(syntax: str) -> Dataset:
    ds = new_file(syntax)
    ds.PatientName = "Doe^Jane"
    ds.Rows = ds.Columns = 4
    ds.PixelData = encapsulate([b"\xff\x0a" + bytes(30)])
    return ds


@pytest.mark.parametrize(("newer", "known"), NEWER_AND_KNOWN)
def test_newer_syntaxes_written_like_a_compressed_one(newer: str, known: str) -> None:
    """pydicom refuses them ("not a valid transfer syntax"); they are explicit VR little
    endian, pixel data encapsulated (undefined length), as every compressed syntax."""
    with pytest.raises(ValueError, match="not a valid transfer syntax"):
        pydicom_bytes(encapsulated_file(newer))
    ds = encapsulated_file(newer)
    ds.preamble = CLEAN_PREAMBLE
    expected = pydicom_bytes(encapsulated_file(known))
    same_length = newer.encode().ljust(len(known), b"\0")  # UIDs are padded with a NUL
    assert encode_file(ds) == expected.replace(known.encode(), same_length)
    assert ds["PixelData"].is_undefined_length


@pytest.mark.parametrize(("newer", "known"), NEWER_AND_KNOWN)
def test_newer_syntax_stored_as_declared(newer: str, known: str, tmp_path: Path) -> None:
    """The reader compares how a file is written with what its newer syntax declares."""
    from medveil.batch.reader import stored_as_declared

    path = tmp_path / "x.dcm"
    path.write_bytes(encode_file(encapsulated_file(newer)))
    assert stored_as_declared(read(path, header_only=True))
    implicit = BytesIO()
    pydicom.dcmwrite(
        implicit, new_file(newer), implicit_vr=True, little_endian=True, force_encoding=True
    )
    assert not stored_as_declared(read(implicit.getvalue(), header_only=True))
