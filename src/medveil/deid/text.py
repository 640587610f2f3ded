"""Finding and removing identifying text: the PHI lexicon and free-text patterns.

Free text (descriptions, comments, burned-in annotations read by OCR) can
name the patient in ways no attribute list anticipates. Two complementary
detectors are applied, both offline and deterministic:

1. The **lexicon**: every identifying string of the *original* header
   (:meth:`PhiLexicon.from_dataset`), expanded into the spellings people
   write. ``Smith^John^Paul`` yields ``Smith``, ``John``, ``Paul``,
   ``John Smith``, ``Smith John``, ``Smith, John``, ``John Paul Smith``,
   ``J. Smith``, ``J.P. Smith``, ``Smith J``, ``SMITH JP``, ``J.P.S.``... (case
   never matters); ideographic ``张^三`` yields ``张三`` and ``张 三``; phonetic
   groups are treated like alphabetic ones. IDs also give their digits-only
   form, addresses their comma-separated parts, the birth date a dozen
   spellings. Latin terms match on word boundaries (``Smith`` is found in
   ``Smith先生`` and ``Dr.Smith`` but not in ``Smithfield``); terms with CJK
   or other scripts match as substrings, since those scripts have no spaces.
2. **Patterns** for PHI that need no lexicon:

   ============  ==========================================================
   kind          examples
   ============  ==========================================================
   email         ``john.smith@example.org``
   url           ``https://...``, ``www....``
   resident_id   Chinese resident ID: 18 chars, birth date inside, valid
                 ISO 7064 MOD 11-2 check character (may be ``X``); a bad
                 checksum still goes as ``id`` (long digit run)
   date          ``20240305``, ``2024-03-05``, ``2024/3/5``, ``2024.03.05``,
                 ``05/03/2024``, ``3-5-2024``, ``5 March 2024``,
                 ``5th of Mar, 2024``, ``March 5, 2024``, ``March 2024``,
                 ``05-Mar-2024``, ``2024年3月5日``, ``3月5日``
   phone         Chinese mobile ``13800138000`` / ``138 0013 8000`` with or
                 without ``+86``; landline ``010-12345678``,
                 ``(0755) 1234567``; ``+44 20 7946 0958``; ``(555) 123-4567``
   ip            IPv4 addresses
   id            ``123-45-6789`` (SSN shape); digit runs of 6 or more not
                 part of a decimal or dotted number; tokens of 6+ letters
                 and digits with at least 3 digits and a letter
                 (``MRN12345``, ``CT20240305001``), except a number with a
                 unit (``1000mAs``, ``120kVp``) or a matrix (``512x512``)
   ============  ==========================================================

What is kept on purpose: short tokens (``L``, ``R``, ``PA``, ``AP``, ``CT``,
``MRI``), numbers under 6 digits, measurements and doses (``12.5 cm``,
``5 mg``), decimals, dotted numbers such as UIDs and versions. Lexicon terms
that are clinical vocabulary (a station called ``CT``), placeholders
(``ANONYMOUS``) or too short (a lone initial, a single CJK character) are
dropped, because they would erase ordinary words everywhere.

:meth:`PhiLexicon.scrub` replaces each span (overlapping spans merge) with
:data:`MARKER` (``***``: short, no letters or digits so scrubbing twice
changes nothing) and leaves every other character as it was. The result can
be longer than the input; :func:`fit_to_vr` truncates to a VR's length.

    >>> from pydicom import Dataset
    >>> ds = Dataset()
    >>> ds.PatientName = "Smith^John"
    >>> ds.PatientID = "12345678"
    >>> lex = PhiLexicon.from_dataset(ds)
    >>> lex.scrub("CT chest for J. Smith (MRN 12345678), seen 5 March 2024, L lung 12.5 cm")
    'CT chest for *** (MRN ***), seen ***, L lung 12.5 cm'
    >>> [s.kind for s in lex.find("SMITH JOHN, tel 138 0013 8000")]
    ['name', 'phone']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from medveil.deid.charset import clean_decoded_text, undeclared_readings

MARKER = "***"

# Attributes (other than the PN ones, which are all taken) whose values identify.
SOURCES: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "PatientID",
            "OtherPatientIDs",
            "AccessionNumber",
            "StudyID",
            "AdmissionID",
            "ServiceEpisodeID",
            "RequestedProcedureID",
            "ScheduledProcedureStepID",
            "PerformedProcedureStepID",
            "PlacerOrderNumberImagingServiceRequest",
            "FillerOrderNumberImagingServiceRequest",
            "MedicalRecordLocator",
            "ClinicalTrialSubjectID",
            "ClinicalTrialSubjectReadingID",
            "InsurancePlanIdentification",
            "DeviceSerialNumber",
            "UniversalEntityID",
            "LocalNamespaceEntityID",
        ),
        "id",
    ),
    **dict.fromkeys(
        (
            "InstitutionName",
            "InstitutionalDepartmentName",
            "IssuerOfPatientID",
            "IssuerOfAdmissionID",
            "ResponsibleOrganization",
            "ClinicalTrialSiteName",
            "BranchOfService",
        ),
        "institution",
    ),
    **dict.fromkeys(
        (
            "PatientAddress",
            "InstitutionAddress",
            "ReferringPhysicianAddress",
            "PersonAddress",
            "RegionOfResidence",
            "PatientInstitutionResidence",
            "CurrentPatientLocation",
        ),
        "address",
    ),
    **dict.fromkeys(
        (
            "PatientTelephoneNumbers",
            "PatientTelecomInformation",
            "ReferringPhysicianTelephoneNumbers",
            "PersonTelephoneNumbers",
            "PersonTelecomInformation",
            "OrderCallbackPhoneNumber",
            "OrderCallbackTelecomInformation",
        ),
        "phone",
    ),
    **dict.fromkeys(
        (
            "StationName",
            "SourceApplicationEntityTitle",
            "SendingApplicationEntityTitle",
            "ReceivingApplicationEntityTitle",
        ),
        "station",
    ),
    "PatientBirthDate": "date",
}
_SOURCE_TAGS = frozenset(tag_for_keyword(keyword) for keyword in SOURCES)


def _words(text: str) -> frozenset[str]:
    """Whitespace-separated words of a table written as prose."""
    return frozenset(text.split())


# Never lexicon terms: they would erase ordinary clinical words everywhere.
CLINICAL_WORDS = _words(
    """
    l r pa ap lat ll rl lr ct mr mri pet spect us xa cr dx mg nm rf ot sr pr ko
    mm cm ml kg gy head neck chest abdomen pelvis spine brain left right bilateral
    axial sagittal coronal contrast scan study series image report radiology
    anonymous anon unknown none null n/a na test patient phantom
    """
)
NAME_PARTICLES = _words("de da di del der den van von la le du dos des mr mrs ms dr")

# Scripts written without spaces between words: Han, kana, Hangul (names take particles).
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0003134f"
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")
# A word boundary: no letter or digit on that side, or a character of an unspaced script.
_START = rf"(?:(?<![^\W_])|(?-i:(?<=[{_UNSPACED}])))"
_END = rf"(?:(?![^\W_])|(?-i:(?=[{_UNSPACED}])))"
_ALNUM = re.compile(r"[^\W_]")
_DIGIT = re.compile(r"\d")
_PATTERN_HINT = re.compile(r"\d|@|www|://", re.IGNORECASE)  # every pattern needs one
_ID_PREFIX = re.compile(r"^[A-Za-z]+[\s\-_/:#.]*")
_TOKEN_SPLIT = re.compile(r"[\s\-,]+")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH = (
    r"(?<![A-Za-z])(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
    r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![A-Za-z])\.?"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MON = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:1[89]|20)\d{2}"
_PATTERNS = (
    ("email", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    ("url", r"(?:https?|ftp)://[^\s<>\"\\]+|(?<![A-Za-z0-9.])www\.[^\s<>\"\\]+"),
    (
        "resident_id",
        rf"(?<![0-9A-Za-z])[1-9]\d{{5}}{_YEAR}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{{3}}"
        r"[\dXx](?![0-9A-Za-z])",
    ),
    (
        "date",
        r"\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?|\d{1,2}\s*月\s*\d{1,2}\s*[日号]",
    ),
    ("date", rf"(?<![0-9A-Za-z]){_YEAR}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?![0-9A-Za-z])"),
    ("date", rf"(?<![\d.]){_YEAR}[-/.]{_MON}[-/.]{_DAY}(?!\d)"),
    ("date", rf"(?<![\d.]){_DAY}[-/.]{_DAY}[-/.]{_YEAR}(?![\d.])"),
    ("date", rf"(?<!\d)\d{{1,2}}(?:st|nd|rd|th)?[\s-]+(?:of\s+)?{_MONTH},?[\s-]+{_YEAR}(?!\d)"),
    ("date", rf"{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+{_YEAR}(?!\d)"),
    ("date", rf"{_MONTH},?\s+{_YEAR}(?!\d)"),
    ("id", r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])"),
    ("phone", r"(?<!\d)(?:(?:\+|00)86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)"),
    (
        "phone",
        r"(?<![0-9A-Za-z+])\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){1,4}(?!\d)",
    ),
    ("phone", r"(?<![\d.])(?:\(0\d{2,3}\)\s?|0\d{2,3}[\s-]?)\d{7,8}(?!\d)"),
    ("phone", r"(?<![0-9A-Za-z])(?:1[\s.-])?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?!\d)"),
    ("ip", r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"),
    ("id", r"(?<![0-9A-Za-z.])\d{6,}(?![0-9A-Za-z])"),
    (
        "alnum",
        r"(?<![0-9A-Za-z])(?=[0-9A-Za-z]*\d)(?=[0-9A-Za-z]*[A-Za-z])[0-9A-Za-z]{6,}(?![0-9A-Za-z])",
    ),
)
_PATTERN = re.compile(
    "|".join(f"(?P<{kind}{i}>{rx})" for i, (kind, rx) in enumerate(_PATTERNS)), re.IGNORECASE
)
_KIND_OF_GROUP = {f"{kind}{i}": kind for i, (kind, _) in enumerate(_PATTERNS)}
_UNIT_NUMBER = re.compile(
    r"\d+(?:mg|g|kg|ug|ml|l|mm|cm|m|um|nm|kv|kvp|ma|mas|ms|s|sec|min|h|hr|hz|khz|mhz|t|mt"
    r"|gy|mgy|cgy|msv|bq|mbq|mci|ppm|deg|px|mmhg|bpm|iu|u|cc|f|fr)",
    re.IGNORECASE,
)
_MATRIX = re.compile(r"\d+x\d+(?:x\d+)?", re.IGNORECASE)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
VR_MAX_CHARS: Mapping[str, int] = {
    "AE": 16,
    "CS": 16,
    "SH": 16,
    "LO": 64,
    "PN": 64,
    "ST": 1024,
    "LT": 10240,
    "UC": 2**32 - 2,
    "UT": 2**32 - 2,
}


@dataclass(frozen=True)
class PhiSpan:
    """Characters ``text[start:end]`` are identifying, of the given kind."""

    start: int
    end: int
    kind: str


def resident_id_checksum_ok(value: str) -> bool:
    """ISO 7064 MOD 11-2 check of an 18-character Chinese resident ID (GB 11643).

    >>> resident_id_checksum_ok("11010519491231002X"), resident_id_checksum_ok("110105194912310021")
    (True, False)
    """
    if len(value) != 18 or not value[:17].isdecimal():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == value[17].upper()


def fit_to_vr(text: str, vr: str) -> str:
    """Truncate *text* to the maximum length (in characters) of *vr*, if it has one.

    >>> fit_to_vr("*** at ***, ward 3", "SH")
    '*** at ***, ward'
    """
    limit = VR_MAX_CHARS.get(vr)
    if limit is None or len(text) <= limit:
        return text
    return text[:limit].rstrip()


class PhiLexicon:
    """The identifying strings of one dataset, and a detector of PHI in free text.

    *terms* maps each literal identifying string to its kind (``"name"``,
    ``"id"``...); a plain iterable gets kind ``"phi"``. Unusable terms (too
    short, clinical vocabulary, placeholders) are dropped.
    """

    def __init__(self, terms: Mapping[str, str] | Iterable[str] = ()) -> None:
        pairs = terms.items() if isinstance(terms, Mapping) else ((t, "phi") for t in terms)
        kinds: dict[str, str] = {}
        kept: set[str] = set()
        for term, kind in pairs:
            term = term.strip()
            if _usable(term):
                kinds.setdefault(_key(term), kind)
                kept.add(term)
        self._kinds = kinds
        self.terms: frozenset[str] = frozenset(kept)

    @classmethod
    def from_dataset(cls, ds: Dataset) -> PhiLexicon:
        """Collect every identifying string of *ds*, its sequences and its file meta."""
        found: dict[str, str] = {}
        for keyword, vr, value in _text_values(ds):
            if vr == "PN":
                for spelling in _name_spellings(value):
                    found.setdefault(spelling, "name")
            elif keyword in SOURCES:
                kind = SOURCES[keyword]
                for variant in _variants(value, kind):
                    found.setdefault(variant, kind)
        return cls(found)

    def __repr__(self) -> str:
        return f"PhiLexicon({len(self.terms)} terms)"  # never the terms: they are PHI

    def __bool__(self) -> bool:
        return bool(self.terms)

    @cached_property
    def _regex(self) -> re.Pattern[str] | None:
        return _compile(self.terms) if self.terms else None

    def find(self, text: str) -> list[PhiSpan]:
        """Spans of *text* that are PHI (lexicon hits and patterns), sorted, non-overlapping."""
        if not _ALNUM.search(text):
            return []
        candidates = list(self._lexicon_hits(text))
        if _PATTERN_HINT.search(text):
            candidates.extend(_pattern_hits(text))
        return _merge(candidates)

    def scrub(self, text: str) -> str:
        """*text* with every PHI span replaced by :data:`MARKER`; all else unchanged."""
        spans = self.find(text)
        if not spans:
            return text
        pieces: list[str] = []
        position = 0
        for span in spans:
            pieces.append(text[position : span.start])
            pieces.append(MARKER)
            position = span.end
        pieces.append(text[position:])
        return "".join(pieces)

    def _lexicon_hits(self, text: str) -> Iterator[PhiSpan]:
        if self._regex is None:
            return
        for match in self._regex.finditer(text):
            kind = self._kinds.get(_key(match.group()), "phi")
            yield PhiSpan(match.start(), match.end(), kind)


def _key(term: str) -> str:
    """Normalised form for kind look-ups: single spaces, case-folded."""
    return " ".join(term.split()).casefold()


def _usable(term: str) -> bool:
    """Long enough to be identifying and not an ordinary clinical word."""
    if _key(term) in CLINICAL_WORDS or _key(term) in NAME_PARTICLES:
        return False
    return len(_ALNUM.findall(term)) >= 2


@lru_cache(maxsize=64)
def _compile(terms: frozenset[str]) -> re.Pattern[str]:
    """One alternation per kind of script, longest term first; cached per set of terms.

    Spaced-script terms share one pair of word-boundary checks (written once:
    compiling the CJK class case-insensitively per term would take seconds);
    unspaced-script terms match anywhere. A series shares one lexicon, so the
    cache makes this a once-per-series cost.
    """
    ordered = sorted(terms, key=lambda t: (-len(t), t))
    spaced = [_term_pattern(t) for t in ordered if not _UNSPACED_CHAR.search(t)]
    unspaced = [_term_pattern(t) for t in ordered if _UNSPACED_CHAR.search(t)]
    parts = []
    if spaced:
        parts.append(f"{_START}(?:{'|'.join(spaced)}){_END}")
    if unspaced:
        parts.append("|".join(unspaced))
    return re.compile("|".join(parts), re.IGNORECASE)


def _term_pattern(term: str) -> str:
    """Regex for one term: the literal text, any run of whitespace where it has a space."""
    return re.escape(term).replace(r"\ ", r"\s+")


def _pattern_hits(text: str) -> Iterator[PhiSpan]:
    for match in _PATTERN.finditer(text):
        kind = _KIND_OF_GROUP[match.lastgroup or ""]
        value = match.group()
        if kind == "resident_id" and not resident_id_checksum_ok(value):
            kind = "id"
        elif kind == "alnum":
            if len(_DIGIT.findall(value)) < 3 or _UNIT_NUMBER.fullmatch(value):
                continue
            if _MATRIX.fullmatch(value):
                continue
            kind = "id"
        elif kind == "phone" and not 7 <= len(_DIGIT.findall(value)) <= 15:
            continue
        yield PhiSpan(match.start(), match.end(), kind)


def _merge(spans: list[PhiSpan]) -> list[PhiSpan]:
    """Union of overlapping spans; a merged span keeps the kind of its earliest, longest part."""
    spans.sort(key=lambda s: (s.start, -s.end))
    merged: list[PhiSpan] = []
    for span in spans:
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            if span.end > last.end:
                merged[-1] = PhiSpan(last.start, span.end, last.kind)
        else:
            merged.append(span)
    return merged


def _text_values(ds: Dataset) -> Iterator[tuple[str, str, str]]:
    """(keyword, VR, value) for every string value in *ds*, its sequences and file meta.

    Values go through :func:`~medveil.deid.charset.clean_decoded_text`, so an
    ISO 2022 IR 58 name yields the same terms as its UTF-8 spelling (and text
    that could not be decoded fails closed with ``CharsetError``). Without a
    (0008,0005), non-ASCII text is also read as UTF-8 and GB18030
    (:func:`~medveil.deid.charset.undeclared_readings`): undeclared Chinese
    text then still yields the terms OCR will find in the pixels.
    """
    undeclared = "SpecificCharacterSet" not in ds
    meta = getattr(ds, "file_meta", None)
    datasets = [meta, ds] if isinstance(meta, Dataset) else [ds]
    for dataset in datasets:
        for elem in _identifying_elements(dataset):
            values = elem.value if isinstance(elem.value, MultiValue | list) else [elem.value]
            for value in values:
                if value is None or isinstance(value, bytes):
                    continue
                text = clean_decoded_text(str(value))
                readings = undeclared_readings(text) if undeclared else set()
                for reading in (text, *readings):
                    if reading.strip():
                        yield elem.keyword, elem.VR, reading


def _identifying_elements(dataset: Dataset) -> Iterator[DataElement]:
    """PN and :data:`SOURCES` elements at any depth, leaving every other element undecoded.

    Converting all raw elements (as ``iterall`` does) would cost more than the
    rest of the lexicon; only sequences and the elements wanted are touched.
    """
    for tag in list(dataset.keys()):
        vr = dataset.get_item(tag).VR or _dictionary_vr(int(tag))
        if vr == "SQ":
            for item in dataset[tag].value:
                yield from _identifying_elements(item)
        elif vr == "PN" or int(tag) in _SOURCE_TAGS:
            yield dataset[tag]


def _dictionary_vr(tag: int) -> str:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def _name_spellings(value: str) -> set[str]:
    """Every spelling of a PN value: each group (alphabetic, ideographic, phonetic) separately."""
    spellings: set[str] = set()
    for group in value.split("="):
        if group.strip(" ^"):
            spellings.add(group.strip(" ^"))
            spellings |= _group_spellings(group)
    return spellings


def _group_spellings(group: str) -> set[str]:
    family, given, middle = (part.strip() for part in [*group.split("^"), "", ""][:3])
    out: set[str] = set()
    for component in (family, given, middle):
        out.add(component)
        out.update(_TOKEN_SPLIT.split(component))
    if _UNSPACED_CHAR.search(group):  # CJK: no spaces, no initials
        out.add(family + given + middle)
        out.add(" ".join(p for p in (family, given, middle) if p))
        return out
    forenames = " ".join(p for p in (given, middle) if p)
    if not (family and forenames):
        return out
    initials = [word[0] for word in forenames.split()]
    dotted = ".".join(initials) + "."
    firsts = {given, forenames, "".join(initials), dotted, ". ".join(initials) + "."}
    firsts |= {initials[0], initials[0] + "."}
    if len(initials) > 1:  # "John P. Smith", "John P Smith"
        firsts |= {f"{given} {initials[1]}.", f"{given} {initials[1]}"}
    for first in firsts - {""}:
        out |= {f"{first} {family}", f"{family} {first}", f"{family}, {first}"}
    out |= {f"{dotted}{family}", f"{initials[0]}.{family}", f"{dotted}{family[0]}."}
    return out


def _variants(value: str, kind: str) -> set[str]:
    """The spellings under which an identifying attribute value may appear in text."""
    value = value.strip()
    out = {value}
    if kind == "date":
        out |= _date_spellings(value)
    elif kind in ("id", "phone"):
        digits = "".join(_DIGIT.findall(value))
        if len(digits) >= 4:
            out.add(digits)
        unprefixed = _ID_PREFIX.sub("", value)  # "MRN-0042-77" is also written "0042-77"
        if len(unprefixed) >= 4:
            out.add(unprefixed)
    elif kind == "address":
        out.update(part.strip() for part in re.split(r"[,;\n^]", value) if len(part.strip()) >= 4)
    return out


def _date_spellings(da: str) -> set[str]:
    """Common spellings of a DA value ``YYYYMMDD`` (other shapes: none)."""
    if not re.fullmatch(r"\d{8}", da):
        return set()
    y, m, d = da[:4], da[4:6], da[6:]
    month_name = _MONTHS[int(m) - 1] if 1 <= int(m) <= 12 else ""
    out = {f"{y}-{m}-{d}", f"{y}/{m}/{d}", f"{y}.{m}.{d}", f"{d}/{m}/{y}", f"{m}/{d}/{y}"}
    out |= {f"{d}.{m}.{y}", f"{d}-{m}-{y}", f"{y}年{int(m)}月{int(d)}日", f"{y}年{m}月{d}日"}
    if month_name:
        out |= {f"{int(d)} {month_name} {y}", f"{month_name} {int(d)}, {y}"}
        out |= {f"{int(d)} {month_name[:3]} {y}", f"{d}-{month_name[:3]}-{y}"}
    return out
