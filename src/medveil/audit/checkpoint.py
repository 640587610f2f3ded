"""Signed checkpoints (https://c2sp.org/tlog-checkpoint) and witness cosigning.

A checkpoint commits to the whole log at one size: its body is the origin line
(the log's name, equal to its key name), the tree size in decimal and the
base64 root hash, each on its own line, then the signed-note signatures. A
verifier that keeps an earlier checkpoint can later demand a consistency proof
to the current one, so the operator cannot rewrite history without being
caught; witnesses make that check on behalf of others and add their own
signature to checkpoints that pass it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from medveil.audit.errors import AuditIntegrityError
from medveil.audit.merkle import HASH_SIZE
from medveil.audit.note import Signer, Verifier, add_signature, open_note, sign_note

_SIZE = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Checkpoint:
    """The log's state at one size: what a signed checkpoint commits to."""

    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        """The checkpoint note body (three lines, each ending in a newline)."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    def sign(self, signer: Signer) -> str:
        """The signed note of this checkpoint."""
        return sign_note(self.body(), [signer])

    @classmethod
    def parse_body(cls, body: str) -> Checkpoint:
        """Parse a checkpoint body; extension lines after the root are ignored."""
        lines = body.split("\n")
        if len(lines) < 4 or not lines[0]:
            raise AuditIntegrityError("malformed checkpoint: needs origin, size and root lines")
        if not _SIZE.fullmatch(lines[1]):
            raise AuditIntegrityError("malformed checkpoint: bad tree size")
        try:
            root = base64.b64decode(lines[2], validate=True)
        except binascii.Error as exc:
            raise AuditIntegrityError("malformed checkpoint: root is not base64") from exc
        if len(root) != HASH_SIZE:
            raise AuditIntegrityError("malformed checkpoint: root is not a SHA-256 hash")
        return cls(origin=lines[0], size=int(lines[1]), root=root)


def open_checkpoint(
    text: str,
    log_key: Verifier,
    witnesses: Sequence[Verifier] = (),
    threshold: int = 0,
) -> Checkpoint:
    """Verify a signed checkpoint and return what it commits to.

    It must carry a valid signature of ``log_key`` (whose name must be the
    origin) and valid signatures of at least ``threshold`` distinct keys among
    ``witnesses``. Raises :class:`AuditIntegrityError` otherwise.
    """
    note = open_note(text, [log_key, *witnesses])
    if log_key not in note.verified:
        raise AuditIntegrityError(f"checkpoint is not signed by the log key {log_key.name!r}")
    checkpoint = Checkpoint.parse_body(note.body)
    if checkpoint.origin != log_key.name:
        raise AuditIntegrityError(
            f"checkpoint origin {checkpoint.origin!r} is not the log {log_key.name!r}"
        )
    cosigners = sum(1 for w in set(witnesses) if w in note.verified and w != log_key)
    if cosigners < threshold:
        raise AuditIntegrityError(
            f"checkpoint has {cosigners} valid witness signatures, {threshold} required"
        )
    return checkpoint


def cosign(text: str, witness: Signer, log_key: Verifier) -> str:
    """A witness's cosignature: check the log signature, then add the witness's own.

    A real witness also checks consistency with the last checkpoint it cosigned
    (see :meth:`medveil.audit.log.AuditLog.consistency_proof`) before calling this.
    """
    open_checkpoint(text, log_key)
    return add_signature(text, witness)
