"""Mandarin readings of Chinese names, so that one name is found in both scripts.

A hospital that stores a patient's name only in hanzi (``张伟明``) types it in
pinyin in an English report (``Zhang Weiming``); one that stores only pinyin
(``ZHANG^WEIMING``) has the hanzi in a Chinese comment; and traditional
characters (``張偉明``) stand for the same name as simplified ones. Pinyin
does not determine the characters, and hanzi are written many ways, but they
all sound alike: a name is matched by its syllables, tones ignored.

The readings are pypinyin's character table (data shipped inside its wheel,
read on first use: nothing is downloaded). Heteronyms keep all their
readings (``单`` is ``dan``, ``shan`` and ``chan``), ``ü`` is spelled every way
passports and reports do (``lü``: ``lv``, ``lu``, ``lyu``).

>>> sorted(readings("张"))
['zhang']
>>> sounds_of_han("張偉明") == sounds_of_han("张伟明")
True
>>> sorted(romanisations("欧阳振华"))
[(('ou', 'yang'), ('zhen', 'hua'))]
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

# A name's sounds: one set of acceptable syllables per character, in order.
Sounds = tuple[frozenset[str], ...]

# Two-character family names (the common ones): the rest of a caret-less name is the given name.
COMPOUND_SURNAMES = frozenset(
    run[i : i + 2]
    for run in (
        "欧阳司马诸葛上官东方皇甫尉迟公孙慕容长孙宇文司徒夏侯轩辕令狐端木百里呼延南宫独孤",
        "申屠太史东郭闻人澹台公冶万俟钟离宗政濮阳淳于单于赫连歐陽諸葛東方長孫夏侯軒轅鍾離",
    )
    for i in range(0, len(run), 2)
)
_MAX_ROMANISATIONS = 8  # heteronym combinations kept per name (the most common readings first)


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    """pypinyin's character table (code point -> readings), read from the JSON file in its
    wheel: importing the package would also load its phrase dictionary, a third of a
    second for every process that meets a Chinese name."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("pypinyin is required for Chinese names")
    table: dict[str, str] = json.loads(
        Path(spec.origin).with_name("pinyin_dict.json").read_text(encoding="utf-8")
    )
    return table


def _toneless(reading: str) -> list[str]:
    """A table reading without its tone mark; ``ü`` in each of its Latin spellings."""
    decomposed = unicodedata.normalize("NFD", reading)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    if "\u0308" in decomposed:  # ü: lü is written lv, lu and lyu
        return [plain.replace("u", "v"), plain, plain.replace("u", "yu")]
    return [plain]


@lru_cache(maxsize=8192)
def _ordered_readings(char: str) -> tuple[str, ...]:
    """The toneless syllables of one character, the most common first (the table's order)."""
    raw = _table().get(str(ord(char)))
    if raw is None:
        return ()
    return tuple(dict.fromkeys(s for reading in raw.split(",") for s in _toneless(reading)))


@lru_cache(maxsize=8192)
def readings(char: str) -> frozenset[str]:
    """The toneless pinyin syllables of one character (empty if it is not a hanzi)."""
    return frozenset(_ordered_readings(char))


def sounds_of_han(name: str) -> Sounds | None:
    """The sounds of a name written in hanzi (2 to 4 characters), or None."""
    if not 2 <= len(name) <= 4:
        return None
    sounds = tuple(readings(char) for char in name)
    return sounds if all(sounds) else None


def sounds_of_syllables(syllables: Iterable[str]) -> Sounds:
    """The sounds of a name already cut into pinyin syllables."""
    return tuple(frozenset({s}) for s in syllables)


def split_name(group: str) -> tuple[str, str] | None:
    """(family, given) of a hanzi PN group (``张^伟明`` or ``张伟明``), or None.

    Without a caret the family name is the first character, or the first two
    for a compound surname (``欧阳``).

    >>> split_name("欧阳振华"), split_name("张^伟明"), split_name("张")
    (('欧阳', '振华'), ('张', '伟明'), None)
    """
    family, _, given = "".join(group.split()).partition("^")
    given = given.replace("^", "")
    if not given:
        cut = 2 if family[:2] in COMPOUND_SURNAMES and len(family) > 2 else 1
        family, given = family[:cut], family[cut:]
    if not family or not given or len(family) + len(given) > 4:
        return None
    return family, given


def romanisations(group: str) -> set[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The pinyin syllables (family, given) of a hanzi PN group (:func:`split_name`).

    Heteronyms give several answers, the most common reading first, at most
    :data:`_MAX_ROMANISATIONS`.
    """
    parts = split_name(group)
    if parts is None:
        return set()
    family, given = parts
    per_char = [_ordered_readings(char) for char in family + given]
    if not all(per_char):
        return set()
    combinations = itertools.islice(itertools.product(*per_char), _MAX_ROMANISATIONS)
    return {(c[: len(family)], c[len(family) :]) for c in combinations}


def find_sounds(text: str, names: Iterable[Sounds]) -> list[tuple[int, int]]:
    """Spans of *text* whose hanzi sound like one of *names* (every character sharing a
    syllable with the name's character at its place)."""
    by_length = sorted({n for n in names if n}, key=len, reverse=True)
    if not by_length:
        return []
    spans: list[tuple[int, int]] = []
    position = 0
    while position < len(text):
        for name in by_length:
            end = position + len(name)
            if end <= len(text) and all(
                readings(text[position + k]) & name[k] for k in range(len(name))
            ):
                spans.append((position, end))
                position = end - 1
                break
        position += 1
    return spans
