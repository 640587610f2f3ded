"""A site-supplied crosswalk: fixed replacements for patient IDs and UIDs.

Studies often need pseudonyms decided elsewhere (a trial's subject IDs, UIDs
already published for an earlier release). The :class:`Pseudonymizer`
consults the crosswalk first and falls back to keyed hashing only for values
the crosswalk does not list.

File format (UTF-8, an Excel BOM is accepted), one header row::

    kind,original,replacement
    patient_id,12345678,TRIAL-001
    uid,1.2.826.0.1.3680043.2.1125.1,2.25.1234

``kind`` is ``patient_id`` or ``uid``. The ``kind`` column may be left out
(header ``original,replacement``): every row is then a patient ID mapping,
the common case. Validation fails closed with a :class:`~medveil.errors.UsageError`
naming the line, never the values (they are identifiers):

* a UID replacement must be a valid UID (digits and dots, no leading zeros,
  at most 64 characters);
* a patient ID replacement must be 1-64 characters without ``\\`` or control
  characters (it is written as LO);
* an original listed twice with different replacements is a conflict;
* two UIDs mapped to the same replacement would merge objects: refused.
  Two patient IDs may share a replacement (one person known under two MRNs).

    >>> cw = Crosswalk(patient_ids={"12345678": "TRIAL-001"})
    >>> cw.patient_id("12345678"), cw.patient_id("other"), cw.uid("1.2.3")
    ('TRIAL-001', None, None)
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from medveil.errors import UsageError

_UID = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*")
_LO_FORBIDDEN = re.compile(r"[\\\x00-\x1f\x7f]")
KINDS = ("patient_id", "uid")


def is_valid_uid(value: str) -> bool:
    """Whether *value* is a syntactically valid DICOM UID (PS3.5 9.1).

    >>> is_valid_uid("2.25.1"), is_valid_uid("1.02.3"), is_valid_uid("1.2.")
    (True, False, False)
    """
    return len(value) <= 64 and _UID.fullmatch(value) is not None


@dataclass(frozen=True)
class Crosswalk:
    """Fixed original -> replacement maps; look-ups return ``None`` when not listed."""

    patient_ids: Mapping[str, str] = field(default_factory=dict)
    uids: Mapping[str, str] = field(default_factory=dict)

    def patient_id(self, original: str) -> str | None:
        """The listed replacement for a patient ID, if any."""
        return self.patient_ids.get(original)

    def uid(self, original: str) -> str | None:
        """The listed replacement for a UID, if any."""
        return self.uids.get(original)

    def __len__(self) -> int:
        return len(self.patient_ids) + len(self.uids)

    @classmethod
    def from_csv(cls, path: Path) -> Crosswalk:
        """Load and validate a crosswalk file (format in the module docstring)."""
        maps: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = {name.strip().lower() for name in reader.fieldnames or ()}
            if not {"original", "replacement"} <= columns:
                raise UsageError(
                    f"crosswalk {path}: header must name columns "
                    "'original' and 'replacement' (and optionally 'kind')"
                )
            for row in reader:
                line = reader.line_num
                cells = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
                kind = cells.get("kind") or "patient_id"
                original, replacement = cells["original"], cells["replacement"]
                _check_row(path, line, kind, original, replacement)
                known = maps[kind].setdefault(original, replacement)
                if known != replacement:
                    raise UsageError(
                        f"crosswalk {path}, line {line}: {kind} listed twice "
                        "with different replacements"
                    )
        _check_uids_injective(path, maps["uid"])
        return cls(patient_ids=maps["patient_id"], uids=maps["uid"])


def _check_row(path: Path, line: int, kind: str, original: str, replacement: str) -> None:
    """Raise UsageError when one row is unusable; messages never quote the values."""
    where = f"crosswalk {path}, line {line}"
    if kind not in KINDS:
        raise UsageError(f"{where}: kind must be one of {', '.join(KINDS)}")
    if not original or not replacement:
        raise UsageError(f"{where}: original and replacement must both be given")
    if kind == "uid" and not is_valid_uid(replacement):
        raise UsageError(f"{where}: replacement is not a valid UID")
    if kind == "patient_id" and (len(replacement) > 64 or _LO_FORBIDDEN.search(replacement)):
        raise UsageError(f"{where}: replacement patient ID must be 1-64 printable characters")


def _check_uids_injective(path: Path, uids: Mapping[str, str]) -> None:
    """Two originals sharing one new UID would merge distinct objects."""
    if len(set(uids.values())) != len(uids):
        raise UsageError(f"crosswalk {path}: two different UIDs map to the same replacement")
