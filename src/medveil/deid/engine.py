"""The header de-identification engine: one pass over a dataset, fail closed.

:class:`Deidentifier` compiles its :class:`~medveil.deid.policy.Policy` once
(:class:`~medveil.deid.actions.RuleBook`) and then, per dataset:

1. decodes the text of a copy of the input (:func:`decoded_copy`) and builds
   the PHI lexicon of that *original* header (:class:`PhiLexicon`);
2. builds a new dataset element by element (the input is never modified):
   each public element gets the action of its rule (see
   :mod:`medveil.deid.actions` for how the table, compound codes, options and
   overrides resolve), sequences are processed item by item at any depth,
   private elements are removed unless Retain Safe Private keeps them under
   TCIA's KB, the file meta group is handled like the rest (its
   MediaStorageSOPInstanceUID gets the same pseudonym as SOPInstanceUID;
   the 128-byte preamble is zeroed);
   elements that are kept unchanged are shared, not decoded (pixel data is
   never decoded or copied); a malformed element (an invalid VR code, a
   value pydicom cannot convert) refuses the file;
   encapsulated JPEG / JPEG 2000 frames lose their COM and APPn metadata
   segments (:mod:`medveil.deid.codestream`, lossless; the output gets a new
   pixel data element only when something was removed);
3. records what was done (:mod:`medveil.deid.record`);
4. writes text as UTF-8 when anything non-ASCII is left
   (:func:`~medveil.deid.charset.normalise_character_set`);
5. verifies the result (:func:`~medveil.deid.verify.verify`): if it cannot
   show that no original identifying value survived, it raises
   :class:`~medveil.errors.DeidentificationError` and nothing is returned.

Private elements under Retain Safe Private, by KB disposition: ``k`` kept
(a private sequence is kept and its items processed with the same rules),
``h`` replaced by a keyed pseudonym (``Pseudonymizer.uid`` for UID-shaped
values, ``identifier`` for other text), ``o`` dates shifted like public ones
(kept under Full Dates, removed otherwise), ``oi`` integer timestamps in
seconds moved by the same offset (same conditions), ``d`` and unknown
elements removed; values a disposition cannot be applied to (binary) are
removed. A private creator element is kept only when one of its block's
elements is.
"""

from __future__ import annotations

import codecs
import copy
import re
import secrets
import struct
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)
from pydicom.valuerep import VR as VR_

from medveil import __version__
from medveil.deid.actions import (
    BINARY_UNIT,
    CODE_TAGS,
    DATE_VRS,
    FREE_TEXT_VRS,
    FREE_TEXT_VRS_AND_LINKS,
    MEDIA_STORAGE_SOP_INSTANCE_UID,
    META_KEPT,
    NUMBER_VRS,
    TEXT_VRS,
    Rule,
    RuleBook,
    dictionary_vr,
    dummy_value,
    is_id_like,
)
from medveil.deid.charset import decode_text, normalise_character_set
from medveil.deid.codestream import strip_codestream_metadata
from medveil.deid.dates import DateValueError, cap_age, shift_date_value
from medveil.deid.embedded import embedded_payloads
from medveil.deid.encoding import read_encoding
from medveil.deid.identity import IdentityRecord, identity_record
from medveil.deid.policy import PixelMode, Policy
from medveil.deid.pseudonyms import Pseudonymizer, unpadded
from medveil.deid.record import record_deidentification
from medveil.deid.text import MARKER, PATTERN_ALERT_KINDS, SOURCE_TAGS, PhiLexicon, fit_to_vr
from medveil.deid.verify import (
    ISO2022_ESCAPE,
    NOT_PERSONAL_TAGS,
    TermFinder,
    raw_ascii_text,
    term_finder,
    text_values,
    verify,
)
from medveil.errors import DeidentificationError
from medveil.profiles.options import Option
from medveil.profiles.private import PrivateKb, load_private_kb, private_key, public_key
from medveil.profiles.table import load_table

PATIENT_ID = 0x00100020
PATIENT_NAME = 0x00100010
PATIENT_AGE = 0x00101010
OVERLAY_DATA = 0x60003000
ZERO_PREAMBLE = bytes(128)

#: (is_implicit_VR, is_little_endian) as read -> the transfer syntax that encodes it.
_SYNTAX_OF_ENCODING: dict[tuple[bool | None, bool | None], UID] = {
    (True, True): ImplicitVRLittleEndian,
    (False, True): ExplicitVRLittleEndian,
    (False, False): ExplicitVRBigEndian,
}

ID_LENGTH_LIMITS = {"ReferencedFileID": 8}  # PS3.10 file ID components: 8 characters
_UID_SHAPE = re.compile(r"[0-9]+(\.[0-9]+)+")
# five components or more: "1.7.1.24" in a software version is a version, not a UID
_UID_IN_TEXT = re.compile(r"(?<![\d.])[012](?:\.\d+){4,}(?![\d.])")
_DATE_TIME_SHAPES = {
    "DA": re.compile(r"\d{8}|\d{4}\.\d{2}\.\d{2}"),
    "DT": re.compile(r"\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?"),
    "TM": re.compile(r"\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?|\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"),
}
_BLOB_LIMIT = 4 * 1024 * 1024
_GLUED_LIMIT = 64 * 1024  # private values searched for terms glued into other bytes
_NUMBER_FORMATS = {"US": "H", "SS": "h", "UL": "I", "SL": "i", "FL": "f", "FD": "d", "SV": "q"}
_NUMBER_FORMATS |= {"UV": "Q", "AT": "I"}
_KNOWN_VRS = frozenset(member.value for member in VR_)
_STRING_VRS = TEXT_VRS | DATE_VRS | {"TM", "AS", "DS", "IS", "UI"}
#: Public binary VRs searched for names as text. Not OW, OF and the like: public words and
#: floats are numbers (LUTs, palettes, waveforms), whose bytes spell a digit-run ID by chance
#: (a 12-bit identity LUT read as UTF-16 holds "0123456789") and must not lose their data.
_BLOB_VRS = frozenset({"OB", "UN"})
_NUMBER_STRINGS = frozenset({"IS", "DS"})
#: How text may sit inside a binary blob: Western, Unicode, Chinese, Japanese, Korean.
_UTF16 = ("utf-16-le", "utf-16-be")
_BLOB_CODECS = (
    *("latin-1", "utf-8", *_UTF16, "utf-32-le", "utf-32-be", "gb18030", "shift_jis"),
    *("iso2022_jp", "euc_jp", "euc_kr", "cp850"),
)
#: What pydicom raises on an element it cannot parse or decode (OSError: "No tag to read"
#: in a sequence of garbage; struct.error: a value too short for its type).
_UNREADABLE = (
    ValueError, TypeError, KeyError, AttributeError, NotImplementedError, OSError, struct.error,
)  # fmt: skip
#: VRs a writer may give text it does not know how to type (unknown, or plain bytes).
_TEXT_CARRIERS = frozenset({"UN", "OB", "OW"})
_READ_AS_TEXT = _STRING_VRS | _TEXT_CARRIERS  # VRs a public text element may arrive with
_INTEGER_VRS = frozenset({"SL", "SS", "UL", "US", "SV", "UV", "IS"})
_SECONDS_PER_DAY = 86400


@dataclass
class DeidResult:
    """The outcome of de-identifying one dataset.

    ``uid_map`` holds every UID replaced in this dataset (original -> new);
    ``lexicon`` is built from the original header and is what the pixel
    cleaner and the leak checks look for.
    """

    dataset: Dataset
    patient_pseudonym: str
    date_offset_days: int | None
    uid_map: dict[str, str]
    lexicon: PhiLexicon
    original: Dataset = field(repr=False)

    def identity_record(self) -> IdentityRecord:
        """What the vault stores to allow authorised re-identification (built on demand)."""
        return identity_record(
            self.original, self.patient_pseudonym, self.uid_map, self.date_offset_days
        )


class Deidentifier:
    """De-identifies datasets under one policy with one pseudonymizer.

    >>> from pydicom import Dataset
    >>> ds = Dataset()
    >>> ds.PatientName, ds.PatientID, ds.StudyDescription = "Smith^John", "12345678", "CT HEAD"
    >>> engine = Deidentifier(Policy.preset_named("basic"), Pseudonymizer(bytes(32)))
    >>> out = engine.run(ds).dataset
    >>> str(out.PatientName).startswith("MV^"), "StudyDescription" in out
    (True, False)
    >>> str(ds.PatientName)                      # the input is untouched
    'Smith^John'
    """

    def __init__(self, policy: Policy, pseudonymizer: Pseudonymizer) -> None:
        self.policy = policy
        self.pseudonymizer = pseudonymizer
        self.rules = RuleBook(policy, load_table())
        self.kb: PrivateKb | None = (
            load_private_kb() if policy.has(Option.RETAIN_SAFE_PRIVATE) else None
        )
        self._vr_cache: dict[int, str] = {}
        # text the engine removes or empties unread, and the lexicon does not take from
        self._undecoded = _Undecoded(
            frozenset(
                tag
                for tag in self.rules.tags_with_action("X", "Z")
                if tag not in SOURCE_TAGS and dictionary_vr(tag) != "PN"
            ),
            private=self.kb is None and not any((tag >> 16) & 1 for tag in self.rules.overrides),
        )

    def run(self, ds: Dataset) -> DeidResult:
        """De-identify ``ds`` into a new dataset; raises DeidentificationError if not clean."""
        try:
            work = decoded_copy(ds, skip=self._undecoded)
            lexicon = PhiLexicon.from_dataset(work)
            job = _Job(self, work, lexicon)
            out = job.build()
            strip_codestream_metadata(out)  # F28: text inside JPEG, J2K, JPEG XL, video streams
            record_deidentification(out, self.policy)
            normalise_character_set(out)
        except DeidentificationError:
            raise
        except _UNREADABLE as exc:
            # A malformed element pydicom cannot decode: text we cannot read is text we cannot
            # prove clean. The message names the error type only (values may be PHI).
            raise DeidentificationError(f"unreadable element ({type(exc).__name__})") from exc
        verify(
            original=work,
            output=out,
            rules=self.rules,
            lexicon=lexicon,
            generated=job.generated,
        )
        return DeidResult(
            dataset=out,
            patient_pseudonym=job.patient_pseudonym,
            date_offset_days=job.offset,
            uid_map=job.uid_map,
            lexicon=lexicon,
            original=ds,
        )

    def vr_of(self, elem: DataElement | RawDataElement) -> str:
        """The VR to handle an element by: the dictionary's for a public tag it knows (a file
        may say UN, or lie: a SOPInstanceUID written as LO is still a UID), else the
        element's own."""
        vr = elem.VR
        tag = int(elem.tag)
        if (tag >> 16) & 1:
            return str(vr or "UN")
        known = self._vr_cache.get(tag)
        if known is None:
            known = self._vr_cache[tag] = dictionary_vr(tag)
        if not known:
            return str(vr or "UN")
        if " or " in known:  # ambiguous (US or SS, OB or OW): the element says which
            return str(vr) if vr not in (None, "UN") else known.split(" or ")[0]
        return known


@dataclass(frozen=True)
class _Undecoded:
    """The text elements decoding may leave alone: the public tags the rules remove or
    empty, and (with ``private``: no Retain Safe Private, no private override) every
    private element, all of which go. Private person names are decoded regardless
    (:func:`~medveil.deid.charset.decode_text`): the lexicon learns names from them."""

    public: frozenset[int]
    private: bool

    def __contains__(self, tag: object) -> bool:
        if tag in self.public:
            return True
        return self.private and isinstance(tag, int) and bool((tag >> 16) & 1)


class _Job:
    """The state of one :meth:`Deidentifier.run`: the patient, the offset, the UID map."""

    def __init__(self, engine: Deidentifier, ds: Dataset, lexicon: PhiLexicon) -> None:
        self.engine = engine
        self.lexicon = lexicon
        self.terms = term_finder(lexicon.terms, lexicon.name_sounds)
        self.rules = engine.rules
        self.pseudonymizer = engine.pseudonymizer
        self.source = ds
        self.patient_id = str(ds.get("PatientID", "") or "")
        self.patient_pseudonym = self.pseudonymizer.patient_id(self.patient_id)
        self.offset: int | None = (
            self.pseudonymizer.date_offset_days(self.patient_id)
            if self.rules.modified_dates
            else None
        )
        self.uid_map: dict[str, str] = {}
        self.generated: set[str] = {self.patient_pseudonym}
        self._alert_kinds = (
            PATTERN_ALERT_KINDS - {"date"} if self.rules.full_dates else PATTERN_ALERT_KINDS
        )
        # binary values are read in the common encodings and in the file's own character set
        self._blob_codecs = _blob_codecs(ds._character_set)

    # -- the walk ---------------------------------------------------------------------------

    def build(self) -> Dataset:
        """The de-identified copy of the source dataset, file meta included."""
        src = self.source
        out: Dataset
        meta = getattr(src, "file_meta", None)
        new_meta = self._meta(meta) if isinstance(meta, Dataset) else None
        if new_meta is not None and "TransferSyntaxUID" not in new_meta:
            # Files without a meta group (no preamble, read with force=True) declare no
            # encoding; record the one they were read in so writers and decoders agree.
            encoding = _SYNTAX_OF_ENCODING.get(src.original_encoding)
            if encoding is not None:
                new_meta.TransferSyntaxUID = encoding
        if isinstance(src, FileDataset):
            out = FileDataset(
                src.filename or "",
                Dataset(),
                preamble=ZERO_PREAMBLE,  # a source's preamble is free for anything, PHI too
                file_meta=new_meta,
            )
        else:
            out = Dataset()
            if new_meta is not None:
                out.file_meta = new_meta
        implicit, little = src.original_encoding
        out.set_original_encoding(implicit, little, src.original_character_set)
        self._walk(src, out, (), scrub=False)
        return out

    def _meta(self, meta: Dataset) -> FileMetaDataset:
        """The new file meta: medveil writes the file, so the implementation is medveil's
        (the source's ImplementationClassUID/VersionName could be anything, PHI included)."""
        new = FileMetaDataset()
        for elem in meta:
            tag = int(elem.tag)
            if tag not in META_KEPT:
                continue
            if tag == MEDIA_STORAGE_SOP_INSTANCE_UID and not self.rules.retain_uids:
                new.add_new(tag, "UI", self._uid(str(elem.value)))
            else:
                _put(new, _copy(elem))  # values are str/bytes: a shallow copy owns them
        new.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        new.ImplementationVersionName = f"MEDVEIL_{__version__}"[:16]
        return new

    def _walk(self, src: Dataset, out: Dataset, parents: tuple[str, ...], scrub: bool) -> None:
        kept_creators: set[int] = set()
        for key in list(src.keys()):
            tag = int(key)
            if (tag >> 16) & 1:
                creator = self._private(src, out, tag, parents)
                if creator is not None:
                    kept_creators.add(creator)
                continue
            if tag & 0xFFFF == 0 or tag >> 16 == 0:  # group lengths (stale), command set
                continue
            if parents and tag >> 16 == 0x7FE0:
                continue  # an image inside an item: no pixel cleaning reaches it (icons go too)
            raw = src.get_item(tag)
            rule = self.rules.listed(tag)
            vr = self.engine.vr_of(raw)
            if rule is None:
                rule = self.rules.unlisted(tag, vr)
                # (a kept code string is searched once, where it is kept: _keep)
                if rule.action == "K" and vr != "CS" and self._needs_cleaning(src, tag, vr, scrub):
                    rule = Rule("C", "default")
            self._apply(rule, tag, vr, src, out, parents, scrub)
        for creator in kept_creators:
            _put(out, _copy(src.get_item(creator)))

    def _needs_cleaning(
        self, src: Dataset, tag: int, vr: str, scrub: bool, patterns: bool = True
    ) -> bool:
        """Whether an element kept by default is text to scrub: everywhere inside D/C
        sequences (code values excepted), and anywhere it holds a term of the lexicon (the
        safety net that lets a file with a name in an attribute PS3.15 does not list be
        released clean; it also catches an accession number used as a local CodeValue), or
        PHI a pattern finds (an e-mail address, a phone number, a number after an ID label,
        a name after a title, a date unless dates are kept; code values excepted). A code
        string only counts when it holds a term: its values are defined terms, so a name
        there (``ImageType`` ``ORIGINAL\\SMITH``) is typed in by someone, whereas patterns
        would mistake codes for PHI."""
        if vr == "CS":
            return self._holds_term(src, tag)
        if vr not in FREE_TEXT_VRS_AND_LINKS:
            return False
        if scrub and vr in FREE_TEXT_VRS and tag not in CODE_TAGS:
            return True
        texts = text_values(src[tag].value)
        if self.terms is not None and any(self.terms.search(text) for text in texts):
            return True
        return (
            patterns
            and tag not in CODE_TAGS
            and tag not in NOT_PERSONAL_TAGS  # a product's versions and build dates
            and any(self.lexicon.has_pattern_phi(text, self._alert_kinds) for text in texts)
        )

    def _apply(
        self,
        rule: Rule,
        tag: int,
        vr: str,
        src: Dataset,
        out: Dataset,
        parents: tuple[str, ...],
        scrub: bool,
    ) -> None:
        """Write the element ``tag`` of ``src`` into ``out`` as ``rule`` says.

        ``parents`` is the path of the enclosing sequences, ``scrub`` whether free text is
        scrubbed there.
        """
        action = rule.action
        if action == "X":
            return
        if vr == "SQ":
            self._sequence(action, tag, src, out, parents, scrub or action in ("D", "C"))
            return
        if action == "K":
            self._keep(rule, tag, vr, src, out)
            return
        elem = src[tag]
        if action == "Z":
            out.add_new(tag, vr, _empty(vr))
        elif action == "D":
            out.add_new(tag, vr, self._dummy(elem, src))
        elif action == "U":
            out.add_new(tag, vr, self._uid_value(elem) if vr == "UI" else self._dummy(elem, src))
        else:
            self._clean(tag, vr, elem, out)

    def _keep(self, rule: Rule, tag: int, vr: str, src: Dataset, out: Dataset) -> None:
        """K, with the checks a kept value still gets: dates and times must be valid, ages
        are capped, characteristics, code strings, number strings and small binary values
        must not hold lexicon terms."""
        raw = src.get_item(tag)
        if vr in DATE_VRS or vr == "TM":
            out.add_new(tag, vr, _map_text(src[tag].value, lambda v: _valid_or_empty(v, vr)))
        elif tag == PATIENT_AGE:
            out.add_new(tag, vr, _map_text(src[tag].value, _cap_age_or_empty))
        elif vr in _NUMBER_STRINGS and not rule.retained_on_request and self._holds_term(src, tag):
            out.add_new(tag, vr, _empty(vr))  # an MRN or a birth date typed into a number
        elif (
            rule.source == "rtnPatCharsOpt" or (vr == "CS" and not rule.retained_on_request)
        ) and self._needs_cleaning(
            src,
            tag,
            vr,
            False,
            patterns=False,  # a characteristic may cite a URL or a date
        ):
            self._clean(tag, vr, src[tag], out)
        elif vr in _BLOB_VRS and _small_blob(tag, raw) and self._bytes_name_someone(raw.value):
            return
        else:
            _put(out, _copy(raw))

    def _sequence(
        self,
        action: str,
        tag: int,
        src: Dataset,
        out: Dataset,
        parents: tuple[str, ...],
        scrub: bool,
    ) -> None:
        """Z empties a sequence; K, U, D and C keep it and process every item.

        Under D or C (and below them) text the table does not list is
        scrubbed with the lexicon (code values excepted): that is how a dummy or cleaned Content
        Sequence loses the names typed into its TextValue items while keeping
        its structure, which the IOD requires.
        """
        if action == "Z":
            out.add_new(tag, "SQ", [])
            return
        self._items(tag, src, out, (*parents, public_key(tag)), scrub)

    def _items(
        self, tag: int, src: Dataset, out: Dataset, path: tuple[str, ...], scrub: bool
    ) -> None:
        """The sequence ``tag`` of ``src`` into ``out``, each item walked under ``path``."""
        items = []
        for item in src[tag].value:
            new_item = _new_item(item)
            self._walk(item, new_item, path, scrub)
            items.append(new_item)
        out.add_new(tag, "SQ", Sequence(items))

    # -- actions -------------------------------------------------------------------------------

    def _dummy(self, elem: DataElement, src: Dataset) -> Any:
        tag = int(elem.tag)
        value = elem.value
        if tag == PATIENT_ID:
            new = self.pseudonymizer.patient_id(str(value or ""))
        elif tag == PATIENT_NAME:
            owner = str(src.get("PatientID", "") or "") if PATIENT_ID in src else self.patient_id
            new = self.pseudonymizer.patient_name(owner)
        elif elem.VR == "UI":
            return self._uid_value(elem)
        elif is_id_like(elem.keyword, elem.VR) and value:
            return _map_text(value, lambda v: self._identifier(v, elem.keyword, elem.VR))
        else:
            return dummy_value(elem.VR)
        self.generated.add(new)
        return fit_to_vr(new, elem.VR)

    def _identifier(self, value: str, keyword: str, vr: str) -> str:
        """The keyed token of one ID value, cut to the VR (and to 8 for file ID components)."""
        new = fit_to_vr(self.pseudonymizer.identifier(value, keyword), vr)[
            : ID_LENGTH_LIMITS.get(keyword)
        ]
        self.generated.add(new)
        return new

    def _uid(self, value: str) -> str:
        new = self.pseudonymizer.uid(value)
        if new != value:
            self.uid_map[unpadded(value)] = new
        return new

    def _uid_value(self, elem: DataElement) -> Any:
        return _map_text(elem.value, self._uid)

    def _clean(self, tag: int, vr: str, elem: DataElement, out: Dataset) -> None:
        value = elem.value
        if vr in DATE_VRS or vr == "TM":
            shifted = self._shift(value, vr)
            if shifted is not None:
                out.add_new(tag, vr, shifted)
        elif vr in TEXT_VRS and tag >> 24 in (0x50, 0x60):
            out.add_new(tag, vr, _empty(vr))  # overlay/curve labels: names no lexicon has
        elif vr in TEXT_VRS:
            out.add_new(tag, vr, _map_text(value, lambda v: self._clean_text(v, vr)))
        elif vr == "UI":
            out.add_new(tag, vr, self._uid_value(elem))
        elif vr in BINARY_UNIT:
            if tag & 0xFF00FFFF == OVERLAY_DATA and self.engine.policy.pixels is not PixelMode.OFF:
                out[tag] = _copy(elem)  # medveil.pixels cleans kept overlay planes
            # any other bitmap or blob cannot be cleaned: removed
        else:
            out[tag] = _copy(elem)

    def _clean_text(self, text: str, vr: str) -> str:
        """The lexicon's scrub, cut to the VR's length; a scrubbed code string (where the
        ``***`` marker is not allowed) becomes the dummy. UIDs quoted in the text get their
        pseudonyms first, so a note that cites an instance still cites the right one."""
        text = _UID_IN_TEXT.sub(lambda match: self._uid(match.group()), text)
        scrubbed = self.lexicon.scrub(ISO2022_ESCAPE.sub("", text))
        if self.terms is not None:
            scrubbed = self.terms.sub(MARKER, scrubbed)  # identifiers glued into other tokens
        cleaned = fit_to_vr(scrubbed, vr)
        if vr == "CS" and cleaned != text:
            return str(dummy_value("CS"))
        return cleaned

    def _shift(self, value: Any, vr: str) -> Any:
        """A date under C: shifted (Modified Dates), kept (Full Dates), else emptied."""
        if self.rules.full_dates or (vr == "TM" and self.offset is not None):
            return _map_text(value, lambda v: _valid_or_empty(v, vr))
        if self.offset is None or not value:
            return _empty(vr)
        try:
            return _map_text(value, lambda v: shift_date_value(v, vr, self.offset or 0))
        except DateValueError:
            return _empty(vr)

    # -- private elements ------------------------------------------------------------------------

    def _private(
        self, src: Dataset, out: Dataset, tag: int, parents: tuple[str, ...]
    ) -> int | None:
        """Handle one private element; return its creator's tag when the element was kept."""
        override = self.rules.override(tag)
        element = tag & 0xFFFF
        if (self.engine.kb is None and override is None) or element < 0x0010:
            return None
        if element <= 0x00FF:
            return None  # a creator: kept later if its block keeps anything
        creator_tag = (tag & 0xFFFF0000) | (element >> 8)
        if creator_tag not in src:
            return None
        creator = str(src[creator_tag].value or "")
        raw = src.get_item(tag)
        vr = self.engine.vr_of(raw)
        if vr == "UN":  # implicit VR, or written as UN: pydicom may know it by its creator
            vr = str(src[tag].VR or "UN")
        disposition: str | None
        if override is not None:  # a private override can keep (K) or remove (anything else)
            disposition = "k" if override.action == "K" else "d"
        else:
            kb = self.engine.kb
            disposition = (
                kb.disposition(parents, tag >> 16, creator, element & 0xFF) if kb else None
            )
        if disposition == "k":
            if vr == "SQ":
                path = (*parents, private_key(tag >> 16, creator, element & 0xFF))
                self._items(tag, src, out, path, scrub=False)
            elif self._needs_cleaning(src, tag, vr, scrub=False):
                self._clean(tag, vr, src[tag], out)
            elif vr == "UI" and not self.rules.retain_uids:
                out.add_new(tag, vr, self._uid_value(src[tag]))  # the public UIDs' pseudonyms
            elif vr in BINARY_UNIT and self._bytes_name_someone(src[tag].value, private=True):
                return None
            elif vr in NUMBER_VRS and self._bytes_name_someone(_stored_bytes(raw), private=True):
                return None  # numbers whose bytes spell text: a name stored as SS or FD
            elif vr in TEXT_VRS and self._text_hides_a_name(src[tag].value):
                return None
            elif vr in _NUMBER_STRINGS and self._holds_term(src, tag):
                return None  # a vendor copied the patient ID or birth date into a number
            else:
                _put(out, _copy(raw))
            return creator_tag
        handler = self._private_handlers.get(disposition or "d")
        if handler is None or vr not in _STRING_VRS | _INTEGER_VRS | {"FL", "FD"}:
            return None
        new = handler(src[tag].value, vr)
        if new is None:
            return None
        out.add_new(tag, vr, new)
        return creator_tag

    def _bytes_name_someone(self, value: Any, private: bool = False) -> bool:
        """Whether a kept binary value holds a lexicon term as text in one of the encodings
        devices write (vendors store whole headers, annotations included, in OB/UN blobs,
        in the character set of the device's country); such a value is removed.

        A ``private`` value (kept under Retain Safe Private) is searched harder: terms of
        five characters or more count wherever they stand (bytes have no words: a name
        glued to an accession number still names), and the compressed streams and base64
        runs inside it are unpacked and searched (:mod:`medveil.deid.embedded`)."""
        terms = self.terms
        if terms is None or not isinstance(value, bytes):
            return False
        if self._reads_a_term(terms, value, private):
            return True
        return private and any(
            self._reads_a_term(terms, payload, True) for payload in embedded_payloads(value)
        )

    def _text_hides_a_name(self, value: Any) -> bool:
        """Whether kept private text names someone glued into other letters, or hides a
        document (base64, compressed) that does: its plain words were searched already."""
        terms = self.terms
        if terms is None:
            return False
        texts = text_values(value)
        if any(terms.search_anywhere(text) for text in texts):
            return True
        packed = "\\".join(texts).encode("utf-8", errors="ignore")
        return any(self._reads_a_term(terms, p, True) for p in embedded_payloads(packed))

    def _reads_a_term(self, terms: TermFinder, value: bytes, anywhere: bool) -> bool:
        readings = [value.decode(codec, errors="ignore") for codec in self._blob_codecs]
        # UTF-16 text may start at an odd offset (after a one-byte field): read out of step,
        # every character of it but the first would be lost
        readings += [value[1:].decode(codec, errors="ignore") for codec in _UTF16]
        readings = list(dict.fromkeys(readings))  # ASCII reads alike in most of them
        if any(terms.search(text) for text in readings):
            return True
        return (
            anywhere
            and len(value) <= _GLUED_LIMIT
            and any(terms.search_anywhere(text) for text in readings)
        )

    def _holds_term(self, src: Dataset, tag: int) -> bool:
        """Whether a code string or number spells a lexicon term (a name typed into
        ImageType, an all-digit ID or a YYYYMMDD birth date copied into a private IS/DS).
        Raw ASCII values, most of them, are searched without converting the element."""
        if self.terms is None:
            return False
        raw = raw_ascii_text(src, tag)
        texts = [raw] if raw is not None else text_values(src[tag].value)
        return any(self.terms.search(text) for text in texts)

    @cached_property
    def _private_handlers(self) -> dict[str, Callable[[Any, str], Any]]:
        return {"h": self._private_hash, "o": self._private_date, "oi": self._private_seconds}

    def _private_hash(self, value: Any, vr: str) -> Any:
        if vr not in TEXT_VRS | {"UI"}:
            return None

        def one(text: str) -> str:
            token = text.strip("\x00 ")
            if vr == "UI" or _UID_SHAPE.fullmatch(token):
                return self._uid(token)
            new = self.pseudonymizer.identifier(token, "private")
            self.generated.add(new)
            return new

        return _map_text(value, one)

    def _private_date(self, value: Any, vr: str) -> Any:
        if self.rules.full_dates:
            return value
        if self.offset is None or vr not in DATE_VRS | {"LO", "SH"}:
            return None
        kind = vr if vr in DATE_VRS else "DT"
        try:
            return _map_text(value, lambda v: shift_date_value(v, kind, self.offset or 0))
        except DateValueError:
            return None

    def _private_seconds(self, value: Any, vr: str) -> Any:
        if self.rules.full_dates:
            return value
        if self.offset is None or vr not in _INTEGER_VRS | {"FL", "FD", "DS"}:
            return None
        delta = self.offset * _SECONDS_PER_DAY
        values = value if isinstance(value, MultiValue | list) else [value]
        try:
            moved = [type(v)(float(v) + delta) if vr == "DS" else v + delta for v in values]
        except (TypeError, ValueError):
            return None
        return moved if isinstance(value, MultiValue | list) else moved[0]


def decoded_copy(ds: Dataset, skip: Container[int] = frozenset()) -> Dataset:
    """A copy of ``ds`` with every text value decoded (:func:`decode_text`), ``ds`` untouched.

    Tags in ``skip`` (those the policy removes or empties, and that the lexicon does
    not read) are left undecoded.

    The copy is shallow where that is safe: raw elements (pixel data among
    them) are immutable and shared, decoded elements are copied, sequence
    items are copied recursively. Decoding first means the lexicon, the
    scrubber and the verification all see the same, clean text (pydicom
    alone leaves ISO 2022 designations in GB 2312 text, for instance).
    """
    copy_ = _shallow_tree(ds)
    decode_text(copy_, skip)
    return copy_


def _shallow_tree(ds: Dataset) -> Dataset:
    new: Dataset
    if isinstance(ds, FileDataset):
        new = FileDataset(
            ds.filename or "", Dataset(), preamble=ds.preamble, file_meta=ds.file_meta
        )
    else:
        new = Dataset()
        meta = getattr(ds, "file_meta", None)
        if isinstance(meta, FileMetaDataset):
            new.file_meta = meta
    # as really read, so that writing in the declared syntax converts misdeclared elements
    implicit, little = read_encoding(ds)
    new.set_original_encoding(implicit, little, ds.original_character_set)
    elements = new._dict  # straight in: Dataset.__setitem__ would convert private elements
    for key in list(ds.keys()):
        elem = ds.get_item(key)
        if isinstance(elem, RawDataElement) and _is_sequence(elem):
            # parsed here, in the copy (the input keeps its raw element): the items are the
            # copy's own, so they get the VR repair in place
            elements[key] = elem
            _repair_parsed(new[key].value)
        elif isinstance(elem, DataElement) and elem.VR == "SQ":
            items = [_shallow_tree(item) for item in elem.value]
            new.add(DataElement(elem.tag, "SQ", Sequence(items)))
        elif isinstance(elem, RawDataElement):
            elements[key] = _withdictionary_vr(elem)
        else:
            elements[key] = _copy(elem)
    return new


def _repair_parsed(items: Iterable[Dataset]) -> None:
    """:func:`_with_dictionary_vr` in place, at any depth, on sequence items that were
    parsed into the copy (nothing else holds them)."""
    for item in items:
        elements = item._dict
        for key, elem in list(elements.items()):
            if isinstance(elem, RawDataElement) and _is_sequence(elem):
                _repair_parsed(item[key].value)
            elif isinstance(elem, RawDataElement):
                elements[key] = _withdictionary_vr(elem)
            elif elem.VR == "SQ":
                _repair_parsed(elem.value)


def _is_sequence(raw: RawDataElement) -> bool:
    """Whether pydicom will read a raw element as a sequence (as written, or a public
    sequence written with implicit VR or as UN)."""
    return raw.VR == "SQ" or (raw.VR in (None, "UN") and dictionary_vr(int(raw.tag)) == "SQ")


def _withdictionary_vr(raw: RawDataElement) -> RawDataElement:
    """A raw public text element whose file gave it the wrong VR (another text VR, UN, the
    bytes VRs OB and OW, or a number VR such as FD or US) gets the dictionary's.

    A lossy converter may write PatientName as LO, a UID as SH, or a description as OB;
    decoding it as what it is puts the name in the lexicon, the UID through the UID rules
    and the description through the scrubber (as bytes it would pass all three). Raises
    DeidentificationError on a VR code that does not exist: the parser has lost its
    place in the file, and whatever follows is unknown.
    """
    vr = raw.VR
    if vr is None:
        return raw
    if vr not in _KNOWN_VRS:
        raise DeidentificationError(f"{raw.tag} has an invalid VR")
    tag = int(raw.tag)
    if (tag >> 16) & 1:
        return raw
    expected = dictionary_vr(tag)
    if expected == vr or expected not in _STRING_VRS:
        return raw
    if vr in _READ_AS_TEXT or expected in TEXT_VRS:
        # (a number VR on a number string, IS as US, is a converter's slip that holds no text)
        return raw._replace(VR=expected)
    return raw


def _new_item(source: Dataset) -> Dataset:
    """An empty output item that remembers how ``source``'s raw elements are encoded.

    An item that does not know it would make every writer convert each raw element it
    shares with the source (pydicom re-encodes what it cannot prove unchanged): minutes
    for the contour data of a large RT structure set, for the same bytes.
    """
    item = Dataset()
    implicit, little = source.original_encoding
    item.set_original_encoding(implicit, little, source.original_character_set)
    return item


def _put(out: Dataset, elem: DataElement | RawDataElement) -> None:
    """Add an element as it is: ``Dataset.__setitem__`` would convert a raw private
    element only to record its creator, which nothing here reads."""
    out._dict[elem.tag] = elem


def _copy(elem: DataElement | RawDataElement) -> DataElement | RawDataElement:
    """An element the output may own: raw elements are immutable, decoded ones are copied."""
    if isinstance(elem, RawDataElement):
        return elem
    clone = copy.copy(elem)
    if isinstance(elem.value, MultiValue):
        clone.value = list(elem.value)
    return clone


def _empty(vr: str) -> Any:
    """The zero-length value of a VR."""
    if vr in BINARY_UNIT:
        return b""
    return "" if vr in _STRING_VRS else None


def _map_text(value: Any, function: Callable[[str], str]) -> Any:
    """Apply ``function`` to each value of a (possibly multi-valued) string element."""
    if value is None or value == "":
        return value
    if isinstance(value, MultiValue | list):
        return [function(str(v)) for v in value]
    return function(str(value))


def _valid_or_empty(value: str, vr: str) -> str:
    """``value`` if it is a valid DA, DT or TM value, else empty (junk may be anything).

    >>> [_valid_or_empty(v, vr) for v, vr in (("20240305", "DA"), ("Smith", "DA"), ("0930", "TM"))]
    ['20240305', '', '0930']
    """
    text = value.strip()
    return value if not text or _DATE_TIME_SHAPES[vr].fullmatch(text) else ""


def _small_blob(tag: int, raw: DataElement | RawDataElement) -> bool:
    """A binary value worth searching: at most 4 MiB and not pixel data."""
    value = raw.value
    return isinstance(value, bytes) and len(value) <= _BLOB_LIMIT and tag >> 16 != 0x7FE0


def _blob_codecs(declared: str | list[str]) -> tuple[str, ...]:
    """:data:`_BLOB_CODECS` and the declared character set's codecs, each codec once
    (pydicom names latin-1 ``latin_1``, UTF-8 ``UTF8``)."""
    names = [*_BLOB_CODECS, *([declared] if isinstance(declared, str) else declared)]
    unique: dict[str, str] = {}
    for name in names:
        try:
            unique.setdefault(codecs.lookup(name).name, name)
        except LookupError:
            continue
    return tuple(unique.values())


def _stored_bytes(elem: DataElement | RawDataElement) -> bytes | None:
    """The bytes of a number value as stored: a raw element's own, converted numbers packed
    again (little endian)."""
    value = elem.value
    if isinstance(value, bytes):
        return value
    number_format = _NUMBER_FORMATS.get(str(elem.VR))
    if number_format is not None:
        numbers = list(value) if isinstance(value, MultiValue | list) else [value]
        try:
            return struct.pack(f"<{len(numbers)}{number_format}", *numbers)
        except (struct.error, TypeError):
            return None
    return None


def _cap_age_or_empty(value: str) -> str:
    try:
        return cap_age(value)
    except DateValueError:
        return ""


def deidentify(
    ds: Dataset, policy: Policy | None = None, *, secret: bytes | None = None
) -> Dataset:
    """De-identify ``ds`` and return the clean copy (the input is not modified).

    ``policy`` defaults to the ``research`` preset. ``secret`` keys every
    pseudonym (UIDs, patient IDs, date offsets): pass the same secret to get
    the same pseudonyms in every run (e.g. from
    :func:`medveil.deid.secret.load_or_create_secret`). Without one, a random
    key is drawn once per process: pseudonyms are then consistent within
    the process but cannot be linked across runs.

        >>> import pydicom, medveil
        >>> ds = pydicom.Dataset()
        >>> ds.PatientName, ds.PatientID = "Doe^Jane", "A-1234"
        >>> clean = medveil.deidentify(ds, medveil.Policy.preset_named("basic"), secret=bytes(32))
        >>> str(clean.PatientName).startswith("MV^"), clean.PatientIdentityRemoved
        (True, 'YES')

    Raises :class:`~medveil.errors.DeidentificationError` when the result
    cannot be shown to be clean.
    """
    chosen = policy or Policy.preset_named("research")
    key = secret if secret is not None else _process_secret()
    return Deidentifier(chosen, Pseudonymizer(key)).run(ds).dataset


_PROCESS_SECRET: list[bytes] = []


def _process_secret() -> bytes:
    """A random key drawn once per process (for ``deidentify`` without a secret)."""
    if not _PROCESS_SECRET:
        _PROCESS_SECRET.append(secrets.token_bytes(32))
    return _PROCESS_SECRET[0]
