"""Pattern recognizers: presidio's stock ones plus the ones that fill its gaps.

Everything here is a presidio ``EntityRecognizer`` (mostly ``PatternRecognizer`` subclasses), so
the same objects also plug into a presidio ``AnalyzerEngine``. Entity names are ours and double as
placeholders (``EMAIL`` -> ``<EMAIL>``); presidio's recognizers are built with those names.

Gaps filled, each with a test in tests/pii/test_recognizers.py:

* Full-width forms. ``１３８１２３４５６７８`` and ``abc＠example.com`` are typed by Chinese and
  Japanese input methods; ``analyze`` gives the recognizers the text folded to ASCII, with the
  same offsets (curate/pii/fold.py), so every pattern and checksum below stays ASCII.
* CJK-safe anchors. Chinese and Japanese text has no spaces, and CJK characters are ``\\w``, so
  presidio's ``\\b`` never fires in ``电话13812345678`` and its email pattern swallows the Chinese
  text before ``abc@x.com``. Our anchors only look at ASCII letters and digits.
* Cards: every brand and length from 12 to 19 digits that passes Luhn (presidio's regex stops at
  17 digits and at a few prefixes; UnionPay 19-digit cards and Maestro are missed).
* Phones: presidio validates with libphonenumber at leniency VALID (no false hits on dates,
  prices or version strings, but fictitious and some national formats are missed), here for
  every region of ``phone_regions`` on every row; shape patterns add NANP, international
  ``+CC``, CN mobile/landline (zh/ja rows), JP and FR national formats.
  libphonenumber's matcher is the costly part, so it only sees the digit runs that can hold a
  phone number of at least ``MIN_PHONE_DIGITS`` digits (``PhoneDigitsRecognizer``).
* The Chinese resident id (18 digits, GB 11643 checksum); presidio's national ids that its
  default English analyzer leaves off (UK NINO, Spanish NIF/NIE, Italian fiscal code, Korean
  RRN) and its US SSN, ASCII-anchored and run on every row; street addresses (US/UK, DE, FR,
  CN, JP shapes); IPs that are public only (loopback, private, documentation, multicast ranges,
  networks such as ``8.8.8.0/24``, dotted version strings such as ``version 1.2.3.4`` and
  section numbers are not PII by default).
* IPv6 right after a label and its colon (``IP:2607:f8b0::200e``), which presidio's anchor
  refuses so as not to match the tail of a longer colon-separated run.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import re as std_re
from collections.abc import Iterable

import regex as re
from phonenumbers import Leniency, PhoneNumberMatcher
from phonenumbers.phonenumberutil import _VALID_PUNCTUATION
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.pattern_recognizer import REGEX_TIMEOUT_SECONDS
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    DeTaxIdRecognizer,
    EmailRecognizer,
    EsNieRecognizer,
    EsNifRecognizer,
    IbanRecognizer,
    IpRecognizer,
    ItFiscalCodeRecognizer,
    KrRrnRecognizer,
    PhoneRecognizer,
    UkNinoRecognizer,
    UrlRecognizer,
    UsSsnRecognizer,
)

from curate.pii import (  # noqa: F401
    ALL_ENTITIES,
    DEFAULT_PHONE_REGIONS,
    LANGUAGE_PHONE_REGIONS,
    NER_ENTITIES,
    PATTERN_ENTITIES,
)
from curate.pii.fold import fold
from curate.pii.offline import has_public_suffix
from curate.pii.prescreen import TriggerGate

log = logging.getLogger(__name__)

# ASCII-only word boundaries: a CJK character next to a value is a boundary, a Latin letter is not.
L = r"(?<![A-Za-z0-9_])"
R = r"(?![A-Za-z0-9_])"
# Numbers: also not glued to a longer dotted/dashed number (1.2.3.4567, 2023-10-15-...).
NL = r"(?<![A-Za-z0-9_+]|[0-9][.\-/])"
NR = r"(?![A-Za-z0-9_]|[.\-/][0-9])"

CASE_SENSITIVE = re.MULTILINE  # ours: case matters (street names are Title Case)

# Languages with recognizers of their own (CN mobile and landline shapes); others: "other".
LANGUAGE_GROUPS = ("en", "zh", "ja", *LANGUAGE_PHONE_REGIONS)
# A phone number here has 7 to 15 digits (E.164 caps at 15). Shorter valid numbers exist (German
# pagers, 5-digit Hong Kong premium lines) but in text they are indistinguishable from counts.
MIN_PHONE_DIGITS = 7


# ---------------------------------------------------------------- checksums


def luhn_ok(digits: str) -> bool:
    """Luhn (mod 10) check of a digit string, as every payment card number carries."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_CN_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def cn_id_ok(value: str) -> bool:
    """GB 11643-1999 (ISO 7064 MOD 11-2) check character of an 18-character resident id."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _CN_WEIGHTS))
    return "10X98765432"[total % 11] == value[17].upper()


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


# ---------------------------------------------------------------- recognizers


class CjkSafeEmailRecognizer(EmailRecognizer):
    """presidio's email recognizer with ASCII anchors and an offline domain check."""

    PATTERNS = [
        Pattern(
            "Email (CJK-safe)",
            r"(?<![A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-])"
            r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-](?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]*"
            r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-])?"
            r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9\-]*[A-Za-z0-9]"
            r"(?![A-Za-z0-9\-])",
            0.5,
        )
    ]

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS, supported_entity="EMAIL")

    def validate_result(self, pattern_text: str) -> bool:
        return has_public_suffix(pattern_text)


# presidio's IPv6 patterns may not start right after a colon, ``(?<![\w:])``, so that they do not
# match the tail of a longer colon-separated run (``1:2:3:4:5:6:7:8:9``); but that also loses
# every address written ``IP:2001:db8::1``. A start after one colon is allowed again when what
# precedes the colon cannot be a hex group of such a run: a label with a non-hex character or
# more than four (``IP``, ``addr``, ``IPv6``, ``server``), or no ASCII word at all (``地址:``).
# The address must then start with a hex digit: in netstat's ``0 :::111`` (port 111 on ``::``),
# ``::111`` is not an address. A label ending in three hex digits or more ends in a glued group
# (``foo2001:db8::10.0.0.1``, ``12345:db8::1``: presidio's word-adjacent cases), not a name.
_AFTER_LABEL = (
    r"(?<=(?<![A-Za-z0-9_:])(?![0-9A-Fa-f]{1,4}:)[A-Za-z0-9_]*:)(?<![0-9A-Fa-f]{3}:)"
    r"(?=[0-9A-Fa-f])"
)


# After an IPv4 address only ``.digit`` says it is part of a longer dotted number: a ``/`` or
# ``-`` and a digit is a path, a range or an (even invalid) CIDR suffix (``73.162.10.20/2024``,
# ``10.0.0.1-10.0.0.9``, presidio's ``10.0.0.0/123``), after which the address is still one.
IP_R = r"(?![A-Za-z0-9_]|\.[0-9])"


def _ascii_anchored(regex: str) -> str:
    """presidio's IP patterns with their ``\\w``/``\\b`` anchors made ASCII-only, and their
    no-colon-before anchor widened to a label and its colon (``_AFTER_LABEL``)."""
    regex = regex.replace(r"\w", "A-Za-z0-9_")
    if regex.startswith(r"(?<![A-Za-z0-9_:])"):
        regex = rf"(?:(?<![A-Za-z0-9_:])|{_AFTER_LABEL})" + regex[len(r"(?<![A-Za-z0-9_:])") :]
    if regex.startswith(r"\b"):
        regex = L + regex[2:]
    if regex.endswith(r"\b"):
        regex = regex[:-2] + IP_R
    return regex


_VERSION_BEFORE = re.compile(r"(?i)(?:\bv|\bversion|\bver\.?|\brelease|\bbuild)\s*$")
# dotted section numbers read as IPv4: after "Section"/"第"/"§", inside a longer dotted number
# (30.3.1.1.21), or a heading (a line that starts with the number, then a title)
_SECTION_BEFORE = re.compile(r"(?i)(?:\bsection|\bsect\.|§|\bchapter|第|\brfc)\s*$")
_LINE_START_BEFORE = re.compile(r"(?:^|\n)[ \t]*(?:[/*#>-]+[ \t]*)*$")
_TITLE_AFTER = re.compile(r"\.?[ \t]+[^\W\d_]")


class PublicIpRecognizer(IpRecognizer):
    """presidio's IPv4/IPv6 patterns, ASCII-anchored; only globally routable addresses count.

    Loopback, private, link-local and documentation ranges are infrastructure, not a person's
    address; ``version 1.2.3.4`` is a version string.
    """

    def __init__(self, private_is_pii: bool = False) -> None:
        patterns = [Pattern(p.name, _ascii_anchored(p.regex), p.score) for p in self.PATTERNS]
        super().__init__(patterns=patterns, supported_entity="IP_ADDRESS")
        self.private_is_pii = private_is_pii

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):  # noqa: ANN001
        if regex_flags is None:
            results = pattern_results(self, text)
        else:
            results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in results if self._keep(text, r)]

    def _keep(self, text: str, r: RecognizerResult) -> bool:
        if _VERSION_BEFORE.search(text, max(0, r.start - 12), r.start):
            return False
        try:
            iface = ipaddress.ip_interface(text[r.start : r.end])
        except ValueError:
            return False
        ip = iface.ip
        if ip.version == 4 and _section_number(text, r.start, r.end):
            return False
        if ip.version == 6 and _not_an_ipv6_address(text, r.start, r.end):
            return False
        if self.private_is_pii:
            return True
        # a network (8.8.8.0/24, 2002::/16, 130.155.160.0/255.255.240.0) is many machines, and
        # multicast (ff02::1, 224.0.0.251) a group of them: neither is a person's
        if ip == iface.network.network_address and iface.network.prefixlen < iface.max_prefixlen:
            return False
        if _NETMASK_AFTER.match(text, r.end):
            return False
        return ip.is_global and not ip.is_multicast


_NETMASK_AFTER = re.compile(r"/(?:255|254|252|248|240|224|192|128|0)(?:\.\d{1,3}){3}")
# Short IPv6 forms (fewer than three groups) that are addresses: ::1, 2001::1 (decimal), and a
# four-digit hex group before the :: (fe80::1, 2a00::1, ff02::1; with a zone or a prefix also
# fe80::, 2001:db8::). Read from the sample corpus, the others are code and notation: tc
# handles (800::800), git's fd::17, reStructuredText's "degree 4::", netstat's ::1:25.
_SHORT_DECIMAL = re.compile(r"::\d{1,4}|\d{4}::\d{1,4}")
_SHORT_HEX = re.compile(r"[0-9A-Fa-f]{4}(?::[0-9A-Fa-f]{1,4})?::(?:[0-9A-Fa-f]{1,4})?")


def _not_an_ipv6_address(text: str, start: int, end: int) -> bool:
    """Is the short IPv6 form at [start, end) (fewer than three groups) code, not an address?

    Addresses: ``::1`` and ``2001::1`` unless inside a subscript (``A[::2, ::3]``, ``A[6:,
    1::3]`` are Python slices), a four-digit hex group with a digit in it before the ``::``
    (``fe80::1``, ``ff02::1``, ``2a00::1``; ending in ``::`` only with a zone or a prefix:
    ``fe80::/10``). Not: ``a::b``, ``800::800``, ``fd::17``, ``4::``, and right after a colon the
    tail of a longer run (``text2001:db8::1``), which presidio refuses too."""
    value = text[start:end]
    if "." in value:
        return False  # an embedded IPv4 (::ffff:192.0.2.1)
    addr = re.split(r"[%/]", value, maxsplit=1)[0]
    if len([g for g in addr.split(":") if g]) >= 3:
        return False
    if text[start - 1 : start] == ":":
        return True
    if _SHORT_DECIMAL.fullmatch(addr):
        return _in_subscript(text, start)
    if not any(c.isdigit() for c in addr) or not _SHORT_HEX.fullmatch(addr):
        return True
    # ending in :: only as a prefix (2001:db8::/32; /9999, an invalid one, still says so)
    return addr.endswith("::") and addr == value and text[end : end + 1] != "/"


def _in_subscript(text: str, start: int, reach: int = 40) -> bool:
    """Is ``start`` inside ``name[...`` (an unclosed ``[`` right after a name, ``)`` or ``]``)?"""
    i = text.rfind("[", max(0, start - reach), start)
    if i <= 0 or "]" in text[i:start]:
        return False
    return text[i - 1].isalnum() or text[i - 1] in "_)]"


def _section_number(text: str, start: int, end: int) -> bool:
    """Is the dotted quad at [start, end) a section number rather than an IPv4 address?"""
    if text[start - 2 : start][-2:-1].isdigit() and text[start - 1 : start] == ".":
        return True  # 1.30.3.1.1
    if text[end : end + 1] == "." and text[end + 1 : end + 2].isdigit():
        return True  # 30.3.1.1.21
    if _SECTION_BEFORE.search(text, max(0, start - 12), start):
        return True
    if max(int(p) for p in re.findall(r"\d+", text[start:end])[:4]) > 99:
        return False  # headings are numbered 1.2.3.4, not 198.247.93.211
    return bool(
        _LINE_START_BEFORE.search(text, max(0, start - 40), start) and _TITLE_AFTER.match(text, end)
    )


class AllCardsRecognizer(PatternRecognizer):
    """Payment cards of every brand, 12-19 digits, contiguous or grouped, Luhn-checked."""

    PATTERNS = [
        Pattern("card (contiguous)", NL + r"[1-6]\d{11,18}" + NR, 0.3),
        # one separator throughout, so that ``4012-8888-8888-1881 4012 8888 8888 1881`` is two
        # cards, not a Luhn-invalid run that swallows the start of the second
        Pattern("card (grouped)", NL + r"[1-6]\d{3}([ \-])\d{3,6}(?:\1\d{3,6}){1,3}" + NR, 0.3),
    ]

    def __init__(self) -> None:
        super().__init__("CREDIT_CARD", patterns=self.PATTERNS, global_regex_flags=CASE_SENSITIVE)

    def validate_result(self, pattern_text: str) -> bool:
        d = _digits(pattern_text)
        if not 12 <= len(d) <= 19 or not luhn_ok(d):
            return False
        if d[0] == "1":  # UATP: 15 digits (presidio also rejects 13-digit numbers starting 1)
            return len(d) >= 14
        if len(d) == 12:  # only Maestro issues 12-digit cards
            return d[:2] in ("50", "56", "57", "58") or d[0] == "6"
        return True


class CnResidentIdRecognizer(PatternRecognizer):
    """The 18-character PRC resident identity number: region, birth date, sequence, checksum."""

    PATTERNS = [
        Pattern(
            "CN resident id",
            NL
            + r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
            + R,
            0.4,
        )
    ]

    def __init__(self) -> None:
        super().__init__("CN_ID", patterns=self.PATTERNS, global_regex_flags=CASE_SENSITIVE)

    def validate_result(self, pattern_text: str) -> bool:
        return cn_id_ok(pattern_text)


def _ascii_words(patterns: list[Pattern], left: str, right: str) -> list[Pattern]:
    """presidio's ``\\b...\\b`` patterns with ASCII-only anchors instead, so that a value
    touching CJK text (``详情078-05-1123谢谢``) is found."""
    out = []
    for p in patterns:
        assert p.regex.startswith(r"\b") and p.regex.endswith(r"\b"), p.regex
        out.append(Pattern(p.name, left + p.regex[2:-2] + right, p.score))
    return out


class UkNinoAsciiRecognizer(UkNinoRecognizer):
    """presidio's UK National Insurance number (two prefix letters, six digits, suffix A-D;
    off in presidio's defaults), ASCII-anchored (``保险号AA123456B``)."""

    def __init__(self) -> None:
        patterns = _ascii_words(UkNinoRecognizer.PATTERNS, L, R)
        super().__init__(patterns=patterns, supported_entity="UK_NINO")


def national_id_recognizers(wanted: set[str]) -> list[EntityRecognizer]:
    """presidio's national ids with their own checks (Spanish NIF/NIE check letter, Italian
    fiscal code check character, Korean RRN date and check digit), ASCII-anchored; presidio
    ships them but its default analyzer does not run them for English."""
    out: list[EntityRecognizer] = []
    for entity, cls in (
        ("ES_NIF", EsNifRecognizer),
        ("ES_NIE", EsNieRecognizer),
        ("IT_FISCAL_CODE", ItFiscalCodeRecognizer),
        ("KR_RRN", KrRrnRecognizer),
    ):
        if entity in wanted:
            patterns = [Pattern(p.name, _ascii_word_regex(p.regex), p.score) for p in cls.PATTERNS]
            out.append(cls(patterns=patterns, supported_entity=entity, supported_language="en"))
    return out


def _ascii_word_regex(regex: str) -> str:
    if regex.startswith(r"\b"):
        regex = L + regex[2:]
    if regex.endswith(r"\b"):
        regex = regex[:-2] + R
    return regex


class UsSsnAsciiRecognizer(UsSsnRecognizer):
    """presidio's US SSN patterns and checks, ASCII-anchored and not glued to a longer dotted or
    dashed number; run on every row whatever its language."""

    def __init__(self) -> None:
        patterns = _ascii_words(UsSsnRecognizer.PATTERNS, NL, NR)
        super().__init__(patterns=patterns, supported_entity="US_SSN")


class DeTaxIdAsciiRecognizer(DeTaxIdRecognizer):
    """presidio's German Steuer-ID (11 digits, ISO 7064 MOD 11,10 check digit, no digit more
    than three times), ASCII-anchored, also in its printed groups ``12 345 678 901``."""

    def __init__(self) -> None:
        patterns = [
            Pattern("Steuer-ID", NL + r"[1-9]\d{10}" + NR, 0.5),
            Pattern("Steuer-ID (grouped)", NL + r"[1-9]\d (?:\d{3} ){2}\d{3}" + NR, 0.5),
        ]
        super().__init__(patterns=patterns, supported_entity="DE_TAX_ID", supported_language="en")

    def validate_result(self, pattern_text: str) -> bool | None:
        return super().validate_result(pattern_text.replace(" ", ""))


def fr_nir_ok(value: str) -> bool:
    """French NIR (INSEE number): 13 characters and a key of 97 - (number mod 97); Corsican
    departments 2A/2B count as 19/18."""
    v = value.replace(" ", "").upper()
    if len(v) != 15 or not v[-2:].isdigit():
        return False
    body = v[:13].replace("2A", "19", 1) if v[5:7] == "2A" else v[:13]
    body = body.replace("2B", "18", 1) if v[5:7] == "2B" else body
    return body.isdigit() and 97 - int(body) % 97 == int(v[13:])


class FrNirRecognizer(PatternRecognizer):
    """The French social security number (NIR), contiguous or in its printed groups
    ``1 85 05 78 006 084 36``, with its key."""

    PATTERNS = [
        Pattern(
            "NIR",
            NL
            + r"[1-478] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2[ABab]) ?\d{3} ?\d{3} ?\d{2}"
            + NR,
            0.5,
        )
    ]

    def __init__(self) -> None:
        super().__init__("FR_NIR", patterns=self.PATTERNS, global_regex_flags=CASE_SENSITIVE)

    def validate_result(self, pattern_text: str) -> bool:
        return fr_nir_ok(pattern_text)


def nl_bsn_ok(value: str) -> bool:
    """Dutch BSN: 9 digits passing the eleven test (weights 9..2, the last digit -1)."""
    d = [int(c) for c in value if c.isdigit()]
    if len(d) != 9 or d[0] == 0 and d[1] == 0:
        return False
    return (sum(x * (9 - i) for i, x in enumerate(d[:8])) - d[8]) % 11 == 0


class NlBsnRecognizer(PatternRecognizer):
    """The Dutch citizen service number (BSN), ``123456782`` or ``1234.56.782``, eleven test."""

    PATTERNS = [Pattern("BSN", NL + r"\d{4}(?:\.\d{2}\.|\d{2})\d{3}" + NR, 0.4)]

    def __init__(self) -> None:
        super().__init__("NL_BSN", patterns=self.PATTERNS, global_regex_flags=CASE_SENSITIVE)

    def validate_result(self, pattern_text: str) -> bool:
        return nl_bsn_ok(pattern_text)


def jp_my_number_ok(value: str) -> bool:
    """Japanese Individual Number (My Number): 11 digits and a check digit (weights 2-7 from
    the right, then 2-6; 11 - sum mod 11, 0 when that is 10 or 11)."""
    d = "".join(c for c in value if c.isdigit())
    if len(d) != 12:
        return False
    total = sum(int(p) * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(d[:11]), 1))
    r = total % 11
    return int(d[11]) == (0 if r <= 1 else 11 - r)


class JpMyNumberRecognizer(PatternRecognizer):
    """The Japanese My Number, ``123456789012`` or ``1234 5678 9012`` / ``1234-5678-9012``."""

    PATTERNS = [Pattern("My Number", NL + r"\d{4}([ \-]?)\d{4}\1\d{4}" + NR, 0.4)]

    def __init__(self) -> None:
        super().__init__("JP_MY_NUMBER", patterns=self.PATTERNS, global_regex_flags=CASE_SENSITIVE)

    def validate_result(self, pattern_text: str) -> bool:
        return jp_my_number_ok(pattern_text)


def _phone_patterns(language: str) -> list[Pattern]:
    patterns = [
        # NANP with separators: (555) 123-4567, 555.123.4567x89, +1-555-123-4567
        Pattern(
            "NANP",
            r"(?<![A-Za-z0-9_+\-.])(?:\+?1[ .\-]?)?(?:\(\d{3}\) ?|\d{3}[ .\-])\d{3}[ .\-]\d{4}"
            r"(?: ?(?:x|ext\.?) ?\d{1,5})?" + NR,
            0.4,
        ),
        # international: +44 (0)115 496 0914, +49 (0) 9141 777631, +33 1 83 41 77 76
        Pattern(
            "international",
            r"(?<![A-Za-z0-9_+])\+[1-9]\d{0,2}[ .\-]?(?:\(0\) ?)?\(?\d{1,5}\)?"
            r"(?:[ .\-]?\d{2,5}){1,5}" + NR,
            0.5,
        ),
        # national with a bracketed area code: (030) 1234567, (0113) 496 0000
        Pattern("area code", NL + r"\(0\d{2,5}\) ?\d{3,8}(?:[ \-]\d{1,6})?" + NR, 0.4),
        # JP national: 03-1234-5678, 090-1234-5678 (digit count checked below)
        Pattern("JP", NL + r"0\d{1,4}-\d{1,4}-\d{4}" + NR, 0.4),
        # FR national: 01 23 45 67 89
        Pattern("FR", NL + r"0[1-9](?:[ .]\d{2}){4}" + NR, 0.4),
    ]
    if language in ("zh", "ja"):
        patterns += [
            Pattern(
                "CN mobile", NL + r"(?:(?:\+|00)86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}" + NR, 0.5
            ),
            Pattern("CN landline", NL + r"(?:\(0\d{2,3}\)|0\d{2,3}[ \-]?)\d{7,8}" + NR, 0.4),
        ]
    return patterns


# What libphonenumber's matcher accepts between two digit blocks of one number: at most four of
# its punctuation characters (phonenumbermatcher._PUNCTUATION). A run of digits joined that way
# holds every candidate the matcher can see, so a run with fewer digits holds no phone number.
_DIGIT_RUN = re.compile(r"\d(?:[" + _VALID_PUNCTUATION + r"]{0,4}\d)*")


def digit_runs(text: str, min_digits: int = MIN_PHONE_DIGITS) -> list[tuple[int, int]]:
    """(start, end) of the digit runs of ``text`` with at least ``min_digits`` digits."""
    out = []
    for m in _DIGIT_RUN.finditer(text):
        if m.end() - m.start() >= min_digits and sum(c.isdigit() for c in m.group()) >= min_digits:
            out.append(m.span())
    return out


# Window around a run: the matcher's leading ``+``/``(`` (two at most) and the character before
# them, which leniency VALID checks; after it, an extension (`` ext. 12345``, ``;ext=123``) and
# the character after that.
_LEAD, _TAIL = 3, 24


# What libphonenumber at VALID takes for a number in some region, and no one writes a phone
# number as: dates (15.10.2023, 2023-10-15 -04:00), IPv4 addresses and dotted section numbers
# (four or more dot-separated groups not starting with 0: French numbers are 01.23.45.67.89).
# Numbers grouped in thousands (738.086.641, 1,234,567) are counts.
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"  # 532.123.45.67 is a Turkish number, not an address
_NOT_A_PHONE = re.compile(
    r"\d{1,2}[./]\d{1,2}[./](?:19|20)\d{2}|(?:19|20)\d{2}-[01]\d-[0-3]\d(?:\D|$)"
    rf"|^{_IPV4}$|^[1-9]\d{{0,2}}(?:\.\d{{1,3}}){{4,}}$"
    r"|^[1-9]\d{0,2}(?:([.,])\d{3})(?:\1\d{3})+$"
)


_RUN_NOT_A_PHONE = re.compile(
    _IPV4 + r"|\d{1,2}[./]\d{1,2}[./](?:19|20)\d{2}|(?:19|20)\d{2}-[01]\d-[0-3]\d"
    r"|[1-9]\d{0,2}(?:([.,])\d{3})(?:\1\d{3})+"
)


def _not_a_phone_run(text: str, start: int, end: int) -> bool:
    """A digit run the matcher need not see (it costs a pass per region): the whole run is an
    IPv4 address, a date or a number grouped in thousands, or the digits of an IBAN, or a
    Luhn-valid card number of 16 or more digits (longer than E.164 allows a phone number)."""
    if _RUN_NOT_A_PHONE.fullmatch(text, start, end):
        return True
    if start >= 2 and text[start - 2 : start].isalpha() and text[start - 2 : start].isupper():
        return True  # DE89 3704 ...: an IBAN's check digits and account
    digits = _digits(text[start:end])
    return len(digits) >= 16 and luhn_ok(digits) and text[max(0, start - 1) : start] != "+"


_INTERNATIONAL = re.compile(r"[\s(\[\-.]*(?:\+|00[1-9])")
_FRACTION = re.compile(r"[0-9][.,]$")
_PLAIN = re.compile(r"[\d\s().\-]+")  # digits and punctuation only: no extension, no letters


# the number types of libphonenumber's metadata: a valid number has the shape of one of them
_NUMBER_TYPES = (
    "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip",
    "pager", "uan", "voicemail",
)  # fmt: skip


@functools.cache
def _region_shape(region: str) -> tuple | None:
    """(international prefix, national number shape) of a region, for a cheap necessary check
    before parsing a national form: libphonenumber's number is the digits less a national
    prefix or carrier code (a few leading digits), and valid only if it has the shape of a
    number type (fixed line, mobile, toll free ...) of some region of its country code (US
    numbers may be Canadian). None: no shortcut (a region
    that rewrites the number while parsing, e.g. AR)."""
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

    md = PhoneMetadata.metadata_for_region(region)
    if md is None or md.national_prefix_transform_rule:
        return None
    shapes = []
    for r in COUNTRY_CODE_TO_REGION_CODE.get(md.country_code, ()):
        other = PhoneMetadata.metadata_for_region(r)
        for kind in _NUMBER_TYPES:
            desc = getattr(other, kind, None) if other is not None else None
            if desc is not None and desc.national_number_pattern:
                shapes.append(desc.national_number_pattern)
    if not shapes:
        return None
    idd = std_re.compile(md.international_prefix) if md.international_prefix else None
    # the number after at most six leading digits (a national prefix, a carrier code)
    return idd, std_re.compile(r"\d{0,6}?(?:" + "|".join(shapes) + ")")


def _may_be_national(candidate: str, digits: str, region: str) -> bool:
    """False only when parsing ``candidate`` as a national number of ``region`` cannot give a
    valid number (so the parse is skipped); True when unsure."""
    shape = _region_shape(region)
    if shape is None or not _PLAIN.fullmatch(candidate):
        return True
    idd, national = shape
    if idd is not None and idd.match(digits):
        return True  # read as an international number after this region's prefix
    return national.fullmatch(digits) is not None


class _RegionsMatcher(PhoneNumberMatcher):
    """libphonenumber's matcher at leniency VALID that finds each candidate once and parses it
    with the regions that can apply: one region for a number written with its country code (a
    leading ``+`` or ``00``: parse reads the country from the number, the region does not
    matter), every region of ``regions`` in order for a national form (the first valid one
    wins). presidio runs a whole matcher per region, so every candidate, date and count was
    parsed once per region."""

    def __init__(self, text: str, regions: tuple[str, ...]) -> None:
        super().__init__(text, regions[0], leniency=Leniency.VALID)
        self._regions = regions

    def _parse_and_verify(self, candidate, offset):  # noqa: ANN001, ANN202
        if sum(c.isdigit() for c in candidate) < MIN_PHONE_DIGITS:
            return None  # a match this short is dropped anyway (and so would be its inner ones)
        if _INTERNATIONAL.match(candidate):
            self.preferred_region = "DE"  # a region whose international prefix is 00
            return super()._parse_and_verify(candidate, offset)
        digits = "".join(c for c in candidate if c.isdigit())
        for region in self._regions:
            if not _may_be_national(candidate, digits, region):
                continue
            self.preferred_region = region
            match = super()._parse_and_verify(candidate, offset)
            if match is not None:
                return match
        return None


class PhoneDigitsRecognizer(PhoneRecognizer):
    """libphonenumber's phone numbers, looked for only around digit runs of 7 or more digits.

    The matcher tries every number in the text (a date, a year, a version string), which made
    it a third of pii_scrub's time; most text has no run that long. Each run is widened just
    enough for the matcher to see what it checks around a candidate, and each candidate is
    parsed with the regions that can apply (``_RegionsMatcher``). Matches with fewer digits
    (character tables, ``040/014``) are dropped wherever they are found.
    """

    def __init__(self, supported_regions: tuple[str, ...]) -> None:
        super().__init__(supported_entity="PHONE", supported_regions=supported_regions)

    def analyze(self, text, entities, nlp_artifacts=None):  # noqa: ANN001
        windows: list[tuple[int, int]] = []
        n = len(text)
        for start, end in digit_runs(text):
            if _not_a_phone_run(text, start, end):
                continue
            a, b = max(0, start - _LEAD), min(n, end + _TAIL)
            if windows and a <= windows[-1][1]:
                windows[-1] = (windows[-1][0], b)
            else:
                windows.append((a, b))
        results: list[RecognizerResult] = []
        regions = tuple(self.supported_regions)
        for a, b in windows:
            for m in _RegionsMatcher(text[a:b], regions):
                value = text[a + m.start : a + m.end]
                if _FRACTION.search(text, max(0, a + m.start - 2), a + m.start):
                    continue  # the decimals of 0.2293848577, not a number of their own
                if sum(c.isdigit() for c in value) >= MIN_PHONE_DIGITS and not _NOT_A_PHONE.search(
                    value
                ):
                    results.append(RecognizerResult("PHONE", a + m.start, a + m.end, self.SCORE))
        return results


class PhoneShapesRecognizer(PatternRecognizer):
    """Phone numbers by shape, for the formats libphonenumber's VALID leniency rejects."""

    def __init__(self, language: str) -> None:
        super().__init__(
            "PHONE", patterns=_phone_patterns(language), global_regex_flags=CASE_SENSITIVE
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        n = len(_digits(pattern_text.split("x")[0].split("ext")[0]))
        if pattern_text.startswith("0") and "-" in pattern_text and n not in (10, 11):
            return False  # JP numbers have 10 or 11 digits (rejects 05-12-2023 and the like)
        return None if 7 <= n <= 15 else False


_US_SUFFIX = (
    "Alley|Annex|Arcade|Avenue|Ave|Bay|Bayou|Beach|Bend|Bluffs?|Boulevard|Blvd|Branch|Bridge|"
    "Brooks?|Burgs?|Bypass|Camp|Canyon|Cape|Causeway|Centers?|Circles?|Cir|Cliffs?|Close|Club|"
    "Common|Corners?|Course|Courts?|Ct|Coves?|Creek|Crescent|Crest|Crossing|Crossroad|Curve|"
    "Dale|Dam|Divide|Drives?|Dr|Estates?|Expressway|Extensions?|Falls?|Ferry|Fields?|Flats?|"
    "Fords?|Forest|Forges?|Forks?|Fort|Freeway|Gardens?|Gateway|Glens?|Greens?|Groves?|"
    "Harbors?|Haven|Heights|Highway|Hwy|Hills?|Hollow|Inlet|Islands?|Isle|Junctions?|Keys?|"
    "Knolls?|Lakes?|Land|Landing|Lane|Ln|Lights?|Loaf|Locks?|Lodge|Loop|Mall|Manors?|Meadows?|"
    "Mews|Mills?|Mission|Motorway|Mount|Mountains?|Neck|Orchard|Oval|Overpass|Parks?|Parkways?|"
    "Pkwy|Pass|Passage|Path|Pike|Pines?|Place|Pl|Plains?|Plaza|Points?|Ports?|Prairie|Radial|"
    "Ranch|Rapids?|Rest|Ridges?|River|Road|Roads|Rd|Route|Row|Rue|Run|Shoals?|Shores?|Skyway|"
    "Springs?|Spurs?|Squares?|Sq|Station|Stravenue|Stream|Streets?|St|Summit|Terrace|"
    "Throughway|Trace|Track|Trafficway|Trail|Trailer|Tunnel|Turnpike|Underpass|Unions?|"
    "Valleys?|Via|Viaduct|Views?|Villages?|Ville|Vista|Walks?|Wall|Way|Ways|Wells?"
)
_DE_SUFFIX = r"(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|steig|pfad|chaussee)"
_FR_TYPE = r"(?:rue|avenue|av\.|boulevard|bd|chemin|place|allée|impasse|quai|route|cours|passage)"
_HAN = r"\p{Han}"
_CN_PROVINCE = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|"
    "广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)

_ES_TYPE = (
    r"(?:Calle|C/|C\.|Avenida|Avda\.|Av\.|Paseo|Plaza|Pza\.|Camino|Carretera|Ctra\.|Ronda|Travesía|"
    r"Glorieta|Cañada|Pasaje|Rambla|Vía|Callejón|Acceso|Alameda|Cuesta|Pasadizo|Urbanización|"
    r"Calleja|Carrer|Passeig|Plaça|Rúa|Rua)"
)
_IT_TYPE = (
    r"(?:Via|Viale|V\.le|Piazza|P\.zza|Piazzale|Piazzetta|Corso|C\.so|Contrada|Vicolo|Largo|"
    r"Strada|Stretto|Borgo|Rotonda|Canale|Incrocio|Vico|Lungomare|Lungotevere|Salita|Traversa)"
)
_NL_SUFFIX = (
    r"(?:straat|laan|weg|plein|gracht|kade|dijk|singel|pad|steeg|hof|park|dreef|baan|ring|"
    r"markt|plantsoen|boulevard|erf|wal|veld|haven|dam|burg|kwartier|dal|zijde|hoven)"
)
_TITLE_WORD = r"\p{Lu}[\p{L}'\-]+"
_PARTICLE = (
    r"(?:de la |de las |de los |del |de |d'|dei |della |delle |degli |di |van |van de |"
    r"van der |den |der |ter |'t )?"
)
_HANGUL = r"\p{Hangul}"

ADDRESS_PATTERNS = [
    # US/UK: 2328 Figueroa Skyway Apt. 290, 48 Alex Stravenue, Flat 3 Smith road
    Pattern(
        "US/UK street",
        L
        + r"\d{1,6}[A-Z]?,? (?:[A-Z][A-Za-z'\-]+\.? ){1,3}(?i:"
        + _US_SUFFIX
        + r")\.?"
        + R
        + r"(?:,? (?:Apt\.|Suite|Unit|Flat|#) ?\d{1,5}[A-Z]?)?",
        0.5,
    ),
    # DE: Paulo-Schleich-Straße 19, Rohlederplatz 8, Am Markt 3 is left to NER
    Pattern(
        "DE street",
        r"(?<![\w\-])(?:\p{Lu}\p{L}*-)*(?:\p{Lu}\p{L}*?)?(?i:" + _DE_SUFFIX + r") \d{1,4}[a-z]?"
        r"(?:[/\-]\d{1,4})?" + R,
        0.5,
    ),
    # FR: 682, avenue de Toussaint / 1, chemin Françoise Rey
    Pattern(
        "FR street",
        L
        + r"\d{1,4}(?: ?(?:bis|ter))?,? "
        + _FR_TYPE
        + r" (?:(?:de la|de|du|des|la|le|l'|d') ?)?\p{Lu}[\p{L}'\-]+(?: \p{Lu}[\p{L}'\-]+){0,2}",
        0.5,
    ),
    # FR without a number: "rue Marguerite Grondin" (a lower-case street type, then a name)
    Pattern(
        "FR street (no number)",
        r"(?<![\p{L}])" + _FR_TYPE + r" " + _PARTICLE + _TITLE_WORD + rf"(?: {_TITLE_WORD}){{0,2}}",
        0.4,
    ),
    # ES: Calle Trini Seguí 5, Rambla de Lourdes Pozo 93 Puerta 7, Pasaje Amancio Torrent 18
    Pattern(
        "ES street",
        r"(?<![\p{L}])"
        + _ES_TYPE
        + r" "
        + _PARTICLE
        + _TITLE_WORD
        + rf"(?: {_PARTICLE}{_TITLE_WORD}){{0,3}}"
        r",? (?:n\.?º ?)?\d{1,4}[A-Za-z]?"
        r"(?: (?:Piso|Puerta|Apt\.|Esc\.|Portal|Bajo|Planta) \d{1,3}[A-Za-z]?)*" + R,
        0.5,
    ),
    # IT: Contrada Argenti, 8 / Stretto Querini, 814 / Via dei Mille 12
    Pattern(
        "IT street",
        r"(?<![\p{L}])"
        + _IT_TYPE
        + r" "
        + _PARTICLE
        + _TITLE_WORD
        + rf"(?: {_PARTICLE}{_TITLE_WORD}){{0,3}}"
        r",? \d{1,4}(?:/?[A-Za-z])?(?: (?:Piano|Scala|Int\.) \d{1,3})*" + R,
        0.5,
    ),
    # NL: Tirzalaan 6, Gielpad 868, Van Leeuwenhoekstraat 12a
    Pattern(
        "NL street",
        r"(?<![\w\-])(?:(?:\p{Lu}\p{Ll}*|van|de|der|den) )*\p{Lu}\p{L}*?"
        + _NL_SUFFIX
        + r" \d{1,4}(?: ?[a-zA-Z]\b|-\d{1,4})?"
        + R,
        0.5,
    ),
    # KR: 대구광역시 관악구 봉은사586길 602-64 / 충청남도 고양시 일산동구 압구정071가 793
    Pattern(
        "KR street",
        rf"(?:{_HANGUL}{{2,6}}(?:특별시|광역시|특별자치시|특별자치도|도) )?"
        rf"(?:{_HANGUL}{{1,6}}(?:시|군|구) ){{0,2}}"
        r"[\p{Hangul}\d]{1,12}(?:로|길|가|거리) (?:지하 ?)?\d{1,4}(?:-\d{1,4})?(?!\d)",
        0.5,
    ),
    # CN: 江西省涛县长寿南昌路h座 777151 / 合肥路3号
    Pattern(
        "CN street",
        rf"(?:(?:{_CN_PROVINCE})(?:省|市|\p{{Han}}{{0,3}}自治区|特别行政区)?)?"
        rf"(?:{_HAN}{{1,4}}?(?:市|县|区|州|镇)){{0,3}}{_HAN}{{1,4}}?(?:路|街|大道|巷|胡同)[A-Za-z0-9]{{1,5}}(?:号|座|栋|幢|单元|室)"
        r"(?: ?\d{6}(?!\d))?",
        0.5,
    ),
    # JP: 大分県荒川区皇居外苑27丁目17番13号
    Pattern(
        "JP street",
        rf"(?:{_HAN}{{2,3}}[都道府県])?(?:[\p{{Han}}\p{{Katakana}}]{{1,6}}?[市区町村郡]){{0,3}}"
        r"[\p{Han}\p{Katakana}]{0,8}\d{1,4}丁目\d{1,4}番(?:地)?(?:\d{1,4}号)?",
        0.5,
    ),
]


class StreetAddressRecognizer(PatternRecognizer):
    """Street addresses by shape: US/UK, German, French, Chinese and Japanese conventions."""

    def __init__(self) -> None:
        super().__init__(
            "STREET_ADDRESS", patterns=ADDRESS_PATTERNS, global_regex_flags=CASE_SENSITIVE
        )


# ---------------------------------------------------------------- per-language sets


def build_recognizers(
    language: str,
    entities: Iterable[str],
    private_ips_are_pii: bool = False,
    phone_regions: Iterable[str] = DEFAULT_PHONE_REGIONS,
) -> list[EntityRecognizer]:
    """The pattern recognizers for documents in ``language`` that find any of ``entities``.

    libphonenumber tries every region of ``phone_regions`` on every row whatever its language
    (a Chinese mobile in an English page, a Turkish number in a Chinese one); the language only
    adds: unvalidated shapes (CN mobile and landline in zh/ja rows) and its own country's
    region (LANGUAGE_PHONE_REGIONS: ES for es rows, KR for ko rows ...)."""
    wanted = set(entities)
    group = language if language in LANGUAGE_GROUPS else "other"
    out: list[EntityRecognizer] = []
    if "EMAIL" in wanted:
        out.append(CjkSafeEmailRecognizer())
    if "PHONE" in wanted:
        own = LANGUAGE_PHONE_REGIONS.get(language)
        regions = tuple(dict.fromkeys([*phone_regions, *([own] if own else [])]))
        out.append(PhoneDigitsRecognizer(regions))
        out.append(PhoneShapesRecognizer(group))
    if "CREDIT_CARD" in wanted:
        out += [CreditCardRecognizer(supported_entity="CREDIT_CARD"), AllCardsRecognizer()]
    if "IP_ADDRESS" in wanted:
        out.append(PublicIpRecognizer(private_ips_are_pii))
    if "IBAN" in wanted:
        out.append(IbanRecognizer(supported_entity="IBAN"))
    if "US_SSN" in wanted:  # in any language: "Sozialversicherungsnummer (USA): 293 75 8674"
        out.append(UsSsnAsciiRecognizer())
    if "UK_NINO" in wanted:
        out.append(UkNinoAsciiRecognizer())
    out += national_id_recognizers(wanted)
    if "CN_ID" in wanted:
        out.append(CnResidentIdRecognizer())
    if "DE_TAX_ID" in wanted:
        out.append(DeTaxIdAsciiRecognizer())
    if "FR_NIR" in wanted:
        out.append(FrNirRecognizer())
    if "NL_BSN" in wanted:
        out.append(NlBsnRecognizer())
    if "JP_MY_NUMBER" in wanted:
        out.append(JpMyNumberRecognizer())
    if "STREET_ADDRESS" in wanted:
        out.append(StreetAddressRecognizer())
    if "URL" in wanted:
        out.append(UrlRecognizer(supported_entity="URL"))
    for r in out:
        if not r.is_loaded:
            r.load()
            r.is_loaded = True
    return out


_DECIMAL = re.compile(r"\d+[.,]\d+")  # 2.718281828 is a constant, not a phone number
# Numbers that name a book, a paper or a release, not a person.
_NOT_PII_BEFORE = re.compile(r"(?i)(?:\bISBN(?:-1[03])?|\bISSN|\bDOI|\bISO|\bRFC)[:#]?\s*$")


# The digit groups of an IBAN-shaped run (``FR82 7762 4962 9890 ...``) whose check digits
# fail: not a card or a phone number inside it (a valid IBAN is found whole as an IBAN).
_IBAN_BEFORE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[0-9A-Z]{4})* ?$")


def pattern_results(recognizer: PatternRecognizer, text: str) -> list[RecognizerResult]:
    """What ``PatternRecognizer.analyze`` returns (presidio 2.2's ``__analyze_patterns``: each
    pattern's matches, scored, validated and invalidated, duplicates and contained results
    removed), without what costs per call and is never read here: two clock reads and a debug
    log per pattern, an explanation object per match. On short documents these calls were a
    quarter of the recognizers' time."""
    flags = recognizer.global_regex_flags
    entity = recognizer.supported_entities[0]
    meta = {
        RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
    }
    results = []
    for pattern in recognizer.patterns:
        if not pattern.compiled_regex or pattern.compiled_with_flags != flags:
            pattern.compiled_with_flags = flags
            pattern.compiled_regex = re.compile(pattern.regex, flags=flags)
        try:
            for match in pattern.compiled_regex.finditer(text, timeout=REGEX_TIMEOUT_SECONDS):
                start, end = match.span()
                if start == end:
                    continue
                current = text[start:end]
                score = pattern.score
                valid = recognizer.validate_result(current)
                if valid is not None:
                    score = EntityRecognizer.MAX_SCORE if valid else EntityRecognizer.MIN_SCORE
                if recognizer.invalidate_result(current):
                    score = EntityRecognizer.MIN_SCORE
                if score > EntityRecognizer.MIN_SCORE:
                    results.append(RecognizerResult(entity, start, end, score, None, dict(meta)))
        except TimeoutError:  # as presidio: the pattern's results so far are kept
            log.warning("pattern %r timed out, skipped", pattern.name)
    return EntityRecognizer.remove_duplicates(results)


@functools.cache
def _plain(kind: type) -> bool:
    """Does a recognizer of this class analyse with PatternRecognizer's own code, which
    pattern_results does the same?"""
    return (
        issubclass(kind, PatternRecognizer)
        and kind.analyze is PatternRecognizer.analyze
        and getattr(kind, "_PatternRecognizer__analyze_patterns", None) is _ANALYZE_PATTERNS
    )


_ANALYZE_PATTERNS = PatternRecognizer._PatternRecognizer__analyze_patterns  # type: ignore[attr-defined]


def analyze(
    text: str, recognizers: list[EntityRecognizer], gate: TriggerGate | None = None
) -> list[RecognizerResult]:
    """Every recognizer's results on ``text`` (no NLP artifacts: no context boosting), less
    numbers introduced as an ISBN, ISSN, DOI, ISO or RFC number and decimals taken for phones.
    With a ``gate``, only the recognizers of entities whose trigger ``text`` holds run (the
    others can find nothing: curate/pii/prescreen.py).

    The recognizers see ``text`` folded (full-width forms and every script's digits as ASCII,
    curate/pii/fold.py); the fold keeps the length, so the offsets are those of ``text``."""
    text = fold(text)
    live = gate.present(text) if gate is not None else None
    results: list[RecognizerResult] = []
    for r in recognizers:
        if live is not None and r.supported_entities[0] not in live:
            continue
        if _plain(type(r)):
            results += pattern_results(r, text)
        else:
            results += r.analyze(text, r.supported_entities, None)
    return [
        r
        for r in results
        if not _NOT_PII_BEFORE.search(text, max(0, r.start - 10), r.start)
        and not (r.entity_type == "PHONE" and _DECIMAL.fullmatch(text, r.start, r.end))
        and not (
            r.entity_type != "IBAN" and _IBAN_BEFORE.search(text, max(0, r.start - 40), r.start)
        )
    ]
