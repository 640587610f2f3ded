"""Decide, in ``phi`` mode, which recognized text lines are PHI.

OCR misreads (``DOE^JOHN`` as ``DOENJOHN``, ``0`` as ``O``) and modalities
truncate (``PATIENTFI...``), so exact lexicon lookups are not enough. A line
is PHI when any of these hold:

* the header lexicon finds a span in it (names in every spelling, IDs, dates,
  phones: :meth:`PhiLexicon.find`);
* one of its words is within edit distance of a lexicon term word, or a
  truncation of one (at least :data:`MIN_PREFIX` letters), or the line with
  spaces and punctuation removed contains a term so compacted;
* it contains a date, a time of day or a run of :data:`ID_DIGITS` digits
  (patient IDs and accession numbers that the header no longer holds, as in
  real ultrasound banners whose ID differs from PatientID);
* it contains a month and day without a year (HIPAA counts them as PHI):
  ``03/05``, ``05.03``, ``12-25``, see :func:`_month_day` (``3月5日`` is a
  date of the lexicon's own patterns);
* it has a field label: ``MRN:``, ``NAME#``..., and date-of-birth labels
  (``DOB``, ``BIRTH``, ``DATE``, ``出生``) even without ``:``, when a value
  follows them.

A line is a clinical marker (kept) only when every word is in
:data:`MARKERS` or is a short ruler number. A line that is neither is kept
when the recognizer is confident, and redacted when it is not: an unreadable
line may be PHI that OCR could not read.

Letters burned far apart ("S   M   I   T   H") are found as several lines
("SMI", "T", "H"), each harmless alone. :func:`judge_rows` reads the lines
of one text row together, without spaces, and redacts them all when that
is PHI.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from medveil.deid.policy import PixelMode
from medveil.deid.text import PhiLexicon
from medveil.pixels.detect import Line
from medveil.pixels.report import Box, TextRegion

_MARKER_WORDS = """
L R LT RT LEFT RIGHT PA AP LAT LATERAL LL RL OBL OBLIQUE PORTABLE PORT ERECT
SUPINE PRONE UPRIGHT SEMI SEMIERECT DECUB DECUBITUS INSP EXP STANDING SITTING
WB FLEX EXT AXIAL CM MM MGY KV MAS SID TRAUMA
左 右 左侧 右侧 立位 卧位 仰卧位 俯卧位 侧位 正位 床旁 站立位
"""
MARKERS = frozenset(_MARKER_WORDS.split())
MIN_PREFIX = 5
MIN_COMPACT = 4
ID_DIGITS = 5
CONFIDENT = 0.85
MARKER_CONFIDENCE = 0.5
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_RULER_NUMBER = re.compile(r"^\d{1,3}(CM|MM)?$")
_PATTERNS = (
    re.compile(r"\d{1,4}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{1,4}"),  # 03/02/2017, 2017-03-02
    re.compile(r"\d{2,4}\s*年\s*\d{1,2}\s*月(\s*\d{1,2}\s*日)?"),  # 2024年3月5日
    re.compile(r"\d{1,2}\s*:\s*\d{2}(\s*:\s*\d{2})?"),  # 05:24:57
    re.compile(rf"\d{{{ID_DIGITS},}}"),  # IDs, accession numbers, compact dates
    re.compile(r"\b(D[O0]B|D\.O\.B|MRN|NAME|PATIENT|ID|ACC)\b\s*[:#]"),  # labelled fields
    # Date labels need no colon ("DOB 03/05"); OCR reads the O of DOB as 0.
    re.compile(rf"\b(D[O0]B|D\.O\.B\.?|BIRTH\w*|BORN|DATE)\s*[:#]?\s*(\d|{_MONTHS})"),
    re.compile(r"(姓名|病历号|住院号|门诊号|出生|生日|检查号)"),
)
# Two two-digit numbers joined by / . or - that read as month and day in
# either order (see _month_day).
_MONTH_DAY = re.compile(r"(?<!\d)(\d{2})\s*([/.\-])\s*(\d{2})(?!\d)")
_WORD = re.compile(r"[A-Z0-9]+|[\u3400-\u9fff]+")
# Lines on one text row (judge_rows): sharing this much of the shorter one's
# height, at most this many times taller than the other, and apart by at most
# this many heights (letters 17 px tall set 60 px apart are 2.6 heights apart).
ROW_OVERLAP = 0.6
ROW_HEIGHTS = 1.5
ROW_GAP = 3.0


def normalize(text: str) -> str:
    """Upper-case NFKC, so full-width digits and letters match their ASCII forms."""
    return unicodedata.normalize("NFKC", text).upper()


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


class PhiJudge:
    """Classifies recognized lines against one dataset's lexicon."""

    def __init__(self, lexicon: PhiLexicon) -> None:
        self._lexicon = lexicon
        self._term_words = frozenset(
            w for term in lexicon.terms for w in words(term) if len(w) >= 3 or _is_cjk(w)
        )
        # Terms with spacing and punctuation removed: OCR drops the space of
        # "LI NA" and the caret of "DOE^JOHN".
        self._compact_terms = frozenset(
            c for c in ("".join(words(term)) for term in lexicon.terms) if len(c) >= MIN_COMPACT
        )

    def is_phi(self, text: str) -> bool:
        if not text.strip():
            return False
        if self._lexicon.find(text):
            return True
        normal = normalize(text)
        if any(p.search(normal) for p in _PATTERNS) or _month_day(normal):
            return True
        return self._has_term(normal)

    def has_term(self, text: str) -> bool:
        """A term of the header in ``text``, compacted, truncated or misread by a
        letter or two; no generic pattern (date, ID shape) counts here."""
        return self._has_term(normalize(text))

    def _has_term(self, normal: str) -> bool:
        found = _WORD.findall(normal)
        compact = "".join(found)
        if any(term in compact for term in self._compact_terms):
            return True
        return any(self._near_term(w) for w in found)

    def _near_term(self, word: str) -> bool:
        if _is_cjk(word):
            return any(t in word or (len(word) >= 2 and word in t) for t in self._term_words)
        if len(word) < 3:
            return False
        for term in self._term_words:
            if word == term or (len(word) >= MIN_PREFIX and term.startswith(word)):
                return True
            if len(term) >= MIN_PREFIX and term in word:
                return True
            if abs(len(term) - len(word)) <= 2 and len(term) >= 4:
                allowed = 1 if len(term) < 8 else 2
                if _edit_distance(word, term, allowed) <= allowed:
                    return True
        return False


def decide(line: Line, mode: PixelMode, judge: PhiJudge, frame: int) -> TextRegion:
    """Redact or keep one detected line (``frame`` is recorded in the region)."""
    if mode == PixelMode.ALL_TEXT:
        return TextRegion(frame, line.box, "redact", "all-text", line.score)
    if any(judge.is_phi(text) for text in line.texts):
        return TextRegion(frame, line.box, "redact", "phi", line.score)
    best = max(line.readings, key=lambda r: r.score)
    if best.score >= MARKER_CONFIDENCE and all(is_marker(t) for t in line.texts if t.strip()):
        return TextRegion(frame, line.box, "keep", "marker", line.score, marker=best.text)
    if line.score < CONFIDENT:
        return TextRegion(frame, line.box, "redact", "unreadable", line.score)
    return TextRegion(frame, line.box, "keep", "text", line.score)


def judge_rows(lines: list[Line], decided: list[TextRegion], judge: PhiJudge) -> list[TextRegion]:
    """``decided`` (one region per line) with every line of a PHI row redacted.

    A row is a chain of horizontal lines, left to right, each close to the
    last (:data:`ROW_GAP`) at about the same height; its text is the longest
    reading of each line (the one that saw most of it), joined. Only the header's terms
    count (:meth:`PhiJudge.has_term`): generic patterns would find IDs in
    joined rows of numbers (a ruler's "10 20 30" is six digits) or of
    labels and values ("CIST MAG" and "1.06 cm").
    """
    result = list(decided)
    for row in _rows(lines):
        for part in _unjudged(row, decided):
            joined = "".join(max(lines[i].texts, key=len) for i in part)
            if judge.has_term(joined):
                for i in part:
                    result[i] = replace(decided[i], action="redact", reason="phi")
    return result


def _unjudged(row: list[int], decided: list[TextRegion]) -> list[list[int]]:
    """The runs of a row between its lines already found PHI, of two or more lines,
    one of them kept: a PHI line would make the joined text PHI by itself."""
    runs: list[list[int]] = [[]]
    for i in row:
        if decided[i].reason == "phi":
            runs.append([])
        else:
            runs[-1].append(i)
    return [run for run in runs if len(run) > 1 and any(decided[i].action == "keep" for i in run)]


def _rows(lines: list[Line]) -> list[list[int]]:
    """Indices of the lines on each text row of two or more lines, left to right."""
    rows: list[list[int]] = []
    flat = [i for i, line in enumerate(lines) if line.readings and not line.vertical]
    for i in sorted(flat, key=lambda i: lines[i].box.x0):
        row = next((r for r in rows if _same_row(lines[r[-1]].box, lines[i].box)), None)
        if row is None:
            rows.append([i])
        else:
            row.append(i)
    return [row for row in rows if len(row) > 1]


def _same_row(left: Box, right: Box) -> bool:
    low, high = sorted((left.height, right.height))
    shared = min(left.y1, right.y1) - max(left.y0, right.y0)
    gap = right.x0 - left.x1
    return (
        shared >= ROW_OVERLAP * low and high <= ROW_HEIGHTS * low and -low <= gap <= ROW_GAP * high
    )


def is_marker(text: str) -> bool:
    """True when every word is a clinical marker or a short ruler number."""
    found = words(text)
    return bool(found) and all(w in MARKERS or _RULER_NUMBER.match(w) for w in found)


def _month_day(text: str) -> bool:
    """True when ``text`` holds a month and day without a year.

    Both numbers must be two digits and valid as month and day in some order
    (MM/DD or DD/MM). With ``-`` that is enough (``12-25``); with ``/`` or
    ``.`` one of them must also have a leading zero (``03/05``, ``25.03``),
    because viewers write frame and image counters as ``12/30`` and
    measurements as ``12.25``, and a date written that way cannot be told
    from them. ``1/2``, ``3-5`` (one-digit numbers) are never dates here.
    """
    for match in _MONTH_DAY.finditer(text):
        first, separator, second = match.groups()
        a, b = int(first), int(second)
        if not (_is_month_day(a, b) or _is_month_day(b, a)):
            continue
        if separator == "-" or first.startswith("0") or second.startswith("0"):
            return True
    return False


def _is_month_day(month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31


def _is_cjk(word: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" for c in word)


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, stopping early once it exceeds ``limit``."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]
