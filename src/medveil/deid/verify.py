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
   (identifiers match anywhere, see :func:`term_pattern`). Not searched:
   values produced by the engine itself (pseudonyms); values kept because a
   Retain option or an override asked for them (keeping them was the
   request); code strings (CS), coded values and product descriptors
   (:data:`NOT_PERSONAL_KEYWORDS`: manufacturer, model, software versions,
   coding scheme designators, code values), which name a product or a code,
   never a person, and would otherwise quarantine every file of a site whose
   institution shares a word with its scanner's vendor.

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

from pydicom.datadict import dictionary_has_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from medveil.deid.actions import CODE_KEYWORDS, DATE_VRS, TEXT_VRS, Rule, RuleBook, dummy_value
from medveil.deid.pseudonyms import is_well_known_uid
from medveil.deid.text import PhiLexicon
from medveil.errors import DeidentificationError

MIN_TERM_LENGTH = 3  # for Latin-script terms
# ISO 2022 escape sequences (e.g. ESC $ ) A before GB 2312) pydicom can leave in decoded text:
# encoding artefacts, never content, and they would hide a term from a search.
ISO2022_ESCAPE = re.compile(r"\x1b[\x20-\x2f]*[\x30-\x7e]")
GLUED_ID_LENGTH = 6
_SEARCHED_VRS = (TEXT_VRS | DATE_VRS | {"TM", "AS"}) - {"UI", "CS"}
NOT_PERSONAL_KEYWORDS = CODE_KEYWORDS | {
    "Manufacturer",
    "ManufacturerModelName",
    "SoftwareVersions",
}
_LATIN_ONLY = re.compile(r"[\x00-\u024f\u1e00-\u1eff]*")
_WORD = r"[0-9A-Za-z\u00c0-\u024f\u1e00-\u1eff]"
MEDIA_STORAGE_SOP_INSTANCE_UID = 0x00020003
_META_RULES = {
    MEDIA_STORAGE_SOP_INSTANCE_UID: Rule("U", "default"),
    0x00020016: Rule("X", "default"),
    0x00020017: Rule("X", "default"),
    0x00020018: Rule("X", "default"),
    0x00020100: Rule("X", "default"),
    0x00020102: Rule("X", "default"),
}
_KEEP = Rule("K", "default")


@lru_cache(maxsize=64)
def term_pattern(terms: frozenset[str]) -> re.Pattern[str] | None:
    """One case-insensitive regex for the usable ``terms`` (longest first), or None.

    ISO 2022 escape sequences that pydicom can leave in decoded text (and so
    in lexicon terms) are dropped. Latin-script words match on word
    boundaries; identifiers (six characters or more, with a digit) match
    anywhere, because an ID glued into another token (``CD`` + MRN, a UID
    ending in the accession number) still identifies.

    >>> pattern = term_pattern(frozenset({"Smith", "J", "张三", "QX77349"}))
    >>> texts = ("dr smith", "Smithfield", "张三先生", "J", "CDQX77349")
    >>> [bool(pattern.search(text)) for text in texts]
    [True, False, True, False, True]
    """
    cleaned = {ISO2022_ESCAPE.sub("", term).strip() for term in terms}
    usable = sorted((t for t in cleaned if _long_enough(t)), key=len, reverse=True)
    if not usable:
        return None
    words: list[str] = []
    anywhere: list[str] = []
    for term in usable:
        body = re.escape(term).replace(r"\ ", r"\s+")
        glued_id = len(term) >= GLUED_ID_LENGTH and any(c.isdigit() for c in term)
        (words if _LATIN_ONLY.fullmatch(term) and not glued_id else anywhere).append(body)
    # One pair of lookarounds around all words: compiling a pair per term is ten times slower.
    parts = [rf"(?<!{_WORD})(?:{'|'.join(words)})(?!{_WORD})"] if words else []
    parts += anywhere
    return re.compile("|".join(parts), re.IGNORECASE)


def _long_enough(term: str) -> bool:
    if _LATIN_ONLY.fullmatch(term):
        return len(term) >= MIN_TERM_LENGTH
    return len(term) >= 2


class _Checker:
    def __init__(
        self, rules: RuleBook, pattern: re.Pattern[str] | None, generated: Collection[str]
    ) -> None:
        self.rules = rules
        self.pattern = pattern
        self.generated = generated

    def meta_rule(self, tag: int) -> Rule:
        if tag == MEDIA_STORAGE_SOP_INSTANCE_UID and self.rules.retain_uids:
            return _KEEP
        return _META_RULES.get(tag, _KEEP)

    def rule(self, elem: DataElement) -> Rule:
        tag = int(elem.tag)
        if elem.tag.is_private:
            return self.rules.override(tag) or _KEEP
        return self.rules.listed(tag) or self.rules.unlisted(elem.VR, dictionary_has_tag(tag))

    def dataset(self, output: Dataset, original: Dataset | None, meta: bool = False) -> None:
        for elem in output:
            rule = self.meta_rule(int(elem.tag)) if meta else self.rule(elem)
            before = _element(original, int(elem.tag))
            if rule.action == "X":
                _fail(elem, "should have been removed")
            if elem.VR == "SQ":
                if rule.action == "Z" and elem.value:
                    _fail(elem, "should be an empty sequence")
                originals = before.value if before is not None and before.VR == "SQ" else []
                for index, item in enumerate(elem.value):
                    self.dataset(item, originals[index] if index < len(originals) else None)
                continue
            self.element(elem, rule, before)

    def element(self, elem: DataElement, rule: Rule, before: DataElement | None) -> None:
        value = elem.value
        if rule.action == "Z" and not _is_empty(value):
            _fail(elem, "should be empty")
        must_change = rule.action in ("D", "U") or (rule.action == "C" and elem.VR in DATE_VRS)
        unchanged = before is not None and not _is_empty(value) and value == before.value
        if must_change and unchanged and not self._exempt(elem, rule):
            _fail(elem, "still holds its original value")
        if self.pattern is None or elem.VR not in _SEARCHED_VRS or rule.retained_on_request:
            return
        if elem.keyword in NOT_PERSONAL_KEYWORDS:
            return
        for text in _texts(value):
            if text not in self.generated and self.pattern.search(text):
                _fail(elem, "contains an identifying term of the original header")

    def _exempt(self, elem: DataElement, rule: Rule) -> bool:
        texts = list(_texts(elem.value))
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
    checker = _Checker(rules, term_pattern(frozenset(lexicon.terms)), frozenset(generated))
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


def _texts(value: Any) -> Iterator[str]:
    values = value if isinstance(value, MultiValue | list) else [value]
    for one in values:
        if one is not None and not isinstance(one, bytes):
            yield str(one)


def _fail(elem: DataElement, reason: str) -> None:
    name = elem.keyword or "private attribute"
    raise DeidentificationError(f"{elem.tag} {name} {reason}")
