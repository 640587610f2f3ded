"""Atomic file writes, so that ``--out`` never holds a half-written file.

A file is first *staged*: written to a hidden temporary name in its destination
folder and flushed to disk (``fdatasync``: the data and the size, all a later
read needs; ``fsync`` where the OS lacks it). Committing it is a single
``os.replace`` over the destination, so a crash leaves either nothing, the
previous file, or a stray hidden ``.*.part`` file (swept when a run aborts) --
never a truncated DICOM file that looks complete. Files are created private
(mode 0600, ``mkstemp``).

The header is encoded by :func:`medveil.batch.header_writer.encode_file`: the
bytes ``Dataset.save_as(enforce_file_format=True)`` writes, several times
faster; for the files it declines (deflated or undeclared transfer syntax, ...)
``save_as`` itself writes them.

``fsync=False`` (``medveil deid --no-fsync``) skips the flush: the rename is
still atomic for every reader, but after a power cut the newest outputs may
be missing or empty, as with ``cp`` (the inputs are untouched, so a rerun
restores them). It exists because the flush, not the de-identification, is
what bounds a batch on a fast disk.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from pydicom.dataset import Dataset

from medveil.batch.header_writer import UnsupportedEncoding, encode_file
from medveil.batch.reader import PixelSpan
from medveil.errors import DeidentificationError

CLEAN_PREAMBLE = b"\0" * 128
STAGED_SUFFIX = ".part"


def stage_dataset(
    ds: Dataset, dest: Path, pixels: PixelSpan | None = None, *, fsync: bool = True
) -> Path:
    """Write ``ds`` as a Part-10 file next to ``dest``; return the staged path to commit.

    With ``pixels``, the pixel data element is appended byte for byte from the
    input file: ``ds`` must then hold only the header, in the input's encoding.
    """

    def fill(fh: BinaryIO) -> None:
        # The 128-byte preamble is free-form (some modalities put a TIFF header or
        # text there); nothing in a de-identified file may come from it.
        ds.preamble = CLEAN_PREAMBLE
        try:
            fh.write(encode_file(ds))
        except UnsupportedEncoding:
            ds.save_as(fh, enforce_file_format=True)
        if pixels is not None:
            fh.flush()
            _copy_range(pixels, fh)

    return _stage(dest, fill, fsync=fsync)


def copy_file(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest`` atomically (used for quarantine copies of originals)."""

    def _copy(fh: BinaryIO) -> None:
        with src.open("rb") as source:
            shutil.copyfileobj(source, fh, 1 << 20)

    os.replace(_stage(dest, _copy), dest)


_sync = getattr(os, "fdatasync", os.fsync)


def write_json(path: Path, document: object) -> None:
    """Write ``document`` as UTF-8 JSON atomically (temp file + rename).

    Non-ASCII text stays readable, except when the document holds a file name
    that is not valid UTF-8 (Python keeps its bytes as lone surrogates): then
    the whole file is written with ``\\u`` escapes, valid JSON from which
    ``os.fsencode`` gets the original bytes back.
    """
    text = json.dumps(document, indent=2, ensure_ascii=False)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        data = json.dumps(document, indent=2).encode("ascii")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data + b"\n")
    os.replace(tmp, path)


def remove_staged(out: Path) -> None:
    """Delete uncommitted staged files under ``out`` (after an aborted run)."""
    if out.is_dir():
        for stray in out.rglob(f".*{STAGED_SUFFIX}"):
            stray.unlink(missing_ok=True)


def _copy_range(span: PixelSpan, fh: BinaryIO) -> None:
    """Append ``span`` of its source to ``fh``, in the kernel where the OS allows."""
    offset, end = span.start, span.end
    with span.source.open("rb") as source:
        copy_range = getattr(os, "copy_file_range", None)
        try:
            while copy_range is not None and offset < end:
                copied = copy_range(source.fileno(), fh.fileno(), end - offset, offset)
                if copied == 0:
                    break
                offset += copied
        except OSError:  # cross-device or unsupported file system: finish with plain reads
            pass
        source.seek(offset)
        while offset < end:
            chunk = source.read(min(end - offset, 1 << 20))
            if not chunk:
                raise DeidentificationError("input shrank while its pixel data was copied")
            fh.write(chunk)
            offset += len(chunk)


def _stage(dest: Path, fill: Callable[[BinaryIO], object], *, fsync: bool = True) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".", suffix=STAGED_SUFFIX)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fill(fh)
            fh.flush()
            if fsync:
                _sync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp
