"""Policies: presets, the pixel-mode invariant, option conflicts and the YAML policy file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from medveil.deid.policy import Override, PixelMode, Policy
from medveil.errors import UsageError
from medveil.profiles.options import PRESETS, Option


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets(name: str) -> None:
    policy = Policy.preset_named(name)
    assert policy.options == PRESETS[name]
    assert policy.preset == name
    assert (policy.pixels is PixelMode.OFF) == (Option.CLEAN_PIXEL_DATA not in policy.options)


def test_unknown_preset() -> None:
    with pytest.raises(UsageError, match="unknown preset"):
        Policy.preset_named("nope")


def test_pixels_off_drops_clean_pixel_data() -> None:
    policy = dataclasses.replace(Policy.preset_named("research"), pixels=PixelMode.OFF)
    assert not policy.has(Option.CLEAN_PIXEL_DATA)
    assert policy.has(Option.CLEAN_DESCRIPTORS)


def test_adding_clean_pixel_data_turns_pixels_on() -> None:
    policy = Policy.preset_named("basic").with_options(Option.CLEAN_PIXEL_DATA)
    assert policy.pixels is PixelMode.PHI
    assert policy.has(Option.CLEAN_PIXEL_DATA)


def test_full_and_modified_dates_exclude_each_other() -> None:
    with pytest.raises(UsageError, match="exclude each other"):
        Policy.preset_named("research").with_options(Option.RETAIN_LONG_FULL_DATES)


def test_ordered_options_follow_the_codes() -> None:
    codes = [option.code for option in Policy.preset_named("research").ordered_options()]
    assert codes == sorted(codes)


def test_yaml_full_example(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
preset: basic
options: [retain-uids, clean-descriptors]
pixels: all-text
overrides:
  StudyDescription: K
  "(0008,1090)": remove
  "0018,1030": clean
""",
    )
    policy = Policy.from_yaml(path)
    assert policy.options == {
        Option.RETAIN_UIDS,
        Option.CLEAN_DESCRIPTORS,
        Option.CLEAN_PIXEL_DATA,
    }
    assert policy.pixels is PixelMode.ALL_TEXT
    assert policy.preset == "custom"
    assert policy.overrides == (
        Override(0x00081030, "K"),
        Override(0x00081090, "X"),
        Override(0x00181030, "C"),
    )


def test_yaml_builds_on_the_base(tmp_path: Path) -> None:
    path = write(tmp_path, "without: [clean-graphics]\n")
    base = Policy.preset_named("research")
    policy = Policy.from_yaml(path, base=base)
    assert policy.options == base.options - {Option.CLEAN_GRAPHICS}
    assert policy.pixels is PixelMode.PHI


def test_empty_yaml_is_the_base(tmp_path: Path) -> None:
    base = Policy.preset_named("basic")
    assert Policy.from_yaml(write(tmp_path, ""), base=base) == base
    assert Policy.from_yaml(write(tmp_path, "")) == Policy.preset_named("research")


def test_yaml_pixels_off(tmp_path: Path) -> None:
    policy = Policy.from_yaml(write(tmp_path, "pixels: off\n"))
    assert policy.pixels is PixelMode.OFF
    assert not policy.has(Option.CLEAN_PIXEL_DATA)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour: blue\n", "unknown keys"),
        ("options: retain-uids\n", "must be a list"),
        ("options: [retain-everything]\n", "retain-everything"),
        ("pixels: some\n", "unknown pixels mode"),
        ("overrides: [PatientName]\n", "must map"),
        ("overrides:\n  PatientName: obliterate\n", "unknown action"),
        ("overrides:\n  NotAnAttribute: X\n", "unknown attribute"),
        ("- a list\n", "mapping"),
        ("options: [\n", "cannot read"),
    ],
)
def test_yaml_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Policy.from_yaml(write(tmp_path, text))


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        Policy.from_yaml(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("attribute", "action", "expected"),
    [
        ("PatientName", "Z", Override(0x00100010, "Z")),
        ("PatientName", "empty", Override(0x00100010, "Z")),
        ("(0010,0020)", "dummy", Override(0x00100020, "D")),
        ("00100020", "u", Override(0x00100020, "U")),
    ],
)
def test_override_spellings(attribute: str, action: str, expected: Override) -> None:
    assert Override.parse(attribute, action) == expected
