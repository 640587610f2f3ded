"""The identity vault: sealed identities, guarded re-identification, shredding, rotation."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom import Dataset

from medveil.audit import AuditError, AuditLog
from medveil.batch.outcome import FileOutcome, Status, wants_identity
from medveil.crypto import KeyDestroyed, LocalKeyring
from medveil.deid.identity import IdentityRecord, identity_record
from medveil.errors import AccessDenied, UsageError
from medveil.vault import IdentityVault, VaultSink

PASSWORD = "correct horse battery staple"
PHI = {"name": "Doe^Jane", "id": "PID-884422", "birth": "19610203"}


def original(name: str, patient_id: str, birth: str, study_uid: str) -> Dataset:
    """An identified dataset as it arrives from the modality."""
    ds = Dataset()
    ds.PatientName = name
    ds.PatientID = patient_id
    ds.PatientBirthDate = birth
    ds.PatientSex = "F"
    ds.AccessionNumber = "ACC-" + patient_id
    ds.StudyInstanceUID = study_uid
    ds.PixelData = b"\x00" * 16
    return ds


def record(pseudonym: str, ds: Dataset) -> IdentityRecord:
    return identity_record(ds, pseudonym, {ds.StudyInstanceUID: "2.25.777"}, -120)


@pytest.fixture
def vault(home: Path, audit: AuditLog) -> Iterator[IdentityVault]:
    opened = IdentityVault(home / "vault.db", home=home, audit=audit, actor="batch")
    opened.add_operator("alice", PASSWORD)
    yield opened
    opened.close()


def test_authorised_operator_gets_the_identity_back(vault: IdentityVault) -> None:
    vault.add(record("MV-JANE", original(PHI["name"], PHI["id"], PHI["birth"], "1.2.3.4")))
    vault.add(record("MV-JANE", original(PHI["name"], PHI["id"], PHI["birth"], "1.2.3.5")))
    vault.add(record("MV-OTHER", original("Roe^Rick", "PID-1", "19700101", "1.2.9")))
    found = vault.reidentify("MV-JANE", operator="alice", password=PASSWORD, reason="incidental")
    summary = found.as_dict()
    assert summary["records"] == 2
    assert summary["identity"] == {
        "PatientName": PHI["name"],
        "PatientID": PHI["id"],
        "PatientBirthDate": PHI["birth"],
        "PatientSex": "F",
        "AccessionNumber": "ACC-" + PHI["id"],
    }
    assert summary["uid_map"] == {"1.2.3.4": "2.25.777", "1.2.3.5": "2.25.777"}
    assert summary["date_offset_days"] == [-120]
    assert vault.entry_count() == 3 and vault.entry_count("MV-JANE") == 2


@pytest.mark.parametrize(
    ("operator", "password", "reason", "why"),
    [
        ("alice", "wrong password!!", "incidental", "bad operator credentials"),
        ("mallory", PASSWORD, "incidental", "bad operator credentials"),
        ("alice", PASSWORD, "  ", "a reason is required"),
    ],
)
def test_denials_are_audited(
    vault: IdentityVault, audit: AuditLog, operator: str, password: str, reason: str, why: str
) -> None:
    vault.add(record("MV-JANE", original(PHI["name"], PHI["id"], PHI["birth"], "1.2.3.4")))
    with pytest.raises(AccessDenied):
        vault.reidentify("MV-JANE", operator=operator, password=password, reason=reason)
    last = list(audit.entries())[-1].event
    assert (last.action, last.decision, last.actor, last.object_id) == (
        "vault.reidentify",
        "deny",
        operator,
        "MV-JANE",
    )
    assert last.details == {"why": why}


def test_allowed_reidentification_is_audited_and_names_no_phi(
    vault: IdentityVault, audit: AuditLog
) -> None:
    vault.add(record("MV-JANE", original(PHI["name"], PHI["id"], PHI["birth"], "1.2.3.4")))
    vault.reidentify("MV-JANE", operator="alice", password=PASSWORD, reason="incidental finding")
    events = [e.event for e in audit.entries()]
    assert [(e.action, e.decision) for e in events] == [
        ("vault.operator.add", "allow"),
        ("vault.write", "allow"),
        ("vault.reidentify", "allow"),
    ]
    assert events[-1].reason == "incidental finding" and events[-1].actor == "alice"
    leaves = b"".join(e.leaf for e in audit.entries())
    for value in PHI.values():
        assert value.encode() not in leaves


def test_failing_audit_log_refuses_reads_and_writes(vault: IdentityVault, audit: AuditLog) -> None:
    vault.add(record("MV-JANE", original(PHI["name"], PHI["id"], PHI["birth"], "1.2.3.4")))
    audit.close()
    with pytest.raises(AuditError):
        vault.reidentify("MV-JANE", operator="alice", password=PASSWORD, reason="x")
    with pytest.raises(AuditError):
        vault.add(record("MV-JANE", original(PHI["name"], PHI["id"], PHI["birth"], "1.2.3.5")))
    with pytest.raises(AuditError):  # a denial that cannot be recorded is still a refusal
        vault.reidentify("MV-JANE", operator="alice", password="nope", reason="x")
    assert vault.entry_count() == 1


def test_unknown_pseudonym_is_a_usage_error(vault: IdentityVault) -> None:
    with pytest.raises(UsageError, match="no entry"):
        vault.reidentify("MV-NOBODY", operator="alice", password=PASSWORD, reason="x")


def test_shredding_makes_one_patient_unrecoverable(vault: IdentityVault) -> None:
    vault.add(record("MV-JANE", original(PHI["name"], PHI["id"], PHI["birth"], "1.2.3.4")))
    vault.add(record("MV-ROE", original("Roe^Rick", "PID-1", "19700101", "1.2.9")))
    vault.keyring.shred("MV-JANE")
    with pytest.raises(KeyDestroyed):
        vault.reidentify("MV-JANE", operator="alice", password=PASSWORD, reason="x")
    kept = vault.reidentify("MV-ROE", operator="alice", password=PASSWORD, reason="x")
    assert kept.identity()["PatientName"] == "Roe^Rick"


def test_rotation_keeps_entries_readable(vault: IdentityVault) -> None:
    vault.add(record("MV-JANE", original(PHI["name"], PHI["id"], PHI["birth"], "1.2.3.4")))
    vault.add(record("MV-GONE", original("Gone^G", "PID-2", "19800101", "1.2.8")))
    vault.keyring.shred("MV-GONE")
    keyring = vault.keyring
    assert isinstance(keyring, LocalKeyring)
    keyring.rotate()
    assert vault.rewrap() == (1, 1)
    keyring.retire(1)
    found = vault.reidentify("MV-JANE", operator="alice", password=PASSWORD, reason="x")
    assert found.identity()["PatientID"] == PHI["id"]


def test_vault_file_holds_nothing_identifying(vault: IdentityVault, home: Path) -> None:
    vault.add(record("MV-JANE", original(PHI["name"], PHI["id"], PHI["birth"], "1.2.3.4")))
    raw = b"".join(p.read_bytes() for p in home.glob("vault.db*"))
    for needle in (*PHI.values(), "MV-JANE", "1.2.3.4"):
        assert needle.encode() not in raw
    with sqlite3.connect(home / "vault.db") as conn:
        (index,) = conn.execute("SELECT subject_index FROM entries").fetchone()
    assert len(index) == 32  # an HMAC, not the pseudonym


def test_sink_seals_records_and_skips_outcomes_without_one(home: Path) -> None:
    jane = record("MV-JANE", original(PHI["name"], PHI["id"], PHI["birth"], "1.2"))
    sink = VaultSink(home / "v.db", home)
    assert wants_identity(sink)
    sink.accept(FileOutcome(home / "a.dcm", Status.OK, output=home / "o.dcm", identity=jane))
    sink.accept(FileOutcome(home / "b.dcm", Status.QUARANTINED, reason="burned-in text"))
    sink.close()
    assert sink.entries == 1


def test_operator_passwords_are_hashed_and_checked(vault: IdentityVault, home: Path) -> None:
    with pytest.raises(UsageError, match="at least"):
        vault.add_operator("bob", "short")
    assert vault.operator_names() == ["alice"]
    with sqlite3.connect(home / "vault.db") as conn:
        (stored,) = conn.execute("SELECT password_hash FROM operators").fetchone()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert vault.remove_operator("alice") and not vault.remove_operator("alice")
