"""TCIA's Private Tag Knowledge Base: what Retain Safe Private may keep.

PS3.15 Table E.3.10-1 (Safe Private Attributes) has no clean machine-readable
copy, so medveil bases the Retain Safe Private option on The Cancer Imaging
Archive's curated KB (2024-02-01), generated into
``profiles/data/tcia-private-kb-2024-02-01.json`` by
``scripts/generate_profile.py``. Each entry gives a disposition:

* ``k`` keep, ``d`` delete,
* ``h`` hash (medveil: keyed pseudonym, see the engine),
* ``o`` offset a date, ``oi`` offset an integer timestamp (seconds).

A private element is named by its odd group, its private creator and the low
byte of its element number; elements nested in sequences are named by their
path: a tuple of keys, ``"gggg:creator:ee"`` for private and ``"ggggeeee"``
for public segments. Creators are compared after stripping
padding and case-folding (the generated file stores them so), since vendors
are inconsistent about both.

    >>> kb = load_private_kb()
    >>> kb.disposition((), 0x0019, "GEMS_ACQU_01", 0xB7)
    'k'
    >>> kb.disposition((), 0x0029, "SIEMENS CSA HEADER", 0x20)
    'd'
    >>> kb.disposition((), 0x0029, "NO SUCH VENDOR", 0x20) is None
    True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

KB_FILE = "tcia-private-kb-2024-02-01.json"
DISPOSITIONS = frozenset({"k", "d", "h", "o", "oi"})


def private_key(group: int, creator: str, element_byte: int) -> str:
    """Path key of a private element: ``private_key(0x19, "GEMS_ACQU_01", 0xb7)`` ->
    ``"0019:gems_acqu_01:b7"``."""
    return f"{group:04x}:{creator.strip().casefold()}:{element_byte:02x}"


def public_key(tag: int) -> str:
    """Path key of a public element: ``public_key(0x00081140)`` -> ``"00081140"``."""
    return f"{tag:08x}"


@dataclass(frozen=True)
class PrivateKb:
    """Dispositions by element path; see the module docstring."""

    source: str
    entries: dict[tuple[str, ...], str]

    def disposition(
        self, parents: tuple[str, ...], group: int, creator: str, element_byte: int
    ) -> str | None:
        """Disposition of a private element under ``parents`` (path keys), or None if unknown."""
        leaf = private_key(group, creator, element_byte)
        return self.entries.get((*parents, leaf))


@cache
def load_private_kb() -> PrivateKb:
    """The bundled KB; parsed once per process."""
    text = resources.files("medveil.profiles").joinpath("data", KB_FILE).read_text("utf-8")
    document = json.loads(text)
    entries = {tuple(e["path"]): e["disposition"] for e in document["entries"]}
    return PrivateKb(source=document["source"], entries=entries)
