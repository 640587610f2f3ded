"""The audit log: durable appends, proofs and signed checkpoints.

Every medveil operation that touches identifying data or protected objects
records an :class:`~medveil.audit.event.AuditEvent` here *before* reporting
success. ``append`` returns only once the event is committed to disk and
raises :class:`AuditError` otherwise, so callers refuse the operation (fail
closed). Entries are leaves of an RFC 9162 Merkle tree; signed checkpoints
commit to its root, and inclusion/consistency proofs show an entry is in the
log and that the log only ever grew.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from medveil.audit import store
from medveil.audit.checkpoint import Checkpoint, open_checkpoint
from medveil.audit.errors import AuditError, AuditIntegrityError
from medveil.audit.event import AuditEvent, LoggedEvent, decode_leaf, encode_leaf, utc_timestamp
from medveil.audit.files import write_durably
from medveil.audit.keys import load_signer
from medveil.audit.merkle import consistency_proof, inclusion_proof, verify_consistency
from medveil.audit.note import Note, Signer, Verifier, parse_note

T = TypeVar("T")

AUDIT_DIR = "audit"
DB_FILE = "log.db"
CHECKPOINT_DIR = "checkpoints"


def audit_dir(home: Path) -> Path:
    """Where the log keeps its database, key and checkpoint copies."""
    return home / AUDIT_DIR


class AuditLog:
    """An append-only, verifiable audit log stored under ``home / "audit"``.

    One instance may be shared by threads (calls are serialised); several
    processes may open the same log (SQLite serialises their writes).
    """

    def __init__(self, directory: Path, conn: sqlite3.Connection) -> None:
        self.directory = directory
        self._conn = conn
        self._lock = threading.RLock()
        self._signer: Signer | None = None

    @classmethod
    def open(cls, home: Path, *, busy_timeout_s: float = store.DEFAULT_BUSY_TIMEOUT_S) -> AuditLog:
        """Open (creating if needed) the log of the data directory ``home``.

        ``busy_timeout_s`` is how long a write waits for another process's
        transaction before failing (and so refusing the audited operation).
        """
        directory = audit_dir(home)
        return cls(directory, store.connect(directory / DB_FILE, busy_timeout_s))

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writing -----------------------------------------------------------

    def append(self, event: AuditEvent) -> int:
        """Record ``event`` durably and return its index; raises AuditError."""
        return self.append_many([event])[0]

    def append_many(self, events: Sequence[AuditEvent]) -> list[int]:
        """Record ``events`` in one durable transaction and return their indices.

        All or none are recorded. Batching is what makes high rates cheap: the
        cost of a durable commit (an fsync) is paid once per batch.
        """
        if not events:
            return []
        time = utc_timestamp()
        leaves = [encode_leaf(event, time) for event in events]

        def insert(conn: sqlite3.Connection) -> int:
            first = store.tree_size(conn)
            store.insert_leaves(conn, first, leaves)
            return first

        first = self._write(insert, "audit event was not recorded")
        return list(range(first, first + len(leaves)))

    def _write(self, action: Callable[[sqlite3.Connection], T], failure: str) -> T:
        """Run ``action`` in one write transaction: all of it is committed or none.

        ``BEGIN IMMEDIATE`` takes SQLite's write lock up front, so concurrent
        writers (threads or processes) queue instead of failing mid-transaction;
        any SQLite error becomes an AuditError starting with ``failure``.
        """
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    result = action(self._conn)
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise AuditError(f"{failure}: {exc}") from exc
        return result

    # -- reading -----------------------------------------------------------

    @property
    def size(self) -> int:
        """The number of entries in the log."""
        return self.read_snapshot(store.tree_size)

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[LoggedEvent]:
        """The logged events with index in ``[start, end)``, in order."""
        rows = self.read_snapshot(lambda conn: list(store.iter_leaves(conn, start, end)))
        for index, leaf in rows:
            yield decode_leaf(index, leaf)

    def root(self, size: int | None = None) -> bytes:
        """The Merkle tree hash of the first ``size`` entries (default: all)."""
        return self.read_snapshot(lambda conn: self._root(conn, size))

    def _root(self, conn: sqlite3.Connection, size: int | None) -> bytes:
        current = store.tree_size(conn)
        size = current if size is None else size
        if not 0 <= size <= current:
            raise AuditError(f"the log has {current} entries, not {size}")
        return store.StoredHashes(conn).subtree_hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 audit path of entry ``index`` in the tree of ``size`` entries."""
        return self.read_snapshot(lambda conn: self._inclusion(conn, index, size))

    def _inclusion(self, conn: sqlite3.Connection, index: int, size: int | None) -> list[bytes]:
        size = store.tree_size(conn) if size is None else size
        if not 0 <= index < size <= store.tree_size(conn):
            raise AuditError(f"no entry {index} in a tree of size {size}")
        return inclusion_proof(index, size, store.StoredHashes(conn))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """RFC 9162 proof that the first ``old_size`` entries are a prefix of ``new_size``."""
        return self.read_snapshot(lambda conn: self._consistency(conn, old_size, new_size))

    def _consistency(self, conn: sqlite3.Connection, old: int, new: int | None) -> list[bytes]:
        new = store.tree_size(conn) if new is None else new
        if not 0 < old <= new <= store.tree_size(conn):
            raise AuditError(f"no consistency proof from size {old} to {new}")
        return consistency_proof(old, new, store.StoredHashes(conn))

    def read_snapshot(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``query`` in one read transaction, so it sees a single snapshot of the log.

        Holds the instance lock: the connection is shared by threads, and a
        transaction begun by one must not interleave with another's.
        """
        with self._lock:
            try:
                self._conn.execute("BEGIN")
                try:
                    return query(self._conn)
                finally:
                    self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise AuditError(f"cannot read the audit log: {exc}") from exc

    # -- checkpoints -------------------------------------------------------

    @property
    def signer(self) -> Signer:
        """The log's signing key, created on first use (first checkpoint or ``audit key``)."""
        if self._signer is None:
            self._signer = load_signer(self.directory, create=True)
        return self._signer

    @property
    def verifier(self) -> Verifier:
        """The log's public key; AuditError if the log never had a signing key."""
        if self._signer is None:
            self._signer = load_signer(self.directory, create=False)
        return self._signer.verifier

    def checkpoint(self) -> str:
        """Sign, store and return a checkpoint of the log at its current size.

        The note goes into the database and into a file under
        ``audit/checkpoints/`` (see docs/audit.md for why both, and why copies
        kept elsewhere are the real defence).
        """
        signer = self.signer
        with self._lock:
            size, root, previous = self.read_snapshot(self._checkpoint_state)
            if previous is not None:
                self._require_consistent(previous, size, root)
            note = Checkpoint(origin=signer.name, size=size, root=root).sign(signer)
            self.store_checkpoint(note)
        return note

    def _checkpoint_state(self, conn: sqlite3.Connection) -> tuple[int, bytes, Checkpoint | None]:
        """Current size and root, and the newest checkpoint stored in the database."""
        size = store.tree_size(conn)
        root = store.StoredHashes(conn).subtree_hash(0, size)
        row = conn.execute("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()
        if row is None:
            return size, root, None
        note = store.as_bytes(row[0]).decode("utf-8", "replace")
        return size, root, open_checkpoint(note, self.verifier)

    def _require_consistent(self, previous: Checkpoint, size: int, root: bytes) -> None:
        """Refuse to sign a tree that does not extend the previous checkpoint.

        A transparency log must never sign two histories; checking the cache's
        consistency proof against the last signed root costs O(log n).
        """
        if previous.size > size:
            raise AuditIntegrityError(
                f"the log has {size} entries but was checkpointed at {previous.size}; "
                "run `medveil audit verify`"
            )
        if previous.size > 0:
            proof = self.consistency_proof(previous.size, size)
            if not verify_consistency(previous.size, size, previous.root, root, proof):
                raise AuditIntegrityError(
                    f"the log is not consistent with its checkpoint of size {previous.size}; "
                    "run `medveil audit verify`"
                )

    def store_checkpoint(self, note: str) -> Checkpoint:
        """Keep a checkpoint note signed by this log (e.g. one with witness cosignatures).

        A note for a size already stored must have the same body; its signatures
        are merged, so re-checkpointing never drops a witness cosignature. Two
        different signed roots for one size would prove a forked log: refused.
        Returns what the note commits to.
        """
        checkpoint = open_checkpoint(note, self.verifier)

        def merge_and_store(conn: sqlite3.Connection) -> str:
            row = conn.execute(
                "SELECT note FROM checkpoints WHERE size = ?", (checkpoint.size,)
            ).fetchone()
            merged = note
            if row is not None:
                merged = _merge_signatures(store.as_bytes(row[0]).decode("utf-8", "replace"), note)
            conn.execute(
                "INSERT OR REPLACE INTO checkpoints (size, note) VALUES (?, ?)",
                (checkpoint.size, merged),
            )
            return merged

        merged = self._write(merge_and_store, "cannot store checkpoint")
        path = self.directory / CHECKPOINT_DIR / f"{checkpoint.size:012d}.note"
        try:
            write_durably(path, merged.encode("utf-8"), mode=0o644)
        except OSError as exc:
            raise AuditError(f"cannot write checkpoint file {path}: {exc}") from exc
        return checkpoint

    def stored_checkpoints(self) -> list[str]:
        """Every checkpoint note kept in the database or the checkpoint folder."""
        rows = self.read_snapshot(
            lambda conn: conn.execute("SELECT note FROM checkpoints ORDER BY size").fetchall()
        )
        notes = [store.as_bytes(row[0]).decode("utf-8", "replace") for row in rows]
        folder = self.directory / CHECKPOINT_DIR
        if folder.is_dir():
            for path in sorted(folder.glob("*.note")):
                text = path.read_text(encoding="utf-8")
                if text not in notes:
                    notes.append(text)
        return notes


def _merge_signatures(old: str, new: str) -> str:
    """One note carrying the signatures of two notes over the same body."""
    old_body, old_sigs = parse_note(old)
    new_body, new_sigs = parse_note(new)
    if old_body != new_body:
        raise AuditIntegrityError("two different checkpoints signed for the same tree size")
    merged = list(old_sigs) + [s for s in new_sigs if s not in old_sigs]
    return Note(body=old_body, signatures=tuple(merged), verified=()).text()
