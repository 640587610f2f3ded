"""``VaultSink``: the batch runner's hand-off of identity records to the vault."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import ClassVar, Protocol

from medveil.audit import AuditLog
from medveil.deid.identity import IdentityRecord
from medveil.vault.vault import IdentityVault


class _WithIdentity(Protocol):
    @property
    def identity(self) -> IdentityRecord | None: ...


class VaultSink:
    """A ``ResultSink`` that seals each outcome's identity record into the vault.

    ``wants_identity`` tells the runner to attach identity records at all; a
    run without a vault sink never carries the original header between
    processes. Outcomes without a record (quarantined, skipped) are ignored.
    """

    wants_identity: ClassVar[bool] = True

    def __init__(self, vault_path: Path, home: Path, *, actor: str | None = None) -> None:
        self.audit = AuditLog.open(home)
        self.vault = IdentityVault(
            vault_path, home=home, audit=self.audit, actor=actor or getpass.getuser()
        )
        self.entries = 0

    def accept(self, outcome: _WithIdentity) -> None:
        """Seal ``outcome.identity`` (if any); an exception aborts the run (fail closed)."""
        if outcome.identity is not None:
            self.vault.add(outcome.identity)
            self.entries += 1

    def close(self) -> None:
        """Close the vault and the audit log."""
        self.vault.close()
        self.audit.close()
