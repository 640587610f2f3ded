"""Decode Pixel Data into frames and write redacted frames back truthfully.

Output encoding rules (why: redaction must never add loss, and the header must
describe the bytes exactly):

* uncompressed little-endian input is written back byte-for-byte in the same
  layout (only redacted samples change);
* RLE Lossless and JPEG 2000 Lossless input is re-encoded in the same syntax
  (pylibjpeg-rle / pylibjpeg-openjpeg), so it stays lossless and compressed;
* everything else (JPEG baseline/extended, JPEG lossless, JPEG-LS, lossy
  JPEG 2000, big endian) is written as Explicit VR Little Endian, since
  pydicom cannot re-encode it without loss or without extra plugins;
* 32-bit data goes the same ways, its uncompressed form written directly
  (``Dataset.set_pixel_data`` handles at most 16 bits), except that 32-bit
  RLE input is written uncompressed (pydicom's RLE encoder stops at 16 bits);
* 1-bit data (BitsAllocated 1, e.g. binary segmentations) is decoded to
  0/1 values and written back as Explicit VR Little Endian, the whole volume
  re-packed with :func:`pydicom.pixels.pack_bits` (frames packed contiguously,
  little bit order, so a byte may hold bits of two frames, as PS3.5 8.1.1
  requires).

Colour data that the decoder converted from YBR to RGB is labelled ``RGB``.
Lossy history is kept: a lossy source keeps ``LossyImageCompression = "01"``.
A multi-frame object of one frame keeps its NumberOfFrames (Type 1 in the
multi-frame IODs), which ``Dataset.set_pixel_data`` deletes for one frame.
Anything that cannot be decoded raises :class:`PixelCleaningError`.

Stored data that no decoded frame shows is found while reading
(:attr:`Frames.hidden`), because a viewer never shows it but a reader of the
bytes can: set bits above BitsStored (the retired embedded overlays, or
text hidden there on purpose), native Pixel Data longer than the declared
frames, and encapsulated Pixel Data holding more frames than NumberOfFrames.
Writing the decoded frames back drops all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

import numpy as np
from pydicom.dataset import Dataset
from pydicom.encaps import (
    generate_fragmented_frames,
    generate_fragments,
    parse_basic_offsets,
    parse_fragments,
)
from pydicom.pixels import pack_bits, pixel_array
from pydicom.pixels.utils import get_expected_length
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLSNearLossless,
    RLELossless,
)

from medveil.errors import PixelCleaningError

_REENCODE = {RLELossless, JPEG2000Lossless}
_LITTLE_ENDIAN_NATIVE = {ExplicitVRLittleEndian, ImplicitVRLittleEndian}
# Syntaxes that are lossy by definition; for the others (e.g. generic JPEG 2000)
# the source header's own LossyImageCompression value is left as it was.
_ALWAYS_LOSSY = {JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLSNearLossless}


@dataclass
class Frames:
    """All frames of a dataset as one array ``(frames, rows, columns[, samples])``.

    ``photometric`` is the interpretation of ``array`` (``RGB`` after a YBR
    decode), which may differ from the dataset's until :func:`write_frames`.
    ``hidden`` is true when the stored Pixel Data holds more than ``array``
    shows (bits above BitsStored, bytes or frames beyond the declared ones):
    only writing ``array`` back removes that.
    """

    array: np.ndarray
    photometric: str
    transfer_syntax: UID
    hidden: bool = False

    @property
    def count(self) -> int:
        return int(self.array.shape[0])

    @property
    def is_color(self) -> bool:
        return self.array.ndim == 4


def read_frames(ds: Dataset) -> Frames:
    """Decode every declared frame; fail closed on anything pydicom cannot decode.

    Bits above BitsStored are decoded as stored and cleared here rather than
    by pydicom, so that :attr:`Frames.hidden` can tell whether any were set.
    """
    if "PixelData" not in ds:
        kind = "float" if "FloatPixelData" in ds or "DoubleFloatPixelData" in ds else "no"
        raise PixelCleaningError(f"dataset has {kind} Pixel Data: only integer data is cleaned")
    if int(ds.get("BitsAllocated", 0)) not in (1, 8, 16, 32):
        raise PixelCleaningError(
            f"BitsAllocated {ds.get('BitsAllocated')} is not supported for pixel cleaning"
        )
    syntax = UID(ds.file_meta.TransferSyntaxUID)
    samples = int(ds.get("SamplesPerPixel", 1))
    photometric = str(ds.PhotometricInterpretation)
    # pydicom converts YBR to RGB after decoding, which on values with stray
    # high bits would give garbage: such data (rare) is decoded corrected and
    # always rewritten, since its unused bits cannot be inspected.
    ybr = samples == 3 and photometric.startswith("YBR")
    try:
        # Only the declared frames: pydicom would hand back any excess ones too,
        # and the output must match its header (frames beyond it are dropped).
        array = pixel_array(ds, correct_unused_bits=ybr, allow_excess_frames=False)
    except Exception as exc:  # any decoder failure means we cannot prove the pixels clean
        raise PixelCleaningError(f"cannot decode pixel data ({syntax.name}): {exc}") from exc
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames == 1:
        array = array[np.newaxis, ...]
    expected = 4 if samples > 1 else 3
    if array.ndim != expected:
        raise PixelCleaningError(f"unexpected decoded pixel shape {array.shape}")
    if ybr:
        photometric = "RGB"  # pydicom's decoders hand back RGB for every YBR variant
    # pixel_array decodes afresh (ds.pixel_array would share its cached decode,
    # which must not change if cleaning later fails): redaction may write into it.
    array = array.astype(array.dtype.newbyteorder("="), copy=not array.flags.writeable)
    stored = int(ds.get("BitsStored", ds.BitsAllocated) or ds.BitsAllocated)
    cleared = _clear_unused_bits(array, stored)  # always: it corrects the array in place
    uninspected = ybr and stored < int(ds.BitsAllocated)
    hidden = cleared or uninspected or _has_excess_data(ds, syntax, frames)
    return Frames(array=array, photometric=photometric, transfer_syntax=syntax, hidden=hidden)


def _clear_unused_bits(array: np.ndarray, stored: int) -> bool:
    """Clear the bits above ``stored`` in place (sign-extend signed data); True if any changed.

    Those bits carry no image by definition (PS3.5 8.1.1), so a viewer never
    shows what they hold, but anyone reading the bytes can. A signed value
    already sign-extended, the usual way to store negatives, is left as it is.
    """
    width = 8 * array.dtype.itemsize
    if not 0 < stored < width:
        return False
    if array.dtype.kind == "i":
        low, high = -(1 << (stored - 1)), (1 << (stored - 1)) - 1
    else:
        low, high = 0, (1 << stored) - 1
    if array.size == 0 or (int(array.min()) >= low and int(array.max()) <= high):
        return False  # two reductions: no temporary array for the usual clean data
    shift = array.dtype.type(width - stored)
    np.right_shift(np.left_shift(array, shift, out=array), shift, out=array)
    return True


def _has_excess_data(ds: Dataset, syntax: UID, frames: int) -> bool:
    """True when Pixel Data stores more than ``frames`` frames of the declared size.

    Decoders read only the declared frames and ignore the rest, so whatever
    the excess holds is never seen by a viewer, nor by OCR. Native data may
    carry one trailing pad byte to reach an even length.
    """
    data = ds.PixelData
    if not syntax.is_encapsulated:
        length = get_expected_length(ds, "bytes")
        return len(data) > length + length % 2
    buffer = BytesIO(data)
    has_offsets = bool(parse_basic_offsets(buffer))
    fragments = parse_fragments(buffer)[0]  # counted after the Basic Offset Table item
    if syntax == RLELossless:
        # One fragment per frame (PS3.5 A.4.2): the decoder reads no others.
        return fragments > frames
    offsets = None
    if "ExtendedOffsetTable" in ds and "ExtendedOffsetTableLengths" in ds:
        offsets = (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths)
    if frames == 1 and fragments > 1 and not has_offsets and offsets is None:
        # One frame may span fragments, so pydicom joins them all: a second codestream
        # among them would be stored but never decoded. Count the codestream ends.
        return _codestream_ends(buffer) > 1
    stored = generate_fragmented_frames(data, number_of_frames=frames, extended_offsets=offsets)
    return sum(1 for _ in stored) > frames


def _codestream_ends(fragments: BytesIO) -> int:
    """How many of the fragments (``fragments`` positioned after the Basic Offset Table)
    end a JPEG or JPEG 2000 codestream: EOI/EOC ``FFD9`` in their last bytes, as pydicom
    tests it (fragments are padded to even length)."""
    return sum(1 for fragment in generate_fragments(fragments) if b"\xff\xd9" in fragment[-10:])


def write_frames(ds: Dataset, frames: Frames) -> UID:
    """Store ``frames`` as the dataset's Pixel Data; return the transfer syntax used."""
    source = frames.transfer_syntax
    if int(ds.BitsAllocated) == 1:
        return _write_bits(ds, frames)
    if source in _LITTLE_ENDIAN_NATIVE and frames.photometric == ds.PhotometricInterpretation:
        ds.PixelData = _native_bytes(ds, frames.array)
        return source
    try:
        if not source.is_little_endian:
            _to_little_endian(ds)
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        if int(ds.BitsAllocated) == 32:
            _set_wide_pixel_data(ds, frames)
        else:
            declared = "NumberOfFrames" in ds
            ds.set_pixel_data(
                frames.array if frames.count > 1 else frames.array[0],
                frames.photometric,
                int(ds.BitsStored),
                generate_instance_uid=False,
            )
            if declared:
                ds.NumberOfFrames = frames.count
        if source in _REENCODE and (source != RLELossless or int(ds.BitsAllocated) <= 16):
            ds.compress(source, generate_instance_uid=False)
    except Exception as exc:  # an encoder failure must quarantine, never write
        raise PixelCleaningError(f"cannot encode cleaned pixel data: {exc}") from exc
    if source in _ALWAYS_LOSSY:
        ds.LossyImageCompression = "01"
    return UID(ds.file_meta.TransferSyntaxUID)


def _set_wide_pixel_data(ds: Dataset, frames: Frames) -> None:
    """Native little-endian 32-bit Pixel Data (``Dataset.set_pixel_data`` stops at 16
    bits); the image pixel attributes other than the photometric interpretation stay."""
    ds.PhotometricInterpretation = frames.photometric
    if frames.is_color:
        ds.PlanarConfiguration = 0
    _store_native(ds, _native_bytes(ds, frames.array), "OW")


def _store_native(ds: Dataset, data: bytes, vr: str) -> None:
    """Set uncompressed Pixel Data, dropping what only described the encapsulated form."""
    ds.PixelData = data
    element = ds["PixelData"]
    element.VR = vr
    element.is_undefined_length = False
    for tag in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
        if tag in ds:
            del ds[tag]


def _write_bits(ds: Dataset, frames: Frames) -> UID:
    """Re-pack 0/1 frames as native 1-bit Pixel Data in Explicit VR Little Endian.

    The whole volume is packed at once (not frame by frame): multi-frame 1-bit
    data is one contiguous bit stream, so a frame whose size is not a multiple
    of 8 shares its last byte with the next frame. BitsStored and HighBit
    (1 and 0) are left as they are.
    """
    source = frames.transfer_syntax
    try:
        if frames.is_color or frames.array.max(initial=0) > 1:
            raise ValueError("1-bit pixel data must be single-sample 0/1 values")
        data = pack_bits(np.ascontiguousarray(frames.array, dtype=np.uint8))
        if not source.is_little_endian:
            _to_little_endian(ds)
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        _store_native(ds, data, "OB")
    except Exception as exc:  # an encoder failure must quarantine, never write
        raise PixelCleaningError(f"cannot encode cleaned pixel data: {exc}") from exc
    if source in _ALWAYS_LOSSY:
        ds.LossyImageCompression = "01"
    return ExplicitVRLittleEndian


def _to_little_endian(ds: Dataset) -> None:
    """Re-label a big-endian dataset as little endian, swapping the byte-string VRs.

    pydicom converts numeric values by itself when it writes, but leaves
    OW/OL/OF/OD/OV bytes as read (PS3.5 7.3), so those are swapped here.
    """
    widths = {"OW": 2, "OL": 4, "OF": 4, "OD": 8, "OV": 8}
    for element in ds.iterall():
        width = widths.get(str(element.VR))
        if width and element.tag != 0x7FE00010 and element.value:
            swapped = np.frombuffer(element.value, dtype=f">u{width}").astype(f"<u{width}")
            element.value = swapped.tobytes()
    ds.set_original_encoding(False, True, ds.original_character_set)


def _native_bytes(ds: Dataset, array: np.ndarray) -> bytes:
    """Bytes in the original native layout (planar configuration, padding)."""
    out = array
    if array.ndim == 4 and int(ds.get("PlanarConfiguration", 0)) == 1:
        out = array.transpose(0, 3, 1, 2)
    dtype = np.dtype(f"<{'i' if ds.PixelRepresentation else 'u'}{ds.BitsAllocated // 8}")
    data = np.ascontiguousarray(out).astype(dtype, copy=False).tobytes()
    return data + b"\x00" if len(data) % 2 else data
