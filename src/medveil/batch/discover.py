"""Find the DICOM files among the inputs of a batch.

Inputs may be files or folders (walked recursively, in sorted order so runs are
reproducible). A file is a candidate when it has the Part-10 ``DICM`` marker or,
lacking a preamble, when it starts like a raw DICOM data set and pydicom can
parse it with ``force=True`` (old archives and some modalities write such files).

Nothing here is fatal: non-DICOM files are reported as skipped, and media
directories (DICOMDIR) are reported as dropped because they index the original
file names (often PHI) and would be wrong for the new layout anyway. Files that
look like DICOM but are broken stay candidates: the runner quarantines them with
the parse error as the reason. Files and folders that cannot be read are
reported as quarantined (they were not de-identified: the run exits 1).
"""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.filereader import read_file_meta_info

from medveil.batch.outcome import FileOutcome, Status
from medveil.errors import UsageError

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
#: Groups a raw (preamble-less) data set can start with: file meta or identifying module.
_FIRST_GROUPS = {0x0002, 0x0008}


@dataclass(frozen=True)
class Candidate:
    """A file to de-identify, with the input root it was found under (for ``mirror``)."""

    path: Path
    root: Path


@dataclass
class Discovery:
    """Files to process, plus files reported without processing (skipped, dropped)."""

    candidates: list[Candidate] = field(default_factory=list)
    rejected: list[FileOutcome] = field(default_factory=list)


def discover(inputs: Sequence[Path], *, exclude: Iterable[Path] = ()) -> Discovery:
    """Classify every file under ``inputs``; folders in ``exclude`` are not entered.

    ``exclude`` holds the output and quarantine folders, so that a run writing
    into a subfolder of its input never reads its own results back.
    """
    excluded = {p.resolve() for p in exclude}
    found = Discovery()
    seen: set[Path] = set()
    for raw in inputs:
        item = raw.resolve()
        if not item.exists():
            raise UsageError(f"input does not exist: {raw}")
        root = item if item.is_dir() else item.parent
        for path in _walk(item, excluded, found.rejected):
            if path in seen:
                continue
            seen.add(path)
            rejection = _classify(path)
            if rejection is None:
                found.candidates.append(Candidate(path, root))
            else:
                found.rejected.append(rejection)
    return found


def _walk(item: Path, excluded: set[Path], unreadable: list[FileOutcome]) -> Iterable[Path]:
    """Yield the files under ``item`` (or ``item`` itself), sorted, skipping ``excluded``.

    A folder that cannot be listed, or whose entries cannot be examined, goes to
    ``unreadable`` as a quarantined outcome: its files were not de-identified, and
    a run that silently lost them would look complete.
    """
    if item.is_file():
        yield item
        return

    def refused(exc: OSError) -> None:
        unreadable.append(_unreadable(Path(exc.filename or item), exc))

    for dirpath, dirnames, filenames in os.walk(item, onerror=refused):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if (here / d).resolve() not in excluded)
        for name in sorted(filenames):
            path = here / name
            try:
                is_file = stat.S_ISREG(path.stat().st_mode)
            except FileNotFoundError:  # a dangling link, or gone since the listing
                continue
            except OSError as exc:  # listed but not searchable (a folder without x)
                unreadable.append(_unreadable(path, exc))
                continue
            if is_file:
                yield path.resolve()


def _unreadable(path: Path, exc: OSError) -> FileOutcome:
    return FileOutcome(path, Status.QUARANTINED, reason=f"unreadable: {exc.strerror or exc}")


def _classify(path: Path) -> FileOutcome | None:
    """``None`` for a candidate, otherwise the skipped/dropped outcome to report."""
    try:
        with path.open("rb") as fh:
            head = fh.read(132)
    except OSError as exc:
        return _unreadable(path, exc)
    if path.name.upper() == "DICOMDIR":
        return _dicomdir(path)
    if head[128:132] == b"DICM":
        try:
            meta = read_file_meta_info(path)
        except Exception:  # broken meta: let the runner quarantine it with the real error
            return None
        if meta.get("MediaStorageSOPClassUID") == MEDIA_STORAGE_DIRECTORY:
            return _dicomdir(path)
        return None
    if _looks_like_raw_dataset(path, head):
        return None
    return FileOutcome(path, Status.SKIPPED, reason="not a DICOM file")


def _looks_like_raw_dataset(path: Path, head: bytes) -> bool:
    """A preamble-less file counts as DICOM when it starts with a plausible group and parses."""
    if len(head) < 8:
        return False
    little, big = int.from_bytes(head[:2], "little"), int.from_bytes(head[:2], "big")
    if little not in _FIRST_GROUPS and big not in _FIRST_GROUPS:
        return False
    try:
        with warnings.catch_warnings():  # the runner reports a candidate's warnings
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, force=True, stop_before_pixels=True)
        return "SOPClassUID" in ds or "SOPInstanceUID" in ds
    except Exception:  # pydicom raises struct.error, NotImplementedError... on junk
        return False


def _dicomdir(path: Path) -> FileOutcome:
    return FileOutcome(
        path,
        Status.DROPPED,
        reason="DICOMDIR is never copied: it indexes original file names",
    )
