"""SQLite storage of the audit log: leaves, a node-hash cache and checkpoints.

``leaves`` holds the canonical event bytes in log order and is the only source
of truth. ``nodes`` caches the hash of every complete, aligned subtree (level 0
is the leaf hashes, level ``l`` index ``i`` covers leaves ``[i*2^l, (i+1)*2^l)``)
so that any range the RFC 9162 proof recursion asks for is O(log n) lookups:
proofs at a million leaves never rehash the log. ``audit verify`` recomputes
the cache from the leaves and reports any difference. ``checkpoints`` keeps
every signed checkpoint note issued, keyed by tree size.

The database runs in WAL mode with ``synchronous=FULL``, so a committed append
has reached stable storage, and every write is one ``BEGIN IMMEDIATE``
transaction, so several processes can append safely (SQLite serialises the
writers; the busy timeout makes them wait instead of failing).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from medveil.audit.errors import AuditError
from medveil.audit.merkle import EMPTY_ROOT, leaf_hash, node_hash, split_point

SCHEMA = """
CREATE TABLE IF NOT EXISTS leaves (
    idx INTEGER PRIMARY KEY,
    leaf BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
    size INTEGER PRIMARY KEY,
    note TEXT NOT NULL
);
"""

DEFAULT_BUSY_TIMEOUT_S = 30.0


def connect(path: Path, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """Open (creating if needed) the log database in durable WAL mode."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        conn = sqlite3.connect(
            path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise AuditError(f"audit database {path} cannot use WAL mode (got {mode!r})")
        conn.execute("PRAGMA synchronous = FULL")
        conn.executescript(SCHEMA)
        # TEXT values come back as bytes: a hand-edited row stays readable (and is
        # then caught by its hash) instead of failing to decode.
        conn.text_factory = bytes
    except sqlite3.Error as exc:
        raise AuditError(f"cannot open audit database {path}: {exc}") from exc
    return conn


def tree_size(conn: sqlite3.Connection) -> int:
    """Number of leaves: one past the highest index (gaps are found by verify)."""
    row = conn.execute("SELECT MAX(idx) FROM leaves").fetchone()
    return 0 if row[0] is None else int(row[0]) + 1


def stored_node(conn: sqlite3.Connection, level: int, index: int) -> bytes:
    """The cached hash of a complete subtree; a missing one is a corrupt cache."""
    row = conn.execute(
        "SELECT hash FROM nodes WHERE level = ? AND idx = ?", (level, index)
    ).fetchone()
    if row is None:
        raise AuditError(f"audit node cache has no hash for level {level} index {index}")
    return as_bytes(row[0])


def as_bytes(value: object) -> bytes:
    """A stored value as bytes, whatever type a hand edit gave it."""
    return value if isinstance(value, bytes) else str(value).encode()


def insert_leaves(conn: sqlite3.Connection, first: int, leaves: list[bytes]) -> None:
    """Write ``leaves`` at ``first``, ``first + 1``, ... plus every node they complete.

    Must run inside the caller's write transaction; the left siblings a new
    node needs are either written earlier in this batch or read from the cache.
    """
    new_nodes: dict[tuple[int, int], bytes] = {}
    for offset, leaf in enumerate(leaves):
        index, level = first + offset, 0
        current = leaf_hash(leaf)
        new_nodes[(0, index)] = current
        while index & 1:
            sibling = new_nodes.get((level, index - 1)) or stored_node(conn, level, index - 1)
            current = node_hash(sibling, current)
            index >>= 1
            level += 1
            new_nodes[(level, index)] = current
    conn.executemany(
        "INSERT INTO leaves (idx, leaf) VALUES (?, ?)",
        [(first + offset, leaf) for offset, leaf in enumerate(leaves)],
    )
    conn.executemany(
        "INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)",
        [(level, index, digest) for (level, index), digest in new_nodes.items()],
    )


class StoredHashes:
    """MTH of any proof range, read from the node cache (a ``SubtreeHashes``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def subtree_hash(self, start: int, end: int) -> bytes:
        """Aligned power-of-two ranges are one lookup; others split as in RFC 9162."""
        size = end - start
        if size == 0:
            return EMPTY_ROOT
        if size & (size - 1) == 0 and start % size == 0:
            return stored_node(self._conn, size.bit_length() - 1, start // size)
        k = split_point(size)
        return node_hash(self.subtree_hash(start, start + k), self.subtree_hash(start + k, end))


def iter_leaves(
    conn: sqlite3.Connection, start: int = 0, end: int | None = None
) -> Iterator[tuple[int, bytes]]:
    """(index, leaf bytes) in index order, for indices in ``[start, end)``."""
    end = 2**63 - 1 if end is None else end
    cursor = conn.execute(
        "SELECT idx, leaf FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx", (start, end)
    )
    for index, leaf in cursor:
        yield int(index), as_bytes(leaf)


def iter_nodes(conn: sqlite3.Connection) -> Iterator[tuple[int, int, bytes]]:
    """(level, index, hash) of the whole cache, by level then index."""
    for level, index, digest in conn.execute("SELECT level, idx, hash FROM nodes ORDER BY 1, 2"):
        yield int(level), int(index), as_bytes(digest)
