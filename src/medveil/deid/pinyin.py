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

from medveil.deid.hanzi import simplified

# A name's sounds: its toneless pinyin syllables, one per character, in order.
Sounds = tuple[str, ...]

# Two-character family names (the common ones): the rest of a caret-less name is the given name.
COMPOUND_SURNAMES = frozenset(
    run[i : i + 2]
    for run in (
        "欧阳司马诸葛上官东方皇甫尉迟公孙慕容长孙宇文司徒夏侯轩辕令狐端木百里呼延南宫独孤",
        "申屠太史东郭闻人澹台公冶万俟钟离宗政濮阳淳于单于赫连",
    )
    for i in range(0, len(run), 2)
)  # simplified: a traditional spelling (歐陽) is compared through hanzi.simplified
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
        compound = "".join(map(simplified, family[:2])) in COMPOUND_SURNAMES
        cut = 2 if compound and len(family) > 2 else 1
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


class SoundIndex:
    """Names by their first syllable, built once per lexicon: a text is scanned once, and
    at each character only the names that can start there are tried.

    >>> SoundIndex([("zhang", "wei", "ming")]).find("a 張偉明 b 张伟明 c 张伟")
    [(2, 5), (8, 11)]
    """

    def __init__(self, names: Iterable[Sounds]) -> None:
        self._by_first: dict[str, list[Sounds]] = {}
        for name in sorted({n for n in names if n}, key=len, reverse=True):
            self._by_first.setdefault(name[0], []).append(name)

    def __bool__(self) -> bool:
        return bool(self._by_first)

    def find(self, text: str) -> list[tuple[int, int]]:
        """Spans of *text* whose hanzi sound like a name (each character has the name's
        syllable at its place among its readings), longest name first."""
        spans: list[tuple[int, int]] = []
        position = 0
        while position < len(text):
            end = self._end_of_name_at(text, position)
            if end:
                spans.append((position, end))
                position = end
            else:
                position += 1
        return spans

    def _end_of_name_at(self, text: str, position: int) -> int:
        best = 0
        for syllable in readings(text[position]):
            for name in self._by_first.get(syllable, ()):
                end = position + len(name)
                if (
                    end > best
                    and end <= len(text)
                    and all(name[k] in readings(text[position + k]) for k in range(1, len(name)))
                ):
                    best = end
        return best
