"""``medveil deid`` hands its outcomes to the audit log, the store and the review sheet."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

import phi_corpus

Medveil = Callable[..., subprocess.CompletedProcess[str]]


def _home_bytes(home: Path) -> bytes:
    """Everything stored under the data directory, concatenated (databases, WAL, keys...)."""
    return b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())


def _long_tokens(files: list[phi_corpus.CorpusFile]) -> set[str]:
    return {t for f in files for t in f.tokens if len(t) >= 5}


def test_deid_run_is_audited_without_phi(
    medveil: Medveil, home: Path, tmp_path: Path, phi_root: Path, phi_files: list
) -> None:
    out = tmp_path / "out"
    run = medveil("deid", phi_root, "--out", out, "--pixels", "off")
    assert run.returncode == 0, run.stderr

    shown = medveil("audit", "show")
    assert shown.returncode == 0, shown.stderr
    events = [json.loads(line)["event"] for line in shown.stdout.splitlines()]
    actions = [e["action"] for e in events]
    assert actions[0] == "deid.run.start" and actions[-1] == "deid.run.end"
    files = [e for e in events if e["action"] == "deid.file"]
    assert len(files) == len(phi_files)
    written = {p.relative_to(out).as_posix() for p in out.rglob("*.dcm")}
    assert {e["object_id"] for e in files} == written
    assert events[-1]["details"]["ok"] == len(phi_files)

    stored = _home_bytes(home)
    leaked = {t for t in _long_tokens(phi_files) if t.encode() in stored}
    assert not leaked, f"PHI in the data directory: {sorted(leaked)[:5]}"
    assert medveil("audit", "verify").returncode == 0


def test_store_flag_keeps_every_output_encrypted(
    medveil: Medveil, home: Path, tmp_path: Path, phi_root: Path, phi_files: list
) -> None:
    out = tmp_path / "out"
    run = medveil("deid", phi_root, "--out", out, "--pixels", "off", "--store")
    assert run.returncode == 0, run.stderr
    listed = medveil("store", "ls")
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.strip().splitlines()) == len(list(out.rglob("*.dcm")))
    assert medveil("store", "check").returncode == 0
    # the stored blobs are ciphertext: no output file's bytes appear under the home
    sample = next(out.rglob("*.dcm")).read_bytes()
    assert sample[132:4096] not in _home_bytes(home)


def test_review_sheet_for_burned_in_text(
    medveil: Medveil, tmp_path: Path, deid_samples: Path
) -> None:
    source = tmp_path / "in" / "GREYSCALE_IMAGE.dcm"
    source.parent.mkdir()
    shutil.copy(deid_samples / "ultrasounds" / "GREYSCALE_IMAGE.dcm", source)
    out, review = tmp_path / "out", tmp_path / "review"
    run = medveil("deid", source.parent, "--out", out, "--review", review, timeout=300)
    assert run.returncode == 0, run.stderr
    index = (review / "index.html").read_text()
    assert "(1 images)" in index
    thumbnails = sorted(p.name for p in review.glob("*.png"))
    assert len(thumbnails) == 2
    (written,) = out.rglob("*.dcm")
    assert all(name.startswith(written.stem) for name in thumbnails)  # named by the new UID


@pytest.mark.parametrize("inside", ["review", "quarantine"])
def test_phi_folders_inside_out_are_refused(
    medveil: Medveil, tmp_path: Path, phi_root: Path, inside: str
) -> None:
    out = tmp_path / "out"
    run = medveil("deid", phi_root, "--out", out, f"--{inside}", out / "x", "--pixels", "off")
    assert run.returncode == 2
    assert "must not be inside --out" in run.stderr
