"""``medveil reidentify`` and ``medveil vault operator`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydicom import Dataset
from typer.testing import CliRunner

from medveil.audit import AuditLog
from medveil.cli import app
from medveil.deid.identity import identity_record
from medveil.vault import VaultSink

PASSWORD = "a long operator password"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    original = Dataset()
    original.PatientName, original.PatientID = "Lovelace^Ada", "PID-1815"
    original.StudyInstanceUID = "1.2.40.0.13.1.1"
    sink = VaultSink(home / "vault.db", home)
    sink.vault.add(identity_record(original, "MV-ADA", {"1.2.40.0.13.1.1": "2.25.55"}, -30))
    sink.close()
    return home


def medveil(home: Path, *args: str, password: str | None = PASSWORD) -> tuple[int, str]:
    env = {"MEDVEIL_OPERATOR_PASSWORD": password} if password is not None else {}
    result = CliRunner().invoke(app, ["--home", str(home), *args], env=env)
    return result.exit_code, result.output


def test_operator_can_reidentify_and_every_attempt_is_audited(home: Path) -> None:
    assert medveil(home, "vault", "operator", "add", "ada-admin")[0] == 0
    code, output = medveil(home, "vault", "operator", "list")
    assert output.split() == ["ada-admin"]

    args = ["reidentify", "MV-ADA", "--operator", "ada-admin", "--reason", "incidental finding"]
    code, output = medveil(home, *args)
    assert code == 0, output
    found = json.loads(output)
    assert found["identity"] == {"PatientName": "Lovelace^Ada", "PatientID": "PID-1815"}
    assert found["uid_map"] == {"1.2.40.0.13.1.1": "2.25.55"}
    assert found["date_offset_days"] == [-30]

    code, output = medveil(home, *args, password="not the password")
    assert code == 1 and "denied" in output and "Lovelace" not in output
    code, output = medveil(home, "reidentify", "MV-ADA", "--operator", "nobody", "--reason", "x")
    assert code == 1 and "denied" in output

    with AuditLog.open(home) as audit:
        attempts = [e.event for e in audit.entries() if e.event.action == "vault.reidentify"]
    assert [(e.actor, e.decision) for e in attempts] == [
        ("ada-admin", "allow"),
        ("ada-admin", "deny"),
        ("nobody", "deny"),
    ]
    assert {e.object_id for e in attempts} == {"MV-ADA"}


def test_reason_and_operator_are_required(home: Path) -> None:
    code, _ = medveil(home, "reidentify", "MV-ADA", "--operator", "ada-admin")
    assert code == 2
    code, _ = medveil(home, "reidentify", "MV-ADA", "--reason", "why")
    assert code == 2


def test_operator_password_prompt_and_removal(home: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["--home", str(home), "vault", "operator", "add", "bob"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    short = runner.invoke(
        app, ["--home", str(home), "vault", "operator", "add", "eve"], input="short\nshort\n"
    )
    assert short.exit_code == 2 and "at least" in short.output
    assert medveil(home, "vault", "operator", "remove", "bob")[0] == 0
    assert medveil(home, "vault", "operator", "remove", "bob")[0] == 1
