"""The encrypted image store: sealed blobs on disk plus a metadata index.

Addresses are ``HMAC-SHA256(index key, plaintext)``: stable (the same instance
stored twice is stored once) yet useless to anyone without the keyring, unlike
a plain SHA-256 that would let an outsider test whether a known image is
stored. The address doubles as the envelope object id, so a blob renamed to
another address fails authentication, and ``check``/``get`` re-derive the
address from the decrypted bytes to prove end-to-end integrity.

Every read and write is audited before it happens; if the audit log refuses
the event, the operation does not take place (fail closed).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError as DuplicateRow
from sqlalchemy.orm import Session

from medveil.audit import AuditEvent, AuditLog
from medveil.crypto import DEFAULT_CIPHER, Envelope, KeyDestroyed, Keyring, default_keyring
from medveil.crypto.files import ensure_private_dir
from medveil.errors import IntegrityError, UsageError
from medveil.store.blobs import BlobFiles
from medveil.store.database import default_url, open_index
from medveil.store.metadata import instance_metadata
from medveil.store.schema import StoredObject

DIGEST_PURPOSE = "store-object"


@dataclass
class CheckReport:
    """Outcome of :meth:`ImageStore.check`; ``ok`` is False on any failure."""

    verified: int = 0
    shredded: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (address, reason)
    unindexed_blobs: int = 0
    leftover_temps: int = 0

    @property
    def ok(self) -> bool:
        """True when every indexed object decrypted and matched its address."""
        return not self.failures


@dataclass
class RewrapReport:
    """Outcome of re-wrapping DEKs under the current KEK version."""

    rewrapped: int = 0
    current: int = 0  # already under the current version
    shredded: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (address, reason)


class ImageStore:
    """Put, get, list and verify de-identified instances, encrypted at rest."""

    def __init__(
        self,
        home: Path,
        *,
        audit: AuditLog,
        actor: str,
        url: str | None = None,
        keyring: Keyring | None = None,
        cipher: str = DEFAULT_CIPHER,
    ) -> None:
        self.root = ensure_private_dir(home / "store")
        self.audit = audit
        self.actor = actor
        self.keyring = keyring if keyring is not None else default_keyring(home)
        self.envelope = Envelope(self.keyring, cipher)
        self.blobs = BlobFiles(self.root)
        self.engine: Engine = open_index(url or default_url(self.root))

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()

    # -- writing -----------------------------------------------------------------------------

    def put_file(self, path: Path) -> str:
        """Store a de-identified DICOM file; returns its address once durable."""
        return self.put(path.read_bytes())

    def put(self, data: bytes) -> str:
        """Store de-identified DICOM bytes; returns the address once blob and row are durable."""
        meta = instance_metadata(data)
        address = self.keyring.keyed_digest(DIGEST_PURPOSE, data).hex()
        self._audit("store.write", address, subject=meta.subject or "", bytes=len(data))
        with Session(self.engine) as session:
            if session.get(StoredObject, address) is not None and self.blobs.exists(address):
                # seal() below refuses a shredded patient; refuse a duplicate of one too
                self.keyring.current_ref(meta.subject)
                return address
        sealed = self.envelope.seal(data, object_id=address, subject=meta.subject)
        self.blobs.write(address, sealed)
        row = StoredObject(
            address=address,
            subject=meta.subject,
            study_uid=meta.study_uid,
            series_uid=meta.series_uid,
            sop_uid=meta.sop_uid,
            modality=meta.modality,
            size=len(data),
            sealed_size=len(sealed),
            cipher=self.envelope.cipher.name,
            stored_at=datetime.now(UTC),
        )
        with Session(self.engine) as session:
            session.merge(row)
            try:
                session.commit()
            except DuplicateRow:  # a concurrent writer committed the same content first
                session.rollback()
        return address

    # -- reading -----------------------------------------------------------------------------

    def get(self, address: str) -> memoryview:
        """The plaintext of ``address`` (bytes-like), verified against it; audited first."""
        row = self._row(address)
        self._audit("store.read", address, subject=row.subject or "")
        return self._open(address)

    def ls(self, subject: str | None = None) -> Iterator[StoredObject]:
        """Index rows (metadata only, nothing decrypted), optionally for one subject."""
        query = select(StoredObject).order_by(StoredObject.stored_at, StoredObject.address)
        if subject is not None:
            query = query.where(StoredObject.subject == subject)
        with Session(self.engine) as session:
            yield from session.scalars(query)

    def count(self) -> int:
        """How many objects the index holds."""
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(StoredObject)) or 0

    def check(self) -> CheckReport:
        """Decrypt every indexed blob and prove it matches its address.

        Shredded subjects are counted, not failed: their blobs are unreadable on
        purpose. Unindexed blobs and temp files (left by a crash before the
        commit) are counted too; they are invisible to readers.
        """
        self._audit("store.check", None, objects=self.count())
        report = CheckReport()
        indexed: set[str] = set()
        for row in self.ls():
            indexed.add(row.address)
            try:
                self._open(row.address)
            except KeyDestroyed:
                report.shredded += 1
            except (IntegrityError, ValueError) as exc:
                report.failures.append((row.address, str(exc)))
            else:
                report.verified += 1
        report.unindexed_blobs = sum(1 for a in self.blobs.addresses() if a not in indexed)
        report.leftover_temps = len(self.blobs.leftover_temps())
        return report

    # -- rotation ----------------------------------------------------------------------------

    def rewrap(self) -> RewrapReport:
        """Re-wrap every blob's DEK under the current KEK version (data untouched).

        Walks the blob files themselves, not the index, so nothing sealed under an
        old version is missed (not even a blob a crash left unindexed) whichever
        database the index lives in. Blobs of shredded subjects cannot be re-wrapped
        and need not be; any other failure is reported and must block retiring.
        """
        report = RewrapReport()
        self._audit("store.rewrap", None, kek_version=self.keyring.current_version())
        for address in self.blobs.addresses():
            try:
                rewrapped = self.envelope.rewrap(self.blobs.read(address), object_id=address)
            except KeyDestroyed:
                report.shredded += 1
            except (IntegrityError, ValueError) as exc:
                report.failures.append((address, str(exc)))
            else:
                if rewrapped is None:
                    report.current += 1
                else:
                    self.blobs.write(address, rewrapped)
                    report.rewrapped += 1
        return report

    # -- helpers -----------------------------------------------------------------------------

    def _row(self, address: str) -> StoredObject:
        with Session(self.engine) as session:
            row = session.get(StoredObject, address)
        if row is None:
            raise UsageError(f"no object {address} in the store")
        return row

    def _open(self, address: str) -> memoryview:
        plaintext = self.envelope.open(self.blobs.read(address), object_id=address)
        digest = self.keyring.keyed_digest(DIGEST_PURPOSE, plaintext).hex()
        if not hmac.compare_digest(digest, address):
            raise IntegrityError(f"object {address} does not match its address")
        return plaintext

    def _audit(self, action: str, object_id: str | None, **details: str | int) -> None:
        self.audit.append(
            AuditEvent(actor=self.actor, action=action, object_id=object_id, details=details)
        )
