"""Keyed pseudonyms: determinism, key separation, UID validity, well-known UIDs, secrets."""

from __future__ import annotations

import pickle
import re
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom._uid_dict import UID_dictionary

from medveil.deid.crosswalk import Crosswalk, is_valid_uid
from medveil.deid.pseudonyms import Pseudonymizer
from medveil.deid.secret import load_or_create_secret
from medveil.errors import UsageError

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))
uids = st.from_regex(r"[1-9][0-9]{0,5}(\.(0|[1-9][0-9]{0,12})){1,12}", fullmatch=True)
ids = st.text(min_size=1, max_size=64).filter(lambda s: s.strip(" \x00"))


@given(uids)
def test_uid_is_a_valid_uuid_derived_uid(original: str) -> None:
    new = Pseudonymizer(KEY_A).uid(original)
    assert is_valid_uid(new), new
    assert re.fullmatch(r"2\.25\.(0|[1-9][0-9]*)", new)
    assert len(new) <= 64
    as_int = int(new[5:])
    assert as_int < 2**128
    assert (as_int >> 76) & 0xF == 8  # UUID version 8
    assert (as_int >> 62) & 0x3 == 0b10  # RFC variant


@given(uids)
def test_same_key_same_uid_across_instances(original: str) -> None:
    assert Pseudonymizer(KEY_A).uid(original) == Pseudonymizer(bytes(KEY_A)).uid(original)


@given(uids)
def test_different_key_different_uid(original: str) -> None:
    assert Pseudonymizer(KEY_A).uid(original) != Pseudonymizer(KEY_B).uid(original)


@given(st.lists(uids, min_size=2, max_size=200, unique=True))
def test_uid_is_injective_on_samples(originals: list[str]) -> None:
    p = Pseudonymizer(KEY_A)
    assert len({p.uid(u) for u in originals}) == len(originals)


@settings(max_examples=50)
@given(st.sampled_from(sorted(UID_dictionary)))
def test_well_known_uids_unchanged(uid: str) -> None:
    assert Pseudonymizer(KEY_A).uid(uid) == uid


def test_uids_under_the_dicom_root_are_replaced_unless_standard() -> None:
    """F23: devices mint instance UIDs under 1.2.840.10008. (SOP Class UID + DOB + MRN)."""
    p = Pseudonymizer(KEY_A)
    planted = "1.2.840.10008.5.1.4.1.1.2.19610417.7734921.1"
    assert p.uid(planted).startswith("2.25.")
    assert p.uid("1.2.840.10008.20240305.7734921").startswith("2.25.")
    assert p.uid("1.2.840.10008.5.1.4.1.1.2") == "1.2.840.10008.5.1.4.1.1.2"


def test_external_coding_scheme_uids_unchanged() -> None:
    assert Pseudonymizer(KEY_A).uid("2.16.840.1.113883.6.96") == "2.16.840.1.113883.6.96"


def test_uid_padding_is_ignored_and_empty_stays_empty() -> None:
    p = Pseudonymizer(KEY_A)
    assert p.uid("1.2.3.4\x00") == p.uid("1.2.3.4") == p.uid("1.2.3.4 ")
    assert p.uid("") == "" and p.uid("\x00") == ""
    assert p.uid("1.2.840.10008.1.2.1\x00") == "1.2.840.10008.1.2.1"


def test_known_vector_is_stable_across_releases() -> None:
    """Pins the derivation: changing it would break links with earlier releases."""
    p = Pseudonymizer(bytes(32))
    assert p.uid("1.2.3.4") == "2.25.43890669216966321991542490080904841480"
    assert p.patient_id("12345678") == "MV-B68DB091B09A7B78"
    assert p.date_offset_days("12345678") == -1258
    assert p.identifier("ACC123", "AccessionNumber") == "YW6D64N5HQ6W2B5P"


@given(ids)
def test_patient_id_and_name_are_stable_and_fit(original: str) -> None:
    p, q = Pseudonymizer(KEY_A), Pseudonymizer(KEY_A)
    new = p.patient_id(original)
    assert new == q.patient_id(original)
    assert re.fullmatch(r"MV-[0-9A-F]{16}", new)
    assert p.patient_name(original) == "MV^" + new[3:]


@given(ids, ids)
def test_patient_ids_differ_for_different_patients(a: str, b: str) -> None:
    p = Pseudonymizer(KEY_A)
    if a.strip(" \x00") != b.strip(" \x00"):
        assert p.patient_id(a) != p.patient_id(b)


@given(ids)
def test_identifier_fits_sh_and_separates_kinds(value: str) -> None:
    p = Pseudonymizer(KEY_A)
    token = p.identifier(value, "AccessionNumber")
    assert re.fullmatch(r"[A-Z2-7]{16}", token)
    assert token == p.identifier(value, "AccessionNumber")
    assert token != p.identifier(value, "StudyID")
    assert token != Pseudonymizer(KEY_B).identifier(value, "AccessionNumber")


def test_identifier_of_empty_value_is_empty() -> None:
    assert Pseudonymizer(KEY_A).identifier("  ", "StudyID") == ""


@given(ids)
def test_date_offset_in_documented_range_never_zero(original: str) -> None:
    offset = Pseudonymizer(KEY_A).date_offset_days(original)
    assert -3650 <= offset <= -30
    assert offset == Pseudonymizer(KEY_A).date_offset_days(original)


def test_date_offsets_spread_over_the_range() -> None:
    p = Pseudonymizer(KEY_A)
    offsets = {p.date_offset_days(str(i)) for i in range(500)}
    assert len(offsets) > 400
    assert min(offsets) < -3000 and max(offsets) > -700


def test_crosswalk_is_consulted_first() -> None:
    cw = Crosswalk(patient_ids={"12345678": "TRIAL-001"}, uids={"1.2.3.4": "2.25.42"})
    p = Pseudonymizer(KEY_A, cw)
    assert p.patient_id("12345678 ") == "TRIAL-001"
    assert p.patient_name("12345678") == "TRIAL-001"
    assert p.uid("1.2.3.4\x00") == "2.25.42"
    assert p.uid("1.2.3.5") == Pseudonymizer(KEY_A).uid("1.2.3.5")
    assert p.patient_id("other") == Pseudonymizer(KEY_A).patient_id("other")


def test_crosswalk_replacement_with_pn_delimiters_is_made_safe() -> None:
    p = Pseudonymizer(KEY_A, Crosswalk(patient_ids={"1": "A^B=C"}))
    assert p.patient_name("1") == "A_B_C"


def test_pickles_for_worker_processes_without_losing_the_mapping() -> None:
    p = Pseudonymizer(KEY_A, Crosswalk(uids={"1.2.3": "2.25.7"}))
    p.uid("1.2.3.4")
    clone = pickle.loads(pickle.dumps(p))
    assert clone.uid("1.2.3.4") == p.uid("1.2.3.4")
    assert clone.uid("1.2.3") == "2.25.7"


def test_secret_is_not_in_repr_and_short_secrets_are_refused() -> None:
    assert KEY_A.hex() not in repr(Pseudonymizer(KEY_A))
    with pytest.raises(ValueError, match="16 bytes"):
        Pseudonymizer(b"short")


def test_secret_file_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "home" / "secret.key"
    key = load_or_create_secret(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == key
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    assert load_or_create_secret(tmp_path / "other.key") != key


def test_processes_racing_to_create_the_secret_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: load_or_create_secret(path), range(32)))
    assert keys == {path.read_bytes()}


def test_secret_file_readable_by_others_is_tightened(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "secret.key"
    path.write_bytes(KEY_A)
    path.chmod(0o644)
    assert load_or_create_secret(path) == KEY_A
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "group/other" in caplog.text
    assert KEY_A.hex() not in caplog.text


def test_secret_file_of_wrong_size_is_refused_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_bytes(b"truncated")
    path.chmod(0o600)
    with pytest.raises(UsageError, match="9 bytes"):
        load_or_create_secret(path)
    assert path.read_bytes() == b"truncated"
