"""Audit events: validation and the canonical JSON leaf encoding."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from medveil.audit import AuditError, AuditEvent
from medveil.audit.event import decode_leaf, encode_leaf, utc_timestamp

TIME = "2026-01-02T03:04:05.000006Z"


def test_leaf_is_sorted_compact_utf8_json() -> None:
    event = AuditEvent(
        actor="dr.müller",
        action="vault.read",
        object_id="MV-3F9A0C2B71",
        decision="deny",
        purpose="research",
        reason="no consent",
        details={"z": 1, "a": "x"},
    )
    leaf = encode_leaf(event, TIME)
    assert (
        leaf
        == (
            '{"action":"vault.read","actor":"dr.müller","decision":"deny",'
            '"details":{"a":"x","z":1},"object_id":"MV-3F9A0C2B71","purpose":"research",'
            f'"reason":"no consent","time":"{TIME}","v":1}}'
        ).encode()
    )
    assert decode_leaf(7, leaf).event == event


def test_timestamp_is_utc_with_microseconds() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert utc_timestamp(moment) == TIME


@pytest.mark.parametrize(
    "kwargs",
    [
        {"actor": "", "action": "a"},
        {"actor": "u", "action": ""},
        {"actor": "u", "action": "a", "decision": "maybe"},
        {"actor": "u", "action": "a", "details": {"ratio": 0.5}},
        {"actor": "u", "action": "a", "details": {1: "x"}},
        {"actor": "u", "action": "a", "object_id": 5},
    ],
)
def test_invalid_events_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(AuditError):
        AuditEvent(**kwargs)  # type: ignore[arg-type]


def test_unencodable_text_is_refused() -> None:
    with pytest.raises(AuditError):
        encode_leaf(AuditEvent(actor="u", action="a", reason="\ud800"), TIME)


@pytest.mark.parametrize(
    "edit",
    [
        lambda record: json.dumps(record, sort_keys=True).encode(),  # whitespace added
        lambda record: json.dumps(record, separators=(",", ":")).encode()[::-1],  # not JSON
        lambda record: json.dumps({**record, "extra": 1}, sort_keys=True, separators=(",", ":")),
        lambda record: json.dumps({**record, "v": 2}, sort_keys=True, separators=(",", ":")),
        lambda record: json.dumps(
            {**record, "details": {"n": 1.5}}, sort_keys=True, separators=(",", ":")
        ),
    ],
)
def test_non_canonical_or_foreign_leaves_are_rejected(edit: object) -> None:
    leaf = encode_leaf(AuditEvent(actor="u", action="a"), TIME)
    edited = edit(json.loads(leaf))  # type: ignore[operator]
    with pytest.raises(AuditError):
        decode_leaf(0, edited if isinstance(edited, bytes) else edited.encode())
