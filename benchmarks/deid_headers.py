"""Header de-identification benchmark: medveil against its peers and a plain copy.

Corpus: 200 files from ``tests/phi_corpus.py`` -- half of them full-size chest
radiographs (RG1_UNCR pixel data, 1955 x 1841, 16 bit, about 7 MB each), half
small CT/ultrasound/JPEG 2000 MR images -- with PHI injected everywhere
(sequences, private tags of three vendors, free text, file meta, preamble).

Tools, each run as a fresh process over the same folder, best of ``--repeat``
rounds in which the tools take turns (a change of load on the shared machine then
touches every tool alike):

* ``medveil deid --pixels off`` (research preset; one worker per core, and
  one worker): by default, and with ``--no-fsync`` (atomic renames without
  the per-file flush, the durability of the peers and of the copy),
* dicognito (``python -m dicognito -o OUT``, its defaults),
* pydicom/deid (``replace_identifiers`` with its default recipe ``deid.dicom``,
  see ``peers/run_deid.py``),
* Kitware dicom-anonymizer (its default rules, per file; its command line does
  not recurse into folders, see ``peers/run_dicom_anonymizer.py``),
* ``shutil.copytree``: the physical floor (no parsing, no fsync),
* ``peers/pydicom_floor.py``: the floor of any pydicom-based engine (read each header,
  convert every value, write it back, copy the pixel data in the kernel; one process
  per core), to read the 3x target against.

Every output tree is searched by ``tests/leakscan.py`` for the injected tokens.
medveil's modules are byte-compiled first (``compileall``), as the peers' are by pip:
an editable install compiles at first import, which a machine that sets
``PYTHONDONTWRITEBYTECODE`` repeats at every start (0.15 s).
By default medveil fsyncs each output file before its atomic rename; the peers
and the copy do not, so the targets are checked on the like-for-like row
(``--no-fsync``), and the default row is set against a copy that fsyncs too.

The peers live in their own virtual environment so that their pins never touch
the project's; it is created on first use, equivalent to::

    python3 -m venv .venv-bench
    .venv-bench/bin/pip install -e . dicognito==0.19.0 deid==0.4.13 dicom-anonymizer==2.1.0

Run from the repository root with the project venv::

    .venv/bin/python -m benchmarks.deid_headers            # rewrites the deid_headers section
    .venv/bin/python -m benchmarks.deid_headers --files 40 --repeat 1   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests import leakscan, phi_corpus

from benchmarks.results import machine_description, write_section

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / ".work" / "deid_headers"
BENCH_VENV = ROOT / ".venv-bench"
PEERS = ("dicognito==0.19.0", "deid==0.4.13", "dicom-anonymizer==2.1.0")
PEER_SCRIPTS = Path(__file__).with_name("peers")
MEDVEIL = Path(sys.executable).with_name("medveil")
FLOOR = "floor: pydicom read, write"  # what any pydicom engine must do: peers/pydicom_floor.py


@dataclass
class Measurement:
    """Best wall time of one tool plus what its output leaked."""

    tool: str
    seconds: float
    files_out: int
    leaks: int = 0
    leaky_files: int = 0
    leaked_kinds: str = ""
    note: str = ""
    leak_places: str = ""  # most frequent element/location of the surviving tokens
    startup: float = 0.0  # best wall time on a one-file corpus: start-up and fixed costs

    def per_file_ms(self, files: int) -> float:
        """Marginal cost of one more file: what the time grows by beyond the one-file run."""
        return (self.seconds - self.startup) / max(files - 1, 1) * 1000


def ensure_bench_venv() -> Path:
    """The peers' interpreter, creating ``.venv-bench`` with pinned peers if needed."""
    python = BENCH_VENV / "bin" / "python"
    probe = "import dicognito, deid, dicomanonymizer"
    if (
        python.exists()
        and subprocess.run([python, "-c", probe], capture_output=True).returncode == 0
    ):
        return python
    subprocess.run([sys.executable, "-m", "venv", BENCH_VENV], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", "-e", ROOT, *PEERS], check=True)
    return python


def make_corpus(folder: Path, count: int) -> list[phi_corpus.CorpusFile]:
    """Half chest radiographs, half small images (CT, ultrasound, JPEG 2000 MR)."""
    shutil.rmtree(folder, ignore_errors=True)
    bases = ("chest", "ct", "chest", "us", "chest", "mr-j2k")
    return phi_corpus.write_corpus(folder, count, seed=2026, bases=bases)


def tree_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


Tool = Callable[[Path], str]  # runs into the given output folder; returns a note ("" if fine)


def tools(bench_python: Path, corpus: Path) -> dict[str, Tool]:
    """Every contender, by the name shown in the results table."""
    cores = str(os.cpu_count() or 1)
    src = str(corpus)
    medveil = [str(MEDVEIL), "--home", str(WORK / "home"), "deid", src, "--pixels", "off"]
    medveil += ["--report", str(WORK / "medveil-report.json"), "--out"]
    deid_driver = str(PEER_SCRIPTS / "run_deid.py")
    anonymizer = str(PEER_SCRIPTS / "run_dicom_anonymizer.py")
    floor = [sys.executable, str(PEER_SCRIPTS / "pydicom_floor.py"), src]
    peer = str(bench_python)
    return {
        "copy (shutil.copytree)": lambda out: _copytree(corpus, out),
        "copy + fsync per file": lambda out: _copy_synced(corpus, out),
        f"medveil --workers {cores}": lambda out: _run([*medveil, str(out), "--workers", cores]),
        f"medveil --workers {cores} --no-fsync": lambda out: _run(
            [*medveil, str(out), "--workers", cores, "--no-fsync"]
        ),
        "medveil --workers 1 --no-fsync": lambda out: _run(
            [*medveil, str(out), "--workers", "1", "--no-fsync"]
        ),
        f"{FLOOR} (--workers {cores})": lambda out: _run([*floor, str(out), cores]),
        "dicognito": lambda out: _run([peer, "-m", "dicognito", "-q", "-o", str(out), src]),
        "pydicom/deid": lambda out: _run([peer, deid_driver, src, str(out)]),
        "dicom-anonymizer": lambda out: _run([peer, anonymizer, src, str(out)]),
    }  # fmt: skip


def _run(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode in (0, 1):  # medveil: 1 = some files quarantined (counted separately)
        return ""
    return f"exit {result.returncode}: {(result.stderr or result.stdout).strip()[-200:]}"


def _copytree(corpus: Path, out: Path) -> str:
    shutil.copytree(corpus, out)
    return ""


def _copy_synced(corpus: Path, out: Path) -> str:
    """A copy as durable as medveil's output: every file fsynced before the next."""
    for source in sorted(corpus.rglob("*")):
        if source.is_file():
            dest = out / source.relative_to(corpus)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
            with dest.open("rb+") as fh:
                os.fsync(fh.fileno())
    return ""


Inspect = Callable[[str, Path], object]  # looks at a tool's output before it is deleted


def best_times(
    contenders: dict[str, Tool], corpus_name: str, repeat: int, inspect: Inspect | None = None
) -> dict[str, tuple[float, str]]:
    """Best wall time (and note) of each tool over ``repeat`` rounds, the tools interleaved
    in every round so that a change of load on the shared machine hits all of them alike.

    Each output is deleted as soon as it was timed (and, in the last round, inspected), so
    no tool runs while the page cache writes back another's gigabyte.
    """
    best: dict[str, tuple[float, str]] = {}
    for round_ in range(repeat):
        for name, tool in contenders.items():
            out = WORK / "out" / corpus_name / name.replace("/", "-").replace(" ", "_")
            shutil.rmtree(out, ignore_errors=True)
            start = time.perf_counter()
            note = tool(out)
            seconds = time.perf_counter() - start
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, note or best.get(name, (0.0, ""))[1])
            if inspect is not None and round_ == repeat - 1:
                inspect(name, out)
            shutil.rmtree(out, ignore_errors=True)
    return best


def scan(out: Path, tokens: dict[str, str]) -> tuple[int, int, str, str]:
    """(leak count, files with leaks, kinds, where) over an output tree, names included."""
    leaks = leakscan.scan_tree(out, tokens)
    kinds = sorted({leak.kind for leak in leaks})
    where = Counter(f"{leak.location.split(' @')[0]} ({leak.kind})" for leak in leaks)
    places = "; ".join(f"{place} x{n}" for place, n in where.most_common(4))
    return len(leaks), len({leak.path for leak in leaks}), ", ".join(kinds), places


def medveil_stages() -> str:
    """Per-stage totals from the last medveil run's own report (where its time goes)."""
    report = json.loads((WORK / "medveil-report.json").read_text())
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in report["timings"]["stage_totals_s"].items())
    counts = ", ".join(f"{k} {v}" for k, v in report["counts"].items() if v)
    workers = report["run"]["workers"]
    return f"Last medveil run (--workers {workers}): {counts}; time summed by stage: {stages}."


def markdown(results: list[Measurement], files: int, size: int, load: tuple[float, float]) -> str:
    by_name = {m.tool: m for m in results}
    unsynced = [m for m in results if m.tool.startswith("medveil") and "no-fsync" in m.tool]
    medveil = min(unsynced, key=lambda m: m.seconds)  # same durability as peers and copy
    durable = min(
        (m for m in results if m.tool.startswith("medveil") and m not in unsynced),
        key=lambda m: m.seconds,
    )
    copy = by_name["copy (shutil.copytree)"]
    lines = [
        "## Header de-identification (`benchmarks/deid_headers.py`)",
        "",
        f"Machine: {machine_description()}",
        f"Corpus: {files} files, {size / 1e6:.0f} MB (half 1955x1841 16-bit chest radiographs), "
        f"PHI injected by `tests/phi_corpus.py`; surviving tokens found by `tests/leakscan.py` "
        f"(8-digit structured dates excluded here, see `tests/test_leaks.py` for those). "
        f"Best of the rounds (tools take turns in each); each tool is a fresh process "
        f"(medveil byte-compiled first, as pip compiles the peers). "
        f"Load average before/after: {load[0]:.2f} / {load[1]:.2f} (other jobs share the CPUs).",
        "",
        "| tool | wall s | files/s | MB/s | time / medveil | time / copy | one file s "
        "| ms per extra file | surviving tokens (files) | kinds | files out | note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for m in results:
        mb_s = size / 1e6 / m.seconds
        lines.append(
            f"| {m.tool} | {m.seconds:.2f} | {files / m.seconds:.1f} | {mb_s:.0f} "
            f"| {m.seconds / medveil.seconds:.2f} | {m.seconds / copy.seconds:.2f} "
            f"| {m.startup:.2f} | {m.per_file_ms(files):.2f} "
            f"| {m.leaks} ({m.leaky_files}) | {m.leaked_kinds} | {m.files_out} | {m.note} |"
        )
    peers = [m for m in results if not m.tool.startswith(("medveil", "copy", FLOOR))]
    floor = next(m for m in results if m.tool.startswith(FLOOR))
    synced = by_name["copy + fsync per file"]
    fastest = min(peers, key=lambda m: m.seconds)
    speedup, vs_copy = fastest.seconds / medveil.seconds, medveil.seconds / copy.seconds
    lines += [
        "",
        f"Like for like (no flush to disk, as the peers and the copy): medveil "
        f"(best: {medveil.tool}) is {speedup:.2f}x faster than the fastest peer "
        f"({fastest.tool}; target >= 3x) and takes {vs_copy:.2f}x the time of a plain copy "
        f"(target <= 3x); surviving tokens: {medveil.leaks} (target 0).",
        f"medveil's default ({durable.tool}) fsyncs every file before its atomic rename: "
        f"{durable.seconds:.2f} s, {durable.seconds / synced.seconds:.2f}x a copy with the same "
        f"durability (copy + fsync per file), {fastest.seconds / durable.seconds:.2f}x the "
        "fastest peer's speed. The copy rows' surviving tokens are what the corpus holds.",
        f"Where medveil's surviving tokens are: {medveil.leak_places or 'none'}.",
        "",
        f"Fixed cost against work per file: a one-file run takes medveil "
        f"{medveil.startup:.2f} s (interpreter, pydicom and numpy, typer, the audit log and "
        f"its signed checkpoint) and {fastest.tool} {fastest.startup:.2f} s; beyond it, each "
        f"extra file costs medveil {medveil.per_file_ms(files):.2f} ms and {fastest.tool} "
        f"{fastest.per_file_ms(files):.2f} ms, "
        f"{fastest.per_file_ms(files) / medveil.per_file_ms(files):.2f}x. "
        f"At {files} files the 3x target leaves medveil {fastest.seconds / 3:.2f} s in all.",
        "",
        f"The floor of any pydicom-based engine ({floor.tool}: each header read with pydicom, "
        "every value converted once, the header written back, the pixel data copied in the "
        "kernel; nothing changed, checked, reported or logged) takes "
        f"{floor.seconds:.2f} s: {floor.seconds / (fastest.seconds / 3):.0%} of the 3x budget "
        f"({fastest.seconds / floor.seconds:.2f}x the fastest peer's speed, "
        f"{floor.seconds / copy.seconds:.2f}x the copy's time). medveil takes "
        f"{medveil.seconds / floor.seconds:.2f}x the floor's time.",
        "",
        medveil_stages(),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print, do not touch RESULTS.md")
    args = parser.parse_args()
    bench_python = ensure_bench_venv()
    # The peers come from wheels, byte-compiled by pip; medveil is installed editable, and a
    # machine that sets PYTHONDONTWRITEBYTECODE would compile it again at every start
    subprocess.run([sys.executable, "-m", "compileall", "-q", ROOT / "src"], check=True)
    corpus = WORK / "corpus"
    corpus_files = make_corpus(corpus, args.files)
    # 8-digit dates are left out: peers rename files, so outputs cannot be matched to
    # their inputs, and a corpus-wide search would count another patient's shifted
    # date as a leak. Dates in free text (ISO form) are still searched.
    tokens = {t: k for t, k in phi_corpus.all_tokens(corpus_files).items() if not t.isdigit()}
    files, size = tree_size(corpus)
    load_before = os.getloadavg()[0]
    one = WORK / "one-file"
    shutil.rmtree(one, ignore_errors=True)
    one.mkdir(parents=True)
    shutil.copy2(corpus_files[0].path, one / corpus_files[0].path.name)
    results = []
    scans: dict[str, tuple[int, int, int, str, str]] = {}

    def inspect(name: str, out: Path) -> None:
        leaks, leaky, kinds, places = scan(out, tokens) if out.exists() else (0, 0, "", "")
        scans[name] = (tree_size(out)[0] if out.exists() else 0, leaks, leaky, kinds, places)

    startups = best_times(tools(bench_python, one), "one", args.repeat)
    timings = best_times(tools(bench_python, corpus), "all", args.repeat, inspect)
    for name, (seconds, note) in timings.items():
        count, leaks, leaky, kinds, places = scans[name]
        results.append(
            Measurement(name, seconds, count, leaks, leaky, kinds, note, places, startups[name][0])
        )
        print(
            f"{name:28} {seconds:7.2f} s  files out {count:4}  leaks {leaks} ({leaky} files) {note}"
        )
    text = markdown(results, files, size, (load_before, os.getloadavg()[0]))
    print(text)
    if not args.no_write:
        write_section("deid_headers", text)
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
