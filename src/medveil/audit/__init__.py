"""medveil.audit: a tamper-evident audit log (RFC 9162 Merkle tree, signed checkpoints).

Callers only need::

    from medveil.audit import AuditEvent, AuditLog, AuditError

    log = AuditLog.open(home)
    log.append(AuditEvent(actor="alice", action="vault.read", object_id="MV-3F9A0C2B71",
                          purpose="research", details={"files": 3}))

``append`` returns once the event is on disk and raises :class:`AuditError`
otherwise; the caller must then refuse the operation. Events never carry PHI.
See docs/audit.md for the leaf format, checkpoints, proofs and ``audit verify``.
"""

from __future__ import annotations

from medveil.audit.checkpoint import Checkpoint, cosign, open_checkpoint
from medveil.audit.errors import AuditError, AuditIntegrityError
from medveil.audit.event import AuditEvent, LoggedEvent
from medveil.audit.group import GroupCommitter
from medveil.audit.log import AuditLog
from medveil.audit.note import Signer, Verifier
from medveil.audit.verify import VerifyReport, verify_log

__all__ = [
    "AuditError",
    "AuditEvent",
    "AuditIntegrityError",
    "AuditLog",
    "Checkpoint",
    "GroupCommitter",
    "LoggedEvent",
    "Signer",
    "Verifier",
    "VerifyReport",
    "cosign",
    "open_checkpoint",
    "verify_log",
]
