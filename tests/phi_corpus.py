"""Generate DICOM files full of known PHI, and remember every injected token.

A de-identifier is only as good as the places it looks. This generator puts
identifying strings everywhere a real archive has them -- standard attributes,
sequences nested two levels deep, an SR-like content tree, private attributes
of three vendors plus an unknown creator, free text, the file meta group and
even the 128-byte preamble -- and writes them in several character sets
(Latin-1, UTF-8, GB18030, ISO 2022 IR 58 and IR 87). Folder and file names
carry PHI too, like the exports of many modalities.

Each written file comes back with its tokens (``token -> kind``), which the
leak scanner (``tests/leakscan.py``) searches for in the de-identified output.
Kinds let a test allow what an option legitimately keeps (for example the
institution name under Retain Institution Identity): see ``RETAINED_BY_OPTION``.

Base images are real pixel data from pydicom-data (RG1 chest radiograph, MR2
JPEG 2000 lossless) or small synthetic images (CT, multi-frame RGB ultrasound).
The module depends only on pydicom/numpy so the benchmark can reuse it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    generate_uid,
)
from pydicom.uid import UID as DicomUID

# Token kinds: what a value identifies.
NAME, ID, DATE, ADDRESS, PHONE, INSTITUTION, DEVICE, UID = (
    "name",
    "id",
    "date",
    "address",
    "phone",
    "institution",
    "device",
    "uid",
)

#: Token kinds that a PS3.15 option (by its CLI spelling) is allowed to keep.
RETAINED_BY_OPTION: dict[str, frozenset[str]] = {
    "retain-long-full-dates": frozenset({DATE}),
    "retain-institution-identity": frozenset({INSTITUTION}),
    "retain-device-identity": frozenset({DEVICE}),
    "retain-uids": frozenset({UID}),
}

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
CR_IMAGE = "1.2.840.10008.5.1.4.1.1.1"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"
_ESC_GB2312 = b"\x1b$)A"  # ISO 2022 IR 58: designate GB 2312 to G1


@dataclass(frozen=True)
class Person:
    """A patient identity in all the spellings a Chinese/Japanese/English archive uses."""

    family: str
    given: str
    ideographic: tuple[str, str] | None = None  # family, given
    phonetic: tuple[str, str] | None = None
    charsets: tuple[str, ...] = ("ISO_IR 100", "ISO_IR 192")

    def pn(self) -> str:
        """The DICOM PN value with alphabetic, ideographic and phonetic groups."""
        groups = [f"{self.family}^{self.given}"]
        if self.ideographic:
            groups.append("^".join(self.ideographic))
        if self.phonetic:
            groups.append("^".join(self.phonetic))
        return "=".join(groups)

    def name_tokens(self) -> list[str]:
        tokens = [self.family, self.given]
        for group in (self.ideographic, self.phonetic):
            if group:
                tokens.extend(t for t in group if len(t) >= 2)
        return tokens


ROSTER: tuple[Person, ...] = (
    Person("Featherstonehaugh", "Margarethe"),
    Person("Wolfeschlegel", "Hubertine"),
    Person(
        "Ouyang",
        "Zhenhua",
        ("欧阳", "震华"),
        ("ouyangpy", "zhenhuapy"),
        ("ISO_IR 192", "GB18030", "\\ISO 2022 IR 58"),
    ),
    Person("Zhuge", "Mingyuan", ("诸葛", "明远"), None, ("ISO_IR 192", "GB18030")),
    Person(
        "Yamashiro",
        "Kazutaka",
        ("山城", "和隆"),
        ("やましろ", "かずたか"),
        ("ISO_IR 192", "\\ISO 2022 IR 87"),
    ),
    Person("Szczepankiewicz", "Bronisława", charsets=("ISO_IR 192",)),
)

STREETS = ("Evergreen Terrace", "Quillfeather Lane", "Lindenhofstrasse")
CJK_STREET = "学院路"
HOSPITALS = ("Saint Hildegard Memorial", "Qingshan Union Hospital", "Marrowgate Infirmary")
PHYSICIANS = ("Thistlewaite^Oswin", "Pemberton-Okafor^Lucinda", "Vasquez-Rothman^Eliodoro")


@dataclass(frozen=True)
class Patient:
    """One synthetic patient: a person plus IDs, contact data and a birth date."""

    person: Person
    patient_id: str
    other_id: str
    birth_date: dt.date
    street: str
    phone: str
    hospital: str
    physician: str


@dataclass
class Study:
    """A study of a patient: UIDs and dates shared by all of its files."""

    patient: Patient
    study_uid: str
    series_uid: str
    frame_uid: str
    accession: str
    study_id: str
    date: dt.date


@dataclass
class CorpusFile:
    """A written file and the PHI tokens injected into it (token -> kind)."""

    path: Path
    tokens: dict[str, str]
    patient_id: str
    study_date: dt.date
    base: str
    study_uid: str
    series_uid: str


@dataclass
class _Tokens:
    found: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, *values: str) -> None:
        for value in values:
            if value and len(value.strip()) >= 2:
                self.found[value] = kind


def make_patient(rng: random.Random, person: Person) -> Patient:
    """A patient with random, unmistakable identifiers (letters + digits)."""
    return Patient(
        person=person,
        patient_id=f"MRN{rng.randrange(10**7, 10**8)}",
        other_id=f"NHI{rng.randrange(10**6, 10**7)}X",
        birth_date=dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 25000)),
        street=f"{rng.randrange(10, 9999)} {_street(rng, person)}",
        phone=f"617-{rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}",
        hospital=rng.choice(HOSPITALS),
        physician=rng.choice(PHYSICIANS),
    )


def _street(rng: random.Random, person: Person) -> str:
    """A street name the person's character sets can encode."""
    return CJK_STREET if person.ideographic else rng.choice(STREETS)


def make_study(rng: random.Random, patient: Patient) -> Study:
    return Study(
        patient=patient,
        study_uid=generate_uid(),
        series_uid=generate_uid(),
        frame_uid=generate_uid(),
        accession=f"ACC{rng.randrange(10**6, 10**7)}",
        study_id=f"STU{rng.randrange(10**4, 10**5)}",
        date=dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(0, 3000)),
    )


# --- base images ---------------------------------------------------------------------------


@cache
def _sample(name: str) -> Dataset:
    import data_store

    return pydicom.dcmread(Path(data_store.__file__).parent / "data" / name)


#: Image Pixel / Multi-frame attributes that describe the pixel data (copied or dropped with it).
IMAGE_PIXEL_KEYWORDS = (
    "Rows",
    "Columns",
    "BitsAllocated",
    "BitsStored",
    "HighBit",
    "PixelRepresentation",
    "PhotometricInterpretation",
    "SamplesPerPixel",
    "PlanarConfiguration",
    "NumberOfFrames",
    "FrameIncrementPointer",
)


def _copy_pixels(ds: Dataset, sample: Dataset) -> None:
    for keyword in IMAGE_PIXEL_KEYWORDS:
        if keyword in sample:
            setattr(ds, keyword, sample[keyword].value)
    source = sample["PixelData"]
    ds.add(
        DataElement(
            source.tag, source.VR, source.value, is_undefined_length=source.is_undefined_length
        )
    )


def _base_chest(ds: Dataset) -> str:
    """RG1_UNCR: a full-size computed radiograph (1955 x 1841, 16 bit)."""
    _copy_pixels(ds, _sample("RG1_UNCR.dcm"))
    ds.Modality, ds.SOPClassUID, ds.BodyPartExamined = "CR", CR_IMAGE, "CHEST"
    return ExplicitVRLittleEndian


def _base_mr_j2k(ds: Dataset) -> str:
    """MR2_J2KR: encapsulated JPEG 2000 lossless pixel data, copied without decoding."""
    _copy_pixels(ds, _sample("MR2_J2KR.dcm"))
    ds.Modality, ds.SOPClassUID, ds.BodyPartExamined = "MR", MR_IMAGE, "HEAD"
    return JPEG2000Lossless


def _base_ct(ds: Dataset, rng: random.Random) -> str:
    """A small synthetic CT slice, written Implicit VR so private VRs are unknown on read."""
    pixels = np.random.default_rng(rng.randrange(2**32)).integers(-1024, 2000, (64, 64))
    ds.Rows, ds.Columns = 64, 64
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.PhotometricInterpretation, ds.SamplesPerPixel = "MONOCHROME2", 1
    ds.RescaleIntercept, ds.RescaleSlope = "0", "1"
    ds.PixelData = pixels.astype("<i2").tobytes()
    ds.Modality, ds.SOPClassUID, ds.BodyPartExamined = "CT", CT_IMAGE, "ABDOMEN"
    return ImplicitVRLittleEndian


def _base_us(ds: Dataset, rng: random.Random) -> str:
    """A synthetic 3-frame RGB ultrasound clip."""
    pixels = np.random.default_rng(rng.randrange(2**32)).integers(0, 255, (3, 48, 64, 3))
    ds.Rows, ds.Columns, ds.NumberOfFrames = 48, 64, 3
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PhotometricInterpretation, ds.SamplesPerPixel, ds.PlanarConfiguration = "RGB", 3, 0
    ds.PixelData = pixels.astype("u1").tobytes()
    ds.Modality, ds.SOPClassUID, ds.BodyPartExamined = "US", US_MULTIFRAME, "ABDOMEN"
    return ExplicitVRLittleEndian


def _apply_base(ds: Dataset, base: str, rng: random.Random) -> str:
    if base == "chest":
        return _base_chest(ds)
    if base == "mr-j2k":
        return _base_mr_j2k(ds)
    if base == "ct":
        return _base_ct(ds, rng)
    if base == "us":
        return _base_us(ds, rng)
    raise ValueError(f"unknown base image {base!r}")


# --- PHI injection -------------------------------------------------------------------------


def build_dataset(
    study: Study, base: str, charset: str, rng: random.Random, instance: int = 1
) -> tuple[FileDataset, dict[str, str]]:
    """One image of ``study`` on ``base`` pixels, PHI everywhere; returns (dataset, tokens)."""
    patient, person = study.patient, study.patient.person
    tokens = _Tokens()
    ds = FileDataset("", Dataset(), file_meta=FileMetaDataset(), preamble=b"\0" * 128)
    ds.SpecificCharacterSet = charset.split("\\") if "\\" in charset else charset
    transfer_syntax = _apply_base(ds, base, rng)
    sop_uid = generate_uid()
    _identity(ds, study, sop_uid, instance, tokens)
    _free_text(ds, study, tokens)
    _sequences(ds, study, tokens)
    _private(ds, study)
    _file_meta(ds, study, sop_uid, transfer_syntax, tokens)
    # A TIFF-like preamble that names the patient (some dual-format files do this).
    ds.preamble = (b"II*\x00" + f"{person.family} {patient.patient_id}".encode()).ljust(128, b"\0")
    tokens.add(NAME, person.family)
    if charset == "\\ISO 2022 IR 58":
        _encode_iso2022_ir58(ds)
    return ds, tokens.found


def _identity(ds: Dataset, study: Study, sop_uid: str, instance: int, tokens: _Tokens) -> None:
    patient, person = study.patient, study.patient.person
    date = study.date.strftime("%Y%m%d")
    ds.PatientName = person.pn()
    ds.PatientID = patient.patient_id
    ds.IssuerOfPatientID = patient.hospital
    ds.PatientBirthDate = patient.birth_date.strftime("%Y%m%d")
    ds.PatientSex = "F"
    ds.PatientAge = "047Y"
    ds.PatientAddress = f"{patient.street}, Springfield"
    ds.PatientTelephoneNumbers = patient.phone
    ds.OtherPatientNames = f"{person.given}^{person.family}"
    ds.PatientMotherBirthName = "Quenneville^Aurore"
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = date
    ds.StudyTime, ds.SeriesTime, ds.ContentTime = "083015", "083512", "083544"
    ds.AccessionNumber = study.accession
    ds.StudyID = study.study_id
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study.study_uid, study.series_uid
    ds.SOPInstanceUID, ds.FrameOfReferenceUID = sop_uid, study.frame_uid
    ds.SeriesNumber, ds.InstanceNumber = 1, instance
    ds.InstitutionName = patient.hospital
    ds.InstitutionAddress = f"1 {patient.hospital} Plaza, Springfield"
    ds.InstitutionalDepartmentName = "Radiology Kestrelwood Wing"
    ds.ReferringPhysicianName = patient.physician
    ds.PerformingPhysicianName = "Abernathy-Quist^Delphine"
    ds.OperatorsName = "Brightwater^Ingeborg"
    ds.StationName = "HILDECR07"
    ds.DeviceSerialNumber = "SN4471902Q"
    ds.Manufacturer, ds.ManufacturerModelName = "ACME", "Imager 3000"
    tokens.add(NAME, *person.name_tokens(), "Quenneville", "Aurore")
    tokens.add(NAME, "Abernathy-Quist", "Delphine", "Brightwater", "Ingeborg")
    tokens.add(NAME, *patient.physician.split("^"))
    tokens.add(ID, patient.patient_id, study.accession, study.study_id)
    tokens.add(DATE, date, ds.PatientBirthDate)
    tokens.add(ADDRESS, patient.street, patient.street.split(" ", 1)[1])
    tokens.add(PHONE, patient.phone)
    tokens.add(INSTITUTION, patient.hospital, "Kestrelwood")
    tokens.add(DEVICE, "HILDECR07", "SN4471902Q")
    tokens.add(UID, study.study_uid, study.series_uid, sop_uid, study.frame_uid)


def _free_text(ds: Dataset, study: Study, tokens: _Tokens) -> None:
    patient, person = study.patient, study.patient.person
    iso_date = study.date.isoformat()
    local = person.ideographic[0] + person.ideographic[1] if person.ideographic else person.family
    ds.StudyDescription = f"CXR f/u {person.family} {person.given} tel {patient.phone}"
    ds.SeriesDescription = "PA ERECT"  # PHI-free: must survive unchanged under Clean Descriptors
    ds.ImageComments = f"Pt {local} seen {iso_date} by Dr Thistlewaite, MRN {patient.patient_id}"
    ds.AdditionalPatientHistory = f"Lives at {patient.street}; ID {patient.other_id}"
    ds.PatientComments = f"Contact daughter {person.given} at {patient.phone}"
    ds.RequestedProcedureDescription = "XR CHEST 2 VIEWS"
    tokens.add(DATE, iso_date)
    tokens.add(ID, patient.other_id)
    tokens.add(NAME, "Thistlewaite")


def _sequences(ds: Dataset, study: Study, tokens: _Tokens) -> None:
    """PHI at depth two: request attributes, referenced studies, an SR content tree."""
    patient, person = study.patient, study.patient.person
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "121008", "DCM", "Person"
    referenced = Dataset()
    referenced.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    referenced.ReferencedSOPInstanceUID = study.study_uid
    protocol = Dataset()
    protocol.CodeValue, protocol.CodingSchemeDesignator = "P1", "99ACME"
    protocol.CodeMeaning = f"Protocol for {person.family}"
    request = Dataset()
    request.RequestedProcedureID = f"RP{patient.patient_id}"
    request.ScheduledProcedureStepID = f"SPS{study.accession}"
    request.AccessionNumber = study.accession
    request.ReferencedStudySequence = [referenced]
    request.ScheduledProtocolCodeSequence = [protocol]
    ds.RequestAttributesSequence = [request]
    other_ids = Dataset()
    other_ids.PatientID, other_ids.IssuerOfPatientID = patient.other_id, patient.hospital
    ds.OtherPatientIDsSequence = [other_ids]
    # SR-like tree: CONTAINER > (PNAME, TEXT, DATE)
    observer = Dataset()
    observer.RelationshipType, observer.ValueType = "HAS OBS CONTEXT", "PNAME"
    observer.ConceptNameCodeSequence = [code]
    observer.PersonName = "Pemberton-Okafor^Lucinda"
    note = Dataset()
    note.RelationshipType, note.ValueType = "CONTAINS", "TEXT"
    note.TextValue = f"Discussed with {person.given} {person.family} ({patient.phone})"
    when = Dataset()
    when.RelationshipType, when.ValueType = "CONTAINS", "DATE"
    when.Date = patient.birth_date.strftime("%Y%m%d")
    container = Dataset()
    container.ValueType, container.ContinuityOfContent = "CONTAINER", "SEPARATE"
    container.ContentSequence = [observer, note, when]
    ds.ContentSequence = [container]
    tokens.add(NAME, "Pemberton-Okafor", "Lucinda")
    tokens.add(ID, f"RP{patient.patient_id}", f"SPS{study.accession}")


def _private(ds: Dataset, study: Study) -> None:
    """Vendor private attributes that carry PHI, plus an unknown creator with a sequence.

    Element offsets are ones pydicom's private dictionary does not define, so an
    Implicit VR reader sees the VR we meant (or UN), not a clashing dictionary VR.
    """
    patient, person = study.patient, study.patient.person
    ge = ds.private_block(0x0009, "GEMS_IDEN_01", create=True)
    ge.add_new(0x60, "LO", f"{person.family}^{person.given}")
    ge.add_new(0x61, "LO", patient.patient_id)
    csa = ds.private_block(0x0029, "SIEMENS CSA HEADER", create=True)
    csa.add_new(0x10, "OB", b"SV10\x04\x03\x02\x01" + f"PatientName={person.family}".encode())
    siemens = ds.private_block(0x0019, "SIEMENS MED", create=True)
    siemens.add_new(0x79, "LO", patient.hospital)
    philips = ds.private_block(0x2001, "Philips Imaging DD 001", create=True)
    philips.add_new(0x90, "LO", f"{person.given} {person.family}")
    philips.add_new(0x91, "DA", patient.birth_date.strftime("%Y%m%d"))
    unknown = ds.private_block(0x0071, "MEDVEIL UNKNOWN VENDOR 7", create=True)
    unknown.add_new(0x01, "LO", patient.other_id)
    unknown.add_new(0x02, "UN", f"tel {patient.phone}".encode())
    item = Dataset()
    item_block = item.private_block(0x0071, "MEDVEIL UNKNOWN VENDOR 7", create=True)
    item_block.add_new(0x03, "PN", f"{person.family}^{person.given}")
    unknown.add_new(0x04, "SQ", [item])


def _file_meta(
    ds: FileDataset, study: Study, sop_uid: str, transfer_syntax: str, tokens: _Tokens
) -> None:
    meta = ds.file_meta
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = DicomUID(sop_uid)
    meta.TransferSyntaxUID = DicomUID(transfer_syntax)
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.SourceApplicationEntityTitle = "KESTRELPACS"
    meta.PrivateInformationCreatorUID = DicomUID("1.2.826.0.1.3680043.8.498.1")
    meta.PrivateInformation = f"routed for {study.patient.patient_id}".encode()
    tokens.add(INSTITUTION, "KESTRELPACS")


def _encode_iso2022_ir58(ds: Dataset) -> None:
    """Encode text as ISO 2022 IR 58 bytes by hand (pydicom cannot write this charset)."""
    for elem in _walk_elements(ds):
        if elem.VR in ("PN", "LO", "SH", "ST", "LT", "UT") and isinstance(elem.value, str):
            text = str(elem.value)
            cut = next((i for i, ch in enumerate(text) if ord(ch) > 127), None)
            if cut is not None:
                elem.value = text[:cut].encode("ascii") + _ESC_GB2312 + text[cut:].encode("gb2312")


def _walk_elements(ds: Dataset) -> Iterator[DataElement]:
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                yield from _walk_elements(item)
        else:
            yield elem


# --- corpus ------------------------------------------------------------------------------


def write_file(
    folder: Path, study: Study, base: str, charset: str, rng: random.Random, instance: int = 1
) -> CorpusFile:
    """Write one file under a PHI-bearing path (``Family_Given/MRN/date/IMnnnn.dcm``)."""
    ds, tokens = build_dataset(study, base, charset, rng, instance)
    person = study.patient.person
    relative = Path(
        f"{person.family}_{person.given}",
        study.patient.patient_id,
        study.date.isoformat(),
        f"IM{instance:04d}_{base}.dcm",
    )
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return CorpusFile(
        path=path,
        tokens=tokens,
        patient_id=study.patient.patient_id,
        study_date=study.date,
        base=base,
        study_uid=study.study_uid,
        series_uid=study.series_uid,
    )


def write_corpus(
    folder: Path,
    count: int,
    *,
    seed: int = 0,
    bases: Sequence[str] = ("ct", "us", "mr-j2k"),
    files_per_study: int = 2,
) -> list[CorpusFile]:
    """Write ``count`` files: patients cycle through the roster and each one's charsets.

    Each patient gets two studies on different dates (for date-interval checks),
    and each study ``files_per_study`` images sharing study/series UIDs.
    """
    rng = random.Random(seed)
    files: list[CorpusFile] = []
    instance = 0
    while len(files) < count:
        person = ROSTER[len(files) // (2 * files_per_study) % len(ROSTER)]
        patient = make_patient(rng, person)
        for study in (make_study(rng, patient), make_study(rng, patient)):
            for _ in range(files_per_study):
                if len(files) == count:
                    break
                charset = person.charsets[instance % len(person.charsets)]
                base = bases[instance % len(bases)]
                instance += 1
                files.append(write_file(folder, study, base, charset, rng, instance))
    return files


def all_tokens(files: Sequence[CorpusFile]) -> dict[str, str]:
    """The union of every file's tokens."""
    merged: dict[str, str] = {}
    for corpus_file in files:
        merged.update(corpus_file.tokens)
    return merged
