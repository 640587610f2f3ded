"""The encrypted image store against real SQLite and a real PostgreSQL server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

import postgres
from medveil.audit import AuditError, AuditLog
from medveil.crypto import KeyDestroyed, LocalKeyring, key_ref
from medveil.errors import IntegrityError, UsageError
from medveil.store import ImageStore
from store_instances import make_instance

_DB_NAMES = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    with postgres.running_server() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def index_url(request: pytest.FixtureRequest) -> str | None:
    """None (the default SQLite file in the home) or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    server: str = request.getfixturevalue("postgres_server")
    return postgres.create_database(server, f"store_{next(_DB_NAMES)}")


@pytest.fixture
def store(home: Path, audit: AuditLog, index_url: str | None) -> Iterator[ImageStore]:
    opened = ImageStore(home, audit=audit, actor="tester", url=index_url)
    yield opened
    opened.close()


def test_round_trip_dedup_and_metadata(store: ImageStore) -> None:
    first = make_instance("MV-AAA", seed=1)
    address = store.put(first)
    assert store.get(address) == first
    assert store.put(first) == address  # same content, same address, one object
    second = store.put(make_instance("MV-BBB", seed=2))
    assert second != address
    rows = {row.address: row for row in store.ls()}
    assert set(rows) == {address, second}
    row = rows[address]
    assert (row.subject, row.modality, row.study_uid, row.size) == (
        "MV-AAA",
        "DX",
        "2.25.21",
        len(first),
    )
    assert row.cipher == "aes-256-gcm"
    assert [r.address for r in store.ls("MV-BBB")] == [second]
    # the blob on disk is sealed, not the DICOM file
    blob = store.blobs.path(address).read_bytes()
    assert blob[:4] == b"MVSB" and first[200:400] not in blob


def test_sm4_store(home: Path, audit: AuditLog, index_url: str | None) -> None:
    store = ImageStore(home, audit=audit, actor="t", url=index_url, cipher="sm4-gcm")
    data = make_instance("MV-SM4", seed=3)
    address = store.put(data)
    assert store.get(address) == data
    assert next(iter(store.ls())).cipher == "sm4-gcm"
    store.close()


def test_refuses_files_that_are_not_deidentified(store: ImageStore) -> None:
    with pytest.raises(UsageError, match="PatientIdentityRemoved"):
        store.put(make_instance("MV-X", seed=4, removed=False))
    with pytest.raises(UsageError, match="DICOM"):
        store.put(b"just some bytes, not DICOM")
    with pytest.raises(UsageError, match="no object"):
        store.get("0" * 64)
    assert store.count() == 0


def test_every_operation_is_audited_by_address(store: ImageStore, audit: AuditLog) -> None:
    address = store.put(make_instance("MV-AUD", seed=5))
    store.get(address)
    store.check()
    events = [e.event for e in audit.entries()]
    assert [(e.action, e.object_id) for e in events] == [
        ("store.write", address),
        ("store.read", address),
        ("store.check", None),
    ]
    assert events[0].details["subject"] == "MV-AUD"
    assert all(e.actor == "tester" for e in events)


def test_a_failing_audit_log_refuses_the_operation(store: ImageStore, audit: AuditLog) -> None:
    address = store.put(make_instance("MV-FC", seed=6))
    audit.close()  # every append now fails
    with pytest.raises(AuditError):
        store.put(make_instance("MV-FC", seed=7))
    with pytest.raises(AuditError):
        store.get(address)
    assert store.count() == 1
    assert list(store.blobs.addresses()) == [address]


def test_check_detects_altered_swapped_and_missing_blobs(store: ImageStore) -> None:
    addresses = [store.put(make_instance(f"MV-{i}", seed=10 + i)) for i in range(4)]
    report = store.check()
    assert report.ok and report.verified == 4
    altered = bytearray(store.blobs.path(addresses[0]).read_bytes())
    altered[-5] ^= 0x40
    store.blobs.path(addresses[0]).write_bytes(altered)
    store.blobs.path(addresses[1]).write_bytes(store.blobs.path(addresses[2]).read_bytes())
    store.blobs.path(addresses[3]).unlink()
    report = store.check()
    assert not report.ok
    assert sorted(a for a, _ in report.failures) == sorted(
        [addresses[0], addresses[1], addresses[3]]
    )
    assert report.verified == 1
    for address in (addresses[0], addresses[1]):
        with pytest.raises(IntegrityError):
            store.get(address)


def test_rotation_keeps_everything_readable(store: ImageStore) -> None:
    data = {store.put(make_instance(f"MV-R{i}", seed=20 + i)): i for i in range(3)}
    keyring = store.keyring
    assert isinstance(keyring, LocalKeyring)
    keyring.rotate()
    report = store.rewrap()
    assert (report.rewrapped, report.shredded) == (3, 0)
    keyring.retire(1)
    for address, i in data.items():
        assert key_ref(store.blobs.path(address).read_bytes()).kek_version == 2
        assert store.get(address) == make_instance(f"MV-R{i}", seed=20 + i)
    assert store.check().ok
    again = store.rewrap()
    assert (again.rewrapped, again.current) == (0, 3)


def test_rewrap_reports_blobs_it_cannot_open(store: ImageStore) -> None:
    good = store.put(make_instance("MV-OK", seed=25))
    bad = store.put(make_instance("MV-BAD", seed=26))
    store.blobs.path(bad).write_bytes(b"MVSB" + bytes(200))
    store.keyring.rotate()
    report = store.rewrap()
    assert report.rewrapped == 1 and [a for a, _ in report.failures] == [bad]
    assert key_ref(store.blobs.path(good).read_bytes()).kek_version == 2


def test_shredding_a_subject_leaves_the_others(store: ImageStore) -> None:
    gone = store.put(make_instance("MV-GONE", seed=30))
    kept = store.put(make_instance("MV-KEPT", seed=31))
    store.keyring.shred("MV-GONE")
    with pytest.raises(KeyDestroyed):
        store.get(gone)
    assert store.get(kept) == make_instance("MV-KEPT", seed=31)
    report = store.check()
    assert report.ok and (report.verified, report.shredded) == (1, 1)
    with pytest.raises(KeyDestroyed):
        store.put(make_instance("MV-GONE", seed=32))
    with pytest.raises(KeyDestroyed):  # not even as a duplicate of what is already stored
        store.put(make_instance("MV-GONE", seed=30))


def test_index_is_migrated_and_reopens(store: ImageStore, home: Path, audit: AuditLog) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
    assert {"objects", "alembic_version"} <= set(inspect(store.engine).get_table_names())
    address = store.put(make_instance("MV-RE", seed=40))
    url = store.engine.url.render_as_string(hide_password=False)
    again = ImageStore(home, audit=audit, actor="t", url=url)
    assert again.get(address) == make_instance("MV-RE", seed=40)
    again.close()


def test_store_files_are_private(store: ImageStore, home: Path) -> None:
    store.put(make_instance("MV-P", seed=50))
    for path in (home / "store").rglob("*"):
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), path
