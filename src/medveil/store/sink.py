"""``StoreSink``: the batch runner's hand-off of de-identified files to the store."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Protocol

from medveil.audit import AuditLog
from medveil.store.store import ImageStore


class _WithOutput(Protocol):
    @property
    def output(self) -> Path | None: ...


class StoreSink:
    """A ``ResultSink`` that stores every written de-identified file, encrypted.

    Outcomes without an output (quarantined, skipped) are ignored; an exception
    (e.g. the audit log refusing the event) aborts the run, fail closed.
    """

    def __init__(self, home: Path, *, url: str | None = None, actor: str | None = None) -> None:
        self.audit = AuditLog.open(home)
        self.store = ImageStore(home, audit=self.audit, actor=actor or getpass.getuser(), url=url)
        self.addresses: list[str] = []

    def accept(self, outcome: _WithOutput) -> None:
        """Store ``outcome.output`` when the runner wrote one."""
        if outcome.output is not None:
            self.addresses.append(self.store.put_file(outcome.output))

    def close(self) -> None:
        """Release the index connection and the audit log."""
        self.store.close()
        self.audit.close()
