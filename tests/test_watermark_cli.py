"""``medveil watermark embed`` and ``medveil trace`` through the real console script."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest

from medveil.audit import AuditLog
from medveil.watermark import attacks
from medveil.watermark.registry import ExportRegistry

Run = Callable[..., subprocess.CompletedProcess[str]]


def _export_id(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[1]


def _embed(
    medveil: Run, source: Path, target: Path, recipient: str = "a", purpose: str = "b", *extra: str
) -> subprocess.CompletedProcess[str]:
    """``medveil watermark embed SOURCE TARGET --recipient ... --purpose ... [extra]``."""
    return medveil(
        "watermark", "embed", source, target, "--recipient", recipient, "--purpose", purpose, *extra
    )


def test_dicom_export_is_traced_from_a_windowed_jpeg(
    medveil: Run, home: Path, pydicom_samples: Path, tmp_path: Path
) -> None:
    source = pydicom_samples / "RG1_UNCR.dcm"
    out = tmp_path / "export.dcm"
    result = _embed(medveil, source, out, "Dr. Ada Lovelace", "tumour board")
    export_id = _export_id(result)

    original, marked = pydicom.dcmread(source), pydicom.dcmread(out)
    assert marked.SOPInstanceUID == original.SOPInstanceUID
    assert marked.PatientID == original.PatientID
    assert not np.array_equal(marked.pixel_array, original.pixel_array)

    leak = tmp_path / "leak.jpg"
    screenshot = attacks.window_to_8bit(marked.pixel_array, center=15000, width=30000, invert=True)
    cv2.imwrite(
        str(leak), attacks.jpeg(attacks.crop(attacks.resize(screenshot, 0.5), 0.2, "top"), 80)
    )
    traced = medveil("trace", leak)
    assert traced.returncode == 0, traced.stdout + traced.stderr
    assert f"export id: {export_id}" in traced.stdout
    assert "recipient: Dr. Ada Lovelace" in traced.stdout
    assert "purpose: tumour board" in traced.stdout
    assert original.SOPInstanceUID in traced.stdout
    assert "false-positive probability <=" in traced.stdout

    untouched = medveil("trace", source)
    assert untouched.returncode == 1
    assert "no watermark found" in untouched.stdout


def test_png_round_trip_with_region_of_interest(
    medveil: Run, home: Path, deid_samples: Path, tmp_path: Path
) -> None:
    cat = pydicom.dcmread(deid_samples / "animals" / "cat.dcm").pixel_array
    png = tmp_path / "cat.png"
    cv2.imwrite(str(png), cv2.resize(attacks.window_to_8bit(cat), (1024, 872)))
    out = tmp_path / "cat-marked.png"
    export_id = _export_id(_embed(medveil, png, out, "vet", "course", "--roi", "100,100,300,200"))
    before, after = (
        cv2.imread(str(png), cv2.IMREAD_UNCHANGED),
        cv2.imread(str(out), cv2.IMREAD_UNCHANGED),
    )
    assert np.array_equal(before[100:300, 100:400], after[100:300, 100:400])
    traced = medveil("trace", out)
    assert f"export id: {export_id}" in traced.stdout
    bad_roi = _embed(medveil, png, tmp_path / "x.png", "a", "b", "--roi", "1,2")
    assert bad_roi.returncode == 2


def test_registry_and_key_are_private(
    medveil: Run, home: Path, pydicom_samples: Path, tmp_path: Path
) -> None:
    result = _embed(
        medveil,
        pydicom_samples / "MR2_UNCR.dcm",
        tmp_path / "mr.dcm",
        "Recipient-Zebra-42",
        "Purpose-Okapi-17",
    )
    export_id = int(_export_id(result), 16)
    database = home / "watermark" / "exports.db"
    raw = database.read_bytes()
    assert b"Recipient-Zebra-42" not in raw and b"Purpose-Okapi-17" not in raw
    for path in (database, home / "watermark" / "key"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    registry = ExportRegistry(home)
    try:
        record = registry.lookup(export_id)
    finally:
        registry.close()
    assert record is not None and record.recipient == "Recipient-Zebra-42"
    with AuditLog.open(home) as log:
        events = [entry.event for entry in log.entries()]
    embeds = [event for event in events if event.action == "watermark.embed"]
    assert [event.object_id for event in embeds] == [f"{export_id:08X}"]
    assert embeds[0].purpose == "Purpose-Okapi-17"
    assert "Recipient-Zebra-42" not in repr(embeds[0])


def test_export_is_refused_when_the_audit_log_is_unavailable(
    medveil: Run, home: Path, pydicom_samples: Path, tmp_path: Path
) -> None:
    (home / "audit").write_text("not a directory")
    out = tmp_path / "never.dcm"
    result = _embed(medveil, pydicom_samples / "MR2_UNCR.dcm", out, "r", "p")
    assert result.returncode == 1
    assert "export refused, nothing written" in result.stderr
    assert not out.exists()
    assert not list(tmp_path.glob(".never.dcm*"))
    with sqlite3.connect(home / "watermark" / "exports.db") as connection:
        assert connection.execute("select count(*) from exports").fetchone() == (0,)


@pytest.mark.parametrize("name", ["notes.txt"])
def test_unreadable_input_is_a_usage_error(
    medveil: Run, home: Path, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_text("hello")
    assert medveil("trace", path).returncode == 2
    assert _embed(medveil, path, tmp_path / "o.png").returncode == 2


def test_palette_colour_is_refused(
    medveil: Run, home: Path, pydicom_samples: Path, tmp_path: Path
) -> None:
    result = _embed(medveil, pydicom_samples / "OBXXXX1A_rle_2frame.dcm", tmp_path / "o.dcm")
    assert result.returncode == 2 and "PALETTE COLOR" in result.stderr


def test_compressed_dicom_is_written_uncompressed_and_traced(
    medveil: Run, home: Path, pydicom_samples: Path, tmp_path: Path
) -> None:
    out = tmp_path / "mr.dcm"
    export_id = _export_id(_embed(medveil, pydicom_samples / "MR2_J2KR.dcm", out, "lab", "qa"))
    assert pydicom.dcmread(out).file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    assert f"export id: {export_id}" in medveil("trace", out).stdout
