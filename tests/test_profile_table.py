"""The generated profile data: PS3.15 Table E.1-1 (2025b) and TCIA's private tag KB."""

from __future__ import annotations

import importlib.util
import json
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from medveil.profiles.private import load_private_kb, private_key, public_key
from medveil.profiles.table import load_table

CODES = {"D", "Z", "X", "K", "C", "U"}
COMPOUND = {"X/Z", "X/D", "X/Z/D", "Z/D", "X/Z/U*"}


def generator() -> ModuleType:
    path = Path(__file__).parents[1] / "scripts" / "generate_profile.py"
    spec = importlib.util.spec_from_file_location("generate_profile", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kb_document() -> dict[str, Any]:
    text = resources.files("medveil.profiles").joinpath("data", "tcia-private-kb-2024-02-01.json")
    document: dict[str, Any] = json.loads(text.read_text("utf-8"))
    return document


def test_table_rows_and_edition() -> None:
    table = load_table()
    assert table.edition == "2025b"
    assert "9b4bc19" in table.source
    assert len(table.rows) == 647
    assert {row.basic for row in table.rows} <= CODES | COMPOUND
    assert {code for row in table.rows for code in row.options.values()} <= {"K", "C"}
    assert all(row.keyword for row in table.rows if row.match != "private")
    assert all(row.vr for row in table.rows if row.match != "private")


@pytest.mark.parametrize(
    ("tag", "keyword", "basic"),
    [
        (0x00100010, "PatientName", "Z"),
        (0x00100020, "PatientID", "Z/D"),
        (0x00080018, "SOPInstanceUID", "U"),
        (0x00081140, "ReferencedImageSequence", "X/Z/U*"),
        (0x00100011, "PersonNamesToUseSequence", "X"),  # newer than pydicom's dictionary
    ],
)
def test_exact_lookup(tag: int, keyword: str, basic: str) -> None:
    row = load_table().lookup(tag)
    assert row is not None
    assert (row.keyword, row.basic) == (keyword, basic)


@pytest.mark.parametrize(
    ("tag", "printed"),
    [
        (0x50003000, "(50xx,xxxx)"),
        (0x501E0010, "(50xx,xxxx)"),
        (0x60003000, "(60xx,3000)"),
        (0x601E3000, "(60xx,3000)"),
        (0x60024000, "(60xx,4000)"),
    ],
)
def test_wildcard_lookup(tag: int, printed: str) -> None:
    row = load_table().lookup(tag)
    assert row is not None
    assert row.tag == printed


def test_overlay_elements_not_listed_are_not_matched() -> None:
    # (60xx,0010) Overlay Rows is not in the table: only 3000 and 4000 are.
    assert load_table().lookup(0x60000010) is None


def test_private_lookup() -> None:
    table = load_table()
    for tag in (0x00090010, 0x00091001, 0x7FDF1010, 0x00291020):
        row = table.lookup(tag)
        assert row is not None and row.match == "private"
    assert table.lookup(0x00280010) is None  # Rows: public and not listed


def test_kb_counts_are_recorded() -> None:
    document = kb_document()
    skipped = document["rows_skipped"]
    assert isinstance(skipped, dict)
    assert document["rows_skipped_total"] == sum(skipped.values())
    entries = document["entries"]
    assert isinstance(entries, list)
    assert {entry["disposition"] for entry in entries} == {"k", "d", "h", "o", "oi"}
    assert "TCIA" in str(document["source"])
    assert len(load_private_kb().entries) == len(entries)


def test_kb_lookup_top_level_and_nested() -> None:
    kb = load_private_kb()
    assert kb.disposition((), 0x0019, "GEMS_ACQU_01", 0xB7) == "k"
    assert kb.disposition((), 0x0019, "  gems_acqu_01 ", 0xB7) == "k"  # padding, case
    assert kb.disposition((), 0x0009, "GEMS_PETD_01", 0x05) == "o"
    assert kb.disposition((), 0x0009, "GEMS_IDEN_01", 0x27) == "oi"
    assert kb.disposition((), 0x0045, "GEMS_SENO_02", 0x50) == "h"
    nested = (public_key(0x00081115), public_key(0x00081140))
    assert kb.disposition(nested, 0x0009, "GEIIS_RA1000", 0x01) == "k"
    assert kb.disposition((), 0x0009, "GEIIS_RA1000", 0x01) != "k"  # the path matters
    assert kb.disposition((), 0x0009, "NO SUCH CREATOR", 0x01) is None


def test_private_key_format() -> None:
    assert private_key(0x0019, " GEMS_ACQU_01 ", 0xB7) == "0019:gems_acqu_01:b7"
    assert public_key(0x00081140) == "00081140"


@pytest.mark.parametrize(
    ("pattern", "keys"),
    [
        # the opening quote of the first creator was lost in the CSV export
        ('(0019,GEMS_ACQU_01",b7)', ["0019:gems_acqu_01:b7"]),
        ('(0019,"GEMS_ACQU_01",b7)', ["0019:gems_acqu_01:b7"]),
        ('(0019,HOLOGIC, Inc.",44)', ["0019:hologic, inc.:44"]),
        (
            '(0008,1115)[<0>](0008,1140)[<1>](0009,GEIIS_RA1000",01)',
            ["00081115", "00081140", "0009:geiis_ra1000:01"],
        ),
        (
            '(7fdf,ACUSON:1.2.840.113680.1.0:7f10",26)',
            ["7fdf:acuson:1.2.840.113680.1.0:7f10:26"],
        ),
        ("(0009,,02)", ["0009::02"]),
    ],
)
def test_generator_parses_kb_paths(pattern: str, keys: list[str]) -> None:
    assert generator().parse_kb_path(pattern) == keys


@pytest.mark.parametrize("pattern", ["", "(0019,X,b7", "(0019,X,b7)(0019,Y,b8)", "junk"])
def test_generator_rejects_broken_paths(pattern: str) -> None:
    assert generator().parse_kb_path(pattern) is None


def test_generator_row_compaction() -> None:
    module = generator()
    row = module.table_row(
        {
            "name": "Curve Data",
            "tag": "(50XX,XXXX)",
            "id": "50xxxxxx",
            "stdCompIOD": "N",
            "basicProfile": "X",
            "cleanGraphOpt": "C",
        }
    )
    assert row == {
        "tag": "(50xx,xxxx)",
        "match": "50xxxxxx",
        "keyword": "CurveData",
        "name": "Curve Data",
        "vr": "OB or OW",
        "std_comp_iod": False,
        "basic": "X",
        "options": {"cleanGraphOpt": "C"},
    }
