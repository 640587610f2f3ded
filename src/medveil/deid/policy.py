"""What to de-identify and how: profile options, pixel mode and per-attribute overrides.

A :class:`Policy` is immutable and cheap to compare; the engine compiles it
once into a tag -> action table (see :mod:`medveil.deid.actions`).

    >>> p = Policy.preset_named("research")
    >>> p.has(Option.RETAIN_LONG_MODIFIED_DATES), p.pixels
    (True, <PixelMode.PHI: 'phi'>)
    >>> Policy.preset_named("basic").pixels      # no Clean Pixel Data option
    <PixelMode.OFF: 'off'>

The pixel mode and :attr:`Option.CLEAN_PIXEL_DATA` always agree: ``pixels=OFF``
drops the option, and a policy without the option has ``pixels=OFF``.

Policy file (YAML), every key optional::

    preset: research            # the base; default: the ``base`` argument, else "research"
    options: [retain-uids]      # added to the base's options
    without: [clean-graphics]   # removed from them
    pixels: all-text            # off | all-text | phi
    overrides:                  # attribute (keyword or "(gggg,eeee)") -> action
      StudyDescription: K       # D Z X K C U, or dummy/empty/remove/keep/clean/uid
      "(0008,1090)": remove

An override replaces the profile's action for that attribute wherever it
occurs (also inside sequences); it is site configuration and is trusted, so
keep overrides that retain identifying attributes under review.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydicom.datadict import tag_for_keyword

from medveil.errors import UsageError
from medveil.profiles.options import DEFAULT_PRESET, PRESETS, Option

ACTION_WORDS = {
    "dummy": "D",
    "empty": "Z",
    "remove": "X",
    "keep": "K",
    "clean": "C",
    "uid": "U",
}
ACTION_CODES = frozenset(ACTION_WORDS.values())
_TAG_TEXT = re.compile(r"\(?\s*([0-9A-Fa-f]{4})\s*,?\s*([0-9A-Fa-f]{4})\s*\)?")
_POLICY_KEYS = frozenset({"preset", "options", "without", "pixels", "overrides"})


class PixelMode(StrEnum):
    """How burned-in text is handled: not at all, every text found, or only PHI matches."""

    OFF = "off"
    ALL_TEXT = "all-text"
    PHI = "phi"


@dataclass(frozen=True)
class Override:
    """A site rule: ``action`` (one of D Z X K C U) for the attribute ``tag``.

    >>> Override.parse("StudyDescription", "keep")
    Override(tag=528432, action='K')
    >>> Override.parse("(0008,1090)", "X").tag == 0x00081090
    True
    """

    tag: int
    action: str

    @classmethod
    def parse(cls, attribute: str, action: str) -> Override:
        """Build from the spellings a policy file uses; UsageError on anything unknown."""
        code = ACTION_WORDS.get(str(action).strip().lower(), str(action).strip().upper())
        if code not in ACTION_CODES:
            raise UsageError(f"policy override for {attribute}: unknown action {action!r}")
        return cls(tag=_parse_tag(attribute), action=code)


def _parse_tag(attribute: str) -> int:
    tag = tag_for_keyword(attribute)
    if tag is not None:
        return tag
    match = _TAG_TEXT.fullmatch(attribute.strip())
    if match is None:
        raise UsageError(f"policy override: unknown attribute {attribute!r}")
    return int(match[1] + match[2], 16)


def _parse_options(values: Any, where: str) -> frozenset[Option]:
    if not isinstance(values, list):
        raise UsageError(f"policy file: {where} must be a list of option names")
    try:
        return frozenset(Option(str(value).strip().lower()) for value in values)
    except ValueError as exc:
        raise UsageError(f"policy file: {where}: {exc}") from None


@dataclass(frozen=True)
class Policy:
    """Profile options, pixel handling and per-attribute overrides of one de-identification."""

    options: frozenset[Option]
    preset: str = "custom"
    pixels: PixelMode = PixelMode.PHI
    overrides: tuple[Override, ...] = field(default=())

    def __post_init__(self) -> None:
        options = frozenset(self.options)
        if self.pixels is PixelMode.OFF:
            options -= {Option.CLEAN_PIXEL_DATA}
        elif Option.CLEAN_PIXEL_DATA not in options:
            object.__setattr__(self, "pixels", PixelMode.OFF)
        if {Option.RETAIN_LONG_FULL_DATES, Option.RETAIN_LONG_MODIFIED_DATES} <= options:
            raise UsageError(
                "retain-long-full-dates and retain-long-modified-dates exclude each other"
            )
        object.__setattr__(self, "options", options)

    @classmethod
    def preset_named(cls, name: str) -> Policy:
        """The named preset of :data:`PRESETS` (``basic``, ``research``)."""
        if name not in PRESETS:
            raise UsageError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
        return cls(options=PRESETS[name], preset=name)

    @classmethod
    def from_yaml(cls, path: Path, base: Policy | None = None) -> Policy:
        """Read a policy file (format in the module docstring) on top of ``base``."""
        try:
            document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise UsageError(f"cannot read policy file {path}: {exc}") from None
        if not isinstance(document, Mapping):
            raise UsageError(f"policy file {path}: expected a mapping at the top level")
        unknown = set(document) - _POLICY_KEYS
        if unknown:
            raise UsageError(f"policy file {path}: unknown keys {sorted(unknown)}")
        if "preset" in document:
            policy = cls.preset_named(str(document["preset"]))
        else:
            policy = base or cls.preset_named(DEFAULT_PRESET)
        options = policy.options | _parse_options(document.get("options", []), "options")
        options -= _parse_options(document.get("without", []), "without")
        pixels = policy.pixels
        if "pixels" in document:
            raw_pixels = document["pixels"]
            text = "off" if raw_pixels is False else str(raw_pixels)  # YAML 1.1 reads off as false
            try:
                pixels = PixelMode(text.strip().lower())
            except ValueError:
                raise UsageError(f"policy file {path}: unknown pixels mode") from None
            if pixels is not PixelMode.OFF:
                options |= {Option.CLEAN_PIXEL_DATA}
        elif Option.CLEAN_PIXEL_DATA in options and pixels is PixelMode.OFF:
            pixels = PixelMode.PHI
        raw_overrides = document.get("overrides", {}) or {}
        if not isinstance(raw_overrides, Mapping):
            raise UsageError(f"policy file {path}: overrides must map attributes to actions")
        overrides = policy.overrides + tuple(
            Override.parse(str(attribute), str(action))
            for attribute, action in raw_overrides.items()
        )
        preset = policy.preset if options == policy.options and not raw_overrides else "custom"
        return cls(options=options, preset=preset, pixels=pixels, overrides=overrides)

    def with_options(self, *options: Option) -> Policy:
        """A copy with ``options`` added (adding Clean Pixel Data turns pixel cleaning on)."""
        pixels = self.pixels
        if Option.CLEAN_PIXEL_DATA in options and pixels is PixelMode.OFF:
            pixels = PixelMode.PHI
        return replace(self, options=self.options | frozenset(options), pixels=pixels)

    def has(self, option: Option) -> bool:
        """Whether ``option`` is part of this policy."""
        return option in self.options

    def ordered_options(self) -> Iterable[Option]:
        """The options in CID 7050 code order, as they are recorded in the header."""
        return sorted(self.options, key=lambda option: option.code)
