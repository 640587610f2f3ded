"""1,000 random tamperings of a log database, each of which ``audit verify`` must catch.

A 300-event log is built and checkpointed once; every case copies its files,
edits the SQLite database directly (as someone with disk access would), and
runs the verifier. Half of the cases also rebuild the node-hash cache from the
tampered entries, as a careful attacker would, so detection cannot rest on the
cache: it must come from rehashing entries against the signed checkpoint.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medveil.audit import AuditEvent, AuditIntegrityError, AuditLog
from medveil.audit import store as audit_store
from medveil.audit.event import canonical_json
from medveil.audit.log import DB_FILE, audit_dir
from medveil.audit.verify import verify_log
from medveil.cli import app

EVENTS = 300
CASES = 1000
FIELDS = ("actor", "action", "object_id", "decision", "purpose", "reason", "details", "time")

Tamper = Callable[[sqlite3.Connection, random.Random], None]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("pristine")
    rng = random.Random(1)
    with AuditLog.open(home) as log:
        for start in range(0, EVENTS, 50):
            log.append_many(
                [
                    AuditEvent(
                        actor=rng.choice(["alice", "bob", "svc-deid"]),
                        action=rng.choice(["vault.read", "store.get", "deid.run"]),
                        object_id=f"MV-{i:06d}",
                        decision=rng.choice(["allow", "deny"]),
                        purpose="research",
                        reason="",
                        details={"files": rng.randrange(100)},
                    )
                    for i in range(start, start + 50)
                ]
            )
        log.checkpoint()
    return home


def _leaf(conn: sqlite3.Connection, index: int) -> dict[str, object]:
    row = conn.execute("SELECT leaf FROM leaves WHERE idx = ?", (index,)).fetchone()
    return dict(json.loads(bytes(row[0])))


def _edit_field(conn: sqlite3.Connection, rng: random.Random) -> None:
    index, field = rng.randrange(EVENTS), rng.choice(FIELDS)
    record = _leaf(conn, index)
    replacements: dict[str, object] = {
        "decision": "allow" if record["decision"] == "deny" else "deny",
        "details": {"files": 1000 + rng.randrange(1000)},
        "object_id": None,
        "time": "2020-01-01T00:00:00.000000Z",
    }
    record[field] = replacements.get(field, f"forged-{rng.randrange(10**6)}")
    leaf = canonical_json(record)
    if rng.random() < 0.2:  # some edits also leave the leaf non-canonical
        leaf = json.dumps(record).encode()
    conn.execute("UPDATE leaves SET leaf = ? WHERE idx = ?", (leaf, index))


def _delete_row(conn: sqlite3.Connection, rng: random.Random) -> None:
    conn.execute("DELETE FROM leaves WHERE idx = ?", (rng.randrange(EVENTS),))


def _insert_row(conn: sqlite3.Connection, rng: random.Random) -> None:
    position = rng.randrange(EVENTS)  # inside the checkpointed range
    forged = _leaf(conn, rng.randrange(EVENTS))
    forged["object_id"] = "MV-forged"
    conn.execute("UPDATE leaves SET idx = -idx - 1 WHERE idx >= ?", (position,))
    conn.execute("UPDATE leaves SET idx = -idx WHERE idx < 0")  # shifted up by one
    conn.execute("INSERT INTO leaves (idx, leaf) VALUES (?, ?)", (position, canonical_json(forged)))


def _swap_rows(conn: sqlite3.Connection, rng: random.Random) -> None:
    first, second = rng.sample(range(EVENTS), 2)
    conn.execute("UPDATE leaves SET idx = -1 WHERE idx = ?", (first,))
    conn.execute("UPDATE leaves SET idx = ? WHERE idx = ?", (first, second))
    conn.execute("UPDATE leaves SET idx = ? WHERE idx = -1", (second,))


def _truncate(conn: sqlite3.Connection, rng: random.Random) -> None:
    conn.execute("DELETE FROM leaves WHERE idx >= ?", (rng.randrange(EVENTS),))
    if rng.random() < 0.5:  # and hide it from the database's own checkpoint table
        conn.execute("DELETE FROM checkpoints")


TAMPERINGS: dict[str, Tamper] = {
    "edit": _edit_field,
    "delete": _delete_row,
    "insert": _insert_row,
    "reorder": _swap_rows,
    "truncate": _truncate,
}


def _rebuild_node_cache(conn: sqlite3.Connection) -> None:
    """Recompute every cached hash from the (tampered) entries, hiding the edit there."""
    leaves = [leaf for _, leaf in audit_store.iter_leaves(conn)]
    conn.execute("DELETE FROM nodes")
    conn.execute("DELETE FROM leaves")
    audit_store.insert_leaves(conn, 0, leaves)


def _tampered_copy(pristine: Path, target: Path, kind: str, rng: random.Random) -> Path:
    shutil.copytree(pristine, target)
    conn = sqlite3.connect(audit_dir(target) / DB_FILE, isolation_level=None)
    conn.execute("BEGIN")
    TAMPERINGS[kind](conn, rng)
    if rng.random() < 0.5:
        _rebuild_node_cache(conn)
    conn.execute("COMMIT")
    conn.close()
    return target


def test_pristine_log_verifies(pristine: Path) -> None:
    with AuditLog.open(pristine) as log:
        assert verify_log(log).size == EVENTS


def test_every_tampering_is_detected(pristine: Path, tmp_path: Path) -> None:
    rng = random.Random(2026)
    missed: list[str] = []
    kinds = [rng.choice(sorted(TAMPERINGS)) for _ in range(CASES)]
    assert all(kinds.count(kind) > CASES // 10 for kind in TAMPERINGS)
    for case, kind in enumerate(kinds):
        home = _tampered_copy(pristine, tmp_path / f"case{case}", kind, rng)
        with AuditLog.open(home) as log:
            try:
                verify_log(log)
            except AuditIntegrityError:
                pass
            else:
                missed.append(f"case {case}: {kind}")
        shutil.rmtree(home)
    assert missed == []


@pytest.mark.parametrize("kind", sorted(TAMPERINGS))
def test_cli_verify_exits_1_on_tampering(pristine: Path, tmp_path: Path, kind: str) -> None:
    home = _tampered_copy(pristine, tmp_path / kind, kind, random.Random(kind))
    result = CliRunner().invoke(app, ["--home", str(home), "audit", "verify"])
    assert result.exit_code == 1
    assert "audit log verification failed" in result.output


def test_full_rewrite_with_a_new_key_is_caught_only_by_a_held_checkpoint(
    pristine: Path, tmp_path: Path
) -> None:
    """The documented limit: whoever controls the data dir can re-sign a rewritten log.

    Stored checkpoints cannot catch that; a checkpoint and verifier key held
    elsewhere can.
    """
    with AuditLog.open(pristine) as log:
        held_key = log.verifier
        (held_note,) = log.stored_checkpoints()
    home = tmp_path / "rewritten"
    shutil.copytree(pristine, home)
    conn = sqlite3.connect(audit_dir(home) / DB_FILE, isolation_level=None)
    conn.execute("BEGIN")
    record = _leaf(conn, 5)
    record["decision"] = "allow" if record["decision"] == "deny" else "deny"
    conn.execute("UPDATE leaves SET leaf = ? WHERE idx = 5", (canonical_json(record),))
    _rebuild_node_cache(conn)
    conn.execute("DELETE FROM checkpoints")
    conn.execute("COMMIT")
    conn.close()
    shutil.rmtree(audit_dir(home) / "checkpoints")
    (audit_dir(home) / "log.key").unlink()
    with AuditLog.open(home) as log:
        log.checkpoint()  # re-signed with a fresh key
        assert verify_log(log).size == EVENTS
        with pytest.raises(AuditIntegrityError):
            verify_log(log, [held_note], held_key)
