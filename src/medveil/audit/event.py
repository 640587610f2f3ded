"""Audit events and their canonical leaf encoding.

A leaf of the Merkle log is the canonical JSON of one event (plus the UTC time
the log assigned and a format version). Canonical means: object keys sorted,
no insignificant whitespace, UTF-8, non-ASCII characters written literally,
integers written exactly, no floats. The same event therefore always yields the
same bytes, so ``audit verify`` can re-encode a stored event and detect any edit
of its stored bytes, including a semantically equal but re-serialised one.
This is RFC 8785 for the value types events may hold (strings, integers, null,
booleans), except that keys are sorted by code point instead of UTF-16 units,
which differs only for keys containing characters outside the BMP.

Events must never contain PHI: they name actors, pseudonyms and object ids,
never patient names, original IDs or free text taken from a dataset.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from medveil.audit.errors import AuditError

LEAF_VERSION = 1
DECISIONS = frozenset({"allow", "deny"})
_FIELDS = ("actor", "action", "object_id", "decision", "purpose", "reason", "details")


@dataclass(frozen=True)
class AuditEvent:
    """One audited action; the log adds the time when it is appended."""

    actor: str
    action: str
    object_id: str | None = None
    decision: str = "allow"  # "allow" | "deny"
    purpose: str = ""
    reason: str = ""
    details: Mapping[str, str | int] = field(default_factory=dict)  # never PHI

    def __post_init__(self) -> None:
        # Validate eagerly: an event that cannot be encoded must fail before the
        # guarded operation runs, not when the log is verified years later.
        if not isinstance(self.actor, str) or not self.actor:
            raise AuditError("audit event needs a non-empty actor")
        if not isinstance(self.action, str) or not self.action:
            raise AuditError("audit event needs a non-empty action")
        if self.object_id is not None and not isinstance(self.object_id, str):
            raise AuditError("audit event object_id must be a string or None")
        if self.decision not in DECISIONS:
            raise AuditError(f"audit decision must be 'allow' or 'deny', not {self.decision!r}")
        if not isinstance(self.purpose, str) or not isinstance(self.reason, str):
            raise AuditError("audit event purpose and reason must be strings")
        for key, value in self.details.items():
            if not isinstance(key, str) or not isinstance(value, str | int):
                raise AuditError(f"audit detail {key!r} must map a string to a string or int")


@dataclass(frozen=True)
class LoggedEvent:
    """An event as stored in the log: its index, assigned time and leaf bytes."""

    index: int
    time: str
    event: AuditEvent
    leaf: bytes


def utc_timestamp(now: datetime | None = None) -> str:
    """RFC 3339 UTC time with microseconds, e.g. ``2026-01-02T03:04:05.000006Z``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes of ``value`` (sorted keys, compact, UTF-8)."""
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        return text.encode("utf-8")
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        raise AuditError(f"audit event cannot be encoded as canonical JSON: {exc}") from exc


def encode_leaf(event: AuditEvent, time: str) -> bytes:
    """The leaf bytes for ``event`` logged at ``time``."""
    record: dict[str, Any] = {name: getattr(event, name) for name in _FIELDS}
    record["details"] = dict(event.details)
    record["time"] = time
    record["v"] = LEAF_VERSION
    return canonical_json(record)


def decode_leaf(index: int, leaf: bytes) -> LoggedEvent:
    """Parse stored leaf bytes; raise :class:`AuditError` unless they are canonical.

    Re-encoding and comparing means a stored leaf that parses but is not byte-for-byte
    what the log would have written (extra keys, reordered keys, whitespace) is
    rejected rather than silently accepted.
    """
    try:
        record = json.loads(leaf.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise AuditError(f"entry {index} is not valid JSON: {exc}") from exc
    if not isinstance(record, dict) or set(record) != {*_FIELDS, "time", "v"}:
        raise AuditError(f"entry {index} does not have the audit event fields")
    if record["v"] != LEAF_VERSION or not isinstance(record["time"], str):
        raise AuditError(f"entry {index} has an unknown version or a bad time")
    if not isinstance(record["details"], dict):
        raise AuditError(f"entry {index} has details that are not an object")
    event = AuditEvent(**{name: record[name] for name in _FIELDS})
    if encode_leaf(event, record["time"]) != leaf:
        raise AuditError(f"entry {index} is not in canonical form")
    return LoggedEvent(index=index, time=record["time"], event=event, leaf=leaf)
