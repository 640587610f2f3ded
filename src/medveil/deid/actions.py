"""The action for each attribute: compound codes, option precedence, overrides, dummies.

Actions (PS3.15 Table E.1-1):

=====  ===================================================================
``D``  replace with a dummy value valid for the VR (table below); for the
       patient and for ID-like attributes a keyed pseudonym instead
``Z``  replace with a zero-length value (an empty sequence for SQ)
``X``  remove
``K``  keep (a sequence is kept and its items processed recursively)
``C``  clean: text is scrubbed with the PHI lexicon, DA/DT shifted by the
       patient's date offset (Modified Dates), sequences processed with
       their free text scrubbed; overlay planes are kept for
       :mod:`medveil.pixels` to clean (removed when pixels are off), other
       bitmaps and blobs (curves) removed
``U``  replace each UID with its keyed pseudonym (well-known UIDs kept)
=====  ===================================================================

**Compound codes** (``X/Z``, ``X/D``, ``X/Z/D``, ``Z/D``, ``X/Z/U*``) depend on
the attribute's Type in the IOD (PS3.15 E.3.1). medveil carries no IOD module
tables, so it resolves them by one rule that can neither drop a required
attribute nor keep an original value:

1. a code with ``U`` (``X/Z/U*``, reference sequences) -> ``U``;
2. ``D`` if the code allows it and the attribute is Type 1 in a common
   composite IOD (:data:`TYPE1_IN_COMMON_IODS`: ContentDate, ContentTime,
   AcquisitionDateTime, ObservationDateTime, DeviceSerialNumber);
3. else ``Z`` if the code allows it: a zero-length value is valid for Type 2
   *and* Type 3 attributes, so emptying instead of removing is always safe;
4. else ``X`` (``X/D`` of an attribute that is not Type 1).

PatientName (``Z``) and PatientID (``Z/D``) become ``D`` with keyed
pseudonyms, so that the studies of one patient stay linked without the
identity; an override can still ask for ``Z``.

**Options.** Only the columns of the policy's options count. Among the codes
they give for an attribute, ``C`` wins over ``K`` (a clean is never less
protective than a keep: e.g. Date of Last Detector Calibration under Retain
Device Identity *and* Modified Dates is shifted, not kept), and either wins
over the Basic Profile code. A Retain option's ``K`` therefore applies to
exactly the attributes its column lists.

**Overrides** from the policy file replace the result for their tag.

**Attributes not in the table** are standard attributes PS3.15 does not
consider identifying and are kept, with these fail-closed exceptions:

* every UI value is ``U`` (instance, series, study, frame-of-reference and
  referenced UIDs stay consistent everywhere); Retain UIDs keeps them;
* DA/DT get what listed dates get: shifted under Modified Dates (the whole
  timeline moves together), kept under Full Dates, removed otherwise (newer
  attributes such as StudyUpdateDateTime date the patient's care too);
* a person name (PN) is emptied: a PN names someone by definition;
* a public element unknown to the dictionary (repeating groups such as 60xx count as
  known) is removed unless it is text or a sequence;
* group lengths (stale after editing) and the whole command group
  (0000,eeee) are removed, whatever the table says of its two UID rows: a
  DIMSE message header has no place in a stored object, and pydicom refuses
  to write one;
* Overlay Description (60xx,0022) and Overlay Label (60xx,1500) follow the
  Overlay Comments row (60xx,4000);
* :data:`IDENTIFYING_UNLISTED`, standard attributes that identify although
  the table does not list them (Encrypted Attributes Sequence, birth and
  death dates in an alternative calendar, contact names and URIs, retrieve
  URLs, HL7 instance identifiers, owner IDs, hanging protocol creators and
  users, issuer of patient ID qualifiers, DICOMDIR file-set IDs and paths),
  are removed, emptied or given a dummy (where Type 1);
* kept text that contains a term of the original header's PHI lexicon (a
  name typed into an attribute PS3.15 does not list, an accession number
  used as a local CodeValue) is scrubbed, as a safety net; a kept binary
  value of at most 4 MiB (pixel data excluded) that holds one as text is
  removed; kept dates and times that are not valid DA/DT/TM values are
  emptied. The verification gate checks the rest.

Private elements are removed unless Retain Safe Private keeps them (see
:mod:`medveil.deid.engine` and :mod:`medveil.profiles.private`).

**Dummy values** (``D``), chosen so that a dummy never looks like real data:

==============================  ==============================
VR                              dummy
==============================  ==============================
PN                              ``ANONYMOUS``
DA / DT / TM                    ``19000101`` / ``19000101000000`` / ``000000``
AE, CS, LO, SH, LT, ST, UC, UT  ``ANONYMIZED``
AS                              ``000D``
DS, IS                          ``0``
UR                              ``urn:medveil:anonymized``
binary (OB, OW, UN, OF, ...)    zero bytes (2, 4 or 8, per the VR's unit)
US, SS, UL, SL, FL, FD, ...     ``0``
==============================  ==============================

ID-like attributes (keyword ending in ID, IDs, Number, Numbers or Identifier,
text VR) get ``Pseudonymizer.identifier(value, keyword)`` instead, which is
stable, so an ID replaced in one file matches the same ID in another.

    >>> from medveil.profiles.table import load_table
    >>> table = load_table()
    >>> resolve_basic(table.by_keyword("ContentDate"))
    'D'
    >>> [resolve_basic(table.by_keyword(k)) for k in ("AcquisitionDate", "SeriesDate")]
    ['Z', 'X']
    >>> resolve_row(table.by_keyword("PatientAge"), {Option.RETAIN_PATIENT_CHARACTERISTICS})
    ('K', 'rtnPatCharsOpt')
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from pydicom.datadict import DicomDictionary, dictionary_VR, tag_for_keyword

from medveil.deid.policy import Policy
from medveil.profiles.options import Option
from medveil.profiles.table import ProfileRow, ProfileTable

TYPE1_IN_COMMON_IODS = frozenset(
    {
        "ContentDate",
        "ContentTime",
        "AcquisitionDateTime",
        "ObservationDateTime",
        "DeviceSerialNumber",
    }
)
PSEUDONYMISED_PATIENT = frozenset({"PatientName", "PatientID"})

TEXT_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UT", "UR"})
# Text scrubbed inside D/C sequences, except the code attributes below: a code value such as
# "121071" would look like an ID to the lexicon's patterns, and codes name no one.
FREE_TEXT_VRS = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})
# Text the safety net may scrub: free text, plus application titles and URLs.
FREE_TEXT_VRS_AND_LINKS = FREE_TEXT_VRS | {"AE", "UR"}
CODE_KEYWORDS = frozenset(
    {
        "CodeValue",
        "LongCodeValue",
        "URNCodeValue",
        "CodingSchemeDesignator",
        "CodingSchemeVersion",
        "ContextIdentifier",
        "MappingResource",
    }
)
CODE_TAGS = frozenset(tag for keyword in CODE_KEYWORDS if (tag := tag_for_keyword(keyword)))
DATE_VRS = frozenset({"DA", "DT"})
BINARY_UNIT = {"OB": 2, "OW": 2, "UN": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}
NUMBER_VRS = frozenset({"US", "SS", "UL", "SL", "FL", "FD", "SV", "UV", "AT"})
STRING_DUMMIES = {
    "PN": "ANONYMOUS",
    "DA": "19000101",
    "DT": "19000101000000",
    "TM": "000000",
    "AS": "000D",
    "DS": "0",
    "IS": "0",
    "UR": "urn:medveil:anonymized",
}
TEXT_DUMMY = "ANONYMIZED"
_ID_SUFFIXES = ("ID", "IDs", "Number", "Numbers", "Identifier")
# Standard attributes that identify but that Table E.1-1 (2025b) does not list: medveil's
# additions, whatever the options. D where the IOD makes the attribute Type 1.
IDENTIFYING_UNLISTED: dict[int, str] = {
    0x04000500: "X",  # EncryptedAttributesSequence: another party's copy of the originals
    0x00100033: "X",  # PatientBirthDateInAlternativeCalendar
    0x00100034: "X",  # PatientDeathDateInAlternativeCalendar
    0x00100035: "X",  # PatientAlternativeCalendar (says where the patient may be from)
    0x0074100A: "X",  # ContactURI
    0x0074100C: "X",  # ContactDisplayName
    0x00400400: "X",  # CommentsOnTheScheduledProcedureStep
    0x0040E001: "X",  # HL7InstanceIdentifier (holds the patient's HL7 ID)
    0x0040E010: "X",  # RetrieveURI (host names, IDs in the query)
    0x00081190: "X",  # RetrieveURL
    0x00209453: "X",  # FrameLabel (Type 3): free text, seen naming staff
    0x21000160: "X",  # OwnerID
    0x00720008: "D",  # HangingProtocolCreator (Type 1 in the Hanging Protocol IOD)
    0x00720010: "X",  # HangingProtocolUserGroupName
    0x0072000E: "X",  # HangingProtocolUserIdentificationCodeSequence
    0x00100024: "X",  # IssuerOfPatientIDQualifiersSequence (IssuerOfPatientID itself is X)
    0x00041130: "Z",  # FileSetID (DICOMDIR, Type 2): media labels carry MRNs
    0x00041141: "X",  # FileSetDescriptorFileID (DICOMDIR): a path, often the patient's name
    0x00041500: "D",  # ReferencedFileID (DICOMDIR records): keyed tokens, Type 1C
}
# Overlay Description (60xx,0022) and Overlay Label (60xx,1500): free text like Overlay Comments.
OVERLAY_TEXT_ELEMENTS = frozenset({0x0022, 0x1500})
# The file meta group: its SOP instance UID gets the pseudonym of SOPInstanceUID (U unless
# Retain UIDs); the group length, version, SOP class, transfer syntax and implementation (which
# the engine replaces with medveil's) are kept, and everything else goes (the engine drops it,
# the gate checks it): application entity titles, presentation addresses (host names, IP
# addresses), the RTV source and flow identifiers, private information, elements no edition
# of the standard has yet. The gate searches binary values of no other group, so the meta
# group is an allow-list.
MEDIA_STORAGE_SOP_INSTANCE_UID = 0x00020003
META_KEPT = frozenset(
    {0x00020000, 0x00020001, 0x00020002, MEDIA_STORAGE_SOP_INSTANCE_UID, 0x00020010, 0x00020012}
    | {0x00020013}
)


@dataclass(frozen=True, slots=True)
class Rule:
    """The resolved action for one attribute and where it came from.

    ``source`` is ``"basic"``, an option column (``"rtnUIDsOpt"``),
    ``"override"`` or ``"default"`` (not in the table). Verification uses it:
    a value kept on purpose by a Retain option or an override is not
    searched for PHI, since keeping it was the request.
    """

    action: str
    source: str

    @property
    def retained_on_request(self) -> bool:
        """Kept because an option or an override asked for it (identity included).

        Patient characteristics are not: their values (sex, ethnic group, smoking
        status...) are categories, so a name found in one is junk to remove.
        """
        return self.source not in ("basic", "default", "rtnPatCharsOpt") and self.action == "K"


def resolve_basic(row: ProfileRow) -> str:
    """The single Basic Profile action of ``row`` (compound codes per the module docstring)."""
    codes = row.basic.replace("*", "").split("/")
    if row.keyword in PSEUDONYMISED_PATIENT:
        return "D"
    if len(codes) == 1:
        return codes[0]
    if "U" in codes:
        return "U"
    if "D" in codes and row.keyword in TYPE1_IN_COMMON_IODS:
        return "D"
    return "Z" if "Z" in codes else "X"


def resolve_row(row: ProfileRow, options: Collection[Option]) -> tuple[str, str]:
    """(action, source) of ``row`` under ``options``: C over K over the Basic Profile."""
    granted = {
        column: row.options[column]
        for option in options
        if (column := option.column) is not None and column in row.options
    }
    for wanted in ("C", "K"):
        for column, code in sorted(granted.items()):
            if code == wanted:
                return wanted, column
    return resolve_basic(row), "basic"


class RuleBook:
    """A policy compiled against the table: the rule for a public tag in one dict look-up.

    Built once per :class:`~medveil.deid.engine.Deidentifier`; wildcard rows
    (curves, overlays) are resolved on first sight of a concrete tag and
    cached. Private tags are not handled here (their rule needs the creator).
    """

    def __init__(self, policy: Policy, table: ProfileTable) -> None:
        self.policy = policy
        self.table = table
        self._rules: dict[int, Rule] = {
            tag: Rule(*resolve_row(row, policy.options)) for tag, row in table.exact_rows.items()
        }
        self._rules.update(
            {tag: Rule(action, "default") for tag, action in IDENTIFYING_UNLISTED.items()}
        )
        self._overrides: dict[int, Rule] = {
            o.tag: Rule(o.action, "override") for o in policy.overrides
        }
        self._rules.update(self._overrides)
        self.retain_uids = policy.has(Option.RETAIN_UIDS)
        self.full_dates = policy.has(Option.RETAIN_LONG_FULL_DATES)
        self.modified_dates = policy.has(Option.RETAIN_LONG_MODIFIED_DATES)

    def listed(self, tag: int) -> Rule | None:
        """The rule of a tag the table (or an override) names, resolving wildcards once."""
        rule = self._rules.get(tag)
        if rule is None and tag >> 24 in (0x50, 0x60):
            if tag >> 24 == 0x60 and tag & 0xFFFF in OVERLAY_TEXT_ELEMENTS:
                tag_as = (tag & 0xFFFF0000) | 0x4000  # described like Overlay Comments
                row = self.table.lookup(tag_as)
            else:
                row = self.table.lookup(tag)
            if row is not None:
                rule = Rule(*resolve_row(row, self.policy.options))
                self._rules[tag] = rule
        return rule

    def tags_with_action(self, *actions: str) -> frozenset[int]:
        """The exact tags (table rows, additions, overrides) whose action is one of *actions*."""
        return frozenset(tag for tag, rule in self._rules.items() if rule.action in actions)

    def override(self, tag: int) -> Rule | None:
        """The policy file's rule for ``tag``, if any (used for private tags too)."""
        return self._overrides.get(tag)

    @property
    def overrides(self) -> frozenset[int]:
        """The tags the policy file overrides."""
        return frozenset(self._overrides)

    def unlisted(self, tag: int, vr: str) -> Rule:
        """The rule of a public attribute the table does not name (module docstring)."""
        if vr == "UI":
            if self.retain_uids or tag in TYPE_UIDS:
                return Rule("K", "default")
            return Rule("U", "default")
        if vr in DATE_VRS:
            if self.full_dates:
                return Rule("K", "default")
            return Rule("C", "default") if self.modified_dates else Rule("X", "default")
        if vr == "PN":
            return Rule("Z", "default")
        if vr not in TEXT_VRS and vr != "SQ" and not dictionary_vr(tag):
            # a public tag no dictionary knows, holding bytes or numbers: nothing says what
            # it is, and it cannot be searched as text (a name stored as OW, FL...)
            return Rule("X", "default")
        return Rule("K", "default")


def _type_uids() -> frozenset[int]:
    """Public UI attributes that name a kind of thing, never an instance: SOP classes
    (``ReferencedSOPClassUID``, a vendor's private SOP class too), coding schemes, a
    creator's software version. Replacing them would break the reference for nothing."""
    return frozenset(
        tag
        for tag, entry in DicomDictionary.items()
        if entry[0] == "UI"
        and (entry[4].endswith("ClassUID") or entry[4] in ("CodingSchemeUID", "CreatorVersionUID"))
    )


TYPE_UIDS = _type_uids()


def dictionary_vr(tag: int) -> str:
    """The data dictionary's VR of a public tag, repeating groups included (``""`` when it
    does not know the tag; ``dictionary_has_tag`` says no to (6000,0010) OverlayRows).

    >>> dictionary_vr(0x60000010), dictionary_vr(0x00100010), dictionary_vr(0x0018FFF0)
    ('US', 'PN', '')
    """
    try:
        return dictionary_VR(tag)
    except KeyError:
        return ""


def is_id_like(keyword: str, vr: str) -> bool:
    """Whether a D on this attribute should be a stable keyed identifier, not a constant.

    >>> is_id_like("DeviceSerialNumber", "LO"), is_id_like("StudyDate", "DA")
    (True, False)
    """
    return vr in TEXT_VRS and keyword.endswith(_ID_SUFFIXES)


def dummy_value(vr: str) -> str | bytes | int:
    """The constant dummy of a VR (table in the module docstring).

    >>> [dummy_value(vr) for vr in ("PN", "DA", "LO", "OB", "US")]
    ['ANONYMOUS', '19000101', 'ANONYMIZED', b'\\x00\\x00', 0]
    """
    if vr in STRING_DUMMIES:
        return STRING_DUMMIES[vr]
    if vr in BINARY_UNIT:
        return bytes(BINARY_UNIT[vr])
    if vr in NUMBER_VRS:
        return 0
    return TEXT_DUMMY
