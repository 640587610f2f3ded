"""The run report: a JSON file for machines and a rich summary for people.

The report names input paths (an operator needs them to find a quarantined
file), and input paths may contain PHI, so ``medveil deid`` refuses to write it
inside ``--out``. It
records the policy actually applied, including ``pixels: off``, so that a data
set released without pixel cleaning can always be identified as such.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from medveil import __version__
from medveil.batch.outcome import FileOutcome, Status
from medveil.batch.writer import write_json


class BatchReport:
    """A result sink that accumulates per-file outcomes, counts and timings."""

    def __init__(self, run: dict[str, Any]) -> None:
        self.run = run  # PHI-free run parameters: preset, options, pixels, layout, workers...
        self.files: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.stage_totals: Counter[str] = Counter()
        self.bytes_in = 0
        self._started = time.time()
        self._clock = time.perf_counter()
        self.wall_s = 0.0

    def accept(self, outcome: FileOutcome) -> None:
        """Record one outcome (identity records are never copied into the report)."""
        self.counts[outcome.status.value] += 1
        if outcome.status is Status.QUARANTINED:
            self.reasons[outcome.reason or "unknown"] += 1
        if outcome.status is Status.OK:
            self.bytes_in += _size(outcome.input)
        self.stage_totals.update(outcome.timings)
        self.files.append(
            {
                "input": str(outcome.input),
                "status": outcome.status.value,
                "output": str(outcome.output) if outcome.output else None,
                "reason": outcome.reason,
                "pixels": outcome.pixel_summary,
                "notes": outcome.notes,
                "timings_s": {k: round(v, 6) for k, v in outcome.timings.items()},
            }
        )

    def close(self) -> None:
        """Stop the wall clock: the run is over."""
        self.wall_s = time.perf_counter() - self._clock

    @property
    def quarantined(self) -> int:
        """How many files were quarantined (decides the exit code)."""
        return self.counts[Status.QUARANTINED.value]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: run parameters, counts, reasons, timings, then every file."""
        processed = self.counts[Status.OK.value] + self.quarantined
        return {
            "medveil_version": __version__,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._started)),
            "run": self.run,
            "counts": {s.value: self.counts[s.value] for s in Status},
            "quarantine_reasons": dict(self.reasons.most_common()),
            "timings": {
                "wall_s": round(self.wall_s, 3),
                "files_per_s": round(processed / self.wall_s, 2) if self.wall_s else None,
                "mb_in_per_s": round(self.bytes_in / 1e6 / self.wall_s, 2) if self.wall_s else None,
                "stage_totals_s": {k: round(v, 3) for k, v in self.stage_totals.items()},
            },
            "files": self.files,
        }

    def write(self, path: Path) -> None:
        """Write the JSON report atomically (callers keep it out of ``--out``: it names inputs)."""
        write_json(path, self.to_dict())

    def print_summary(self, console: Console) -> None:
        """Counts, the pixel mode and the quarantined files with their reasons."""
        table = Table(title="medveil deid", show_header=True)
        table.add_column("status")
        table.add_column("files", justify="right")
        for status in Status:
            table.add_row(status.value, str(self.counts[status.value]))
        console.print(table)
        processed = self.counts[Status.OK.value] + self.quarantined
        rate = processed / self.wall_s if self.wall_s else 0.0
        console.print(
            f"pixels: {self.run.get('pixels')}  preset: {self.run.get('preset')}  "
            f"wall: {self.wall_s:.2f} s  ({rate:.1f} files/s)"
        )
        problems = [f for f in self.files if f["status"] != Status.OK.value]
        if problems:
            detail = Table(title="not written", show_header=True)
            detail.add_column("status")
            detail.add_column("file")
            detail.add_column("reason", overflow="fold")
            for entry in problems:
                name = _printable(Path(entry["input"]).name)
                detail.add_row(entry["status"], name, _printable(entry["reason"] or ""))
            console.print(detail)


def _printable(text: str) -> str:
    """``text`` with the bytes of a name that is not UTF-8 shown as ``\\xNN`` escapes, so
    the console never receives invalid UTF-8 (nor a lone surrogate it cannot encode).

    >>> _printable(os.fsdecode(b"Pati\\xe9nt.dcm"))
    'Pati\\\\xe9nt.dcm'
    """
    return os.fsencode(text).decode("utf-8", "backslashreplace")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
