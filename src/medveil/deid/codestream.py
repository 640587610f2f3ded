"""Remove metadata segments from compressed pixel data without re-encoding it (F28).

A JPEG or JPEG 2000 codestream can carry text next to the image: JPEG COM and
APPn segments (EXIF, XMP, ...), JPEG 2000 COM markers. The header engine
copies encapsulated pixel data byte for byte, so that text would reach the
output. The functions here walk the marker segments of each frame and drop

* JPEG family (baseline, extended, lossless, JPEG-LS): COM (FFFE) and APP1 to
  APP13 and APP15 -- APP0 (JFIF) and APP14 (Adobe) stay, decoders need them,
  but a JFIF thumbnail (an image of its own, burned-in text and all) is cut
  and a JFXX (thumbnail-only) APP0 dropped;
* JPEG 2000 (raw codestream): COM (FF64) in the main header and in every
  tile-part header, with that tile-part's Psot reduced by what was removed;
* JPEG XL: a bare codestream (``FF0A``) is kept; in the box container every box
  but the signature, ``ftyp``, level, codestream and frame index boxes goes
  (``Exif``, ``xml ``, ``jumb``, brotli-compressed ``brob`` ...). JPEG
  reconstruction data (``jbrd``, brotli-compressed, may hold the original JPEG's
  COM/APPn segments) cannot be checked and is refused;
* MPEG-2, MPEG-4 AVC/H.264 and HEVC/H.265 video, where all fragments together are
  one stream: in an MP4 (ISO BMFF) file every box that is not known to hold
  numbers only (``udta``, ``meta``, ``uuid``, unknown types) becomes a ``free``
  box of zeros -- same size, so the chunk offsets (``stco``/``co64``) stay
  valid -- and the handler and compressor names are zeroed; a track other than
  video or sound (timed text, metadata) is refused. In an elementary stream
  (Annex B start codes) SEI NAL units (H.264 type 6, HEVC 39/40) and MPEG-2
  user data go. A transport or program stream is refused.

Nothing else changes: the entropy-coded data is copied as it is, so the
decoded pixels are identical. A codestream that does not parse as expected
raises :class:`DeidentificationError` (fail closed): we cannot prove it clean.
Not inspected: text in the coded video samples of an MP4 file (SEI inside
``mdat``), or in a JPEG XL codestream's frame names.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, encapsulate_extended, generate_frames
from pydicom.uid import (
    HEVCM10P51,
    HEVCMP51,
    MPEG2MPHL,
    MPEG2MPHLF,
    MPEG2MPML,
    MPEG2MPMLF,
    JPEG2000TransferSyntaxes,
    JPEGLSTransferSyntaxes,
    JPEGTransferSyntaxes,
    MPEGTransferSyntaxes,
)

from medveil.errors import DeidentificationError

__all__ = [
    "JPEG_STRIPPED",
    "JXL_SYNTAXES",
    "handles",
    "metadata_hint",
    "reads_whole_stream",
    "strip_annex_b",
    "strip_bmff",
    "strip_codestream_metadata",
    "strip_frame",
    "strip_j2k",
    "strip_jpeg",
    "strip_jxl",
    "strip_video",
]

#: JPEG markers removed: COM and every APPn but APP0 (JFIF, its thumbnail cut) and APP14
#: (Adobe).
JPEG_STRIPPED = frozenset({0xFE} | set(range(0xE1, 0xEE)) | {0xEF})
_JPEG_SYNTAXES = frozenset(JPEGTransferSyntaxes) | frozenset(JPEGLSTransferSyntaxes)
_J2K_SYNTAXES = frozenset(JPEG2000TransferSyntaxes) | frozenset(
    {
        "1.2.840.10008.1.2.4.201",  # HTJ2K lossless
        "1.2.840.10008.1.2.4.202",  # HTJ2K lossless RPCL
        "1.2.840.10008.1.2.4.203",  # HTJ2K
    }
)
_SOI, _EOI, _SOS, _APP0 = 0xD8, 0xD9, 0xDA, 0xE0
# APP8 "mrfx" + transform id: the HP colour transform JPEG-LS decoders need (no room for text)
_MRFX = frozenset(b"mrfx" + bytes([n]) for n in range(4))
_J2K_SOC, _J2K_SIZ, _J2K_COM, _J2K_TLM = 0xFF4F, 0xFF51, 0xFF64, 0xFF55
_J2K_SOT, _J2K_SOD, _J2K_EOC = 0xFF90, 0xFF93, 0xFFD9
_PIXEL_DATA, _EXTENDED_OFFSETS, _EXTENDED_LENGTHS = 0x7FE00010, 0x7FE00001, 0x7FE00002
_JP2_STRIPPED = frozenset({b"xml ", b"uuid", b"uinf"})
_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
JXL_SYNTAXES = frozenset(
    {
        "1.2.840.10008.1.2.4.110",  # JPEG XL lossless
        "1.2.840.10008.1.2.4.111",  # JPEG XL JPEG recompression
        "1.2.840.10008.1.2.4.112",  # JPEG XL
    }
)
_JXL_SIGNATURE = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
#: JPEG XL container boxes kept: signature, file type, level, codestream (whole or in
#: parts), frame index. Every other box is metadata (or unknown, which decoders ignore).
_JXL_KEPT = frozenset({b"JXL ", b"ftyp", b"jxll", b"jxlc", b"jxlp", b"jxli"})
_FRAME_SYNTAXES = _JPEG_SYNTAXES | _J2K_SYNTAXES | JXL_SYNTAXES
_MPEG_SYNTAXES = frozenset(MPEGTransferSyntaxes)
_MPEG2_SYNTAXES = frozenset({MPEG2MPML, MPEG2MPMLF, MPEG2MPHL, MPEG2MPHLF})
_HEVC_SYNTAXES = frozenset({HEVCMP51, HEVCM10P51})
#: Elementary stream units dropped (SEI, user data, filler) and kept (pictures, parameter
#: sets, delimiters): H.264 NAL unit types, HEVC NAL unit types, MPEG-2 start codes.
_AVC_DROPPED = frozenset({6, 12})
_AVC_ALLOWED = frozenset({*range(1, 6), *range(7, 12), 13, 14, 15, 19, 20, 21})
_HEVC_DROPPED = frozenset({38, 39, 40})
_HEVC_ALLOWED = frozenset({*range(0, 10), *range(16, 22), *range(32, 38)})
_MPEG2_DROPPED = frozenset({0xB2})
_MPEG2_ALLOWED = frozenset({*range(0x00, 0xB0), 0xB3, 0xB4, 0xB5, 0xB7, 0xB8})
#: The type :func:`_boxes` gives the zero-filled tail after the last box.
_PADDING = b""


@dataclass(frozen=True, slots=True)
class _Box:
    """One box: where it starts, its header length (8 or 16), where it ends, its type."""

    start: int
    header: int
    end: int
    kind: bytes


def _bad(what: str) -> DeidentificationError:
    return DeidentificationError(f"unparsable compressed pixel data: {what}")


# -- JPEG family ------------------------------------------------------------------------------


def strip_jpeg(frame: bytes) -> tuple[bytes, int]:
    """``frame`` without COM/APP1-13/APP15 segments and APP0 thumbnails, and how many
    segments were removed or cut to their bare JFIF header.

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
        elif marker == _APP0 and frame[pos:end] != (jfif := _bare_jfif(frame[pos + 4 : end])):
            out += jfif  # a thumbnail (an image of its own, text and all) or a JFXX extension
            removed += 1
        else:
            out += frame[pos:end]
        pos = end
        if marker == _SOS:
            data_end = _entropy_end(frame, pos)
            out += frame[pos:data_end]
            pos = data_end


def _bare_jfif(payload: bytes) -> bytes:
    """The APP0 segment to keep for an APP0 payload: the JFIF header without its thumbnail
    (version, units and density, thumbnail size 0 x 0); nothing for any other APP0 (a JFXX
    extension holds a thumbnail and nothing else)."""
    if payload[:5] != b"JFIF\x00" or len(payload) < 14:
        return b""
    return b"\xff\xe0\x00\x10" + payload[:12] + b"\x00\x00"


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
    for box in _boxes(frame, 0, len(frame), "JP2"):
        body = frame[box.start + box.header : box.end]
        if box.kind in _JP2_STRIPPED:
            removed += 1
        elif box.kind == b"jp2c":
            if body[:12] == _JP2_SIGNATURE:
                raise _bad("JP2 box inside a JP2 codestream box")
            stream, n = strip_j2k(body)
            removed += n
            out += struct.pack(">L4s", 8 + len(stream), b"jp2c") + stream
        else:
            out += frame[box.start : box.end]  # other boxes, and the padding
    return bytes(out), removed


def _boxes(data: bytes | bytearray, start: int, end: int, what: str) -> Iterator[_Box]:
    """The boxes (ISO BMFF layout: JP2, JPEG XL, MP4) from ``start`` to ``end``.

    A zero-filled tail (a fragment's even-length padding, a QuickTime terminator)
    comes as one last box of type :data:`_PADDING` with no header.
    """
    pos = start
    while pos < end:
        # only a short or zero box header can begin a zero tail: the rest of the stream
        # is looked at just then, not before every box (a fragmented MP4 has thousands)
        maybe_padding = pos + 8 > end or not any(data[pos : pos + 8])
        if maybe_padding and not data[pos:end].strip(b"\x00"):
            yield _Box(pos, 0, end, _PADDING)
            return
        if pos + 8 > end:
            raise _bad(f"{what} box header truncated")
        length, kind = struct.unpack(">L4s", data[pos : pos + 8])
        header = 8
        if length == 1:
            if pos + 16 > end:
                raise _bad(f"{what} box header truncated")
            (length,) = struct.unpack(">Q", data[pos + 8 : pos + 16])
            header = 16
        box_end = end if length == 0 else pos + length
        if box_end > end or box_end < pos + header:
            raise _bad(f"{what} box length")
        yield _Box(pos, header, box_end, kind)
        pos = box_end


# -- JPEG XL ---------------------------------------------------------------------------------


def strip_jxl(frame: bytes) -> tuple[bytes, int]:
    """``frame`` (a JPEG XL codestream or container) without metadata boxes, and how
    many were removed. A bare codestream has no boxes: it is returned as it is."""
    if frame[:2] == b"\xff\x0a":
        return frame, 0
    if frame[:12] != _JXL_SIGNATURE:
        raise _bad("JPEG XL frame is neither a codestream nor a JPEG XL container")
    out = bytearray()
    removed = 0
    for box in _boxes(frame, 0, len(frame), "JPEG XL"):
        if box.kind == b"jbrd":
            raise DeidentificationError(
                "JPEG XL frame holds JPEG reconstruction data (jbrd box), which may carry"
                " the original JPEG's COM/APPn text and is compressed: it cannot be checked"
            )
        if box.kind in _JXL_KEPT or box.kind == _PADDING:
            out += frame[box.start : box.end]
        else:
            removed += 1
    return bytes(out), removed


# -- MPEG video: MP4 (ISO BMFF) and elementary streams --------------------------------------------

#: MP4 boxes whose children are walked.
_BMFF_CONTAINERS = frozenset(
    {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"dinf", b"edts", b"mvex", b"moof", b"traf",
     b"mfra"}
)  # fmt: skip
#: MP4 boxes kept as they are: file type, media data, headers, timing and sample tables,
#: track references -- numbers only.
_BMFF_KEPT = frozenset(
    {b"ftyp", b"styp", b"mdat", b"mvhd", b"tkhd", b"mdhd", b"vmhd", b"smhd", b"stts", b"ctts",
     b"cslg", b"stss", b"stps", b"sdtp", b"stsc", b"stsz", b"stz2", b"stco", b"co64", b"sgpd",
     b"sbgp", b"subs", b"saiz", b"saio", b"elst", b"mehd", b"trex", b"trep", b"mfhd", b"tfhd",
     b"tfdt", b"trun", b"sidx", b"ssix", b"tfra", b"mfro", b"iods", b"padb", b"tref"}
)  # fmt: skip
#: Boxes whose payload is there to be ignored: zeroed, type kept.
_BMFF_FILLER = frozenset({b"free", b"skip", b"wide"})
#: Children of a sample entry kept: decoder configuration (parameter sets), bit rate,
#: pixel aspect, colour, clean aperture, field order, HDR metadata, audio configuration.
#: The HEVC configurations are kept only when they hold parameter sets alone.
_SAMPLE_ENTRY_KEPT = frozenset(
    {b"avcC", b"svcC", b"mvcC", b"btrt", b"pasp", b"colr", b"clap", b"fiel",
     b"mdcv", b"clli", b"esds", b"dOps", b"dac3", b"dec3", b"chnl"}
)  # fmt: skip
_HEVC_CONFIGURATIONS = frozenset({b"hvcC", b"lhvC"})
_HEVC_PARAMETER_SETS = frozenset({32, 33, 34})  # VPS, SPS, PPS
#: Track handlers whose samples are coded pictures or sound, never text.
_MEDIA_HANDLERS = frozenset({b"vide", b"soun"})
#: Bytes before the children of a sample entry (after its box header): visual; sound by
#: QuickTime sound description version.
_VISUAL_ENTRY, _SOUND_ENTRY = 78, {0: 28, 1: 44, 2: 64}
_COMPRESSOR_NAME = slice(42, 74)  # in a visual sample entry, after its box header


#: Box types an MP4 file may start with; the start of an elementary stream.
_BMFF_FIRST = _BMFF_CONTAINERS | _BMFF_KEPT | _BMFF_FILLER | {b"udta", b"meta", b"uuid"}
_START_CODE_FIRST = re.compile(rb"\x00{2,}\x01")


def strip_video(stream: bytes, transfer_syntax: str) -> tuple[bytes, int]:
    """One MPEG video stream (all fragments joined) without its metadata, and how many
    boxes, names or units were neutralised or removed."""
    if stream[4:8] in _BMFF_FIRST:
        return strip_bmff(stream)
    if _START_CODE_FIRST.match(stream):
        return strip_annex_b(stream, transfer_syntax)
    if stream[:1] == b"\x47":
        raise DeidentificationError(
            "MPEG-2 transport stream: its tables and packets are not checked for text"
        )
    raise _bad("MPEG video is neither an MP4 file nor an elementary stream")


def strip_bmff(stream: bytes) -> tuple[bytes, int]:
    """An MP4 file with every box not known to hold numbers only turned into a ``free``
    box of zeros and the handler and compressor names zeroed: the same length, every
    offset unchanged."""
    data = bytearray(stream)
    removed = _walk_bmff(data, 0, len(data), b"")
    return bytes(data), removed


def _walk_bmff(data: bytearray, start: int, end: int, handler: bytes) -> int:
    """Neutralise the metadata in the boxes from ``start`` to ``end`` (of a track whose
    handler type is ``handler``); returns how many boxes or names were changed."""
    removed = 0
    for box in _boxes(data, start, end, "MP4"):
        body = box.start + box.header
        if box.kind in _BMFF_CONTAINERS:
            inner = _track_handler(data, body, box.end) if box.kind == b"mdia" else handler
            removed += _walk_bmff(data, body, box.end, inner)
        elif box.kind == b"hdlr":
            removed += _zeroed(data, body + 24, box.end)  # the name, after type and reserved
        elif box.kind == b"dref":
            removed += _data_references(data, body + 8, box.end)
        elif box.kind == b"stsd":
            removed += _sample_entries(data, body + 8, box.end, handler)
        elif box.kind in _BMFF_FILLER or box.kind == _PADDING:
            removed += _zeroed(data, body, box.end)
        elif box.kind not in _BMFF_KEPT:
            removed += _neutralised(data, box)
    return removed


def _data_references(data: bytearray, start: int, end: int) -> int:
    """Zero the names and locations of data references (``url ``/``urn `` entries, after
    their version and flags): media data in a DICOM object is self-contained."""
    return sum(
        _zeroed(data, entry.start + entry.header + 4, entry.end)
        for entry in _boxes(data, start, end, "MP4")
    )


def _track_handler(data: bytearray, start: int, end: int) -> bytes:
    """The handler type of a media box; refused unless the samples are pictures or sound."""
    for box in _boxes(data, start, end, "MP4"):
        if box.kind == b"hdlr":
            handler = bytes(data[box.start + box.header + 8 : box.start + box.header + 12])
            if handler not in _MEDIA_HANDLERS:
                raise DeidentificationError(
                    f"MP4 track of type {handler!r}: its samples may be text"
                )
            return handler
    raise _bad("MP4 media box without a handler")


def _sample_entries(data: bytearray, start: int, end: int, handler: bytes) -> int:
    """Zero the compressor names of the sample descriptions and neutralise their children
    other than decoder configuration."""
    if handler not in _MEDIA_HANDLERS:
        raise _bad("MP4 sample descriptions outside a media box")
    removed = 0
    for entry in _boxes(data, start, end, "MP4"):
        body = entry.start + entry.header
        if entry.kind == _PADDING:
            continue
        if handler == b"vide":
            fixed = _VISUAL_ENTRY
        else:
            if body + 10 > entry.end:
                raise _bad("MP4 sample entry length")
            (version,) = struct.unpack(">H", data[body + 8 : body + 10])
            if version not in _SOUND_ENTRY:
                raise _bad(f"MP4 sound description version {version}")
            fixed = _SOUND_ENTRY[version]
        if body + fixed > entry.end:
            raise _bad("MP4 sample entry length")
        if handler == b"vide":
            removed += _zeroed(data, body + _COMPRESSOR_NAME.start, body + _COMPRESSOR_NAME.stop)
        for child in _boxes(data, body + fixed, entry.end, "MP4"):
            if child.kind == _PADDING:
                continue
            if child.kind in _HEVC_CONFIGURATIONS:
                _refuse_hevc_sei(data, child)
            elif child.kind not in _SAMPLE_ENTRY_KEPT:
                removed += _neutralised(data, child)
    return removed


def _refuse_hevc_sei(data: bytearray, box: _Box) -> None:
    """Refuse an HEVC decoder configuration (``hvcC``/``lhvC``) whose NAL unit arrays hold
    anything but parameter sets: encoders put SEI there (x265 writes its settings as
    user-data SEI), and SEI can carry any text."""
    body, end = box.start + box.header, box.end
    fixed = 22 if box.kind == b"hvcC" else 5  # bytes before numOfArrays
    if body + fixed + 1 > end:
        raise _bad("HEVC decoder configuration length")
    pos = body + fixed + 1
    for _ in range(data[body + fixed]):
        if pos + 3 > end:
            raise _bad("HEVC decoder configuration length")
        kind = data[pos] & 0x3F
        if kind not in _HEVC_PARAMETER_SETS:
            raise DeidentificationError(
                f"HEVC decoder configuration holds NAL units of type {kind}, which may be text"
            )
        (count,) = struct.unpack(">H", data[pos + 1 : pos + 3])
        pos += 3
        for _ in range(count):
            if pos + 2 > end:
                raise _bad("HEVC decoder configuration length")
            (length,) = struct.unpack(">H", data[pos : pos + 2])
            pos += 2 + length
        if pos > end:
            raise _bad("HEVC decoder configuration length")


def _zeroed(data: bytearray, start: int, end: int) -> int:
    """Zero ``data[start:end]``; 1 if anything was not zero already."""
    if not any(data[start:end]):
        return 0
    data[start:end] = bytes(end - start)
    return 1


def _neutralised(data: bytearray, box: _Box) -> int:
    """Turn ``box`` into a ``free`` box of zeros, its size (and so every offset) kept;
    1 unless it was one already."""
    zeroed = _zeroed(data, box.start + box.header, box.end)
    if box.kind == b"free":
        return zeroed
    data[box.start + 4 : box.start + 8] = b"free"
    return 1


def strip_annex_b(stream: bytes, transfer_syntax: str) -> tuple[bytes, int]:
    """An elementary stream (start codes ``000001``) without the units that may hold text:
    H.264 SEI (NAL type 6), HEVC prefix/suffix SEI (39, 40), MPEG-2 user data (``B2``).

    A unit runs from the zero bytes before its start code (a leading zero byte, or
    trailing zeros of the unit before, which decoders skip alike) to the next unit.
    """
    codes = [m.start() for m in re.finditer(b"\x00\x00\x01", stream)]
    if not codes or stream[: codes[0]].strip(b"\x00"):
        raise _bad("elementary stream does not start with a start code")
    inner = [_zeros_before(stream, code, after + 4) for after, code in pairwise(codes)]
    bounds = [0, *inner, len(stream)]
    out = bytearray()
    removed = 0
    for code, start, end in zip(codes, bounds, bounds[1:], strict=False):
        if code + 3 >= end:
            raise _bad("elementary stream unit without a header")
        if _carries_text(stream[code + 3], transfer_syntax):
            removed += 1
        else:
            out += stream[start:end]
    return bytes(out), removed


def _zeros_before(stream: bytes, code: int, floor: int) -> int:
    """Where the run of zero bytes that ends at start code ``code`` begins (not before
    ``floor``, past the start code and header byte of the unit before)."""
    start = code
    while start > floor and stream[start - 1] == 0:
        start -= 1
    return start


def _carries_text(header: int, transfer_syntax: str) -> bool:
    """Whether the unit whose first byte after the start code is ``header`` is dropped:
    SEI, MPEG-2 user data and filler, which may hold anything and decode to nothing.

    Units are judged by an allow-list: a reserved or unspecified type (which decoders
    skip, so it could carry any text) is refused, as are the system (program / PES)
    start codes an elementary stream does not have.
    """
    if transfer_syntax in _MPEG2_SYNTAXES:
        if header >= 0xB9:
            raise DeidentificationError(
                "MPEG-2 program stream: its packets are not checked for text"
            )
        kind, dropped, allowed = header, _MPEG2_DROPPED, _MPEG2_ALLOWED
    elif header & 0x80:  # forbidden_zero_bit: a program stream or PES start code
        raise _bad("elementary stream NAL unit header")
    elif transfer_syntax in _HEVC_SYNTAXES:
        kind, dropped, allowed = (header >> 1) & 0x3F, _HEVC_DROPPED, _HEVC_ALLOWED
    else:
        kind, dropped, allowed = header & 0x1F, _AVC_DROPPED, _AVC_ALLOWED
    if kind in dropped:
        return True
    if kind not in allowed:
        raise DeidentificationError(f"video unit of reserved or unspecified type {kind:#x}")
    return False


# -- frames and data sets ----------------------------------------------------------------------


def strip_frame(frame: bytes, transfer_syntax: str) -> tuple[bytes, int]:
    """One encapsulated frame without its metadata segments; ``(frame, 0)`` when not handled."""
    if transfer_syntax in _JPEG_SYNTAXES:
        return strip_jpeg(frame)
    if transfer_syntax in _J2K_SYNTAXES:
        return strip_j2k(frame)
    if transfer_syntax in JXL_SYNTAXES:
        return strip_jxl(frame)
    return frame, 0


def handles(transfer_syntax: str) -> bool:
    """Whether :func:`strip_codestream_metadata` inspects pixel data in this syntax."""
    return transfer_syntax in _FRAME_SYNTAXES or transfer_syntax in _MPEG_SYNTAXES


#: Byte patterns a codestream with something to strip must contain (false positives are
#: possible in the compressed data; a miss is not): the JPEG markers removed, the J2K COM
#: marker and the JP2 box types removed, the JPEG XL container signature. Video has none
#: (:func:`reads_whole_stream`): only the whole stream tells its container, and the
#: containers the stripping refuses (transport, program streams) have no byte pattern.
_HINTS: dict[str, re.Pattern[bytes]] = {
    # an APP0 other than a bare JFIF header (length 16) may carry a thumbnail; the lookahead
    # is cut short at the end of a chunk, where the pattern then matches: a false alarm only
    **dict.fromkeys(
        _JPEG_SYNTAXES, re.compile(rb"\xff[\xe1-\xed\xef\xfe]|\xff\xe0(?!\x00\x10JFIF\x00)")
    ),
    **dict.fromkeys(_J2K_SYNTAXES, re.compile(rb"\xff\x64|xml |uuid|uinf")),
    **dict.fromkeys(JXL_SYNTAXES, re.compile(rb"JXL ")),
}
# A pattern's first 4 bytes fit in the overlap of two chunks; the APP0 lookahead may not,
# and is then cut short by the chunk's end, where it matches: a false alarm, never a miss.
HINT_OVERLAP = 3


def reads_whole_stream(transfer_syntax: str) -> bool:
    """Whether :func:`strip_codestream_metadata` must see every video stream of this syntax
    (no byte pattern can tell a caller it may skip the stream)."""
    return transfer_syntax in _MPEG_SYNTAXES


def metadata_hint(transfer_syntax: str) -> re.Pattern[bytes] | None:
    """A pattern found in the encoded pixel data of ``transfer_syntax`` whenever
    :func:`strip_codestream_metadata` would remove something (``None``: it never would).
    Lets a caller that does not load the pixel data decide cheaply whether it must."""
    return _HINTS.get(transfer_syntax)


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
    extended = "ExtendedOffsetTable" in ds
    if syntax in _MPEG_SYNTAXES:
        return _strip_video_fragments(ds, data, syntax, extended)
    try:
        count = int(ds.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError) as exc:
        raise _bad("NumberOfFrames") from exc
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


def _strip_video_fragments(ds: Dataset, data: bytes, syntax: str, extended: bool) -> int:
    """:func:`strip_codestream_metadata` for video, whose fragments together hold one
    stream whatever NumberOfFrames says. A stream of unchanged length (MP4) goes back
    into the same fragments, offset tables untouched; a shorter one (elementary stream)
    is split into as many fragments as before."""
    spans = _fragment_spans(data)
    stream = b"".join(data[start:end] for start, end in spans)
    new, removed = strip_video(stream, syntax)
    if not removed:
        return 0
    if len(new) == len(stream):
        pixels = bytearray(data)
        done = 0
        for start, end in spans:
            pixels[start:end] = new[done : done + end - start]
            done += end - start
        value = bytes(pixels)
    elif extended:
        raise _bad("video stream with an Extended Offset Table changed length")
    else:
        (bot_length,) = struct.unpack("<L", data[4:8])
        value = encapsulate([new], fragments_per_frame=len(spans), has_bot=bot_length > 0)
    vr = ds["PixelData"].VR or "OB"
    ds[_PIXEL_DATA] = DataElement(_PIXEL_DATA, vr, value, is_undefined_length=True)
    return removed


def _fragment_spans(data: bytes) -> list[tuple[int, int]]:
    """Where the value of each fragment item lies in encapsulated pixel data (after the
    Basic Offset Table item), up to the end or a sequence delimiter."""
    spans = []
    pos = 0
    first = True
    while pos + 8 <= len(data):
        tag, length = data[pos : pos + 4], struct.unpack("<L", data[pos + 4 : pos + 8])[0]
        if tag == b"\xfe\xff\xdd\xe0":
            break
        if tag != b"\xfe\xff\x00\xe0" or pos + 8 + length > len(data):
            raise _bad("fragment items")
        if not first:
            spans.append((pos + 8, pos + 8 + length))
        first = False
        pos += 8 + length
    if not spans:
        raise _bad("no fragments")
    return spans
