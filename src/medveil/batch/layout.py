"""Where a de-identified file goes under ``--out``.

``study`` (the default) builds the path only from values of the *de-identified*
data set: ``<patient pseudonym>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm``,
so no original name, ID or UID can leak through the file system. ``mirror``
keeps the input's relative path; it is opt-in because folder and file names
written by modalities and PACS exports often contain patient names or IDs.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import PurePath
from typing import TYPE_CHECKING

from medveil.errors import DeidentificationError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class Layout(StrEnum):
    """Output folder layout."""

    STUDY = "study"
    MIRROR = "mirror"


MIRROR_WARNING = (
    "--layout mirror keeps input file and folder names, which may contain PHI "
    "(patient names, IDs, dates); use the default study layout for shared data"
)


def relative_output(
    layout: Layout, deidentified: Dataset, patient_pseudonym: str, source: PurePath
) -> PurePath:
    """The path of the output file relative to ``--out``.

    ``source`` is the input path relative to its input root (used by ``mirror``).
    Raises :class:`DeidentificationError` when the study layout lacks a UID,
    because inventing one would silently merge or split series.
    """
    if layout is Layout.MIRROR:
        relative = source
    else:
        relative = PurePath(
            _component("patient pseudonym", patient_pseudonym),
            _component("StudyInstanceUID", deidentified.get("StudyInstanceUID")),
            _component("SeriesInstanceUID", deidentified.get("SeriesInstanceUID")),
            _component("SOPInstanceUID", deidentified.get("SOPInstanceUID")) + ".dcm",
        )
    if relative.is_absolute() or any(part in ("", ".", "..") for part in relative.parts):
        raise DeidentificationError("output path would leave --out")
    return relative


def _component(name: str, value: object) -> str:
    """One path component; UIDs and pseudonyms are already safe, anything else is made so.

    Leading dots become underscores: a kept UID of ``..`` (``--option retain-uids``
    keeps whatever the file holds) must not climb out of ``--out``, and a hidden
    name could pass for a staged ``.part`` file.

    >>> _component("StudyInstanceUID", ".."), _component("SOPInstanceUID", "1.2/3 4")
    ('__', '1.2_3_4')
    """
    text = str(value or "").strip()
    if not text:
        raise DeidentificationError(f"cannot place file in study layout: {name} is empty")
    safe = _UNSAFE.sub("_", text)
    return "_" * (len(safe) - len(safe.lstrip("."))) + safe.lstrip(".")
