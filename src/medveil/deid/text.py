"""Finding and removing identifying text: the PHI lexicon and free-text patterns.

Free text (descriptions, comments, burned-in annotations read by OCR) can
name the patient in ways no attribute list anticipates. Two complementary
detectors are applied, both offline and deterministic:

1. The **lexicon**: every identifying string of the *original* header
   (:meth:`PhiLexicon.from_dataset`), expanded into the spellings people
   write. ``Smith^John^Paul`` yields ``Smith``, ``John``, ``Paul``,
   ``John Smith``, ``Smith John``, ``Smith, John``, ``John Paul Smith``,
   ``J. Smith``, ``J.P. Smith``, ``Smith J``, ``SMITH JP``, ``J.P.S.``... (case
   never matters); ideographic ``张^三`` yields ``张三`` and ``张 三``; phonetic
   groups are treated like alphabetic ones. IDs also give their digits-only
   form, addresses their comma-separated parts, the birth date a dozen
   spellings (two-digit years too); IDs and phone numbers are also found written
   in digit groups (``1234 5678``). Latin terms match on word boundaries (``Smith`` is found in
   ``Smith先生`` and ``Dr.Smith`` but not in ``Smithfield``); terms with CJK
   or other scripts match as substrings, since those scripts have no spaces.
2. **Patterns** for PHI that need no lexicon:

   ============  ==========================================================
   kind          examples
   ============  ==========================================================
   email         ``john.smith@example.org``, ``张三@163.com``
   url           ``https://...``, ``www....``
   resident_id   Chinese resident ID: 18 chars, birth date inside, valid
                 ISO 7064 MOD 11-2 check character (may be ``X``); a bad
                 checksum still goes as ``id`` (long digit run)
   date          ``20240305``, ``2024-03-05``, ``2024/3/5``, ``2024.03.05``,
                 ``05/03/2024``, ``3-5-2024``, ``5 March 2024``,
                 ``5th of Mar, 2024``, ``March 5, 2024``, ``March 2024``,
                 ``05-Mar-2024``, ``2024年3月5日``, ``3月5日``; two-digit
                 years (``03/05/24``, ``17-Apr-61``); no year (``March 5``,
                 ``5th of March``, ``三月五号``); ``2024-03``, ``04/1961``
   phone         Chinese mobile ``13800138000`` / ``138 0013 8000`` with or
                 without ``+86``; landline ``010-12345678``,
                 ``(0755) 1234567``; ``+44 20 7946 0958``; ``(555) 123-4567``
   ip            IPv4 addresses
   age           over 89: ``97-year-old``, ``Age: 92``, ``92F``, ``92周岁``
   labelled_id   the value after an ID label: ``MRN: 55123``, ``住院号：12345``
   address       ``17 Wrenfield Crescent`` (house number, capitalised words,
                 a street word), UK postcodes, ``学院路37号``,
                 ``上海市浦东新区张江镇``
   id            ``123-45-6789`` (SSN shape); digit runs of 6 or more not
                 part of a decimal or dotted number; tokens of 6+ letters
                 and digits with at least 3 digits and a letter
                 (``MRN12345``, ``CT20240305001``), except a number with a
                 unit (``1000mAs``, ``120kVp``), a matrix (``512x512``), a
                 TNM stage (``cT2N0M0``) or an image label (``SE3IM12``)
   ============  ==========================================================

3. **Titles, relations and roles**: one or two capitalised words after ``Dr``,
   ``Mr``, ``Ms``... (in capitals only with a period: ``MR BRAIN`` is a
   modality), ``Prof``, ``Nurse``, a relation with a colon or in lower case
   (``Escort: Rosamund Quillfeather``, ``contact daughter Imogen``; not
   ``Contact Lens``), a role with a colon (``Tech: Ahmed Khan``), ``Dictated
   by``, ``Signed by``... (not an answer, a department or a vendor:
   ``Resident: No``, ``Referred by Cardiology``); Han characters before ``医生``,
   ``主任``, ``先生``... (not a label before a colon: ``申请医生：刘建国``) or after ``患者``,
   ``家属``, ``报告人``, ``姓名``...: names no header attribute holds.

Terms and text are compared folded (:func:`fold`: case, width, accents), so
``ＱＵＩＬＬ``, ``Jurgen`` and ``ΠΑΠΑΔΟΠΟΥΛΟΥ`` match ``Quill``, ``Jürgen`` and
``Παπαδοπούλου``; German/Nordic ASCII spellings (``Mueller``) are added as terms.

What is kept on purpose: short tokens (``L``, ``R``, ``PA``, ``AP``, ``CT``,
``MRI``), numbers under 6 digits, measurements and doses (``12.5 cm``,
``5 mg``), decimals, dotted numbers such as UIDs and versions. Lexicon terms
that are clinical vocabulary (a station called ``CT``), placeholders
(``ANONYMOUS``) or too short (a lone initial, a single CJK character) are
dropped, because they would erase ordinary words everywhere.

:meth:`PhiLexicon.scrub` replaces each span (overlapping spans merge) with
:data:`MARKER` (``***``: short, no letters or digits so scrubbing twice
changes nothing) and leaves every other character as it was. The result can
be longer than the input; :func:`fit_to_vr` truncates to a VR's length.

    >>> from pydicom import Dataset
    >>> ds = Dataset()
    >>> ds.PatientName = "Smith^John"
    >>> ds.PatientID = "12345678"
    >>> lex = PhiLexicon.from_dataset(ds)
    >>> lex.scrub("CT chest for J. Smith (MRN 12345678), seen 5 March 2024, L lung 12.5 cm")
    'CT chest for *** (MRN ***), seen ***, L lung 12.5 cm'
    >>> [s.kind for s in lex.find("SMITH JOHN, tel 138 0013 8000")]
    ['name', 'phone']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from medveil.deid.charset import clean_decoded_text, element_vr, undeclared_readings
from medveil.deid.hanzi import simplified
from medveil.deid.pinyin import (
    COMPOUND_SURNAMES,
    SoundIndex,
    Sounds,
    romanisations,
    split_name,
)

MARKER = "***"

# Attributes (other than the PN ones, which are all taken) whose values identify.
SOURCES: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "PatientID",
            "OtherPatientIDs",
            "AccessionNumber",
            "StudyID",
            "AdmissionID",
            "ServiceEpisodeID",
            "RequestedProcedureID",
            "ScheduledProcedureStepID",
            "PerformedProcedureStepID",
            "PlacerOrderNumberImagingServiceRequest",
            "FillerOrderNumberImagingServiceRequest",
            "MedicalRecordLocator",
            "ClinicalTrialSubjectID",
            "ClinicalTrialSubjectReadingID",
            "InsurancePlanIdentification",
            "DeviceSerialNumber",
            "UniversalEntityID",
            "LocalNamespaceEntityID",
            # specimens, slides, results and devices: removed or replaced, and typed in text
            "ContainerIdentifier",
            "SpecimenIdentifier",
            "SpecimenAccessionNumber",
            "SlideIdentifier",
            "BarcodeValue",
            "ResultsID",
            "InterpretationID",
            "DeviceID",
            "DeviceAlternateIdentifier",
            "DetectorID",
            "UniqueDeviceIdentifier",
        ),
        "id",
    ),
    "CameraOwnerName": "name",  # UT, not PN: the name as typed, whole
    **dict.fromkeys(
        (
            "InstitutionName",
            "InstitutionalDepartmentName",
            "IssuerOfPatientID",
            "IssuerOfAdmissionID",
            "ResponsibleOrganization",
            "ClinicalTrialSiteName",
            "BranchOfService",
        ),
        "institution",
    ),
    **dict.fromkeys(
        (
            "PatientAddress",
            "InstitutionAddress",
            "ReferringPhysicianAddress",
            "PersonAddress",
            "RegionOfResidence",
            "PatientInstitutionResidence",
            "CurrentPatientLocation",
        ),
        "address",
    ),
    **dict.fromkeys(
        (
            "PatientTelephoneNumbers",
            "PatientTelecomInformation",
            "ReferringPhysicianTelephoneNumbers",
            "PersonTelephoneNumbers",
            "PersonTelecomInformation",
            "OrderCallbackPhoneNumber",
            "OrderCallbackTelecomInformation",
        ),
        "phone",
    ),
    **dict.fromkeys(
        (
            "StationName",
            "SourceApplicationEntityTitle",
            "SendingApplicationEntityTitle",
            "ReceivingApplicationEntityTitle",
        ),
        "station",
    ),
    "PatientBirthDate": "date",
}
SOURCE_TAGS = frozenset(tag_for_keyword(keyword) for keyword in SOURCES)


def _words(text: str) -> frozenset[str]:
    """Whitespace-separated words of a table written as prose."""
    return frozenset(text.split())


# Never lexicon terms: they would erase ordinary clinical words everywhere.
CLINICAL_WORDS = _words(
    """
    l r pa ap lat ll rl lr ct mr mri pet spect us xa cr dx mg nm rf ot sr pr ko
    mm cm ml kg gy head neck chest abdomen pelvis spine brain left right bilateral
    axial sagittal coronal contrast scan study series image report radiology
    anonymous anon unknown none null n/a na test patient phantom
    """
)
NAME_PARTICLES = _words("de da di del der den van von la le du dos des mr mrs ms dr")

# Scripts written without spaces between words: Han, kana, Hangul (names take particles).
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0003134f"
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")
_ODD_SPACE = re.compile(r"\s\s|[^\S ]")  # whitespace other than single spaces
_SPECIAL_FOLDS = {"ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "ł": "l"}
_SPECIAL_FOLDS |= {"þ": "th", "ı": "i", "ς": "σ", "\u2019": "'", "\u2018": "'", "\u02bc": "'"}
_TRANSLITERATIONS: dict[str, tuple[str, ...]] = {
    "ä": ("a", "ae"),
    "ö": ("o", "oe"),
    "ü": ("u", "ue"),
    "ø": ("o", "oe"),
}
_TRANSLITERATIONS |= {"å": ("a", "aa"), "æ": ("ae",), "ß": ("ss",), "þ": ("th",)}
_ALNUM = re.compile(r"[^\W_]")
_DIGIT = re.compile(r"\d")
_DIGITS = re.compile(r"\d+")
# anchored on the left: a run is tried from its first digit only, not from each of them
_DIGIT_RUN = re.compile(r"(?<!\d)\d+(?:[ -]\d+)+")
_JOINERS = re.compile(r"['\u2019-]")  # O'Brien is also typed OBrien, Mary-Jane MaryJane
_PINYIN_JOINERS = re.compile(r"[\s'\u2019-]")  # Xi'an, Wei-ming, Wei Ming
_SPELLED_UMLAUT = re.compile(r"([AOUaou])[Ee]")  # Mueller is also typed Müller or Muller
# Kinds that make kept text worth scrubbing: a bare number is not enough, a number after
# a label ("MRN 55123") or a name after a title is.
PATTERN_ALERT_KINDS = frozenset(
    {"email", "url", "resident_id", "date", "phone", "ip", "address", "age", "labelled_id", "name"}
)
# every pattern needs one: a digit, or a word that Chinese dates, ages and addresses,
# English ages and WeChat IDs can be written with
_PATTERN_HINT = re.compile(
    r"\d|@|www|://|[年月岁歲歳号省市]|ninety|hundred|微信|wechat", re.IGNORECASE
)
_ID_PREFIX = re.compile(r"^[A-Za-z]+[\s\-_/:#.]*")
_TOKEN_SPLIT = re.compile(r"[\s\-,]+")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH_NAMES = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    "|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
# French, German, Spanish, Italian, Portuguese and Dutch months, only where a year follows
# (their short forms that are also English words, "mars", "mai", "ago", are left out)
_FOREIGN_MONTH_NAMES = (
    "janvier|f[ée]vrier|avril|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre"
    "|j[aä]nner|januar|februar|m[aä]rz|maerz|juni|juli|oktober|dezember"
    "|enero|febrero|marzo|abril|mayo|junio|julio|agosto|sep?tiembre|octubre|noviembre|diciembre"
    "|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre"
    "|janeiro|fevereiro|mar[çc]o|maio|junho|julho|setembro|outubro|dezembro"
    "|januari|februari|maart|augustus"
)
_MONTH = rf"(?<![A-Za-z])(?:{_MONTH_NAMES}|{_FOREIGN_MONTH_NAMES})(?![A-Za-z])\.?"
_SHORT_MONTHS = r"(?<![A-Za-z])(?:mars|mai|mei)(?![A-Za-z])"  # only between a day and a year
# In dates without a year a month must be capitalised ("March 5", not "may 5" or "OCT 5").
_MONTH_CAPITALISED = (
    "(?<![A-Za-z])(?-i:"
    + "|".join(name[0].upper() + name[1:] for name in _MONTH_NAMES.split("|"))
    + ")(?![A-Za-z])\\.?"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MON = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:1[89]|20)\d{2}"
_ORDINAL = r"(?:st|nd|rd|th)?"
# "May" before a verb is the verb ("Lesion 2 May be a cyst"), not the month
_NOT_MAY_VERB = (
    r"(?!(?<=May)\s+(?:be|have|has|not|also|represent|reflect|indicate|suggest|require|need"
    r"|show|extend|contain|involve|persist|progress|resolve|relate|correspond|account|cause"
    r"|affect|warrant|occur|develop|explain|remain|become|mimic|obscure|limit|benefit|help)\b)"
)
_UNIT_AFTER = r"\s*(?:mm|cm|mg|ml|mcg|ug|kg|g|mmol|%)(?![A-Za-z])"  # "May 5 mg" is a dose
# "Mar 12 slices", "Jun 3 views": a count of images after an abbreviation, not a date
_COUNT_AFTER = (
    r"\s*(?:slices?|views?|series|images?|frames?|phases?|sequences?|echoes|projections?)"
    r"(?![A-Za-z])"
)
_CN_DIGITS = "〇零一二三四五六七八九十百"
_CN_MONTH = "(?:十[一二]?|[一二三四五六七八九])"
_CN_DAY = "(?:[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])"
_CN_AGE = (
    "(?:九十[一二三四五六七八九]?"
    "|一百(?:零?[一二三四五六七八九]|[一二三四]十[一二三四五六七八九]?)?)"
)
_ENGLISH_AGE = (
    r"(?:ninety|(?:one\s+)?hundred)(?:[\s-]+(?:and\s+)?"
    r"(?:one|two|three|four|five|six|seven|eight|nine))?"
)
_AGE = r"(?:9\d|1[0-4]\d)"
# a Chinese house number and what follows it: 12号, 十二号, 12号院3号楼2单元501室
_CN_HOUSE = (
    rf"\s*(?:\d+|[{_CN_DIGITS}]+)\s*号"
    rf"(?:\s*(?:院|(?:\d+|[{_CN_DIGITS}]+)\s*(?:号楼|号院|栋|幢|座|单元|层|楼|室|户|号)))*"
)
# Patterns that start with a digit, "(" or "+": one look at a character skips them all.
_NUMBER_PATTERNS = (
    (  # also written in groups: 110105 19491231 002X
        "resident_id",
        # grouped 6-8-4 or 6-4-4-4 ("330106-1990-0101-123X")
        rf"(?<![0-9A-Za-z])[1-9]\d{{5}}[ -]?{_YEAR}[ -]?(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
        r"[ -]?\d{3}[\dXx](?![0-9A-Za-z])",
    ),
    (
        "date",
        r"\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?|\d{1,2}\s*月\s*\d{1,2}\s*[日号]",
    ),
    ("date", rf"(?<![0-9A-Za-z]){_YEAR}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?![0-9A-Za-z])"),
    ("date", rf"(?<![\d.]){_YEAR}[-/.]{_MON}[-/.]{_DAY}(?!\d)"),
    ("date", rf"(?<![\d.]){_DAY}[-/.]{_DAY}[-/.]{_YEAR}(?![\d.])"),
    # two-digit years with slashes or hyphens (03/05/24, 4-17-61); dotted ones are versions
    # (not before a unit: "5/10/15 mg", "8-10-12 Fr" are doses and sizes)
    ("date", rf"(?<![\w./-]){_DAY}/{_DAY}/\d{{2}}(?![\w/]|\.\d|{_UNIT_AFTER}|\s*fr\b)"),
    ("date", rf"(?<![\w./-]){_DAY}-{_DAY}-\d{{2}}(?![\w-]|\.\d|{_UNIT_AFTER}|\s*fr\b)"),
    (  # 5 March 2024, 5th of Mar, 2024, 5/Mar/2024, 17-Apr-61
        "date",
        rf"(?<!\d)\d{{1,2}}(?:{_ORDINAL}|\.|er)[\s/-]+(?:(?:of|de)\s+)?(?:{_MONTH}|{_SHORT_MONTHS})"
        r",?[\s/-]+(?:de\s+)?"
        rf"(?:{_YEAR}|\d{{2}})(?![\d:])",
    ),
    ("date", rf"(?<!\d){_YEAR}[\s/-]+{_MONTH}[\s/-]+{_DAY}(?![\d:])"),  # 2024 Mar 5
    # run together, as in file names and device logs: 15Jan2023, 17APR1961, 05MAR24
    ("date", rf"(?<![0-9A-Za-z]){_DAY}{_MONTH}(?:{_YEAR}|\d{{2}})(?![0-9A-Za-z])"),
    # month and day without a year, the day first
    ("date", rf"(?<![\d.]){_DAY}{_ORDINAL}\s+(?:of\s+)?{_MONTH_CAPITALISED}{_NOT_MAY_VERB}"),
    # year and month: 2024-03, 04/1961 (a two-digit month: 1/2000 is a dilution)
    ("date", rf"(?<![\w./-]){_YEAR}[-/](?:0[1-9]|1[0-2])(?![\w/-]|\.\d)"),
    ("date", rf"(?<![\w./-])(?:0[1-9]|1[0-2])[-/]{_YEAR}(?![\w/-]|\.\d)"),
    (  # Roman-numeral month: 17-IV-1961
        "date",
        rf"(?<!\d){_DAY}[-./ ](?-i:XII|XI|X|IX|VIII|VII|VI|V|IV|III|II|I)[-./ ]{_YEAR}(?!\d)",
    ),
    # Thai (Buddhist era) years 2400-2699: 17/04/2504
    ("date", rf"(?<![\d.]){_DAY}[-/.]{_MON}[-/.]2[4-6]\d{{2}}(?!\d|\.\d)"),
    ("id", r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])"),
    (  # 13800138000, 138 0013 8000, 138.0013.8000, 138 001 38000
        "phone",
        r"(?<![\d.])(?:(?:\+|00)86[\s-]?)?1[3-9]\d(?:[\s.-]?\d{4}[\s.-]?\d{4}|[\s.-]\d{3}[\s.-]\d{5})"
        r"(?!\d)",
    ),
    (
        "phone",
        r"(?<![0-9A-Za-z+])\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){1,4}(?!\d)",
    ),
    ("phone", r"(?<![\d.])(?:\(0\d{2,3}\)\s?|0\d{2,3}[\s-]?)\d{7,8}(?!\d)"),
    ("phone", r"(?<![\d.])0\d{2,4}[\s-]\d{3,4}[\s-]\d{3,4}(?![\d.])"),  # 01684 555 0199
    ("phone", r"(?<![0-9A-Za-z])(?:1[\s.-])?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?!\d)"),
    (
        "address",
        r"(?<![0-9A-Za-z])\d{1,5}[A-Za-z]?,?\s+(?-i:[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,3})\s+"
        r"(?-i:Road|Rd|Street|St|Lane|Ln|Crescent|Cres|Avenue|Ave|Drive|Way|Close|Court|Place"
        r"|Row|Terrace|Gardens|Square|Boulevard|Blvd|Hill|Mews|Parade|Walk|Strasse|Straße)"
        r"(?![A-Za-z])",
    ),
    (  # HIPAA: ages over 89 ("97-year-old", "97 y/o", "92F", "97岁", "92周岁")
        "age",
        rf"(?<![\d.])0?{_AGE}\s*-?\s*(?:years?[\s-]*old|years?|yrs?|y/o|y\.o\.|yo|y)(?![A-Za-z])",
    ),
    ("age_sex", rf"(?<![\w.]){_AGE}(?-i:[MF])(?!\w)"),  # "92F", unless a temperature ("Tmax 101F")
    ("age", rf"{_AGE}\s*周?\s*[岁歲歳]"),
    ("ip", r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"),
    ("id", r"(?<![0-9A-Za-z.])\d{6,}(?![0-9A-Za-z])"),
    # digits in groups (INSEE 2 61 04 75 056 123 45, My Number 1234 5678 9012): 9+ digits
    ("grouped", r"(?<![\d.])(?:\(0\))?\d{1,4}(?: (?:\(0\))?\d{1,4}){2,}(?!\d|\.\d)"),
)
# The others. Where two patterns can start at the same character, the first wins.
_WORD_PATTERNS = (
    ("url", r"(?:https?|ftp)://[^\s<>\"\\]+|(?<![A-Za-z0-9.])www\.[^\s<>\"\\]+"),
    (  # 二〇二四年三月五日, 三月五号
        "date",
        rf"[〇零一二三四五六七八九]{{4}}\s*年(?:\s*{_CN_MONTH}\s*月(?:\s*{_CN_DAY}\s*[日号])?)?"
        rf"|{_CN_MONTH}\s*月\s*{_CN_DAY}\s*[日号]",
    ),
    ("date", rf"{_MONTH}[\s/-]+\d{{1,2}}{_ORDINAL},?[\s/-]+{_YEAR}(?!\d)"),  # MAR-05-2024
    ("date", rf"{_MONTH},?\s+{_YEAR}(?!\d)"),
    # month and day without a year (HIPAA counts every date element but the year)
    (
        "date",
        rf"{_MONTH_CAPITALISED}\s+{_DAY}{_ORDINAL}(?![\w:]|\.\d|{_UNIT_AFTER}|{_COUNT_AFTER})",
    ),
    (  # Japanese era: 昭和36年4月17日, S36.4.17
        "date",
        r"(?:明治|大正|昭和|平成|令和)\s*(?:\d{1,2}|元)\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)?"
        r"|(?<![0-9A-Za-z])(?-i:[MTSHR])\d{1,2}[./-]\d{1,2}[./-]\d{1,2}(?![\d.])",
    ),
    # a number after an identifier label: MRN: 55123, Acc#:A-12345, 住院号：12345
    (
        "labelled_id",
        # words that are a label only with "No", "Number", "Nr" or "#" ("Hospital Number",
        # "Chart # 54321"; not "Case 3")
        r"(?<![A-Za-z])(?:(?:(?:MR|Hosp(?:ital)?|Record|Case|Chart|Policy|Member)\s*(?:No|Number|Nr|#)"
        r"|(?:MRN|Acc(?:ession|ount)?|Patient\s*ID|PID|Medicare|Medicaid)"
        r"(?:\s*(?:No|Number|Nr|#))?)[\s.#:：]+"
        r"|(?:(?:住院|门诊|病案|病历|病理|标本|申请单|检查|影像|登记|就诊|就诊卡|医保|CT|X线|ID)号"
        r"|住院编号|片号|QQ号?|(?:住院|門診|病案|病歷|病理)號)[\s#:：(（]*(?:为|是|No\.?)?[\s#:：]*)"
        r"(?P<labelled_id_value>(?:[A-Za-z]{1,4}-?)?\d[\dA-Za-z]*(?:-[\dA-Za-z]+)*)(?![\w-])",
    ),
    # a local number after a phone label: tel 555 1234, 电话：8765-4321
    (
        "labelled_phone",
        r"(?<![A-Za-z])(?:tel|phone|ph|call|mobile|mob|cell|电话|手机|联系电话|座机)\.?\s*"
        r"(?:no\.?|#)?\s*[:：]?\s*(?P<labelled_phone_value>\d{3,4}[\s.-]?\d{4})(?![\d-]|[\s.]\d)",
    ),
    # IBAN (GB82 WEST 1234 5698 7654 32), UK number plate (AB12 CDE)
    (
        "id",
        r"(?<![0-9A-Za-z])(?-i:[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)"
        r"(?![0-9A-Za-z])",
    ),
    ("id", r"(?<![0-9A-Za-z])(?-i:[A-Z]{2}\d{2} ?[A-Z]{3})(?![0-9A-Za-z])"),
    ("address", r"(?<![0-9A-Za-z])(?-i:[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})(?![0-9A-Za-z])"),
    ("address", rf"[\u4e00-\u9fff]{{1,10}}(?:路|街|大道|巷|胡同){_CN_HOUSE}"),
    (  # an estate's building, unit and room: 翠苑小区3栋2单元501室, 12幢301室
        "address",
        r"(?:[\u4e00-\u9fff]{1,8}(?:小区|花园|公寓|新村|家园|苑|一区|二区|三区))?\s*\d{1,4}\s*"
        r"(?:栋|幢|号楼|座)\s*(?:\d{1,3}\s*单元\s*)?\d{1,5}\s*(?:室|号|户)",
    ),
    (  # a WeChat ID after its label
        "id",
        r"(?<![A-Za-z])(?:微信号?|WeChat(?:\s*ID)?)\s*[:：]?\s*[A-Za-z][\w-]{5,19}(?![\w-])",
    ),
    (  # two administrative levels at least (上海市浦东新区张江镇): 病区 alone is a ward
        "address",
        r"[\u4e00-\u9fff]{2,6}?(?:省|自治区|市)(?:[\u4e00-\u9fff]{1,6}?(?:市|区|县|旗|州|盟)){1,2}"
        r"(?:[\u4e00-\u9fff]{1,8}?(?:镇|乡|村|街道|社区|小区|园|路|街|大道|巷|胡同|弄|里)){0,3}"
        rf"(?:{_CN_HOUSE})?",
    ),
    (
        "address",
        r"(?-i:[A-Z][a-zäöüß]+(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm))"
        r"\s+\d{1,4}[a-z]?(?![0-9A-Za-z])",
    ),
    ("address", r"(?<![0-9A-Za-z])(?-i:[A-Z]{2})\s+\d{5}(?:-\d{4})?(?![0-9A-Za-z])"),
    (
        "address",
        r"(?:[\u4e00-\u9fff]{1,4}[都道府県])?[\u4e00-\u9fff]{1,6}[市区町村郡]"
        r"[\u3040-\u30ff\u4e00-\u9fff]{1,8}\d{1,4}(?:[-－‐]\d{1,4}){2}",  # 1-2-3: not a range 1-2
    ),
    (  # "aged 97", "Age: 092Y", "年龄：92", "九十二岁", "ninety-two year old"
        "age",
        rf"(?<![A-Za-z])aged?\s*[:：]?\s*0?{_AGE}(?:y(?![A-Za-z]))?(?![\d.])"
        rf"|(?:年龄|年齡|高龄|高齡)\s*[:：]?\s*{_AGE}(?![\d.])|{_CN_AGE}\s*周?\s*[岁歲歳]"
        rf"|(?<![A-Za-z]){_ENGLISH_AGE}[\s-]+(?:years?[\s-]*old|y/?o)(?![A-Za-z])",
    ),
    (
        "alnum",
        r"(?<![0-9A-Za-z])(?=[0-9A-Za-z]*\d)(?=[0-9A-Za-z]*[A-Za-z])[0-9A-Za-z]{6,}(?![0-9A-Za-z])",
    ),
)
# e-mail first: "123456@example.org" is an address, not an ID; the local part may be 张三.
# It starts where a run of its characters starts: tried from each letter of a long run
# (a page of Chinese text), it would scan the rest of the run from each, in vain.
_EMAIL = ("email", r"(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PATTERNS = (_EMAIL, *_NUMBER_PATTERNS, *_WORD_PATTERNS)
_GROUPS = [f"(?P<{kind}{i}>{rx})" for i, (kind, rx) in enumerate(_PATTERNS)]
_PATTERN = re.compile(
    # one regex for all: Python tries every alternative at every character, so a guard
    # in front of the number patterns halves the time spent on text
    f"{_GROUPS[0]}|(?=[\\d(+])(?:{'|'.join(_GROUPS[1 : len(_NUMBER_PATTERNS) + 1])})"
    f"|{'|'.join(_GROUPS[len(_NUMBER_PATTERNS) + 1 :])}",
    re.IGNORECASE,
)
# what comes before a temperature ("Tmax 101F", "Temp: 100F", "fever of 102F")
_TEMPERATURE_BEFORE = re.compile(
    r"\b(?:t|temp|temperature|tmax|t[\s-]*max|fever|febrile|pyrexi(?:a|al)|spiked?|spiking)\b"
    r"\W*(?:(?:of|to|at|was|is|reached|up\s+to)\W*)?$",
    re.IGNORECASE,
)
_KIND_OF_GROUP = {f"{kind}{i}": kind for i, (kind, _) in enumerate(_PATTERNS)}
# patterns whose group "<kind>_value" is the PHI, and the kind it is
_LABELLED = {"labelled_id": "labelled_id", "labelled_phone": "phone"}
_DIGIT_SEPARATORS = re.compile(r"[ -]")
# Names no attribute holds ("seen by Dr Thistlewaite"): a capitalised word after a title.
TITLES = ("Doctor", "Prof", "Professor", "Miss", "Nurse")
# Titles that are also codes in capitals (MR and DR modalities, MS, MRS spectroscopy, Mx
# management): in capitals they are titles only with a period ("MR. SMITH", not "MR BRAIN").
SHORT_TITLES = ("Dr", "Drs", "Mr", "Mrs", "Ms", "Mx")
# relations written before a name: with a colon ("Escort: Rosamund Quillfeather") or in
# lower case in a sentence ("contact daughter Imogen"); capitalised and without a colon they
# begin clinical terms too ("Contact Lens", "Relative Enhancement", "Father History")
RELATIONS = (
    "Escort", "Contact", "Daughter", "Son", "Wife", "Husband", "Mother", "Father", "Sister",
    "Brother", "Partner", "Spouse", "Guardian", "Carer", "Caregiver", "Relative", "Friend",
    "Neighbour", "Neighbor", "Informant", "Witness", "Mom", "Mum", "Dad", "Next of kin",
)  # fmt: skip
# roles written before a name with a colon ("Tech: Ahmed Khan", "Attending: Kowalski")
ROLES = (
    "NOK", "Interpreter", "Radiologist", "Referring physician", "Referring doctor", "Referrer",
    "Physician", "Consultant", "Surgeon", "Tech", "Technologist", "Technician", "Radiographer",
    "Sonographer", "Attending", "Resident", "Operator", "Scribe",
)  # fmt: skip
# verbs whose "by" introduces a person, colon or not ("Dictated by: Thomas Anderson")
SIGNED_BY = (
    "Dictated", "Signed", "Reported", "Interpreted", "Reviewed", "Read", "Verified", "Approved",
    "Transcribed", "Seen", "Referred", "Performed", "Examined", "Requested", "Ordered",
)  # fmt: skip
# verbs whose "to"/"with" introduce a person with a credential ("Results phoned to Sarah
# Jones RN"): without one the words are as often a team ("discussed with Vascular Surgery")
TOLD = ("phoned", "called", "paged", "discussed", "communicated", "relayed", "d/w")
CREDENTIALS = ("RN", "NP", "PA", "PA-C", "MD", "M.D.", "DO", "RT", "CNS", "APRN")
CJK_TITLES_AFTER = (
    "医生", "医师", "大夫", "主任", "教授", "先生", "女士", "小姐", "护士", "阿姨", "师傅",
    "院长", "陪同", "代诉", "签字",
)  # fmt: skip
CJK_TITLES_BEFORE = (
    "患者", "病人", "病员", "患儿", "受检者", "家属", "联系人", "陪同", "医生", "医师", "主任",
    "护士", "技师", "操作者", "检查者", "报告者", "报告人", "审核人", "审核", "签发人", "签发",
    "申请人", "记录者", "记录人", "监护人", "老师", "父亲", "母亲", "儿子", "女儿", "之子",
    "之女", "丈夫", "妻子", "配偶", "爱人", "老伴", "儿媳", "女婿", "孙子", "孙女", "签名",
    "其妻", "其夫", "其子", "其女", "其父", "其母", "哥哥", "姐姐", "弟弟", "妹妹", "外孙",
    "外孙女", "陪护", "陪诊", "亲属", "家人", "由",
)  # fmt: skip
# Characters that end a Han name: 之, 的, 和, 与, 陪... ("张三之女", "李四陪同")
CJK_NAME_STOPS = "之的和与及陪同等在"
# The commonest Chinese family names: a Han name next to a title must start with one.
CJK_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
    "吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万"
    "钱严覃武戴莫孔汤温康施牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒"
    "阮柯纪梅童凌毕单季裴霍涂苗谷盛曲翁冉骆蓝游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤穆卓褚娄窦戚岑"
)
_UPPER = "A-Z\u00c0-\u00d6\u00d8-\u00de\u0391-\u03a9\u0410-\u042f\uff21-\uff3a"
# a whole word: "mother BRCA1" and "relative T1" are a gene and a sequence, not names
_CAPITALISED = rf"[{_UPPER}][^\W\d_]*(?:['\u2019-][^\W\d_]+)*(?!\w)"
_PARTICLES = r"(?:(?:van|von|de|der|den|da|di|del|la|le|du|dos|des|ter|ten)\s+)*"
# one to three capitals are a code or a unit ("CT", "ENT", "RN"), not a name; O' and D' begin
# one (O'Brien, D'Souza)
_NOT_CODE = r"(?![A-Z]{1,3}\b(?!['\u2019]))"
# one or two words; a second one in short capitals is a code ("Dr Smith MRN 55123", "CT")
_LATIN_NAME = rf"{_PARTICLES}{_CAPITALISED}(?:[ \t]+{_PARTICLES}{_NOT_CODE}{_CAPITALISED})?"
_ANY_TITLE = rf"(?i:{'|'.join(SHORT_TITLES + TITLES)})\b"
# Words that follow a role, a relation or "Signed by" where no name is given: an answer
# ("Resident: No", "Interpreter: Not required"), a language ("Interpreter: Spanish"), a
# department, a role or a vendor ("Ordered by Emergency Department", "Signed by Attending",
# "Performed by Siemens Healthineers")
NOT_NAMES = (
    "No", "None", "Nil", "Not", "Yes", "Pending", "Please", "Unknown", "Unavailable", "Declined",
    "Refused", "Required", "Requested", "Present", "Absent", "Same", "See", "Self", "Other",
    "Outside", "External", "Internal", "Available", "Given", "Needed", "Notified", "Aware",
    "Spanish", "Mandarin", "Cantonese", "Chinese", "Arabic", "Russian", "Portuguese", "French",
    "Vietnamese", "Korean", "Japanese", "Polish", "Italian", "German", "Hindi", "Urdu", "Punjabi",
    "Somali", "Farsi", "Turkish", "Bengali", "Tagalog", "Haitian", "Creole", "Sign",
    "Emergency", "Department", "Dept", "Service", "Services", "Team", "Unit", "Clinic",
    "Hospital", "Ward", "Staff", "System", "Software", "Vendor", "Medicine", "Surgery",
    "Pediatrics", "Paediatrics", "Orthopedics", "Orthopaedics", "Obstetrics", "Psychiatry",
    "Attending", "Resident", "Fellow", "Registrar", "Consultant", "Physician", "Radiographer",
    "Technologist", "Technician", "Tech", "Sonographer", "Referring", "Patient", "Tele",
    "Siemens", "Healthineers", "Philips", "General", "Canon", "Toshiba", "Hitachi", "Fujifilm",
    "Fuji", "Agfa", "Carestream", "Hologic", "Konica", "Samsung", "Mindray", "Esaote", "Varian",
    "Elekta", "Shimadzu", "United", "Neusoft",
)  # fmt: skip
# ... and the -ologies and -ologists ("Referred by Cardiology", "Read by Neuroradiology")
_NOT_NAME = rf"(?!(?:{'|'.join(NOT_NAMES)})\b|[A-Z][a-z]*olog(?:y|ist)s?\b)"
# a name after a role, a relation or "Signed by": not a title ("seen by Dr X" is found at
# "Dr"), a code ("seen by ENT") nor one of the words above
_NAME_NOT_TITLE = rf"(?!{_ANY_TITLE}){_NOT_CODE}{_NOT_NAME}{_LATIN_NAME}"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
_NOT_TITLE = "(?!" + "|".join(CJK_TITLES_AFTER) + ")"
_SURNAME = f"(?:{'|'.join(sorted(COMPOUND_SURNAMES))}|[{CJK_SURNAMES}])"
_GIVEN = f"[{_HAN}](?:(?![{CJK_NAME_STOPS}])[{_HAN}])?"  # one or two characters
# Report words that start with a family-name character, found after 患者/医生 or before
# 医生: "患者于今日复查" (于 is also a surname), "患者左侧胸痛", "管床医生", "高年资医师"
CJK_NOT_NAMES = (
    r"于(?:今|昨|前|本|我|外|当|次|上|下|床|检|门|急|入|术|院|该|此|\d|[一二三四五六七八九十])",
    "曾(?:行|于|在|有|因|患|经|做|服|接|出|住|就|来)", "尚(?:可|未|好|不|能|无|需)",
    "何(?:时|处|种|故)", "左(?:侧|下|上|肺|肾|心|肝|乳|前|后)",
    "高(?:血|热|龄|年|度|危|脂|密|信|分)",
    "白(?:细|蛋|色)", "谷(?:丙|草|氨)", "舒张", "甘油", "胡言", "焦虑", "管床", "华法", "严重",
    "单(?:侧|发|纯|个)", "毛细", "程度", "方(?:可|能|案)", "申请", "温度", "金属", "石膏", "包块",
    "关节", "相关", "宁可", "江河", "乔治",
)  # fmt: skip
_NOT_CJK_WORD = "(?!" + "|".join(CJK_NOT_NAMES) + ")"
# a character of a name before a title: not the title, nor a department's 科 or 室 (呼吸科医生)
_NAME_BEFORE_TITLE = f"{_NOT_TITLE}(?![科室])[{_HAN}]"


def _alternatives(words: Iterable[str]) -> str:
    """*words* as a regex alternation, their spaces matching any run of whitespace."""
    return "|".join(r"\s+".join(map(re.escape, word.split())) for word in words)


# A name after a title may be in short capitals ("Dr. WU", "MR. LI WEI", "Dr OU"): a title
# in capitals needs a period, so "MR CT" is no title; a credential is no name ("Nurse RN").
_NAME_AFTER_TITLE = (
    rf"(?!{_ANY_TITLE}|(?:{_alternatives(CREDENTIALS)})(?![^\W_]))"
    rf"(?:(?-i:[A-Z]{{1,3}}[ \t]+[A-Z]{{1,3}})(?!\w|['\u2019])|{_LATIN_NAME})"
)
_TITLED_NAME = re.compile(
    # a title: "Dr Smith", "dr smith" (not "90 ms Flip Angle"), "MR. SMITH", "Nurse: Amy Pond"
    rf"(?<![^\W_])(?:(?:(?-i:{_alternatives(SHORT_TITLES)}"
    rf"|(?<!\d\s)(?<!\d\s\s)(?:{_alternatives(map(str.lower, SHORT_TITLES))})))"
    rf"(?:\.\s*|(?<![Mm]x)\s*[:：]\s*|\s+|_)"  # "Mx: Conservative" is management
    rf"|(?-i:{_alternatives(map(str.upper, SHORT_TITLES))})\.\s*"
    rf"|(?i:{_alternatives(TITLES)})(?:\.\s*|\s*[:：]\s*|\s+))"
    rf"(?:[A-Za-z]\.\s*)*(?P<titled>{_NAME_AFTER_TITLE}(?:\s*(?:and|&)\s+{_NAME_AFTER_TITLE})?)"
    # a role or a relation: "Escort: Rosamund Quillfeather", "Signed by Thomas Anderson"
    rf"|(?<![^\W_])(?:(?i:{_alternatives(RELATIONS + ROLES)})\s*[:：]\s*"
    rf"|(?-i:{_alternatives(map(str.lower, RELATIONS))})(?:\s*,\s*|\s+)"
    rf"|(?i:{_alternatives(SIGNED_BY)})\s+(?i:by)\s*[:：]?\s*(?:(?i:{_alternatives(ROLES)})\s+)?"
    rf"|(?i:{_alternatives(TOLD)})\s+(?i:to|with)\s+"
    rf"(?={_LATIN_NAME},?\s+(?:{_alternatives(CREDENTIALS)})(?![^\W_])))"
    rf"(?:[A-Za-z]\.\s*)*(?P<latin>{_NAME_NOT_TITLE}(?:\s*(?:and|&)\s+{_NAME_NOT_TITLE})?)"
    rf"|(?<!主)(?P<before>{_NOT_CJK_WORD}{_SURNAME}(?:{_NAME_BEFORE_TITLE}){{0,3}}?)[ \t]?"
    rf"(?:{'|'.join(CJK_TITLES_AFTER)})(?![:：])"
    rf"|姓\s?名[:：\s]*(?P<named>[{_HAN}]{_GIVEN})"
    rf"|(?:{'|'.join(CJK_TITLES_BEFORE)})[:：\s]*(?P<after>{_NOT_CJK_WORD}{_SURNAME}[ \t]?{_GIVEN})"
)
_TITLE_HINT = re.compile(
    "|".join((*SHORT_TITLES, *TITLES, *RELATIONS, *ROLES, "by", *TOLD, *CJK_TITLES_AFTER))
    + "|".join(("", *CJK_TITLES_BEFORE, "姓")),
    re.IGNORECASE,
)
_UNIT_NUMBER = re.compile(
    r"\d+(?:mg|g|kg|ug|ml|l|mm|cm|m|um|nm|kv|kvp|ma|mas|ms|s|sec|min|h|hr|hz|khz|mhz|t|mt"
    r"|gy|mgy|cgy|msv|bq|mbq|mci|ppm|deg|px|mmhg|bpm|iu|u|cc|f|fr|hu|pg|ng|ug|umol|mmol|mol"
    r"|miu|axaiu)",
    re.IGNORECASE,
)
# letters and digits that are codes, not identifiers: a matrix (512x512), a TNM stage
# (cT2N0M0, pT1aN0M0), a series or image label (SE3IM12, IM000123)
_CODE_TOKEN = re.compile(
    r"\d+x\d+(?:x\d+)?(?:mm|cm)?|[cpyra]{0,3}T[0-4x][a-d]?N[0-3x][a-c]?M[01x][a-c]?"
    r"|(?:SE|SER)\d{1,4}(?:IM|IMG|I)\d{1,6}|(?:IM|IMG)\d{1,8}"
    # iodinated contrast and its iodine concentration: ISOVUE300, Omnipaque350
    r"|(?:isovue|omnipaque|visipaque|ultravist|iomeron|imeron|optiray|xenetix|iopamiro"
    r"|niopam|hexabrix|conray|ioversol|iohexol|iopamidol|iodixanol|iopromide|iomeprol)-?\d{3}",
    re.IGNORECASE,
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
VR_MAX_CHARS: Mapping[str, int] = {
    "AE": 16,
    "CS": 16,
    "SH": 16,
    "LO": 64,
    "PN": 64,
    "ST": 1024,
    "LT": 10240,
    "UC": 2**32 - 2,
    "UT": 2**32 - 2,
}


@dataclass(frozen=True)
class PhiSpan:
    """Characters ``text[start:end]`` are identifying, of the given kind."""

    start: int
    end: int
    kind: str


def resident_id_checksum_ok(value: str) -> bool:
    """ISO 7064 MOD 11-2 check of an 18-character Chinese resident ID (GB 11643).

    >>> resident_id_checksum_ok("11010519491231002X"), resident_id_checksum_ok("110105194912310021")
    (True, False)
    """
    if len(value) != 18 or not value[:17].isdecimal():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == value[17].upper()


def fit_to_vr(text: str, vr: str) -> str:
    """Truncate *text* to the maximum length (in characters) of *vr*, if it has one.

    >>> fit_to_vr("*** at ***, ward 3", "SH")
    '*** at ***, ward'
    """
    limit = VR_MAX_CHARS.get(vr)
    if limit is None or len(text) <= limit:
        return text
    return text[:limit].rstrip()


class PhiLexicon:
    """The identifying strings of one dataset, and a detector of PHI in free text.

    *terms* maps each literal identifying string to its kind (``"name"``,
    ``"id"``...); a plain iterable gets kind ``"phi"``. Unusable terms (too
    short, clinical vocabulary, placeholders) are dropped. *name_sounds* are
    the Mandarin syllables of the patient's and other people's names
    (:mod:`medveil.deid.pinyin`): hanzi in text that sound like one of them are
    that name, in traditional or simplified characters, or the characters of a
    name the header holds only in pinyin.
    """

    def __init__(
        self, terms: Mapping[str, str] | Iterable[str] = (), name_sounds: Iterable[Sounds] = ()
    ) -> None:
        self.name_sounds: frozenset[Sounds] = frozenset(name_sounds)
        self._sounds = SoundIndex(self.name_sounds)
        pairs = terms.items() if isinstance(terms, Mapping) else ((t, "phi") for t in terms)
        kinds: dict[str, str] = {}
        kept: set[str] = set()
        for term, kind in pairs:
            term = term.strip()
            if term.isascii():  # the common case, in short: its fold is its lower case
                folded = " ".join(term.lower().split())
                if folded in kinds or _usable(term):
                    kinds.setdefault(folded, kind)
                    kept.add(term)
                continue
            if not _usable(term):
                continue
            for spelling in (term, *_transliterations(term)):
                folded = fold(spelling)[0].strip()
                if spelling is term or (_usable(folded) and folded not in kinds):
                    kept.add(spelling)
                if _usable(folded):
                    kinds.setdefault(folded, kind)
        # (folded term, needs word boundaries, kind), longest first
        self._entries = sorted(
            ((term, not _UNSPACED_CHAR.search(term), kind) for term, kind in kinds.items()),
            key=lambda entry: -len(entry[0]),
        )
        # the same by their first two characters: short texts are scanned position by position
        self._index: dict[str, list[tuple[str, bool, str]]] = {}
        for entry in self._entries:
            self._index.setdefault(entry[0][:2], []).append(entry)
        self.terms: frozenset[str] = frozenset(kept)
        # the digits of the IDs and phone numbers, found again when written in groups
        self._numbers = frozenset(
            t for t, k in kinds.items() if k in ("id", "phone") and t.isdigit() and len(t) >= 6
        )
        # and their beginnings: joining groups stops as soon as the digits begin none of them,
        # so a page of "0 0 0 ..." or "1-1-1-..." costs one pass, not one per pair of groups
        self._number_prefixes = frozenset(n[:i] for n in self._numbers for i in range(1, len(n)))

    @classmethod
    def from_dataset(cls, ds: Dataset) -> PhiLexicon:
        """Collect every identifying string of *ds*, its sequences and its file meta.

        The files of a series hold the same identifying values: the lexicon of a
        set of values is built once and shared (lexicons are never modified).
        """
        return _lexicon_of(tuple(_text_values(ds)))

    def __repr__(self) -> str:
        return f"PhiLexicon({len(self.terms)} terms)"  # never the terms: they are PHI

    def __bool__(self) -> bool:
        return bool(self.terms)

    def find(self, text: str) -> list[PhiSpan]:
        """Spans of *text* that are PHI (lexicon hits and patterns), sorted, non-overlapping."""
        if not _ALNUM.search(text):
            return []
        candidates = list(self._lexicon_hits(text))
        if self._sounds and _UNSPACED_CHAR.search(text):
            candidates.extend(PhiSpan(*span, "name") for span in self._sounds.find(text))
        if self._numbers:
            candidates.extend(self._grouped_numbers(text))
        candidates.extend(_titled_names(text))
        if _PATTERN_HINT.search(text):
            candidates.extend(_pattern_hits(text))
        return _merge(candidates)

    def has_pattern_phi(self, text: str, kinds: Collection[str] = PATTERN_ALERT_KINDS) -> bool:
        """Whether *text* holds PHI of one of *kinds* that needs no lexicon (an e-mail
        address, a URL, a date, a phone number, a number after an ID label, a name after a
        title...)."""
        if "name" in kinds and any(_titled_names(text)):
            return True
        if not _PATTERN_HINT.search(text):
            return False
        return any(span.kind in kinds for span in _pattern_hits(text))

    def scrub(self, text: str) -> str:
        """*text* with every PHI span replaced by :data:`MARKER`; all else unchanged."""
        spans = self.find(text)
        if not spans:
            return text
        pieces: list[str] = []
        position = 0
        for span in spans:
            pieces.append(text[position : span.start])
            pieces.append(MARKER)
            position = span.end
        pieces.append(text[position:])
        return "".join(pieces)

    def _grouped_numbers(self, text: str) -> Iterator[PhiSpan]:
        """The header's own IDs and phone numbers written in groups (``1234 5678``,
        ``12-345-678`` for ``12345678``; ``778-1234`` for ``A7781234``): runs of digit
        groups whose digits, joined, are one of them."""
        for run in _DIGIT_RUN.finditer(text):
            groups = list(_DIGITS.finditer(text, run.start(), run.end()))
            for i, first in enumerate(groups):
                digits = first.group()
                for j in range(i + 1, len(groups)):  # not groups[i + 1 :]: a copy for each i
                    if digits not in self._number_prefixes:
                        break
                    last = groups[j]
                    digits += last.group()
                    if digits in self._numbers:
                        yield PhiSpan(first.start(), last.end(), "id")

    def _lexicon_hits(self, text: str) -> Iterator[PhiSpan]:
        """Every occurrence of a term: substring search in the folded text (no regex to
        compile per lexicon), with the word-boundary check only where a term occurs."""
        if not self._entries:
            return
        folded, origin = fold(text)
        if len(folded) < 2 * len(self._entries):  # cheaper than one find() per term
            index = self._index
            for start in range(len(folded) - 1):
                for term, bounded, kind in index.get(folded[start : start + 2], ()):
                    end = start + len(term)
                    if folded.startswith(term, start) and (
                        not bounded or _at_word_boundaries(folded, start, end)
                    ):
                        yield from _name_span(text, origin, start, end, kind)
            return
        for term, bounded, kind in self._entries:
            start = folded.find(term)
            while start >= 0:
                end = start + len(term)
                if not bounded or _at_word_boundaries(folded, start, end):
                    yield from _name_span(text, origin, start, end, kind)
                start = folded.find(term, start + 1)


def _name_span(
    text: str, origin: list[int] | None, start: int, end: int, kind: str
) -> Iterator[PhiSpan]:
    """The span of a term found at folded ``[start, end)``, unless it is a two-letter name
    not standing as a name (:func:`_short_name_at`)."""
    span = _span_in(text, origin, start, end, kind)
    if end - start > 2 or _short_name_at(text, span):
        yield span


def _short_name_at(text: str, span: PhiSpan) -> bool:
    """Whether a two-letter name (Li, Ma, Wu, He: common Chinese family names) stands
    here as a name: written as a name is (``Li``, ``LI``, ``li``), not as a unit (``mA``),
    and not as the first part of a reporting system (``LI-RADS``)."""
    found = text[span.start : span.end]
    if not found.isascii() or not found.isalpha():
        return True  # hanzi and other scripts: a two-character name is a whole name
    if not (found.isupper() or found.islower() or found.istitle()):
        return False
    return not text.startswith("-RADS", span.end)


def fold(text: str) -> tuple[str, list[int] | None]:
    """*text* folded for matching, and where each folded character comes from.

    Lower case; compatibility forms (full-width Latin, half-width katakana) to
    their plain forms (NFKC); accents and other combining marks removed
    (``Jürgen``, ``Ju\u0308rgen`` -> ``jurgen``, ``ΠΑΠΑΔΟΠΟΎΛΟΥ`` -> ``παπαδοπουλου``,
    ``Соловьёв`` -> ``соловьев``); ``ß`` -> ``ss``, ``ø`` -> ``o``, ``æ`` -> ``ae``...;
    katakana as hiragana (``ヤマダ``, ``やまだ``); traditional hanzi as simplified
    (``張`` -> ``张``); every run of whitespace one space.
    The second value maps each folded character to its index in *text* (None
    when the two line up one to one, as for plain ASCII text: the common case
    costs one ``lower()``).

    >>> fold("Ｍüller  Ø")
    ('muller o', [0, 1, 2, 3, 4, 5, 6, 8, 9])
    """
    if text.isascii() and not _ODD_SPACE.search(text):
        return text.lower(), None
    out: list[str] = []
    origin: list[int] = []
    space = False
    for index, char in enumerate(text):
        folded = _fold_char(char)
        if not folded:
            continue
        if folded == " ":
            if space:
                continue
            space = True
        else:
            space = False
        out.append(folded)
        origin.extend([index] * len(folded))
    origin.append(len(text))
    return "".join(out), origin


@lru_cache(maxsize=16384)
def _fold_char(char: str) -> str:
    if char.isspace():
        return " "
    if char.isascii():
        return char.lower()
    if unicodedata.category(char) == "Cf":  # soft hyphen, zero-width (non-)joiners/spaces
        return ""
    decomposed = unicodedata.normalize("NFKD", char)
    base = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    # NFC puts Hangul syllables (which NFKD splits into jamo) back together
    folded = unicodedata.normalize("NFC", "".join(_SPECIAL_FOLDS.get(c, c) for c in base))
    # katakana as hiragana: a Japanese name is read either way (ヤマダ, やまだ); traditional
    # hanzi as simplified: one Chinese name in either script (張偉明, 张伟明)
    return "".join(
        chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else simplified(c) for c in folded
    )


def _transliterations(term: str) -> set[str]:
    """German and Nordic ASCII spellings of a name (``Müller`` -> ``Mueller``; ``Ødegård`` ->
    ``Oedegaard``, ``Odegaard``...): folding alone gives ``Muller`` and ``Odegard``."""
    if term.isascii():
        return set()
    spellings = {""}
    for char in unicodedata.normalize("NFC", term):
        options = _TRANSLITERATIONS.get(char.lower())
        if options is None:
            spellings = {s + char for s in spellings}
        else:
            upper = char.isupper()
            spellings = {s + (o.capitalize() if upper else o) for s in spellings for o in options}
        if len(spellings) > 16:  # a name with many umlauts: the folded form still matches
            return set()
    return spellings - {term}


def _at_word_boundaries(folded: str, start: int, end: int) -> bool:
    return (start == 0 or not _is_word_char(folded[start - 1])) and (
        end == len(folded) or not _is_word_char(folded[end])
    )


def _is_word_char(char: str) -> bool:
    """A letter or digit that joins a word (CJK characters do not: those scripts have no
    spaces, so ``Smith先生`` still holds the word ``Smith``)."""
    return char.isalnum() and not _UNSPACED_CHAR.match(char)


def _span_in(text: str, origin: list[int] | None, start: int, end: int, kind: str) -> PhiSpan:
    """The span of *text* behind folded characters ``[start, end)``, with any combining
    marks that follow it."""
    if origin is None:
        return PhiSpan(start, end, kind)
    first, last = origin[start], origin[end - 1] + 1
    while last < len(text) and unicodedata.combining(text[last]):
        last += 1
    return PhiSpan(first, last, kind)


@lru_cache(maxsize=64)
def _lexicon_of(values: tuple[tuple[str, str, str], ...]) -> PhiLexicon:
    found: dict[str, str] = {}
    sounds: set[Sounds] = set()
    for keyword, vr, value in values:
        if vr == "PN":
            for spelling in _name_spellings(value):
                found.setdefault(spelling, "name")
            sounds |= _name_sounds(value)
        elif keyword in SOURCES:
            kind = SOURCES[keyword]
            for variant in _variants(value, kind):
                found.setdefault(variant, kind)
    return PhiLexicon(found, sounds)


def _usable(term: str) -> bool:
    """Long enough to be identifying and not an ordinary clinical word."""
    key = " ".join(term.split()).casefold()
    if key in CLINICAL_WORDS or key in NAME_PARTICLES:
        return False
    return len(_ALNUM.findall(term)) >= 2


# Full-width digits, letters and @ . - / as their ASCII forms: one character for one, so
# spans found in the translation are spans of the text ("９２岁", "ｚｗｍ＠163.com")
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def _pattern_hits(text: str) -> Iterator[PhiSpan]:
    text = text.translate(_HALF_WIDTH)
    for match in _PATTERN.finditer(text):
        kind = _KIND_OF_GROUP[match.lastgroup or ""]
        value = match.group()
        start, end = match.span()
        if kind == "resident_id" and not resident_id_checksum_ok(_DIGIT_SEPARATORS.sub("", value)):
            kind = "id"
        elif kind in _LABELLED:  # the value only: the label is not PHI
            start, end = match.span(f"{kind}_value")
            if len(_DIGIT.findall(text, start, end)) < 3:
                continue
            kind = _LABELLED[kind]
        elif kind == "alnum":
            if len(_DIGIT.findall(value)) < 3 or _UNIT_NUMBER.fullmatch(value):
                continue
            if _CODE_TOKEN.fullmatch(value):
                continue
            kind = "id"
        elif kind == "age_sex":
            if _TEMPERATURE_BEFORE.search(text, max(0, start - 24), start):
                continue
            kind = "age"
        elif kind == "phone" and not 7 <= len(_DIGIT.findall(value)) <= 15:
            continue
        elif kind == "grouped":  # 9+ digits, two groups of 3+ (a list of small numbers is not)
            groups = _DIGITS.findall(value)
            if sum(map(len, groups)) < 9 or sum(len(g) >= 3 for g in groups) < 2:
                continue
            kind = "id"
        yield PhiSpan(start, end, kind)


def _titled_names(text: str) -> Iterator[PhiSpan]:
    """Names after a title (``Dr Thistlewaite``, ``Mrs Head``) or next to a Chinese one
    (``王医生``, ``患者张三``): found without the lexicon, so names no attribute holds go too.
    Traditional characters are read as simplified (``李醫生``, ``患者張三``), one for one."""
    if not text.isascii():
        text = "".join(map(simplified, text))
    if not _TITLE_HINT.search(text):  # the cheap test first: most text has no title
        return
    for match in _TITLED_NAME.finditer(text):
        group = match.lastgroup or ""
        if group:
            yield PhiSpan(match.start(group), match.end(group), "name")


def _merge(spans: list[PhiSpan]) -> list[PhiSpan]:
    """Union of overlapping spans; a merged span keeps the kind of its earliest, longest part."""
    spans.sort(key=lambda s: (s.start, -s.end))
    merged: list[PhiSpan] = []
    for span in spans:
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            if span.end > last.end:
                merged[-1] = PhiSpan(last.start, span.end, last.kind)
        else:
            merged.append(span)
    return merged


def _text_values(ds: Dataset) -> Iterator[tuple[str, str, str]]:
    """(keyword, VR, value) for every string value in *ds*, its sequences and file meta.

    Values go through :func:`~medveil.deid.charset.clean_decoded_text`, so an
    ISO 2022 IR 58 name yields the same terms as its UTF-8 spelling (and text
    that could not be decoded fails closed with ``CharsetError``). Without a
    (0008,0005), non-ASCII text is also read as UTF-8 and GB18030
    (:func:`~medveil.deid.charset.undeclared_readings`): undeclared Chinese
    text then still yields the terms OCR will find in the pixels.
    """
    undeclared = "SpecificCharacterSet" not in ds
    meta = getattr(ds, "file_meta", None)
    datasets = [meta, ds] if isinstance(meta, Dataset) else [ds]
    for dataset in datasets:
        for elem in _identifying_elements(dataset):
            values = elem.value if isinstance(elem.value, MultiValue | list) else [elem.value]
            for value in values:
                if value is None or isinstance(value, bytes):
                    continue
                text = clean_decoded_text(str(value))
                readings = undeclared_readings(text) if undeclared else set()
                for reading in (text, *readings):
                    for spelling in {reading, _without_invisibles(reading)}:
                        if spelling.strip():
                            yield elem.keyword, elem.VR, spelling


def _without_invisibles(text: str) -> str:
    """*text* as it reads: without a byte-order mark, soft hyphens and zero-width characters,
    and with each undecodable byte (U+FFFD) and control character a space, so that
    ``\ufeffSMITH^JOHN``, ``SMI\u00adTH`` and ``JOHN\ufffd`` are learnt as ``SMITH`` and ``JOHN``.

    >>> _without_invisibles("\ufeffSMI\u00adTH^JOHN\ufffd")
    'SMITH^JOHN '
    """
    if text.isascii() and text.isprintable():
        return text
    return "".join(_as_read(char) for char in text)


def _as_read(char: str) -> str:
    if unicodedata.category(char) == "Cf":
        return ""
    return " " if char == "\ufffd" or char < " " else char


def _identifying_elements(dataset: Dataset) -> Iterator[DataElement]:
    """PN and :data:`SOURCES` elements at any depth, leaving every other element undecoded.

    Converting all raw elements (as ``iterall`` does) would cost more than the
    rest of the lexicon; only sequences and the elements wanted are touched.
    """
    for tag in list(dataset.keys()):
        vr = element_vr(dataset, tag)
        if vr == "SQ":
            for item in dataset[tag].value:
                yield from _identifying_elements(item)
        elif vr == "PN" or int(tag) in SOURCE_TAGS:
            yield dataset[tag]


def _name_spellings(value: str) -> set[str]:
    """Every spelling of a PN value: each group (alphabetic, ideographic, phonetic) separately."""
    spellings: set[str] = set()
    groups = value.split("=")
    for group in groups:
        if group.strip(" ^"):
            spellings.add(group.strip(" ^"))
            spellings |= _group_spellings(group)
    spellings |= {
        plain
        for spelling in spellings
        if spelling.isascii()
        and (plain := _SPELLED_UMLAUT.sub(r"\1", spelling)) != spelling
        and len(_ALNUM.findall(plain)) >= 4  # not Jo from Joe
    }
    return spellings | _pinyin_spellings(groups) | _romanised_spellings(groups)


def _romanised_spellings(groups: list[str]) -> set[str]:
    """A hanzi name as it is also written: its given name alone, spaced out (``张 伟 明``),
    and in pinyin (``张^伟明``: ``Zhang Weiming``, ``ZHANG Wei-Ming``, ``Wei Ming Zhang``,
    ``W. Zhang``...): the header may hold only the characters."""
    out: set[str] = set()
    for group in groups:
        if not _UNSPACED_CHAR.search(group) or (parts := split_name(group)) is None:
            continue
        family, given = parts
        out |= {given, " ".join(family + given)}
        for family_syllables, given_syllables in romanisations(group):
            surname = "".join(family_syllables).capitalize()
            forename = "".join(given_syllables).capitalize()
            out |= _group_spellings(f"{surname}^{forename}")
            if len(given_syllables) > 1:
                for joiner in (" ", "-"):
                    spelled = joiner.join(s.capitalize() for s in given_syllables)
                    out |= {f"{surname} {spelled}", f"{spelled} {surname}"}
    return out


def _name_sounds(value: str) -> set[Sounds]:
    """How the pinyin names of a PN value sound in Mandarin, family name first: its Latin
    groups that cut into 3 or 4 pinyin syllables (``ZHANG^WEIMING``), whose hanzi the
    text may hold.

    Names of two syllables are left out: their sounds are everyday words of a report
    (``WEI^JIAN`` sounds like 未见, "not seen"; ``ZHENG^CHANG`` like 正常, "normal").
    Hanzi groups are matched as written, never by sound, for the same reason
    (周伟建 sounds like 周围见, "seen around").
    """
    out: set[Sounds] = set()
    for group in value.split("="):
        if _UNSPACED_CHAR.search(group):
            continue
        family, _, rest = group.partition("^")
        given = rest.split("^")[0]
        latin = [_PINYIN_JOINERS.sub("", part).lower() for part in (family, given)]
        if not all(part.isascii() and part.isalpha() for part in latin if part):
            continue
        if latin[1]:  # family and given cut apart, as the caret says
            cuts = [(f, g) for f in (1, 2) for g in (1, 2, 3) if 3 <= f + g <= 4]
            for head, tail in cuts:
                for f in _segmentations(latin[0], head):
                    out |= {tuple(f + g) for g in _segmentations(latin[1], tail)}
        else:
            for count in (3, 4):
                out |= {tuple(s) for s in _segmentations(latin[0], count)}
    return out


_PINYIN_INITIALS = _words("b p m f d t n l g k h j q x zh ch sh r z c s")
_PINYIN_FINALS = _words(
    "a o e ai ei ao ou an en ang eng ong i ia ie iao iu ian in iang ing iong u ua uo uai ui uan"
    " un uang v ve"
)
PINYIN_SYLLABLES = frozenset(
    {i + f for i in _PINYIN_INITIALS for f in _PINYIN_FINALS}
    | _words("a o e ai ei ao ou an en ang eng er")
    | _words("yi ya ye yao you yan yin yang ying yong yu yue yuan yun")
    | _words("wu wa wo wai wei wan wen wang weng")
)


def _pinyin_spellings(groups: list[str]) -> set[str]:
    """``ZHANGWEIMING=张伟明``: the run-together pinyin of an n-character Chinese name, cut
    into n syllables, as it is written elsewhere (``Zhang Weiming``, ``Weiming Zhang``)."""
    latin = groups[0].strip(" ^")
    han = "".join(_UNSPACED_CHAR.findall("".join(groups[1:2])))
    if not (2 <= len(han) <= 4 and latin.isalpha() and latin.isascii() and "^" not in latin):
        return set()
    out: set[str] = set()
    for syllables in _segmentations(latin.lower(), len(han)):
        for cut in (1, 2) if len(syllables) == 4 else (1,):
            family = "".join(syllables[:cut]).capitalize()
            given = "".join(syllables[cut:]).capitalize()
            out |= {f"{family} {given}", f"{given} {family}", f"{family}, {given}"}
            out.add(" ".join(s.capitalize() for s in syllables))
    return out


def _segmentations(text: str, count: int) -> list[list[str]]:
    """Ways to cut *text* into exactly *count* pinyin syllables (at most four)."""
    if count == 0:
        return [[]] if not text else []
    found: list[list[str]] = []
    for length in range(1, min(6, len(text)) + 1):
        head = text[:length]
        if head in PINYIN_SYLLABLES:
            found += [[head, *rest] for rest in _segmentations(text[length:], count - 1)]
        if len(found) >= 4:
            break
    return found[:4]


def _group_spellings(group: str) -> set[str]:
    family, given, middle = (part.strip() for part in [*group.split("^"), "", ""][:3])
    out: set[str] = set()
    for component in (family, given, middle):
        out.add(component)
        out.add(_JOINERS.sub("", component))
        out.update(_TOKEN_SPLIT.split(component))
    if _UNSPACED_CHAR.search(group):  # CJK: no spaces, no initials
        out.add(family + given + middle)
        out.add(" ".join(p for p in (family, given, middle) if p))
        return out
    forenames = " ".join(p for p in (given, middle) if p)
    if not (family and forenames):
        return out
    initials = [word[0] for word in forenames.split()]
    dotted = ".".join(initials) + "."
    firsts = {given, forenames, "".join(initials), dotted, ". ".join(initials) + "."}
    firsts |= {initials[0], initials[0] + "."}
    if len(initials) > 1:  # "John P. Smith", "John P Smith"
        firsts |= {f"{given} {initials[1]}.", f"{given} {initials[1]}"}
    for first in firsts - {""}:
        out |= {f"{first} {family}", f"{family} {first}", f"{family}, {first}"}
    out |= {family + given, given + family}  # pinyin is often run together: LIUYANGFAN
    out |= {f"{dotted}{family}", f"{initials[0]}.{family}", f"{dotted}{family[0]}."}
    return out


def _variants(value: str, kind: str) -> set[str]:
    """The spellings under which an identifying attribute value may appear in text."""
    value = value.strip()
    out = {value}
    if kind == "date":
        out |= _date_spellings(value)
    elif kind in ("id", "phone"):
        digits = "".join(_DIGIT.findall(value))
        if len(digits) >= 4:
            out.add(digits)
        unpadded = digits.lstrip("0")  # "00042117" is typed "42117"
        if unpadded != digits and len(unpadded) >= 4:
            out.add(unpadded)
        unprefixed = _ID_PREFIX.sub("", value)  # "MRN-0042-77" is also written "0042-77"
        if len(unprefixed) >= 4:
            out.add(unprefixed)
    elif kind == "address":
        out.update(part.strip() for part in re.split(r"[,;\n^]", value) if len(part.strip()) >= 4)
    return out


def _date_spellings(da: str) -> set[str]:
    """Common spellings of a DA value ``YYYYMMDD`` (other shapes: none)."""
    if not re.fullmatch(r"\d{8}", da):
        return set()
    y, m, d = da[:4], da[4:6], da[6:]
    month_name = _MONTHS[int(m) - 1] if 1 <= int(m) <= 12 else ""
    out = {f"{y}-{m}-{d}", f"{y}/{m}/{d}", f"{y}.{m}.{d}", f"{d}/{m}/{y}", f"{m}/{d}/{y}"}
    out |= {f"{d}.{m}.{y}", f"{d}-{m}-{y}", f"{y}年{int(m)}月{int(d)}日", f"{y}年{m}月{d}日"}
    yy = y[2:]  # 17/04/61, 4/17/61, 17.4.61: the patterns leave dotted ones (versions) alone
    for day, month in ((d, m), (str(int(d)), str(int(m)))):
        out |= {f"{day}.{month}.{yy}", f"{day}/{month}/{yy}", f"{month}/{day}/{yy}"}
    if month_name:
        out |= {f"{int(d)} {month_name} {y}", f"{month_name} {int(d)}, {y}"}
        out |= {f"{int(d)} {month_name[:3]} {y}", f"{d}-{month_name[:3]}-{y}"}
        out |= {f"{int(d)} {month_name[:3]} {yy}", f"{d}-{month_name[:3]}-{yy}"}
    return out
