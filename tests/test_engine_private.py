"""Private attributes: removed by default, kept per TCIA's KB under Retain Safe Private."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from medveil.deid.engine import Deidentifier, DeidResult
from medveil.deid.policy import Override, Policy
from medveil.deid.pseudonyms import Pseudonymizer
from medveil.deid.text import MARKER
from medveil.errors import DeidentificationError
from medveil.profiles.options import Option

SECRET = bytes(range(32))
SAFE = Policy.preset_named("basic").with_options(Option.RETAIN_SAFE_PRIVATE)


def private_dataset() -> Dataset:
    ds = Dataset()
    ds.PatientID = "PID-1"
    ds.PatientName = "Doe^Jane"
    ds.SOPInstanceUID = "1.2.826.0.1.5.1"
    acq = ds.private_block(0x0019, "GEMS_ACQU_01", create=True)
    acq.add_new(0xB7, "DS", "1.5")  # k
    acq.add_new(0x0C, "DS", "2.5")  # d
    iden = ds.private_block(0x0009, "GEMS_IDEN_01", create=True)
    iden.add_new(0x01, "LO", "GE")  # k
    iden.add_new(0x27, "SL", 1_700_000_000)  # oi: seconds
    iden.add_new(0xE3, "UI", "1.2.826.0.1.5.9")  # h
    petd = ds.private_block(0x0011, "GEMS_PETD_01", create=True)  # not at this group: unknown
    petd.add_new(0x05, "DT", "20240305101500")
    acme = ds.private_block(0x0021, "ACME PRIVATE", create=True)
    acme.add_new(0x01, "LO", "whatever")
    only_d = ds.private_block(0x0023, "GEMS_ACQU_01", create=True)  # group 0023: not in KB
    only_d.add_new(0xB7, "DS", "1.5")
    return ds


def run(ds: Dataset, policy: Policy) -> DeidResult:
    return Deidentifier(policy, Pseudonymizer(SECRET)).run(ds)


def test_basic_removes_every_private_element() -> None:
    out = run(private_dataset(), Policy.preset_named("basic")).dataset
    assert not [elem for elem in out if elem.tag.is_private]


def test_safe_private_keeps_k_and_drops_the_rest() -> None:
    ds = private_dataset()
    out = run(ds, SAFE).dataset
    assert out.private_block(0x0019, "GEMS_ACQU_01")[0xB7].value == "1.5"
    assert 0x0019100C not in out  # d
    assert out.private_block(0x0009, "GEMS_IDEN_01")[0x01].value == "GE"
    for group in (0x0011, 0x0021, 0x0023):  # unknown element, unknown creator, unknown group
        assert not [elem for elem in out if elem.tag.group == group]


def test_hash_disposition_gives_the_uid_pseudonym() -> None:
    result = run(private_dataset(), SAFE)
    value = result.dataset.private_block(0x0009, "GEMS_IDEN_01")[0xE3].value
    assert value == Pseudonymizer(SECRET).uid("1.2.826.0.1.5.9")
    assert result.uid_map["1.2.826.0.1.5.9"] == value


def test_offsets_follow_the_date_options() -> None:
    ds = private_dataset()
    modified = run(ds, SAFE.with_options(Option.RETAIN_LONG_MODIFIED_DATES))
    offset = modified.date_offset_days
    assert offset is not None
    seconds = modified.dataset.private_block(0x0009, "GEMS_IDEN_01")[0x27].value
    assert seconds == 1_700_000_000 + offset * 86400
    full = run(ds, SAFE.with_options(Option.RETAIN_LONG_FULL_DATES)).dataset
    assert full.private_block(0x0009, "GEMS_IDEN_01")[0x27].value == 1_700_000_000
    assert 0x00091127 not in run(ds, SAFE).dataset  # no date option: removed


def test_private_date_is_shifted() -> None:
    ds = Dataset()
    ds.PatientID = "PID-1"
    block = ds.private_block(0x0009, "GEMS_PETD_01", create=True)
    block.add_new(0x05, "DT", "20240305101500")  # o
    result = run(ds, SAFE.with_options(Option.RETAIN_LONG_MODIFIED_DATES))
    value = result.dataset.private_block(0x0009, "GEMS_PETD_01")[0x05].value
    assert value != "20240305101500" and value.endswith("101500")


def test_nested_private_element_is_looked_up_by_its_path() -> None:
    inner = Dataset()
    inner.ReferencedSOPInstanceUID = "1.2.826.0.1.5.1"
    inner.private_block(0x0009, "GEIIS_RA1000", create=True).add_new(0x01, "CS", "YES")
    series = Dataset()
    series.ReferencedImageSequence = Sequence([inner])
    ds = private_dataset()
    ds.ReferencedSeriesSequence = Sequence([series])
    top = ds.private_block(0x0029, "GEIIS_RA1000", create=True)  # same creator, top level
    top.add_new(0x01, "CS", "YES")
    out = run(ds, SAFE).dataset
    kept = out.ReferencedSeriesSequence[0].ReferencedImageSequence[0]
    assert kept.private_block(0x0009, "GEIIS_RA1000")[0x01].value == "YES"
    assert kept.ReferencedSOPInstanceUID == out.SOPInstanceUID
    assert not [elem for elem in out if elem.tag.group == 0x0029]


def test_private_sequence_is_kept_with_its_items_processed() -> None:
    ds = private_dataset()
    item = Dataset()
    item.private_block(0x0019, "HOLOGIC, Inc.", create=True).add_new(0x87, "LO", "kept")
    item.private_block(0x0019, "ACME PRIVATE", create=True).add_new(0x01, "LO", "dropped")
    item.PatientName = "Doe^Jane"
    block = ds.private_block(0x0019, "HOLOGIC, Inc.", create=True)
    block.add_new(0x8A, "SQ", Sequence([item]))
    out = run(ds, SAFE).dataset
    new = out.private_block(0x0019, "HOLOGIC, Inc.")[0x8A].value[0]
    assert new.private_block(0x0019, "HOLOGIC, Inc.")[0x87].value == "kept"
    assert [elem.value for elem in new if elem.tag.is_private] == ["HOLOGIC, Inc.", "kept"]
    assert str(new.PatientName).startswith("MV^")


def test_safe_private_text_with_a_name_is_scrubbed() -> None:
    ds = private_dataset()
    ds.private_block(0x0009, "GEMS_IDEN_01")[0x01].value = "GE for Jane Doe"
    out = run(ds, SAFE).dataset
    assert out.private_block(0x0009, "GEMS_IDEN_01")[0x01].value == f"GE for {MARKER}"


@pytest.mark.parametrize(
    ("name", "charset", "blob"),
    [
        ("Yamada^Tarou=山田^太郎", ["", "ISO 2022 IR 87"], "山田太郎".encode("shift_jis")),
        ("Zhang^Weiming=张^伟明", "GB18030", "张伟明".encode("gb18030")),
        ("Doe^Jane", None, "Jane Doe".encode("utf-16-le")),
        ("Doe^Jane", None, b"annotation: Jane Doe"),
        ("Doe^Jane", None, b"\x09" + "Jane".encode("utf-16-le")),  # at an odd offset
    ],
)
def test_safe_private_blob_naming_the_patient_goes(
    name: str, charset: str | list[str] | None, blob: bytes
) -> None:
    """A blob the KB keeps (Fuji's film annotation string) that holds the patient's name
    in the encoding of the device's country is removed."""
    ds = private_dataset()
    ds.PatientName = name
    if charset is not None:
        ds.SpecificCharacterSet = charset
    block = ds.private_block(0x0019, "FDMS 1.0", create=True)
    block.add_new(0x90, "OB", blob)
    clean = private_dataset()
    clean.private_block(0x0019, "FDMS 1.0", create=True).add_new(0x90, "OB", b"L 45 kV")
    assert run(clean, SAFE).dataset.private_block(0x0019, "FDMS 1.0")[0x90].value == b"L 45 kV"
    out = run(_read_back(ds), SAFE).dataset
    assert block.get_tag(0x90) not in out


def test_kept_private_uid_gets_the_public_pseudonym() -> None:
    ds = private_dataset()
    ds.private_block(0x0029, "MMCPRIVATE", create=True).add_new(0xD5, "UI", ds.SOPInstanceUID)
    out = run(ds, SAFE).dataset
    assert out.private_block(0x0029, "MMCPRIVATE")[0xD5].value == out.SOPInstanceUID
    assert out.SOPInstanceUID != ds.SOPInstanceUID
    kept = run(ds, SAFE.with_options(Option.RETAIN_UIDS)).dataset
    assert kept.private_block(0x0029, "MMCPRIVATE")[0xD5].value == ds.SOPInstanceUID


def test_kept_private_number_spelling_the_patient_id_goes() -> None:
    ds = private_dataset()
    ds.PatientID = "88231734"
    block = ds.private_block(0x0019, "HOLOGIC, Inc.", create=True)
    block.add_new(0x05, "IS", "88231734")
    block.add_new(0x41, "DS", "2.5")
    out = run(ds, SAFE).dataset
    assert block.get_tag(0x05) not in out
    assert out[block.get_tag(0x41)].value == 2.5


def test_kept_private_text_of_an_implicit_vr_file_is_scrubbed() -> None:
    """Implicit VR gives private elements no VR: pydicom's private dictionary knows it by
    its creator, so the name in it is scrubbed instead of the file being refused."""
    import io

    import pydicom

    ds = private_dataset()
    ds.private_block(0x0009, "GEMS_IDEN_01")[0x01].value = "GE for Jane Doe"
    buffer = io.BytesIO()
    ds.save_as(buffer, implicit_vr=True, little_endian=True)
    source = pydicom.dcmread(io.BytesIO(buffer.getvalue()), force=True)
    assert source.get_item(0x00091001).VR is None
    out = run(source, SAFE).dataset
    assert out.private_block(0x0009, "GEMS_IDEN_01")[0x01].value == f"GE for {MARKER}"


def test_private_override_keeps_without_the_option() -> None:
    policy = Policy(options=frozenset(), overrides=(Override(0x00211001, "K"),))
    out = run(private_dataset(), policy).dataset
    assert out.private_block(0x0021, "ACME PRIVATE")[0x01].value == "whatever"
    assert 0x00191010 not in out and 0x001910B7 not in out


def _read_back(ds: Dataset) -> Dataset:
    """``ds`` as a reader sees it: raw, undecoded elements."""
    import io

    import pydicom

    buffer = io.BytesIO()
    ds.save_as(buffer, implicit_vr=False, little_endian=True)
    return pydicom.dcmread(io.BytesIO(buffer.getvalue()), force=True)


def test_private_text_that_goes_is_never_decoded_but_private_names_are() -> None:
    """Without Retain Safe Private every private element goes, so its text is not decoded:
    an undecodable value (an escape under ISO_IR 100) does not refuse the file. Private
    person names are still read, because the lexicon learns names from them."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientID, ds.SOPInstanceUID = "PID-1", "1.2.826.0.1.5.1"
    ds.StudyDescription = "CXR f/u Quenneville"
    block = ds.private_block(0x0019, "GEMS_ACQU_01", create=True)
    block.add_new(0x01, "LO", b"\x1b$Bjunk")  # undecodable: an ESC no code extension allows
    block.add_new(0x02, "PN", "Quenneville^Aurore")
    source = _read_back(ds)
    out = run(source, Policy.preset_named("research")).dataset
    assert not [elem for elem in out if elem.tag.is_private]
    assert "Quenneville" not in str(out.StudyDescription)
    with pytest.raises(DeidentificationError):  # decoded when it might be kept: fail closed
        run(_read_back(ds), Policy.preset_named("research").with_options(*SAFE.options))
