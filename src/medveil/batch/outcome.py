"""What the batch runner reports for each input file, and who receives it.

A :class:`FileOutcome` crosses the process boundary (worker -> parent), so it is
a plain picklable dataclass. Its ``identity`` is filled only when a sink asked
for it (``wants_identity = True``), because the original header is PHI and
should not travel between processes without a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from medveil.deid.identity import IdentityRecord


class Status(StrEnum):
    """The fate of one input file."""

    OK = "ok"  # de-identified and written under --out
    QUARANTINED = "quarantined"  # could not be proven clean; nothing written under --out
    SKIPPED = "skipped"  # not a DICOM file, or a duplicate of an instance already written
    DROPPED = "dropped"  # DICOM but deliberately not carried over (DICOMDIR)


@dataclass
class FileOutcome:
    """The result of processing one input file (see docs/ARCHITECTURE.md)."""

    input: Path
    status: Status
    output: Path | None = None
    reason: str | None = None
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    identity: IdentityRecord | None = None
    pixel_summary: str | None = None  # short, PHI-free description of the pixel step
    notes: list[str] = field(default_factory=list)  # reader warnings (invalid values...)


class ResultSink(Protocol):
    """Receives every outcome in the parent process, in input order.

    A sink that needs the original identity (the vault) sets the class attribute
    ``wants_identity = True``; the runner then attaches an ``IdentityRecord``.
    """

    def accept(self, outcome: FileOutcome) -> None:
        """Handle one outcome; an exception here aborts the run (fail closed)."""

    def close(self) -> None:
        """Flush and release whatever the sink holds; called once, after the last outcome."""


def wants_identity(sink: ResultSink) -> bool:
    """Whether ``sink`` needs identity records (opt-in attribute, absent means no)."""
    return bool(getattr(sink, "wants_identity", False))
