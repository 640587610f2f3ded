"""Decode -> normalise -> write -> read back, for every input character set we claim."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pydicom
import pytest
from pydicom import Dataset
from pydicom.data import get_charset_files

from medveil.deid.charset import (
    UTF8,
    CharsetError,
    decode_text,
    has_non_ascii_text,
    normalise_character_set,
)

ESC = b"\x1b"
# (Specific Character Set, PatientName bytes, PatientName text, InstitutionName text, codec)
CASES = [
    ("ISO_IR 100", "Buc^Jérôme".encode("latin-1"), "Buc^Jérôme", "Hôpital Général", "latin-1"),
    (
        "ISO_IR 192",
        "Wang^XiaoDong=王^小東=".encode(),
        "Wang^XiaoDong=王^小東",
        "北京协和医院",
        "utf-8",
    ),
    (
        "GB18030",
        "Wang^XiaoDong=王^小东=".encode("gb18030"),
        "Wang^XiaoDong=王^小东",
        "北京协和医院 𠀀",  # U+20000 is a four-byte GB18030 character
        "gb18030",
    ),
    ("GBK", "Wang^XiaoDong=王^小东=".encode("gbk"), "Wang^XiaoDong=王^小东", "协和医院", "gbk"),
    (
        "ISO 2022 IR 6\\ISO 2022 IR 58",  # PS3.5 Annex K.2 example
        b"Zhang^XiaoDong=" + ESC + b"$)A\xd5\xc5^" + ESC + b"$)A\xd0\xa1\xb6\xab=",
        "Zhang^XiaoDong=张^小东",
        "Hospital",
        "ascii",
    ),
    (
        "\\ISO 2022 IR 87",  # PS3.5 Annex H.3.1 example
        b"Yamada^Tarou="
        + ESC
        + b"$B;3ED"
        + ESC
        + b"(B^"
        + ESC
        + b"$BB@O:"
        + ESC
        + b"(B="
        + ESC
        + b"$B$d$^$@"
        + ESC
        + b"(B^"
        + ESC
        + b"$B$?$m$&"
        + ESC
        + b"(B",
        "Yamada^Tarou=山田^太郎=やまだ^たろう",
        "Hospital",
        "ascii",
    ),
    (
        "ISO 2022 IR 6\\ISO 2022 IR 87",
        b"Yamada^Tarou=" + ESC + b"$B;3ED" + ESC + b"(B^" + ESC + b"$BB@O:" + ESC + b"(B",
        "Yamada^Tarou=山田^太郎",
        "Hospital",
        "ascii",
    ),
]


def element(group: int, elem: int, vr: str, value: bytes) -> bytes:
    """One explicit-VR little-endian element, padded to even length."""
    if len(value) % 2:
        value += b"\x00" if vr == "UI" else b" "
    if vr in ("SQ", "UT", "UN", "OB"):
        return struct.pack("<HH2sHI", group, elem, vr.encode(), 0, len(value)) + value
    return struct.pack("<HH2sH", group, elem, vr.encode(), len(value)) + value


def sequence(group: int, elem: int, *items: bytes) -> bytes:
    body = b"".join(struct.pack("<HHI", 0xFFFE, 0xE000, len(item)) + item for item in items)
    return element(group, elem, "SQ", body)


def read(raw: bytes) -> Dataset:
    return pydicom.dcmread(io.BytesIO(raw), force=True)


def roundtrip(ds: Dataset) -> tuple[Dataset, bytes]:
    buffer = io.BytesIO()
    ds.save_as(buffer, implicit_vr=False, little_endian=True)
    return read(buffer.getvalue()), buffer.getvalue()


def texts(ds: Dataset) -> list[tuple[str, str]]:
    return [
        (str(e.tag), str(e.value))
        for e in ds.iterall()
        if e.VR in ("PN", "SH", "LO", "ST", "LT", "UT", "UC")
    ]


@pytest.mark.parametrize(
    ("charset", "name_bytes", "name", "institution", "codec"),
    CASES,
    ids=[case[0] for case in CASES],
)
def test_each_input_charset_is_written_as_utf8_and_reads_back_identical(
    charset: str, name_bytes: bytes, name: str, institution: str, codec: str
) -> None:
    inst_bytes = institution.encode(codec) if codec != "ascii" else institution.encode()
    raw = (
        element(0x0008, 0x0005, "CS", charset.encode())
        + element(0x0008, 0x0080, "LO", inst_bytes)
        + element(0x0010, 0x0010, "PN", name_bytes)
        + element(0x0010, 0x0020, "LO", b"PID-1")
    )
    ds = read(raw)
    decode_text(ds)
    assert str(ds.PatientName) == name
    assert ds.InstitutionName == institution
    assert normalise_character_set(ds) == UTF8
    back, written = roundtrip(ds)
    assert back.SpecificCharacterSet == UTF8
    assert str(back.PatientName) == name
    assert back.InstitutionName == institution
    assert back.PatientID == "PID-1"
    assert name.split("=")[-1].encode("utf-8") in written
    assert ESC not in written


def test_nested_item_with_its_own_charset_is_recoded() -> None:
    inner = element(0x0008, 0x0005, "CS", b"GB18030") + element(
        0x0040, 0xA123, "PN", "李^四".encode("gb18030")
    )
    raw = (
        element(0x0008, 0x0005, "CS", b"ISO_IR 100")
        + element(0x0010, 0x0010, "PN", "Müller^Jürgen".encode("latin-1"))
        + sequence(0x0040, 0xA730, inner)
    )
    ds = read(raw)
    assert normalise_character_set(ds) == UTF8
    assert "SpecificCharacterSet" not in ds.ContentSequence[0]
    back, _ = roundtrip(ds)
    assert str(back.PatientName) == "Müller^Jürgen"
    assert str(back.ContentSequence[0].PersonName) == "李^四"


def test_raw_elements_copied_into_fresh_items_decode_with_the_inherited_charset() -> None:
    """What an engine does: share undecoded elements between the input and a new dataset."""
    inner = element(0x0040, 0xA160, "UT", "患者李四，胸痛".encode("gb18030"))
    raw = (
        element(0x0008, 0x0005, "CS", b"GB18030")
        + element(0x0010, 0x0010, "PN", "李^四".encode("gb18030"))
        + sequence(0x0040, 0xA730, inner)
    )
    src = read(raw)
    out = Dataset()
    out.set_original_encoding(False, True, src.original_character_set)
    for tag in (0x00080005, 0x00100010):
        out[tag] = src.get_item(tag)
    item = Dataset()
    item[0x0040A160] = src[0x0040A730].value[0].get_item(0x0040A160)
    out.add_new(0x0040A730, "SQ", [item])
    assert normalise_character_set(out) == UTF8
    back, _ = roundtrip(out)
    assert str(back.PatientName) == "李^四"
    assert back.ContentSequence[0].TextValue == "患者李四，胸痛"


def test_undeclared_utf8_is_recovered_but_latin1_is_left_alone() -> None:
    utf8 = read(element(0x0010, 0x0010, "PN", "Zhang^San=张^三".encode()))
    decode_text(utf8)
    assert str(utf8.PatientName) == "Zhang^San=张^三"
    latin = read(element(0x0010, 0x0010, "PN", "Müller^Jürgen".encode("latin-1")))
    decode_text(latin)
    assert str(latin.PatientName) == "Müller^Jürgen"
    assert normalise_character_set(latin) == UTF8
    assert str(roundtrip(latin)[0].PatientName) == "Müller^Jürgen"


def test_ascii_only_output_drops_the_character_set() -> None:
    raw = element(0x0008, 0x0005, "CS", b"GB18030") + element(0x0010, 0x0010, "PN", b"MV^3F9A")
    ds = read(raw)
    assert not has_non_ascii_text(ds)
    assert normalise_character_set(ds) is None
    back, _ = roundtrip(ds)
    assert "SpecificCharacterSet" not in back
    assert str(back.PatientName) == "MV^3F9A"


def test_in_memory_values_keep_their_characters() -> None:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = ["张^三", "Zhang^San"]
    ds.StudyDescription = "胸部 CT"
    assert normalise_character_set(ds) == UTF8
    back, _ = roundtrip(ds)
    assert [str(n) for n in back.PatientName] == ["张^三", "Zhang^San"]
    assert back.StudyDescription == "胸部 CT"


@pytest.mark.filterwarnings("ignore:Unknown encoding")
def test_unknown_character_set_is_refused() -> None:
    raw = element(0x0008, 0x0005, "CS", b"ISO_IR 999") + element(0x0010, 0x0010, "PN", b"A^B")
    with pytest.raises(CharsetError, match="ISO_IR 999"):
        decode_text(read(raw))


@pytest.mark.filterwarnings("ignore:Found unknown escape sequence")
def test_undecodable_escape_sequences_are_refused() -> None:
    raw = element(0x0008, 0x0005, "CS", b"ISO_IR 100") + element(
        0x0008, 0x1030, "LO", b"CT " + ESC + b"$B;3ED"
    )
    with pytest.raises(CharsetError, match="escape sequence"):
        decode_text(read(raw))


@pytest.mark.parametrize("path", sorted(get_charset_files("chr*.dcm")), ids=lambda p: Path(p).name)
def test_pydicom_charset_corpus_roundtrips(path: str) -> None:
    ds = pydicom.dcmread(path)
    before = texts(ds)
    normalise_character_set(ds)
    back, _ = roundtrip(ds)
    assert texts(back) == before
    assert back.get("SpecificCharacterSet") in (UTF8, None)


@pytest.mark.parametrize(
    ("charset", "codec", "name"),
    [
        ("\\ISO 2022 IR 58", "gb2312", "欧阳^震华"),
        ("ISO 2022 IR 6\\ISO 2022 IR 149", "euc_kr", "김^철수"),
    ],
)
def test_g1_multibyte_text_without_its_escape_sequence_is_read_as_declared(
    charset: str, codec: str, name: str
) -> None:
    """Writers (pydicom among them) omit ESC $ ) A before GB 2312 bytes: still GB 2312."""
    raw = (
        element(0x0008, 0x0005, "CS", charset.encode())
        + element(
            0x0008,
            0x0080,
            "LO",
            b"Ward " + "病房".encode("gb2312" if "58" in charset else "euc_kr"),
        )
        + element(0x0010, 0x0010, "PN", b"Ouyang^Zhenhua=" + name.encode(codec))
    )
    ds = read(raw)
    decode_text(ds)
    assert str(ds.PatientName) == f"Ouyang^Zhenhua={name}"
    assert ds.InstitutionName == "Ward 病房"


def _contour_file(geometric_type: bytes) -> Dataset:
    """An ISO_IR 100 file: a kept non-ASCII Manufacturer (so the output is UTF-8) and a
    contour item whose values stay raw through de-identification."""
    item = (
        element(0x3006, 0x0042, "CS", geometric_type)
        + element(0x3006, 0x0046, "IS", b"3")
        + element(0x3006, 0x0050, "DS", b"1.5\\-2.25\\3\\4.5\\5\\6.75\\7\\8\\9.5")
    )
    raw = (
        element(0x0008, 0x0005, "CS", b"ISO_IR 100")
        + element(0x0008, 0x0016, "UI", b"1.2.840.10008.5.1.4.1.1.481.3")
        + element(0x0008, 0x0018, "UI", b"1.2.826.0.1.3680043.2.1")
        + element(0x0008, 0x0070, "LO", "Größe Medizintechnik".encode("latin-1"))
        + element(0x0010, 0x0010, "PN", "Müller^Jürgen".encode("latin-1"))
        + sequence(0x3006, 0x0039, sequence(0x3006, 0x0040, item))
    )
    return read(raw)


def _contour(ds: Dataset) -> Dataset:
    return ds.ROIContourSequence[0].ContourSequence[0]


def test_ascii_raw_values_are_not_re_encoded_when_the_charset_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ISO_IR 100 in, UTF-8 out: raw values that are plain ASCII (contour data, by the
    megabyte in an RT structure set) read the same in both, so the writer copies them
    instead of converting and re-encoding each one."""
    from medveil.deid.engine import Deidentifier
    from medveil.deid.policy import Policy
    from medveil.deid.pseudonyms import Pseudonymizer

    out = (
        Deidentifier(Policy.preset_named("research"), Pseudonymizer(bytes(32)))
        .run(_contour_file(b"CLOSED_PLANAR"))
        .dataset
    )
    assert out.SpecificCharacterSet == UTF8
    converted: list[int] = []
    real = pydicom.dataset.convert_raw_data_element

    def spy(raw: object, **kwargs: object) -> object:
        converted.append(int(raw.tag))  # type: ignore[attr-defined]
        return real(raw, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pydicom.dataset, "convert_raw_data_element", spy)
    written, _ = roundtrip(out)
    assert 0x30060050 not in converted and 0x30060042 not in converted
    assert _contour(written).ContourData == [1.5, -2.25, 3, 4.5, 5, 6.75, 7, 8, 9.5]
    assert written.Manufacturer == "Größe Medizintechnik"


def test_non_ascii_raw_values_keep_the_writers_conversion() -> None:
    """A raw value that is not plain ASCII (here an implicit VR private value, which no
    decoding touches) might read differently under the new character set: its dataset
    stays marked as changed, so writers convert its raw elements as before."""
    private = struct.pack("<HHI", 0x0009, 0x0010, 8) + b"ACME 1.0"
    private += struct.pack("<HHI", 0x0009, 0x1001, 6) + "Größe".encode("latin-1") + b" "
    raw = (
        struct.pack("<HHI", 0x0008, 0x0005, 10)
        + b"ISO_IR 100"
        + struct.pack("<HHI", 0x0008, 0x0070, 6)
        + "Größe".encode("latin-1")
        + b" "
        + private
    )
    ds = pydicom.dcmread(io.BytesIO(raw), force=True)
    assert normalise_character_set(ds) == UTF8
    assert ds.original_character_set != ds._character_set
    ascii_only = read(
        element(0x0008, 0x0005, "CS", b"ISO_IR 100") + element(0x0020, 0x0013, "IS", b"7")
    )
    ascii_only.add_new(0x00080070, "LO", "Größe")
    assert normalise_character_set(ascii_only) == UTF8
    assert ascii_only.original_character_set == ascii_only._character_set
