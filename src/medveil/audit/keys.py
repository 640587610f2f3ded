"""The log's Ed25519 signing key, kept in the data directory with mode 0600.

The key name doubles as the checkpoint origin. It is generated once per home
as ``medveil.invalid/audit/<random hex>``: unique, so checkpoints of two
installations can never be confused, and under the reserved ``.invalid`` domain
because the log is not served at a URL.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from medveil.audit.errors import AuditError
from medveil.audit.files import write_durably
from medveil.audit.note import Signer

KEY_FILE = "log.key"


def load_signer(audit_dir: Path, *, create: bool) -> Signer:
    """The log signing key under ``audit_dir``, created first if ``create`` is set.

    Verification passes ``create=False``: a missing key must be reported, not
    silently replaced by a new one.
    """
    path = audit_dir / KEY_FILE
    if not path.exists():
        if not create:
            raise AuditError(f"the audit log has no signing key ({path}); nothing was checkpointed")
        signer = Signer.generate(f"medveil.invalid/audit/{secrets.token_hex(8)}")
        write_durably(path, (signer.encode() + "\n").encode(), mode=0o600, replace=False)
    try:
        if path.stat().st_mode & 0o077:
            raise AuditError(f"audit signing key {path} is readable by others; chmod 600 it")
        return Signer.parse(path.read_text())
    except OSError as exc:
        raise AuditError(f"cannot read audit signing key {path}: {exc}") from exc
