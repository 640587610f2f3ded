"""The persistent audit log: durable appends, proofs from the node cache, checkpoints."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from medveil.audit import (
    AuditError,
    AuditEvent,
    AuditIntegrityError,
    AuditLog,
    GroupCommitter,
    open_checkpoint,
)
from medveil.audit.checkpoint import cosign
from medveil.audit.log import DB_FILE, audit_dir
from medveil.audit.merkle import (
    HashList,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from medveil.audit.note import Signer
from medveil.audit.verify import verify_log


def _event(i: int) -> AuditEvent:
    return AuditEvent(actor="svc", action="store.put", object_id=f"obj-{i}", details={"n": i})


@pytest.fixture
def log(tmp_path: Path) -> Iterator[AuditLog]:
    with AuditLog.open(tmp_path) as opened:
        yield opened


def test_append_returns_consecutive_indices_and_survives_reopen(tmp_path: Path) -> None:
    with AuditLog.open(tmp_path) as log:
        assert log.append(_event(0)) == 0
        assert log.append_many([_event(1), _event(2)]) == [1, 2]
        assert log.append_many([]) == []
    with AuditLog.open(tmp_path) as log:
        assert log.size == 3
        entries = list(log.entries())
    assert [e.event for e in entries] == [_event(0), _event(1), _event(2)]
    assert all(e.time.endswith("Z") for e in entries)
    assert (audit_dir(tmp_path) / DB_FILE).exists()


def test_database_is_in_durable_wal_mode(log: AuditLog, tmp_path: Path) -> None:
    log.append(_event(0))
    conn = sqlite3.connect(audit_dir(tmp_path) / DB_FILE)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_proofs_from_the_node_cache_match_the_reference(log: AuditLog) -> None:
    # Batches of odd sizes make new nodes take left siblings from earlier commits.
    for batch in (1, 2, 5, 13, 31, 1, 60):
        log.append_many([_event(i) for i in range(batch)])
    size = log.size
    leaves = [leaf_hash(e.leaf) for e in log.entries()]
    reference = HashList(leaves)
    for m in range(1, size + 1):
        assert log.root(m) == reference.subtree_hash(0, m)
    root = log.root()
    for index in range(size):
        assert verify_inclusion(index, size, leaves[index], log.inclusion_proof(index), root)
    for old in range(1, size + 1):
        proof = log.consistency_proof(old)
        assert verify_consistency(old, size, log.root(old), root, proof)
    assert verify_inclusion(3, 20, leaves[3], log.inclusion_proof(3, 20), log.root(20))


def test_out_of_range_requests_raise_audit_error(log: AuditLog) -> None:
    log.append(_event(0))
    with pytest.raises(AuditError):
        log.inclusion_proof(1)
    with pytest.raises(AuditError):
        log.root(2)
    with pytest.raises(AuditError):
        log.consistency_proof(0)


def test_append_fails_closed_when_the_write_is_not_possible(tmp_path: Path) -> None:
    with AuditLog.open(tmp_path, busy_timeout_s=0.05) as log:
        log.append(_event(0))
        blocker = sqlite3.connect(audit_dir(tmp_path) / DB_FILE, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with pytest.raises(AuditError, match="not recorded"):
            log.append(_event(1))
        blocker.execute("ROLLBACK")
        blocker.close()
        assert log.append(_event(1)) == 1  # nothing half-written in between
    with pytest.raises(AuditError):
        log.append(_event(2))  # closed


def _append_from_process(home: Path, worker: int) -> None:
    with AuditLog.open(home) as log:
        for i in range(40):
            log.append(AuditEvent(actor=f"worker-{worker}", action="op", details={"i": i}))
        log.append_many([AuditEvent(actor=f"worker-{worker}", action="batch")] * 20)


def test_several_processes_append_to_one_log(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_from_process, args=(tmp_path, w)) for w in range(3)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
        assert process.exitcode == 0
    with AuditLog.open(tmp_path) as log:
        assert log.size == 3 * 60
        log.checkpoint()
        assert verify_log(log).size == 180


def test_checkpoint_is_signed_stored_in_db_and_file(log: AuditLog) -> None:
    log.append_many([_event(i) for i in range(5)])
    note = log.checkpoint()
    assert open_checkpoint(note, log.verifier).size == 5
    assert log.stored_checkpoints() == [note]
    files = list((log.directory / "checkpoints").glob("*.note"))
    assert [f.read_text() for f in files] == [note]
    assert (log.directory / "log.key").stat().st_mode & 0o777 == 0o600


def test_cosignatures_are_kept_when_checkpointing_again(log: AuditLog) -> None:
    log.append(_event(0))
    witness = Signer.generate("witness.example/w1")
    log.store_checkpoint(cosign(log.checkpoint(), witness, log.verifier))
    log.checkpoint()  # same size again, signed by the log only
    (stored,) = log.stored_checkpoints()
    assert open_checkpoint(stored, log.verifier, [witness.verifier], threshold=1).size == 1


def test_a_second_root_for_the_same_size_is_refused(log: AuditLog) -> None:
    log.append(_event(0))
    log.checkpoint()
    forged = open_checkpoint(log.checkpoint(), log.verifier)
    fork = type(forged)(forged.origin, forged.size, bytes(32)).sign(log.signer)
    with pytest.raises(AuditIntegrityError, match="same tree size"):
        log.store_checkpoint(fork)


def test_signing_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    with AuditLog.open(tmp_path) as log:
        log.checkpoint()
        (log.directory / "log.key").chmod(0o644)
    with AuditLog.open(tmp_path) as log, pytest.raises(AuditError, match="chmod 600"):
        log.checkpoint()


def test_group_commit_shares_transactions_between_threads(log: AuditLog) -> None:
    threads, per_thread = 8, 50
    results: list[list[int]] = [[] for _ in range(threads)]
    with GroupCommitter(log) as committer:

        def work(slot: int) -> None:
            for i in range(per_thread):
                results[slot].append(committer.append(_event(i)))

        workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert committer.append_many([_event(0), _event(1)]) == [400, 401]
    indices = sorted(i for slot in results for i in slot)
    assert indices == list(range(threads * per_thread))
    # One timestamp per transaction: far fewer commits than appends.
    times = {entry.time for entry in log.entries()}
    assert len(times) < threads * per_thread
    with pytest.raises(AuditError, match="closed"):
        committer.append(_event(0))


def test_group_commit_reports_storage_failure_to_every_caller(tmp_path: Path) -> None:
    log = AuditLog.open(tmp_path)
    committer = GroupCommitter(log)
    log.close()
    with pytest.raises(AuditError):
        committer.append(_event(0))
    committer.close()


def test_log_refuses_to_sign_a_history_that_forks_from_its_last_checkpoint(
    log: AuditLog, tmp_path: Path
) -> None:
    log.append_many([_event(i) for i in range(8)])
    log.checkpoint()
    conn = sqlite3.connect(audit_dir(tmp_path) / DB_FILE, isolation_level=None)
    conn.execute("UPDATE nodes SET hash = ? WHERE level = 3 AND idx = 0", (bytes(32),))
    conn.close()
    log.append(_event(8))
    with pytest.raises(AuditIntegrityError, match="not consistent with its checkpoint of size 8"):
        log.checkpoint()


def test_verification_never_creates_a_signing_key(log: AuditLog) -> None:
    log.append(_event(0))
    with pytest.raises(AuditIntegrityError, match="no signed checkpoint"):
        verify_log(log)
    with pytest.raises(AuditError, match="no signing key"):
        log.verifier  # noqa: B018
    assert not (log.directory / "log.key").exists()


def test_snapshot_reads_from_another_thread_never_break_appends(log: AuditLog) -> None:
    """``verify_log`` reads through ``read_snapshot`` while a server thread appends."""
    failures: list[str] = []

    def append() -> None:
        for i in range(200):
            try:
                log.append(_event(i))
            except AuditError as exc:
                failures.append(str(exc))

    writer = threading.Thread(target=append)
    writer.start()
    while writer.is_alive():
        log.read_snapshot(lambda conn: conn.execute("SELECT COUNT(*) FROM leaves").fetchone())
    writer.join()
    assert failures == [] and log.size == 200
