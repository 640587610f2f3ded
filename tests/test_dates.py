"""Date shifting (DA, DT, ranges, multi-values) and age capping."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medveil.deid.dates import DateValueError, cap_age, shift_da, shift_date_value, shift_dt
from medveil.errors import DeidentificationError

dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31))
offsets = st.integers(min_value=-3650, max_value=-30)
DT_SHAPE = re.compile(
    r"\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-](0\d|1[0-4])[0-5]\d)?"
)


def da(date: dt.date) -> str:
    return date.strftime("%Y%m%d")


def parse(value: str) -> dt.date:
    return dt.datetime.strptime(value, "%Y%m%d").date()


@given(dates, dates, offsets)
def test_intervals_between_one_patients_dates_are_preserved(
    a: dt.date, b: dt.date, days: int
) -> None:
    new_a, new_b = parse(shift_da(da(a), days)), parse(shift_da(da(b), days))
    assert new_b - new_a == b - a
    assert new_a - a == dt.timedelta(days=days)


@given(
    dates,
    offsets,
    st.sampled_from(["", "12", "1230", "123059", "123059.5", "123059.123456"]),
    st.sampled_from(["", "+0000", "-0500", "+0800", "+1400", "-1200", "+0545"]),
)
def test_dt_keeps_time_precision_and_timezone(date: dt.date, days: int, time: str, tz: str) -> None:
    value = da(date) + time + tz
    shifted = shift_dt(value, days)
    assert DT_SHAPE.fullmatch(shifted)
    assert shifted[8:] == time + tz
    assert parse(shifted[:8]) == date + dt.timedelta(days=days)


@given(dates, offsets)
def test_dt_partial_precision_is_kept(date: dt.date, days: int) -> None:
    moved_year = shift_dt(date.strftime("%Y"), days)
    assert moved_year == str((dt.date(date.year, 1, 1) + dt.timedelta(days=days)).year)
    moved_month = shift_dt(date.strftime("%Y%m") + "+0100", days)
    expected = dt.date(date.year, date.month, 1) + dt.timedelta(days=days)
    assert moved_month == expected.strftime("%Y%m") + "+0100"


@given(st.lists(dates, min_size=1, max_size=4), offsets)
def test_multi_valued_shift_is_undone_by_the_opposite_shift(
    values: list[dt.date], days: int
) -> None:
    original = "\\".join(da(v) for v in values)
    shifted = shift_date_value(original, "DA", days)
    assert shifted != original
    assert shift_date_value(shifted, "DA", -days) == original


def test_examples() -> None:
    assert shift_da("20240301", -1) == "20240229"
    assert shift_da("2024.03.01", -1) == "20240229"
    assert shift_da(" 20240301 ", 1) == "20240302"
    assert shift_dt("20231231235960", 1) == "20240101235960"  # leap second kept
    assert shift_dt("20240305-0500", -5) == "20240229-0500"
    assert shift_date_value("093000.00", "TM", -100) == "093000.00"


def test_multi_valued_and_empty_values() -> None:
    assert shift_date_value("20240101\\20240301", "DA", -1) == "20231231\\20240229"
    assert shift_date_value("20240101\\\\20240301 ", "DA", -1) == "20231231\\\\20240229"
    assert shift_date_value("", "DA", -1) == ""
    assert shift_date_value("20240101\\20240102103000+0800", "DT", 10) == (
        "20240111\\20240112103000+0800"
    )


def test_ranges() -> None:
    assert shift_date_value("20240101-20240131", "DA", -31) == "20231201-20231231"
    assert shift_date_value("-20240131", "DA", -31) == "-20231231"
    assert shift_date_value("20240101-", "DA", -31) == "20231201-"
    assert shift_date_value("20240101120000-20240102", "DT", 1) == "20240102120000-20240103"
    # a trailing "-0500" is a UTC offset, not a range
    assert shift_date_value("20240101120000-0500", "DT", 1) == "20240102120000-0500"
    assert shift_date_value("20240101-0500-20240102-0500", "DT", 1) == (
        "20240102-0500-20240103-0500"
    )


@pytest.mark.parametrize(
    ("value", "vr"),
    [
        ("2024031", "DA"),
        ("20240230", "DA"),
        ("2024-03-01", "DA"),
        ("March 5", "DA"),
        ("20241301", "DT"),
        ("20240301250000", "DT"),
        ("20240301126000", "DT"),
        ("20240301+1500", "DT"),
        ("20240301+0060", "DT"),
        ("20240301.5", "DT"),
        ("2024030112.1234567", "DT"),
        ("00010101", "DA"),
        ("-", "DA"),
        ("20240101--20240102", "DA"),
    ],
)
def test_malformed_values_raise_a_quarantining_error(value: str, vr: str) -> None:
    with pytest.raises(DateValueError) as caught:
        shift_date_value(value, vr, -30)
    assert isinstance(caught.value, DeidentificationError)


def test_only_date_vrs_are_accepted() -> None:
    with pytest.raises(ValueError, match="not LO"):
        shift_date_value("20240101", "LO", 1)


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        ("089Y", "089Y"),
        ("090Y", "090Y"),
        ("091Y", "090Y"),
        ("120Y", "090Y"),
        ("999M", "999M"),
        ("052W", "052W"),
        ("003D", "003D"),
        ("045Y ", "045Y"),
        ("", ""),
    ],
)
def test_cap_age(age: str, expected: str) -> None:
    assert cap_age(age) == expected


@pytest.mark.parametrize("age", ["0090Y", "090", "Y090", "90 years", "12X"])
def test_cap_age_refuses_malformed(age: str) -> None:
    with pytest.raises(DateValueError):
        cap_age(age)


@pytest.mark.parametrize(("age", "valid"), [("90Y", "090Y"), ("090y", "090Y"), ("75Y", "075Y")])
def test_cap_age_writes_loose_ages_the_valid_way(age: str, valid: str) -> None:
    assert cap_age(age) == valid
