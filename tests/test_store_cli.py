"""``medveil store put/get/ls/check`` through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from medveil.audit import AuditLog
from medveil.cli import app
from store_instances import make_instance


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def medveil(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--home", str(home), *args])
    return result.exit_code, result.output


def test_put_ls_get_check(home: Path, tmp_path: Path) -> None:
    files = []
    for i, subject in enumerate(("MV-A", "MV-B")):
        path = tmp_path / f"{i}.dcm"
        path.write_bytes(make_instance(subject, seed=i))
        files.append(path)
    code, output = medveil(home, "store", "put", *map(str, files))
    assert code == 0, output
    addresses = output.split()
    assert len(addresses) == 2 and all(len(a) == 64 for a in addresses)
    assert "0.dcm" not in output  # file names may carry PHI and are never echoed

    code, output = medveil(home, "store", "ls")
    assert code == 0
    lines = sorted(line.split("\t") for line in output.splitlines())
    assert sorted((f[0], f[1], f[2]) for f in lines) == sorted(
        [(addresses[0], "MV-A", "DX"), (addresses[1], "MV-B", "DX")]
    )
    code, output = medveil(home, "store", "ls", "--subject", "MV-B")
    assert output.split("\t")[0] == addresses[1]

    out = tmp_path / "back.dcm"
    code, output = medveil(home, "store", "get", addresses[0], str(out))
    assert code == 0, output
    assert out.read_bytes() == files[0].read_bytes()

    code, output = medveil(home, "store", "check")
    assert code == 0 and "verified 2, failed 0" in output

    blob = home / "store" / "blobs" / addresses[1][:2] / addresses[1]
    damaged = bytearray(blob.read_bytes())
    damaged[len(damaged) // 2] ^= 1
    blob.write_bytes(damaged)
    code, output = medveil(home, "store", "check")
    assert code == 1 and f"FAIL {addresses[1]}" in output and "verified 1, failed 1" in output
    code, output = medveil(home, "store", "get", addresses[1], str(tmp_path / "x.dcm"))
    assert code == 1 and not (tmp_path / "x.dcm").exists()

    with AuditLog.open(home) as audit:
        actions = [e.event.action for e in audit.entries()]
    assert actions.count("store.write") == 2 and actions.count("store.read") == 2


def test_usage_errors_exit_2(home: Path, tmp_path: Path) -> None:
    identified = tmp_path / "identified.dcm"
    identified.write_bytes(make_instance("Doe^John", seed=1, removed=False))
    code, output = medveil(home, "store", "put", str(identified))
    assert code == 2 and "PatientIdentityRemoved" in output
    code, output = medveil(home, "store", "put", str(tmp_path / "missing.dcm"))
    assert code == 2
    code, output = medveil(home, "store", "get", "f" * 64, str(tmp_path / "o.dcm"))
    assert code == 2 and "no object" in output
    code, output = medveil(home, "store", "get", "../etc/passwd", str(tmp_path / "o.dcm"))
    assert code == 2
    code, output = medveil(home, "store", "get", "f" * 64, str(tmp_path / "no" / "o.dcm"))
    assert code == 2 and "does not exist" in output
    code, output = medveil(home, "store", "put", "--cipher", "des", str(identified))
    assert code == 2 and "unknown cipher" in output


def test_sm4_cipher_option(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "a.dcm"
    path.write_bytes(make_instance("MV-SM", seed=3))
    code, output = medveil(home, "store", "put", "--cipher", "sm4-gcm", str(path))
    assert code == 0, output
    address = output.strip()
    blob = (home / "store" / "blobs" / address[:2] / address).read_bytes()
    assert blob[5] == 2  # the header's cipher id: SM4-GCM
    code, output = medveil(home, "store", "get", address, str(tmp_path / "b.dcm"))
    assert code == 0 and (tmp_path / "b.dcm").read_bytes() == path.read_bytes()
