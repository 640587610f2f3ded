"""Generate medveil's profile data files from the reference copies of their sources.

medveil never reads the reference folder at run time: this script turns

* PS3.15 Table E.1-1 (edition 2025b, as JSON) into
  ``src/medveil/profiles/data/ps3.15-e1-1-2025b.json`` and
* TCIA's Private Tag Knowledge Base (CSV, 2024-02-01) into
  ``src/medveil/profiles/data/tcia-private-kb-2024-02-01.json``,

and the generated files are committed. Run it from the repository root::

    python scripts/generate_profile.py                  # reads ../shared/reference
    python scripts/generate_profile.py /path/to/reference

Each table row records the tag as printed, a ``match`` key (eight hex digits,
``x`` for a wildcard nibble, or ``private`` for the odd-group row), the
pydicom keyword and VR (a short supplement covers attributes newer than
pydicom's dictionary), the Basic Profile action and the option columns.

The KB's first path segment lost its opening quote when the CSV was exported
(``(0019,GEMS_ACQU_01",b7)``), so segments are parsed with the quote optional.
Rows whose disposition is not one of ``k d h o oi`` (``na``, blank), whose
path does not parse, whose element has no private creator, or whose element is
public (Table E.1-1 decides those, wherever they are nested) are skipped and
counted in the output. When the same
element appears with several dispositions (one row per VR seen), the most
protective one wins: ``d`` over ``h``/``o``/``oi`` over ``k``.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from pydicom.datadict import dictionary_VR, keyword_for_tag

from medveil.profiles.private import DISPOSITIONS, private_key, public_key

EDITION = "2025b"
TABLE_SOURCE = (
    "DICOM PS3.15 Table E.1-1, edition 2025b, via DIAGNijmegen/"
    "rse-grand-challenge-dicom-de-id-procedure "
    "dicom_deid/dicom_standard/confidentiality_profile_attributes.json @ 9b4bc19"
)
KB_SOURCE = (
    "TCIA Private Tag Knowledge Base 2024-02-01, via MIC-DKFZ/miccai2024_midi-b-submission "
    "docs/TCIAPrivateTagKB-02-01-2024-formatted.csv"
)
TABLE_IN = "ps3.15-table-E.1-1-2025b.json"
KB_IN = "tcia-private-tag-kb-2024-02-01.csv"
DATA_DIR = Path("src/medveil/profiles/data")
TABLE_OUT = DATA_DIR / "ps3.15-e1-1-2025b.json"
KB_OUT = DATA_DIR / "tcia-private-kb-2024-02-01.json"

OPTION_COLUMNS = (
    "rtnSafePrivOpt",
    "rtnUIDsOpt",
    "rtnDevIdOpt",
    "rtnInstIdOpt",
    "rtnPatCharsOpt",
    "rtnLongFullDatesOpt",
    "rtnLongModifDatesOpt",
    "cleanDescOpt",
    "cleanStructContOpt",
    "cleanGraphOpt",
)

# Attributes of Table E.1-1 (2025b) that pydicom 3.0's dictionary predates: (VR, keyword).
NEWER_THAN_PYDICOM: dict[int, tuple[str, str]] = {
    0x00081301: ("SQ", "PrincipalDiagnosisCodeSequence"),
    0x00081302: ("SQ", "PrimaryDiagnosisCodeSequence"),
    0x00081303: ("SQ", "SecondaryDiagnosesCodeSequence"),
    0x00081304: ("SQ", "HistologicalDiagnosesCodeSequence"),
    0x00100011: ("SQ", "PersonNamesToUseSequence"),
    0x00100012: ("LT", "NameToUse"),
    0x00100013: ("UT", "NameToUseComment"),
    0x00100014: ("SQ", "ThirdPersonPronounsSequence"),
    0x00100015: ("SQ", "PronounCodeSequence"),
    0x00100016: ("UT", "PronounComment"),
    0x00100041: ("SQ", "GenderIdentitySequence"),
    0x00100042: ("UT", "SexParametersForClinicalUseCategoryComment"),
    0x00100043: ("SQ", "SexParametersForClinicalUseCategorySequence"),
    0x00100044: ("SQ", "GenderIdentityCodeSequence"),
    0x00100045: ("UT", "GenderIdentityComment"),
    0x00100046: ("SQ", "SexParametersForClinicalUseCategoryCodeSequence"),
    0x00100047: ("UR", "SexParametersForClinicalUseCategoryReference"),
    0x00102162: ("UC", "EthnicGroups"),
    0x0040A034: ("DT", "EffectiveStartDateTime"),
    0x0040A035: ("DT", "EffectiveStopDateTime"),
    0x0040B034: ("DT", "AnnotationDateTime"),
    0x0040B036: ("DT", "SegmentDefinitionDateTime"),
    0x0040B03B: ("LO", "MontageName"),
    0x0040B03F: ("LO", "MontageChannelLabel"),
}

# Wildcard rows: the concrete tag whose dictionary entry supplies VR and keyword.
WILDCARD_EXAMPLES = {"50xxxxxx": 0x50003000, "60xx3000": 0x60003000, "60xx4000": 0x60004000}

# Higher wins when one element carries several dispositions.
KB_STRICTNESS = {"k": 0, "h": 1, "o": 1, "oi": 1, "d": 2}
# Public first: a private segment's creator may itself contain commas and digits.
_SEGMENT = re.compile(
    r"\((?P<g>[0-9a-fA-F]{4}),(?P<e>[0-9a-fA-F]{4})\)"
    r'|\((?P<pg>[0-9a-fA-F]{4}),"?(?P<creator>[^"\[\]]*?)"?,(?P<pe>[0-9a-fA-F]{2})\)'
)
_ITEM = re.compile(r"\[<\d+>\]")


def table_row(raw: dict[str, str]) -> dict[str, Any]:
    """Turn one reference row into medveil's compact row."""
    tag_text = raw["tag"].upper().replace("X", "x")
    if raw["id"].startswith("gggg"):
        match = "private"
        vr, keyword = "", ""
    else:
        match = raw["id"].lower()
        concrete = WILDCARD_EXAMPLES.get(match)
        tag = concrete if concrete is not None else int(match, 16)
        try:
            vr, keyword = dictionary_VR(tag), keyword_for_tag(tag)
        except KeyError:
            vr, keyword = NEWER_THAN_PYDICOM[tag]
    return {
        "tag": tag_text if match != "private" else raw["tag"],
        "match": match,
        "keyword": keyword,
        "name": raw["name"],
        "vr": vr,
        "std_comp_iod": raw["stdCompIOD"] == "Y",
        "basic": raw["basicProfile"],
        "options": {col: raw[col] for col in OPTION_COLUMNS if col in raw},
    }


def build_table(source: Path) -> dict[str, Any]:
    """The generated PS3.15 table document."""
    raw_rows = json.loads(source.read_text(encoding="utf-8"))
    rows = sorted((table_row(r) for r in raw_rows), key=lambda r: r["match"])
    return {
        "edition": EDITION,
        "source": TABLE_SOURCE,
        "option_columns": list(OPTION_COLUMNS),
        "rows": rows,
    }


def parse_kb_path(pattern: str) -> list[str] | None:
    """Split an ``element_sig_pattern`` into medveil path keys, or None if it does not parse.

    Private segments become ``"gggg:creator:ee"`` (lower-case hex, creator
    stripped and case-folded, as vendors are inconsistent about both), public
    ones ``"ggggeeee"``: the keys medveil looks the KB up by, written by the same
    functions (:mod:`medveil.profiles.private`). A creator may itself hold ``:`` or
    ``/``, so paths stay lists.

    >>> parse_kb_path('(0019,GEMS_ACQU_01",b7)')
    ['0019:gems_acqu_01:b7']
    >>> parse_kb_path('(0029,A",02)[<0>](0028,1053)')
    ['0029:a:02', '00281053']
    """
    keys: list[str] = []
    pos = 0
    while pos < len(pattern):
        if keys:
            item = _ITEM.match(pattern, pos)
            if item is None:
                return None
            pos = item.end()
        seg = _SEGMENT.match(pattern, pos)
        if seg is None:
            return None
        if seg["pg"] is not None:
            keys.append(private_key(int(seg["pg"], 16), seg["creator"], int(seg["pe"], 16)))
        else:
            keys.append(public_key(int(seg["g"] + seg["e"], 16)))
        pos = seg.end()
    return keys or None


def build_kb(source: Path) -> dict[str, Any]:
    """The generated TCIA KB document: one entry per private element path."""
    skipped: Counter[str] = Counter()
    conflicts = 0
    entries: dict[str, dict[str, Any]] = {}
    total = 0
    with source.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            total += 1
            if len(row) != 4:
                skipped["malformed row"] += 1
                continue
            pattern, name, vr, disposition = (cell.strip() for cell in row)
            disposition = disposition.lower()
            if disposition not in DISPOSITIONS:
                skipped[f"disposition {disposition or 'blank'}"] += 1
                continue
            keys = parse_kb_path(pattern)
            if keys is None:
                skipped["unparseable pattern"] += 1
                continue
            leaf = keys[-1]
            if ":" not in leaf:
                skipped["public element (Table E.1-1 decides)"] += 1
                continue
            if leaf[5:-3] == "":
                skipped["no private creator"] += 1
                continue
            path = "\n".join(keys)
            previous = entries.get(path)
            if previous is not None:
                if previous["disposition"] == disposition:
                    continue
                conflicts += 1
                if KB_STRICTNESS[previous["disposition"]] >= KB_STRICTNESS[disposition]:
                    continue
            entries[path] = {"path": keys, "name": name, "vr": vr, "disposition": disposition}
    return {
        "source": KB_SOURCE,
        "rows_read": total,
        "rows_skipped": dict(sorted(skipped.items())),
        "rows_skipped_total": sum(skipped.values()),
        "conflicting_dispositions": conflicts,
        "entries": [entries[path] for path in sorted(entries)],
    }


def write_json(document: dict[str, Any], target: Path) -> None:
    """Write ``document`` with one list item per line, so that diffs stay small and readable."""
    lines = ["{"]
    for index, (key, value) in enumerate(document.items()):
        comma = "," if index < len(document) - 1 else ""
        if isinstance(value, list) and value and isinstance(value[0], dict):
            items = [json.dumps(item, ensure_ascii=False) for item in value]
            body = ",\n  ".join(items)
            lines.append(f"{json.dumps(key)}: [\n  {body}\n]{comma}")
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{comma}")
    lines.append("}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``generate_profile.py [REFERENCE_DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", nargs="?", default="../shared/reference", type=Path)
    args = parser.parse_args(argv)
    table = build_table(args.reference / TABLE_IN)
    kb = build_kb(args.reference / KB_IN)
    write_json(table, TABLE_OUT)
    write_json(kb, KB_OUT)
    print(
        f"{TABLE_OUT}: {len(table['rows'])} rows; {KB_OUT}: {len(kb['entries'])} entries "
        f"from {kb['rows_read']} rows, {kb['rows_skipped_total']} skipped "
        f"{kb['rows_skipped']}, {kb['conflicting_dispositions']} conflicts"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
