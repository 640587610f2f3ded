"""The identity vault: pseudonym -> encrypted original identifying attributes.

Each identity record becomes one entry sealed under the patient's subject key
(so ``keys shred`` destroys it with the patient's images) and indexed by a
keyed digest of the pseudonym. Writing an entry and every re-identification,
allowed or denied, is audited first; an audit failure refuses the operation.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from medveil.audit import AuditEvent, AuditLog
from medveil.crypto import DEFAULT_CIPHER, Envelope, KeyDestroyed, Keyring, default_keyring
from medveil.deid.identity import IdentityRecord
from medveil.errors import AccessDenied, UsageError
from medveil.vault import operators, records
from medveil.vault.database import connect
from medveil.vault.records import StoredIdentity

INDEX_PURPOSE = "vault-index"


def default_vault_path(home: Path) -> Path:
    """Where the vault lives unless ``--vault`` says otherwise."""
    return home / "vault.db"


@dataclass
class Reidentification:
    """What an authorised operator gets back for one pseudonym."""

    pseudonym: str
    entries: list[StoredIdentity] = field(default_factory=list)

    def identity(self) -> dict[str, str | list[str]]:
        """Each identifying attribute found: its value, or all values when entries differ."""
        attributes: dict[str, list[str]] = {}
        for entry in self.entries:
            for keyword, value in entry.attributes().items():
                values = attributes.setdefault(keyword, [])
                if value not in values:
                    values.append(value)
        return {k: v[0] if len(v) == 1 else v for k, v in attributes.items()}

    def as_dict(self) -> dict[str, object]:
        """JSON-ready summary: identity, every date offset used and the merged UID map."""
        uid_map: dict[str, str] = {}
        for entry in self.entries:
            uid_map.update(entry.uid_map)
        offsets = {e.date_offset_days for e in self.entries if e.date_offset_days is not None}
        return {
            "pseudonym": self.pseudonym,
            "records": len(self.entries),
            "identity": self.identity(),
            "date_offset_days": sorted(offsets),
            "uid_map": uid_map,
        }


class IdentityVault:
    """Sealed identity entries in an SQLite file, keys from the home's keyring."""

    def __init__(
        self,
        path: Path,
        *,
        home: Path,
        audit: AuditLog,
        actor: str,
        keyring: Keyring | None = None,
        cipher: str = DEFAULT_CIPHER,
    ) -> None:
        self.audit = audit
        self.actor = actor
        self.keyring = keyring if keyring is not None else default_keyring(home)
        self.envelope = Envelope(self.keyring, cipher)
        self.conn = connect(path)

    def close(self) -> None:
        """Close the database."""
        self.conn.close()

    # -- writing -----------------------------------------------------------------------------

    def add(self, record: IdentityRecord) -> str:
        """Seal and store one identity record; returns the new entry id."""
        pseudonym = record.patient_pseudonym
        if not pseudonym:
            raise UsageError("an identity record needs a patient pseudonym")
        entry_id = secrets.token_hex(16)
        self._audit("vault.write", pseudonym, entry=entry_id)
        sealed = self.envelope.seal(
            records.encode(record), object_id=_object_id(entry_id), subject=pseudonym
        )
        with self.conn:
            self.conn.execute(
                "INSERT INTO entries(id, subject_index, sealed) VALUES (?, ?, ?)",
                (entry_id, self._index(pseudonym), sealed),
            )
        return entry_id

    # -- operators ---------------------------------------------------------------------------

    def add_operator(self, name: str, password: str) -> None:
        """Register an operator who may re-identify (audited)."""
        self._audit("vault.operator.add", name)
        operators.add_operator(self.conn, name, password)

    def remove_operator(self, name: str) -> bool:
        """Remove an operator (audited); True if it existed."""
        self._audit("vault.operator.remove", name)
        return operators.remove_operator(self.conn, name)

    def operator_names(self) -> list[str]:
        """Registered operators."""
        return operators.operator_names(self.conn)

    # -- re-identification -------------------------------------------------------------------

    def reidentify(
        self, pseudonym: str, *, operator: str, password: str, reason: str
    ) -> Reidentification:
        """The original identity behind ``pseudonym``, for an authorised operator only.

        Denials are audited (decision "deny") before AccessDenied is raised; an
        allowed request is audited before anything is decrypted. The event names
        the operator and the pseudonym, never what was revealed.
        """
        event = AuditEvent(
            actor=operator or "unknown",
            action="vault.reidentify",
            object_id=pseudonym,
            reason=reason,
            purpose="re-identification",
        )
        if not reason.strip():
            self._deny(event, "a reason is required")
        if not operators.verify_operator(self.conn, operator, password):
            self._deny(event, "bad operator credentials")
        self.audit.append(event)
        result = Reidentification(pseudonym)
        for entry_id, sealed in self._entries(pseudonym):
            plaintext = self.envelope.open(sealed, object_id=_object_id(entry_id))
            result.entries.append(records.decode(bytes(plaintext)))
        if not result.entries:
            raise UsageError(f"the vault has no entry for {pseudonym}")
        return result

    def _deny(self, event: AuditEvent, why: str) -> NoReturn:
        self.audit.append(dataclasses.replace(event, decision="deny", details={"why": why}))
        raise AccessDenied(f"re-identification denied: {why}")

    # -- maintenance -------------------------------------------------------------------------

    def entry_count(self, pseudonym: str | None = None) -> int:
        """Entries in the vault (for one pseudonym, when given)."""
        if pseudonym is None:
            return int(self.conn.execute("SELECT count(*) FROM entries").fetchone()[0])
        return len(self._entries(pseudonym))

    def rewrap(self) -> tuple[int, int]:
        """Re-wrap every entry's DEK under the current KEK; (rewrapped, shredded) counts.

        Raises IntegrityError for an entry that cannot be opened for another reason,
        which stops a rotation before older KEK versions are retired.
        """
        self._audit("vault.rewrap", None, kek_version=self.keyring.current_version())
        rewrapped = shredded = 0
        for entry_id, sealed in self.conn.execute("SELECT id, sealed FROM entries").fetchall():
            try:
                new = self.envelope.rewrap(sealed, object_id=_object_id(entry_id))
            except KeyDestroyed:
                shredded += 1
                continue
            if new is not None:
                with self.conn:
                    self.conn.execute("UPDATE entries SET sealed = ? WHERE id = ?", (new, entry_id))
                rewrapped += 1
        return rewrapped, shredded

    def _entries(self, pseudonym: str) -> list[tuple[str, bytes]]:
        rows = self.conn.execute(
            "SELECT id, sealed FROM entries WHERE subject_index = ? ORDER BY rowid",
            (self._index(pseudonym),),
        )
        return [(str(entry_id), bytes(sealed)) for entry_id, sealed in rows]

    def _index(self, pseudonym: str) -> bytes:
        return self.keyring.keyed_digest(INDEX_PURPOSE, pseudonym.encode())

    def _audit(self, action: str, object_id: str | None, **details: str | int) -> None:
        self.audit.append(
            AuditEvent(actor=self.actor, action=action, object_id=object_id, details=details)
        )


def _object_id(entry_id: str) -> str:
    return f"vault/{entry_id}"
