"""``AuditSink``: every de-identification run and every file outcome goes to the audit log.

The log must never hold PHI, so an event names only what the run produced:
in the ``study`` layout the output path relative to ``--out`` (built from
pseudonyms and new UIDs), in the ``mirror`` layout a SHA-256 of that path
(mirror paths repeat input names). Quarantine reasons are reduced to the
exception type, because a message may quote an original value.

Fail closed: the run-start event is appended before any file is processed,
so a broken audit log stops the run before it writes anything; later events
are appended in durable batches and any failure aborts the run.
"""

from __future__ import annotations

import getpass
import hashlib
import os
from collections import Counter
from pathlib import Path

from medveil.audit import AuditEvent, AuditLog
from medveil.batch.layout import Layout
from medveil.batch.outcome import FileOutcome, Status

#: Outcomes buffered before one durable ``append_many``.
BATCH_SIZE = 64


class AuditSink:
    """A ``ResultSink`` that records the run and each file's fate in the audit log."""

    def __init__(
        self,
        home: Path,
        *,
        out: Path,
        layout: Layout,
        run: dict[str, object],
        actor: str | None = None,
    ) -> None:
        self.log = AuditLog.open(home)
        self.out = out
        self.layout = layout
        self.actor = actor or getpass.getuser()
        self.counts: Counter[str] = Counter()
        self._pending: list[AuditEvent] = []
        self.log.append(
            AuditEvent(
                actor=self.actor,
                action="deid.run.start",
                purpose="de-identification",
                details=_flat(run),
            )
        )

    def accept(self, outcome: FileOutcome) -> None:
        """Buffer one event for ``outcome``; flush every :data:`BATCH_SIZE` events."""
        self.counts[outcome.status.value] += 1
        details: dict[str, str | int] = {"status": outcome.status.value}
        if outcome.status is Status.QUARANTINED and outcome.reason:
            details["reason"] = outcome.reason.split(":", 1)[0]
        self._pending.append(
            AuditEvent(
                actor=self.actor,
                action="deid.file",
                object_id=self._object_id(outcome),
                purpose="de-identification",
                details=details,
            )
        )
        if len(self._pending) >= BATCH_SIZE:
            self._flush()

    def close(self) -> None:
        """Flush the remaining events, record the run's counts and sign a checkpoint.

        The checkpoint anchors this run in the log: anyone holding it can later
        prove that none of the run's events was edited or dropped.
        """
        try:
            self._pending.append(
                AuditEvent(
                    actor=self.actor,
                    action="deid.run.end",
                    purpose="de-identification",
                    details=dict(self.counts),
                )
            )
            self._flush()
            self.log.checkpoint()
        finally:
            self.log.close()

    def _flush(self) -> None:
        if self._pending:
            self.log.append_many(self._pending)
            self._pending = []

    def _object_id(self, outcome: FileOutcome) -> str | None:
        if outcome.output is None:
            return None
        relative = outcome.output.relative_to(self.out).as_posix()
        if self.layout is Layout.STUDY:
            return relative
        # os.fsencode: a mirrored name need not be valid UTF-8 (its bytes are hashed)
        return "path-sha256:" + hashlib.sha256(os.fsencode(relative)).hexdigest()


def _flat(run: dict[str, object]) -> dict[str, str | int]:
    """Audit details hold strings and integers only; no paths (they may name patients)."""
    flat: dict[str, str | int] = {}
    for key, value in run.items():
        if key in {"out", "quarantine", "review"}:
            flat[key] = "set" if value else "unset"
        elif isinstance(value, bool):
            flat[key] = int(value)
        elif isinstance(value, int | str):
            flat[key] = value
        elif isinstance(value, list):
            flat[key] = ",".join(str(v) for v in value)
    return flat
