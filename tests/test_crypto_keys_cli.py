"""``medveil keys rotate`` and ``medveil keys shred`` over a real store and vault."""

from __future__ import annotations

import json
from pathlib import Path

from pydicom import Dataset
from typer.testing import CliRunner

from medveil.audit import AuditLog
from medveil.cli import app
from medveil.crypto import LocalKeyring
from medveil.deid.identity import identity_record
from medveil.vault import VaultSink
from store_instances import make_instance

PASSWORD = "a long operator password"


def medveil(home: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    env = {"MEDVEIL_OPERATOR_PASSWORD": PASSWORD}
    result = CliRunner().invoke(app, ["--home", str(home), *args], env=env, input=stdin)
    return result.exit_code, result.output


def _populate(home: Path, tmp_path: Path) -> dict[str, str]:
    """One stored image and one vault entry per subject; returns subject -> address."""
    addresses = {}
    sink = VaultSink(home / "vault.db", home)
    for seed, subject in enumerate(("MV-KEEP", "MV-GONE")):
        path = tmp_path / f"{subject}.dcm"
        path.write_bytes(make_instance(subject, seed=seed))
        code, output = medveil(home, "store", "put", str(path))
        assert code == 0, output
        addresses[subject] = output.strip()
        original = Dataset()
        original.PatientName, original.PatientID = f"Name^{seed}", f"PID-{seed}"
        sink.vault.add(identity_record(original, subject, {}, None))
    sink.close()
    assert medveil(home, "vault", "operator", "add", "op")[0] == 0
    return addresses


def _reidentify(home: Path, subject: str) -> tuple[int, str]:
    return medveil(home, "reidentify", subject, "--operator", "op", "--reason", "audit test")


def test_rotate_rewraps_store_and_vault_and_retires(tmp_path: Path) -> None:
    home = tmp_path / "home"
    addresses = _populate(home, tmp_path)
    code, output = medveil(home, "keys", "rotate", "--retire")
    assert code == 0, output
    assert "store: re-wrapped 2" in output and "vault: re-wrapped 2" in output
    assert "retired KEK version 1" in output
    assert LocalKeyring(home / "keyring").versions() == [2]
    for subject, address in addresses.items():
        code, output = medveil(home, "store", "get", address, str(tmp_path / "o.dcm"))
        assert code == 0, output
        code, output = _reidentify(home, subject)
        assert code == 0 and json.loads(output)["records"] == 1
    assert medveil(home, "store", "check")[0] == 0


def test_shred_makes_one_subject_unreadable_everywhere(tmp_path: Path) -> None:
    home = tmp_path / "home"
    addresses = _populate(home, tmp_path)
    code, _ = medveil(home, "keys", "shred", "MV-GONE", stdin="n\n")
    assert code == 1  # declined at the prompt: nothing destroyed
    assert _reidentify(home, "MV-GONE")[0] == 0

    code, output = medveil(home, "keys", "shred", "MV-GONE", "--yes")
    assert code == 0 and "shredded MV-GONE" in output
    code, output = medveil(home, "store", "get", addresses["MV-GONE"], str(tmp_path / "g.dcm"))
    assert code == 1 and "shredded" in output
    code, output = _reidentify(home, "MV-GONE")
    assert code == 1 and "shredded" in output
    assert medveil(home, "store", "get", addresses["MV-KEEP"], str(tmp_path / "k.dcm"))[0] == 0
    assert _reidentify(home, "MV-KEEP")[0] == 0
    code, output = medveil(home, "store", "check")
    assert code == 0 and "verified 1, failed 0, shredded 1" in output
    # rotation after shredding still succeeds and skips what can no longer be opened
    code, output = medveil(home, "keys", "rotate")
    assert code == 0 and "skipped shredded 1" in output

    with AuditLog.open(home) as audit:
        events = [e.event for e in audit.entries()]
    shreds = [e for e in events if e.action == "keys.shred"]
    assert [e.object_id for e in shreds] == ["MV-GONE"]
    assert any(e.action == "keys.rotate" for e in events)


def test_rotate_keeps_old_versions_when_a_blob_cannot_be_rewrapped(tmp_path: Path) -> None:
    home = tmp_path / "home"
    addresses = _populate(home, tmp_path)
    blob = home / "store" / "blobs" / addresses["MV-KEEP"][:2] / addresses["MV-KEEP"]
    blob.write_bytes(blob.read_bytes()[:50])  # truncated: cannot be opened any more
    code, output = medveil(home, "keys", "rotate", "--retire")
    assert code == 1 and f"FAIL {addresses['MV-KEEP']}" in output and "kept" in output
    assert LocalKeyring(home / "keyring").versions() == [1, 2]
    # the other subject was re-wrapped and still reads
    code, output = medveil(home, "store", "get", addresses["MV-GONE"], str(tmp_path / "g.dcm"))
    assert code == 0, output
