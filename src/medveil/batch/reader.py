"""Read input files for the runner, failing on truncation instead of guessing.

Two ways in. :func:`read_full` loads everything, for when the pixel step needs
the pixels. :func:`read_header` stops at the pixel data and only records where
its encoded bytes lie (a :class:`PixelSpan`): with ``--pixels off`` those bytes
go from input to output by ``copy_file_range`` and never enter Python, which
makes large images cost about as much as a file copy. Elements after the pixel
data (trailing padding, digital signatures) are dropped on that path. A file
whose bytes are not stored as its transfer syntax declares
(:func:`stored_as_declared`: deflated, or implicit VR under an explicit VR
syntax) has no such span: its caller reads it in full.

pydicom is lenient: at the end of a truncated file it warns and returns what it
got. Here that warning is an error (a half-read header must not pass as
clean); other reader warnings are real-world noise (invalid values, over-long
strings) and are returned, deduplicated, as notes for the report.
"""

from __future__ import annotations

import os
import re
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.pixels.utils import get_expected_length
from pydicom.uid import DeflatedExplicitVRLittleEndian
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

from medveil.batch.header_writer import (
    ITEM,
    SEQUENCE_DELIMITER,
    UNDEFINED_LENGTH,
    syntax_encoding,
)
from medveil.deid.encoding import read_encoding
from medveil.deid.identity import PIXEL_TAGS
from medveil.errors import DeidentificationError

MAX_NOTES = 5
_SCAN_CHUNK = 1 << 22
#: Explicit VRs whose element header has a 32-bit length (as they appear in the file).
_LONG_VRS = frozenset(vr.encode() for vr in EXPLICIT_VR_LENGTH_32)


@dataclass(frozen=True)
class PixelSpan:
    """The byte range of the whole pixel data element (header included) in ``source``;
    ``value_length`` is the length of a native value, ``None`` for encapsulated data."""

    source: Path
    start: int
    end: int
    value_length: int | None = None


def read_full(path: Path, notes: list[str]) -> Dataset:
    """The complete data set, pixel data included."""
    with path.open("rb") as fp:
        ds = _read(fp, notes, stop_before_pixels=False)
        _check_complete(ds, fp, os.fstat(fp.fileno()).st_size)
    return ds


def read_header(path: Path, notes: list[str]) -> tuple[Dataset, PixelSpan | None]:
    """Everything before the pixel data, and where the pixel data element lies.

    One open file serves the header, its completeness check and the pixel element's
    extent: this runs once per input on the ``--pixels off`` fast path.
    """
    with path.open("rb") as fp:
        ds = _read(fp, notes, stop_before_pixels=True)
        start, size = fp.tell(), os.fstat(fp.fileno()).st_size
        if start >= size:
            _check_complete(ds, fp, size)
            return ds, None
        implicit, little = read_encoding(ds)  # a misdeclared file's pixel element is as written
        end, length = _element_end(fp, start, size, implicit is not False, little is not False)
    return ds, PixelSpan(path, start, end, length)


def native_pixels_fit(ds: Dataset, span: PixelSpan) -> bool:
    """Whether a native pixel data value is as long as the image ``ds`` declares (plus
    the pad byte of an odd length): only then may its bytes go out as they are."""
    declared = declared_pixel_length(ds)
    return declared is None or span.value_length in (None, declared + declared % 2)


def fit_native_pixel_data(ds: Dataset) -> None:
    """Cut native Pixel Data to the image it declares, and refuse it shorter than that.

    Bytes after the last declared frame are never displayed, so they may hold
    anything (text included); data shorter than the image cannot be decoded, so a
    file carrying it is not released as an image.
    """
    elements = [ds[tag] for tag in PIXEL_TAGS if tag in ds]
    declared = declared_pixel_length(ds) if elements else None
    for elem in elements:
        data = elem.value
        if declared is None or not isinstance(data, bytes):
            continue
        if len(data) < declared:
            raise DeidentificationError("pixel data shorter than the image it declares")
        if len(data) > declared + declared % 2:
            elem.value = data[:declared] + bytes(declared % 2)


def declared_pixel_length(ds: Dataset) -> int | None:
    """The byte length of the native pixel data ``ds``'s image attributes declare;
    ``None`` for encapsulated data, a private syntax, or packed samples (the retired
    BitsAllocated 12, whose length pydicom's formula does not give) -- left as they are."""
    bits = ds.get("BitsAllocated")
    if isinstance(bits, int) and bits != 1 and bits % 8:
        return None
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax is not None:
        encoding = syntax_encoding(syntax)
        if encoding is None or encoding.encapsulated:
            return None
    try:
        return int(get_expected_length(ds, "bytes"))
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise DeidentificationError("pixel data without a complete image description") from exc


def span_contains(span: PixelSpan, pattern: re.Pattern[bytes], overlap: int) -> bool:
    """Whether ``pattern`` (at most ``overlap + 1`` bytes long) occurs in the span's bytes;
    read in chunks, so a large element never sits in memory whole."""
    with span.source.open("rb") as fp:
        fp.seek(span.start)
        position, carry = span.start, b""
        while position < span.end:
            chunk = fp.read(min(_SCAN_CHUNK, span.end - position))
            if not chunk:
                return False
            position += len(chunk)
            if pattern.search(carry + chunk):
                return True
            carry = chunk[-overlap:]
    return False


def stored_as_declared(ds: Dataset) -> bool:
    """Whether the bytes after the header can follow a header written in the declared
    transfer syntax as they are.

    Not for a deflated file (everything after the file meta is one zlib stream, so
    :func:`read_header`'s offsets do not point into the file), nor for one whose
    elements are encoded otherwise than its transfer syntax says (some writers declare
    explicit VR and write implicit VR; pydicom notices and reads them as written).
    """
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax is None:
        return True  # nothing declared: see has_transfer_syntax
    if syntax == DeflatedExplicitVRLittleEndian:
        return False
    declared = syntax_encoding(syntax)
    if declared is None:
        return True  # a private or unknown syntax: nothing to compare with
    return read_encoding(ds) == (declared.implicit, declared.little)


def has_transfer_syntax(ds: Dataset) -> bool:
    """Whether the header names its encoding (needed to append raw pixel bytes safely)."""
    meta = getattr(ds, "file_meta", None)
    return meta is not None and "TransferSyntaxUID" in meta


def _read(fp: BinaryIO, notes: list[str], *, stop_before_pixels: bool) -> Dataset:
    """``dcmread`` with its warnings turned into an error (truncation) or notes (the rest)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = pydicom.dcmread(fp, force=True, stop_before_pixels=stop_before_pixels)
    for warning in caught:
        message = str(warning.message)
        if "End of file" in message:
            raise DeidentificationError(f"truncated file: {message.split(' in file ')[0]}")
        if message not in notes and len(notes) < MAX_NOTES:
            notes.append(message)
    if len(ds) == 0:
        raise DeidentificationError("no data elements could be read (truncated or not DICOM)")
    return ds


def _check_complete(ds: Dataset, fp: BinaryIO, size: int) -> None:
    """Raise if the file was cut inside an element: pydicom keeps the shorter value, or
    drops a partial element header at the end of the file, without a warning.

    A value shorter than its length is a cut inside the value. Fewer than 8 bytes
    after the last complete element, not all zero (some writers pad a file), are the
    start of an element header that was cut.
    """
    raws = [e for e in ds._dict.values() if isinstance(e, RawDataElement)]
    for raw in raws:
        if (
            raw.length != UNDEFINED_LENGTH
            and isinstance(raw.value, bytes)
            and len(raw.value) < raw.length
        ):
            raise DeidentificationError(f"truncated file: {raw.tag} is shorter than its length")
    if not raws or not stored_as_declared(ds):
        return  # no offsets into the file to compare (a deflated file's are in its stream)
    last = max(raws, key=lambda raw: raw.value_tell)
    if last.length == UNDEFINED_LENGTH or last.tag != max(ds._dict):
        return
    end = last.value_tell + last.length
    if 0 < size - end < 8:
        fp.seek(end)
        if fp.read().strip(b"\0"):
            raise DeidentificationError("truncated file: it ends inside an element header")


def _element_end(
    fp: BinaryIO, start: int, size: int, implicit: bool, little: bool
) -> tuple[int, int | None]:
    """End offset of the pixel data element at ``start`` and the length of its value
    (``None`` if undefined: encapsulated); raises if it runs past the file."""
    order = "<" if little else ">"
    fp.seek(start)
    head = fp.read(12)
    if len(head) < 8:
        raise DeidentificationError("truncated file: pixel data element header")
    group, element = struct.unpack(f"{order}HH", head[:4])
    if (group << 16 | element) not in PIXEL_TAGS:
        raise DeidentificationError(f"unexpected element ({group:04X},{element:04X})")
    if implicit:
        (length,), position = struct.unpack(f"{order}L", head[4:8]), start + 8
    elif head[4:6] in _LONG_VRS:
        (length,), position = struct.unpack(f"{order}L", head[8:12]), start + 12
    else:
        (length,), position = struct.unpack(f"{order}H", head[6:8]), start + 8
    if length != UNDEFINED_LENGTH:
        end = position + length
    else:
        end = _encapsulated_end(fp, position, size, order)
    if end > size:
        raise DeidentificationError("truncated file: pixel data shorter than its length")
    return end, None if length == UNDEFINED_LENGTH else length


def _encapsulated_end(fp: BinaryIO, position: int, size: int, order: str) -> int:
    """Walk the fragment items of encapsulated pixel data up to the sequence delimiter."""
    while position + 8 <= size:
        fp.seek(position)
        group, element, length = struct.unpack(f"{order}HHL", fp.read(8))
        tag = group << 16 | element
        if tag == SEQUENCE_DELIMITER:
            return position + 8
        if tag != ITEM:
            raise DeidentificationError(f"malformed encapsulated pixel data at byte {position}")
        position += 8 + length
    raise DeidentificationError("truncated file: encapsulated pixel data has no delimiter")
