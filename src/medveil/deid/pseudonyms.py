"""Keyed, deterministic pseudonyms: UIDs, patient IDs and names, other IDs, date offsets.

Every pseudonym is HMAC-SHA-256 under a sub-key derived from the site secret
(see :mod:`medveil.deid.secret`) for its purpose, so that

* the same key gives the same pseudonym on every run and every machine
  (re-running a batch, or de-identifying a follow-up study, links up);
* a different key gives unrelated pseudonyms (two sites cannot link their
  releases);
* without the key nobody can recompute, or confirm a guess of, an original;
* pseudonyms of different purposes are independent (a patient's ID token
  says nothing about their date offset).

A :class:`~medveil.deid.crosswalk.Crosswalk` is consulted first for patient
IDs and UIDs.

Formats:

``uid``
    ``2.25.<int>`` where the integer is the first 128 bits of the HMAC with the
    RFC 9562 version-8 ("custom") UUID bits set, so it is a valid UUID-derived
    UID (PS3.5 B.2), at most 44 characters. Well-known UIDs (everything in
    pydicom's UID dictionary and under the DICOM root ``1.2.840.10008.``:
    SOP classes, transfer syntaxes, coding schemes...) are returned unchanged:
    they identify standards, not people. Trailing NUL/space padding is
    stripped before hashing, so padded and unpadded spellings agree.
``patient_id``
    ``MV-`` and 16 upper-case hex digits (64 bits: for ten million patients
    the chance of any collision is about 3 in a million).
``patient_name``
    ``MV^<same hex>``: the name visibly belongs to the ID. With a crosswalk
    entry the replacement ID becomes the family name.
``identifier``
    16 base32 characters (80 bits), fits SH; the *kind* (e.g. the attribute
    keyword) separates domains, so an accession number and a study ID with
    the same value get different tokens.
``date_offset_days``
    an integer in ``[-3650, -30]``: dates only move back in time, by one to
    about ten years, never by zero.

Empty values stay empty for ``uid`` and ``identifier``.

    >>> p = Pseudonymizer(bytes(32))
    >>> p.uid("1.2.840.10008.5.1.4.1.1.2")  # CT Image Storage: well known
    '1.2.840.10008.5.1.4.1.1.2'
    >>> p.uid("1.2.3.4") == p.uid("1.2.3.4\\x00")
    True
    >>> p.uid("1.2.3.4").startswith("2.25.")
    True
    >>> p.patient_id("12345678")[:3], len(p.patient_id("12345678"))
    ('MV-', 19)
    >>> p.patient_name("12345678") == "MV^" + p.patient_id("12345678")[3:]
    True
    >>> -3650 <= p.date_offset_days("12345678") <= -30
    True
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pydicom._uid_dict import UID_dictionary

from medveil.deid.crosswalk import Crosswalk

# HL7 OIDs of external coding schemes cited by CodingSchemeUID (PS3.16 Table 8-1).
CODING_SCHEME_UIDS = frozenset(
    {
        "2.16.840.1.113883.6.1",  # LOINC
        "2.16.840.1.113883.6.2",  # ICD-9-CM
        "2.16.840.1.113883.6.3",  # ICD-10
        "2.16.840.1.113883.6.5",  # SNOMED (SRT)
        "2.16.840.1.113883.6.8",  # UCUM
        "2.16.840.1.113883.6.12",  # CPT-4
        "2.16.840.1.113883.6.24",  # MDC (ISO/IEEE 11073)
        "2.16.840.1.113883.6.90",  # ICD-10-CM
        "2.16.840.1.113883.6.96",  # SNOMED CT
        "2.16.840.1.113883.6.256",  # RadLex
    }
)
OFFSET_MIN_DAYS = -3650
OFFSET_MAX_DAYS = -30
PATIENT_PREFIX = "MV"
_CACHE_SIZE = 1 << 16
_PN_DELIMITERS = re.compile(r"[\^=\\]")


def unpadded(value: str) -> str:
    """*value* without DICOM padding (trailing NUL or spaces, leading spaces), so padded
    and unpadded spellings of one value get one pseudonym.

    >>> unpadded(" 1.2.3\\x00"), unpadded("MRN 7 ")
    ('1.2.3', 'MRN 7')
    """
    return value.rstrip("\x00 ").lstrip(" ")


def is_well_known_uid(uid: str) -> bool:
    """UIDs defined by the standard: they identify no person and must not change.

    >>> is_well_known_uid("1.2.840.10008.1.2.1"), is_well_known_uid("1.2.3")
    (True, False)
    >>> is_well_known_uid("1.2.840.10008.5.1.4.1.1.2.19610417.7734921.1")  # not a standard UID
    False
    """
    return uid in UID_dictionary or uid in CODING_SCHEME_UIDS


class Pseudonymizer:
    """Derive every pseudonym of a de-identification run from one secret."""

    def __init__(self, secret: bytes, crosswalk: Crosswalk | None = None) -> None:
        if len(secret) < 16:
            raise ValueError("the pseudonymisation secret must be at least 16 bytes")
        self._secret = secret
        self._crosswalk = crosswalk or Crosswalk()
        self._keys = {
            purpose: hmac.digest(secret, b"medveil/" + purpose.encode(), "sha256")
            for purpose in ("uid", "patient", "identifier", "date-offset")
        }
        # Per-instance caches: the engine asks for the same UIDs many times per study.
        self._uid: Callable[[str], str] = lru_cache(maxsize=_CACHE_SIZE)(self._new_uid)
        self._patient: Callable[[str], str] = lru_cache(maxsize=_CACHE_SIZE)(self._new_patient_id)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as (secret, crosswalk) so worker processes can rebuild it (caches aren't)."""
        return (Pseudonymizer, (self._secret, self._crosswalk))

    def __repr__(self) -> str:
        return f"Pseudonymizer(crosswalk entries={len(self._crosswalk)})"  # never the secret

    def _mac(self, purpose: str, value: str) -> bytes:
        return hmac.digest(self._keys[purpose], value.encode("utf-8"), "sha256")

    def uid(self, original: str) -> str:
        """The replacement of a UID; well-known UIDs and empty values come back unchanged."""
        return self._uid(unpadded(original))

    def _new_uid(self, uid: str) -> str:
        if not uid or is_well_known_uid(uid):
            return uid
        listed = self._crosswalk.uid(uid)
        if listed is not None:
            return listed
        raw = bytearray(self._mac("uid", uid)[:16])
        raw[6] = (raw[6] & 0x0F) | 0x80  # UUID version 8 (RFC 9562 custom)
        raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122/9562 variant
        return f"2.25.{int.from_bytes(raw, 'big')}"

    def patient_id(self, original: str) -> str:
        """The replacement PatientID: the crosswalk's, else ``MV-`` + 16 hex digits."""
        return self._patient(unpadded(original))

    def _new_patient_id(self, patient_id: str) -> str:
        listed = self._crosswalk.patient_id(patient_id)
        if listed is not None:
            return listed
        return f"{PATIENT_PREFIX}-{self._mac('patient', patient_id)[:8].hex().upper()}"

    def patient_name(self, original_patient_id: str) -> str:
        """A PatientName tied to the patient's pseudonymous ID (``MV^<hex>``)."""
        new_id = self.patient_id(original_patient_id)
        prefix = f"{PATIENT_PREFIX}-"
        if new_id.startswith(prefix):
            return f"{PATIENT_PREFIX}^{new_id[len(prefix) :]}"
        return _PN_DELIMITERS.sub("_", new_id)

    def identifier(self, value: str, kind: str) -> str:
        """A 16-character keyed token for an accession number or other ID of type *kind*."""
        value = unpadded(value)
        if not value:
            return ""
        mac = self._mac("identifier", f"{kind}\x00{value}")
        return base64.b32encode(mac[:10]).decode("ascii")

    def date_offset_days(self, original_patient_id: str) -> int:
        """Days to add to every date of this patient: in [-3650, -30], never 0."""
        mac = self._mac("date-offset", unpadded(original_patient_id))
        span = OFFSET_MAX_DAYS - OFFSET_MIN_DAYS + 1
        return OFFSET_MIN_DAYS + int.from_bytes(mac[:8], "big") % span
