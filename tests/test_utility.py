"""What de-identification must leave useful: over-scrubs found by a session-4 audit of every
sample file (pydicom's test files, pydicom-data, deid-data), each fixed and kept fixed here.

Each case keeps a value that names no one; a twin case checks the same machinery still
removes the PHI it was built for.
"""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from medveil.deid.engine import deidentify
from medveil.deid.policy import Policy

SECRET = bytes(range(32))


def patient(**extra: object) -> Dataset:
    ds = Dataset()
    ds.PatientName = "Quillfeather^Ottoline"
    ds.PatientID = "MRN88771234"
    ds.Modality = "US"
    for keyword, value in extra.items():
        setattr(ds, keyword, value)
    return ds


def research(ds: Dataset) -> Dataset:
    return deidentify(ds, Policy.preset_named("research"), secret=SECRET)


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("SoftwareVersions", "EPIQ 7C_1.7.1.24"),
        ("SoftwareVersions", "DICOMLib Ver02.00.00[20010925]"),
        ("SoftwareVersions", "2.6.3.6"),
        ("ManufacturerModelName", "https://github.com/fedorov/dcmqi.git"),
    ],
)
def test_product_versions_build_dates_and_urls_stay(keyword: str, value: str) -> None:
    out = research(patient(**{keyword: value}))
    assert str(out.get(keyword, "")) == value


def test_a_product_descriptor_naming_the_patient_is_still_cleaned() -> None:
    out = research(patient(SoftwareVersions="Quillfeather build 2"))
    assert "Quillfeather" not in str(out.get("SoftwareVersions", ""))


@pytest.mark.parametrize(("age", "kept"), [("75Y", "075Y"), ("6M", "006M"), ("95Y", "090Y")])
def test_ages_written_loosely_are_padded_not_dropped(age: str, kept: str) -> None:
    assert research(patient(PatientAge=age)).PatientAge == kept


def test_contrast_agent_and_concentration_stay() -> None:
    assert research(patient(ContrastBolusAgent="ISOVUE300/100")).ContrastBolusAgent == (
        "ISOVUE300/100"
    )


def test_kinds_of_things_keep_their_uids() -> None:
    """A vendor's SOP class and a coding scheme are types, not instances; an instance UID
    quoted in text is still replaced."""
    source = Dataset()
    source.ReferencedSOPClassUID = "1.3.12.2.1107.5.9.1"  # Siemens CSA Non-Image
    source.ReferencedSOPInstanceUID = "1.3.12.2.1107.5.9.1.99.1"
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "121071", "99X", "Finding"
    code.CodingSchemeUID = "1.2.276.0.7230010.3.0.0.1"
    ds = patient(SourceImageSequence=Sequence([source]), ConceptNameCodeSequence=Sequence([code]))
    ds.ImageComments = "see 1.3.12.2.1107.5.9.1.99.1"
    out = research(ds)
    assert out.SourceImageSequence[0].ReferencedSOPClassUID == "1.3.12.2.1107.5.9.1"
    assert out.SourceImageSequence[0].ReferencedSOPInstanceUID != "1.3.12.2.1107.5.9.1.99.1"
    assert out.ConceptNameCodeSequence[0].CodingSchemeUID == "1.2.276.0.7230010.3.0.0.1"
    assert "1.3.12.2.1107.5.9.1.99.1" not in str(out.get("ImageComments", ""))


def test_a_placeholder_birth_date_equal_to_the_dummy_is_not_a_leak() -> None:
    """Basic gives ContentDate the dummy 19000101; a birth date of 19000101 (a placeholder)
    made the gate refuse the engine's own dummy."""
    ds = patient(PatientBirthDate="19000101", ContentDate="20200102")
    out = deidentify(ds, Policy.preset_named("basic"), secret=SECRET)
    assert out.ContentDate == "19000101"
