"""Search a de-identified output tree for injected PHI tokens.

Two independent looks at every file, so a leak cannot hide behind one decoder:

* a structured walk over every element -- file meta, private attributes and
  sequence items at any depth -- decoding text with the file's character set
  and binary values (OB/UN) with several codecs;
* a raw byte search of the whole file except the pixel data value (the
  preamble included), for each token encoded as UTF-8, GB18030, Latin-1 and
  ISO 2022 (JIS) and in three letter cases.

File and folder names of the tree are checked too. Pure-digit tokens (dates
such as ``20170613``) are matched only in decoded non-UID values, because new
random UIDs contain arbitrary digit runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

PIXEL_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})
_CODECS = ("utf-8", "gb18030", "latin-1", "iso2022_jp")


@dataclass(frozen=True)
class Leak:
    """One token found somewhere in the output."""

    path: Path
    location: str  # element path, "raw bytes @offset" or "file name"
    token: str
    kind: str


def scan_tree(
    root: Path, tokens: Mapping[str, str], *, allowed: frozenset[str] = frozenset()
) -> list[Leak]:
    """Every leak under ``root`` (names and contents); kinds in ``allowed`` are ignored."""
    wanted = _without(tokens, allowed)
    return _scan(root, wanted, lambda path: wanted)


def scan_mapped(
    root: Path,
    tokens_of: Mapping[Path, Mapping[str, str]],
    *,
    allowed: frozenset[str] = frozenset(),
) -> list[Leak]:
    """Like :func:`scan_tree`, but each file's content is searched for its own input's tokens.

    Needed for dates: another patient's shifted date can equal this patient's
    original one, so a corpus-wide date search reports coincidences. Names in
    the tree and files missing from ``tokens_of`` are searched for every token.
    """
    everything: dict[str, str] = {}
    for tokens in tokens_of.values():
        everything.update(tokens)
    return _scan(
        root,
        _without(everything, allowed),
        lambda path: _without(tokens_of.get(path.resolve(), everything), allowed),
    )


def _without(tokens: Mapping[str, str], allowed: frozenset[str]) -> dict[str, str]:
    """``tokens`` less those of a kind in ``allowed``."""
    return {t: k for t, k in tokens.items() if k not in allowed}


def _scan(
    root: Path, names: Mapping[str, str], contents: Callable[[Path], Mapping[str, str]]
) -> list[Leak]:
    """Search every path under ``root`` for ``names``, each file's content for ``contents``."""
    leaks: list[Leak] = []
    for path in sorted(root.rglob("*")):
        leaks.extend(scan_name(path, names))
        if path.is_file():
            leaks.extend(scan_file(path, contents(path)))
    return leaks


def scan_file(path: Path, tokens: Mapping[str, str]) -> list[Leak]:
    """Leaks inside one file (structured walk plus raw bytes), one per (token, place)."""
    data = path.read_bytes()
    leaks: dict[tuple[str, str], Leak] = {}
    pixel_span = (len(data), len(data))
    try:
        ds = pydicom.dcmread(BytesIO(data), force=True)
        pixel_span = _pixel_span(data, ds)
        for location, vr, text in _texts(ds):
            for token, kind in tokens.items():
                if vr == "UI" and kind != "uid":
                    continue
                if token.casefold() in text.casefold():
                    leaks.setdefault((token, location), Leak(path, location, token, kind))
    except Exception as exc:  # an unreadable output is reported, then searched raw
        leaks[("", "unreadable")] = Leak(path, f"unreadable: {exc}", "", "unreadable")
    searchable = data[: pixel_span[0]] + data[pixel_span[1] :]
    for token, kind in tokens.items():
        if token.isdigit() or any(t == token for t, _ in leaks):
            continue
        offset = _raw_find(searchable, token)
        if offset >= 0:
            location = f"raw bytes @{offset}"
            leaks[(token, location)] = Leak(path, location, token, kind)
    return list(leaks.values())


def scan_name(path: Path, tokens: Mapping[str, str]) -> Iterator[Leak]:
    name = path.name.casefold()
    for token, kind in tokens.items():
        if not token.isdigit() and token.casefold() in name:
            yield Leak(path, "file name", token, kind)


def _pixel_span(data: bytes, ds: Dataset) -> tuple[int, int]:
    """Byte range of the pixel data element, left out of the raw search (image, not text)."""
    size = len(data)
    present = [tag for tag in PIXEL_TAGS if tag in ds]
    if not present:
        return size, size
    fp = BytesIO(data)
    pydicom.dcmread(fp, force=True, stop_before_pixels=True)
    start = fp.tell()  # pydicom stops at the pixel data element's tag
    head = fp.read(6)
    elem = ds[present[0]]
    header = 12 if head[4:6] in (b"OB", b"OW", b"OF", b"OD", b"OL", b"UN") else 8
    delimiter = 8 if elem.is_undefined_length else 0
    return start, min(size, start + header + len(elem.value or b"") + delimiter)


def _texts(ds: Dataset, prefix: str = "") -> Iterator[tuple[str, str, str]]:
    """(location, VR, decoded text) for every non-pixel element, file meta first."""
    meta = getattr(ds, "file_meta", None)
    if meta is not None and not prefix:
        yield from _texts(meta, "meta.")
    for tag in list(ds.keys()):
        if tag in PIXEL_TAGS:
            continue
        elem = ds[tag]
        location = f"{prefix}{elem.tag} {elem.keyword or elem.name}"
        if elem.VR == "SQ":
            for index, item in enumerate(elem.value or []):
                yield from _texts(item, f"{location}[{index}].")
            continue
        yield from ((location, elem.VR, text) for text in element_texts(elem))


def element_texts(elem: DataElement, codecs: tuple[str, ...] = _CODECS) -> Iterator[str]:
    """Every reading of one element's value: bytes under each of ``codecs``, else ``str``."""
    value = elem.value
    if value is None:
        return
    if isinstance(value, bytes | bytearray):
        for codec in codecs:
            yield bytes(value).decode(codec, errors="ignore")
        return
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        yield "\\".join(str(v) for v in value)
        return
    yield str(value)


def _raw_find(data: bytes, token: str) -> int:
    """First offset of ``token`` in ``data`` in any encoding and case we know, else -1."""
    for variant in {token, token.upper(), token.lower(), token.title()}:
        for encoded in _encodings(variant):
            offset = data.find(encoded)
            if offset >= 0:
                return offset
    return -1


def _encodings(text: str) -> set[bytes]:
    found: set[bytes] = set()
    for codec in _CODECS:
        try:
            encoded = text.encode(codec)
        except UnicodeEncodeError:
            continue
        if codec == "iso2022_jp":  # keep the JIS bytes between the escape sequences
            encoded = encoded.replace(b"\x1b$B", b"").replace(b"\x1b(B", b"")
            if encoded == text.encode("ascii", errors="ignore") or len(encoded) < 6:
                continue  # pure ASCII is covered by UTF-8; short 7-bit JIS runs match noise
        if len(encoded) >= 4:
            found.add(encoded)
    return found
