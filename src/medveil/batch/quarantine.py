"""Collect copies of quarantined originals for human review (``--quarantine QDIR``).

The folder holds originals, i.e. PHI, so it is created private (mode 0700) and
must never be inside ``--out`` (``medveil deid`` refuses that). ``quarantine.json``
lists each copy with its source path and the reason, so a reviewer can fix the
cause and rerun.
"""

from __future__ import annotations

import json
from pathlib import Path

from medveil.batch.outcome import FileOutcome, Status
from medveil.batch.writer import copy_file, write_json

MANIFEST = "quarantine.json"


class QuarantineSink:
    """A result sink that copies every quarantined input into ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        manifest = self.folder / MANIFEST
        # Append to an earlier run's manifest so its copies are neither renumbered nor lost.
        self.entries: list[dict[str, str]] = (
            json.loads(manifest.read_text()) if manifest.is_file() else []
        )
        self._added = 0

    def accept(self, outcome: FileOutcome) -> None:
        """Copy the original of a quarantined file (byte for byte) for review."""
        if outcome.status is not Status.QUARANTINED:
            return
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        copy = self.folder / f"{len(self.entries) + 1:06d}-{outcome.input.name}"
        name, reason = copy.name, outcome.reason or ""
        try:
            copy_file(outcome.input, copy)
        except OSError as exc:  # unreadable, or gone since: the run goes on, the entry says so
            name, reason = "", f"{reason}; not copied: {exc.strerror or exc}"
        self.entries.append({"copy": name, "input": str(outcome.input), "reason": reason})
        self._added += 1

    def close(self) -> None:
        """Write the manifest (atomically) if this run quarantined anything."""
        if not self._added:
            return
        write_json(self.folder / MANIFEST, self.entries)
