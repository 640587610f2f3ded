"""``medveil audit``: key, checkpoint, show, prove and verify from the command line."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medveil.audit import AuditEvent, AuditLog, Verifier, open_checkpoint
from medveil.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from medveil.cli import app


def _run(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--home", str(home), "audit", *args])
    return result.exit_code, result.output


@pytest.fixture
def home(tmp_path: Path) -> Path:
    with AuditLog.open(tmp_path) as log:
        log.append_many([AuditEvent(actor="u", action="a", object_id=str(i)) for i in range(11)])
    return tmp_path


def test_verify_without_a_checkpoint_fails_with_a_hint(home: Path) -> None:
    code, output = _run(home, "verify")
    assert code == 1 and "medveil audit checkpoint" in output


def test_checkpoint_key_and_verify(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "cp.note"
    code, note = _run(home, "checkpoint", "--out", str(out))
    assert code == 0 and out.read_text() == note
    code, key = _run(home, "key")
    verifier = Verifier.parse(key)
    assert open_checkpoint(note, verifier).size == 11
    code, output = _run(home, "verify", "--checkpoint", str(out), "--key", key.strip())
    assert code == 0 and output.startswith("OK: 11 entries verified")


def test_verify_against_a_held_checkpoint_after_growth(home: Path, tmp_path: Path) -> None:
    held = tmp_path / "held.note"
    _run(home, "checkpoint", "--out", str(held))
    with AuditLog.open(home) as log:
        log.append(AuditEvent(actor="u", action="later"))
    code, output = _run(home, "verify", "--checkpoint", str(held))
    assert code == 0 and "12 entries verified" in output and "size 11" in output


def test_show_tail(home: Path) -> None:
    code, output = _run(home, "show", "--tail", "2")
    rows = [json.loads(line) for line in output.splitlines()]
    assert code == 0 and [r["index"] for r in rows] == [9, 10]
    assert rows[1]["event"]["object_id"] == "10"


def test_prove_inclusion_and_consistency(home: Path) -> None:
    code, output = _run(home, "prove", "--index", "6")
    proof = json.loads(output)
    decode = base64.b64decode
    assert code == 0
    assert verify_inclusion(
        6,
        proof["tree_size"],
        leaf_hash(proof["leaf"].encode()),
        [decode(p) for p in proof["proof"]],
        decode(proof["root"]),
    )
    code, output = _run(home, "prove", "--old-size", "5")
    proof = json.loads(output)
    assert verify_consistency(
        5, 11, decode(proof["old_root"]), decode(proof["root"]), [decode(p) for p in proof["proof"]]
    )


def test_prove_needs_exactly_one_target(home: Path) -> None:
    assert _run(home, "prove")[0] == 2
    assert _run(home, "prove", "--index", "99")[0] == 2


def _witnessed_setup(home: Path, tmp_path: Path) -> tuple[str, str, Path, Path]:
    """Log key, witness verifier key, witness key file, first checkpoint cosigned."""
    first = tmp_path / "cp1.note"
    _run(home, "checkpoint", "--out", str(first))
    _, log_key = _run(home, "key")
    key_file = tmp_path / "witness.key"
    code, witness = _run(home, "witness-key", "ethics-board", "--out", str(key_file))
    assert code == 0 and key_file.stat().st_mode & 0o777 == 0o600
    cosigned = tmp_path / "cp1.cosigned"
    code, note = _run(
        home, "cosign", str(first), "--witness-key", str(key_file),
        "--log-key", log_key.strip(), "--out", str(cosigned),
    )  # fmt: skip
    assert code == 0, note
    assert open_checkpoint(note, Verifier.parse(log_key), [Verifier.parse(witness)], 1).size == 11
    return log_key.strip(), witness.strip(), key_file, cosigned


def test_witness_cosigns_and_verify_requires_it(home: Path, tmp_path: Path) -> None:
    _, witness, key_file, cosigned = _witnessed_setup(home, tmp_path)
    code, output = _run(home, "verify", "--witness", witness)
    assert code == 1 and "witness cosignature" in output  # cosigned, but not stored yet
    code, output = _run(home, "adopt", str(cosigned))
    assert code == 0 and "size 11" in output
    code, output = _run(home, "verify", "--witness", witness)
    assert code == 0 and output.startswith("OK: 11 entries verified")
    code, stranger = _run(home, "witness-key", "stranger", "--out", str(tmp_path / "s.key"))
    code, output = _run(home, "verify", "--witness", stranger.strip())
    assert code == 1
    code, output = _run(home, "witness-key", "again", "--out", str(key_file))
    assert code != 0 and "never overwritten" in output


def test_witness_checks_the_new_checkpoint_extends_the_last_one(home: Path, tmp_path: Path) -> None:
    log_key, _, key_file, cosigned = _witnessed_setup(home, tmp_path)
    with AuditLog.open(home) as log:
        log.append(AuditEvent(actor="u", action="later"))
    second = tmp_path / "cp2.note"
    _run(home, "checkpoint", "--out", str(second))
    code, proof = _run(home, "prove", "--old-size", "11")
    good = tmp_path / "proof.json"
    good.write_text(proof)
    cosign = ["cosign", str(second), "--witness-key", str(key_file), "--log-key", log_key]
    code, output = _run(home, *cosign, "--previous", str(cosigned), "--proof", str(good))
    assert code == 0, output
    document = json.loads(proof)
    first_hash = bytearray(base64.b64decode(document["proof"][0]))
    first_hash[0] ^= 1
    document["proof"][0] = base64.b64encode(bytes(first_hash)).decode()
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document))
    code, output = _run(home, *cosign, "--previous", str(cosigned), "--proof", str(forged))
    assert code == 1 and "does not extend" in output
    code, output = _run(home, *cosign, "--previous", str(second), "--proof", str(good))
    assert code == 1 and "sizes" in output
    code, output = _run(home, *cosign, "--previous", str(cosigned))
    assert code != 0 and "together" in output
