"""Operator credentials for re-identification: names with argon2id password hashes.

Only the hash is stored (argon2-cffi defaults, RFC 9106 low-memory profile).
Verification failures of any kind (unknown operator, wrong password) look the
same to the caller and take the same time (an unknown name is checked against a
dummy hash), so the answer does not reveal which operators exist.
"""

from __future__ import annotations

import functools
import secrets
import sqlite3
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from medveil.errors import UsageError

_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 12


def add_operator(conn: sqlite3.Connection, name: str, password: str) -> None:
    """Register ``name`` (or replace its password)."""
    if not name or not name.isprintable() or len(name) > 64:
        raise UsageError("operator names are 1-64 printable characters")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError(f"operator passwords need at least {MIN_PASSWORD_LENGTH} characters")
    with conn:
        conn.execute(
            "INSERT INTO operators(name, password_hash, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash",
            (name, _HASHER.hash(password), datetime.now(UTC).isoformat()),
        )


def remove_operator(conn: sqlite3.Connection, name: str) -> bool:
    """Delete ``name``; True if it existed."""
    with conn:
        return conn.execute("DELETE FROM operators WHERE name = ?", (name,)).rowcount > 0


def operator_names(conn: sqlite3.Connection) -> list[str]:
    """Registered operator names, sorted."""
    return [row[0] for row in conn.execute("SELECT name FROM operators ORDER BY name")]


def verify_operator(conn: sqlite3.Connection, name: str, password: str) -> bool:
    """True only for a registered operator with the right password."""
    row = conn.execute("SELECT password_hash FROM operators WHERE name = ?", (name,)).fetchone()
    try:
        if row is None:
            _HASHER.verify(_dummy_hash(), password)
            return False
        return _HASHER.verify(row[0], password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))
