"""Remove metadata segments from compressed pixel data without re-encoding it (F28).

A JPEG or JPEG 2000 codestream can carry text next to the image: JPEG COM and
APPn segments (EXIF, XMP, ...), JPEG 2000 COM markers. The header engine
copies encapsulated pixel data byte for byte, so that text would reach the
output. The functions here walk the marker segments of each frame and drop

* JPEG family (baseline, extended, lossless, JPEG-LS): COM (FFFE) and APP1 to
  APP13 and APP15 -- APP0 (JFIF) and APP14 (Adobe) stay, decoders need them;
* JPEG 2000 (raw codestream): COM (FF64) in the main header and in every
  tile-part header, with that tile-part's Psot reduced by what was removed.

Nothing else changes: the entropy-coded data is copied as it is, so the
decoded pixels are identical. A codestream that does not parse as expected
raises :class:`DeidentificationError` (fail closed): we cannot prove it clean.
"""

from __future__ import annotations

import re
import struct

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, encapsulate_extended, generate_frames
from pydicom.uid import (
    JPEG2000TransferSyntaxes,
    JPEGLSTransferSyntaxes,
    JPEGTransferSyntaxes,
)

from medveil.errors import DeidentificationError

__all__ = [
    "JPEG_STRIPPED",
    "handles",
    "metadata_hint",
    "strip_codestream_metadata",
    "strip_frame",
    "strip_j2k",
    "strip_jpeg",
]

#: JPEG markers removed: COM and every APPn but APP0 (JFIF) and APP14 (Adobe).
JPEG_STRIPPED = frozenset({0xFE} | set(range(0xE1, 0xEE)) | {0xEF})
_JPEG_SYNTAXES = frozenset(JPEGTransferSyntaxes) | frozenset(JPEGLSTransferSyntaxes)
_J2K_SYNTAXES = frozenset(JPEG2000TransferSyntaxes) | frozenset(
    {
        "1.2.840.10008.1.2.4.201",  # HTJ2K lossless
        "1.2.840.10008.1.2.4.202",  # HTJ2K lossless RPCL
        "1.2.840.10008.1.2.4.203",  # HTJ2K
    }
)
_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
# APP8 "mrfx" + transform id: the HP colour transform JPEG-LS decoders need (no room for text)
_MRFX = frozenset(b"mrfx" + bytes([n]) for n in range(4))
_J2K_SOC, _J2K_SIZ, _J2K_COM, _J2K_TLM = 0xFF4F, 0xFF51, 0xFF64, 0xFF55
_J2K_SOT, _J2K_SOD, _J2K_EOC = 0xFF90, 0xFF93, 0xFFD9
_PIXEL_DATA, _EXTENDED_OFFSETS, _EXTENDED_LENGTHS = 0x7FE00010, 0x7FE00001, 0x7FE00002
_JP2_STRIPPED = frozenset({b"xml ", b"uuid", b"uinf"})
_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"


def _bad(what: str) -> DeidentificationError:
    return DeidentificationError(f"unparsable compressed pixel data: {what}")


# -- JPEG family ------------------------------------------------------------------------------


def strip_jpeg(frame: bytes) -> tuple[bytes, int]:
    """``frame`` without COM/APP1-13/APP15 segments, and how many were removed.

    Segments between scans (progressive and multi-scan images) are handled too:
    the entropy-coded data after each SOS is skipped up to the next marker
    (``FF00`` stuffing, RSTn, and JPEG-LS bit stuffing ``FF`` + byte < 0x80 are data).
    Bytes after EOI must be padding (``00``/``FF``).
    """
    if frame[:2] != b"\xff\xd8":
        raise _bad("JPEG frame does not start with SOI")
    size = len(frame)
    out = bytearray(frame[:2])
    removed = 0
    pos = 2
    while True:
        # at a marker position: optional fill bytes, then FF xx
        if pos + 2 > size or frame[pos] != 0xFF:
            raise _bad("JPEG marker expected")
        while pos + 1 < size and frame[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        if pos + 2 > size:
            raise _bad("JPEG frame ends inside a marker")
        marker = frame[pos + 1]
        if marker == _EOI:
            out += frame[pos : pos + 2]
            tail = frame[pos + 2 :]
            if tail.strip(b"\x00\xff"):
                raise _bad("data after the JPEG end of image")
            out += tail
            return bytes(out), removed
        if marker < 0xC0 or 0xD0 <= marker <= _SOI:
            raise _bad(f"unexpected JPEG marker FF{marker:02X}")
        if pos + 4 > size:
            raise _bad("JPEG segment header truncated")
        (length,) = struct.unpack(">H", frame[pos + 2 : pos + 4])
        end = pos + 2 + length
        if length < 2 or end > size:
            raise _bad(f"JPEG segment FF{marker:02X} length")
        if marker in JPEG_STRIPPED and frame[pos + 4 : end] not in _MRFX:
            removed += 1
        else:
            out += frame[pos:end]
        pos = end
        if marker == _SOS:
            data_end = _entropy_end(frame, pos)
            out += frame[pos:data_end]
            pos = data_end


def _entropy_end(frame: bytes, pos: int) -> int:
    """Offset of the first marker after entropy-coded data starting at ``pos``."""
    size = len(frame)
    while True:
        hit = frame.find(b"\xff", pos)
        if hit < 0 or hit + 1 >= size:
            raise _bad("JPEG frame has no end of image")
        nxt = frame[hit + 1]
        if nxt < 0x80 or 0xD0 <= nxt <= 0xD7:
            pos = hit + 2  # stuffed byte (JPEG FF00, JPEG-LS bit stuffing) or RSTn
            continue
        if nxt == 0xFF:  # fill bytes before a marker
            run = hit + 1
            while run + 1 < size and frame[run + 1] == 0xFF:
                run += 1
            if run + 1 >= size or frame[run + 1] < 0xC0:
                raise _bad("JPEG fill bytes not followed by a marker")
            if 0xD0 <= frame[run + 1] <= 0xD7:  # fill before RSTn: still scan data
                pos = run + 2
                continue
            return hit
        if nxt < 0xC0:
            raise _bad(f"unexpected JPEG marker FF{nxt:02X} in scan data")
        return hit


# -- JPEG 2000 -------------------------------------------------------------------------------


def _j2k_marker(frame: bytes, pos: int, missing: str) -> int:
    """The marker at ``pos``; a frame that ends before it is refused with *missing*."""
    if pos + 2 > len(frame):
        raise _bad(missing)
    (marker,) = struct.unpack(">H", frame[pos : pos + 2])
    return int(marker)


def _j2k_segment(frame: bytes, pos: int) -> tuple[int, int]:
    """(marker, end offset) of the marker segment at ``pos``."""
    if pos + 4 > len(frame):
        raise _bad("JPEG 2000 marker segment truncated")
    marker, length = struct.unpack(">HH", frame[pos : pos + 4])
    end = pos + 2 + length
    if marker >> 8 != 0xFF or length < 2 or end > len(frame):
        raise _bad(f"JPEG 2000 marker segment {marker:04X}")
    return marker, end


def strip_j2k(frame: bytes) -> tuple[bytes, int]:
    """``frame`` (a raw J2K codestream) without COM markers, and how many were removed.

    COM segments go from the main header and from every tile-part header; a
    tile-part's Psot shrinks by the bytes removed from its header. A codestream
    with a TLM marker (tile-part lengths in the main header) whose tile-part
    headers hold COM is refused rather than rewritten.
    """
    if frame[:12] == _JP2_SIGNATURE:
        return _strip_jp2(frame)
    if frame[:4] != b"\xff\x4f\xff\x51":
        raise _bad("JPEG 2000 frame does not start with SOC SIZ")
    size = len(frame)
    out = bytearray(frame[:2])
    removed = 0
    has_tlm = False
    pos = 2
    # main header: marker segments up to the first SOT
    while _j2k_marker(frame, pos, "JPEG 2000 main header truncated") != _J2K_SOT:
        marker, end = _j2k_segment(frame, pos)
        if marker in (_J2K_SOC, _J2K_SOD, _J2K_EOC):
            raise _bad(f"unexpected JPEG 2000 marker {marker:04X} in the main header")
        if marker == _J2K_COM:
            removed += 1
        else:
            has_tlm = has_tlm or marker == _J2K_TLM
            out += frame[pos:end]
        pos = end
    # tile-parts: SOT, header segments, SOD, data (Psot bytes from SOT in all)
    while True:
        marker = _j2k_marker(frame, pos, "JPEG 2000 codestream has no EOC")
        if marker == _J2K_EOC:
            tail = frame[pos + 2 :]
            if tail.strip(b"\x00\xff"):
                raise _bad("data after the JPEG 2000 end of codestream")
            out += frame[pos:]
            return bytes(out), removed
        if marker != _J2K_SOT:
            raise _bad(f"JPEG 2000 marker {marker:04X} where SOT was expected")
        sot_start = pos
        _, sot_end = _j2k_segment(frame, pos)
        if sot_end - sot_start != 12:
            raise _bad("JPEG 2000 SOT length")
        (psot,) = struct.unpack(">L", frame[sot_start + 6 : sot_start + 10])
        part = bytearray(frame[sot_start:sot_end])
        part_removed = 0
        pos = sot_end
        while _j2k_marker(frame, pos, "JPEG 2000 tile-part header truncated") != _J2K_SOD:
            marker, end = _j2k_segment(frame, pos)
            if marker in (_J2K_SOC, _J2K_SOT, _J2K_EOC):
                raise _bad(f"unexpected JPEG 2000 marker {marker:04X} in a tile-part header")
            if marker == _J2K_COM:
                removed += 1
                part_removed += end - pos
            else:
                part += frame[pos:end]
            pos = end
        pos += 2  # SOD
        part += b"\xff\x93"
        if psot == 0:  # the last tile-part: runs up to EOC
            trimmed = frame.rstrip(b"\x00\xff")
            if not trimmed.endswith(b"\xd9"):
                raise _bad("JPEG 2000 codestream has no EOC")
            data_end = len(trimmed) - 2  # the FF of EOC went with the padding: keep it
            if frame[data_end : data_end + 2] != b"\xff\xd9":
                raise _bad("JPEG 2000 codestream has no EOC")
        else:
            data_end = sot_start + psot
        if data_end < pos or data_end > size:
            raise _bad("JPEG 2000 tile-part length")
        if part_removed:
            if has_tlm:
                raise _bad("COM in a tile-part header of a codestream with TLM")
            if psot:
                part[6:10] = struct.pack(">L", psot - part_removed)
        out += part
        out += frame[pos:data_end]
        pos = data_end


def _strip_jp2(frame: bytes) -> tuple[bytes, int]:
    """A JP2 file (boxes around the codestream, which DICOM does not allow but some
    writers produce): ``xml ``, ``uuid`` and ``uinf`` boxes go, the contiguous
    codestream box is stripped like a raw codestream; one level of boxes is read."""
    out = bytearray()
    removed = 0
    pos = 0
    size = len(frame)
    while pos < size:
        if not frame[pos:].strip(b"\x00"):
            out += frame[pos:]  # even-length padding
            break
        if pos + 8 > size:
            raise _bad("JP2 box header truncated")
        length, kind = struct.unpack(">L4s", frame[pos : pos + 8])
        header = 8
        if length == 1:
            if pos + 16 > size:
                raise _bad("JP2 box header truncated")
            (length,) = struct.unpack(">Q", frame[pos + 8 : pos + 16])
            header = 16
        end = size if length == 0 else pos + length
        if end > size or end < pos + header:
            raise _bad("JP2 box length")
        if kind in _JP2_STRIPPED:
            removed += 1
        elif kind == b"jp2c":
            if frame[pos + header : pos + header + 12] == _JP2_SIGNATURE:
                raise _bad("JP2 box inside a JP2 codestream box")
            stream, n = strip_j2k(frame[pos + header : end])
            removed += n
            out += struct.pack(">L4s", 8 + len(stream), b"jp2c") + stream
        else:
            out += frame[pos:end]
        pos = end
    return bytes(out), removed


# -- frames and data sets ----------------------------------------------------------------------


def strip_frame(frame: bytes, transfer_syntax: str) -> tuple[bytes, int]:
    """One encapsulated frame without its metadata segments; ``(frame, 0)`` when not handled."""
    if transfer_syntax in _JPEG_SYNTAXES:
        return strip_jpeg(frame)
    if transfer_syntax in _J2K_SYNTAXES:
        return strip_j2k(frame)
    return frame, 0


def handles(transfer_syntax: str) -> bool:
    """Whether :func:`strip_codestream_metadata` inspects pixel data in this syntax."""
    return transfer_syntax in _JPEG_SYNTAXES or transfer_syntax in _J2K_SYNTAXES


#: Byte patterns a codestream with something to strip must contain (false positives are
#: possible in the compressed data; a miss is not): the JPEG markers removed, the J2K COM
#: marker and the JP2 box types removed.
_JPEG_HINT = re.compile(rb"\xff[\xe1-\xed\xef\xfe]")
_J2K_HINT = re.compile(rb"\xff\x64|xml |uuid|uinf")
HINT_OVERLAP = 3  # a pattern is at most 4 bytes long


def metadata_hint(transfer_syntax: str) -> re.Pattern[bytes] | None:
    """A pattern found in the encoded pixel data of ``transfer_syntax`` whenever
    :func:`strip_codestream_metadata` would remove something (``None``: it never would).
    Lets a caller that does not load the pixel data decide cheaply whether it must."""
    if transfer_syntax in _JPEG_SYNTAXES:
        return _JPEG_HINT
    if transfer_syntax in _J2K_SYNTAXES:
        return _J2K_HINT
    return None


def strip_codestream_metadata(ds: Dataset) -> int:
    """Remove metadata segments from every frame of ``ds``'s encapsulated pixel data.

    Returns the number of segments removed. Only when that is not zero is the
    PixelData element's value replaced (a new ``bytes``; the old value, which
    may be shared with another data set, is never mutated), re-encapsulated with
    one fragment per frame and a Basic Offset Table if the original had one (or
    an Extended Offset Table, updated, if it had that). Otherwise nothing changes.
    """
    meta = getattr(ds, "file_meta", None)
    syntax = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    if not handles(syntax) or "PixelData" not in ds:
        return 0
    data = ds.PixelData
    if not isinstance(data, bytes | bytearray) or not data:
        return 0
    data = bytes(data)
    if data[:4] != b"\xfe\xff\x00\xe0":
        raise _bad("pixel data is not encapsulated")
    try:
        count = int(ds.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError) as exc:
        raise _bad("NumberOfFrames") from exc
    extended = "ExtendedOffsetTable" in ds
    try:
        frames = list(
            generate_frames(
                data,
                number_of_frames=count,
                extended_offsets=(
                    (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths) if extended else None
                ),
            )
        )
    except (ValueError, KeyError, struct.error) as exc:
        raise _bad(f"fragments ({type(exc).__name__})") from exc
    if not frames or len(frames) != count:
        raise _bad(f"{len(frames)} frames found, NumberOfFrames is {count}")
    removed = 0
    stripped = []
    for frame in frames:
        new, n = strip_frame(frame, syntax)
        removed += n
        stripped.append(new)
    if not removed:
        return 0
    # New elements, not new values: an element object may be shared with another data set.
    if extended:
        pixels, offsets, lengths = encapsulate_extended(stripped)
        ds[_EXTENDED_OFFSETS] = DataElement(_EXTENDED_OFFSETS, "OV", offsets)
        ds[_EXTENDED_LENGTHS] = DataElement(_EXTENDED_LENGTHS, "OV", lengths)
    else:
        (bot_length,) = struct.unpack("<L", data[4:8])
        pixels = encapsulate(stripped, has_bot=bot_length > 0)
    vr = ds["PixelData"].VR or "OB"
    ds[_PIXEL_DATA] = DataElement(_PIXEL_DATA, vr, pixels, is_undefined_length=True)
    return removed
