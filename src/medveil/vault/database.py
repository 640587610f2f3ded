"""The vault's SQLite file: sealed entries under keyed indexes, and operators.

``entries.subject_index`` is ``HMAC(index key, pseudonym)``, so the file holds
no pseudonym, name or ID in plain text; ``sealed`` is an envelope blob under the
patient's subject key. WAL with ``synchronous=FULL`` makes a commit durable.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY,
    subject_index BLOB NOT NULL,
    sealed BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_subject ON entries(subject_index);
CREATE TABLE IF NOT EXISTS operators (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating 0600 and migrating if needed) the vault database at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    conn = sqlite3.connect(path, timeout=30, isolation_level="DEFERRED")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        conn.close()
        raise RuntimeError(f"vault schema {version} is newer than this medveil ({SCHEMA_VERSION})")
    if version < SCHEMA_VERSION:
        with conn:
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return conn
