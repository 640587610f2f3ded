"""The PS3.15 Annex E profile options and medveil's named presets.

Each :class:`Option` carries its CID 7050 code, recorded in
DeidentificationMethodCodeSequence (0012,0064) when it is applied. Note that
113106 is *Full Dates* and 113107 *Modified Dates* (some tools swap them).

    >>> Option.RETAIN_LONG_MODIFIED_DATES.code
    '113107'
    >>> Option.CLEAN_DESCRIPTORS in PRESETS["research"]
    True
"""

from __future__ import annotations

from enum import StrEnum

BASIC_PROFILE_CODE = ("113100", "Basic Application Confidentiality Profile")
CODING_SCHEME = "DCM"


class Option(StrEnum):
    """A profile option of PS3.15 Table E.1-1; the value is its CLI spelling."""

    CLEAN_PIXEL_DATA = "clean-pixel-data"
    CLEAN_RECOGNIZABLE_VISUAL_FEATURES = "clean-recognizable-visual-features"
    CLEAN_GRAPHICS = "clean-graphics"
    CLEAN_STRUCTURED_CONTENT = "clean-structured-content"
    CLEAN_DESCRIPTORS = "clean-descriptors"
    RETAIN_LONG_FULL_DATES = "retain-long-full-dates"
    RETAIN_LONG_MODIFIED_DATES = "retain-long-modified-dates"
    RETAIN_PATIENT_CHARACTERISTICS = "retain-patient-characteristics"
    RETAIN_DEVICE_IDENTITY = "retain-device-identity"
    RETAIN_UIDS = "retain-uids"
    RETAIN_SAFE_PRIVATE = "retain-safe-private"
    RETAIN_INSTITUTION_IDENTITY = "retain-institution-identity"

    @property
    def code(self) -> str:
        """CID 7050 code value (coding scheme DCM)."""
        return _CODES[self][0]

    @property
    def meaning(self) -> str:
        """CID 7050 code meaning."""
        return _CODES[self][1]

    @property
    def column(self) -> str | None:
        """Key of this option's column in the Table E.1-1 JSON, if the table has one."""
        return _COLUMNS.get(self)


_CODES: dict[Option, tuple[str, str]] = {
    Option.CLEAN_PIXEL_DATA: ("113101", "Clean Pixel Data Option"),
    Option.CLEAN_RECOGNIZABLE_VISUAL_FEATURES: (
        "113102",
        "Clean Recognizable Visual Features Option",
    ),
    Option.CLEAN_GRAPHICS: ("113103", "Clean Graphics Option"),
    Option.CLEAN_STRUCTURED_CONTENT: ("113104", "Clean Structured Content Option"),
    Option.CLEAN_DESCRIPTORS: ("113105", "Clean Descriptors Option"),
    Option.RETAIN_LONG_FULL_DATES: (
        "113106",
        "Retain Longitudinal Temporal Information Full Dates Option",
    ),
    Option.RETAIN_LONG_MODIFIED_DATES: (
        "113107",
        "Retain Longitudinal Temporal Information Modified Dates Option",
    ),
    Option.RETAIN_PATIENT_CHARACTERISTICS: ("113108", "Retain Patient Characteristics Option"),
    Option.RETAIN_DEVICE_IDENTITY: ("113109", "Retain Device Identity Option"),
    Option.RETAIN_UIDS: ("113110", "Retain UIDs Option"),
    Option.RETAIN_SAFE_PRIVATE: ("113111", "Retain Safe Private Option"),
    Option.RETAIN_INSTITUTION_IDENTITY: ("113112", "Retain Institution Identity Option"),
}

_COLUMNS: dict[Option, str] = {
    Option.RETAIN_SAFE_PRIVATE: "rtnSafePrivOpt",
    Option.RETAIN_UIDS: "rtnUIDsOpt",
    Option.RETAIN_DEVICE_IDENTITY: "rtnDevIdOpt",
    Option.RETAIN_INSTITUTION_IDENTITY: "rtnInstIdOpt",
    Option.RETAIN_PATIENT_CHARACTERISTICS: "rtnPatCharsOpt",
    Option.RETAIN_LONG_FULL_DATES: "rtnLongFullDatesOpt",
    Option.RETAIN_LONG_MODIFIED_DATES: "rtnLongModifDatesOpt",
    Option.CLEAN_DESCRIPTORS: "cleanDescOpt",
    Option.CLEAN_STRUCTURED_CONTENT: "cleanStructContOpt",
    Option.CLEAN_GRAPHICS: "cleanGraphOpt",
}

#: Named option sets. ``research`` is the default of ``medveil deid``.
PRESETS: dict[str, frozenset[Option]] = {
    "basic": frozenset(),
    "research": frozenset(
        {
            Option.RETAIN_PATIENT_CHARACTERISTICS,
            Option.RETAIN_LONG_MODIFIED_DATES,
            Option.CLEAN_DESCRIPTORS,
            Option.CLEAN_STRUCTURED_CONTENT,
            Option.CLEAN_GRAPHICS,
            Option.CLEAN_PIXEL_DATA,
        }
    ),
}
DEFAULT_PRESET = "research"
