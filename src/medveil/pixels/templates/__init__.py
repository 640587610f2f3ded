"""Fixed-region redaction rules ("templates"), matched on device and image size.

Some devices burn PHI at known places; a template redacts those regions
whatever OCR reads, which covers text OCR cannot see (tiny, stylised or
partially overwritten). This is the idea of CTP's DicomPixelAnonymizer
signatures, in YAML. The rules shipped with medveil are in ``default.yaml``
next to this module; users add their own file with ``--pixel-templates``
(see docs/pixels.md for the format).

Matching uses Modality, Manufacturer, ManufacturerModelName, Rows and
Columns. Manufacturer and ManufacturerModelName are not in PS3.15 Table
E.1-1, so the Basic profile keeps them; a policy that removes them anyway
should pass the original dataset (``clean_pixels(..., original=ds)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydicom.dataset import Dataset

from medveil.errors import UsageError
from medveil.pixels.report import Box

_TEXT_KEYS = {
    "modality": "Modality",
    "manufacturer": "Manufacturer",
    "model": "ManufacturerModelName",
}
_SIZE_KEYS = {"rows": "Rows", "columns": "Columns"}


@dataclass(frozen=True)
class Region:
    """A rectangle in pixels, or in fractions of the image size."""

    bounds: tuple[float, float, float, float]
    fractional: bool

    def box(self, rows: int, columns: int) -> Box:
        x0, y0, x1, y1 = self.bounds
        if self.fractional:
            x0, x1 = x0 * columns, x1 * columns
            y0, y1 = y0 * rows, y1 * rows
        return Box(max(0, int(x0)), max(0, int(y0)), min(columns, round(x1)), min(rows, round(y1)))


@dataclass(frozen=True)
class Rule:
    """One device signature and the regions it redacts."""

    name: str
    patterns: dict[str, re.Pattern[str]]
    sizes: dict[str, int]
    regions: tuple[Region, ...]

    def matches(self, ds: Dataset) -> bool:
        for keyword, pattern in self.patterns.items():
            if not pattern.search(str(ds.get(keyword, "") or "")):
                return False
        return all(int(ds.get(keyword, -1) or -1) == size for keyword, size in self.sizes.items())


class TemplateSet:
    """An ordered collection of rules; every matching rule applies."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules

    @classmethod
    def shipped(cls) -> TemplateSet:
        """The rules in medveil's own ``default.yaml`` (parsed once per process)."""
        return cls(list(_shipped_rules()))

    @classmethod
    def load(cls, path: Path, *, with_shipped: bool = True) -> TemplateSet:
        """User rules from ``path``, after the shipped ones unless told otherwise."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise UsageError(f"cannot read pixel templates {path}: {exc}") from exc
        rules = _parse(data, str(path))
        return cls((cls.shipped().rules if with_shipped else []) + rules)

    def regions_for(self, ds: Dataset) -> list[tuple[str, Box]]:
        """(rule name, box) for every region of every rule matching ``ds``."""
        rows, columns = int(ds.Rows), int(ds.Columns)
        return [
            (rule.name, region.box(rows, columns))
            for rule in self.rules
            if rule.matches(ds)
            for region in rule.regions
        ]


@cache
def _shipped_rules() -> tuple[Rule, ...]:
    text = resources.files(__package__).joinpath("default.yaml").read_text(encoding="utf-8")
    return tuple(_parse(yaml.safe_load(text), "default.yaml"))


def _parse(data: Any, source: str) -> list[Rule]:
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise UsageError(f"{source}: expected a mapping with a 'rules' list")
    return [_rule(item, source) for item in data["rules"]]


def _rule(item: Any, source: str) -> Rule:
    if not isinstance(item, dict) or "name" not in item:
        raise UsageError(f"{source}: every rule needs a 'name'")
    name = str(item["name"])
    match = item.get("match") or {}
    unknown = set(match) - set(_TEXT_KEYS) - set(_SIZE_KEYS)
    if unknown:
        raise UsageError(f"{source}: rule {name}: unknown match keys {sorted(unknown)}")
    try:
        patterns = {
            _TEXT_KEYS[k]: re.compile(str(v), re.IGNORECASE)
            for k, v in match.items()
            if k in _TEXT_KEYS
        }
        sizes = {_SIZE_KEYS[k]: int(v) for k, v in match.items() if k in _SIZE_KEYS}
        regions = tuple(_region(r) for r in item.get("regions") or [])
    except (re.error, TypeError, ValueError) as exc:
        raise UsageError(f"{source}: rule {name}: {exc}") from exc
    if not regions:
        raise UsageError(f"{source}: rule {name} has no regions")
    return Rule(name=name, patterns=patterns, sizes=sizes, regions=regions)


def _region(item: Any) -> Region:
    if not isinstance(item, dict) or len(item) != 1 or not {"box", "fraction"} & set(item):
        raise ValueError("a region is {box: [x0, y0, x1, y1]} or {fraction: [x0, y0, x1, y1]}")
    ((kind, values),) = item.items()
    if not isinstance(values, list) or len(values) != 4:
        raise ValueError(f"{kind} needs four numbers [x0, y0, x1, y1]")
    x0, y0, x1, y1 = (float(v) for v in values)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"empty region {values}")
    if kind == "fraction" and not all(0.0 <= v <= 1.0 for v in (x0, y0, x1, y1)):
        raise ValueError(f"fractions must lie in [0, 1]: {values}")
    return Region((x0, y0, x1, y1), fractional=kind == "fraction")
