"""The floor of any pydicom-based header engine: the work it cannot skip, and nothing else.

Per file: read the header with pydicom (stopping before the pixel data), convert
every value once (an engine must read a value to decide about it), write the
header back with pydicom, and copy the pixel data element's bytes in the kernel
(``copy_file_range``, as medveil does). No value is changed, nothing is
checked, no report or audit log is written, and the output goes straight to its
final name. One process per core, forked, like ``medveil --workers N``.

The time this takes is a lower bound for medveil's header path, which does all
of this plus the de-identification itself; the benchmark shows it next to the
3x target so that the target can be read against what pydicom alone costs.

    .venv/bin/python benchmarks/peers/pydicom_floor.py INPUT_DIR OUTPUT_DIR [WORKERS]
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset


def read_every_value(ds: Dataset) -> None:
    """Convert each element from its raw form (iterating a dataset does), items included."""
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                read_every_value(item)


def round_trip(job: tuple[Path, Path]) -> None:
    """Header through pydicom, pixel data through the kernel."""
    source, dest = job
    dest.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as fh, dest.open("wb") as out:
        ds = pydicom.dcmread(fh, stop_before_pixels=True, force=True)
        offset, left = fh.tell(), os.fstat(fh.fileno()).st_size - fh.tell()
        read_every_value(ds)
        ds.save_as(out)
        out.flush()
        while left > 0:
            copied = os.copy_file_range(fh.fileno(), out.fileno(), left, offset)
            if copied == 0:
                break
            offset, left = offset + copied, left - copied


def main(source: Path, out: Path, workers: int) -> None:
    jobs = [(p, out / p.relative_to(source)) for p in sorted(source.rglob("*")) if p.is_file()]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.map(round_trip, jobs, chunksize=4)


if __name__ == "__main__":
    count = int(sys.argv[3]) if len(sys.argv) > 3 else os.cpu_count() or 1
    main(Path(sys.argv[1]), Path(sys.argv[2]), count)
