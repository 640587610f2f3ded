"""The batch runner behind ``medveil deid``.

Discovery finds the DICOM files, worker processes de-identify them, the writer
puts each result atomically into the chosen layout, and sinks in the parent
process (report, quarantine, vault) receive every outcome in input order.

Only the lightweight outcome types are re-exported here, so that a sink can
import them without pulling in pydicom or the engine.
"""

from __future__ import annotations

from medveil.batch.outcome import FileOutcome, ResultSink, Status

__all__ = ["FileOutcome", "ResultSink", "Status"]
