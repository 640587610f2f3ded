"""Date shifting (DA, DT) by a whole number of days, and age capping (AS).

Every date of one patient moves by the same keyed offset
(:meth:`~medveil.deid.pseudonyms.Pseudonymizer.date_offset_days`), so
intervals between that patient's events survive while the calendar dates do
not. Because the offset is whole days:

* TM values never change (times of day are kept);
* in DT only the date part moves; hours, minutes, seconds, fraction and the
  ``&ZZXX`` UTC offset are copied character for character (after checking
  they are valid), so a DT stays valid, keeps its precision, and even a leap
  second ``235960`` survives;
* a DT of year or year-month precision (``2024``, ``202403``) moves its first
  day (1 January, 1 March) and is written back at the same precision.

Multi-valued values (``\\``-separated) are shifted value by value, empty
values stay empty; ranges (``A-B``, ``-B``, ``A-``, used in queries) shift
both ends. Surrounding spaces (DICOM padding) are dropped. The legacy
ACR-NEMA form ``YYYY.MM.DD`` is read and written back as ``YYYYMMDD``.

Malformed values raise :class:`DateValueError`, a
:class:`~medveil.errors.DeidentificationError`: unless the engine catches it
(it may instead remove the attribute when the profile allows an empty
value), the file is quarantined. A date that cannot be parsed cannot be
shown to be shifted, so it must never be written unchanged.

    >>> shift_date_value("20240305", "DA", -10)
    '20240224'
    >>> shift_date_value("20240305\\\\20240401", "DA", -31)
    '20240203\\\\20240301'
    >>> shift_date_value("20240305103000.25+0800", "DT", -366)
    '20230305103000.25+0800'
    >>> shift_date_value("103000", "TM", -366)
    '103000'
    >>> cap_age("093Y"), cap_age("045Y"), cap_age("999D")
    ('090Y', '045Y', '999D')
"""

from __future__ import annotations

import datetime as dt
import re

from medveil.errors import DeidentificationError

AGE_CAP_YEARS = 90
CAPPED_AGE = "090Y"
_DA = re.compile(r"(\d{4})(\d{2})(\d{2})|(\d{4})\.(\d{2})\.(\d{2})")
_DT = re.compile(
    r"(?P<year>\d{4})(?P<month>\d{2})?(?P<day>\d{2})?"
    r"(?P<time>(?P<hour>\d{2})(?P<minute>\d{2})?(?P<second>\d{2})?(?:\.\d{1,6})?)?"
    r"(?P<tz>[+-](?P<tzh>\d{2})(?P<tzm>\d{2}))?"
)
_AS = re.compile(r"(\d{1,3})\s*([DWMYdwmy])")  # nnnY, or written loosely: "75Y", "6 m"


class DateValueError(DeidentificationError, ValueError):
    """A DA, DT or AS value is malformed, or shifting it would leave years 0001-9999."""


def shift_date_value(value: str, vr: str, days: int) -> str:
    """Shift every date in a (possibly multi-valued, possibly range) *value* of type *vr*.

    *vr* is ``"DA"``, ``"DT"`` or ``"TM"`` (returned unchanged).
    """
    if vr == "TM":
        return value
    if vr not in ("DA", "DT"):
        raise ValueError(f"shift_date_value handles DA, DT and TM, not {vr}")
    return "\\".join(_shift_one(part, vr, days) for part in value.split("\\"))


def shift_da(value: str, days: int) -> str:
    """Shift one DA value ``YYYYMMDD`` (or legacy ``YYYY.MM.DD``) by *days*.

    >>> shift_da("20240301", -1)
    '20240229'
    """
    match = _DA.fullmatch(value.strip())
    if match is None:
        raise DateValueError("DA value is not YYYYMMDD")
    year, month, day = (int(g) for g in match.groups() if g is not None)
    return _yyyymmdd(_shifted(year, month, day, days))


def shift_dt(value: str, days: int) -> str:
    """Shift one DT value by *days*, keeping its precision, time and UTC offset.

    >>> shift_dt("2024", -1), shift_dt("202403-0500", -1), shift_dt("20240101235960", 1)
    ('2023', '202402-0500', '20240102235960')
    """
    text = value.strip()
    match = _DT.fullmatch(text)
    if match is None:
        raise DateValueError("DT value is not YYYY[MM[DD[HH[MM[SS[.F]]]]]][&ZZXX]")
    parts = match.groupdict()
    _check_time(parts)
    month, day = parts["month"], parts["day"]
    if parts["time"] and day is None:
        raise DateValueError("DT value has a time but no day")
    moved = _shifted(int(parts["year"]), int(month or 1), int(day or 1), days)
    precision = 4 + (2 if month else 0) + (2 if day else 0)
    return _yyyymmdd(moved)[:precision] + text[precision:]


def cap_age(value: str) -> str:
    """Cap an AS value at ``090Y`` when it says 90 years or more (HIPAA "ages over 89").

    AS has exactly three digits, so ages in days, weeks or months (at most
    ``999M``, 83 years) can never reach 90 years: they are validated and kept.
    Empty values stay empty. An age written with fewer digits or a lower-case
    unit (``75Y``, ``6m``: a common slip) is written the valid way.

    >>> cap_age("089Y"), cap_age("090Y"), cap_age("120Y"), cap_age(""), cap_age("75y")
    ('089Y', '090Y', '090Y', '', '075Y')
    """
    text = value.strip()
    if not text:
        return text
    match = _AS.fullmatch(text)
    if match is None:
        raise DateValueError("AS value is not nnnD, nnnW, nnnM or nnnY")
    number, unit = int(match.group(1)), match.group(2).upper()
    years = number if unit == "Y" else 0
    return CAPPED_AGE if years >= AGE_CAP_YEARS else f"{number:03d}{unit}"


def _shift_one(part: str, vr: str, days: int) -> str:
    """Shift one value of a multi-valued element: empty, single or range."""
    text = part.strip()
    if not text:
        return ""
    shift = shift_da if vr == "DA" else shift_dt
    try:
        return shift(text, days)
    except DateValueError:
        if "-" not in text:
            raise
    # A range: split at a '-' that leaves a valid value (or nothing) on each side.
    for position in _dash_positions(text):
        low, high = text[:position], text[position + 1 :]
        if not (low or high):
            continue
        try:
            return "-".join(shift(end, days) if end else "" for end in (low, high))
        except DateValueError:
            continue
    raise DateValueError(f"{vr} value is neither a single value nor a range")


def _dash_positions(text: str) -> list[int]:
    return [i for i, char in enumerate(text) if char == "-"]


def _shifted(year: int, month: int, day: int, days: int) -> dt.date:
    try:
        return dt.date(year, month, day) + dt.timedelta(days=days)
    except (ValueError, OverflowError) as exc:
        raise DateValueError(f"date cannot be shifted: {exc}") from None


def _yyyymmdd(date: dt.date) -> str:
    return f"{date.year:04d}{date.month:02d}{date.day:02d}"


def _check_time(parts: dict[str, str | None]) -> None:
    """Reject out-of-range times and UTC offsets (the text itself is copied unchanged)."""
    limits = (("hour", 23), ("minute", 59), ("second", 60), ("tzm", 59))
    for name, limit in limits:
        field = parts[name]
        if field is not None and int(field) > limit:
            raise DateValueError(f"DT value has an invalid {name}")
    if parts["tz"] is not None:
        minutes = int(parts["tzh"] or 0) * 60 + int(parts["tzm"] or 0)
        sign = -1 if parts["tz"].startswith("-") else 1
        if not -12 * 60 <= sign * minutes <= 14 * 60:
            raise DateValueError("DT value has a UTC offset outside -1200..+1400")
