"""``audit verify``: check every stored entry against signed checkpoints.

The stored hashes are never trusted. Every entry is re-read, checked to be the
canonical encoding of an event, and rehashed; the Merkle root of the first
``m`` entries must equal the root signed in each checkpoint of size ``m``, and
the current tree must be consistent with the newest checkpoint (checked with a
consistency proof built from the node cache, the same code that serves proofs
to others). Together this detects any modified, deleted, inserted, reordered or
truncated entry up to the newest checkpoint. Entries appended after it are
covered only once a later checkpoint is signed.

What it cannot detect: an attacker who rewrites the log *and* every checkpoint
the verifier consults, re-signing them with the stolen key. Verifiers should
therefore keep their own copies of earlier checkpoints (or have witnesses
cosign them) and pass them with ``--checkpoint``.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from medveil.audit import store
from medveil.audit.checkpoint import Checkpoint, open_checkpoint
from medveil.audit.compact import CompactRange
from medveil.audit.errors import AuditError, AuditIntegrityError
from medveil.audit.event import decode_leaf
from medveil.audit.log import AuditLog
from medveil.audit.merkle import consistency_proof, leaf_hash, verify_consistency
from medveil.audit.note import Verifier


@dataclass(frozen=True)
class VerifyReport:
    """What a successful verification established."""

    size: int
    root: bytes
    checkpoints: tuple[Checkpoint, ...]

    @property
    def anchor(self) -> Checkpoint:
        """The newest checkpoint the log was verified against."""
        return max(self.checkpoints, key=lambda c: c.size)


@dataclass
class _Scan:
    """Results of one pass over the stored entries and the node cache."""

    size: int
    root: bytes
    prefix_roots: dict[int, bytes]
    problems: list[str]


def verify_log(
    log: AuditLog,
    checkpoints: Sequence[str] | None = None,
    verifier: Verifier | None = None,
    witnesses: Sequence[Verifier] = (),
    threshold: int = 0,
) -> VerifyReport:
    """Verify ``log`` against ``checkpoints`` (default: every stored one).

    ``verifier`` is the trusted log key (default: the key in the data directory).
    With ``threshold`` > 0, only checkpoints cosigned by at least that many of
    ``witnesses`` count: given ones must all qualify, stored ones that do not are
    left out, and at least one must remain (a log operator alone cannot then
    rewrite history behind the witnessed checkpoints).
    Raises :class:`AuditIntegrityError` naming every problem found.
    """
    notes = list(checkpoints) if checkpoints is not None else log.stored_checkpoints()
    if not notes:
        raise AuditIntegrityError(
            "no signed checkpoint to verify against; run `medveil audit checkpoint` first"
        )
    verifier = verifier or log.verifier
    if threshold > 0 and checkpoints is None:
        opened = (_witnessed(note, verifier, witnesses, threshold) for note in notes)
        signed = [checkpoint for checkpoint in opened if checkpoint is not None]
        if not signed:
            raise AuditIntegrityError(
                f"no stored checkpoint carries {threshold} witness cosignature(s); "
                "cosign one (`medveil audit cosign`) and store it (`medveil audit adopt`)"
            )
    else:
        signed = [open_checkpoint(note, verifier, witnesses, threshold) for note in notes]
    scan = log.read_snapshot(lambda conn: _scan(conn, {c.size for c in signed}))
    mismatches = [_checkpoint_problem(cp, scan) for cp in sorted(signed, key=lambda c: c.size)]
    problems = [p for p in mismatches if p is not None] + scan.problems
    anchor = max(signed, key=lambda c: c.size)
    if not problems and anchor.size > 0:
        proof = log.read_snapshot(
            lambda conn: consistency_proof(anchor.size, scan.size, store.StoredHashes(conn))
        )
        if not verify_consistency(anchor.size, scan.size, anchor.root, scan.root, proof):
            problems.append(f"no valid consistency proof from size {anchor.size} to {scan.size}")
    if problems:
        raise AuditIntegrityError("audit log verification failed: " + "; ".join(problems))
    return VerifyReport(size=scan.size, root=scan.root, checkpoints=tuple(signed))


def _witnessed(
    note: str, verifier: Verifier, witnesses: Sequence[Verifier], threshold: int
) -> Checkpoint | None:
    """The checkpoint of a stored note if it carries enough cosignatures, else None."""
    try:
        return open_checkpoint(note, verifier, witnesses, threshold)
    except AuditIntegrityError:
        return None


def _checkpoint_problem(cp: Checkpoint, scan: _Scan) -> str | None:
    """Why the entries do not match checkpoint ``cp``, or None if they do."""
    if cp.size > scan.size:
        return (
            f"only entries 0..{scan.size - 1} are present, but a checkpoint signed {cp.size}: "
            "entries were deleted or the log was truncated"
        )
    if scan.prefix_roots[cp.size] != cp.root:
        return (
            f"entries 0..{cp.size - 1} do not match the checkpoint of size {cp.size}: "
            "an entry was modified, inserted, deleted or reordered"
        )
    return None


def _scan(conn: sqlite3.Connection, sizes: set[int]) -> _Scan:
    """Rehash every entry, note prefix roots at ``sizes`` and audit the node cache."""
    problems: list[str] = []
    recomputed: dict[int, hashlib._Hash] = {}
    counts: dict[int, int] = {}

    def record(level: int, index: int, digest: bytes) -> None:
        recomputed.setdefault(level, hashlib.sha256()).update(digest)
        counts[level] = counts.get(level, 0) + 1

    tree = CompactRange(on_node=record)
    prefix_roots = {0: tree.root()} if 0 in sizes else {}
    stored_leaf_hashes = store.iter_nodes(conn)
    first_unrecorded: int | None = None
    first_invalid, invalid_count = "", 0
    for index, leaf in store.iter_leaves(conn):
        if index != tree.size:
            problems.append(f"entry {tree.size} is missing (next stored entry is {index})")
            break
        try:
            decode_leaf(index, leaf)
        except AuditError as exc:
            first_invalid = first_invalid or str(exc)
            invalid_count += 1
        digest = leaf_hash(leaf)
        tree.append(digest)
        record(0, index, digest)
        if tree.size in sizes:
            prefix_roots[tree.size] = tree.root()
        stored = next(stored_leaf_hashes, None)
        if first_unrecorded is None and stored != (0, index, digest):
            first_unrecorded = index
    if invalid_count:
        more = f" (and {invalid_count - 1} more invalid entries)" if invalid_count > 1 else ""
        problems.append(first_invalid + more)
    if first_unrecorded is not None:
        problems.append(
            f"entry {first_unrecorded} does not match the hash recorded when it was logged"
        )
    elif not problems:
        problems.extend(_cache_problems(conn, recomputed, counts))
    return _Scan(size=tree.size, root=tree.root(), prefix_roots=prefix_roots, problems=problems)


def _cache_problems(
    conn: sqlite3.Connection, recomputed: dict[int, hashlib._Hash], counts: dict[int, int]
) -> list[str]:
    """Levels of the node cache that differ from the hashes recomputed from entries."""
    stored: dict[int, hashlib._Hash] = {}
    stored_counts: dict[int, int] = {}
    for level, _index, digest in store.iter_nodes(conn):
        stored.setdefault(level, hashlib.sha256()).update(digest)
        stored_counts[level] = stored_counts.get(level, 0) + 1
    for level in sorted(set(stored) | set(recomputed)):
        if (
            stored_counts.get(level) != counts.get(level)
            or stored[level].digest() != recomputed[level].digest()
        ):
            return [f"the stored node hashes (level {level} and up) do not match the entries"]
    return []
