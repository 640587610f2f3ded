"""The gate: a de-identified dataset is released only if it can be shown to be clean.

:func:`verify` walks every element of the output (file meta, every sequence
item at any depth) next to the original and raises
:class:`~medveil.errors.DeidentificationError` when

1. an attribute whose action is ``X`` is present;
2. an attribute whose action is ``Z`` holds a value, or one whose action is
   ``D``, ``U`` or ``C`` (on DA/DT) still holds its original value (a dummy
   that happens to equal the original, as on a second pass, is fine, and so
   are well-known UIDs);
3. a text value (any string VR but UI) contains a term of the original
   header's PHI lexicon. Latin-script terms of one or two characters are
   ignored (an initial or a sex code would match everywhere; a two-character
   CJK term is a whole name and is kept). Matching is case-insensitive and,
   for Latin-script words, on word boundaries as the scrubber does
   (identifiers match anywhere, see :class:`TermFinder`). Not searched:
   values produced by the engine itself (pseudonyms); values kept because a
   Retain option or an override asked for them (keeping them was the
   request); product descriptors (:data:`NOT_PERSONAL_KEYWORDS`: manufacturer,
   model, software versions), which name a product, never a person, and would
   otherwise quarantine every file of a site whose institution shares a word
   with its scanner's vendor. Code strings are searched: the engine replaces
   a CS value that holds a term (a name typed into ``ImageType``) with the
   dummy, so one found here is a value it missed. So are number strings (IS,
   DS): the engine empties one that spells an ID or a birth date
   (``AcquisitionNumber`` holding the MRN).

The error message names the attribute and the reason, never the value.

    >>> from pydicom import Dataset
    >>> from medveil.deid.policy import Policy
    >>> from medveil.profiles.table import load_table
    >>> original, output = Dataset(), Dataset()
    >>> original.PatientName = output.PatientName = "Smith^John"
    >>> rules = RuleBook(Policy.preset_named("basic"), load_table())
    >>> verify(original=original, output=output, rules=rules,
    ...        lexicon=PhiLexicon.from_dataset(original), generated=set())
    Traceback (most recent call last):
    ...
    medveil.errors.DeidentificationError: (0010,0010) PatientName still holds its original value
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from functools import lru_cache
from typing import Any

from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from medveil.deid.actions import (
    DATE_VRS,
    MEDIA_STORAGE_SOP_INSTANCE_UID,
    META_KEPT,
    TEXT_VRS,
    Rule,
    RuleBook,
    dummy_value,
)
from medveil.deid.charset import element_vr
from medveil.deid.pinyin import SoundIndex, Sounds
from medveil.deid.pseudonyms import is_well_known_uid
from medveil.deid.text import PhiLexicon
from medveil.errors import DeidentificationError

MIN_TERM_LENGTH = 3  # for Latin-script terms
# ISO 2022 escape sequences (e.g. ESC $ ) A before GB 2312) pydicom can leave in decoded text:
# encoding artefacts, never content, and they would hide a term from a search.
ISO2022_ESCAPE = re.compile(r"\x1b[\x20-\x2f]*[\x30-\x7e]")
GLUED_ID_LENGTH = 6
_SEARCHED_VRS = TEXT_VRS | DATE_VRS | {"TM", "AS", "IS", "DS"}
GLUED_TERM_LENGTH = 5  # a term this long names someone even glued into other letters
_CODES_AND_NUMBERS = frozenset({"CS", "IS", "DS"})  # searched as raw ASCII where they can be
NOT_PERSONAL_KEYWORDS = frozenset({"Manufacturer", "ManufacturerModelName", "SoftwareVersions"})
NOT_PERSONAL_TAGS = frozenset(tag_for_keyword(keyword) for keyword in NOT_PERSONAL_KEYWORDS)
_LATIN_ONLY = re.compile(r"[\x00-\u024f\u1e00-\u1eff]*")
_WORD = r"[0-9A-Za-z\u00c0-\u024f\u1e00-\u1eff]"
_WORD_CHAR = re.compile(_WORD)
_DIGIT = re.compile(r"\d")
_KEEP = Rule("K", "default")
_REMOVE = Rule("X", "default")
_PSEUDONYM = Rule("U", "default")


class TermFinder:
    """Finds the usable terms of a lexicon in text, case-insensitively.

    ISO 2022 escape sequences that pydicom can leave in decoded text (and so
    in lexicon terms) are dropped. Latin-script words match on word
    boundaries; identifiers (six characters or more, with a digit) match
    anywhere, because an ID glued into another token (``CD`` + MRN, a UID
    ending in the accession number) still identifies. Runs of whitespace in a
    term match any run of whitespace.

    Searching is plain substring search on lower-cased text, with the
    boundary check only where a term occurs: compiling one regex of a
    hundred terms per patient would cost more than de-identifying the file.

        >>> finder = TermFinder(frozenset({"Smith", "J", "张三", "QX77349"}))
        >>> texts = ("dr smith", "Smithfield", "张三先生", "J", "CDQX77349")
        >>> [finder.search(text) for text in texts]
        [True, False, True, False, True]
        >>> finder.sub("***", "Dr SMITH, MRN CDQX77349")
        'Dr ***, MRN CD***'
    """

    def __init__(self, terms: frozenset[str], sounds: frozenset[Sounds] = frozenset()) -> None:
        self._sounds = SoundIndex(sounds)  # names by their syllables (PhiLexicon.name_sounds)
        usable: dict[str, bool] = {}
        for term in terms:
            if "\x1b" in term:
                term = ISO2022_ESCAPE.sub("", term)
            term = " ".join(term.split())
            if _long_enough(term):
                usable.setdefault(term.lower(), _bounded(term))
        self._terms = sorted(usable.items(), key=lambda entry: -len(entry[0]))
        self._glueable = [term for term, _ in self._terms if len(term) >= GLUED_TERM_LENGTH]
        # terms by their first two characters: short texts are scanned position by position
        self._index: dict[str, list[tuple[str, bool]]] = {}
        for term, bounded in self._terms:
            self._index.setdefault(term[:2], []).append((term, bounded))

    def __bool__(self) -> bool:
        return bool(self._terms or self._sounds)

    def search(self, text: str) -> bool:
        """Whether ``text`` contains a term."""
        return any(True for _ in self._hits(text))

    def search_anywhere(self, text: str) -> bool:
        """Whether ``text`` contains a term of :data:`GLUED_TERM_LENGTH` characters or
        more, word boundaries or not (text read out of binary values has no words)."""
        folded = " ".join(text.lower().split())
        return any(term in folded for term in self._glueable)

    def sub(self, marker: str, text: str) -> str:
        """``text`` with every occurrence of a term replaced by ``marker``."""
        hits = tuple(sorted(set(self._hits(text))))
        if not hits:
            return text
        return _hit_pattern(hits).sub(marker, text)

    def _hits(self, text: str) -> Iterator[tuple[str, bool]]:
        yield from self._literal_hits(text)
        if self._sounds and not text.isascii():  # hanzi that sound like a name
            for start, end in self._sounds.find(text):
                yield text[start:end].lower(), False

    def _literal_hits(self, text: str) -> Iterator[tuple[str, bool]]:
        folded = " ".join(text.lower().split())
        if len(folded) < 2 * len(self._terms):  # cheaper than one find() per term
            index = self._index
            for start in range(len(folded) - 1):
                for term, bounded in index.get(folded[start : start + 2], ()):
                    if folded.startswith(term, start) and (
                        not bounded or _at_boundaries(folded, start, start + len(term))
                    ):
                        yield term, bounded
            return
        for term, bounded in self._terms:
            start = folded.find(term)
            while start >= 0:
                if not bounded or _at_boundaries(folded, start, start + len(term)):
                    yield term, bounded
                    break
                start = folded.find(term, start + 1)


def _at_boundaries(folded: str, start: int, end: int) -> bool:
    return (start == 0 or not _WORD_CHAR.match(folded[start - 1])) and (
        end == len(folded) or not _WORD_CHAR.match(folded[end])
    )


def _bounded(term: str) -> bool:
    """Latin-script words need word boundaries; identifiers and other scripts do not."""
    glued_id = len(term) >= GLUED_ID_LENGTH and bool(_DIGIT.search(term))
    return not glued_id and (term.isascii() or bool(_LATIN_ONLY.fullmatch(term)))


@lru_cache(maxsize=256)
def _hit_pattern(hits: tuple[tuple[str, bool], ...]) -> re.Pattern[str]:
    """A regex for the few terms found in one text, to replace them where they stand."""
    parts = []
    for term, bounded in sorted(hits, key=lambda hit: len(hit[0]), reverse=True):
        body = re.escape(term).replace(r"\ ", r"\s+")
        parts.append(rf"(?<!{_WORD}){body}(?!{_WORD})" if bounded else body)
    return re.compile("|".join(parts), re.IGNORECASE)


@lru_cache(maxsize=64)
def term_finder(
    terms: frozenset[str], sounds: frozenset[Sounds] = frozenset()
) -> TermFinder | None:
    """The :class:`TermFinder` of a lexicon's terms (and name sounds), or None when none is
    usable."""
    finder = TermFinder(terms, sounds)
    return finder if finder else None


def _long_enough(term: str) -> bool:
    if term.isascii() or _LATIN_ONLY.fullmatch(term):
        return len(term) >= MIN_TERM_LENGTH
    return len(term) >= 2


class _Checker:
    def __init__(
        self, rules: RuleBook, pattern: TermFinder | None, generated: Collection[str]
    ) -> None:
        self.rules = rules
        self.pattern = pattern
        self.generated = generated

    def meta_rule(self, tag: int) -> Rule:
        if tag == MEDIA_STORAGE_SOP_INSTANCE_UID:
            return _KEEP if self.rules.retain_uids else _PSEUDONYM
        return _KEEP if tag in META_KEPT else _REMOVE

    def rule(self, tag: int, vr: str) -> Rule:
        if (tag >> 16) & 1:
            return self.rules.override(tag) or _KEEP
        return self.rules.listed(tag) or self.rules.unlisted(tag, vr)

    def dataset(self, output: Dataset, original: Dataset | None, meta: bool = False) -> None:
        for key in list(output.keys()):
            tag = int(key)
            vr = element_vr(output, tag)
            rule = self.meta_rule(tag) if meta else self.rule(tag, vr)
            if rule.action == "K" and vr not in _SEARCHED_VRS and vr not in ("SQ", "UN"):
                continue  # kept, and not text: nothing to check (and nothing to convert)
            if rule.action == "K" and vr in _CODES_AND_NUMBERS:
                text = raw_ascii_text(output, tag)
                if text is not None and (self.pattern is None or not self.pattern.search(text)):
                    continue  # a kept code string or number without a term: left unconverted
            elem = output[key]
            if rule.action == "X":
                _fail(elem, "should have been removed")
            if elem.VR == "SQ":
                if rule.action == "Z" and elem.value:
                    _fail(elem, "should be an empty sequence")
                before = _element(original, int(elem.tag))
                originals = before.value if before is not None and before.VR == "SQ" else []
                for index, item in enumerate(elem.value):
                    self.dataset(item, originals[index] if index < len(originals) else None)
                continue
            self.element(elem, rule, original)

    def element(self, elem: DataElement, rule: Rule, original: Dataset | None) -> None:
        value = elem.value
        if rule.action == "Z" and not _is_empty(value):
            _fail(elem, "should be empty")
        must_change = rule.action in ("D", "U") or (rule.action == "C" and elem.VR in DATE_VRS)
        before = _element(original, int(elem.tag)) if must_change else None
        unchanged = before is not None and not _is_empty(value) and value == before.value
        if must_change and unchanged and not self._exempt(elem, rule):
            _fail(elem, "still holds its original value")
        if self.pattern is None or elem.VR not in _SEARCHED_VRS or rule.retained_on_request:
            return
        if int(elem.tag) in NOT_PERSONAL_TAGS:
            return
        dummy = dummy_value(elem.VR)  # a placeholder birth date 19000101 is also the DA dummy
        for text in text_values(value):
            if text not in self.generated and text != dummy and self.pattern.search(text):
                _fail(elem, "contains an identifying term of the original header")

    def _exempt(self, elem: DataElement, rule: Rule) -> bool:
        texts = text_values(elem.value)
        if rule.action == "U" or elem.VR == "UI":
            return all(is_well_known_uid(t.strip("\x00 ")) for t in texts)
        dummy = dummy_value(elem.VR)
        return all(t == dummy or t in self.generated for t in texts)


def verify(
    *,
    original: Dataset,
    output: Dataset,
    rules: RuleBook,
    lexicon: PhiLexicon,
    generated: Collection[str],
) -> None:
    """Raise DeidentificationError unless ``output`` is provably clean (module docstring)."""
    checker = _Checker(rules, term_finder(lexicon.terms, lexicon.name_sounds), frozenset(generated))
    out_meta = getattr(output, "file_meta", None)
    if isinstance(out_meta, Dataset):
        in_meta = getattr(original, "file_meta", None)
        checker.dataset(out_meta, in_meta if isinstance(in_meta, Dataset) else None, meta=True)
    checker.dataset(output, original)


def _element(ds: Dataset | None, tag: int) -> DataElement | None:
    if ds is None or tag not in ds:
        return None
    return ds[tag]


def _is_empty(value: Any) -> bool:
    return (
        value is None
        or value == ""
        or value == b""
        or (isinstance(value, MultiValue | list) and not value)
    )


def raw_ascii_text(ds: Dataset, tag: int) -> str | None:
    """The value of a still-raw element as one string (values joined by backslashes) when
    its bytes are plain ASCII, as code strings are; ``None`` otherwise.

    Searching it finds every term a search of the separate values finds (a term holds no
    backslash), without the cost of converting the element.
    """
    elem = ds._dict.get(tag)  # type: ignore[call-overload]
    value = elem.value if isinstance(elem, RawDataElement) else None
    return value.decode("ascii") if isinstance(value, bytes) and value.isascii() else None


def text_values(value: Any) -> list[str]:
    """The string values of an element value (none for binary or empty values)."""
    values = value if isinstance(value, MultiValue | list) else [value]
    return [str(one) for one in values if one is not None and not isinstance(one, bytes)]


def _fail(elem: DataElement, reason: str) -> None:
    name = elem.keyword or "private attribute"
    raise DeidentificationError(f"{elem.tag} {name} {reason}")
