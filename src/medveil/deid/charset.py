"""Character sets: decode every text value once, write the output as UTF-8 or ASCII.

Input arrives in whatever (0008,0005) *Specific Character Set* the modality
used: ``ISO_IR 100`` (Latin-1), ``ISO_IR 192`` (UTF-8), ``GB18030``, ``GBK``,
ISO 2022 code extensions such as ``ISO 2022 IR 6\\ISO 2022 IR 58`` (GB 2312)
or ``\\ISO 2022 IR 87`` (JIS X 0208), possibly different again inside a
sequence item. De-identification compares and rewrites text as Python
``str``, so the rules are:

1. :func:`decode_text` (before de-identifying) checks every (0008,0005) in
   the dataset and its sequences, refusing unknown terms with
   :class:`CharsetError` (a :class:`~medveil.errors.DeidentificationError`:
   text we cannot read is text we cannot prove clean), then decodes every
   text value (SH, LO, ST, LT, UT, UC, PN, all groups of PN) to ``str``,
   forgetting the original bytes.
2. :func:`normalise_character_set` (after de-identifying) chooses the output
   character set from the *content* alone:

   * any non-ASCII character in a text value: ``ISO_IR 192`` (UTF-8, every
     script, including PN ideographic and phonetic groups) at the top level;
   * all ASCII: (0008,0005) is removed, since the default repertoire suffices
     (it is Type 1C: required only when another repertoire is used). This
     also keeps the source site's locale out of clean files.

   Either way (0008,0005) is removed from sequence items, which then inherit
   the top-level value. Because every value is already decoded, pydicom
   re-encodes all of them with the new character set on write.

    >>> from pydicom import Dataset
    >>> ds = Dataset()
    >>> ds.SpecificCharacterSet = "GB18030"
    >>> ds.PatientName = "Zhang^San=张^三"
    >>> normalise_character_set(ds), ds.SpecificCharacterSet
    ('ISO_IR 192', 'ISO_IR 192')
    >>> ds.PatientName = "MV^3F9A"
    >>> normalise_character_set(ds), "SpecificCharacterSet" in ds
    (None, False)
"""

from __future__ import annotations

import re
from collections.abc import Container, MutableSequence, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydicom import config
from pydicom.charset import convert_encodings, decode_element
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import Tag
from pydicom.valuerep import PersonName

from medveil.errors import DeidentificationError

UTF8 = "ISO_IR 192"
# VRs whose raw bytes no character set touches.
_BINARY_VRS = frozenset(
    {"OB", "OD", "OF", "OL", "OV", "OW", "UN", "US", "SS", "UL", "SL", "FL", "FD", "AT", "SV", "UV"}
)
TEXT_VRS = frozenset({"SH", "LO", "ST", "LT", "UT", "UC", "PN"})
SPECIFIC_CHARACTER_SET = Tag(0x0008, 0x0005)
_IR58_DESIGNATION = "\x1b$)A"
# ISO 2022 code extensions that put a multi-byte set in G1 (GR bytes 0xA1-0xFE): GB 2312
# (IR 58) and KS X 1001 (IR 149). Many writers omit the escape sequence before the bytes.
_G1_MULTIBYTE = ("iso_ir_58", "euc_kr")
_HIGH_RUN = re.compile("[\x80-\xff]+")


class CharsetError(DeidentificationError):
    """The dataset names a character set that cannot be decoded."""


@dataclass
class _Decoded:
    """What one decoding walk found: every dataset and every non-empty text element."""

    datasets: list[Dataset] = field(default_factory=list)
    texts: list[DataElement] = field(default_factory=list)
    skip: Container[int] = frozenset()


def decode_text(ds: Dataset, skip: Container[int] = frozenset()) -> None:
    """Validate every (0008,0005) in *ds* and decode all its text values to ``str``.

    Elements whose tag is in *skip* (at any depth) are left undecoded: the engine
    passes the attributes it removes or empties without reading them. Person names
    are decoded even then (every one of them feeds the PHI lexicon).
    """
    _decode(ds, skip)


def _decode(ds: Dataset, skip: Container[int] = frozenset()) -> _Decoded:
    found = _Decoded(skip=skip)
    _decode_dataset(ds, None, found)
    if not any(SPECIFIC_CHARACTER_SET in item for item in found.datasets):
        _reread_undeclared_utf8(found.texts)
    return found


def undeclared_readings(text: str) -> set[str]:
    """Other readings of text that pydicom decoded as Latin-1 for want of a declaration.

    Many devices write UTF-8 or GB18030 without saying so in (0008,0005);
    pydicom then decodes the bytes as Latin-1 (the default repertoire's
    reading), which is reversible, so the real text can be recovered.
    Returns the readings that differ from *text* and decode without error.

    >>> mojibake = "张三".encode("utf-8").decode("latin-1")
    >>> "张三" in undeclared_readings(mojibake)
    True
    >>> undeclared_readings("Smith"), undeclared_readings("张三")
    (set(), set())
    """
    if text.isascii():
        return set()
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:  # real non-Latin text: decoded already
        return set()
    readings = set()
    for codec in ("utf-8", "gb18030"):
        try:
            readings.add(raw.decode(codec))
        except UnicodeDecodeError:
            continue
    return readings - {text}


def _reread_undeclared_utf8(elements: list[DataElement]) -> None:
    """With no (0008,0005) anywhere, non-ASCII text that is all valid UTF-8 is UTF-8.

    Only UTF-8 is recovered automatically: Latin-1 text is almost never valid
    UTF-8, whereas nearly any byte string is valid GB18030, so guessing
    GB18030 would corrupt European names.
    """
    utf8: dict[str, str] = {}
    for elem in elements:
        for text in _values(elem):
            if not text.isascii():
                try:
                    utf8[text] = text.encode("latin-1").decode("utf-8")
                except UnicodeError:
                    return
    if not utf8:
        return
    for elem in elements:
        _replace_values(elem, [utf8.get(text, text) for text in _values(elem)])


def _decode_dataset(
    dataset: Dataset, inherited: str | MutableSequence[str] | None, found: _Decoded
) -> None:
    """Decode one dataset, then its sequence items with the character set they inherit.

    Items that were not read from a file (an engine copies raw elements into
    fresh ``Dataset`` objects) do not know their parent's character set;
    pydicom reads it from ``_parent_encoding``, which ``Dataset.decode`` sets
    the same way. Elements that are neither text nor sequences stay raw
    (pixel data is never converted).
    """
    found.datasets.append(dataset)
    if SPECIFIC_CHARACTER_SET in dataset:
        value = dataset[SPECIFIC_CHARACTER_SET].value
        with config.strict_reading():
            try:
                convert_encodings(value)
            except LookupError as exc:
                raise CharsetError(f"unsupported Specific Character Set: {exc}") from None
    if inherited is not None and not dataset.original_character_set:
        dataset._parent_encoding = inherited if isinstance(inherited, str) else list(inherited)
    effective = dataset.original_character_set or dataset._character_set
    for tag in list(dataset.keys()):
        vr = element_vr(dataset, tag)
        if vr == "SQ":
            for item in dataset[tag].value:
                _decode_dataset(item, effective, found)
        elif vr in TEXT_VRS and (vr == "PN" or tag not in found.skip):
            raw = dataset.get_item(tag)
            fresh = isinstance(raw, RawDataElement)
            plain_bytes = fresh and _plain_bytes(raw.value)
            elem = dataset[tag]
            if elem.is_empty:
                continue
            if plain_bytes and elem.VR != "PN":
                pass  # ASCII without escapes reads the same in every repertoire: decoded
            elif fresh or not _plain_text(elem):  # text set as str is decoded already
                _decode_element(elem, dataset)
            found.texts.append(elem)


def _plain_bytes(value: bytes | None) -> bool:
    """Whether raw text bytes are ASCII without ESC: pydicom's reading of them is final."""
    return value is None or (value.isascii() and b"\x1b" not in value)


def _plain_text(elem: DataElement) -> bool:
    """Whether every value is already ``str`` (a PN built from ``str``), escape-free."""
    for value in _value_list(elem):
        if isinstance(value, PersonName):
            if value.original_string is not None or "\x1b" in str(value):
                return False
        elif not isinstance(value, str) or "\x1b" in value:
            return False
    return True


def _decode_element(elem: DataElement, dataset: Dataset) -> None:
    """Make the value plain decoded text that the writer re-encodes with the output charset.

    A PN read from a file keeps its original bytes and encodings and would be
    written back in them; rebuilding it from its decoded string drops both.
    (``Dataset.decode`` is not used: it mangles PN values created from ``str``.)
    """
    codec = undesignated_codec(dataset._character_set)
    if elem.VR == "PN":
        _replace_values(elem, [_clean(name, codec) for name in _values(elem)])
        return
    if any(isinstance(value, bytes) for value in _value_list(elem)):
        decode_element(elem, dataset._character_set)
    if isinstance(elem.value, MultiValue):
        elem.value = [_clean(value, codec) for value in elem.value]
    elif isinstance(elem.value, str):
        elem.value = _clean(elem.value, codec)


def undesignated_codec(encodings: str | Sequence[str] | None) -> str | None:
    """The G1 multi-byte codec to read undesignated high bytes with, if the character set
    has one: ``\\ISO 2022 IR 58`` gives ``iso_ir_58`` (GB 2312), ``\\ISO 2022 IR 149``
    ``euc_kr``.

    Under an ISO 2022 character set whose first value is the default repertoire (empty
    or ``ISO 2022 IR 6``, ASCII only), a byte of 0x80 or more is only valid after an
    escape sequence. Many devices write GB 2312 (or KS X 1001) bytes without it;
    pydicom then reads them as Latin-1, and a name so garbled would never reach the
    lexicon. The only sensible reading of those bytes is the declared extension.

    >>> undesignated_codec(["iso8859", "iso_ir_58"]), undesignated_codec("iso8859")
    ('iso_ir_58', None)
    """
    if not encodings or isinstance(encodings, str) or encodings[0] != "iso8859":
        return None
    return next((codec for codec in encodings[1:] if codec in _G1_MULTIBYTE), None)


def reread_undesignated(text: str, codec: str) -> str:
    """*text* with each run of Latin-1 high characters re-read as bytes in *codec*.

    >>> garbled = "欧阳".encode("gb2312").decode("latin-1")
    >>> reread_undesignated(f"Ouyang={garbled}", "iso_ir_58")
    'Ouyang=欧阳'
    """

    def one(match: re.Match[str]) -> str:
        try:
            return match.group().encode("latin-1").decode(codec)
        except UnicodeError:
            return match.group()

    return _HIGH_RUN.sub(one, text)


def _clean(text: str, codec: str | None) -> str:
    text = clean_decoded_text(text)
    return reread_undesignated(text, codec) if codec is not None else text


def clean_decoded_text(text: str) -> str:
    """Drop what pydicom leaves of ISO 2022 IR 58 designations; refuse any other escape.

    pydicom decodes ISO 2022 IR 58 with Python's ``gb2312`` codec, which keeps
    the ``ESC $ ) A`` designation in the text (the GB 2312 characters after it
    are decoded correctly). Any other escape left in decoded text means
    undecoded bytes, which no lexicon would match: fail closed.
    """
    text = text.replace(_IR58_DESIGNATION, "")
    if "\x1b" in text:
        raise CharsetError("a text value holds an escape sequence that could not be decoded")
    return text


def has_non_ascii_text(ds: Dataset) -> bool:
    """Whether any text value of *ds* (sequences included) is non-ASCII; decodes *ds* first."""
    return _has_non_ascii(_decode(ds).texts)


def normalise_character_set(ds: Dataset) -> str | None:
    """Set (0008,0005) to ``ISO_IR 192`` or remove it (see module docstring); return it."""
    found = _decode(ds)
    for item in found.datasets[1:]:
        if SPECIFIC_CHARACTER_SET in item:
            del item[SPECIFIC_CHARACTER_SET]
    chosen: str | None = UTF8 if _has_non_ascii(found.texts) else None
    if chosen is not None:
        ds.SpecificCharacterSet = chosen
    elif SPECIFIC_CHARACTER_SET in ds:
        del ds[SPECIFIC_CHARACTER_SET]
    _settle_raw_elements(found.datasets)
    return chosen


def _settle_raw_elements(datasets: list[Dataset]) -> None:
    """Mark datasets whose raw elements read the same in the output character set.

    A writer re-encodes every raw element of a dataset whose character set changed
    (pydicom converts each value and writes it again): minutes for the contour data
    of a large RT structure set. Bytes that are ASCII without ESC mean the same in
    every repertoire DICOM allows, so where all raw values are such bytes (or binary),
    the dataset is recorded as read in its current character set and its raw
    elements are written as they are.
    """
    for dataset in datasets:
        current = dataset._character_set
        if dataset.original_character_set == current:
            continue
        raw = [e for e in dataset._dict.values() if isinstance(e, RawDataElement)]
        if all(e.VR in _BINARY_VRS or _plain_bytes(e.value) for e in raw):
            implicit, little = dataset.original_encoding
            dataset.set_original_encoding(implicit, little, current)


def _has_non_ascii(elements: list[DataElement]) -> bool:
    return any(not text.isascii() for elem in elements for text in _values(elem))


def element_vr(dataset: Dataset, tag: int) -> str:
    """The VR of an element without converting it from its raw form (the dictionary's
    when the raw element has none, as in implicit VR; ``UN`` for unknown tags)."""
    vr = dataset.get_item(tag).VR
    if vr:
        return str(vr)
    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def _value_list(elem: DataElement) -> Sequence[Any]:
    """The values of *elem*: its MultiValue, or its single value as a one-item list."""
    return elem.value if isinstance(elem.value, MultiValue) else [elem.value]


def _values(elem: DataElement) -> list[str]:
    """The values of a text element as strings (one per value of a multi-valued one)."""
    return [str(value) for value in _value_list(elem)]


def _replace_values(elem: DataElement, texts: list[str]) -> None:
    """Give *elem* the values *texts* (as person names for PN), multi-valued only if it was."""
    values = [PersonName(text) for text in texts] if elem.VR == "PN" else texts
    elem.value = values if isinstance(elem.value, MultiValue) else values[0]
