"""Read the de-identified metadata the index keeps, and refuse identified files.

The store is the place de-identified images go; a file whose header does not
say ``PatientIdentityRemoved = YES`` (set by the header engine, PS3.15 E.1) is
refused so that an identified image cannot slip into it by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from pydicom import dcmread
from pydicom.errors import InvalidDicomError

from medveil.errors import UsageError


@dataclass(frozen=True)
class InstanceMetadata:
    """What the index stores about one instance (all pseudonymised already)."""

    subject: str | None
    study_uid: str | None
    series_uid: str | None
    sop_uid: str | None
    modality: str | None


def instance_metadata(data: bytes) -> InstanceMetadata:
    """Parse a Part-10 file's header; UsageError if it is not a de-identified DICOM file."""
    try:
        ds = dcmread(BytesIO(data), stop_before_pixels=True)
    except (InvalidDicomError, EOFError, ValueError) as exc:
        raise UsageError(f"not a DICOM Part-10 file: {exc}") from None
    if str(ds.get("PatientIdentityRemoved", "")).upper() != "YES":
        raise UsageError("refusing to store a file not marked PatientIdentityRemoved=YES")

    def text(keyword: str) -> str | None:
        value = ds.get(keyword)
        return str(value) if value not in (None, "") else None

    return InstanceMetadata(
        subject=text("PatientID"),
        study_uid=text("StudyInstanceUID"),
        series_uid=text("SeriesInstanceUID"),
        sop_uid=text("SOPInstanceUID"),
        modality=text("Modality"),
    )
