"""``medveil deid`` end to end: the real console script on real files.

Covers discovery (folders, preamble-less files, DICOMDIR, non-DICOM), the
study and mirror layouts, fail-closed quarantine, atomic output (no stray
temporary files), untouched inputs, exit codes and the JSON report. The last
test drives the runner as a library, with a sink that fails mid-run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.fileset import FileSet

import phi_corpus
from medveil.batch.discover import discover
from medveil.batch.outcome import FileOutcome, Status
from medveil.batch.runner import BatchRunner, RunConfig
from medveil.deid.policy import PixelMode, Policy
from medveil.errors import MedveilError

Medveil = Callable[..., subprocess.CompletedProcess[str]]


def tree_digest(root: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``root``."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def output_files(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file())


def read_report(path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(path.read_text())
    return report


def pydicom_testfile(name: str) -> Path:
    """One of the test files that come with pydicom itself."""
    return Path(str(get_testdata_file(name)))


def input_folder(tmp_path: Path, files: dict[str, Path]) -> Path:
    """``tmp_path / "in"`` holding a copy of each source file under its new name."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name, source in files.items():
        shutil.copy(source, folder / name)
    return folder


@pytest.fixture
def mixed_folder(
    tmp_path: Path, phi_files: list[phi_corpus.CorpusFile], pydicom_samples: Path
) -> Path:
    """Good files, a garbage one, a truncated one, a text file, a DICOMDIR and a raw data set."""
    folder = tmp_path / "in"
    (folder / "sub" / "deeper").mkdir(parents=True)
    shutil.copy(phi_files[0].path, folder / "good1.dcm")
    shutil.copy(phi_files[1].path, folder / "sub" / "deeper" / "good2")  # no extension
    # A Part-10 marker followed by noise, and a file cut short inside its pixel data.
    (folder / "sub" / "garbage.dcm").write_bytes(b"\0" * 128 + b"DICM" + bytes(range(256)) * 4)
    data = phi_files[2].path.read_bytes()
    (folder / "truncated.dcm").write_bytes(data[:-100])
    (folder / "notes.txt").write_text("not a DICOM file, skip me\n")
    # A data set without preamble/file meta, as old archives store them.
    ds = pydicom.dcmread(phi_files[3].path)
    del ds.file_meta
    ds.save_as(folder / "sub" / "raw_no_preamble", implicit_vr=True, little_endian=True)
    # A DICOMDIR indexing a copy of a good file.
    fileset = FileSet()
    fileset.add(pydicom.dcmread(phi_files[0].path))
    fileset.write(tmp_path / "media")
    shutil.copy(tmp_path / "media" / "DICOMDIR", folder / "DICOMDIR")
    return folder


def test_study_layout_report_and_untouched_inputs(
    medveil: Medveil, phi_root: Path, phi_files: list[phi_corpus.CorpusFile], tmp_path: Path
) -> None:
    before = tree_digest(phi_root)
    out, report_path = tmp_path / "out", tmp_path / "report.json"
    result = medveil("deid", phi_root, "--out", out, "--pixels", "off", "--report", report_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert tree_digest(phi_root) == before

    files = output_files(out)
    assert len(files) == len(phi_files)
    for path in files:
        parts = path.relative_to(out).parts
        assert len(parts) == 4
        ds = pydicom.dcmread(path)
        assert parts == (
            str(ds.PatientID),
            ds.StudyInstanceUID,
            ds.SeriesInstanceUID,
            f"{ds.SOPInstanceUID}.dcm",
        )
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID

    report = read_report(report_path)
    assert report["run"]["pixels"] == "off"
    assert report["run"]["preset"] == "research"
    assert report["counts"] == {"ok": len(phi_files), "quarantined": 0, "skipped": 0, "dropped": 0}
    assert all(f["status"] == "ok" and f["output"] for f in report["files"])
    assert report["timings"]["wall_s"] > 0
    assert "pixels: off" in result.stdout


def test_fail_closed_batch_goes_on(medveil: Medveil, mixed_folder: Path, tmp_path: Path) -> None:
    before = tree_digest(mixed_folder)
    out, quarantine, report_path = tmp_path / "out", tmp_path / "q", tmp_path / "r.json"
    result = medveil(
        "deid", mixed_folder, "--out", out, "--pixels", "off",
        "--quarantine", quarantine, "--report", report_path, "--workers", "2",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert tree_digest(mixed_folder) == before

    report = read_report(report_path)
    status = {Path(f["input"]).name: f for f in report["files"]}
    assert status["good1.dcm"]["status"] == "ok"
    assert status["good2"]["status"] == "ok"
    assert status["raw_no_preamble"]["status"] == "ok"
    assert status["notes.txt"]["status"] == "skipped"
    assert status["DICOMDIR"]["status"] == "dropped"
    for broken in ("garbage.dcm", "truncated.dcm"):
        assert status[broken]["status"] == "quarantined"
        assert status[broken]["reason"]
        assert status[broken]["output"] is None

    # Only the three good files are under --out: no DICOMDIR, no partial or temp files.
    files = output_files(out)
    assert len(files) == 3
    assert not [p for p in out.rglob("*") if p.name.startswith(".") or p.name == "DICOMDIR"]
    # Quarantine holds byte-identical copies of the originals plus a manifest with reasons.
    manifest = json.loads((quarantine / "quarantine.json").read_text())
    assert {Path(e["input"]).name for e in manifest} == {"garbage.dcm", "truncated.dcm"}
    for entry in manifest:
        assert (quarantine / entry["copy"]).read_bytes() == Path(entry["input"]).read_bytes()
        assert entry["reason"]


def test_unprocessable_file_is_quarantined(
    medveil: Medveil, tmp_path: Path, phi_files: list[phi_corpus.CorpusFile]
) -> None:
    """A readable file that processing refuses is quarantined with the reason, never written.

    Without a SOP Instance UID a file can be neither placed nor traced, so the
    run must refuse it whether the engine or the layout notices first.
    """
    folder = input_folder(tmp_path, {"good.dcm": phi_files[1].path})
    ds = pydicom.dcmread(phi_files[0].path)
    del ds.SOPInstanceUID
    del ds.file_meta.MediaStorageSOPInstanceUID
    ds.save_as(folder / "no_instance_uid.dcm")
    out, report_path = tmp_path / "out", tmp_path / "r.json"
    result = medveil("deid", folder, "--out", out, "--pixels", "off", "--report", report_path)
    assert result.returncode == 1, result.stdout + result.stderr
    report = read_report(report_path)
    by_name = {Path(f["input"]).name: f for f in report["files"]}
    assert by_name["no_instance_uid.dcm"]["status"] == "quarantined"
    assert "SOPInstanceUID" in by_name["no_instance_uid.dcm"]["reason"]
    assert by_name["good.dcm"]["status"] == "ok"
    assert len(output_files(out)) == 1
    assert report["quarantine_reasons"] == {by_name["no_instance_uid.dcm"]["reason"]: 1}


def test_rerun_is_stable_and_duplicates_are_skipped(
    medveil: Medveil, phi_files: list[phi_corpus.CorpusFile], tmp_path: Path
) -> None:
    source = phi_files[0].path
    folder = input_folder(tmp_path, {"a.dcm": source, "copy_of_a.dcm": source})
    out, report_path = tmp_path / "out", tmp_path / "r.json"
    first = medveil("deid", folder, "--out", out, "--pixels", "off", "--report", report_path)
    assert first.returncode == 0, first.stdout + first.stderr
    report = read_report(report_path)
    assert report["counts"]["ok"] == 1 and report["counts"]["skipped"] == 1
    assert "duplicate" in next(f["reason"] for f in report["files"] if f["status"] == "skipped")
    paths = [p.relative_to(out) for p in output_files(out)]
    again = medveil("deid", folder, "--out", out, "--pixels", "off", "--workers", "1")
    assert again.returncode == 0, again.stdout + again.stderr
    assert [p.relative_to(out) for p in output_files(out)] == paths  # same pseudonyms, same paths


def test_mirror_layout_warns_and_keeps_names(
    medveil: Medveil, phi_files: list[phi_corpus.CorpusFile], tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    (folder / "series").mkdir(parents=True)
    shutil.copy(phi_files[0].path, folder / "series" / "IM1.dcm")
    out = tmp_path / "out"
    result = medveil("deid", folder, "--out", out, "--pixels", "off", "--layout", "mirror")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PHI" in result.stderr
    assert (out / "in" / "series" / "IM1.dcm").is_file()


def test_output_inside_input_is_not_read_back(
    medveil: Medveil, phi_files: list[phi_corpus.CorpusFile], tmp_path: Path
) -> None:
    folder = input_folder(tmp_path, {"a.dcm": phi_files[0].path})
    for _ in range(2):  # the second run must not de-identify the first run's output
        result = medveil("deid", folder, "--out", folder / "clean", "--pixels", "off")
        assert result.returncode == 0, result.stdout + result.stderr
    assert len(output_files(folder / "clean")) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--option", "no-such-option"], "unknown --option"),
        (["--profile", "nope"], "nope"),
        (["--pixels", "sometimes"], "--pixels"),
        (["--quarantine", "{out}/q"], "--quarantine"),
        (["--report", "{out}/report.json"], "--report"),
        (["--policy", "{tmp}/missing.yaml"], "--policy"),
        (["--crosswalk", "{tmp}/missing.csv"], "--crosswalk"),
    ],
)
def test_usage_errors_exit_2(
    medveil: Medveil,
    phi_files: list[phi_corpus.CorpusFile],
    tmp_path: Path,
    extra: list[str],
    message: str,
) -> None:
    out = tmp_path / "out"
    args = [a.format(out=out, tmp=tmp_path) for a in extra]
    result = medveil("deid", phi_files[0].path, "--out", out, "--pixels", "off", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert not out.exists() or not output_files(out)


def test_missing_input_and_input_inside_out_exit_2(
    medveil: Medveil, phi_files: list[phi_corpus.CorpusFile], tmp_path: Path
) -> None:
    missing = medveil("deid", tmp_path / "nope", "--out", tmp_path / "out", "--pixels", "off")
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr
    out = tmp_path / "out2"
    (out / "in").mkdir(parents=True)
    shutil.copy(phi_files[0].path, out / "in" / "a.dcm")
    inside = medveil("deid", out / "in", "--out", out, "--pixels", "off")
    assert inside.returncode == 2
    assert "inside --out" in inside.stderr


def test_default_pixel_mode_is_phi_and_recorded(
    medveil: Medveil, phi_files: list[phi_corpus.CorpusFile], tmp_path: Path
) -> None:
    report_path = tmp_path / "r.json"
    small = next(f for f in phi_files if f.base == "ct")
    result = medveil("deid", small.path, "--out", tmp_path / "out", "--report", report_path)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    report = read_report(report_path)
    assert report["run"]["pixels"] == "phi"
    assert "clean-pixel-data" in report["run"]["options"]


@pytest.mark.parametrize(("flag", "expected"), [([], "all-text"), (["--pixels", "off"], "off")])
def test_pixel_mode_of_a_policy_file_applies_unless_the_flag_is_given(
    medveil: Medveil,
    phi_files: list[phi_corpus.CorpusFile],
    tmp_path: Path,
    flag: list[str],
    expected: str,
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("pixels: all-text\n")
    report_path = tmp_path / "r.json"
    small = next(f for f in phi_files if f.base == "ct")
    result = medveil(
        "deid", small.path, "--out", tmp_path / "out", "--report", report_path,
        "--policy", policy, *flag,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stdout + result.stderr
    run = read_report(report_path)["run"]
    assert run["pixels"] == expected
    assert ("clean-pixel-data" in run["options"]) is (expected != "off")


def test_policy_file_that_is_not_utf8_is_a_usage_error(
    medveil: Medveil, phi_files: list[phi_corpus.CorpusFile], tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_bytes(b"preset: research\noverrides:\n  PatientName: \xff\xfe K\n")
    result = medveil("deid", phi_files[0].path, "--out", tmp_path / "out", "--policy", policy)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "cannot read policy file" in result.stderr


def test_review_without_pixels_warns(
    medveil: Medveil, phi_files: list[phi_corpus.CorpusFile], tmp_path: Path
) -> None:
    result = medveil(
        "deid", phi_files[0].path, "--out", tmp_path / "out", "--pixels", "off",
        "--review", tmp_path / "review",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "--review has no effect" in result.stderr


def test_vault_receives_identity(
    medveil: Medveil, phi_files: list[phi_corpus.CorpusFile], tmp_path: Path
) -> None:
    vault = tmp_path / "vault.db"
    result = medveil(
        "deid", phi_files[0].path, phi_files[1].path, "--out", tmp_path / "out",
        "--pixels", "off", "--vault", vault, "--workers", "2",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert vault.exists()


def test_demo_finds_the_sample_packages() -> None:
    from medveil.commands.demo import sample_files

    names = {p.name for p in sample_files()}
    assert {"RG1_UNCR.dcm", "bad_sequence.dcm", "cat.dcm", "GREYSCALE_IMAGE.dcm"} <= names
    assert not [n for n in names if n.endswith(".zip")]


def test_crosswalk_pseudonyms_reach_every_worker(
    medveil: Medveil, phi_root: Path, phi_files: list[phi_corpus.CorpusFile], tmp_path: Path
) -> None:
    """Site-fixed subject IDs are used in the header and the layout, in a worker pool too."""
    crosswalk = tmp_path / "crosswalk.csv"
    subject = phi_files[0].patient_id
    crosswalk.write_text(f"original,replacement\n{subject},TRIAL-001\n")
    out = tmp_path / "out"
    result = medveil(
        "deid", phi_root, "--out", out, "--pixels", "off", "--crosswalk", crosswalk,
        "--workers", "2",
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stdout + result.stderr
    ids = {pydicom.dcmread(p).PatientID: p.relative_to(out).parts[0] for p in output_files(out)}
    assert ids.get("TRIAL-001") == "TRIAL-001"
    expected = sum(f.patient_id == subject for f in phi_files)
    assert len([p for p in output_files(out) if p.relative_to(out).parts[0] == "TRIAL-001"]) == (
        expected
    )


class _FailingVault:
    """A result sink that fails on its third file, as a full disk or a locked vault would."""

    wants_identity = True

    def __init__(self) -> None:
        self.accepted = 0
        self.closed = False

    def accept(self, outcome: FileOutcome) -> None:
        self.accepted += 1
        if self.accepted == 3:
            raise MedveilError("vault unavailable")
        if outcome.status is Status.OK:  # asked for identity: every written file carries it
            assert outcome.identity is not None

    def close(self) -> None:
        self.closed = True


def test_sink_failure_stops_the_run_cleanly(
    phi_root: Path, phi_files: list[phi_corpus.CorpusFile], tmp_path: Path
) -> None:
    """The run stops at the failing sink: queued files are cancelled, nothing half-written."""
    policy = Policy.preset_named("research")
    policy = Policy(options=policy.options, preset="research", pixels=PixelMode.OFF)
    out, sink = tmp_path / "out", _FailingVault()
    config = RunConfig(policy=policy, secret=b"k" * 32, out=out, workers=2)
    with pytest.raises(MedveilError, match="vault unavailable"):
        BatchRunner(config, [sink]).run(discover([phi_root]))
    assert sink.closed
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]
    assert len(output_files(out)) < len(phi_files)


def _run_pool(root: Path, out: Path, *, with_thread: bool) -> tuple[str, dict[str, str]]:
    """Run a 2-worker batch; with a live extra thread the runner must not fork."""
    policy = Policy(options=Policy.preset_named("research").options, pixels=PixelMode.OFF)
    config = RunConfig(policy=policy, secret=b"k" * 32, out=out, workers=2)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    if with_thread:
        thread.start()
    try:
        with BatchRunner(config) as runner:
            runner.start(discover([root]))
            assert runner._pool is not None
            kind = runner._pool._mp_context.get_start_method()
            runner.run(discover([root]))
    finally:
        stop.set()
    return kind, {str(p.relative_to(out)): p.read_bytes().hex() for p in output_files(out)}


def test_forked_and_forkserver_pools_write_the_same_files(
    phi_root: Path, phi_files: list[phi_corpus.CorpusFile], tmp_path: Path
) -> None:
    """A single-threaded parent forks its workers (they inherit the built engine); one that
    runs another thread gets a forkserver pool. Both must produce byte-identical outputs."""
    assert threading.active_count() == 1, "test needs a single-threaded start"
    forked_kind, forked = _run_pool(phi_root, tmp_path / "a", with_thread=False)
    server_kind, served = _run_pool(phi_root, tmp_path / "b", with_thread=True)
    assert (forked_kind, server_kind) == ("fork", "forkserver")
    assert len(forked) == len(phi_files)
    assert forked == served


def test_no_fsync_writes_the_same_files(
    medveil: Medveil, phi_root: Path, phi_files: list[phi_corpus.CorpusFile], tmp_path: Path
) -> None:
    """--no-fsync changes durability only: same outputs, recorded in the report."""
    outputs, reports = [], []
    for flag in ("--fsync", "--no-fsync"):
        out, report = tmp_path / flag, tmp_path / f"{flag}.json"
        result = medveil(
            "deid", phi_root, "--out", out, "--pixels", "off", "--report", report, flag
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        outputs.append({str(p.relative_to(out)): p.read_bytes() for p in output_files(out)})
        reports.append(read_report(report))
    assert len(outputs[0]) == len(phi_files)
    assert outputs[0] == outputs[1]
    assert [r["run"]["fsync"] for r in reports] == [True, False]
    assert not [p for p in (tmp_path / "--no-fsync").rglob("*.part")]


def test_deflated_file_keeps_its_pixels_with_pixels_off(medveil: Medveil, tmp_path: Path) -> None:
    """A deflated file is one zlib stream: the header-only fast path cannot copy its pixel
    bytes, so it is read in full -- the output must still hold the same image."""
    source = pydicom_testfile("image_dfl.dcm")
    folder, out = input_folder(tmp_path, {"dfl.dcm": source}), tmp_path / "out"
    result = medveil("deid", folder, "--out", out, "--pixels", "off")
    assert result.returncode == 0, result.stderr
    (written,) = output_files(out)
    original, clean = pydicom.dcmread(source), pydicom.dcmread(written)
    assert clean.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
    assert (clean.pixel_array == original.pixel_array).all()


@pytest.mark.parametrize("name", ["test-SR.dcm", "rtplan.dcm", "rtstruct.dcm", "waveform_ecg.dcm"])
def test_objects_without_an_image_pass_the_pixel_step(
    medveil: Medveil, tmp_path: Path, name: str
) -> None:
    """Structured reports, RT plans and structure sets, waveforms: no Pixel Data, so the
    default pixel step (phi) has nothing to clean -- they are written, not quarantined."""
    source = pydicom_testfile(name)
    folder = input_folder(tmp_path, {name: source})
    out, report_path = tmp_path / "out", tmp_path / "r.json"
    result = medveil("deid", folder, "--out", out, "--report", report_path)
    assert result.returncode == 0, result.stdout + result.stderr
    (entry,) = read_report(report_path)["files"]
    assert entry["status"] == "ok" and entry["pixels"].startswith("phi: 0 frame(s)")
    (written,) = output_files(out)
    clean = pydicom.dcmread(written)
    assert clean.SOPClassUID == pydicom.dcmread(source, force=True).SOPClassUID
    assert "BurnedInAnnotation" not in clean and "PixelData" not in clean


@pytest.mark.parametrize("pixels", ["off", "phi"])
def test_implicit_vr_file_declared_explicit_is_written_explicit(
    medveil: Medveil, tmp_path: Path, pixels: str
) -> None:
    """pydicom's SC_rgb_jpeg.dcm declares JPEG Baseline (explicit VR) but its elements are
    implicit VR: the output must be true explicit VR, every element with its VR, the
    encapsulated pixel data intact (it used to be quarantined: no VR to write)."""
    source = pydicom_testfile("SC_rgb_jpeg.dcm")
    folder, out = input_folder(tmp_path, {source.name: source}), tmp_path / "out"
    result = medveil("deid", folder, "--out", out, "--pixels", pixels)
    assert result.returncode == 0, result.stdout + result.stderr
    (written,) = output_files(out)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Expected explicit VR, but found implicit VR"
        clean = pydicom.dcmread(written)
        elements = list(clean._dict.values())  # as read: raw elements stay raw
    assert all(not getattr(e, "is_implicit_VR", False) and e.VR for e in elements)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        original = pydicom.dcmread(source)
    assert clean.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
    assert clean.PixelData == original.PixelData


@pytest.mark.parametrize("layout", ["study", "mirror"])
def test_file_names_that_are_not_utf8_are_handled(
    medveil: Medveil, tmp_path: Path, layout: str
) -> None:
    """Linux file names are bytes: a Latin-1 folder name or a binary file name must not
    stop the run (it used to crash the audit sink in the mirror layout). The report and
    the quarantine manifest stay valid JSON from which the exact names come back."""
    source = pydicom_testfile("CT_small.dcm")
    folder = tmp_path / "in"
    odd = Path(os.fsdecode(bytes(folder) + b"/Pati\xe9nt"))
    odd.mkdir(parents=True)
    image = Path(os.fsdecode(bytes(odd) + b"/\xff\xfeimg.dcm"))
    broken = Path(os.fsdecode(bytes(odd) + b"/broken\xff.dcm"))
    shutil.copy(source, image)
    broken.write_bytes(source.read_bytes()[:603])  # cut inside an element header
    out, quarantine, report_path = tmp_path / "out", tmp_path / "q", tmp_path / "r.json"
    result = medveil(
        "deid", folder, "--out", out, "--report", report_path, "--quarantine", quarantine,
        "--layout", layout, "--pixels", "off",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr  # the broken file
    status = {os.fsencode(f["input"]): f["status"] for f in read_report(report_path)["files"]}
    assert status == {bytes(image): "ok", bytes(broken): "quarantined"}
    (entry,) = json.loads((quarantine / "quarantine.json").read_bytes())
    assert os.fsencode(entry["input"]) == bytes(broken)
    assert len(output_files(out)) == 1


@pytest.mark.parametrize(
    ("cut", "reason"),
    [(603, "is shorter than its length"), (610, "ends inside an element header")],
)
@pytest.mark.parametrize("pixels", ["off", "phi"])
def test_header_cut_inside_an_element_is_quarantined(
    medveil: Medveil, tmp_path: Path, pixels: str, cut: int, reason: str
) -> None:
    """pydicom reads a file cut inside an element's value or header without a warning
    (it keeps the shorter value, or drops the partial header): the reader checks each
    length and the bytes left after the last element, so the half-file is refused."""
    data = pydicom_testfile("CT_small.dcm").read_bytes()
    truncated = pydicom_testfile("rtplan_truncated.dcm")
    folder = input_folder(tmp_path, {truncated.name: truncated})
    out, report_path = tmp_path / "out", tmp_path / "r.json"
    (folder / "cut.dcm").write_bytes(data[:cut])
    result = medveil(
        "deid", folder, "--out", out, "--report", report_path, "--layout", "mirror",
        "--pixels", pixels,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    entries = {Path(f["input"]).name: f for f in read_report(report_path)["files"]}
    assert entries["cut.dcm"]["status"] == "quarantined"
    assert reason in entries["cut.dcm"]["reason"]
    assert entries["rtplan_truncated.dcm"]["status"] == "quarantined"
    assert not output_files(out)


def test_kept_uids_never_place_a_file_outside_out(medveil: Medveil, tmp_path: Path) -> None:
    """``--option retain-uids`` keeps whatever the file holds: UIDs of ``..`` must not
    make the study layout climb out of ``--out`` (here onto the input itself)."""
    ds = pydicom.dcmread(pydicom_testfile("CT_small.dcm"))
    ds.StudyInstanceUID = ds.SeriesInstanceUID = ".."
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    work = tmp_path / "work"
    work.mkdir()
    source = work / "1.2.3.4.dcm"
    ds.save_as(source, enforce_file_format=True)
    before = tree_digest(work)
    out = work / "out"
    result = medveil(
        "deid", source, "--out", out, "--pixels", "off", "--option", "retain-uids"
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert tree_digest(work) == {**before, **{f"out/{k}": v for k, v in tree_digest(out).items()}}
    (written,) = output_files(out)
    assert written.relative_to(out).parts[1:] == ("__", "__", "1.2.3.4.dcm")


@pytest.mark.parametrize("junk", [b"\x08\x00\x20\x00OB\x96S", b"\x08\x00\x20\x00XX\x01\x00ab"])
def test_junk_that_starts_like_a_data_set_is_skipped(
    medveil: Medveil, tmp_path: Path, junk: bytes
) -> None:
    """A few bytes that begin like a raw data set make pydicom raise odd errors
    (struct.error, NotImplementedError): the file is skipped, the batch goes on."""
    folder = input_folder(tmp_path, {"good.dcm": pydicom_testfile("CT_small.dcm")})
    (folder / "junk.dcm").write_bytes(junk)
    out, report_path = tmp_path / "out", tmp_path / "r.json"
    result = medveil("deid", folder, "--out", out, "--pixels", "off", "--report", report_path)
    assert result.returncode == 0, result.stdout + result.stderr
    entries = {Path(f["input"]).name: f for f in read_report(report_path)["files"]}
    assert entries["junk.dcm"]["status"] == "skipped"
    assert entries["good.dcm"]["status"] == "ok"
    assert len(output_files(out)) == 1


def _encapsulated_secondary_capture(folder: Path, name: str, syntax: str, frame: bytes) -> Path:
    """A small data set whose one fragment is ``frame``, declared in ``syntax`` (written
    through a same-length placeholder: pydicom refuses the syntaxes it does not know)."""
    from pydicom.encaps import encapsulate

    ds = pydicom.dcmread(pydicom_testfile("SC_rgb_jpeg_dcmtk.dcm"))
    ds.PatientName, ds.PatientID = "Quillfeather^Zebulon", "QX99182736"
    ds.NumberOfFrames = 1
    # the value as written: padded to an even length with a NUL
    placeholder = "1.2.840.10008.1.2.4.100" if len(syntax) % 2 else "1.2.840.10008.1.2.4.50"
    ds.file_meta.TransferSyntaxUID = placeholder
    ds.PixelData = encapsulate([frame])
    path = folder / name
    ds.save_as(path, enforce_file_format=True)
    same_length = syntax.encode().ljust(len(placeholder) + len(placeholder) % 2, b"\0")
    padded = placeholder.encode().ljust(len(same_length), b"\0")
    path.write_bytes(path.read_bytes().replace(padded, same_length, 1))
    return path


@pytest.mark.parametrize(
    "syntax", ["1.2.840.10008.1.2.4.110", "1.2.840.10008.1.2.4.112", "1.2.840.10008.1.2.8.1"]
)
def test_transfer_syntaxes_newer_than_pydicom(
    medveil: Medveil, tmp_path: Path, syntax: str
) -> None:
    """JPEG XL and Deflated Image Frame Compression: written with --pixels off (pydicom
    refused to write them: every file was quarantined); the pixel step, which cannot
    decode them, quarantines with a reason that names the syntax."""
    folder = tmp_path / "in"
    folder.mkdir()
    _encapsulated_secondary_capture(folder, "new.dcm", syntax, b"\xff\x0a" + bytes(30))
    for pixels in ("off", "phi"):
        out, report_path = tmp_path / f"out-{pixels}", tmp_path / f"{pixels}.json"
        medveil("deid", folder, "--out", out, "--report", report_path, "--pixels", pixels)
        (entry,) = read_report(report_path)["files"]
        if pixels == "off":
            assert entry["status"] == "ok", entry["reason"]
            (written,) = output_files(out)
            assert pydicom.dcmread(written).file_meta.TransferSyntaxUID == syntax
        else:
            assert entry["status"] == "quarantined"
            assert "cannot decode pixel data" in entry["reason"] and syntax in entry["reason"]


def test_video_container_metadata_never_reaches_the_output(
    medveil: Medveil, tmp_path: Path
) -> None:
    """An MP4 stream's title box (udta/©nam) naming the patient, --pixels off: the box is
    turned into zeros in place, so the output holds neither the name nor the MRN."""

    def box(kind: bytes, payload: bytes) -> bytes:
        return (8 + len(payload)).to_bytes(4, "big") + kind + payload

    title = box(b"udta", box(b"\xa9nam", b"Quillfeather Zebulon QX99182736"))
    mp4 = box(b"ftyp", b"isom\0\0\2\0isomavc1") + box(b"moov", title) + box(b"mdat", bytes(64))
    folder = tmp_path / "in"
    folder.mkdir()
    _encapsulated_secondary_capture(folder, "video.dcm", "1.2.840.10008.1.2.4.102", mp4)
    out, report_path = tmp_path / "out", tmp_path / "r.json"
    result = medveil("deid", folder, "--out", out, "--report", report_path, "--pixels", "off")
    assert result.returncode == 0, result.stdout + result.stderr
    (written,) = output_files(out)
    data = written.read_bytes()
    assert b"Quillfeather" not in data and b"QX99182736" not in data
    assert len(pydicom.dcmread(written).PixelData) == len(
        pydicom.dcmread(folder / "video.dcm").PixelData
    )


@pytest.mark.parametrize("pixels", ["off", "phi"])
def test_native_pixel_data_beyond_its_image_is_cut(
    medveil: Medveil, tmp_path: Path, pixels: str
) -> None:
    """Bytes after the declared frames are never displayed, so they can hold anything:
    they do not reach the output, also when the pixel bytes are copied unread."""
    ds = pydicom.dcmread(pydicom_testfile("CT_small.dcm"))
    image = ds.PixelData
    ds.PixelData = image + b"ZEBULONQX MRNQ88231 "
    folder = tmp_path / "in"
    folder.mkdir()
    ds.save_as(folder / "long.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    result = medveil("deid", folder, "--out", out, "--pixels", pixels)
    assert result.returncode == 0, result.stdout + result.stderr
    (written,) = output_files(out)
    assert b"ZEBULONQX" not in written.read_bytes()
    assert len(pydicom.dcmread(written).PixelData) == len(image)


def test_native_pixel_data_shorter_than_its_image_is_quarantined(
    medveil: Medveil, tmp_path: Path
) -> None:
    ds = pydicom.dcmread(pydicom_testfile("CT_small.dcm"))
    ds.PixelData = ds.PixelData[:-512]
    folder = tmp_path / "in"
    folder.mkdir()
    ds.save_as(folder / "short.dcm", enforce_file_format=True)
    out, report_path = tmp_path / "out", tmp_path / "r.json"
    result = medveil("deid", folder, "--out", out, "--pixels", "off", "--report", report_path)
    assert result.returncode == 1, result.stdout + result.stderr
    (entry,) = read_report(report_path)["files"]
    assert "shorter than the image it declares" in entry["reason"]
    assert not output_files(out)


@pytest.mark.parametrize("mode", [0o000, 0o444], ids=["not listable", "not searchable"])
def test_folder_that_cannot_be_read_is_reported_and_the_run_goes_on(
    tmp_path: Path, home: Path, mode: int
) -> None:
    """Its files were not de-identified: they are reported quarantined (exit 1), never
    lost silently, and the rest of the batch is written. Root reads any folder, so
    there the command runs without the capabilities that let it."""
    folder = input_folder(tmp_path, {"top.dcm": pydicom_testfile("CT_small.dcm")})
    locked = folder / "locked"
    locked.mkdir()
    shutil.copy(pydicom_testfile("MR_small.dcm"), locked / "inner.dcm")
    out, report_path = tmp_path / "out", tmp_path / "r.json"
    caps = "-dac_override,-dac_read_search"
    as_user = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", "--"]
    if os.geteuid() == 0 and subprocess.run([*as_user, "true"]).returncode != 0:
        pytest.skip("root here cannot drop its file capabilities (setpriv refused)")
    medveil = Path(sys.executable).with_name("medveil")
    command = [*(as_user if os.geteuid() == 0 else []), str(medveil), "--home", str(home)]
    command += ["deid", str(folder), "--out", str(out), "--pixels", "off"]
    command += ["--report", str(report_path)]
    locked.chmod(mode)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    finally:
        locked.chmod(0o755)
    assert result.returncode == 1, result.stdout + result.stderr
    entries = {Path(f["input"]).name: f for f in read_report(report_path)["files"]}
    assert entries["top.dcm"]["status"] == "ok"
    refused = entries["locked"] if mode == 0o000 else entries["inner.dcm"]
    assert refused["status"] == "quarantined"
    assert refused["reason"].startswith("unreadable: ")


def test_input_gone_before_its_quarantine_copy_is_reported(tmp_path: Path) -> None:
    """A file deleted between discovery and its quarantine copy (a PACS export still
    moving files) is reported with the copy missing; the later files are still done."""
    from medveil.batch.quarantine import QuarantineSink

    sink = QuarantineSink(tmp_path / "q")
    gone = tmp_path / "gone.dcm"
    sink.accept(FileOutcome(gone, Status.QUARANTINED, reason="DeidentificationError: x"))
    kept = tmp_path / "kept.dcm"
    kept.write_bytes(b"original")
    sink.accept(FileOutcome(kept, Status.QUARANTINED, reason="DeidentificationError: y"))
    sink.close()
    manifest = json.loads((tmp_path / "q" / "quarantine.json").read_text())
    assert manifest[0]["copy"] == "" and "not copied: No such file" in manifest[0]["reason"]
    assert (tmp_path / "q" / manifest[1]["copy"]).read_bytes() == b"original"


def test_float_pixel_data_beyond_its_image_is_cut() -> None:
    from medveil.batch.reader import fit_native_pixel_data

    ds = pydicom.Dataset()
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.BitsAllocated = 2, 2, 1, 32
    ds.PhotometricInterpretation = "MONOCHROME2"
    image = bytes(range(16))
    ds.FloatPixelData = image + b"ZEBULONQX MRN"
    fit_native_pixel_data(ds)
    assert ds.FloatPixelData == image


def test_packed_12_bit_pixel_data_is_left_as_it_is() -> None:
    """The retired BitsAllocated 12 packs two samples in three bytes; pydicom's length
    formula would count one byte a sample and cut a third of the image."""
    from medveil.batch.reader import declared_pixel_length, fit_native_pixel_data

    ds = pydicom.Dataset()
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.BitsAllocated = 64, 64, 1, 12
    ds.BitsStored, ds.PhotometricInterpretation = 12, "MONOCHROME2"
    ds.PixelData = bytes(64 * 64 * 3 // 2)
    assert declared_pixel_length(ds) is None
    fit_native_pixel_data(ds)
    assert len(ds.PixelData) == 64 * 64 * 3 // 2
