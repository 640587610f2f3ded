"""A fast Part-10 encoder with pydicom's exact output, for the datasets the engine writes.

Why: ``Dataset.save_as(fh, enforce_file_format=True)`` costs about 1.8 ms for a
header of a hundred elements, almost all of it per-element dispatch and
validation rather than encoding; in a batch run that is the largest single cost
after de-identification itself. :func:`encode_file` walks ``ds._dict`` directly
and encodes the common value types itself.

The contract: ``encode_file(ds)`` is **byte for byte** what
``pydicom.dcmwrite(buffer, ds, enforce_file_format=True)`` writes (as called by
``ds.save_as``), and it changes ``ds`` at most the way that call does (raw
elements converted in place, ambiguous VRs corrected, the pixel data length flag
set, all by pydicom's own code; the file meta group is completed in a copy, as
pydicom does). It repeats pydicom's decisions rather than improving on them:
elements sorted by tag, group lengths (gggg,0000) above group 6 dropped, raw
elements copied as they are (odd lengths included) when the dataset keeps the
encoding and character set it was read with; when it does not, pydicom converts
and re-encodes them, and so do we -- directly for the VRs where that round trip
is a plain function of the bytes (AS/CS/DA/DT/TM lose trailing spaces and NULs,
the integer VRs and FD keep their bytes, OB-like values get a NUL pad), through
pydicom's conversion for the rest. Sequences and items get the lengths pydicom
gives them; the file meta group is completed and its group length recomputed.

The fallback rule has two levels:

* **One element.** Any element the fast path does not handle with certainty (an
  ambiguous or unknown VR, a value type not listed below, text in a character set
  other than the default, ``ISO_IR 100`` or ``ISO_IR 192``, a value too long for a
  16-bit length, an undefined length outside a sequence, any encoding error) is
  written by ``pydicom.filewriter.write_data_element`` alone and its bytes spliced
  in -- so pydicom writes it, warns about it or refuses it exactly as ``save_as``
  would.
* **The whole file.** What pydicom decides before it writes anything -- a missing,
  private or deflated transfer syntax, a transfer syntax of the other byte order
  than the data set was read in, file meta elements outside group 0002 or with an
  ambiguous VR, required file meta elements missing, a bad preamble, group
  0000/0002 elements in the data set -- raises :class:`UnsupportedEncoding`
  before ``ds`` is touched beyond what ``save_as`` itself would do first; the
  caller then uses ``ds.save_as(fh, enforce_file_format=True)``, which writes or
  raises as it always did.

One exception to "pydicom's exact output": the public transfer syntaxes added to
the standard after the pydicom release in use (:data:`NEWER_ENCAPSULATED_SYNTAXES`)
are refused by ``save_as`` as "not a valid transfer syntax", which would quarantine
every such file. They are explicit VR little endian with encapsulated pixel data,
as every compressed syntax is, and are written as pydicom writes those.

Handled value types: ``str`` and lists of ``str`` for the string VRs, pydicom's
DA/DT/TM objects read from a file (their ``original_string``), IS/DS values
(``original_string`` or ``str``, as pydicom), :class:`~pydicom.valuerep.PersonName`
(through its own ``encode``), ``int`` and lists of ``int`` for the integer VRs,
``float`` for FL/FD, tags for AT, ``bytes`` for OB/OD/OF/OL/OV/OW/UN and
sequences of datasets, nested to any depth.
"""

from __future__ import annotations

import copy
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from pydicom import __version_info__, config
from pydicom.charset import convert_encodings, default_encoding, python_encoding
from pydicom.datadict import DicomDictionary, dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import correct_ambiguous_vr, write_data_element
from pydicom.hooks import hooks, raw_element_value, raw_element_vr
from pydicom.multival import ConstrainedList, MultiValue
from pydicom.tag import _LUT_DESCRIPTOR_TAGS, BaseTag, tag_in_exception
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, DeflatedExplicitVRLittleEndian
from pydicom.valuerep import AMBIGUOUS_VR, EXPLICIT_VR_LENGTH_32, PersonName

from medveil.deid.codestream import JXL_SYNTAXES

__all__ = [
    "NEWER_ENCAPSULATED_SYNTAXES",
    "SyntaxEncoding",
    "UnsupportedEncoding",
    "encode_file",
    "syntax_encoding",
]

PREFIX = b"DICM"
EMPTY_PREAMBLE = bytes(128)
UNDEFINED_LENGTH = 0xFFFFFFFF
SPECIFIC_CHARACTER_SET = 0x00080005
META_GROUP_LENGTH = 0x00020000
META_VERSION = 0x00020001
META_SOP_CLASS = 0x00020002
META_SOP_INSTANCE = 0x00020003
META_TRANSFER_SYNTAX = 0x00020010
META_IMPLEMENTATION_UID = 0x00020012
META_IMPLEMENTATION_NAME = 0x00020013
ITEM = 0xFFFEE000
ITEM_DELIMITER = 0xFFFEE00D
SEQUENCE_DELIMITER = 0xFFFEE0DD
#: Python codecs pydicom's ``encode_string`` reaches without escapes or custom encoders.
FAST_CODECS = frozenset({default_encoding, "latin_1", "UTF8"})
MULTI_VALUE = (list, tuple, MultiValue)
SINGLE_VALUE = (int, float, date, time)

Element = DataElement | RawDataElement

#: Public encapsulated transfer syntaxes pydicom 3.0 does not know (PS3.6 Table A-1).
NEWER_ENCAPSULATED_SYNTAXES = JXL_SYNTAXES | {"1.2.840.10008.1.2.8.1"}  # + Deflated Image Frame


@dataclass(frozen=True, slots=True)
class SyntaxEncoding:
    """How a transfer syntax encodes the data set and its pixel data."""

    implicit: bool
    little: bool
    encapsulated: bool


def syntax_encoding(uid: str) -> SyntaxEncoding | None:
    """The encoding of public transfer syntax ``uid``: pydicom's answer where it knows
    the syntax, explicit VR little endian encapsulated for the newer ones it does not;
    ``None`` for a private or unknown UID (only its writer knows)."""
    syntax = UID(uid)
    if syntax.is_private:
        return None
    if syntax.is_transfer_syntax:
        return SyntaxEncoding(syntax.is_implicit_VR, syntax.is_little_endian, syntax.is_compressed)
    if syntax in NEWER_ENCAPSULATED_SYNTAXES:
        return SyntaxEncoding(implicit=False, little=True, encapsulated=True)
    return None


class UnsupportedEncoding(Exception):
    """``encode_file`` cannot promise pydicom's bytes: write with ``ds.save_as`` instead."""


class _Unhandled(Exception):
    """This element is left to pydicom's own element writer."""


#: What a failed fast encoding of one element may raise; pydicom then writes it.
_ELEMENT_FALLBACK = (_Unhandled, struct.error, TypeError, ValueError)


@dataclass(frozen=True, slots=True)
class _Target:
    """The encoding being written."""

    implicit: bool
    little: bool

    @property
    def order(self) -> str:
        return "<" if self.little else ">"

    def header(self, tag: int, vr: str, length: int) -> bytes:
        """Tag, VR (explicit only) and length, as pydicom's ``write_data_element`` writes."""
        implicit, short, long = _HEADERS[self.little]
        if self.implicit:
            return implicit.pack(tag >> 16, tag & 0xFFFF, length)
        if vr in EXPLICIT_VR_LENGTH_32:
            return long.pack(tag >> 16, tag & 0xFFFF, vr.encode(default_encoding), length)
        if length > 0xFFFF:
            raise _Unhandled  # pydicom rewrites the VR as UN (PS3.5 6.2.2)
        return short.pack(tag >> 16, tag & 0xFFFF, vr.encode(default_encoding), length)

    def marker(self, tag: int, length: int) -> bytes:
        """An item or delimiter tag and its 32-bit length (no VR in any encoding)."""
        return _HEADERS[self.little][0].pack(tag >> 16, tag & 0xFFFF, length)


#: little endian -> (implicit, explicit 16-bit length, explicit 32-bit length) headers.
_HEADERS = {
    little: (
        struct.Struct(f"{order}HHL"),
        struct.Struct(f"{order}HH2sH"),
        struct.Struct(f"{order}HH2s2xL"),
    )
    for little, order in ((True, "<"), (False, ">"))
}
_EXPLICIT_LITTLE = _Target(implicit=False, little=True)


@dataclass(frozen=True, slots=True)
class _Context:
    """One dataset being written: its target encoding and its character set."""

    target: _Target
    charset: Any  #: what pydicom hands its element writer: the (0008,0005) value or the parent's
    encodings: list[str]  #: ``convert_encodings(charset)``, handed down to sequence items
    codec: str | None  #: the codec where pydicom's ``encode_string`` is a plain ``str.encode``

    @classmethod
    def of(cls, target: _Target, charset: Any) -> _Context:
        encodings = _python_encodings(charset)
        fast = len(encodings) == 1 and encodings[0] in FAST_CODECS
        return cls(target, charset, encodings, encodings[0] if fast else None)


def _python_encodings(charset: Any) -> list[str]:
    """``convert_encodings(charset)``, short-cut where its answer is a plain look-up: one
    DICOM term it knows, or (in sequence items) the parent's single fast codec."""
    if charset is None:
        return [default_encoding]
    if isinstance(charset, str) and charset in python_encoding:
        return [python_encoding[charset]]
    if isinstance(charset, list) and len(charset) == 1 and charset[0] in FAST_CODECS:
        return list(charset)
    return convert_encodings(charset)


def encode_file(ds: Dataset) -> bytes:
    """The Part-10 bytes ``dcmwrite(fp, ds, enforce_file_format=True)`` would write.

    Raises :class:`UnsupportedEncoding` (before writing anything) where only
    pydicom can decide; see the module docstring for the rule.
    """
    if any(tag >> 16 in (0, 2) for tag in ds._dict):
        raise UnsupportedEncoding("group 0000 or 0002 elements in the data set")
    meta = _meta_copy(ds)
    syntax = _transfer_syntax(ds, meta)
    preamble = _preamble(ds)
    _complete_meta(meta, ds)
    if "PixelData" in ds:
        ds["PixelData"].is_undefined_length = syntax.encapsulated
    target = _Target(implicit=syntax.implicit, little=syntax.little)
    body = _dataset(ds, target, default_encoding)
    return b"".join((preamble, PREFIX, _meta_group(meta), body))


# -- what pydicom decides before writing -------------------------------------------------------


def _meta_copy(ds: Dataset) -> Dataset:
    """A copy of the file meta group that ``dcmwrite`` may complete, as it completes its own.

    The copy shares the elements: raw ones converted land in the copy only, and
    changed ones are replaced (:func:`_set_meta`), never modified.
    """
    source = getattr(ds, "file_meta", None)
    if not isinstance(source, Dataset):
        raise UnsupportedEncoding("no file meta: pydicom guesses the encoding")
    if any(tag >> 16 != 2 or elem.VR in AMBIGUOUS_VR for tag, elem in source._dict.items()):
        raise UnsupportedEncoding("file meta elements pydicom would refuse or correct")
    meta = copy.copy(source)
    meta._dict = dict(source._dict)
    return meta


def _transfer_syntax(ds: Dataset, meta: Dataset) -> SyntaxEncoding:
    """The encoding of the public, non-deflated transfer syntax in the file meta that
    ``save_as`` accepts (or would, for the newer syntaxes: see the module docstring)."""
    syntax = meta.get("TransferSyntaxUID", None)
    encoding = syntax_encoding(syntax) if isinstance(syntax, UID) else None
    if encoding is None:
        raise UnsupportedEncoding("no public transfer syntax in the file meta")
    if syntax == DeflatedExplicitVRLittleEndian:
        raise UnsupportedEncoding("deflated transfer syntax")
    read_little = ds.original_encoding[1]
    if read_little is not None and read_little != encoding.little:
        raise UnsupportedEncoding("save_as refuses to change the byte order")
    return encoding


def _preamble(ds: Dataset) -> bytes:
    preamble = getattr(ds, "preamble", None)
    if not preamble:
        return EMPTY_PREAMBLE
    if not isinstance(preamble, bytes) or len(preamble) != 128:
        raise UnsupportedEncoding("the preamble is not 128 bytes")
    return preamble


def _complete_meta(meta: Dataset, ds: Dataset) -> None:
    """``dcmwrite`` and ``validate_file_meta(enforce_standard=True)``: the SOP UIDs follow
    the data set's, the defaults are added, the rest is required."""
    for tag, keyword in ((META_SOP_CLASS, "SOPClassUID"), (META_SOP_INSTANCE, "SOPInstanceUID")):
        in_meta = meta[tag].value if tag in meta._dict else None
        in_dataset = ds.get(keyword, None)
        if in_meta is None or (in_dataset and in_dataset != in_meta):
            _set_meta(meta, tag, in_dataset)
    if _absent_or_empty(meta, META_VERSION):
        _set_meta(meta, META_VERSION, b"\0\1")
    if _absent_or_empty(meta, META_IMPLEMENTATION_UID):
        _set_meta(meta, META_IMPLEMENTATION_UID, UID(PYDICOM_IMPLEMENTATION_UID))
    if META_IMPLEMENTATION_NAME not in meta._dict:
        _set_meta(meta, META_IMPLEMENTATION_NAME, f"PYDICOM {'.'.join(__version_info__)}")
    required = (META_SOP_CLASS, META_SOP_INSTANCE, META_TRANSFER_SYNTAX)
    if any(_absent_or_empty(meta, tag) for tag in required):
        raise UnsupportedEncoding("required file meta elements are missing or empty")
    if META_GROUP_LENGTH not in meta._dict:
        _set_meta(meta, META_GROUP_LENGTH, 0)


def _absent_or_empty(meta: Dataset, tag: int) -> bool:
    return tag not in meta._dict or meta[tag].is_empty


def _set_meta(meta: Dataset, tag: int, value: Any) -> None:
    """What setting a file meta attribute leaves there, without touching the shared element."""
    if tag in meta._dict:
        changed = copy.copy(meta[tag])
        changed.value = value
    else:
        changed = DataElement(tag, dictionary_VR(tag), value)
    meta._dict[BaseTag(tag)] = changed


def _meta_group(meta: Dataset) -> bytes:
    """``write_file_meta_info``: the group, then its group length rewritten in place."""
    data = _dataset(meta, _EXPLICIT_LITTLE, default_encoding)
    _set_meta(meta, META_GROUP_LENGTH, len(data) - 12)
    length = _element(meta[META_GROUP_LENGTH], _Context.of(_EXPLICIT_LITTLE, default_encoding))
    return length + data[len(length) :]


# -- data sets ---------------------------------------------------------------------------------


def _dataset(ds: Dataset, target: _Target, parent_charset: Any) -> bytes:
    """``write_dataset``: the elements in tag order, re-encoded where pydicom re-encodes."""
    converting = (target.implicit, target.little) != ds.original_encoding or (
        ds.original_character_set != ds._character_set
    )
    if converting and _needs_vr_correction(ds):
        correct_ambiguous_vr(ds, target.little)
    elements = ds._dict
    if SPECIFIC_CHARACTER_SET in elements:  # Dataset.get("SpecificCharacterSet", parent)
        parent_charset = ds[SPECIFIC_CHARACTER_SET].value
    context = _Context.of(target, parent_charset)
    chunks = []
    for tag in sorted(elements, key=int):
        if not tag & 0xFFFF and tag >> 16 > 6:
            continue  # retired group lengths are not written (PS3.5 7.2)
        elem = elements[tag]
        if isinstance(elem, RawDataElement) and (converting or elem.value is None):
            rewritten = _rewritten(elem, target) if converting else None
            if rewritten is not None:
                chunks.append(rewritten)
                continue
            with tag_in_exception(tag):
                elem = ds[tag] if converting else ds.get_item(tag)
        chunks.append(_element(elem, context))
    return b"".join(chunks)


def _rewritten(elem: RawDataElement, target: _Target) -> bytes | None:
    """What pydicom writes for a raw element it converts first, where that is a plain
    function of the raw bytes (else ``None``: pydicom converts it, in place, as it would)."""
    value, vr = elem.value, elem.VR
    if not isinstance(value, bytes) or elem.length == UNDEFINED_LENGTH:
        return None
    if elem.is_little_endian != target.little or not _default_conversion():
        return None
    if vr is None:  # implicit VR: pydicom looks public tags up in its dictionary
        if (elem.tag >> 16) & 1 or elem.tag not in DicomDictionary:
            return None
        vr = dictionary_VR(elem.tag)
    rewrite = _RAW_REWRITES.get(vr)
    if rewrite is None or (vr in TEMPORAL_VRS and config.datetime_conversion):
        return None
    data = rewrite(value, elem.tag)
    if data is None or (
        not target.implicit and vr not in EXPLICIT_VR_LENGTH_32 and len(data) > 0xFFFF
    ):
        return None
    return target.header(elem.tag, vr, len(data)) + data


def _default_conversion() -> bool:
    """Whether raw elements convert as pydicom does out of the box (no hooks or callbacks)."""
    return (
        config.data_element_callback is None
        and not hooks.raw_element_kwargs
        and hooks.raw_element_vr is raw_element_vr
        and hooks.raw_element_value is raw_element_value
    )


def _needs_vr_correction(ds: Dataset) -> bool:
    """Whether pydicom's ``correct_ambiguous_vr`` would change anything in ``ds``'s tree."""
    for elem in ds._dict.values():
        vr = elem.VR
        if isinstance(elem, RawDataElement):
            if vr == "SQ" or vr in AMBIGUOUS_VR or elem.value is None:
                return True
        elif vr == "SQ":
            items = elem.value
            if any(not isinstance(item, Dataset) or _needs_vr_correction(item) for item in items):
                return True
        elif vr in AMBIGUOUS_VR:
            return True
    return False


def _element(elem: Element, context: _Context) -> bytes:
    """One element, encoded here where certain, else by pydicom's ``write_data_element``."""
    try:
        if isinstance(elem, RawDataElement):
            return _raw(elem, context.target)
        if elem.VR == "SQ":
            return _sequence(elem, context)
        return _value_element(elem, context)
    except _ELEMENT_FALLBACK:
        return _pydicom_element(elem, context)


def _pydicom_element(elem: Element, context: _Context) -> bytes:
    buffer = DicomBytesIO()
    buffer.is_little_endian = context.target.little
    buffer.is_implicit_VR = context.target.implicit
    with tag_in_exception(elem.tag):
        write_data_element(buffer, elem, context.charset)
    return buffer.getvalue()


def _raw(elem: RawDataElement, target: _Target) -> bytes:
    """A raw element in the encoding it was read in: its bytes as they are, odd or not."""
    value, vr = elem.value, elem.VR
    if elem.length == UNDEFINED_LENGTH or not isinstance(value, bytes):
        raise _Unhandled
    if not target.implicit and (not isinstance(vr, str) or len(vr) != 2):
        raise _Unhandled
    return target.header(elem.tag, vr or "", len(value)) + value


def _value_element(elem: DataElement, context: _Context) -> bytes:
    vr = elem.VR
    encode = _ENCODERS.get(vr)
    if encode is None or elem.is_undefined_length:
        raise _Unhandled
    value = elem.value
    data = b"" if _is_empty(value) else encode(value, elem, context)
    return context.target.header(elem.tag, vr, len(data)) + data


def _is_empty(value: Any) -> bool:
    """``DataElement.is_empty`` (value multiplicity 0) for the value types handled here."""
    if value is None:
        return True
    if isinstance(value, str | bytes | PersonName | list | tuple | MultiValue):
        return not value
    if isinstance(value, SINGLE_VALUE):
        return False
    raise _Unhandled


def _sequence(elem: DataElement, context: _Context) -> bytes:
    """``write_sequence``: items of defined length unless flagged undefined, likewise the SQ."""
    items = elem.value
    if not isinstance(items, list | ConstrainedList):
        raise _Unhandled
    target = context.target
    body = b"".join(_item(item, target, context.encodings) for item in items)
    if not elem.is_undefined_length:
        return target.header(elem.tag, "SQ", len(body)) + body
    header = target.header(elem.tag, "SQ", UNDEFINED_LENGTH)
    return header + body + target.marker(SEQUENCE_DELIMITER, 0)


def _item(item: Any, target: _Target, encodings: list[str]) -> bytes:
    if not isinstance(item, Dataset):
        raise _Unhandled
    data = _dataset(item, target, encodings)
    if getattr(item, "is_undefined_length_sequence_item", False):
        return target.marker(ITEM, UNDEFINED_LENGTH) + data + target.marker(ITEM_DELIMITER, 0)
    return target.marker(ITEM, len(data)) + data


# -- values ------------------------------------------------------------------------------------


def _padded(text: str, pad: str = " ") -> bytes:
    """``write_string``: padded to an even number of characters, then encoded (ISO 8859-1)."""
    if len(text) % 2:
        text += pad
    return text.encode(default_encoding)


def _joined(value: Any) -> str:
    """``multi_string`` for the types handled: a ``str`` or a list of them."""
    if isinstance(value, str):
        return value
    if isinstance(value, MULTI_VALUE) and all(isinstance(part, str) for part in value):
        return "\\".join(value)
    raise _Unhandled


def _string(value: Any, elem: DataElement, context: _Context) -> bytes:
    return _padded(_joined(value))


def _uid(value: Any, elem: DataElement, context: _Context) -> bytes:
    return _padded(_joined(value), "\0")


def _temporal(value: Any, elem: DataElement, context: _Context) -> bytes:
    """``write_DA``/``write_DT``/``write_TM``: strings as they are, read values as read."""
    if isinstance(value, MULTI_VALUE):
        return _padded("\\".join(_temporal_text(part) for part in value))
    return _padded(_temporal_text(value))


def _temporal_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    original = getattr(value, "original_string", None)
    if not isinstance(original, str):
        raise _Unhandled  # a date/time pydicom would format with strftime
    return original


def _number_string(value: Any, elem: DataElement, context: _Context) -> bytes:
    """``write_number_string``: each value's ``original_string``, else its ``str``."""
    if isinstance(value, MULTI_VALUE):
        return _padded("\\".join(_number_text(part) for part in value))
    return _padded(_number_text(value))


def _number_text(value: Any) -> str:
    text = value.original_string if hasattr(value, "original_string") else str(value)
    if not isinstance(text, str):
        raise _Unhandled
    return text


def _text(value: Any, elem: DataElement, context: _Context) -> bytes:
    """``write_text`` where its ``encode_string`` is a plain ``str.encode``."""
    codec = context.codec
    if codec is None:
        raise _Unhandled
    if isinstance(value, str):
        data = value.encode(codec)
    elif isinstance(value, MULTI_VALUE) and all(isinstance(part, str) for part in value):
        data = b"\\".join(part.encode(codec) for part in value)
    else:
        raise _Unhandled
    return data + b" " if len(data) % 2 else data


def _person_name(value: Any, elem: DataElement, context: _Context) -> bytes:
    """``write_PN``: each name through ``PersonName.encode``, as pydicom calls it."""
    if isinstance(value, PersonName):
        names = [value]
    elif isinstance(value, MULTI_VALUE) and len(value) > 1:
        names = list(value)
    else:
        raise _Unhandled
    if not all(isinstance(name, PersonName) for name in names):
        raise _Unhandled
    data = b"\\".join(name.encode(context.encodings) for name in names)
    return data + b" " if len(data) % 2 else data


def _numbers(fmt: str) -> Callable[[Any, DataElement, _Context], bytes]:
    """``write_numbers`` for one struct format (US, SS, UL, SL, SV, UV, FL, FD)."""

    def encode(value: Any, elem: DataElement, context: _Context) -> bytes:
        order = context.target.order
        if isinstance(value, int | float):
            return struct.pack(f"{order}{fmt}", value)
        if not isinstance(value, list | MultiValue):
            raise _Unhandled
        head = b""
        if fmt == "h" and elem.tag in _LUT_DESCRIPTOR_TAGS:
            head, value = struct.pack(f"{order}H", value[0]), value[1:]
        return head + struct.pack(f"{order}{len(value)}{fmt}", *value)

    return encode


def _tags(value: Any, elem: DataElement, context: _Context) -> bytes:
    """``write_ATvalue``: each tag as two 16-bit numbers."""
    tags = [value] if isinstance(value, int) else value
    if not isinstance(tags, list | MultiValue) or not all(isinstance(tag, int) for tag in tags):
        raise _Unhandled
    if not all(0 <= tag <= 0xFFFFFFFF for tag in tags):
        raise _Unhandled
    order = context.target.order
    return b"".join(struct.pack(f"{order}HH", tag >> 16, tag & 0xFFFF) for tag in tags)


def _other(value: Any, elem: DataElement, context: _Context) -> bytes:
    """``write_OBvalue``/``write_OWvalue``: the bytes, padded with a NUL to an even length."""
    if not isinstance(value, bytes):
        raise _Unhandled
    return value + b"\0" if len(value) % 2 else value


def _unknown(value: Any, elem: DataElement, context: _Context) -> bytes:
    """``write_UN``: the bytes as they are."""
    if not isinstance(value, bytes):
        raise _Unhandled
    return value


# -- raw values pydicom converts and writes back -------------------------------------------------


def _stripped_string(value: bytes, tag: int) -> bytes:
    """``convert_string`` (trailing spaces and NULs dropped) then ``write_string`` (space pad)."""
    text = value.rstrip(b" \0")
    return text + b" " if len(text) % 2 else text


def _same_numbers(size: int) -> Callable[[bytes, int], bytes | None]:
    """``convert_numbers`` then ``write_numbers``: the same bytes, for whole values of a
    format that round-trips exactly (not FL: a float32 NaN may come back changed). A LUT
    descriptor's first SS value is made unsigned on reading and written unsigned again."""

    def rewrite(value: bytes, tag: int) -> bytes | None:
        return None if len(value) % size else value

    return rewrite


def _even_bytes(value: bytes, tag: int) -> bytes:
    """``convert_OBvalue`` then ``write_OBvalue``: padded with a NUL to an even length."""
    return value + b"\0" if len(value) % 2 else value


TEMPORAL_VRS = frozenset({"DA", "DT", "TM"})
_RAW_REWRITES: dict[str, Callable[[bytes, int], bytes | None]] = {
    **dict.fromkeys(("AS", "CS", *TEMPORAL_VRS), _stripped_string),
    **{vr: _same_numbers(2) for vr in ("US", "SS")},
    **{vr: _same_numbers(4) for vr in ("UL", "SL")},
    **{vr: _same_numbers(8) for vr in ("SV", "UV", "FD")},
    **dict.fromkeys(("OB", "OD", "OF", "OL", "OV", "OW"), _even_bytes),
}

_ENCODERS: dict[str, Callable[[Any, DataElement, _Context], bytes]] = {
    **dict.fromkeys(("AE", "AS", "CS", "UR"), _string),
    "UI": _uid,
    **dict.fromkeys(("DA", "DT", "TM"), _temporal),
    **dict.fromkeys(("DS", "IS"), _number_string),
    **dict.fromkeys(("LO", "LT", "SH", "ST", "UC", "UT"), _text),
    "PN": _person_name,
    **{vr: _numbers(fmt) for vr, fmt in (("US", "H"), ("SS", "h"), ("UL", "L"), ("SL", "l"))},
    **{vr: _numbers(fmt) for vr, fmt in (("SV", "q"), ("UV", "Q"), ("FL", "f"), ("FD", "d"))},
    "AT": _tags,
    **dict.fromkeys(("OB", "OD", "OF", "OL", "OV", "OW"), _other),
    "UN": _unknown,
}
