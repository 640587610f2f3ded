"""The header engine's behaviour beyond single table rows: references, patients, dates,
sequences, records, character sets, the verification gate, the library API."""

from __future__ import annotations

import copy
import dataclasses
import struct
from io import BytesIO
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, ImplicitVRLittleEndian

import medveil
from medveil.deid.actions import IDENTIFYING_UNLISTED, RuleBook
from medveil.deid.engine import Deidentifier, DeidResult, deidentify
from medveil.deid.policy import Override, PixelMode, Policy
from medveil.deid.pseudonyms import Pseudonymizer
from medveil.deid.text import MARKER, PhiLexicon
from medveil.deid.verify import verify
from medveil.errors import DeidentificationError
from medveil.profiles.options import Option
from medveil.profiles.table import load_table

SECRET = bytes(range(32))
PATIENT_ID = "PID-778899"


def item(**attributes: object) -> Dataset:
    ds = Dataset()
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


def image(sop_uid: str = "1.2.826.0.1.99.1.1", **extra: object) -> Dataset:
    """A small CT-like dataset with file meta and the usual identifying attributes."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.SourceApplicationEntityTitle = "SMITHS_PACS"
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = "1.2.826.0.1.99.2"
    ds.SeriesInstanceUID = "1.2.826.0.1.99.3"
    ds.FrameOfReferenceUID = "1.2.826.0.1.99.4"
    ds.PatientName = "Smith^John"
    ds.PatientID = PATIENT_ID
    ds.PatientBirthDate = "19500101"
    ds.PatientSex = "M"
    ds.PatientAge = "073Y"
    ds.StudyDate = "20240305"
    ds.StudyTime = "101500"
    ds.AcquisitionDateTime = "20240305101633.5+0100"
    ds.ContentDate = "20240305"
    ds.SeriesDate = "20240305"
    ds.AccessionNumber = "ACC123456"
    ds.InstitutionName = "Springfield General"
    ds.StudyDescription = "CT head for Smith"
    ds.Modality = "CT"
    ds.Rows = ds.Columns = 2
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelData = b"\x00\x01\x02\x03\x04\x05\x06\x07"
    for keyword, value in extra.items():
        setattr(ds, keyword, value)
    return ds


def run(ds: Dataset, policy: Policy | None = None) -> DeidResult:
    engine = Deidentifier(policy or Policy.preset_named("basic"), Pseudonymizer(SECRET))
    return engine.run(ds)


# --- the input, pixel data and the API -------------------------------------------------------


def gate(source: Dataset, result: DeidResult) -> None:
    """The verification gate, run again on an output of :func:`run` (basic) that a test
    has since changed."""
    verify(
        original=source,
        output=result.dataset,
        rules=RuleBook(Policy.preset_named("basic"), load_table()),
        lexicon=result.lexicon,
        generated={result.patient_pseudonym},
    )


def test_input_is_not_modified() -> None:
    ds = image(ReferencedImageSequence=Sequence([item(ReferencedSOPInstanceUID="1.2.3.4")]))
    before = copy.deepcopy(ds)
    run(ds, Policy.preset_named("research"))
    assert ds == before
    assert ds.file_meta == before.file_meta


def test_pixel_data_is_carried_unchanged() -> None:
    ds = image()
    out = run(ds).dataset
    assert out.PixelData == ds.PixelData
    assert (out.Rows, out.Columns) == (2, 2)


def test_deidentify_api_defaults_and_secret() -> None:
    ds = image()
    first, second = deidentify(ds), deidentify(ds)
    assert first.PatientID == second.PatientID != PATIENT_ID  # one random key per process
    keyed = deidentify(ds, secret=SECRET)
    assert keyed.PatientID == Pseudonymizer(SECRET).patient_id(PATIENT_ID)
    assert keyed.LongitudinalTemporalInformationModified == "MODIFIED"  # research preset
    assert medveil.deidentify is deidentify


def test_output_writes_and_reads_back() -> None:
    out = run(image(), Policy.preset_named("research")).dataset
    buffer = BytesIO()
    out.save_as(buffer, enforce_file_format=True)
    again = pydicom.dcmread(BytesIO(buffer.getvalue()))
    assert again.SOPInstanceUID == out.SOPInstanceUID
    assert again.PatientName == out.PatientName


# --- patients and UIDs -------------------------------------------------------------------------


def test_patient_pseudonyms() -> None:
    result = run(image())
    pseudonymizer = Pseudonymizer(SECRET)
    assert result.dataset.PatientID == pseudonymizer.patient_id(PATIENT_ID)
    assert result.dataset.PatientName == pseudonymizer.patient_name(PATIENT_ID)
    assert result.patient_pseudonym == result.dataset.PatientID
    assert result.dataset.PatientBirthDate == ""


def test_uids_stay_consistent_across_files() -> None:
    first = image("1.2.826.0.1.99.1.1")
    derived = image(
        "1.2.826.0.1.99.1.2",
        SourceImageSequence=Sequence(
            [
                item(
                    ReferencedSOPClassUID=CTImageStorage,
                    ReferencedSOPInstanceUID="1.2.826.0.1.99.1.1",
                )
            ]
        ),
    )
    out1, result2 = run(first).dataset, run(derived)
    out2 = result2.dataset
    reference = out2.SourceImageSequence[0]
    assert reference.ReferencedSOPInstanceUID == out1.SOPInstanceUID
    assert reference.ReferencedSOPClassUID == CTImageStorage  # well known: unchanged
    assert out2.StudyInstanceUID == out1.StudyInstanceUID != first.StudyInstanceUID
    assert out2.FrameOfReferenceUID == out1.FrameOfReferenceUID
    assert out1.file_meta.MediaStorageSOPInstanceUID == out1.SOPInstanceUID
    assert out1.SOPClassUID == out1.file_meta.MediaStorageSOPClassUID == CTImageStorage
    assert result2.uid_map["1.2.826.0.1.99.1.1"] == out1.SOPInstanceUID
    assert all(new.startswith("2.25.") for new in result2.uid_map.values())


def test_uids_deep_in_unlisted_sequences_are_replaced() -> None:
    series = Sequence(
        [
            item(
                SeriesInstanceUID="1.2.826.0.1.99.3",
                ReferencedImageSequence=Sequence(
                    [item(ReferencedSOPInstanceUID="1.2.826.0.1.99.1.1")]
                ),
            )
        ]
    )
    out = run(image(ReferencedSeriesSequence=series)).dataset  # (0008,1115): not listed
    new = out.ReferencedSeriesSequence[0]
    assert new.SeriesInstanceUID == out.SeriesInstanceUID != "1.2.826.0.1.99.3"
    assert new.ReferencedImageSequence[0].ReferencedSOPInstanceUID == out.SOPInstanceUID
    assert "ReferencedStudySequence" in run(image(ReferencedStudySequence=series)).dataset
    assert not run(image(ReferencedStudySequence=series)).dataset.ReferencedStudySequence  # X/Z


def test_retain_uids_keeps_every_uid() -> None:
    policy = Policy.preset_named("basic").with_options(Option.RETAIN_UIDS)
    ds = image(SourceImageSequence=Sequence([item(ReferencedSOPInstanceUID="1.2.826.0.1.99.1.9")]))
    result = run(ds, policy)
    out = result.dataset
    assert out.SOPInstanceUID == out.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert out.SourceImageSequence[0].ReferencedSOPInstanceUID == "1.2.826.0.1.99.1.9"
    assert result.uid_map == {}


def test_file_meta_keeps_only_what_a_file_needs() -> None:
    """Application titles, presentation addresses (host names, IP addresses), the RTV
    source identifier, private information and elements no edition knows all go."""
    ds = image()
    meta = ds.file_meta
    meta.SendingApplicationEntityTitle = "SMITH_WS"
    meta.add_new(0x00020026, "UR", "dicom://pacs.st-mary.example:104")  # source address
    meta.add_new(0x00020028, "UR", "10.20.30.40")  # receiving presentation address
    meta.add_new(0x00020035, "OB", b"Smith^John")  # RTV source identifier
    meta.add_new(0x00020099, "UN", b"MRN 778899")
    meta.PrivateInformationCreatorUID = "1.2.3.4"
    meta.PrivateInformation = b"Smith John"
    out = run(ds).dataset
    meta_tags = [0x00020002, 0x00020003, 0x00020010, 0x00020012, 0x00020013]  # no version in
    assert sorted(out.file_meta.keys()) == meta_tags
    assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian


def test_gate_refuses_a_meta_element_outside_the_allow_list() -> None:
    ds = image()
    result = run(ds)
    result.dataset.file_meta.add_new(0x00020026, "UR", "10.20.30.40")
    with pytest.raises(DeidentificationError, match="should have been removed"):
        gate(ds, result)


# --- compound codes, dates, characteristics ------------------------------------------------------


def test_compound_codes_resolve_as_documented() -> None:
    ds = image(AcquisitionDate="20240305", ProtocolName="Smith protocol")
    out = run(ds).dataset
    assert out.ContentDate == "19000101"  # Z/D, Type 1 in common IODs: dummy
    assert out.AcquisitionDateTime == "19000101000000"  # X/Z/D, Type 1: dummy
    assert out.AcquisitionDate == ""  # X/Z: emptied
    assert out.InstitutionName == ""  # X/Z/D, not Type 1: emptied
    assert "SeriesDate" not in out  # X/D, not Type 1: removed
    assert "ProtocolName" not in out  # X/D
    assert out.StudyDate == "" and out.AccessionNumber == ""  # Z


def test_modified_dates_shift_every_date_by_the_patient_offset() -> None:
    unlisted_date = 0x00143076  # DateOfGainCalibration: not in Table E.1-1
    ds = image()
    ds.add_new(unlisted_date, "DA", "20240101")
    result = run(ds, Policy.preset_named("research"))
    out, offset = result.dataset, result.date_offset_days
    assert offset == Pseudonymizer(SECRET).date_offset_days(PATIENT_ID)
    assert offset is not None and offset < 0
    shifted = pydicom.valuerep.DA(out.StudyDate)
    assert (pydicom.valuerep.DA("20240305") - shifted).days == -offset
    assert out.StudyTime == "101500"  # whole days: times unchanged
    assert out.AcquisitionDateTime.endswith("101633.5+0100")
    assert out.AcquisitionDateTime[:8] == out.StudyDate
    assert out[unlisted_date].value != "20240101"
    assert out.PatientBirthDate == ""  # Z with no option column: never shifted, always emptied
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"


def test_unlisted_dates_and_names() -> None:
    unlisted_date = 0x00143076  # DateOfGainCalibration
    ds = image(EvaluatorName="Rowe^Senara")  # (0014,2006) PN, not in Table E.1-1
    ds.add_new(unlisted_date, "DA", "20240101")
    basic = run(ds).dataset
    assert unlisted_date not in basic
    assert basic.EvaluatorName == ""
    policy = Policy.preset_named("basic").with_options(Option.RETAIN_LONG_FULL_DATES)
    assert run(ds, policy).dataset[unlisted_date].value == "20240101"


def test_full_dates_keep_dates() -> None:
    policy = Policy.preset_named("basic").with_options(Option.RETAIN_LONG_FULL_DATES)
    out = run(image(), policy).dataset
    assert (out.StudyDate, out.SeriesDate) == ("20240305", "20240305")
    assert out.LongitudinalTemporalInformationModified == "UNMODIFIED"
    assert run(image()).dataset.LongitudinalTemporalInformationModified == "REMOVED"


@pytest.mark.filterwarnings("ignore:Invalid value for VR DA")
def test_malformed_date_is_emptied_not_kept() -> None:
    out = run(image(StudyDate="2024-03-05"), Policy.preset_named("research")).dataset
    assert out.StudyDate == ""


@pytest.mark.parametrize(
    ("age", "expected"), [("073Y", "073Y"), ("093Y", "090Y"), ("089Y", "089Y")]
)
def test_patient_characteristics_and_age_cap(age: str, expected: str) -> None:
    policy = Policy.preset_named("basic").with_options(Option.RETAIN_PATIENT_CHARACTERISTICS)
    out = run(image(PatientAge=age, PatientWeight="71.5"), policy).dataset
    assert out.PatientAge == expected
    assert (out.PatientSex, out.PatientWeight) == ("M", 71.5)
    basic = run(image(PatientAge=age, PatientWeight="71.5")).dataset
    assert "PatientAge" not in basic and "PatientWeight" not in basic
    assert basic.PatientSex == ""


# --- sequences ------------------------------------------------------------------------------------


def test_removed_sequence_goes_whole() -> None:
    ds = image(OtherPatientIDsSequence=Sequence([item(PatientID="OTHER-1")]))
    assert "OtherPatientIDsSequence" not in run(ds).dataset


def test_dummy_content_sequence_keeps_structure_and_loses_names() -> None:
    text_item = item(
        RelationshipType="CONTAINS",
        ValueType="TEXT",
        TextValue="Patient John Smith reports pain",
        ConceptNameCodeSequence=Sequence(
            [item(CodeValue="121071", CodingSchemeDesignator="DCM", CodeMeaning="Finding")]
        ),
    )
    out = run(image(ContentSequence=Sequence([text_item]))).dataset
    new = out.ContentSequence[0]
    assert "Smith" not in new.TextValue and "John" not in new.TextValue
    assert new.TextValue.endswith("reports pain")
    assert new.ConceptNameCodeSequence[0].CodeValue == "121071"


def test_clean_descriptors_scrubs_text() -> None:
    out = run(image(), Policy.preset_named("research")).dataset
    assert out.StudyDescription == f"CT head for {MARKER}"
    assert "StudyDescription" not in run(image()).dataset


# --- records, overrides, unknown elements -------------------------------------------------------


def test_deidentification_is_recorded() -> None:
    out = run(image(), Policy.preset_named("research")).dataset
    assert out.PatientIdentityRemoved == "YES"
    codes = [entry.CodeValue for entry in out.DeidentificationMethodCodeSequence]
    expected = ["113100", *sorted(o.code for o in Policy.preset_named("research").options)]
    assert codes == expected
    assert all(e.CodingSchemeDesignator == "DCM" for e in out.DeidentificationMethodCodeSequence)
    assert out.DeidentificationMethod[0].startswith("medveil")
    basic = run(image()).dataset
    assert [e.CodeValue for e in basic.DeidentificationMethodCodeSequence] == ["113100"]


def test_overrides_win() -> None:
    policy = Policy(
        options=frozenset(),
        overrides=(Override(0x00081030, "K"), Override(0x00100010, "Z")),
    )
    out = run(image(StudyDescription="CT HEAD"), policy).dataset
    assert out.StudyDescription == "CT HEAD"
    assert out.PatientName == ""


def test_unknown_public_un_and_group_lengths_are_removed() -> None:
    ds = image()
    ds.add_new(0x00191234 & 0xFFFEFFFF, "UN", b"\x01\x02")  # (0018,1234): not in the dictionary
    ds.add_new(0x00080000, "UL", 100)
    out = run(ds).dataset
    assert 0x00181234 not in out
    assert 0x00080000 not in out


@pytest.mark.filterwarnings("ignore:Invalid value for VR")
def test_junk_in_kept_values_is_dropped() -> None:
    policy = Policy.preset_named("basic").with_options(
        Option.RETAIN_LONG_FULL_DATES, Option.RETAIN_PATIENT_CHARACTERISTICS
    )
    ds = image(SeriesDate="Smith", ContentTime="John", EthnicGroup="Smith")
    ds.EncryptedAttributesSequence = Sequence([item(EncryptedContent=b"Smith^John" * 3)])
    ds.add_new(0x0008041B, "OB", b"notes: Smith John ")  # RecordKey: unlisted, kept unless named
    out = run(ds, policy).dataset
    assert (out.SeriesDate, out.ContentTime, out.StudyDate) == ("", "", "20240305")
    assert out.EthnicGroup == MARKER
    assert "EncryptedAttributesSequence" not in out
    assert 0x0008041B not in out


def test_numeric_arrays_that_spell_an_id_keep_their_data() -> None:
    """A 12-bit identity LUT read as UTF-16 holds "0123456789", a descending palette as
    Latin-1 holds "99887766": lookup tables are numbers, not text, and lose no data."""
    identity = item(LUTDescriptor=[4096, 0, 16], ModalityLUTType="US")
    identity.add_new(0x00283006, "OW", np.arange(4096, dtype="<u2").tobytes())  # LUTData
    ds = image(PatientID="123456", AccessionNumber="99887766")
    ds.ModalityLUTSequence = Sequence([identity])
    palette = np.linspace(65535, 0, 256).astype("<u2").tobytes()
    assert b"99887766" in palette
    ds.add_new(0x00281201, "OW", palette)  # RedPaletteColorLookupTableData
    out = run(ds, Policy.preset_named("research")).dataset
    assert out.ModalityLUTSequence[0][0x00283006].value == identity[0x00283006].value
    assert out[0x00281201].value == palette


@pytest.mark.parametrize("tag", sorted(IDENTIFYING_UNLISTED))
def test_identifying_attributes_the_table_misses(tag: int) -> None:
    vr = dictionary_VR(tag)
    value = Sequence([item(CodeMeaning="Smith")]) if vr == "SQ" else "SMITH"
    ds = image()
    ds.add_new(tag, vr, value)
    out = run(ds, Policy.preset_named("research")).dataset
    action = IDENTIFYING_UNLISTED[tag]
    if action == "X":
        assert tag not in out
    elif action == "Z":
        assert out[tag].value == ""
    else:
        assert out[tag].value not in ("", "SMITH")


def test_overlay_planes_are_kept_for_the_pixel_cleaner_only() -> None:
    ds = image()
    ds.add_new(0x60003000, "OB", b"\x01\x00" * 4)
    ds.add_new(0x50003000, "OB", b"\x01\x00" * 4)
    research = Policy.preset_named("research")
    assert research.pixels is not PixelMode.OFF
    out = run(ds, research).dataset
    assert out[0x60003000].value == b"\x01\x00" * 4  # clean graphics: medveil.pixels cleans it
    assert 0x50003000 not in out  # curves: nothing can clean them
    off = dataclasses.replace(research, pixels=PixelMode.OFF)
    assert 0x60003000 not in run(ds, off).dataset
    assert 0x60003000 not in run(ds).dataset  # basic: X


def test_identifier_used_as_a_code_value_is_scrubbed() -> None:
    code = item(CodeValue="ACC123456", CodingSchemeDesignator="99RIS", CodeMeaning="CT head")
    out = run(image(ProcedureCodeSequence=Sequence([code]))).dataset
    new = out.ProcedureCodeSequence[0]
    assert (new.CodeValue, new.CodeMeaning) == (MARKER, "CT head")


def test_uids_quoted_in_text_get_their_pseudonyms() -> None:
    ds = image(ImageComments="Compare 1.2.826.0.1.99.1.1 (prior), v1.2 viewer")
    result = run(ds, Policy.preset_named("research"))
    comment = result.dataset.ImageComments
    assert comment == f"Compare {result.dataset.SOPInstanceUID} (prior), v1.2 viewer"


def test_wrong_vr_is_corrected_by_the_dictionary() -> None:
    ds = image()
    ds["SOPInstanceUID"].VR = "LO"
    out = run(ds).dataset
    assert out.SOPInstanceUID == Pseudonymizer(SECRET).uid("1.2.826.0.1.99.1.1")


@pytest.mark.parametrize("preset", ["basic", "research"])
def test_name_typed_into_a_code_string_is_replaced(preset: str) -> None:
    ds = image(PatientName="Quillfeather^Zebulon", BodyPartExamined="ZEBULON")
    ds.ImageType = ["ORIGINAL", "PRIMARY", "QUILLFEATHER"]
    ds.ScanOptions = "HELICAL_CT"
    out = run(ds, Policy.preset_named(preset)).dataset
    assert list(out.ImageType) == ["ORIGINAL", "PRIMARY", "ANONYMIZED"]
    assert out.BodyPartExamined == "ANONYMIZED"
    assert out.ScanOptions == "HELICAL_CT"  # no term: kept


def test_gate_searches_code_strings() -> None:
    ds = image(PatientName="Quillfeather^Zebulon")
    result = run(ds)
    result.dataset.ImageType = ["ORIGINAL", "QUILLFEATHER"]
    with pytest.raises(DeidentificationError, match="ImageType contains an identifying term"):
        gate(ds, result)


def test_text_written_as_bytes_is_read_as_text() -> None:
    """A writer that types text as OB (top level, or inside a sequence item read lazily)
    must not hide it: the name reaches the lexicon, the descriptions get scrubbed."""
    ds = image(StudyDescription="CT head Quillfeather")
    del ds.PatientName
    ds.add_new(0x00100010, "OB", b"Quillfeather^Zebulon")
    code = item(CodeValue="P1", CodingSchemeDesignator="L")
    code.add_new(0x00080104, "OB", b"CT head for Quillfeather Zebulon")  # CodeMeaning
    ds.ProcedureCodeSequence = Sequence([code])
    ds.add_new(0x00181030, "OB", b"Quillfeather protocol")  # ProtocolName
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    source = pydicom.dcmread(BytesIO(buffer.getvalue()))
    assert source.ProcedureCodeSequence[0][0x00080104].VR == "OB"  # as written
    out = run(pydicom.dcmread(BytesIO(buffer.getvalue())), Policy.preset_named("research"))
    assert out.dataset.StudyDescription == f"CT head {MARKER}"
    assert out.dataset.ProcedureCodeSequence[0].CodeMeaning == f"CT head for {MARKER}"
    assert out.dataset.ProtocolName == f"{MARKER} protocol"


def test_sequence_of_garbage_is_an_unreadable_element() -> None:
    """pydicom raises OSError ("No tag to read") on a sequence whose bytes are not items:
    the file is refused as unreadable, like any element pydicom cannot decode."""
    ds = image()
    del ds.file_meta
    buffer = BytesIO()
    ds.save_as(buffer, implicit_vr=True, little_endian=True)
    garbage = struct.pack("<HHL", 0x0008, 0x1140, 6) + bytes(range(1, 7))  # ReferencedImageSeq
    source = pydicom.dcmread(BytesIO(buffer.getvalue() + garbage), force=True)
    with pytest.raises(DeidentificationError, match=r"unreadable element \(OSError\)"):
        run(source)


def test_file_meta_names_medveil_as_the_implementation() -> None:
    ds = image()
    ds.file_meta.ImplementationVersionName = "PID-778899"
    meta = run(ds).dataset.file_meta
    assert str(meta.ImplementationVersionName).startswith("MEDVEIL")
    assert meta.ImplementationClassUID == pydicom.uid.PYDICOM_IMPLEMENTATION_UID


# --- character sets ---------------------------------------------------------------------------


def test_non_ascii_text_is_written_as_utf8() -> None:
    ds = image(SpecificCharacterSet="ISO_IR 100", StudyDescription="Schädel nativ")
    out = run(ds, Policy.preset_named("research")).dataset
    assert out.SpecificCharacterSet == "ISO_IR 192"
    assert out.StudyDescription == "Schädel nativ"
    buffer = BytesIO()
    out.save_as(buffer, enforce_file_format=True)
    assert pydicom.dcmread(BytesIO(buffer.getvalue())).StudyDescription == "Schädel nativ"


def test_ascii_output_drops_the_source_character_set() -> None:
    ds = image(SpecificCharacterSet="GB18030", PatientName="Zhang^San=张^三")
    out = run(ds).dataset
    assert "SpecificCharacterSet" not in out
    assert str(out.PatientName).startswith("MV^")


# --- the verification gate ----------------------------------------------------------------------


def test_name_in_an_unlisted_attribute_is_scrubbed() -> None:
    ds = image(ConvolutionKernel="SMITH B30f")  # (0018,1210): kept by the profile
    assert run(ds).dataset.ConvolutionKernel == f"{MARKER} B30f"


def test_retained_on_request_is_not_flagged() -> None:
    policy = Policy.preset_named("basic").with_options(Option.RETAIN_INSTITUTION_IDENTITY)
    out = run(image(), policy).dataset
    assert out.InstitutionName == "Springfield General"


@pytest.mark.parametrize(
    ("keyword", "value", "reason"),
    [
        ("OtherPatientIDs", "OTHER-1", "should have been removed"),
        ("AccessionNumber", "ACC123456", "should be empty"),
        ("SOPInstanceUID", "1.2.826.0.1.99.1.1", "still holds its original value"),
        ("ConvolutionKernel", "SMITH", "contains an identifying term"),
    ],
)
def test_verify_rejects(keyword: str, value: str, reason: str) -> None:
    original = image()
    setattr(original, keyword, value)
    output = run(image()).dataset
    setattr(output, keyword, value)
    rules = RuleBook(Policy.preset_named("basic"), load_table())
    with pytest.raises(DeidentificationError, match=reason):
        verify(
            original=original,
            output=output,
            rules=rules,
            lexicon=PhiLexicon.from_dataset(original),
            generated={output.PatientID, str(output.PatientName)},
        )


def test_second_pass_is_clean() -> None:
    once = run(image(ContentDate="20240305")).dataset
    twice = run(once).dataset
    assert twice.ContentDate == "19000101"


# --- identity record and real files ---------------------------------------------------------------


def test_identity_record() -> None:
    ds = image()
    result = run(ds)
    record = result.identity_record()
    header = pydicom.dcmread(BytesIO(record.original_header))
    assert header.PatientName == "Smith^John"
    assert "PixelData" not in header
    assert record.patient_pseudonym == result.patient_pseudonym
    assert record.uid_map == result.uid_map
    assert record.date_offset_days is None


@pytest.mark.parametrize("name", ["RG1_J2KR.dcm", "MR2_UNCR.dcm"])
def test_sample_files(pydicom_samples: Path, name: str) -> None:
    ds = pydicom.dcmread(pydicom_samples / name)
    before = copy.deepcopy(ds)
    result = run(ds, Policy.preset_named("research"))
    assert ds == before and ds.file_meta == before.file_meta
    out = result.dataset
    if name.endswith("UNCR.dcm"):
        assert out.PixelData == ds.PixelData  # native: bytes untouched
    else:  # the J2K codestream loses its COM marker (F28), the pixels stay the same
        assert len(out.PixelData) < len(ds.PixelData)
        assert np.array_equal(out.pixel_array, ds.pixel_array)
    assert out.preamble == bytes(128)
    assert out.PatientID != ds.PatientID
    buffer = BytesIO()
    out.save_as(buffer, enforce_file_format=True)
    assert pydicom.dcmread(BytesIO(buffer.getvalue())).SOPInstanceUID == out.SOPInstanceUID


def test_sample_with_fake_phi(deid_samples: Path) -> None:
    ds = pydicom.dcmread(deid_samples / "animals" / "cat.dcm")
    out = run(ds, Policy.preset_named("research")).dataset
    assert out.PatientName != ds.PatientName
    for term in PhiLexicon.from_dataset(ds).terms:
        if len(term) > 3:
            assert term not in str(out.get("StudyDescription", ""))


def test_file_without_meta_group_gets_the_syntax_it_was_read_in(pydicom_samples: Path) -> None:
    """OT-PAL-8-face.dcm has no preamble and no meta group: the output must still declare
    its encoding, or the pixel step and the writer cannot tell how to read it."""
    source = pydicom.dcmread(pydicom_samples / "OT-PAL-8-face.dcm", force=True)
    assert "TransferSyntaxUID" not in source.file_meta
    result = Deidentifier(Policy.preset_named("basic"), Pseudonymizer(b"k" * 32)).run(source)
    assert result.dataset.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
    assert "TransferSyntaxUID" not in source.file_meta  # the input is not modified


@pytest.mark.parametrize(
    ("keyword", "text", "kept"),
    [
        ("ContentDescription", "Dr Thistlewaite MRN 55123", f"Dr {MARKER} MRN {MARKER}"),
        ("DocumentTitle", "Report for Dr Thistlewaite", f"Report for Dr {MARKER}"),
        ("SegmentDescription", "患者王五 tumour", f"患者{MARKER} tumour"),
        ("DoseComment", "Acc#: A-1234", f"Acc#: {MARKER}"),
        ("ContentDescription", "MR BRAIN W/WO, staging cT2N0M0", "MR BRAIN W/WO, staging cT2N0M0"),
    ],
)
def test_text_kept_by_default_is_scrubbed_for_titled_names_and_labelled_ids(
    keyword: str, text: str, kept: str
) -> None:
    """Attributes the profile does not list are kept unless they hold PHI: a name after a
    title or a number after an ID label is PHI no header attribute holds."""
    out = run(image(**{keyword: text}), Policy.preset_named("research")).dataset
    assert out.data_element(keyword).value == kept
