"""Adversarial DICOM files for red-teaming the header engine, each with its injected PHI.

Every :class:`Case` is the byte image of one file *as received* (so broken
encodings reach the engine the way a real reader sees them) plus the PHI
tokens planted in it (``token -> kind``). Each case attacks one place
PS3.15 Annex E names (or a place it forgets): when an engine fails closed on
one element it refuses the whole file, which would hide every other leak of
that file, so vectors are spread over many small files.

A file starts from :func:`_base` -- a small CT of one synthetic patient with
the identity every file carries (name, ID, dates, UIDs) -- and each builder
adds its vector. Compressed cases take their pixel data from pydicom's and
pydicom-data's sample files; broken cases are assembled from hand-encoded
elements (:func:`explicit_element`, :func:`implicit_element`).

Cases sharing a ``group`` form one study: their references (SR, key object
selection) point at each other's SOP Instance UIDs, so a test can check that
the UID map is the same in every file.

``keep`` lists clinical words that a cleaning option should leave alone (a
scrubber that erased them would be destroying utility, not protecting).

Only pydicom and numpy are used: the module builds everything in memory.
"""

from __future__ import annotations

import hashlib
import struct
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from io import BytesIO

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.sequence import Sequence
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

import phi_corpus
from phi_corpus import (
    ADDRESS,
    CT_IMAGE,
    DATE,
    DEVICE,
    ID,
    IMAGE_PIXEL_KEYWORDS,
    INSTITUTION,
    MR_IMAGE,
    NAME,
    PHONE,
)
from phi_corpus import UID as UIDS

# Token kinds (what the value identifies): phi_corpus's, plus free text.
TEXT = "text"

#: Pieces of a UID (a date or MRN inside its root): kept with the UID under Retain UIDs.
UID_PART = "uid-part"

#: Token kinds that a profile option (CLI spelling) is defined to keep: phi_corpus's,
#: with the UID parts kept along with their UIDs.
RETAINED_BY_OPTION: dict[str, frozenset[str]] = {
    **phi_corpus.RETAINED_BY_OPTION,
    "retain-uids": frozenset({UIDS, UID_PART}),
}

SC_IMAGE = "1.2.840.10008.5.1.4.1.1.7"
ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
KEY_OBJECT_SELECTION = "1.2.840.10008.5.1.4.1.1.88.59"
GSPS = "1.2.840.10008.5.1.4.1.1.11.1"
ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"

# The synthetic patient. Names are rare on purpose: a hit is a leak, not chance.
FAMILY, GIVEN, MIDDLE = "Quillfeather", "Ottoline", "Maudsley"
PATIENT_NAME = f"{FAMILY}^{GIVEN}^{MIDDLE}^Mrs^PhD"
PATIENT_ID = "QX7734921"
BIRTH_DATE = "19610417"
STUDY_DATE = "20240305"  # all exam dates within a few days: a shifted date never hits another
STUDY_TIME = "101512"
ACCESSION = "ACC55019873"
STUDY_UID = "1.2.826.0.1.3680043.2.1125.77341.20240305.1"
SERIES_UID = "1.2.826.0.1.3680043.2.1125.77341.20240305.2"
FRAME_UID = "1.2.826.0.1.3680043.2.1125.77341.20240305.3"
PATIENT_NAME_TOKENS = (FAMILY, GIVEN, MIDDLE, f"{FAMILY}^{GIVEN}")  # dropped by renaming cases
REFERRING = "Huxtable-Ngata^Bartholomew^Q^Dr^MD"
REFERRING_TOKENS = ("Huxtable-Ngata", "Bartholomew")
PHONE_NUMBER = "+44 20 7946 0958"
STREET = "17 Wrenfield Crescent, Cheltenham GL52 6XQ"
HOSPITAL = "St Aldhelm Infirmary"


@dataclass(frozen=True)
class Case:
    """One adversarial input file and what was planted in it."""

    name: str
    data: bytes
    tokens: dict[str, str]
    note: str
    group: str | None = None
    keep: tuple[str, ...] = ()
    broken: bool = False  # a malformed file: refusing it (fail closed) is the expected outcome
    refusal_ok: bool = False  # PHI where refusing the whole file is a right answer
    scan_pixels: bool = False  # the PHI is inside the pixel data: search it too

    def __repr__(self) -> str:  # pytest ids and failure messages: never the bytes
        return f"Case({self.name})"


@dataclass
class _Tokens:
    found: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, *tokens: str) -> None:
        for token in tokens:
            self.found.setdefault(token, kind)

    def drop(self, *tokens: str) -> None:
        """Forget tokens ``_base`` planted that a case overwrites (KeyError if never planted)."""
        for token in tokens:
            del self.found[token]


def _sop_uid(case: str) -> str:
    """A deterministic SOP Instance UID per case (the digits spell nothing)."""
    number = int.from_bytes(hashlib.sha256(case.encode()).digest()[:8], "big") % 10**12
    return f"1.2.826.0.1.3680043.2.1125.77341.9.{number}"


def _base(case: str, tokens: _Tokens, *, sop_class: str = CT_IMAGE) -> Dataset:
    """A small, valid CT of the synthetic patient, carrying the identity every file has."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID(sop_class)
    ds.file_meta.MediaStorageSOPInstanceUID = UID(_sop_uid(case))
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = UID("1.2.826.0.1.3680043.2.1125.1")
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = _sop_uid(case)
    ds.StudyInstanceUID = STUDY_UID
    ds.SeriesInstanceUID = SERIES_UID
    ds.FrameOfReferenceUID = FRAME_UID
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = STUDY_DATE
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = STUDY_TIME
    ds.AccessionNumber = ACCESSION
    ds.Modality = "CT"
    ds.Manufacturer = "GE MEDICAL SYSTEMS"
    ds.ReferringPhysicianName = REFERRING
    ds.PatientName = PATIENT_NAME
    ds.PatientID = PATIENT_ID
    ds.PatientBirthDate = BIRTH_DATE
    ds.PatientSex = "F"
    ds.PatientAge = "062Y"
    ds.StudyID = "S20240305A"
    ds.SeriesNumber = 3
    ds.InstanceNumber = 1
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    _pixels(ds)
    tokens.add(NAME, *PATIENT_NAME_TOKENS, *REFERRING_TOKENS)
    tokens.add(ID, PATIENT_ID, ACCESSION, "S20240305A")
    tokens.add(DATE, BIRTH_DATE, STUDY_DATE)
    tokens.add(UIDS, STUDY_UID, SERIES_UID, FRAME_UID, _sop_uid(case))
    return ds


def _pixels(ds: Dataset, rows: int = 8, columns: int = 8) -> None:
    """A tiny uncompressed 16-bit monochrome image."""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    ds.PixelData = (np.arange(rows * columns, dtype=np.uint16) * 7).tobytes()


def _drop_pixels(ds: Dataset) -> None:
    """Remove the image :func:`_pixels` added (SR, KOS, GSPS and documents have none)."""
    del ds.PixelData
    for keyword in IMAGE_PIXEL_KEYWORDS:
        if keyword in ds:
            delattr(ds, keyword)


def to_bytes(
    ds: Dataset,
    *,
    implicit: bool = False,
    preamble: bytes | None = None,
    file_format: bool = True,
) -> bytes:
    """The Part-10 image of ``ds`` (or a bare dataset when ``file_format`` is False)."""
    buffer = BytesIO()
    if file_format:
        ds.preamble = preamble if preamble is not None else bytes(128)
        if implicit:
            ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
        pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    else:
        ds.preamble = None
        if hasattr(ds, "file_meta"):
            del ds.file_meta
        pydicom.dcmwrite(buffer, ds, implicit_vr=implicit, little_endian=True)
    return buffer.getvalue()


# -- hand-encoded elements (for files pydicom would refuse to write) ----------------------

_LONG_VRS = {b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"SQ", b"UN", b"UC", b"UR", b"UT", b"SV"}


def explicit_element(tag: int, vr: bytes, value: bytes, *, length: int | None = None) -> bytes:
    """One Explicit VR Little Endian element, value written exactly as given (no padding)."""
    size = len(value) if length is None else length
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr
    if vr in _LONG_VRS:
        return head + b"\0\0" + struct.pack("<I", size) + value
    return head + struct.pack("<H", size) + value


def implicit_element(tag: int, value: bytes) -> bytes:
    """One Implicit VR Little Endian element."""
    return struct.pack("<HHI", tag >> 16, tag & 0xFFFF, len(value)) + value


def _item(body: bytes) -> bytes:
    """One defined-length sequence item holding the encoded elements ``body``."""
    return struct.pack("<HHI", 0xFFFE, 0xE000, len(body)) + body


def _padded(value: bytes) -> bytes:
    """``value`` padded with a space to the even length the standard requires."""
    return value + b" " * (len(value) % 2)


def _meta_bytes(ds: Dataset) -> bytes:
    """Preamble, ``DICM`` and the file meta group of ``ds`` as pydicom writes them."""
    full = to_bytes(ds)
    body_start = 132
    group_length = struct.unpack("<I", full[body_start + 8 : body_start + 12])[0]
    return full[: body_start + 12 + group_length]


def _replace_body(ds: Dataset, elements: list[bytes]) -> bytes:
    """Part-10 bytes of ``ds`` with extra hand-encoded elements merged in tag order.

    ``ds`` is written Explicit VR Little Endian, parsed back element by
    element, and the raw ``elements`` (encoded bytes, tag first) take the
    place of any element with the same tag.
    """
    meta = _meta_bytes(ds)
    body = Dataset()
    for elem in ds:
        body.add(elem)
    plain = BytesIO()
    pydicom.dcmwrite(plain, body, implicit_vr=False, little_endian=True)
    chunks = dict(_split_explicit(plain.getvalue()))
    for encoded in elements:
        group, element = struct.unpack("<HH", encoded[:4])
        chunks[(group << 16) | element] = encoded
    return meta + b"".join(chunks[tag] for tag in sorted(chunks))


def _split_explicit(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Top-level (tag, encoded element) pairs of an Explicit VR LE body with defined lengths."""
    offset = 0
    while offset < len(data):
        group, element = struct.unpack("<HH", data[offset : offset + 4])
        vr = data[offset + 4 : offset + 6]
        if vr in _LONG_VRS:
            length = struct.unpack("<I", data[offset + 8 : offset + 12])[0]
            start = offset + 12
        else:
            length = struct.unpack("<H", data[offset + 6 : offset + 8])[0]
            start = offset + 8
        if length == 0xFFFFFFFF:
            raise ValueError("undefined lengths are not split")
        yield (group << 16) | element, data[offset : start + length]
        offset = start + length


# -- the cases --------------------------------------------------------------------------------


def _patient_module() -> Case:
    t = _Tokens()
    ds = _base("patient_module", t)
    ds.OtherPatientIDs = ["OPX-448812", "NHS 943 476 5919"]
    ds.OtherPatientNames = ["Thistlewaite^Ottoline", "Quillfeather-Brandt^O"]
    ds.PatientBirthTime = "043000"
    ds.PatientMotherBirthName = "Vellacott^Imogen"
    ds.PatientBirthName = "Brandt^Ottoline"
    ds.PatientAddress = STREET
    ds.PatientTelephoneNumbers = PHONE_NUMBER
    ds.AdmissionID = "ADM20240305-7781"
    ds.IssuerOfAdmissionIDSequence = [Dataset()]
    ds.IssuerOfAdmissionIDSequence[0].LocalNamespaceEntityID = "ALDHELM-ADT"
    ds.IssuerOfPatientID = HOSPITAL
    ds.PatientComments = f"Daughter Rosamund Quillfeather, call {PHONE_NUMBER}"
    ds.AdditionalPatientHistory = f"Ottoline Quillfeather, MRN {PATIENT_ID}, fell 2024-03-01"
    ds.Occupation = "Lighthouse keeper at Portwrenna"
    ds.MilitaryRank = "Wing Commander"
    ds.BranchOfService = "Royal Wrenfield Fusiliers"
    ds.PatientInsurancePlanCodeSequence = [Dataset()]
    ds.PatientInsurancePlanCodeSequence[0].CodeValue = "INS-99317"
    ds.PatientInsurancePlanCodeSequence[0].CodingSchemeDesignator = "L"
    ds.PatientInsurancePlanCodeSequence[0].CodeMeaning = "Wrenfield Mutual policy 99317"
    ds.ResponsiblePerson = "Quillfeather^Rosamund"
    ds.ResponsibleOrganization = "Wrenfield Mutual"
    ds.CountryOfResidence = "Portwrenna Isle"
    ds.RegionOfResidence = "Gloucestershire Wolds"
    ds.LastMenstrualDate = "20240212"
    ds.PatientReligiousPreference = "Wrenfield Chapel"
    t.add(ID, "OPX-448812", "NHS 943 476 5919", "ADM20240305-7781", "ALDHELM-ADT", "INS-99317")
    t.add(NAME, "Thistlewaite", "Vellacott", "Imogen", "Brandt", "Rosamund")
    t.add(ADDRESS, "Wrenfield Crescent", "GL52 6XQ", "Portwrenna", "Gloucestershire Wolds")
    t.add(PHONE, PHONE_NUMBER, "7946 0958")
    t.add(INSTITUTION, HOSPITAL, "Wrenfield Mutual", "Wrenfield Chapel", "Wrenfield Fusiliers")
    t.add(DATE, "20240212", "2024-03-01")
    t.add(TEXT, "Wing Commander")
    return Case("patient_module", to_bytes(ds), t.found, "every Patient Module attribute")


def _physicians() -> Case:
    t = _Tokens()
    ds = _base("physicians", t)
    t.drop(*REFERRING_TOKENS)
    # all three component groups (alphabetic, ideographic, phonetic)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.ReferringPhysicianName = "Okonkwo-Pryce^Adaeze^^Dr=岡本^明美=おかもと^あけみ"
    ds.PhysiciansOfRecord = ["Featherstonehaugh^Cuthbert", "Mbeki-Larsson^Thandiwe"]
    ds.NameOfPhysiciansReadingStudy = "Rautenbach^Philippa"
    ds.OperatorsName = ["Szczepanski^Wojciech", "Abernethy^Isobel"]
    ds.PerformingPhysicianName = "Tremayne^Lowenna"
    ds.RequestingPhysician = "Ashdown-Kerr^Fenella"
    ds.ReferringPhysicianAddress = "Kerr Surgery, 4 Mallow Lane, Tewkesbury"
    ds.ReferringPhysicianTelephoneNumbers = "01684 555 0199"
    ds.ReferringPhysicianIdentificationSequence = [Dataset()]
    ident = ds.ReferringPhysicianIdentificationSequence[0]
    ident.PersonIdentificationCodeSequence = [Dataset()]
    ident.PersonIdentificationCodeSequence[0].CodeValue = "GMC7712093"
    ident.PersonIdentificationCodeSequence[0].CodingSchemeDesignator = "L"
    ident.PersonIdentificationCodeSequence[0].CodeMeaning = "Okonkwo-Pryce GMC number"
    ident.InstitutionName = "Mallow Lane Practice"
    ds.PhysiciansOfRecordIdentificationSequence = [Dataset()]
    ds.PhysiciansOfRecordIdentificationSequence[0].PersonTelephoneNumbers = "01684 555 0142"
    t.add(NAME, "Okonkwo-Pryce", "Adaeze", "岡本", "明美", "おかもと", "あけみ")
    t.add(NAME, "Featherstonehaugh", "Cuthbert", "Mbeki-Larsson", "Thandiwe", "Rautenbach")
    t.add(NAME, "Philippa", "Szczepanski", "Wojciech", "Abernethy", "Isobel", "Tremayne")
    t.add(NAME, "Lowenna", "Ashdown-Kerr", "Fenella")
    t.add(ADDRESS, "Mallow Lane", "Tewkesbury")
    t.add(PHONE, "01684 555 0199", "555 0199", "01684 555 0142")
    t.add(ID, "GMC7712093")
    t.add(INSTITUTION, "Mallow Lane Practice")
    return Case("physicians", to_bytes(ds), t.found, "every physician/operator PN, 3 groups")


def _descriptions() -> Case:
    t = _Tokens()
    ds = _base("descriptions", t)
    ds.StudyDescription = f"CT HEAD WO CONTRAST {FAMILY.upper()}"
    ds.SeriesDescription = f"Axial 5mm - {GIVEN} {FAMILY}"
    ds.ProtocolName = "Huxtable-Ngata trauma protocol"
    ds.ImageComments = f"Call {PHONE_NUMBER} re patient {PATIENT_ID}; liver lesion 12 mm"
    ds.RequestedProcedureDescription = f"CT head for {FAMILY}, Ottoline"
    ds.PerformedProcedureStepDescription = f"CT HEAD {ACCESSION} performed"
    ds.ScheduledProcedureStepDescription = f"Head CT {GIVEN[0]}. {FAMILY}"
    ds.AdmittingDiagnosesDescription = f"Fall at home ({STREET})"
    ds.DerivationDescription = f"Reformatted for Dr Huxtable-Ngata on {STUDY_DATE}"
    ds.AcquisitionDeviceProcessingDescription = f"Processed {FAMILY} 2024-03-05"
    ds.CommentsOnThePerformedProcedureStep = f"Pt {FAMILY} anxious; email o.quill@wrenmail.org"
    ds.ReasonForTheRequestedProcedure = f"{FAMILY} fell, ?subdural"
    t.add(TEXT, "o.quill@wrenmail.org", "Wrenfield Crescent")
    t.add(PHONE, PHONE_NUMBER)
    t.add(DATE, "2024-03-05")
    return Case(
        "descriptions",
        to_bytes(ds),
        t.found,
        "names, IDs, phone, e-mail in every description attribute",
        keep=("CONTRAST", "lesion", "Axial", "trauma"),
    )


def _dates_in_text() -> Case:
    t = _Tokens()
    ds = _base("dates_in_text", t)
    spellings = ("17.04.1961", "1961-04-17", "17 Apr 1961", "April 17, 1961", "17/04/1961")
    ds.ImageComments = "DOB " + "; ".join(spellings) + ". Prior exam 05/03/2024, stable."
    t.add(DATE, *spellings, "05/03/2024")
    return Case(
        "dates_in_text",
        to_bytes(ds),
        t.found,
        "the birth date spelled five ways in a comment",
        keep=("stable",),
    )


def _dates_glued() -> Case:
    t = _Tokens()
    ds = _base("dates_glued", t)
    ds.ImageComments = "DOB19610417 / born17.04.1961 / 17APR1961 / MRN:QX7734921/CT"
    t.add(DATE, "19610417", "17.04.1961", "17APR1961")
    return Case(
        "dates_glued",
        to_bytes(ds),
        t.found,
        "birth date and MRN glued to letters (no word boundary)",
    )


def _dates_other_calendars() -> Case:
    """The birth date in a Roman-numeral month, a Japanese era and the Thai calendar."""
    t = _Tokens()
    ds = _base("dates_other_calendars", t)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.ImageComments = "DOB 17-IV-1961 / 昭和36年4月17日 / S36.4.17 / 17/04/2504. Stable."
    t.add(DATE, "17-IV-1961", "昭和36年4月17日", "S36.4.17", "17/04/2504")
    return Case(
        "dates_other_calendars",
        to_bytes(ds),
        t.found,
        "birth date with a Roman month, in the Japanese era (Showa 36) and Thai year 2504",
        keep=("Stable",),
    )


def _identifiers_in_text() -> Case:
    t = _Tokens()
    ds = _base("identifiers_in_text", t)
    ds.ImageComments = (
        "SSN 123-45-6789, NHS 943 476 5919, host 10.20.30.40, "
        "mail o.quill@wrenmail.org, see www.quillfeather-family.example, "
        "RID 11010519491231002X. Nodule 4 mm, follow up."
    )
    t.add(ID, "123-45-6789", "943 476 5919", "11010519491231002X")
    t.add(TEXT, "10.20.30.40", "o.quill@wrenmail.org", "quillfeather-family")
    return Case(
        "identifiers_in_text",
        to_bytes(ds),
        t.found,
        "SSN, NHS number, IP, e-mail, URL, resident ID not in any other attribute",
        keep=("Nodule", "follow up"),
    )


def _addresses_in_text() -> Case:
    """Street addresses of four countries in comments, in no attribute of their own."""
    t = _Tokens()
    ds = _base("addresses_in_text", t)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.ImageComments = (
        "Transferred from 1600 Pennsylvania Ave NW, Washington, DC 20500. "
        "Family at 上海市徐汇区漕溪北路88号. "
        "Previous: Hauptstraße 5, 10115 Berlin. "
        "Clinic 東京都千代田区丸の内1-9-1. Stable nodule."
    )
    t.add(ADDRESS, "1600 Pennsylvania", "DC 20500", "漕溪北路88号", "Hauptstraße 5", "丸の内1-9-1")
    return Case(
        "addresses_in_text",
        to_bytes(ds),
        t.found,
        "US, Chinese, German and Japanese street addresses in free text",
        keep=("Stable nodule",),
    )


def _cjk_relatives() -> Case:
    """Chinese text naming a relative and a doctor that no attribute names."""
    t = _Tokens()
    ds = _base("cjk_relatives", t)
    ds.SpecificCharacterSet = "GB18030"
    ds.PatientName = "Zhang^Weiming=张^伟明"
    ds.ImageComments = "患者张伟明，家属王小明陪同，联系人李秀英，主治医生赵建国。右肺结节。"
    t.drop(*PATIENT_NAME_TOKENS)
    t.add(NAME, "张伟明", "王小明", "李秀英", "赵建国")
    return Case(
        "cjk_relatives",
        to_bytes(ds),
        t.found,
        "a relative, a contact and a doctor named in Chinese free text only",
        keep=("右肺结节",),
    )


def _ages_in_text() -> Case:
    """Ages over 89 in free text (HIPAA: must be aggregated as 90 or older)."""
    t = _Tokens()
    ds = _base("ages_in_text", t)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientAge = "097Y"
    ds.PatientBirthDate = "19270102"
    ds.AdditionalPatientHistory = "97-year-old woman, 97 y/o, aged 97, 97岁. Hip pain."
    t.drop(BIRTH_DATE)
    t.add("age", "97-year-old", "97 y/o", "aged 97", "97岁")
    return Case(
        "ages_in_text",
        to_bytes(ds),
        t.found,
        "an age over 89 written four ways in text",
        keep=("Hip pain",),
    )


def _identifiers_international() -> Case:
    """HIPAA/GDPR identifiers in grouped national formats, in free text only."""
    t = _Tokens()
    ds = _base("identifiers_intl", t)
    ds.ImageComments = (
        "INSEE 2 61 04 75 056 123 45; My Number 1234 5678 9012; "
        "IBAN GB82 WEST 1234 5698 7654 32; car AB12 CDE; tel (0)20 7946 0958. Small effusion."
    )
    t.add(ID, "2 61 04 75 056 123 45", "1234 5678 9012", "GB82 WEST 1234 5698 7654 32")
    t.add(ID, "AB12 CDE")
    t.add(PHONE, "7946 0958")
    return Case(
        "identifiers_intl",
        to_bytes(ds),
        t.found,
        "French INSEE, Japanese My Number, IBAN, licence plate, UK phone with (0)",
        keep=("Small effusion",),
    )


def _name_transliteration() -> Case:
    t = _Tokens()
    ds = _base("name_transliteration", t)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = "Müller-Ødegård^Jürgen"
    ds.StudyDescription = "CT for Juergen Mueller-Odegaard"
    ds.ImageComments = "J. Muller-Odegard, MULLER ODEGARD J"
    t.drop(*PATIENT_NAME_TOKENS)
    t.add(NAME, "Müller-Ødegård", "Jürgen", "Juergen", "Mueller-Odegaard", "Muller-Odegard")
    t.add(NAME, "MULLER ODEGARD")
    return Case(
        "name_transliteration",
        to_bytes(ds),
        t.found,
        "the patient's name transliterated to ASCII in descriptions (ü -> ue/u, ø -> o)",
    )


def _patient_characteristics() -> Case:
    """Attributes Retain Patient Characteristics keeps, holding identifying text."""
    t = _Tokens()
    ds = _base("patient_characteristics", t)
    ds.EthnicGroup = "Quillfeather clan"
    ds.PatientSpeciesDescription = f"Homo sapiens ({GIVEN})"
    ds.Allergies = f"Penicillin; notify {PHONE_NUMBER}"
    ds.MedicalAlerts = f"Pacemaker, Dr Huxtable-Ngata {PHONE_NUMBER}"
    ds.SmokingStatus = "NO"
    ds.PatientSize = 1.62
    ds.PatientWeight = 58
    return Case(
        "patient_characteristics",
        to_bytes(ds),
        t.found,
        "names and phone numbers in EthnicGroup/Allergies/MedicalAlerts (kept or cleaned)",
        keep=("Penicillin", "Pacemaker"),
    )


def _institution_and_device() -> Case:
    t = _Tokens()
    ds = _base("institution_device", t)
    ds.InstitutionName = HOSPITAL
    ds.InstitutionAddress = "1 Infirmary Road, Cheltenham"
    ds.InstitutionalDepartmentName = "Aldhelm Neuroradiology"
    ds.InstitutionCodeSequence = [Dataset()]
    ds.InstitutionCodeSequence[0].CodeValue = "ALD01"
    ds.InstitutionCodeSequence[0].CodingSchemeDesignator = "L"
    ds.InstitutionCodeSequence[0].CodeMeaning = HOSPITAL
    ds.StationName = f"CT-{PATIENT_ID}"
    ds.DeviceSerialNumber = "SN-QUILL-0042"
    ds.DeviceUID = "1.2.826.0.1.3680043.2.1125.55.77.1"
    ds.GantryID = "GANTRY-ALDHELM-2"
    ds.DetectorID = "DET-ALDHELM-9"
    ds.PerformedStationAETitle = "ALDHELMCT2"
    ds.PerformedStationName = "Aldhelm CT Two"
    ds.PerformedLocation = "Aldhelm basement room B12"
    t.add(INSTITUTION, HOSPITAL, "Infirmary Road", "Aldhelm Neuroradiology", "ALDHELMCT2")
    t.add(INSTITUTION, "Aldhelm CT Two", "Aldhelm basement")
    t.add(DEVICE, "SN-QUILL-0042", "GANTRY-ALDHELM-2", "DET-ALDHELM-9")
    t.add(UIDS, "1.2.826.0.1.3680043.2.1125.55.77.1")
    return Case("institution_device", to_bytes(ds), t.found, "institution, station, device IDs")


def _other_patient_ids_sequence() -> Case:
    t = _Tokens()
    ds = _base("other_ids_seq", t)
    item = Dataset()
    item.PatientID = "WX-20013377"
    item.IssuerOfPatientID = "Wrenfield General"
    item.TypeOfPatientID = "TEXT"
    qualifiers = Dataset()
    qualifiers.UniversalEntityID = "wrenfield.nhs.example"
    qualifiers.UniversalEntityIDType = "DNS"
    item.IssuerOfPatientIDQualifiersSequence = [qualifiers]
    ds.OtherPatientIDsSequence = [item]
    t.add(ID, "WX-20013377", "wrenfield.nhs.example")
    t.add(INSTITUTION, "Wrenfield General")
    return Case("other_ids_seq", to_bytes(ds), t.found, "OtherPatientIDsSequence with issuer")


def _issuer_qualifiers() -> Case:
    t = _Tokens()
    ds = _base("issuer_qualifiers", t)
    qualifiers = Dataset()
    qualifiers.UniversalEntityID = "2.16.840.1.113883.3.77341"
    qualifiers.UniversalEntityIDType = "ISO"
    qualifiers.IdentifierTypeCode = "MR"
    qualifiers.PatientID = PATIENT_ID  # some vendors copy the ID into the issuer item
    facility = Dataset()
    facility.LocalNamespaceEntityID = "ALDHELM-MRN"
    facility.UniversalEntityID = "aldhelm.nhs.example"
    facility.UniversalEntityIDType = "DNS"
    qualifiers.AssigningFacilitySequence = [facility]
    ds.IssuerOfPatientIDQualifiersSequence = [qualifiers]
    t.add(ID, "ALDHELM-MRN", "aldhelm.nhs.example", "2.16.840.1.113883.3.77341")
    return Case(
        "issuer_qualifiers",
        to_bytes(ds),
        t.found,
        "PatientID and facility inside IssuerOfPatientIDQualifiersSequence (not in E.1-1)",
    )


def _request_attributes() -> Case:
    t = _Tokens()
    ds = _base("request_attributes", t)
    protocol = Dataset()
    protocol.CodeValue, protocol.CodingSchemeDesignator = "P-QF1", "99ALD"
    protocol.CodeMeaning = f"Protocol for {FAMILY} (call {PHONE_NUMBER})"
    context = Dataset()
    context.ValueType = "TEXT"
    context.ConceptNameCodeSequence = [Dataset()]
    context.ConceptNameCodeSequence[0].CodeValue = "121106"
    context.ConceptNameCodeSequence[0].CodingSchemeDesignator = "DCM"
    context.ConceptNameCodeSequence[0].CodeMeaning = "Comment"
    context.TextValue = f"Escort: Rosamund {FAMILY}"
    protocol.ProtocolContextSequence = [context]
    request = Dataset()
    request.RequestedProcedureID = "RPQX7734921"
    request.ScheduledProcedureStepID = "SPS-ACC55019873"
    request.AccessionNumber = ACCESSION
    request.RequestedProcedureDescription = f"CT head {GIVEN} {FAMILY}"
    request.ReasonForTheRequestedProcedure = f"Fall, {FAMILY}"
    request.ScheduledProtocolCodeSequence = [protocol]
    request.ReferencedStudySequence = [_reference("1.2.840.10008.3.1.2.3.1", STUDY_UID)]
    ds.RequestAttributesSequence = [request]
    t.add(ID, "RPQX7734921", "SPS-ACC55019873")
    t.add(NAME, "Rosamund")
    t.add(PHONE, PHONE_NUMBER)
    return Case(
        "request_attributes",
        to_bytes(ds),
        t.found,
        "RequestAttributesSequence > ScheduledProtocolCodeSequence > ProtocolContextSequence",
        keep=("Comment",),
    )


def _worklist_sequences() -> Case:
    """Modality worklist / MPPS sequences copied into the image (not listed themselves)."""
    t = _Tokens()
    ds = _base("worklist_sequences", t)
    step = Dataset()
    step.ScheduledStationAETitle = "ALDHELMCT2"
    step.ScheduledProcedureStepStartDate = STUDY_DATE
    step.ScheduledPerformingPhysicianName = "Kernow^Jago"
    step.ScheduledProcedureStepDescription = f"CT head {FAMILY}"
    step.ScheduledProcedureStepID = "SPS-QX7734921"
    step.ScheduledProcedureStepLocation = "Aldhelm basement room B12"
    step.ScheduledStationName = "Aldhelm CT Two"
    ds.ScheduledProcedureStepSequence = [step]
    request = Dataset()
    request.AccessionNumber = ACCESSION
    request.RequestedProcedureID = "RPQX7734921"
    request.PlacerOrderNumberImagingServiceRequest = "PLC-7734921"
    request.FillerOrderNumberImagingServiceRequest = "FIL-7734921"
    request.RequestedProcedureDescription = f"CT head for {FAMILY}"
    request.StudyInstanceUID = STUDY_UID
    request.ReferencedStudySequence = [_reference("1.2.840.10008.3.1.2.3.1", STUDY_UID)]
    ds.ReferencedRequestSequence = [request]
    ds.PerformedProcedureStepID = "PPS-7734921"
    ds.PerformedStationAETitle = "ALDHELMCT2"
    ds.PerformedProcedureStepStartDate = STUDY_DATE
    ds.ScheduledHumanPerformersSequence = [Dataset()]
    ds.ScheduledHumanPerformersSequence[0].HumanPerformerName = "Keverne^Loveday"
    ds.ScheduledHumanPerformersSequence[0].HumanPerformerOrganization = HOSPITAL
    t.add(NAME, "Kernow", "Keverne", "Loveday")
    t.add(ID, "SPS-QX7734921", "RPQX7734921", "PLC-7734921", "FIL-7734921", "PPS-7734921")
    t.add(INSTITUTION, "ALDHELMCT2", "Aldhelm basement", "Aldhelm CT Two", HOSPITAL)
    return Case(
        "worklist_sequences",
        to_bytes(ds),
        t.found,
        "ScheduledProcedureStepSequence, ReferencedRequestSequence, human performers",
    )


def _code_meanings() -> Case:
    t = _Tokens()
    ds = _base("code_meanings", t)
    ds.ProcedureCodeSequence = [_code("CTHEAD", "99ALD", f"CT head {FAMILY}")]
    ds.PerformedProtocolCodeSequence = [_code("P7", "99ALD", "Huxtable-Ngata protocol")]
    ds.RequestedProcedureCodeSequence = [_code("RQ1", "99ALD", f"Request for {GIVEN}")]
    return Case(
        "code_meanings",
        to_bytes(ds),
        t.found,
        "CodeMeaning of unlisted code sequences holding the patient's/referrer's name",
    )


def _code_values() -> Case:
    """Local code values that are really order/patient numbers (some RIS do this)."""
    t = _Tokens()
    ds = _base("code_values", t)
    ds.ProcedureCodeSequence = [_code(ACCESSION, "ALDHELMRIS", "CT head")]
    ds.RequestedProcedureCodeSequence = [_code(f"R{PATIENT_ID}", "ALDHELMRIS", "CT head")]
    t.add(ID, f"R{PATIENT_ID}")
    return Case(
        "code_values",
        to_bytes(ds),
        t.found,
        "accession number and MRN used as CodeValue of local procedure codes",
        keep=("CT head",),
    )


def _referenced_patient() -> Case:
    t = _Tokens()
    ds = _base("referenced_patient", t)
    ref = _reference("1.2.840.10008.3.1.2.1.1", "1.2.826.0.1.3680043.2.1125.77341.7734921")
    ref.PatientName = "Quillfeather^Ottoline"
    ref.PatientID = PATIENT_ID
    ds.ReferencedPatientSequence = [ref]
    ds.ReferencedPatientPhotoSequence = [Dataset()]
    ds.ReferencedPatientPhotoSequence[
        0
    ].RetrieveURL = "https://pacs.aldhelm.example/photo/QX7734921"
    t.add(UIDS, "1.2.826.0.1.3680043.2.1125.77341.7734921")
    t.add(INSTITUTION, "pacs.aldhelm.example")
    return Case("referenced_patient", to_bytes(ds), t.found, "ReferencedPatientSequence")


def _text_item(meaning: str, text: str) -> Dataset:
    item = Dataset()
    item.RelationshipType, item.ValueType = "CONTAINS", "TEXT"
    item.ConceptNameCodeSequence = [_code("121071", "DCM", meaning)]
    item.TextValue = text
    return item


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = value, scheme, meaning
    return code


def _reference(sop_class: str, sop_instance: str) -> Dataset:
    """A referenced-SOP item (the shape of every Referenced*Sequence item)."""
    ref = Dataset()
    ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = sop_class, sop_instance
    return ref


def _evidence(target_uid: str) -> Dataset:
    """A CurrentRequestedProcedureEvidenceSequence item listing the study's image."""
    series = Dataset()
    series.SeriesInstanceUID = SERIES_UID
    series.ReferencedSOPSequence = [_reference(CT_IMAGE, target_uid)]
    evidence = Dataset()
    evidence.StudyInstanceUID = STUDY_UID
    evidence.ReferencedSeriesSequence = [series]
    return evidence


def _sr_report(target_uid: str) -> Case:
    t = _Tokens()
    ds = _base("sr_report", t, sop_class=COMPREHENSIVE_SR)
    _drop_pixels(ds)
    ds.Modality = "SR"
    ds.SeriesInstanceUID = SERIES_UID + ".99"
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = [_code("18748-4", "LN", "Diagnostic Imaging Report")]
    ds.CompletionFlag, ds.VerificationFlag = "COMPLETE", "VERIFIED"
    ds.VerifyingObserverSequence = [Dataset()]
    verifier = ds.VerifyingObserverSequence[0]
    verifier.VerifyingObserverName = "Rautenbach^Philippa"
    verifier.VerifyingOrganization = HOSPITAL
    verifier.VerificationDateTime = "20240306094500"
    verifier.VerifyingObserverIdentificationCodeSequence = [_code("GMC4410921", "L", "Rautenbach")]
    ds.AuthorObserverSequence = [Dataset()]
    ds.AuthorObserverSequence[0].PersonName = "Penhaligon^Demelza"
    ds.AuthorObserverSequence[0].ObserverType = "PSN"
    # depth 1 container > depth 2 container > depth 3 leaves
    observer = Dataset()
    observer.RelationshipType, observer.ValueType = "HAS OBS CONTEXT", "PNAME"
    observer.ConceptNameCodeSequence = [_code("121008", "DCM", "Person Observer Name")]
    observer.PersonName = "Vandersloot^Henrietta"
    when = Dataset()
    when.RelationshipType, when.ValueType = "CONTAINS", "DATE"
    when.ConceptNameCodeSequence = [_code("111060", "DCM", "Study Date")]
    when.Date = STUDY_DATE
    uidref = Dataset()
    uidref.RelationshipType, uidref.ValueType = "CONTAINS", "UIDREF"
    uidref.ConceptNameCodeSequence = [_code("110180", "DCM", "Study Instance UID")]
    uidref.UID = STUDY_UID
    image = Dataset()
    image.RelationshipType, image.ValueType = "CONTAINS", "IMAGE"
    image.ReferencedSOPSequence = [_reference(CT_IMAGE, target_uid)]
    findings = _text_item(
        "Finding",
        f"Mrs {FAMILY} (DOB 17/04/1961, tel {PHONE_NUMBER}): no acute haemorrhage. "
        "Continue Lisinopril.",
    )
    inner = Dataset()
    inner.RelationshipType, inner.ValueType = "CONTAINS", "CONTAINER"
    inner.ContinuityOfContent = "SEPARATE"
    inner.ConceptNameCodeSequence = [_code("121070", "DCM", "Findings")]
    inner.ContentSequence = [observer, findings, when, uidref, image]
    middle = Dataset()
    middle.RelationshipType, middle.ValueType = "CONTAINS", "CONTAINER"
    middle.ContinuityOfContent = "SEPARATE"
    middle.ConceptNameCodeSequence = [_code("121064", "DCM", "Current Procedure Descriptions")]
    middle.ContentSequence = [inner]
    ds.ContinuityOfContent = "SEPARATE"
    ds.ContentSequence = [middle]
    ds.CurrentRequestedProcedureEvidenceSequence = [_evidence(target_uid)]
    t.add(NAME, "Rautenbach", "Philippa", "Penhaligon", "Demelza", "Vandersloot", "Henrietta")
    t.add(INSTITUTION, HOSPITAL)
    t.add(ID, "GMC4410921")
    t.add(PHONE, PHONE_NUMBER)
    t.add(DATE, "17/04/1961", "20240306")
    return Case(
        "sr_report",
        to_bytes(ds),
        t.found,
        "SR: PNAME/TEXT/DATE/UIDREF at depth 3, verifier, author, evidence references",
        group="study1",
        keep=("haemorrhage", "Lisinopril"),
    )


def _acquisition_context() -> Case:
    t = _Tokens()
    ds = _base("acquisition_context", t)
    text = Dataset()
    text.ValueType = "TEXT"
    text.ConceptNameCodeSequence = [_code("121106", "DCM", "Comment")]
    text.TextValue = f"Injected by nurse Tamsin Polglase for {FAMILY}"
    person = Dataset()
    person.ValueType = "PNAME"
    person.ConceptNameCodeSequence = [_code("121008", "DCM", "Person Observer Name")]
    person.PersonName = "Polglase^Tamsin"
    when = Dataset()
    when.ValueType = "DATETIME"
    when.ConceptNameCodeSequence = [_code("111526", "DCM", "DateTime Started")]
    when.DateTime = "20240305101512"
    ds.AcquisitionContextSequence = [text, person, when]
    t.add(NAME, "Polglase", "Tamsin")
    t.add(DATE, "20240305101512")
    return Case("acquisition_context", to_bytes(ds), t.found, "AcquisitionContextSequence")


def _uid_with_phi() -> Case:
    t = _Tokens()
    ds = _base("uid_with_phi", t)
    mrn = "12345678"
    ds.PatientID = mrn
    bad_study = f"1.2.840.113619.2.55.3.{STUDY_DATE}{mrn}"
    ds.StudyInstanceUID = bad_study
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = UID(f"{bad_study}.1.1")
    ds.StorageMediaFileSetUID = f"1.2.840.113619.2.55.9.{mrn}"
    ds.ReferencedFrameOfReferenceUID = f"1.2.840.113619.2.55.4.{mrn}"  # retired, UI
    ds.IrradiationEventUID = f"1.2.840.113619.2.55.5.{mrn}.{BIRTH_DATE}"
    ds.InstanceCreatorUID = f"1.2.840.113619.2.55.6.{mrn}"
    t.drop(PATIENT_ID, STUDY_UID, _sop_uid("uid_with_phi"))
    t.add(ID, mrn)
    t.add(UIDS, bad_study, f"{bad_study}.1.1", f"1.2.840.113619.2.55.9.{mrn}")
    t.add(UIDS, f"1.2.840.113619.2.55.4.{mrn}", f"1.2.840.113619.2.55.6.{mrn}")
    t.add(UIDS, f"1.2.840.113619.2.55.5.{mrn}.{BIRTH_DATE}")
    return Case(
        "uid_with_phi", to_bytes(ds), t.found, "UIDs whose roots embed the study date and MRN"
    )


def _uid_in_text() -> Case:
    t = _Tokens()
    ds = _base("uid_in_text", t)
    bad_study = "1.2.840.113619.2.55.3.2024022912345678"  # date + old MRN in the root
    ds.StudyInstanceUID = bad_study
    ds.ImageComments = f"source uid {bad_study}"
    t.drop(STUDY_UID)
    t.add(UIDS, bad_study)
    t.add(UID_PART, "12345678", "20240229", "2.55.3.2024022912345678")
    return Case(
        "uid_in_text", to_bytes(ds), t.found, "a UID embedding date+MRN quoted in ImageComments"
    )


def _uid_in_text_mrn() -> Case:
    t = _Tokens()
    ds = _base("uid_in_text_mrn", t)
    ds.PatientID = "12345678"
    bad_study = f"1.2.840.113619.2.55.3.{STUDY_DATE}12345678"
    ds.StudyInstanceUID = bad_study
    ds.ImageComments = f"source uid {bad_study}"
    t.drop(PATIENT_ID, STUDY_UID)
    t.add(UIDS, bad_study)
    t.add(UID_PART, "12345678", f"2.55.3.{STUDY_DATE}12345678")
    return Case(
        "uid_in_text_mrn",
        to_bytes(ds),
        t.found,
        "a UID embedding the study date and the patient's own MRN, quoted in ImageComments",
    )


def _uid_under_dicom_root() -> Case:
    """Instance UIDs built by appending to the SOP Class UID (some devices do)."""
    t = _Tokens()
    ds = _base("uid_under_dicom_root", t)
    sop = f"{CT_IMAGE}.{BIRTH_DATE}.7734921.1"
    ds.SOPInstanceUID = sop
    ds.file_meta.MediaStorageSOPInstanceUID = UID(sop)
    ds.SeriesInstanceUID = f"{CT_IMAGE}.{BIRTH_DATE}.7734921"
    ds.StudyInstanceUID = f"1.2.840.10008.{STUDY_DATE}.7734921"
    t.drop(_sop_uid("uid_under_dicom_root"), STUDY_UID, SERIES_UID)
    t.add(UIDS, sop, f"{CT_IMAGE}.{BIRTH_DATE}.7734921", f"1.2.840.10008.{STUDY_DATE}.7734921")
    return Case(
        "uid_under_dicom_root",
        to_bytes(ds),
        t.found,
        "instance UIDs under the DICOM root (SOP Class UID + birth date + MRN digits)",
    )


def _storage_media() -> Case:
    t = _Tokens()
    ds = _base("storage_media", t)
    ds.StorageMediaFileSetID = f"CD{PATIENT_ID}"
    ds.StorageMediaFileSetUID = "1.2.826.0.1.3680043.2.1125.77341.88"
    t.add(ID, f"CD{PATIENT_ID}")
    t.add(UIDS, "1.2.826.0.1.3680043.2.1125.77341.88")
    return Case("storage_media", to_bytes(ds), t.found, "StorageMediaFileSetID/UID (CD export)")


def _elderly() -> Case:
    t = _Tokens()
    ds = _base("elderly", t)
    ds.PatientAge = "097Y"
    ds.PatientBirthDate = "19270102"
    t.drop(BIRTH_DATE)
    t.add(DATE, "19270102")
    t.add("age", "097Y")
    return Case("elderly", to_bytes(ds), t.found, "age over 89 (HIPAA: 90 or older)")


def _original_attributes() -> Case:
    t = _Tokens()
    ds = _base("original_attributes", t)
    modified = Dataset()
    modified.PatientName = "Thornbury^Ottoline"
    modified.PatientID = "OLD-99887766"
    modified.PatientBirthDate = "19610714"
    original = Dataset()
    original.ModifiedAttributesSequence = [modified]
    original.AttributeModificationDateTime = "20240306120000"
    original.ModifyingSystem = "Aldhelm PACS reconciliation"
    original.SourceOfPreviousValues = "Thornbury registration desk"
    original.ReasonForTheAttributeModification = "COERCE"
    ds.OriginalAttributesSequence = [original]
    t.add(NAME, "Thornbury")
    t.add(ID, "OLD-99887766")
    t.add(DATE, "19610714")
    t.add(INSTITUTION, "Aldhelm PACS")
    return Case("original_attributes", to_bytes(ds), t.found, "OriginalAttributesSequence")


def _hanging_protocol() -> Case:
    t = _Tokens()
    ds = _base("hanging_protocol", t)
    ds.add_new(0x00720002, "SH", "QUILLFEATHER HP")  # HangingProtocolName
    ds.add_new(0x00720004, "LO", f"Layout for {GIVEN} {FAMILY}")  # HangingProtocolDescription
    return Case(
        "hanging_protocol",
        to_bytes(ds),
        t.found,
        "(0072,xxxx) name and description holding the patient's name",
        refusal_ok=True,
    )


def _hanging_protocol_creator() -> Case:
    t = _Tokens()
    ds = _base("hanging_protocol_creator", t)
    ds.add_new(0x00720008, "LO", "Dr Gwendolyn Trevithick")  # HangingProtocolCreator
    ds.add_new(0x0072000A, "DT", "20240305090000")  # HangingProtocolCreationDateTime
    user = _code("U-TREV", "99ALD", "Trevithick user")
    ds.add_new(0x0072000E, "SQ", Sequence([user]))  # HangingProtocolUserIdentificationCodeSeq
    ds.add_new(0x00720010, "LO", "Gwendolyn Trevithick group")  # HangingProtocolUserGroupName
    t.add(NAME, "Gwendolyn", "Trevithick")
    t.add(DATE, "20240305090000")
    return Case(
        "hanging_protocol_creator",
        to_bytes(ds),
        t.found,
        "(0072,xxxx) creator, user group and user code: a person named outside any PN",
    )


def _overlay(ds: Dataset, group: int, overlay_type: str, description: str, label: str) -> None:
    """An 8 x 8 overlay in repeating group ``group`` (60xx) with a description and label."""
    tag = group << 16
    ds.add_new(tag | 0x0010, "US", 8)  # OverlayRows
    ds.add_new(tag | 0x0011, "US", 8)  # OverlayColumns
    ds.add_new(tag | 0x0022, "LO", description)  # OverlayDescription
    ds.add_new(tag | 0x0040, "CS", overlay_type)
    ds.add_new(tag | 0x0050, "SS", [1, 1])  # OverlayOrigin
    ds.add_new(tag | 0x0100, "US", 1)  # OverlayBitsAllocated
    ds.add_new(tag | 0x0102, "US", 0)  # OverlayBitPosition
    ds.add_new(tag | 0x1500, "LO", label)  # OverlayLabel
    ds.add_new(tag | 0x3000, "OW", bytes(8))  # OverlayData


def _overlays_and_curves() -> Case:
    t = _Tokens()
    ds = _base("overlays_curves", t)
    for group in (0x6000, 0x6002):
        _overlay(ds, group, "G", f"Marked by {FAMILY}", f"{PATIENT_ID} ROI")
        ds.add_new((group << 16) | 0x4000, "LT", f"Overlay for {GIVEN}")  # OverlayComments
    ds.add_new(0x50000005, "US", 2)  # CurveDimensions
    ds.add_new(0x50000010, "US", 2)
    ds.add_new(0x50000022, "LO", f"ECG of {FAMILY}")  # CurveDescription
    ds.add_new(0x50002500, "LO", f"{PATIENT_ID} lead II")  # CurveLabel
    ds.add_new(0x50003000, "OW", b"Quillfeather ECG")  # CurveData with text
    return Case(
        "overlays_curves",
        to_bytes(ds),
        t.found,
        "60xx and 50xx descriptions/labels with the patient's name and ID",
        refusal_ok=True,
    )


def _overlay_text() -> Case:
    t = _Tokens()
    ds = _base("overlay_text", t)
    _overlay(ds, 0x6000, "R", "Marked by radiographer Kitto Jewell", "Ward 7 Trelowarren")
    ds.add_new(0x50000022, "LO", "ECG by Kitto Jewell")  # CurveDescription
    t.add(NAME, "Kitto Jewell", "Jewell")
    t.add(ADDRESS, "Trelowarren")
    return Case(
        "overlay_text",
        to_bytes(ds),
        t.found,
        "OverlayDescription/OverlayLabel/CurveDescription with PHI not in any other attribute",
    )


def _file_meta() -> Case:
    t = _Tokens()
    ds = _base("file_meta", t)
    meta = ds.file_meta
    meta.SourceApplicationEntityTitle = "QUILLWS01"
    meta.SendingApplicationEntityTitle = "ALDHELMPACS"
    meta.ReceivingApplicationEntityTitle = "WRENROUTER"
    meta.PrivateInformationCreatorUID = UID("1.2.826.0.1.3680043.2.1125.77341.55")
    meta.PrivateInformation = f"exported for {FAMILY} {PATIENT_ID}".encode()
    t.add(INSTITUTION, "QUILLWS01", "ALDHELMPACS", "WRENROUTER")
    return Case("file_meta", to_bytes(ds), t.found, "file meta AE titles and private info")


def _file_meta_version() -> Case:
    t = _Tokens()
    ds = _base("file_meta_version", t)
    ds.file_meta.ImplementationVersionName = "QX7734921"
    ds.file_meta.ImplementationClassUID = UID("1.2.826.0.1.3680043.2.1125.7734921")
    t.add(UIDS, "1.2.826.0.1.3680043.2.1125.7734921")
    return Case(
        "file_meta_version",
        to_bytes(ds),
        t.found,
        "the MRN as ImplementationVersionName and inside ImplementationClassUID",
    )


def _preamble() -> Case:
    t = _Tokens()
    ds = _base("preamble", t)
    text = f"II*\0 {FAMILY}^{GIVEN} {PATIENT_ID} {BIRTH_DATE}".encode()
    preamble = text.ljust(128, b"\0")
    return Case(
        "preamble",
        to_bytes(ds, preamble=preamble),
        t.found,
        "PHI in the 128-byte preamble (TIFF/DICOM dual files)",
    )


def _trailing_padding() -> Case:
    t = _Tokens()
    ds = _base("trailing_padding", t)
    ds.add_new(0xFFFCFFFC, "OB", f"{FAMILY} {PATIENT_ID} Aldhelm-export".encode())
    t.add(INSTITUTION, "Aldhelm-export")
    return Case("trailing_padding", to_bytes(ds), t.found, "DataSetTrailingPadding text")


def _meta_in_body() -> Case:
    """File-meta attributes written into the dataset body (group 0002 after the meta)."""
    t = _Tokens()
    ds = _base("meta_in_body", t)
    raw = [
        explicit_element(0x00020016, b"AE", b"QUILLBODYAE "),
        explicit_element(0x00020100, b"UI", b"1.2.826.0.1.3680043.2.1125.77341.66"),
    ]
    t.add(INSTITUTION, "QUILLBODYAE")
    t.add(UIDS, "1.2.826.0.1.3680043.2.1125.77341.66")
    return Case(
        "meta_in_body",
        _replace_body(ds, raw),
        t.found,
        "SourceApplicationEntityTitle and PrivateInformationCreatorUID in the dataset body",
    )


def _signatures_and_encrypted() -> Case:
    t = _Tokens()
    ds = _base("signatures_encrypted", t)
    signature = Dataset()
    signature.MACIDNumber = 1
    signature.DigitalSignatureUID = "1.2.826.0.1.3680043.2.1125.77341.77"
    signature.DigitalSignatureDateTime = "20240305120000"
    signature.CertificateType = "X509_1993_SIG"
    signature.CertificateOfSigner = b"0\x82CN=Huxtable-Ngata, O=St Aldhelm Infirmary "
    signature.Signature = b"\x01\x02"
    encrypted = Dataset()
    encrypted.EncryptedContentTransferSyntaxUID = "1.2.840.10008.1.2.1"
    encrypted.EncryptedContent = (
        f"(0010,0010) PN {FAMILY}^{GIVEN} (0010,0020) {PATIENT_ID} ".encode()
    )
    ds.EncryptedAttributesSequence = [encrypted]
    ds.DigitalSignaturesSequence = [signature]
    t.add(INSTITUTION, "St Aldhelm Infirmary")
    t.add(DATE, "20240305120000")
    t.add(UIDS, "1.2.826.0.1.3680043.2.1125.77341.77")
    return Case(
        "signatures_encrypted",
        to_bytes(ds),
        t.found,
        "DigitalSignaturesSequence (signer certificate) and an EncryptedAttributesSequence "
        "whose 'encrypted' content is clear text",
    )


def _retired_tags() -> Case:
    t = _Tokens()
    ds = _base("retired_tags", t)
    ds.add_new(0x00081000, "AE", "QUILLNET")  # NetworkID (retired)
    ds.add_new(0x00184000, "LT", f"Acq comment {FAMILY}")  # AcquisitionComments (retired)
    ds.add_new(0x00284000, "LT", f"Shown to {GIVEN}")  # ImagePresentationComments (retired)
    ds.add_new(0x40080114, "PN", "Kernow^Jago")  # PhysicianApprovingInterpretation (retired)
    ds.add_new(0x40080119, "PN", "Pascoe^Morwenna")  # DistributionName (retired)
    ds.add_new(0x4008011A, "LO", "5 Tolgarrick Row, Truro")  # DistributionAddress (retired)
    ds.add_new(0x40000010, "LT", f"Arbitrary {PATIENT_ID}")  # Arbitrary (retired)
    ds.add_new(0x40004000, "LT", f"Text comments {FAMILY}")  # TextComments (retired)
    ds.add_new(0x00401010, "PN", "Keverne^Loveday")  # NamesOfIntendedRecipientsOfResults
    t.add(NAME, "Kernow", "Pascoe", "Morwenna", "Keverne", "Loveday")
    t.add(ADDRESS, "Tolgarrick")
    t.add(INSTITUTION, "QUILLNET")
    return Case("retired_tags", to_bytes(ds), t.found, "retired attributes holding PHI")


def _command_group() -> Case:
    t = _Tokens()
    ds = _base("command_group", t)
    raw = [  # pydicom refuses to write these, so they are encoded by hand
        explicit_element(0x00000902, b"LO", b"retry by Tamsin Polglase "),
        explicit_element(0x00001030, b"AE", b"QUILLMOVE "),
    ]
    t.add(INSTITUTION, "QUILLMOVE")
    t.add(NAME, "Polglase")
    return Case(
        "command_group",
        _replace_body(ds, raw),
        t.found,
        "command group (0000,xxxx) elements left in a file (ErrorComment, Move Originator)",
    )


def _unlisted_text() -> Case:
    """PHI that no other attribute names, in attributes Table E.1-1 does not list."""
    t = _Tokens()
    ds = _base("unlisted_text", t, sop_class=ENHANCED_MR)
    ds.NumberOfFrames = 1
    frame = Dataset()
    frame.FrameContentSequence = [Dataset()]
    frame.FrameContentSequence[0].FrameLabel = "Tamsin Polglase"
    ds.PerFrameFunctionalGroupsSequence = [frame]
    ds.RetrieveURL = "https://pacs.polglase-clinic.example/wado"
    t.add(NAME, "Polglase", "Tamsin")
    return Case(
        "unlisted_text",
        to_bytes(ds),
        t.found,
        "FrameLabel and RetrieveURL naming a person no other attribute names",
    )


def _unlisted_identifying() -> Case:
    """Standard attributes that identify but that Table E.1-1 (2025b) does not list."""
    t = _Tokens()
    ds = _base("unlisted_identifying", t)
    ds.add_new(0x00100033, "LO", "1339/10/01 AH")  # PatientBirthDateInAlternativeCalendar
    ds.add_new(0x00100035, "CS", "ISLAMIC")  # PatientAlternativeCalendar
    ds.add_new(0x0008041F, "DT", "20240306083000")  # StudyUpdateDateTime
    ds.add_new(0x0074100C, "LO", "Senara Rowe")  # ContactDisplayName
    ds.add_new(0x00400400, "LT", "Daughter Senara Rowe present")  # CommentsOnTheScheduledPS
    ds.add_new(0x0040E001, "ST", f"{PATIENT_ID}^^^ALDHELM")  # HL7InstanceIdentifier
    ds.add_new(0x00142006, "PN", "Hocking^Demelza")  # EvaluatorName
    ds.add_new(0x21000160, "SH", f"O{PATIENT_ID}")  # OwnerID
    t.add(DATE, "1339/10/01", "20240306083000")
    t.add(NAME, "Senara", "Rowe", "Hocking", "Demelza")
    t.add(ID, f"O{PATIENT_ID}")
    return Case(
        "unlisted_identifying",
        to_bytes(ds),
        t.found,
        "birth date in an alternative calendar, StudyUpdateDateTime, contact name, HL7 id...",
    )


def _unlisted_patterns() -> Case:
    """Dates, a phone number and an e-mail (pattern PHI, no lexicon term) in unlisted text."""
    t = _Tokens()
    ds = _base("unlisted_patterns", t)
    ds.add_new(0x00720004, "LO", "Exam 05/03/2024, call 01684 555 0199")  # HP description
    ds.WindowCenterWidthExplanation = "W/L set 2024-03-01 by a.penrose@wrenmail.org"
    ds.add_new(0x00287FE0, "UR", "https://viewer.example/?dob=1961-04-17")  # PixelDataProviderURL
    t.add(DATE, "05/03/2024", "2024-03-01", "1961-04-17")
    t.add(PHONE, "01684 555 0199")
    t.add(TEXT, "a.penrose@wrenmail.org")
    return Case(
        "unlisted_patterns",
        to_bytes(ds),
        t.found,
        "dates, a phone number and an e-mail in attributes E.1-1 does not list",
    )


def _urls() -> Case:
    t = _Tokens()
    ds = _base("urls", t)
    ds.RetrieveURL = f"https://pacs.aldhelm.example/wado?PatientID={PATIENT_ID}"
    ds.add_new(0x0040E010, "UR", f"https://vna.aldhelm.example/studies/{ACCESSION}")  # RetrieveURI
    ds.RetrieveAETitle = "ALDHELMVNA"
    t.add(INSTITUTION, "pacs.aldhelm.example", "vna.aldhelm.example", "ALDHELMVNA")
    return Case("urls", to_bytes(ds), t.found, "RetrieveURL/URI and RetrieveAETitle")


def _functional_groups() -> Case:
    t = _Tokens()
    ds = _base("functional_groups", t, sop_class=ENHANCED_MR)
    ds.NumberOfFrames = 1
    frame = Dataset()
    frame.FrameContentSequence = [Dataset()]
    content = frame.FrameContentSequence[0]
    content.FrameAcquisitionDateTime = "20240305101530"
    content.FrameComments = f"Motion: {FAMILY} moved"
    content.FrameLabel = f"{GIVEN} frame"
    frame.DerivationImageSequence = [Dataset()]
    frame.DerivationImageSequence[0].DerivationDescription = f"From {PATIENT_ID}"
    block = frame.private_block(0x0021, "ZZ FRAME VENDOR", create=True)
    block.add_new(0x10, "LO", "Pendarves^Wenna")
    ds.PerFrameFunctionalGroupsSequence = [frame]
    shared = Dataset()
    shared.ReferencedImageSequence = [_reference(CT_IMAGE, STUDY_UID + ".77")]
    ds.SharedFunctionalGroupsSequence = [shared]
    t.add(DATE, "20240305101530")
    t.add(NAME, "Pendarves", "Wenna")
    t.add(UIDS, STUDY_UID + ".77")
    return Case(
        "functional_groups",
        to_bytes(ds),
        t.found,
        "per-frame functional groups: frame comments, label, derivation, private PN",
    )


def _nested_charset() -> Case:
    """A sequence item with its own (0008,0005), different from the top level."""
    t = _Tokens()
    ds = _base("nested_charset", t)
    ds.SpecificCharacterSet = "ISO_IR 100"
    item = Dataset()
    item.SpecificCharacterSet = "GB18030"
    item.ValueType = "PNAME"
    item.ConceptNameCodeSequence = [_code("121008", "DCM", "Person Observer Name")]
    item.PersonName = "Chen^Jinghua=陈^静华"
    text = Dataset()
    text.SpecificCharacterSet = "GB18030"
    text.ValueType = "TEXT"
    text.ConceptNameCodeSequence = [_code("121106", "DCM", "Comment")]
    text.TextValue = "陈静华 注射造影剂"
    ds.AcquisitionContextSequence = [item, text]
    t.add(NAME, "Jinghua", "陈静华")
    return Case(
        "nested_charset", to_bytes(ds), t.found, "GB18030 items under an ISO_IR 100 dataset"
    )


def _charset_unknown() -> Case:
    t = _Tokens()
    ds = _base("charset_unknown", t)
    raw = [explicit_element(0x00080005, b"CS", b"ISO_IR 999")]
    return Case(
        "charset_unknown",
        _replace_body(ds, raw),
        t.found,
        "an unknown Specific Character Set: must be refused or cleaned",
        refusal_ok=True,
    )


# -- private elements ----------------------------------------------------------------------


def _private_ge() -> Case:
    t = _Tokens()
    ds = _base("private_ge", t)
    iden = ds.private_block(0x0009, "GEMS_IDEN_01", create=True)
    iden.add_new(0x02, "SH", "ALDHELMCT")  # suite id: 'd'
    iden.add_new(0xE3, "UI", "1.2.840.113619.2.55.7734921")  # 'h'
    iden.add_new(0x27, "SL", 1709633712)  # image actual date (seconds): 'oi'
    iden.add_new(0x30, "SH", "QX7734921")  # 'd'
    pati = ds.private_block(0x0011, "GEMS_PATI_01", create=True)
    pati.add_new(0x10, "SS", 0)  # patient status: 'k'
    pati.add_new(0x11, "LO", f"{FAMILY}^{GIVEN}")  # unknown to the KB
    pati.add_new(0x12, "DA", BIRTH_DATE)  # a date in a private tag
    creator = ds.private_block(0x0043, "QUILLFEATHER CLINIC PRIVATE", create=True)
    creator.add_new(0x01, "LO", "Wrenfield annex")
    t.add(ID, "ALDHELMCT")
    t.add(UIDS, "1.2.840.113619.2.55.7734921")
    t.add(INSTITUTION, "QUILLFEATHER CLINIC", "Wrenfield annex")
    return Case("private_ge", to_bytes(ds), t.found, "GE private blocks, creator with a name")


def _csa_header(fields: dict[str, str]) -> bytes:
    """A Siemens CSA2 header (``SV10``) whose string items hold ``fields``."""
    out = bytearray(b"SV10\x04\x03\x02\x01")
    out += struct.pack("<II", len(fields), 77)
    for name, value in fields.items():
        out += name.encode().ljust(64, b"\0")
        out += struct.pack("<i4sIII", 1, b"LO\0\0", 0, 1, 77)
        data = value.encode() + b"\0"
        padded = data.ljust((len(data) + 3) // 4 * 4, b"\0")
        out += struct.pack("<IIII", len(data), len(data), 77, len(data))
        out += padded
    return bytes(out)


def _private_siemens() -> Case:
    t = _Tokens()
    ds = _base("private_siemens", t)
    ds.Manufacturer = "SIEMENS"
    csa = ds.private_block(0x0029, "SIEMENS CSA HEADER", create=True)
    csa.add_new(0x10, "OB", _csa_header({"PatientName": "Quillfeather Ottoline"}))
    csa.add_new(0x20, "OB", _csa_header({"Operator": "Szymanowska Halina", "Id": PATIENT_ID}))
    header2 = ds.private_block(0x0029, "SIEMENS MEDCOM HEADER2", create=True)
    header2.add_new(0x60, "LO", "com")  # 'k'
    t.add(NAME, "Szymanowska", "Halina", "Quillfeather Ottoline")
    return Case("private_siemens", to_bytes(ds), t.found, "Siemens CSA (OB) with names inside")


def _private_philips_agfa_fuji() -> Case:
    t = _Tokens()
    ds = _base("private_vendors", t)
    ds.Manufacturer = "Philips"
    philips = ds.private_block(0x2001, "Philips Imaging DD 001", create=True)
    philips.add_new(0x04, "LO", f"{GIVEN} {FAMILY}")  # 'd'
    item = Dataset()
    nested = item.private_block(0x2005, "Philips MR Imaging DD 001", create=True)
    nested.add_new(0x03, "LO", "Brackenridge^Alasdair")
    nested.add_new(0x06, "DA", "20240301")
    philips.add_new(0x5F, "SQ", Sequence([item]))  # 'k' sequence with PHI inside
    agfa = ds.private_block(0x0019, "AGFA ADC NX", create=True)
    agfa.add_new(0x10, "LO", "Operator Brackenridge")
    fuji = ds.private_block(0x0009, "FDMS 1.0", create=True)
    fuji.add_new(0x05, "LO", "FUJI-QX7734921")  # 'h'
    fuji.add_new(0x04, "SH", "Brackenridge")  # 'd'
    care = ds.private_block(0x0031, "CARESTREAM IMAGE INFORMATION", create=True)
    care.add_new(0x20, "LT", f"Tech note: {FAMILY} moved, retake")
    t.add(NAME, "Brackenridge", "Alasdair")
    t.add(DATE, "20240301")
    t.add(ID, "FUJI-QX7734921")
    return Case(
        "private_vendors", to_bytes(ds), t.found, "Philips nested SQ, Agfa, Fuji, Carestream"
    )


def _private_dispositions() -> Case:
    t = _Tokens()
    ds = _base("private_dispositions", t)
    ds.Manufacturer = "TOSHIBA"
    toshiba = ds.private_block(0x7005, "TOSHIBA_MEC_CT3", create=True)
    toshiba.add_new(0x16, "UI", "1.2.392.200036.9116.2.7734921")  # 'h'
    toshiba.add_new(0x24, "DA", "20240304")  # 'o'
    toshiba.add_new(0x10, "LO", f"{FAMILY} positioning")  # 'd'
    t.add(UIDS, "1.2.392.200036.9116.2.7734921")
    t.add(DATE, "20240304")
    return Case("private_dispositions", to_bytes(ds), t.found, "KB h/o/d/k private dispositions")


def _private_safe_element_phi() -> Case:
    t = _Tokens()
    ds = _base("private_safe_phi", t)
    med = ds.private_block(0x0021, "SIEMENS MED", create=True)
    med.add_new(0x10, "LO", f"{FAMILY} reviewed")  # 'k' in the KB
    ge = ds.private_block(0x0009, "GEMS_IDEN_01", create=True)
    ge.add_new(0x01, "LO", f"{FAMILY}")  # 'k'
    return Case(
        "private_safe_phi",
        to_bytes(ds),
        t.found,
        "the patient's name in private elements the KB calls safe ('k')",
        refusal_ok=True,
    )


def _private_safe_un() -> Case:
    """KB-'k' elements that pydicom's private dictionary does not know, in Implicit VR.

    They come back as UN, so a check that only searches text VRs never looks
    inside them.
    """
    t = _Tokens()
    ds = _base("private_safe_un", t)
    ctp = ds.private_block(0x0013, "CTP", create=True)
    ctp.add_new(0x10, "LO", f"Project {FAMILY}")  # ProjectName: 'k'
    return Case(
        "private_safe_un",
        to_bytes(ds, implicit=True),
        t.found,
        "the name in KB-'k' CTP elements read back as UN (Implicit VR)",
        refusal_ok=True,
    )


def _private_uih() -> Case:
    """United Imaging private elements with GB18030 text."""
    t = _Tokens()
    ds = _base("private_uih", t)
    ds.SpecificCharacterSet = "GB18030"
    ds.Manufacturer = "UIH"
    ds.PatientName = "Zhang^Weiming=张^伟明"
    misc = ds.private_block(0x0063, "UIH_CT_MISC", create=True)
    misc.add_new(0x27, "LO", "张伟明 北京市海淀区学院路")  # 'd'
    misc.add_new(0x99, "LO", "操作员 李秀英")  # unknown to the KB
    misc.add_new(0x98, "DA", "20240305")  # 'd'
    t.drop(*PATIENT_NAME_TOKENS)
    t.add(NAME, "张伟明", "李秀英", "Weiming")
    t.add(ADDRESS, "海淀区学院路")
    return Case("private_uih", to_bytes(ds), t.found, "UIH_CT_MISC private text in GB18030")


def _private_implicit() -> Case:
    t = _Tokens()
    ds = _base("private_implicit", t)
    ds.Manufacturer = "Canon Medical Systems"
    block = ds.private_block(0x0019, "ZZ UNKNOWN VENDOR 3", create=True)
    block.add_new(0x10, "LO", f"{FAMILY}^{GIVEN}")
    block.add_new(0x11, "DA", BIRTH_DATE)
    block.add_new(0x12, "UN", f"ref {PATIENT_ID} tel {PHONE_NUMBER}".encode())
    canon = ds.private_block(0x7005, "CANON_MEC_CT3", create=True)
    canon.add_new(0x10, "LO", "Portwrenna")
    t.add(PHONE, PHONE_NUMBER)
    t.add(ADDRESS, "Portwrenna")
    return Case(
        "private_implicit",
        to_bytes(ds, implicit=True),
        t.found,
        "Implicit VR LE: private elements read back as UN",
    )


# -- encodings -------------------------------------------------------------------------------


def _standard_as_un() -> Case:
    """Explicit VR file whose PHI attributes are encoded as UN (a lossy router did it)."""
    t = _Tokens()
    ds = _base("standard_as_un", t)
    ds.ImageComments = f"Follow-up {FAMILY} in 6 weeks"
    name = b"Quillfeather^Ottoline^Maudsley"
    raw = [
        explicit_element(0x00100010, b"UN", name),
        explicit_element(0x00101001, b"UN", b"Thistlewaite^Ottoline"),
        explicit_element(0x00101040, b"UN", STREET.encode()),
        explicit_element(0x00081030, b"UN", f"CT {FAMILY}".encode()),
        explicit_element(0x00080090, b"UN", b"Huxtable-Ngata^Bartholomew"),
        explicit_element(0x00321032, b"UN", b"Ashdown-Kerr^Fenella "),
    ]
    t.add(NAME, "Thistlewaite", "Ashdown-Kerr", "Fenella")
    t.add(ADDRESS, "Wrenfield Crescent")
    return Case(
        "standard_as_un",
        _replace_body(ds, raw),
        t.found,
        "standard PN/LO attributes with VR UN in an explicit VR file",
        keep=("Follow-up", "weeks"),
    )


def _sequence_as_un() -> Case:
    """Standard sequences encoded as UN (undefined length, implicit VR items inside)."""
    t = _Tokens()
    ds = _base("sequence_as_un", t)
    item = implicit_element(0x00100020, b"WX-20013377 ") + implicit_element(
        0x00100021, b"Wrenfield General "
    )
    other_ids = explicit_element(0x00101002, b"UN", _item(item))
    text = implicit_element(0x0040A040, b"TEXT") + implicit_element(
        0x0040A160, f"Contrast given to {FAMILY}".encode()
    )
    content_items = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF) + text
    content_items += struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
    content_items += struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    context = explicit_element(0x00400555, b"UN", content_items, length=0xFFFFFFFF)
    qualifiers = implicit_element(0x00400031, b"ALDHELM-MRN ") + implicit_element(
        0x00100020, PATIENT_ID.encode() + b" "
    )
    issuer = explicit_element(0x00100024, b"UN", _item(qualifiers))
    raw = [other_ids, context, issuer]
    t.add(ID, "WX-20013377", "ALDHELM-MRN")
    t.add(INSTITUTION, "Wrenfield General")
    return Case(
        "sequence_as_un",
        _replace_body(ds, raw),
        t.found,
        "OtherPatientIDsSequence, AcquisitionContextSequence, issuer qualifiers as UN",
    )


def _listed_sequences_as_un() -> Case:
    """Sequences the profile dummies (D) or maps (U), encoded as UN with implicit items."""
    t = _Tokens()
    ds = _base("listed_sequences_as_un", t)
    text = (
        implicit_element(0x0040A010, b"CONTAINS")
        + implicit_element(0x0040A040, b"TEXT")
        + implicit_element(0x0040A160, f"Seen with {FAMILY} ".encode())
    )
    ref = implicit_element(0x00081150, CT_IMAGE.encode()) + implicit_element(
        0x00081155, (STUDY_UID + ".55").encode()
    )
    raw = [
        explicit_element(0x0040A730, b"UN", _item(text)),  # ContentSequence: D
        explicit_element(0x00081140, b"UN", _item(ref)),  # ReferencedImageSequence: U
    ]
    t.add(UIDS, STUDY_UID + ".55")
    return Case(
        "listed_sequences_as_un",
        _replace_body(ds, raw),
        t.found,
        "ContentSequence (D) and ReferencedImageSequence (U) encoded as UN",
    )


def _junk_in_dates() -> Case:
    """Free text where a date belongs (DA/DT/TM values are not validated by writers)."""
    t = _Tokens()
    ds = _base("junk_in_dates", t)
    raw = [
        explicit_element(0x00080021, b"DA", b"Quillfeather"),  # SeriesDate
        explicit_element(0x00080023, b"DA", b"QX7734921 "),  # ContentDate
        explicit_element(0x0008002A, b"DT", b"Tel 07946095811 "),  # AcqDateTime
        explicit_element(0x00080033, b"TM", b"Ottoline"),  # ContentTime
    ]
    t.add(PHONE, "07946095811")
    return Case(
        "junk_in_dates",
        _replace_body(ds, raw),
        t.found,
        "names, MRN and a phone number written into DA/DT/TM elements",
        broken=True,
    )


def _bad_numbers() -> Case:
    """Decimal commas and junk in DS/IS, as European and older software write them."""
    t = _Tokens()
    ds = _base("bad_numbers", t)
    ds.OtherPatientNames = "Thistlewaite^Ottoline"
    raw = [
        explicit_element(0x00180050, b"DS", b"1,25"),  # SliceThickness
        explicit_element(0x00280030, b"DS", b"0,7\\abc "),  # PixelSpacing
        explicit_element(0x00200013, b"IS", b"12.0"),  # InstanceNumber
        explicit_element(0x00101030, b"DS", b"58 kg "),  # PatientWeight
    ]
    t.add(NAME, "Thistlewaite")
    return Case(
        "bad_numbers",
        _replace_body(ds, raw),
        t.found,
        "DS with decimal commas and junk, IS with a decimal point",
        broken=True,
    )


def _wrong_vr() -> Case:
    """Valid VR codes, but the wrong ones for the attribute (a lossy converter did it)."""
    t = _Tokens()
    ds = _base("wrong_vr", t)
    ds.ImageComments = f"Follow-up {FAMILY} in 6 weeks"
    name = b"Quillfeather^Ottoline^Maudsley"
    study = b"1.2.826.0.1.3680043.2.1125.77341.4242.1"
    sop = _sop_uid("wrong_vr").encode()
    t.drop(STUDY_UID)
    t.add(UIDS, study.decode())
    raw = [
        explicit_element(0x00100010, b"LO", name),
        explicit_element(0x0020000D, b"LO", _padded(study)),
        explicit_element(0x00080018, b"SH", _padded(sop)),
        explicit_element(0x00080020, b"SH", STUDY_DATE.encode()),
        explicit_element(0x00100030, b"LO", BIRTH_DATE.encode()),
    ]
    return Case(
        "wrong_vr",
        _replace_body(ds, raw),
        t.found,
        "PatientName as LO, Study/SOP Instance UID as LO/SH, dates as SH/LO",
        keep=("Follow-up",),
    )


def _person_name_shapes() -> Case:
    """PN values that break the PN grammar: four groups, multi-valued PatientName."""
    t = _Tokens()
    ds = _base("person_name_shapes", t)
    raw = [
        explicit_element(
            0x00100010, b"PN", b"Quillfeather^Ottoline=Q^O=Q^O=Trewin\\Trewin^Morwenna"
        ),
        explicit_element(0x00101001, b"PN", b"^^^^^^Trewin^=^=^"),
    ]
    ds.ImageComments = "Trewin family present"
    t.drop(MIDDLE)
    t.add(NAME, "Trewin", "Morwenna")
    return Case(
        "person_name_shapes",
        _replace_body(ds, raw),
        t.found,
        "PatientName with four component groups and two values; a PN of carets",
    )


def _odd_lengths_and_bad_vr() -> Case:
    t = _Tokens()
    ds = _base("odd_bad_vr", t)
    t.drop(MIDDLE)
    raw = [
        explicit_element(0x00100010, b"PN", b"Quillfeather^Ottoline^M"),
        explicit_element(0x00101000, b"LO", b"OPX-448812"),  # odd? 10: even
        explicit_element(0x00101040, b"LO", b"17 Wrenfield Crescent"),  # odd
        explicit_element(0x00102154, b"SH", b"07946 095 811"),  # odd
        explicit_element(0x00081030, b"ZZ", f"Head {FAMILY}".encode()),  # bad VR
        explicit_element(0x00081050, b"pn", b"Tremayne^Lowenna"),  # lower-case VR
    ]
    t.add(ID, "OPX-448812")
    t.add(ADDRESS, "Wrenfield Crescent")
    t.add(PHONE, "07946 095 811")
    t.add(NAME, "Tremayne", "Lowenna")
    return Case(
        "odd_bad_vr",
        _replace_body(ds, raw),
        t.found,
        "odd-length values and invalid VR codes on PHI attributes",
        broken=True,
    )


def _missing_preamble() -> Case:
    t = _Tokens()
    ds = _base("no_preamble", t)
    ds.OtherPatientNames = "Thistlewaite^Ottoline"
    ds.PatientAddress = STREET
    t.add(NAME, "Thistlewaite")
    t.add(ADDRESS, "Wrenfield Crescent")
    return Case(
        "no_preamble",
        to_bytes(ds, implicit=True, file_format=False),
        t.found,
        "no preamble, no DICM, no file meta; implicit VR",
    )


def _truncated() -> Case:
    t = _Tokens()
    ds = _base("truncated", t)
    ds.PatientAddress = STREET
    ds.ImageComments = "x" * 200
    data = to_bytes(ds)
    cut = data.index(b"x" * 200) + 50  # in the middle of ImageComments' value
    t.add(ADDRESS, "Wrenfield Crescent")
    return Case("truncated", data[:cut], t.found, "file cut mid-value", broken=True)


def _transfer_syntax(name: str, syntax: str, note: str) -> Case:
    t = _Tokens()
    ds = _base(name, t)
    ds.PatientAddress = STREET
    ds.OtherPatientNames = "Thistlewaite^Ottoline"
    ds.ImageComments = f"Follow-up for {FAMILY}"
    ds.file_meta.TransferSyntaxUID = UID(syntax)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = to_bytes(ds)
    t.add(ADDRESS, "Wrenfield Crescent")
    t.add(NAME, "Thistlewaite")
    return Case(name, data, t.found, note)


def _transfer_syntax_cases() -> list[Case]:
    return [
        _transfer_syntax("big_endian", "1.2.840.10008.1.2.2", "Explicit VR Big Endian (retired)"),
        _transfer_syntax(
            "deflated", "1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian (zlib)"
        ),
    ]


def _truncated_in_sequence() -> Case:
    """Cut inside an undefined-length sequence item, after a PN holding another name."""
    t = _Tokens()
    ds = _base("truncated_in_sequence", t)
    item = Dataset()
    item.PersonName = "Trewin^Morwenna"
    item.TextValue = "y" * 200
    ds.AcquisitionContextSequence = [item]
    ds.PatientAddress = STREET
    ds["AcquisitionContextSequence"].is_undefined_length = True
    data = to_bytes(ds)
    cut = data.index(b"y" * 200) + 20
    t.add(NAME, "Trewin", "Morwenna")
    t.add(ADDRESS, "Wrenfield Crescent")
    return Case(
        "truncated_in_sequence", data[:cut], t.found, "cut inside a sequence item", broken=True
    )


def _syntax_mismatch() -> Case:
    """The meta says Implicit VR Little Endian, the body is Explicit VR."""
    t = _Tokens()
    ds = _base("syntax_mismatch", t)
    ds.OtherPatientNames = "Thistlewaite^Ottoline"
    data = bytearray(to_bytes(ds))
    explicit = ExplicitVRLittleEndian.encode()
    offset = data.index(explicit)
    implicit = ImplicitVRLittleEndian.encode().ljust(len(explicit), b"\0")
    data[offset : offset + len(explicit)] = implicit
    t.add(NAME, "Thistlewaite")
    return Case(
        "syntax_mismatch",
        bytes(data),
        t.found,
        "TransferSyntaxUID says implicit, the dataset is explicit",
        broken=True,
    )


def _charset_case(
    name: str,
    charset: str | list[str],
    patient: str,
    terms: tuple[str, ...],
    description: str,
    manufacturer: str,
    note: str,
) -> Case:
    t = _Tokens()
    ds = _base(name, t)
    ds.SpecificCharacterSet = charset
    ds.Manufacturer = manufacturer
    ds.PatientName = patient
    ds.StudyDescription = description
    ds.InstitutionName = HOSPITAL
    t.drop(*PATIENT_NAME_TOKENS)
    t.add(NAME, *terms)
    return Case(name, to_bytes(ds), t.found, note)


def _charset_cases() -> list[Case]:
    cases = [
        _charset_case(
            "charset_gb18030",
            "GB18030",
            "Zhang^Weiming=张^伟明=ㄓㄤ^ㄨㄟㄇㄧㄥˊ",
            ("Weiming", "张伟明", "伟明", "ㄨㄟㄇㄧㄥˊ"),
            "头部CT平扫 张伟明 身份证110105194912310021",
            "UIH",
            "United Imaging, GB18030, three PN groups, resident ID in text",
        ),
        _charset_case(
            "charset_gbk",
            "GBK",
            "Liang^Xiaohong=梁^晓红",
            ("Xiaohong", "梁晓红", "晓红"),
            "胸部CT 梁晓红 电话13912345678",
            "Neusoft",
            "GBK with a mobile number in text",
        ),
        _charset_case(
            "charset_ir87",
            ["", "ISO 2022 IR 87"],
            "Yamada^Tarou=山田^太郎=やまだ^たろう",
            ("Yamada", "Tarou", "山田", "太郎", "やまだ", "たろう"),
            "頭部CT 山田太郎",
            "TOSHIBA",
            "Canon/Toshiba, ISO 2022 IR 87, three PN groups",
        ),
        _charset_case(
            "charset_ir149",
            ["", "ISO 2022 IR 149"],
            "Hong^Gildong=洪^吉洞=홍^길동",
            ("Gildong", "洪^吉洞", "홍길동", "길동"),
            "두부 CT 홍길동",
            "Samsung",
            "ISO 2022 IR 149 (Korean)",
        ),
        _charset_case(
            "charset_latin1",
            "ISO_IR 100",
            "Ærøskøbing-Müller^Jürgen^Þór",
            ("Ærøskøbing-Müller", "Jürgen", "Ærøskøbing"),
            "Schädel CT Jürgen Ærøskøbing-Müller",
            "Agfa",
            "Latin-1 names with diacritics",
        ),
        _charset_case(
            "charset_utf8",
            "ISO_IR 192",
            "Παπαδοπούλου^Ελένη=Παπαδοπούλου^Ελένη",
            ("Παπαδοπούλου", "Ελένη"),
            "CT κεφαλής Ελένη Παπαδοπούλου",
            "FUJIFILM",
            "UTF-8 Greek",
        ),
    ]
    cases.append(_charset_ir58())
    cases.append(_charset_wrong())
    cases.append(_charset_undeclared())
    return cases


def _charset_ir58() -> Case:
    """ISO 2022 IR 58 (GB 2312): pydicom cannot write it, so the bytes are built by hand."""
    t = _Tokens()
    ds = _base("charset_ir58", t)
    ds.Manufacturer = "Mindray"
    esc = b"\x1b$)A"
    name = b"Wang^Fangfang=" + esc + "王^芳芳".encode("gb2312") + b"="
    desc = b"CT " + esc + "王芳芳".encode("gb2312")
    raw = [
        explicit_element(0x00080005, b"CS", b"\\ISO 2022 IR 58"),
        explicit_element(0x00100010, b"PN", _padded(name)),
        explicit_element(0x00081030, b"LO", _padded(desc)),
    ]
    t.drop(*PATIENT_NAME_TOKENS)
    t.add(NAME, "Fangfang", "王芳芳", "芳芳")
    return Case("charset_ir58", _replace_body(ds, raw), t.found, "ISO 2022 IR 58 by hand")


def _charset_wrong() -> Case:
    """Declared Latin-1, written UTF-8 (the commonest lie)."""
    t = _Tokens()
    ds = _base("charset_wrong", t)
    name = "Øvregård^Sølvi".encode()
    desc = "MR hode Sølvi Øvregård".encode()
    raw = [
        explicit_element(0x00080005, b"CS", b"ISO_IR 100"),
        explicit_element(0x00100010, b"PN", _padded(name)),
        explicit_element(0x00081030, b"LO", _padded(desc)),
    ]
    t.drop(*PATIENT_NAME_TOKENS)
    t.add(NAME, "Øvregård", "Sølvi")
    return Case("charset_wrong", _replace_body(ds, raw), t.found, "UTF-8 bytes declared ISO_IR 100")


def _charset_undeclared() -> Case:
    """No (0008,0005) at all, GB18030 bytes (a Chinese modality that never says)."""
    t = _Tokens()
    ds = _base("charset_undeclared", t)
    name = "Zhao^Lei=赵^磊".encode("gb18030")
    desc = "腹部CT 赵磊 13800138000".encode("gb18030")
    raw = [
        explicit_element(0x00100010, b"PN", _padded(name)),
        explicit_element(0x00081030, b"LO", _padded(desc)),
    ]
    t.drop(*PATIENT_NAME_TOKENS)
    t.add(NAME, "赵磊", "Zhao^Lei")
    t.add(PHONE, "13800138000")
    return Case("charset_undeclared", _replace_body(ds, raw), t.found, "undeclared GB18030 text")


# -- compressed and multi-frame ----------------------------------------------------------


def _compressed(name: str, sample: str, vendor: str, modality: str, sop_class: str) -> Case:
    t = _Tokens()
    ds = _base(name, t, sop_class=sop_class)
    source = pydicom.dcmread(str(get_testdata_file(sample)))
    for keyword in IMAGE_PIXEL_KEYWORDS:
        if keyword in ds:
            delattr(ds, keyword)
        if keyword in source:
            setattr(ds, keyword, source[keyword].value)
    ds.PixelData = source.PixelData
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = source.file_meta.TransferSyntaxUID
    ds.Manufacturer = vendor
    ds.Modality = modality
    ds.InstitutionName = HOSPITAL
    ds.StudyDescription = f"{modality} for {FAMILY}"
    ds.DerivationDescription = "Lossless compression"
    t.add(INSTITUTION, HOSPITAL)
    return Case(name, to_bytes(ds), t.found, f"{sample} pixel data under a PHI header")


def _with_comment(frame: bytes, text: bytes) -> bytes:
    """A JPEG or JPEG 2000 codestream with a comment segment holding ``text``."""
    if frame[:2] == b"\xff\xd8":  # JPEG: COM right after SOI
        return frame[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + frame[2:]
    if frame[:4] == b"\xff\x4f\xff\x51":  # JPEG 2000: COM after the SIZ segment
        siz_end = 4 + struct.unpack(">H", frame[4:6])[0]
        segment = b"\xff\x64" + struct.pack(">HH", len(text) + 4, 1) + text
        return frame[:siz_end] + segment + frame[siz_end:]
    raise ValueError("not a JPEG or JPEG 2000 codestream")


def _compressed_comment(name: str, sample: str, sop_class: str) -> Case:
    """Compressed pixel data whose codestream carries a comment naming the patient."""
    case = _compressed(name, sample, "Acme", "OT", sop_class)
    ds = pydicom.dcmread(BytesIO(case.data))
    frames = list(generate_frames(ds.PixelData, number_of_frames=1))
    text = f"Patient {FAMILY}^{GIVEN} ID {PATIENT_ID}".encode()
    ds.PixelData = encapsulate([_with_comment(frames[0], text)])
    return Case(
        name,
        to_bytes(ds),
        case.tokens,
        f"{sample}: a COM segment in the codestream names the patient",
        scan_pixels=True,
    )


def _compressed_cases() -> list[Case]:
    return [
        _compressed("jpeg2000", "MR_small_jp2klossless.dcm", "Carestream Health", "MR", MR_IMAGE),
        _compressed("rle", "MR_small_RLE.dcm", "Agfa", "MR", MR_IMAGE),
        _compressed("jpeg_baseline", "SC_rgb_jpeg_dcmtk.dcm", "FUJIFILM", "OT", SC_IMAGE),
        _compressed(
            "multiframe_j2k", "emri_small_jpeg_2k_lossless.dcm", "Philips", "MR", ENHANCED_MR
        ),
        _compressed("multiframe_rle", "emri_small_RLE.dcm", "SIEMENS", "MR", ENHANCED_MR),
        _compressed_comment("jpeg_comment", "SC_rgb_jpeg_dcmtk.dcm", SC_IMAGE),
        _compressed_comment("j2k_comment", "MR_small_jp2klossless.dcm", MR_IMAGE),
    ]


# -- false positives and the study group ---------------------------------------------------


def _name_padding() -> Case:
    """A PatientName padded with NUL (some modalities do), the given name in text."""
    t = _Tokens()
    ds = _base("name_padding", t)
    ds.ImageComments = f"{GIVEN} tolerated the scan"
    raw = [explicit_element(0x00100010, b"PN", f"{FAMILY}^{GIVEN}\0".encode())]
    t.drop(MIDDLE)
    return Case(
        "name_padding", _replace_body(ds, raw), t.found, "NUL-padded PatientName", keep=("scan",)
    )


def _id_zero_padding() -> Case:
    """The HIS pads the MRN with zeros, the technologist types it without them."""
    t = _Tokens()
    ds = _base("id_zero_padding", t)
    ds.PatientID = "00042117"
    ds.ImageComments = "MRN 42117 rescanned"
    ds.StudyDescription = "CT head 42117"
    t.drop(PATIENT_ID)
    t.add(ID, "00042117", "42117")
    return Case("id_zero_padding", to_bytes(ds), t.found, "zero-padded MRN typed without zeros")


def _katakana_width() -> Case:
    """Half-width katakana (JIS X 0201, IR 13) in the PN, full-width in a description."""
    t = _Tokens()
    ds = _base("katakana_width", t)
    ds.SpecificCharacterSet = ["ISO 2022 IR 13", "ISO 2022 IR 87"]
    ds.Manufacturer = "CANON_MEC"
    ds.PatientName = "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=ﾔﾏﾀﾞ^ﾀﾛｳ"
    ds.StudyDescription = "頭部CT ヤマダ タロウ"
    t.drop(*PATIENT_NAME_TOKENS)
    t.add(NAME, "山田", "太郎", "ﾔﾏﾀﾞ", "ヤマダ", "タロウ")
    return Case("katakana_width", to_bytes(ds), t.found, "IR 13 half-width vs full-width katakana")


def _name_nfd() -> Case:
    """The PN in decomposed Unicode (NFD, as macOS writes it), the text in composed form."""
    t = _Tokens()
    ds = _base("name_nfd", t)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = unicodedata.normalize("NFD", "Brønnøysund-Müller^Jürgen")
    ds.StudyDescription = "CT for Jürgen Brønnøysund-Müller"
    t.drop(*PATIENT_NAME_TOKENS)
    t.add(NAME, "Jürgen", "Brønnøysund-Müller")
    return Case("name_nfd", to_bytes(ds), t.found, "PN in NFD, description in NFC")


def _greek_caps() -> Case:
    """Greek names in capitals drop their accents (Παπαδοπούλου -> ΠΑΠΑΔΟΠΟΥΛΟΥ)."""
    t = _Tokens()
    ds = _base("greek_caps", t)
    ds.SpecificCharacterSet = "ISO_IR 126"
    ds.PatientName = "Παπαδοπούλου^Ελένη"
    ds.StudyDescription = "ΑΞΟΝΙΚΗ ΠΑΠΑΔΟΠΟΥΛΟΥ ΕΛΕΝΗ"
    t.drop(*PATIENT_NAME_TOKENS)
    t.add(NAME, "ΠΑΠΑΔΟΠΟΥΛΟΥ", "ΕΛΕΝΗ")
    return Case("greek_caps", to_bytes(ds), t.found, "ISO_IR 126; accentless capitals in text")


def _pinyin_spacing() -> Case:
    """Pinyin written without separators in one place and with them in another."""
    t = _Tokens()
    ds = _base("pinyin_spacing", t)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "ZHANGWEIMING=张伟明"
    ds.OtherPatientNames = "Liu^Yangfan"
    ds.StudyDescription = "CT Zhang Weiming / LIUYANGFAN"
    t.drop(*PATIENT_NAME_TOKENS)
    t.add(NAME, "Zhang Weiming", "LIUYANGFAN")
    return Case(
        "pinyin_spacing",
        to_bytes(ds),
        t.found,
        "pinyin name run together in the PN and spaced in text, and the reverse",
    )


def _cyrillic() -> Case:
    """ISO_IR 144 Cyrillic; capitals in text, and ё written as е (as Russians often do)."""
    t = _Tokens()
    ds = _base("cyrillic", t)
    ds.SpecificCharacterSet = "ISO_IR 144"
    ds.PatientName = "Соловьёв^Пётр"
    ds.StudyDescription = "КТ ГОЛОВЫ СОЛОВЬЕВ ПЕТР / Соловьёв"
    t.drop(*PATIENT_NAME_TOKENS)
    t.add(NAME, "СОЛОВЬЕВ", "ПЕТР", "Соловьёв")
    return Case("cyrillic", to_bytes(ds), t.found, "ISO_IR 144; ё/е and capitals in text")


def _invisible_characters() -> Case:
    """Soft hyphen and zero-width characters inside the name (pasted from a word processor)."""
    t = _Tokens()
    ds = _base("invisible_chars", t)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.StudyDescription = "CT Quill\u00adfeather"
    ds.ImageComments = "Otto\u200bline Quill\u200dfeather seen"
    t.add(NAME, "Quill\u00adfeather", "Otto\u200bline", "Quill\u200dfeather")
    return Case(
        "invisible_chars",
        to_bytes(ds),
        t.found,
        "soft hyphen, zero-width space and joiner inside the name in text",
        keep=("seen",),
    )


def _fullwidth_latin() -> Case:
    """Full-width Latin letters (typed with a CJK input method) in a description."""
    t = _Tokens()
    ds = _base("fullwidth_latin", t)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.StudyDescription = "CT ＱＵＩＬＬＦＥＡＴＨＥＲ ＱＸ７７３４９２１"
    t.add(NAME, "ＱＵＩＬＬＦＥＡＴＨＥＲ")
    t.add(ID, "ＱＸ７７３４９２１")
    return Case("fullwidth_latin", to_bytes(ds), t.found, "full-width name and MRN in text")


def _false_claim() -> Case:
    """A file that claims to be de-identified already, with PHI still in it."""
    t = _Tokens()
    ds = _base("false_claim", t)
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "Quick anon by Aldhelm-Tools"
    ds.DeidentificationMethodCodeSequence = [
        _code("113100", "DCM", "Basic Application Confidentiality Profile"),
        _code("113110", "DCM", "Retain UIDs Option"),
    ]
    ds.LongitudinalTemporalInformationModified = "UNMODIFIED"
    ds.PatientAddress = STREET
    t.add(INSTITUTION, "Aldhelm-Tools")
    t.add(ADDRESS, "Wrenfield Crescent")
    return Case(
        "false_claim",
        to_bytes(ds),
        t.found,
        "PatientIdentityRemoved=YES and an old method record on a file full of PHI",
    )


def _clinical_surnames() -> Case:
    """Surnames that are also clinical words or name particles (Head, Brain, Le)."""
    t = _Tokens()
    ds = _base("clinical_surnames", t)
    ds.PatientName = "Head^Rosalind"
    ds.OtherPatientNames = "Le^Thi Hoa"
    ds.ImageComments = "Rosalind Head, CT head; sister Le Thi Hoa. Mrs Head anxious."
    t.drop(*PATIENT_NAME_TOKENS)
    t.add(NAME, "Rosalind", "Rosalind Head", "Thi Hoa", "Mrs Head")
    return Case(
        "clinical_surnames",
        to_bytes(ds),
        t.found,
        "surname Head (a clinical word) and Le (a particle) in comments",
    )


def _dicomdir() -> Case:
    """A DICOMDIR: patient/study records, a file-set ID and file paths named after the patient."""
    t = _Tokens()
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID("1.2.840.10008.1.3.10")
    ds.file_meta.MediaStorageSOPInstanceUID = UID(_sop_uid("dicomdir"))
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.FileSetID = "QX7734921CD"
    ds.FileSetDescriptorFileID = ["QUILLFEATHER", "README"]
    ds.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity = 0
    ds.OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity = 0
    ds.FileSetConsistencyFlag = 0
    patient = Dataset()
    patient.DirectoryRecordType = "PATIENT"
    patient.PatientName = PATIENT_NAME
    patient.PatientID = PATIENT_ID
    patient.PatientBirthDate = BIRTH_DATE
    study = Dataset()
    study.DirectoryRecordType = "STUDY"
    study.StudyDate, study.StudyTime = STUDY_DATE, STUDY_TIME
    study.StudyDescription = f"CT head {FAMILY}"
    study.StudyInstanceUID = STUDY_UID
    study.AccessionNumber = ACCESSION
    image = Dataset()
    image.DirectoryRecordType = "IMAGE"
    image.ReferencedFileID = ["QUILLFEA", "QX773492", "IM000001"]
    image.ReferencedSOPClassUIDInFile = CT_IMAGE
    image.ReferencedSOPInstanceUIDInFile = _sop_uid("study_image")
    image.ReferencedTransferSyntaxUIDInFile = ExplicitVRLittleEndian
    ds.DirectoryRecordSequence = [patient, study, image]
    t.add(NAME, FAMILY, GIVEN, "QUILLFEA")
    t.add(ID, PATIENT_ID, ACCESSION, "QX773492")
    t.add(DATE, BIRTH_DATE, STUDY_DATE)
    t.add(UIDS, STUDY_UID, _sop_uid("study_image"), _sop_uid("dicomdir"))
    return Case(
        "dicomdir",
        to_bytes(ds),
        t.found,
        "DICOMDIR: records, FileSetID, descriptor and referenced file IDs named after the patient",
    )


def _false_positive() -> Case:
    """A short name that is a substring of clinical words ("Li" in "Lisinopril")."""
    t = _Tokens()
    ds = _base("false_positive", t)
    ds.PatientName = "Li^Wei"
    ds.AdditionalPatientHistory = "On Lisinopril 10 mg and Lithium; Li Wei reports dizziness"
    ds.ImageComments = "Weight-bearing views; Li Wei cooperative"
    t.drop(*PATIENT_NAME_TOKENS)
    t.add(NAME, "Li Wei", "Li^Wei")
    return Case(
        "false_positive",
        to_bytes(ds),
        t.found,
        "name Li^Wei next to Lisinopril/Lithium/Weight",
        keep=("Lisinopril", "Lithium", "Weight-bearing", "dizziness"),
    )


def _false_positive_short_names() -> Case:
    """Short names inside clinical words: Do (Dose, Doppler), 平 (平扫, plain scan)."""
    t = _Tokens()
    ds = _base("false_positive_short", t)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "Do^Minh"
    ds.OtherPatientNames = "Chen^Ping=陈^平"
    ds.ImageComments = "Dose 5 mGy; Doppler normal; Do Minh cooperative"
    ds.StudyDescription = "胸部平扫 陈平"
    t.drop(*PATIENT_NAME_TOKENS)
    t.add(NAME, "Do Minh", "陈平")
    return Case(
        "false_positive_short",
        to_bytes(ds),
        t.found,
        "names Do^Minh and 陈^平 next to Dose, Doppler and 平扫",
        keep=("Dose", "Doppler", "胸部平扫"),
    )


def _clinical_words_next_to_names() -> Case:
    """Capitalised clinical words right next to a name must survive the name's removal."""
    t = _Tokens()
    ds = _base("words_next_to_names", t)
    ds.ImageComments = f"Pneumothorax {FAMILY} right side. Fracture {GIVEN} healed."
    ds.AdditionalPatientHistory = f"Processed {FAMILY} 2024-03-05; Metformin {FAMILY}"
    return Case(
        "words_next_to_names",
        to_bytes(ds),
        t.found,
        "clinical words (Pneumothorax, Fracture, Metformin) directly before the name",
        keep=("Pneumothorax", "Fracture", "Metformin", "healed"),
    )


def _surname_is_anatomy() -> Case:
    """A patient called Brain having an MRI of the brain."""
    t = _Tokens()
    ds = _base("surname_is_anatomy", t)
    ds.PatientName = "Brain^Alasdair"
    ds.StudyDescription = "MRI BRAIN WITHOUT CONTRAST"
    ds.ImageComments = "Alasdair Brain tolerated the MRI brain well; Mr Brain discharged"
    t.drop(*PATIENT_NAME_TOKENS)
    t.add(NAME, "Alasdair", "Alasdair Brain", "Mr Brain")
    return Case(
        "surname_is_anatomy",
        to_bytes(ds),
        t.found,
        "surname Brain: the name must go, 'MRI BRAIN' must stay",
        keep=("MRI BRAIN WITHOUT CONTRAST", "MRI brain"),
    )


def _study_image() -> Case:
    t = _Tokens()
    ds = _base("study_image", t)
    return Case("study_image", to_bytes(ds), t.found, "the image the SR/KOS refer to", "study1")


def _key_object(target_uid: str) -> Case:
    t = _Tokens()
    ds = _base("key_object", t, sop_class=KEY_OBJECT_SELECTION)
    _drop_pixels(ds)
    ds.Modality = "KO"
    ds.SeriesInstanceUID = SERIES_UID + ".98"
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = [_code("113000", "DCM", "Of Interest")]
    image = Dataset()
    image.RelationshipType, image.ValueType = "CONTAINS", "IMAGE"
    image.ReferencedSOPSequence = [_reference(CT_IMAGE, target_uid)]
    note = _text_item("Key Object Description", f"Shown to {FAMILY} family")
    ds.ContentSequence = [note, image]
    ds.CurrentRequestedProcedureEvidenceSequence = [_evidence(target_uid)]
    ds.ReferencedImageSequence = [_reference(CT_IMAGE, target_uid)]
    return Case("key_object", to_bytes(ds), t.found, "KOS referencing the image", "study1")


def _presentation_state(target_uid: str) -> Case:
    t = _Tokens()
    ds = _base("presentation_state", t, sop_class=GSPS)
    _drop_pixels(ds)
    ds.Modality = "PR"
    ds.SeriesInstanceUID = SERIES_UID + ".97"
    ds.ContentLabel = "ANNOTATED"
    ds.ContentDescription = "Annotations by Dr Trevithick"
    ds.ContentCreatorName = "Trevithick^Gwendolyn"
    ds.PresentationCreationDate = STUDY_DATE
    ds.PresentationCreationTime = STUDY_TIME
    series = Dataset()
    series.SeriesInstanceUID = SERIES_UID
    series.ReferencedImageSequence = [_reference(CT_IMAGE, target_uid)]
    ds.ReferencedSeriesSequence = [series]
    text = Dataset()
    text.UnformattedTextValue = f"{FAMILY} lesion, Dr Trevithick, call {PHONE_NUMBER}"
    text.AnchorPointAnnotationUnits = "PIXEL"
    annotation = Dataset()
    annotation.GraphicLayer = "LAYER1"
    annotation.TextObjectSequence = [text]
    annotation.ReferencedImageSequence = [_reference(CT_IMAGE, target_uid)]
    ds.GraphicAnnotationSequence = [annotation]
    ds.GraphicLayerSequence = [Dataset()]
    ds.GraphicLayerSequence[0].GraphicLayer = "LAYER1"
    ds.GraphicLayerSequence[0].GraphicLayerOrder = 1
    ds.GraphicLayerSequence[0].GraphicLayerDescription = "Trevithick notes"
    t.add(NAME, "Trevithick", "Gwendolyn")
    t.add(PHONE, PHONE_NUMBER)
    return Case(
        "presentation_state",
        to_bytes(ds),
        t.found,
        "GSPS: text objects, content description, layer description; references the image",
        group="study1",
    )


def _encapsulated_pdf() -> Case:
    t = _Tokens()
    ds = _base("encapsulated_pdf", t, sop_class=ENCAPSULATED_PDF)
    _drop_pixels(ds)
    ds.Modality = "DOC"
    ds.DocumentTitle = f"Referral letter {FAMILY}"
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    pdf = f"%PDF-1.4\n(Patient: {GIVEN} {FAMILY}, MRN {PATIENT_ID}) Tj\n%%EOF\n"
    ds.EncapsulatedDocument = pdf.encode().ljust(len(pdf) + len(pdf) % 2, b"\0")
    ds.EncapsulatedDocumentLength = len(pdf)
    return Case(
        "encapsulated_pdf",
        to_bytes(ds),
        t.found,
        "Encapsulated PDF: title and document body hold the name",
        refusal_ok=True,
    )


BUILDERS: tuple[Callable[[], Case | list[Case]], ...] = (
    _patient_module,
    _physicians,
    _descriptions,
    _patient_characteristics,
    _institution_and_device,
    _dates_in_text,
    _dates_glued,
    _dates_other_calendars,
    _identifiers_in_text,
    _addresses_in_text,
    _cjk_relatives,
    _ages_in_text,
    _identifiers_international,
    _name_transliteration,
    _other_patient_ids_sequence,
    _issuer_qualifiers,
    _request_attributes,
    _referenced_patient,
    _worklist_sequences,
    _code_meanings,
    _code_values,
    _acquisition_context,
    _uid_with_phi,
    _original_attributes,
    _hanging_protocol,
    _hanging_protocol_creator,
    _overlays_and_curves,
    _overlay_text,
    _file_meta,
    _file_meta_version,
    _uid_in_text,
    _uid_in_text_mrn,
    _uid_under_dicom_root,
    _storage_media,
    _elderly,
    _preamble,
    _trailing_padding,
    _retired_tags,
    _meta_in_body,
    _signatures_and_encrypted,
    _command_group,
    _unlisted_patterns,
    _urls,
    _unlisted_identifying,
    _unlisted_text,
    _functional_groups,
    _nested_charset,
    _charset_unknown,
    _private_ge,
    _private_siemens,
    _private_philips_agfa_fuji,
    _private_dispositions,
    _private_safe_element_phi,
    _private_implicit,
    _private_uih,
    _private_safe_un,
    _standard_as_un,
    _sequence_as_un,
    _listed_sequences_as_un,
    _junk_in_dates,
    _bad_numbers,
    _wrong_vr,
    _person_name_shapes,
    _odd_lengths_and_bad_vr,
    _missing_preamble,
    _truncated,
    _charset_cases,
    _transfer_syntax_cases,
    _truncated_in_sequence,
    _syntax_mismatch,
    _compressed_cases,
    _name_padding,
    _id_zero_padding,
    _katakana_width,
    _name_nfd,
    _greek_caps,
    _pinyin_spacing,
    _cyrillic,
    _invisible_characters,
    _fullwidth_latin,
    _false_claim,
    _clinical_surnames,
    _dicomdir,
    _false_positive,
    _false_positive_short_names,
    _clinical_words_next_to_names,
    _surname_is_anatomy,
    _encapsulated_pdf,
    _study_image,
)


@cache
def build_corpus() -> tuple[Case, ...]:
    """Every red-team case, built once per process (about a second)."""
    cases: list[Case] = []
    for builder in BUILDERS:
        made = builder()
        cases.extend(made if isinstance(made, list) else [made])
    target = _sop_uid("study_image")
    cases.append(_sr_report(target))
    cases.append(_key_object(target))
    cases.append(_presentation_state(target))
    names = [case.name for case in cases]
    if len(names) != len(set(names)):
        raise AssertionError("duplicate case names")
    return tuple(cases)


def case_named(name: str) -> Case:
    """The case called ``name``."""
    for case in build_corpus():
        if case.name == name:
            return case
    raise KeyError(name)


# -- a sweep over every attribute of Table E.1-1 ------------------------------------------


@dataclass(frozen=True)
class SweepEntry:
    """One attribute of Table E.1-1 filled with a marker (and the patient's family name)."""

    tag: int
    keyword: str
    vr: str
    data: bytes
    marker: str | None  # must disappear unless the attribute is kept (K)
    carries_name: bool  # FAMILY is in the value: must disappear unless kept


def _sweep_value(vr: str, marker: str, number: int) -> tuple[object, str | None, bool]:
    """A value of ``vr`` holding ``marker`` (and FAMILY where the VR can hold text)."""
    if vr == "PN":
        return f"{marker}^{FAMILY}", marker, True
    if vr in ("LO", "LT", "ST", "UT", "UC", "SH"):
        return f"{marker} {FAMILY}", marker, True
    if vr in ("CS", "AE"):
        return marker, marker, False
    if vr == "UR":
        return f"http://{marker.lower()}.example/{FAMILY}", marker.lower(), True
    if vr == "UI":
        uid = f"1.2.826.0.1.3680043.2.1125.99.{number}"
        return uid, uid, False
    if vr == "DA":
        return "19730215", "19730215", False
    if vr == "DT":
        return "19730215101010", "19730215101010", False
    if vr in ("OB", "UN"):
        return f"{marker} {FAMILY} ".encode(), marker, True
    if vr == "SQ":
        item = Dataset()
        item.TextValue = f"{marker} {FAMILY}"
        return Sequence([item]), marker, True
    return None, None, False  # TM, AS and numbers: not identifying on their own here


@cache
def sweep_entries() -> tuple[SweepEntry, ...]:
    """One small file per exact-tag row of Table E.1-1 (built once, ~1 s)."""
    from medveil.profiles.table import load_table  # the test's oracle for the rows

    entries = []
    for number, (tag, row) in enumerate(sorted(load_table().exact_rows.items())):
        vr = row.vr.split(" or ")[0] if row.vr else "UN"
        marker = f"SWP{number}X"
        value, token, name = _sweep_value(vr, marker, number)
        if token is None or tag >> 16 in (0x0000, 0x0002, 0xFFFE):
            continue
        ds = _base("sweep", _Tokens())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds.add_new(tag, vr, value)
            data = to_bytes(ds)
        entries.append(SweepEntry(tag, row.keyword, vr, data, token, name))
    return tuple(entries)
