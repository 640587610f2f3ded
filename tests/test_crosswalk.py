"""Crosswalk CSV loading and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from medveil.deid.crosswalk import Crosswalk
from medveil.errors import UsageError


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "crosswalk.csv"
    path.write_text(text, encoding=encoding)
    return path


def test_three_column_file_with_both_kinds(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "kind,original,replacement\n"
        "patient_id,12345678,TRIAL-001\n"
        "uid,1.2.826.0.1.3680043.2.1125.1,2.25.1234\n"
        "patient_id, 张三-001 ,TRIAL-002\n",
    )
    cw = Crosswalk.from_csv(path)
    assert cw.patient_id("12345678") == "TRIAL-001"
    assert cw.patient_id("张三-001") == "TRIAL-002"
    assert cw.uid("1.2.826.0.1.3680043.2.1125.1") == "2.25.1234"
    assert cw.uid("12345678") is None
    assert len(cw) == 3


def test_two_column_file_means_patient_ids_and_bom_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "Original,Replacement\r\nA1,S-01\r\nA2,S-02\r\n", "utf-8-sig")
    cw = Crosswalk.from_csv(path)
    assert cw.patient_ids == {"A1": "S-01", "A2": "S-02"}
    assert cw.uids == {}


def test_repeated_identical_rows_are_fine_and_two_mrns_may_share_a_subject(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "original,replacement\nA1,S-01\nA1,S-01\nB7,S-01\n")
    assert Crosswalk.from_csv(path).patient_ids == {"A1": "S-01", "B7": "S-01"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("kind,original,replacement\nuid,1.2.3,1.02.3\n", "line 2: replacement is not a valid UID"),
        ("kind,original,replacement\nuid,1.2.3,2.25.1.\n", "not a valid UID"),
        ("kind,original,replacement\nuid,1.2.3," + "1." * 40 + "1\n", "not a valid UID"),
        ("kind,original,replacement\nstudy,1,2\n", "kind must be one of"),
        ("original,replacement\nA1,\n", "must both be given"),
        ("original,replacement\nA1,S\\01\n", "printable"),
        ("original,replacement\nA1," + "x" * 65 + "\n", "printable"),
        ("original,replacement\nA1,S-01\nA1,S-02\n", "line 3: patient_id listed twice"),
        ("kind,original,replacement\nuid,1.2.3,2.25.1\nuid,1.2.4,2.25.1\n", "same replacement"),
        ("mrn,subject\nA1,S-01\n", "header must name"),
        ("", "header must name"),
    ],
)
def test_invalid_files_are_refused(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Crosswalk.from_csv(write(tmp_path, body))


def test_errors_never_quote_the_identifiers(tmp_path: Path) -> None:
    path = write(tmp_path, "original,replacement\nSECRET-MRN-991,S-01\nSECRET-MRN-991,S-02\n")
    with pytest.raises(UsageError) as caught:
        Crosswalk.from_csv(path)
    assert "SECRET-MRN-991" not in str(caught.value)
