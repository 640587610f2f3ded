"""Recording in the header what de-identification was done (PS3.15 E.1.1, PS3.3 C.12.1).

* PatientIdentityRemoved (0012,0062) = ``YES``;
* DeidentificationMethod (0012,0063): the tool, the profile edition and the
  preset, one value each (LO allows 64 characters per value);
* DeidentificationMethodCodeSequence (0012,0064): CID 7050 ``113100`` (Basic
  Profile) and one item per applied option, in code order;
* LongitudinalTemporalInformationModified (0028,0303): ``UNMODIFIED`` under
  Retain Longitudinal Full Dates, ``MODIFIED`` under Modified Dates,
  ``REMOVED`` otherwise (the Basic Profile empties or removes dates).

Any previous values of these attributes are replaced: they described an
earlier pass, and the options recorded must be the ones this output obeys.

    >>> from pydicom import Dataset
    >>> from medveil.deid.policy import Policy
    >>> ds = Dataset()
    >>> record_deidentification(ds, Policy.preset_named("research"))
    >>> [item.CodeValue for item in ds.DeidentificationMethodCodeSequence]
    ['113100', '113101', '113103', '113104', '113105', '113107', '113108']
    >>> ds.LongitudinalTemporalInformationModified
    'MODIFIED'
"""

from __future__ import annotations

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from medveil import __version__
from medveil.deid.policy import Policy
from medveil.profiles.options import BASIC_PROFILE_CODE, CODING_SCHEME, Option
from medveil.profiles.table import load_table

CODE_VALUE, CODING_SCHEME_DESIGNATOR, CODE_MEANING = 0x00080100, 0x00080102, 0x00080104


def _code_item(value: str, meaning: str) -> Dataset:
    """One CID 7050 code item, built element by element (this runs for every output file,
    and setting attributes by keyword costs several times more)."""
    item = Dataset()
    for tag, vr, text in (
        (CODE_VALUE, "SH", value),
        (CODING_SCHEME_DESIGNATOR, "SH", CODING_SCHEME),
        (CODE_MEANING, "LO", meaning),
    ):
        item.add(DataElement(tag, vr, text))
    return item


def temporal_status(policy: Policy) -> str:
    """The LongitudinalTemporalInformationModified value for ``policy``."""
    if policy.has(Option.RETAIN_LONG_FULL_DATES):
        return "UNMODIFIED"
    if policy.has(Option.RETAIN_LONG_MODIFIED_DATES):
        return "MODIFIED"
    return "REMOVED"


def record_deidentification(ds: Dataset, policy: Policy) -> None:
    """Write the de-identification attributes into ``ds`` (the output dataset)."""
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = [
        f"medveil {__version__}",
        f"PS3.15 Table E.1-1 {load_table().edition}",
        f"preset {policy.preset}",
    ]
    items = [_code_item(*BASIC_PROFILE_CODE)]
    items += [_code_item(option.code, option.meaning) for option in policy.ordered_options()]
    ds.DeidentificationMethodCodeSequence = Sequence(items)
    ds.LongitudinalTemporalInformationModified = temporal_status(policy)
