"""How an identity record is serialised inside a sealed vault entry, and read back.

The plaintext is a small JSON document (format version 1) holding the original
header (Part-10 bytes, base64), the UID map and the date offset. The pseudonym
itself is not inside: it is the key the entry is found and encrypted under.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from io import BytesIO

from pydicom import dcmread

from medveil.deid.identity import IdentityRecord
from medveil.errors import IntegrityError

FORMAT = 1

# The attributes ``reidentify`` reports: the ones a clinician needs to find the
# patient and study again. Everything else stays in the stored header.
IDENTITY_KEYWORDS = (
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "OtherPatientIDs",
    "PatientBirthDate",
    "PatientSex",
    "AccessionNumber",
    "StudyID",
    "StudyDate",
    "StudyTime",
    "StudyDescription",
    "InstitutionName",
    "ReferringPhysicianName",
)


@dataclass(frozen=True)
class StoredIdentity:
    """One decrypted vault entry."""

    original_header: bytes
    uid_map: dict[str, str]
    date_offset_days: int | None

    def attributes(self) -> dict[str, str]:
        """The identifying attributes of :data:`IDENTITY_KEYWORDS` present in the header."""
        ds = dcmread(BytesIO(self.original_header), force=True, stop_before_pixels=True)
        found: dict[str, str] = {}
        for keyword in IDENTITY_KEYWORDS:
            value = ds.get(keyword)
            if value not in (None, ""):
                found[keyword] = str(value)
        return found


def encode(record: IdentityRecord) -> bytes:
    """The JSON plaintext that gets sealed for ``record``."""
    document = {
        "v": FORMAT,
        "original_header": base64.b64encode(record.original_header).decode("ascii"),
        "uid_map": dict(record.uid_map),
        "date_offset_days": record.date_offset_days,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def decode(plaintext: bytes) -> StoredIdentity:
    """Parse a decrypted entry; IntegrityError for an unknown format."""
    try:
        document = json.loads(plaintext)
        if document.get("v") != FORMAT:
            raise ValueError(f"vault entry format {document.get('v')!r}")
        return StoredIdentity(
            original_header=base64.b64decode(document["original_header"]),
            uid_map={str(k): str(v) for k, v in document["uid_map"].items()},
            date_offset_days=document["date_offset_days"],
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IntegrityError(f"unreadable vault entry: {exc}") from None
