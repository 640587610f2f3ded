"""One Chinese name in hanzi and pinyin, simplified and traditional (medveil.deid.pinyin,
medveil.deid.hanzi).

The header may hold a name in one script and the free text in another; each
case runs the engine on a dataset whose PN holds the name one way and whose
comments hold it another way, and checks that the name is gone while the
clinical words around it stay.
"""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from medveil.deid.engine import deidentify
from medveil.deid.pinyin import SoundIndex, readings, romanisations
from medveil.deid.policy import Policy
from medveil.deid.text import MARKER, PhiLexicon
from medveil.deid.verify import TermFinder
from medveil.errors import DeidentificationError

SECRET = bytes(range(32))


def dataset(name: str, comments: str) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = name
    ds.PatientID = "PID-4471"
    ds.ImageComments = comments
    ds.StudyDescription = "CT CHEST"
    return ds


@pytest.mark.parametrize(
    ("name", "text", "gone", "kept"),
    [
        # hanzi in the header, pinyin in the text
        ("张^伟明", "Follow-up for ZHANG WEIMING, chest clear", "WEIMING", "chest clear"),
        ("张伟明", "Pt Zhang Wei-Ming seen today", "Wei-Ming", "seen today"),
        ("张伟明", "Pt Zhang Wei Ming seen today", "Wei Ming", "seen today"),
        ("张伟明", "Weiming Zhang, repeat film", "Weiming", "repeat film"),
        ("张伟明", "Wei Ming Zhang seen today", "Wei Ming", "seen today"),
        ("欧阳振华", "OUYANG ZHENHUA: nodule stable", "OUYANG", "nodule stable"),
        # the given name alone, and the characters spaced out
        ("张伟明", "伟明 CT 复查", "伟明", "CT 复查"),
        ("张伟明", "张 伟 明 CT 复查", "伟 明", "CT 复查"),
        ("吕^芳", "Lyu Fang follow-up", "Lyu Fang", "follow-up"),
        ("吕^芳", "LV FANG follow-up", "LV FANG", "follow-up"),
        # pinyin in the header, hanzi in the text
        ("ZHANG^WEIMING", "患者张伟明，胸片复查", "张伟明", "胸片复查"),
        ("Zhang^Weiming", "患者張偉明，胸片复查", "張偉明", "胸片复查"),
        ("ZHANGWEIMING", "患者张伟明，胸片复查", "张伟明", "胸片复查"),
        # traditional in the text, the pinyin group in the header
        ("Zhang^Weiming=张^伟明", "复查：張偉明，胸片", "張偉明", "胸片"),
        # simplified in the header, traditional in the text, and the reverse (medveil.deid.hanzi)
        ("张伟明", "复查：張偉明，胸片複查", "張偉明", "胸片複查"),
        ("張偉明", "张伟明 CT 复查", "张伟明", "CT 复查"),
        ("张伟明", "張 偉 明 复查", "偉 明", "复查"),
        ("ZHANG^SAN=张^三", "張三 CT", "張三", "CT"),
    ],
)
def test_a_name_is_removed_in_any_script(name: str, text: str, gone: str, kept: str) -> None:
    out = deidentify(dataset(name, text), Policy.preset_named("research"), secret=SECRET)
    comments = str(out.ImageComments)
    assert gone not in comments
    assert MARKER in comments
    assert kept in comments


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("WEI^JIAN", "未见明显异常"),  # "no obvious abnormality"
        ("魏建", "未见明显异常"),
        ("ZHENG^CHANG", "心影大小形态正常"),  # "normal"
        ("ZENG^QIANG", "增强扫描"),  # "contrast-enhanced scan"
        ("周伟建", "病灶周围见渗出"),  # "exudate seen around the lesion"
    ],
)
def test_clinical_words_that_sound_like_a_name_stay(name: str, text: str) -> None:
    """Two-syllable names sound like everyday report words, and hanzi names are matched as
    written: neither erases a clinical phrase that merely sounds alike."""
    out = deidentify(dataset(name, text), Policy.preset_named("research"), secret=SECRET)
    assert str(out.ImageComments) == text


def test_words_that_sound_like_part_of_a_name_stay() -> None:
    """Only the whole name is matched by sound: 未明 (unclear) sounds like the given name
    Weiming, 张力 (tension) starts like the family name."""
    text = "原因未明，张力性气胸可能"
    out = deidentify(dataset("ZHANG^WEIMING", text), Policy.preset_named("research"), secret=SECRET)
    assert str(out.ImageComments) == text


def test_heteronyms_give_every_reading() -> None:
    assert {"dan", "shan", "chan"} <= readings("单")
    assert {"lv", "lu", "lyu"} <= readings("吕")
    spellings = {("".join(f), "".join(g)) for f, g in romanisations("单^田芳")}
    assert {("dan", "tianfang"), ("shan", "tianfang")} <= spellings


def test_compound_surnames_split_where_the_caret_is_missing() -> None:
    compound, single = romanisations("司马光明"), romanisations("马光明")
    assert (("si", "ma"), ("guang", "ming")) in compound
    assert all(len(family) == 2 and len(given) == 2 for family, given in compound)
    assert (("ma",), ("guang", "ming")) in single
    assert all(len(family) == 1 and len(given) == 2 for family, given in single)


def test_find_sounds_spans() -> None:
    index = SoundIndex([("zhang", "wei", "ming")])
    assert index.find("a 張偉明 b 张伟明") == [(2, 5), (8, 11)]
    assert index.find("张伟") == []
    assert index.find("山田たろう") == []  # kana have no Mandarin reading
    assert not SoundIndex([])  # a lexicon without pinyin names scans nothing


def test_the_gate_finds_a_name_by_its_sound() -> None:
    """The verification searches the output the same way: a traditional spelling left in a
    kept element is caught."""
    ds = Dataset()
    ds.PatientName = "ZHANG^WEIMING"
    lexicon = PhiLexicon.from_dataset(ds)
    finder = TermFinder(lexicon.terms, lexicon.name_sounds)
    assert finder.search("复查：張偉明")
    assert not finder.search("复查：原因未明")
    assert finder.sub("*", "复查：張偉明") == "复查：*"


def test_a_kept_attribute_holding_the_name_in_hanzi_is_cleaned_or_refused() -> None:
    ds = dataset("ZHANG^WEIMING", "ok")
    ds.Manufacturer = "張偉明影像"  # kept by the basic profile, but it names the patient
    try:
        out = deidentify(ds, Policy.preset_named("basic"), secret=SECRET)
    except DeidentificationError:
        return
    assert "張偉明" not in str(out.get("Manufacturer", ""))
