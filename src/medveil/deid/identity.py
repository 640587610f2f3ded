"""The identity record: what the vault needs to re-identify a de-identified file.

It pairs the patient's pseudonym with the original header (Part-10 bytes,
pixel data left out: the vault keeps identities, not images), the UID map and
the date offset. It is built only when a vault is configured, since
serialising the header costs time the plain batch does not need to spend.

    >>> from pydicom import Dataset
    >>> ds = Dataset()
    >>> ds.PatientID, ds.PixelData = "12345678", b"\\x00" * 4
    >>> record = identity_record(ds, "MV-0011", {"1.2.3": "2.25.9"}, -400)
    >>> from pydicom import dcmread
    >>> from io import BytesIO
    >>> header = dcmread(BytesIO(record.original_header))
    >>> header.PatientID, "PixelData" in header
    ('12345678', False)
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from io import BytesIO

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.uid import ExplicitVRLittleEndian

PIXEL_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})


@dataclass(frozen=True)
class IdentityRecord:
    """One de-identified dataset's link back to its original identity (vault input)."""

    patient_pseudonym: str
    original_header: bytes
    uid_map: dict[str, str]
    date_offset_days: int | None


def identity_record(
    original: Dataset, patient_pseudonym: str, uid_map: dict[str, str], offset: int | None
) -> IdentityRecord:
    """Build the record from the original dataset (which is not modified)."""
    return IdentityRecord(
        patient_pseudonym=patient_pseudonym,
        original_header=header_bytes(original),
        uid_map=dict(uid_map),
        date_offset_days=offset,
    )


def header_bytes(ds: Dataset) -> bytes:
    """Part-10 bytes of ``ds`` without its pixel data, in the original transfer syntax.

    A dataset without file meta (built in memory) is written as explicit VR
    little endian.
    """
    header = Dataset()
    for tag in list(ds.keys()):
        if int(tag) not in PIXEL_TAGS:
            header[tag] = ds.get_item(tag)
    meta = FileMetaDataset()
    source_meta = getattr(ds, "file_meta", None)
    if isinstance(source_meta, Dataset):
        for elem in source_meta:
            meta.add(copy.deepcopy(elem))  # the writer may update group lengths in place
    if "TransferSyntaxUID" not in meta:
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
    header.file_meta = meta
    header.preamble = b"\x00" * 128
    implicit, little = ds.original_encoding
    header.set_original_encoding(implicit, little, ds.original_character_set)
    buffer = BytesIO()
    dcmwrite(buffer, header, enforce_file_format=False)
    return buffer.getvalue()
