"""A multilingual PII test set (en de fr es it nl zh ja ko) from text the sample corpus lacks.

``build(split)`` returns documents of real carrier text in nine languages with PII values put in
at known offsets, each in its country's surface form, and decoy-only documents (values that look
like PII and are not: versions, hashes, UUIDs, ISBNs, prices, private IPs, Luhn-invalid cards,
IBANs with bad check digits ...). Splits that share no template, seed or name list (the
held-out ones share no carrier file with dev):

* ``dev``: what pii_scrub's multilingual recognizers were tuned on; its names are Faker's and,
  in zh, ja and ko, half from a third source, neither Faker's nor mimesis's (the data of the
  packages mingzi, gimei and korean-name-generator; third_source_name);
* ``heldout4``: the fourth held-out split of issue #19, measured once, never tuned on: the
  held-out half of the carrier files, its own seed (41219), its own carrier sentences and
  labels in all nine languages (and, in Korean, names inside running sentences with the
  particles their last syllable takes, and with titles), and names from sources that neither
  dev, the earlier held-out splits, nor pii_scrub's own lists use: in en the US Census 1990
  lists (package ``names``, at their shares); in de fr es it nl Faker locales no split used,
  of countries many of the language's residents come from (pl_PL, tr_TR, hr_HR, cs_CZ, pt_PT,
  ro_RO, fr_DZ, no_NO); in zh Faker's zh_TW lists printed in simplified characters (zhconv);
  in ja japanese-personal-name-dataset (surnames at their counts, curated given names in one
  of their kanji forms, 10% in hiragana, 30% written together); in ko whatsername's 44
  surnames and given-name syllables at the counts of the Chinese given-name characters they
  read (ngender, hanja; heldout4_cjk_name). It was built, with its sentences, labels, seed and
  name sources, before the Korean and PERSON rules were tuned on dev (which was made harder
  for Korean then), and measured once after that tuning was frozen.
* ``heldout5``: the fifth held-out split of issue #19, built before the PERSON tuning that
  followed heldout4's measurement and measured once after it (bench_pii_multilingual): its
  own seed (60523), carrier text that no other split reads (vim's own message catalogs,
  vim's tutor, GnuPG's help texts and systemd's message catalog: heldout5_files; Chinese
  adds their zh_TW versions in simplified characters), its
  own carrier sentences and labels in all nine languages, names inside running sentences in
  every language (with titles; in ja and ko with particles), CJK values with no space, and
  PERSON drawn twice as often as other types. 120 documents with PII and 20 decoy-only per
  language, of 400 characters (300 in zh, ja, ko: the catalogs are short). Latin-script names
  from Faker locales no other split uses (HELDOUT5_LOCALES); zh, ja and ko names join parts of
  the earlier held-out splits' sources in ways no split printed (heldout5_cjk_name): no
  installed package has CJK names that no split or pii_scrub list uses.
* ``heldout6``: the sixth held-out split of issue #19, built (seed 72806) before the PERSON
  tuning that followed heldout5's measurement, not run through pii_scrub until that tuning was
  frozen, then measured once (bench_pii_multilingual on dd03335: leak 2.9%, PERSON 14.3%):
  carrier text no other split nor the sample corpus reads (the translated descriptions
  of the installed packages' debconf templates, shared-mime-info's translated MIME type
  comments, mimesis's sample sentences and quotes; English adds mimesis's Quora questions:
  heldout6_blocks), its own carrier sentences, labels and person sentences in all nine
  languages (titles and person contexts; ja and ko particles and honorifics; CJK with no
  space), PERSON twice as often. Latin-script names from Faker locales (ga_IE, uz_UZ, pt_BR,
  is_IS) and mimesis locales (az hu cs is da et fi pl pt-br hr sk no sv tr) no other split uses
  (HELDOUT6_SOURCES); zh, ja, ko names join sources in ways no split printed
  (heldout6_cjk_name: mimesis's CJK surnames with ngender's given-name characters, japanese-
  personal-name-dataset's given names, and Korean readings of Faker zh_TW's given names).
  Fewer, shorter documents in de, zh, ja and ko (DOCS_LANG, DOC_SIZE): its text is short there.
* ``heldout7``: the seventh held-out split of issue #19, built (seed 51019, drawn at random)
  before the per-document speed work and any tuning that followed heldout6's measurement, and
  not run through pii_scrub when built: carrier text that no other split nor the sample corpus
  reads (heldout7_blocks: chardet's and charset_normalizer's test texts as gsutil ships them in
  the Google Cloud SDK, blog feeds, news and book excerpts in legacy encodings; Rust by Example
  of the rustup toolchain, English and its es, ja, ko, zh translations; the JDK's translated
  messages in de, fr, es, it; Tk's and polkit's messages; spaCy's example sentences), its own
  carrier sentences, labels and person sentences in all nine languages (names at the start of
  a sentence, in lists where each name is a value, with a role after them, inside CJK text with
  no space, Korean particles), PERSON twice as often (more with the lists), documents of mixed
  sizes (HELDOUT7_DOC_SIZES: about 100 to 1,400 characters, median 330). Latin-script names
  from mimesis locales and name-variants tables no other split uses (HELDOUT7_SOURCES: what
  de-ch, de-at, en-ca, es-mx and nl-be add to their language's lists; romanised Arabic,
  Persian, Turkish, Greek, Indian, Indonesian, Russian, Vietnamese names); zh, ja, ko names
  join sources in ways no split printed (heldout7_cjk_name: compound and rare Chinese
  surnames, Japanese names wholly in kana or with a katakana given name, Korean two-syllable
  and rare surnames). Dutch has little such text on the machine: 48 documents, its carrier
  text used up to seven times over.
* ``heldout6``: spent (measured once, on dd03335); still builds as it did.
* ``heldout5``: spent (measured once, on be9df1c); still builds as it did.
* ``heldout4``: spent (measured twice, the second time after the precision-only fix of
  b85f720); still builds as it did.
* ``heldout3``: the third held-out split (seed 90619; zh, ja and ko names from name-variants,
  the Latin-script ones from mimesis and sibling Faker locales), measured once and spent; the
  second (seed 7727, mimesis's CJK names) was measured three times and retired before it.
  Both still build as they did.

Carrier text, per language: translated man pages under ``/usr/share/man/<lang>`` (Debian's
manpages-de and manpages-fr, and the translations shipped by dpkg, apt, passwd, man-db ...;
manpages-zh is left out, the sample corpus reads it) and the translated messages of gettext
catalogs under ``/usr/share/locale/<locale>/LC_MESSAGES`` (English: their msgids). The sample
corpus (scripts/build_sample_corpus.py) reads English and manpages-zh man pages, info manuals
and HTML documentation, none of these. Each file goes wholly to one split, by a hash of its path.

Values: Faker in each locale (dev's names, addresses, e-mails, cards, IBANs), the sources above
for held-out names, phone numbers made from
libphonenumber's example numbers with random subscriber digits (kept only when valid) and
printed in the country's national or international format, and national ids generated with
their real check digits: US SSN (in every language, with a local label), UK NINO, DE Steuer-ID,
FR NIR, ES DNI/NIE, IT codice fiscale, NL BSN, JP My Number, CN resident id, KR RRN.
Values go in on a line of their own or inside a paragraph; in Chinese, Japanese and Korean with
no space before the value. Deterministic given the installed packages.

Caveat: both splits draw their other values from the same Faker word lists (street names), so
the held-out split tests other text, templates and values there, not other vocabularies.
"""

from __future__ import annotations

import copy
import gettext
import hashlib
import random
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

LANGS = ("en", "de", "fr", "es", "it", "nl", "zh", "ja", "ko")
LOCALE = {
    "en": "en_US",
    "de": "de_DE",
    "fr": "fr_FR",
    "es": "es_ES",
    "it": "it_IT",
    "nl": "nl_NL",
    "zh": "zh_CN",
    "ja": "ja_JP",
    "ko": "ko_KR",
}
REGION = {"en": "US", "de": "DE", "fr": "FR", "es": "ES", "it": "IT", "nl": "NL", "zh": "CN"}
REGION |= {"ja": "JP", "ko": "KR"}
MAN_DIR = {"zh": "zh_CN"}
# Held-out names never come from dev's name lists (the Faker locale of LOCALE): in the Latin-script
# languages half from a sibling Faker locale's lists, half from mimesis's; in zh, ja and ko (no
# sibling Faker locale) from name-variants's tables (name_variants_name)
NAME_LOCALES = {
    "en": ("en_GB", "en_AU", "en_IE", "en_NZ", "en_CA"),
    "de": ("de_AT", "de_CH"),
    "fr": ("fr_CA", "fr_CH", "fr_BE"),
    "es": ("es_MX", "es_AR", "es_CO", "es_CL"),
    "it": ("it_CH",),
    "nl": ("nl_BE",),
}
MIMESIS_LOCALE = {"en": "en", "de": "de", "fr": "fr", "es": "es", "it": "it", "nl": "nl"}
CJK = ("zh", "ja", "ko")
# "heldout3": the third held-out split (measured once, retired, kept reproducible); "heldout4":
# the fourth, built before the Korean and PERSON tuning of issue #19 and measured once after it
SEEDS = {"dev": 19, "heldout3": 90619, "heldout4": 41219, "heldout5": 60523, "heldout6": 72806}
SEEDS["heldout7"] = 51019  # drawn at random (shuf -i 10000-99999) when heldout7 was built
SPLIT_INDEX = {"dev": 0, "heldout3": 1, "heldout4": 2}  # which templates and labels
# documents per language (with PII, decoy-only) and their size in characters: heldout5's carrier
# text (vim, GnuPG and systemd catalogs) is shorter, so it has fewer and shorter documents (nl
# and ko have about 145 of these sizes)
DOCS = {"heldout5": (120, 20), "heldout6": (120, 20)}
DOC_SIZE = {"heldout5": {"zh": 300, "ja": 300, "ko": 300}}
# heldout6: its carrier text has about 46,000 characters in German, 16,000 in Chinese and Korean,
# 28,000 in Japanese (documents of 170-300 characters: DOC_SIZE)
DOCS_LANG = {
    ("heldout6", "de"): (100, 15),
    ("heldout6", "zh"): (66, 10),
    ("heldout6", "ja"): (88, 12),
    ("heldout6", "ko"): (62, 10),
}
DOC_SIZE["heldout6"] = {"zh": 170, "ja": 200, "ko": 170, **dict.fromkeys(LANGS[:6], 300)}
HELDOUT5_DOC_CHARS = 400
# heldout7: documents of mixed sizes (about 150 to 1,000 characters, most short, as the short
# documents are where pii_scrub's speed fell behind on heldout6); fewer documents in Dutch, whose
# carrier text (heldout7_blocks: about 4,200 characters) is used up to seven times over
HELDOUT7_DOC_SIZES = (60, 180, 450, 850)  # of carrier text; the values add 80-150
HELDOUT7_DOC_SHARE = (0.35, 0.3, 0.2, 0.15)
DOCS["heldout7"] = (110, 20)
DOCS_LANG[("heldout7", "nl")] = (40, 8)
# The fourth held-out split's Latin-script names: sources no other split and no list of
# pii_scrub uses. English: the US Census 1990 name lists (package names, at their shares);
# the others: Faker locales no split used, of the countries many residents of the language's
# countries come from (first name, last name; no titles)
HELDOUT4_LOCALES = {
    "de": ("pl_PL", "tr_TR", "hr_HR", "cs_CZ"),
    "fr": ("pt_PT", "ro_RO", "fr_DZ"),
    "es": ("ro_RO", "pt_PT", "fr_DZ"),
    "it": ("ro_RO", "hr_HR", "pt_PT"),
    "nl": ("tr_TR", "pl_PL", "no_NO"),
}
DOC_CHARS = 600
HERE = Path(__file__).resolve().parent


@dataclass
class Span:
    doc: int
    start: int
    end: int
    entity: str  # an entity type, or "DECOY"
    value: str
    kind: str = ""  # decoys: what it is (version, uuid, ...)


# ---------------------------------------------------------------- carrier text


def _split_of(path: str) -> str:
    return "dev" if hashlib.sha1(path.encode()).digest()[0] < 128 else "heldout"


def _file_split(split: str) -> str:
    """The carrier-file half of a split: dev's, or the held-out half every held-out split
    draws its documents from (with its own seed)."""
    return "dev" if split == "dev" else "heldout"


def _man_text(path: Path) -> list[str]:
    from heldout_text import man_blocks

    return [b.strip() for b in man_blocks(path) if len(b.strip()) >= 20]


def _mo_text(path: Path, lang: str) -> list[str]:
    try:
        with path.open("rb") as f:
            catalog = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    except (OSError, UnicodeDecodeError, ValueError):
        return []
    out = []
    for msgid, msgstr in sorted(catalog.items(), key=lambda kv: str(kv[0])):
        text = (msgid if lang == "en" else msgstr) if isinstance(msgid, str) else ""
        if isinstance(text, str) and len(text) >= 20 and "Content-Type" not in text:
            out.append(re.sub(r"\s+", " ", text).strip())
    return out


def carrier_files(lang: str, split: str) -> list[Path]:
    """This split's carrier files of one language, sorted."""
    paths: list[Path] = []
    if lang == "en":
        from heldout_text import owned_files, sample_corpus_packages

        taken = owned_files(sample_corpus_packages())
        man = sorted(p for p in Path("/usr/share/man/man1").glob("*.gz") if str(p) not in taken)
        paths += [p for p in man if "gcloud" not in p.name][:400]
        paths += sorted(Path("/usr/share/locale/de/LC_MESSAGES").glob("*.mo"))
    else:
        folder = Path("/usr/share/man") / MAN_DIR.get(lang, lang)
        man = sorted(folder.rglob("*.gz")) if folder.is_dir() else []
        if lang == "zh":
            from heldout_text import owned_files

            taken = owned_files({"manpages-zh"})
            man = [p for p in man if str(p) not in taken]
        paths += man
        paths += sorted((Path("/usr/share/locale") / LOCALE[lang] / "LC_MESSAGES").glob("*.mo"))
        paths += sorted((Path("/usr/share/locale") / lang / "LC_MESSAGES").glob("*.mo"))
    return [p for p in dict.fromkeys(paths) if _split_of(str(p)) == _file_split(split)]


# The fifth held-out split's carrier text: files outside /usr/share/man and /usr/share/locale,
# which no other split, nor the sample corpus, reads: vim's message catalogs (its own
# lang/<lang>/LC_MESSAGES/vim.mo; English: the msgids of the German one), vim's tutor, GnuPG's
# help texts and systemd's message catalog, in each language that has them. Chinese has few:
# its traditional-character versions (zh_TW) are added, printed in simplified characters
VIM = Path("/usr/share/vim/vim90")
_H5_VIM = {"en": "de", "zh": "zh_CN.UTF-8", "ko": "ko.UTF-8"}
_H5_TUTOR = {"en": "tutor.utf-8", "zh": "tutor.zh_cn.utf-8"}
_H5_GPG = {"en": "help.txt", "zh": "help.zh_CN.txt"}
_H5_SYSTEMD = {"en": "systemd.catalog", "zh": "systemd.zh_CN.catalog"}
_H5_TRADITIONAL = (
    VIM / "lang/zh_TW.UTF-8/LC_MESSAGES/vim.mo",
    VIM / "tutor/tutor.zh_tw.utf-8",
    Path("/usr/share/gnupg/help.zh_TW.txt"),
    Path("/usr/lib/systemd/catalog/systemd.zh_TW.catalog"),
)


def heldout5_files(lang: str) -> list[Path]:
    """The fifth held-out split's carrier files of one language (those that exist), sorted."""
    paths = [
        VIM / "lang" / _H5_VIM.get(lang, lang) / "LC_MESSAGES" / "vim.mo",
        VIM / "tutor" / _H5_TUTOR.get(lang, f"tutor.{lang}.utf-8"),
        Path("/usr/share/gnupg") / _H5_GPG.get(lang, f"help.{lang}.txt"),
        Path("/usr/lib/systemd/catalog") / _H5_SYSTEMD.get(lang, f"systemd.{lang}.catalog"),
    ]
    if lang == "zh":
        paths += _H5_TRADITIONAL
    return sorted(p for p in paths if p.is_file())


def _mo_strings(path: Path, lang: str) -> list[str]:
    """Translated messages of a .mo file read from its tables (vim's French catalog is Latin-1
    with no charset that gettext accepts): UTF-8, else Latin-1; English: the msgids."""
    import struct

    data = path.read_bytes()
    order = "<" if data[:4] == b"\xde\x12\x04\x95" else ">"
    count, ids, strs = struct.unpack(order + "4xI2I", data[4:20])
    out = []
    for i in range(count):
        table = ids if lang == "en" else strs
        length, offset = struct.unpack(order + "2I", data[table + 8 * i : table + 8 * i + 8])
        raw = data[offset : offset + length].split(b"\x00")[0]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        text = re.sub(r"\s+", " ", text).strip()
        if len(text) >= 20 and "Content-Type" not in text:
            out.append(text)
    return out


def heldout5_blocks(path: Path, lang: str) -> list[str]:
    """Paragraphs of a heldout5 carrier file: messages of a catalog, or blank-line separated
    paragraphs of a text file (comments, rules and catalog headers dropped)."""
    if path.suffix == ".mo":
        blocks = _mo_strings(path, lang)
    else:
        blocks = []
        skip = ("#", ".#", "-- ", "~~~", "===", "Subject:", "Defined-By:", "Support:")
        skip += ("Documentation:",)
        for para in re.split(r"\n\s*\n", path.read_text("utf-8", "replace")):
            lines = [ln.strip() for ln in para.split("\n")]
            lines = [ln for ln in lines if ln and not ln.startswith(skip)]
            if lines:
                blocks.append(" ".join(lines))
        blocks = [b for b in blocks if len(b) >= 20]
    if path in _H5_TRADITIONAL:
        import zhconv

        blocks = [zhconv.convert(b, "zh-cn") for b in blocks]
    return blocks


def carrier_docs(lang: str, split: str, n: int, rng: random.Random) -> list[str]:
    """``n`` documents of about DOC_CHARS characters of real text, paragraphs on lines
    (heldout7: of sizes drawn from HELDOUT7_DOC_SIZES, its text used again, reshuffled, where a
    language has too little for ``n`` documents)."""
    h7 = split == "heldout7"
    passes = 1
    if split in ("heldout6", "heldout7"):
        sources: list = heldout7_blocks(lang) if h7 else heldout6_blocks(lang)
        files = list(range(len(sources)))
        size_of = DOC_SIZE["heldout6"].get(lang, HELDOUT5_DOC_CHARS) if not h7 else 0
        passes = 7 if h7 else 1
    elif split == "heldout5":
        files = heldout5_files(lang)
        size_of = DOC_SIZE["heldout5"].get(lang, HELDOUT5_DOC_CHARS)
    else:
        files = carrier_files(lang, split)
        size_of = DOC_CHARS
    rng.shuffle(files)
    docs: list[str] = []
    for path in files * passes:
        if split in ("heldout6", "heldout7"):
            blocks = list(sources[path])
            if h7:
                rng.shuffle(blocks)
                size_of = rng.choices(HELDOUT7_DOC_SIZES, HELDOUT7_DOC_SHARE)[0]
        elif split == "heldout5":
            blocks = heldout5_blocks(path, lang)
        else:
            blocks = _man_text(path) if path.suffix == ".gz" else _mo_text(path, lang)
        if lang in CJK:  # a translated page may be mostly untranslated: keep CJK blocks
            blocks = [b for b in blocks if len(re.findall(r"[\u3040-\u9fff\uac00-\ud7af]", b)) > 5]
        cur: list[str] = []
        size = 0
        for block in blocks[:600] if split not in ("heldout5", "heldout6", "heldout7") else blocks:
            cur.append(block[:size_of])
            size += len(cur[-1])
            if size >= size_of:
                docs.append("\n".join(cur))
                cur, size = [], 0
                if h7:
                    size_of = rng.choices(HELDOUT7_DOC_SIZES, HELDOUT7_DOC_SHARE)[0]
        if len(docs) >= n * 2 and split != "heldout6":  # heldout6: all its (three) sources
            break
    if len(docs) < n:
        raise RuntimeError(f"pii set: only {len(docs)} {lang} carrier documents for {split}")
    rng.shuffle(docs)
    return docs[:n]


# ---------------------------------------------------------------- values with check digits


def _luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def de_tax_id(rng: random.Random) -> str:
    """Steuerliche Identifikationsnummer: 11 digits, one digit twice in the first ten, ISO 7064
    MOD 11,10 check digit."""
    while True:
        digits = rng.sample("0123456789", 9)
        if digits[0] == "0":
            continue
        digits.insert(rng.randrange(1, 10), rng.choice(digits))
        body = "".join(digits[:10])
        product = 10
        for ch in body:
            s = (int(ch) + product) % 10 or 10
            product = (s * 2) % 11
        check = (11 - product) % 10
        return body + str(check)


def fr_nir(rng: random.Random) -> str:
    body = (
        f"{rng.choice('12')}{rng.randrange(40, 100):02d}{rng.randrange(1, 13):02d}"
        f"{rng.randrange(1, 96):02d}{rng.randrange(1, 990):03d}{rng.randrange(1, 999):03d}"
    )
    return body + f"{97 - int(body) % 97:02d}"


def es_dni(rng: random.Random) -> str:
    n = rng.randrange(10**6, 10**8)
    return f"{n:08d}" + "TRWAGMYFPDXBNJZSQVHLCKE"[n % 23]


def es_nie(rng: random.Random) -> str:
    p = rng.randrange(3)
    n = rng.randrange(10**6, 10**7)
    return "XYZ"[p] + f"{n:07d}" + "TRWAGMYFPDXBNJZSQVHLCKE"[int(f"{p}{n:07d}") % 23]


def nl_bsn(rng: random.Random) -> str:
    while True:
        d = [rng.randrange(10) for _ in range(8)]
        if d[0] == 0:
            continue
        rest = sum(x * (9 - i) for i, x in enumerate(d)) % 11
        if rest < 10:
            return "".join(map(str, d)) + str(rest)


def jp_my_number(rng: random.Random) -> str:
    body = "".join(str(rng.randrange(10)) for _ in range(11))
    total = sum(int(p) * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(body), 1))
    r = total % 11
    return body + str(0 if r <= 1 else 11 - r)


def kr_rrn(rng: random.Random) -> str:
    year = rng.randrange(1940, 2015)
    body = f"{year % 100:02d}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    body += str(rng.choice("12") if year < 2000 else rng.choice("34"))
    body += "".join(str(rng.randrange(10)) for _ in range(5))
    w = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    check = (11 - sum(int(c) * x for c, x in zip(body, w)) % 11) % 10
    return f"{body[:6]}-{body[6:]}{check}"


def uk_nino(rng: random.Random) -> str:
    first = rng.choice("ABCEGHJKLMNOPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    if first + second in ("GB", "NK", "TN", "BG", "KN", "NT", "ZZ"):
        second = "A"
    d = f"{rng.randrange(10**6):06d}"
    return f"{first}{second} {d[:2]} {d[2:4]} {d[4:]} {rng.choice('ABCD')}"


def phone(lang: str, rng: random.Random) -> str:
    """A valid number of the language's country, in a national or international print form."""
    import phonenumbers as pn
    from phonenumbers import PhoneNumberFormat as F
    from phonenumbers import PhoneNumberType as T

    region = REGION[lang]
    kind = rng.choice([T.FIXED_LINE, T.MOBILE])
    example = pn.example_number_for_type(region, kind) or pn.example_number(region)
    national = str(example.national_number)
    number = copy.copy(example)  # keeps Italy's leading zero
    for _ in range(200):
        keep = rng.randrange(2, 4)
        digits = national[:keep] + "".join(
            str(rng.randrange(10)) for _ in range(len(national) - keep)
        )
        number.national_number = int(digits)
        if pn.is_valid_number(number):
            break
    style = rng.random()
    if style < 0.55:
        text = pn.format_number(number, F.NATIONAL)
    elif style < 0.85:
        text = pn.format_number(number, F.INTERNATIONAL)
    else:
        text = pn.format_number(number, F.NATIONAL).replace(" ", "").replace("-", "")
    return text


def _iban_check(country: str, bban: str) -> str:
    s = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{98 - int(s) % 97:02d}"


IBAN_LENGTH = {"GB": 22, "DE": 22, "ES": 24, "FR": 27, "IT": 27, "NL": 18}


def _group4(s: str) -> str:
    return " ".join(s[i : i + 4] for i in range(0, len(s), 4))


def isbn13(rng: random.Random) -> str:
    body = "978" + "".join(str(rng.randrange(10)) for _ in range(9))
    check = (10 - sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body)) % 10) % 10
    return f"{body[:3]}-{body[3]}-{body[4:8]}-{body[8:12]}-{check}"


# ---------------------------------------------------------------- PII of each language

NATIONAL_IDS = {
    "en": ("UK_NINO",),
    "de": ("DE_TAX_ID",),
    "fr": ("FR_NIR",),
    "es": ("ES_NIF", "ES_NIE"),
    "it": ("IT_FISCAL_CODE",),
    "nl": ("NL_BSN",),
    "zh": ("CN_ID",),
    "ja": ("JP_MY_NUMBER",),
    "ko": ("KR_RRN",),
}
COMMON = ("EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "IP_ADDRESS", "US_SSN", "PERSON")
COMMON += ("STREET_ADDRESS",)


def mimesis_name(lang: str, seed: int):  # noqa: ANN201
    """A maker of full names (given name, surname) from mimesis's person data of a Latin-script
    language: its own given-name and surname lists, not Faker's."""
    from mimesis import Locale, Person
    from mimesis.enums import Gender

    person = Person(Locale(MIMESIS_LOCALE[lang]), seed=seed)
    rng = random.Random(seed)

    def make() -> str:
        g = Gender.FEMALE if rng.random() < 0.5 else Gender.MALE
        return f"{person.first_name(g)} {person.last_name(g)}"

    return make


def _simplified(*chars: str) -> str:
    """The simplified form among a character and its listed variants: the one GB 2312 (the
    simplified character set of mainland China) encodes, else the first."""
    for ch in chars:
        try:
            ch.encode("gb2312")
            return ch
        except UnicodeEncodeError:
            continue
    return chars[0]


def name_variants_name(lang: str, seed: int):  # noqa: ANN201
    """A maker of full names in zh, ja or ko from the lookup tables of ``name-variants`` (MIT),
    a source that neither the dev split (Faker, mingzi, gimei, korean-name-generator) nor the
    retired held-out set (mimesis) nor pii_scrub's own lists use:

    * zh: its 140 surnames (compound ones included), the 20 with a population figure drawn at
      it and the others at the smallest one, in simplified characters (``_simplified``), and a
      given name of one (30%) or two (70%) of its 120 given-name characters;
    * ja: its 143 surnames (the 16 with a figure at it, the others at the smallest) and 107
      given names (kanji and katakana), written surname and given name with a space (70%,
      as the dev split's Faker and gimei write them) or together (30%);
    * ko: its 100 surnames at the 2015 census figures it lists (the few without one at the
      smallest), and a given name that is one of its two-syllable entries or two of its
      one-syllable ones (95%), or one syllable (5%), written together.
    """
    rng = random.Random(seed)

    def weighted(table: dict) -> tuple[list[str], list[float]]:
        least = min(v["frequency"] for v in table.values() if v.get("frequency"))
        return list(table), [v.get("frequency") or least for v in table.values()]

    if lang == "zh":
        from name_variants.chinese_given_names import CHINESE_GIVEN_NAME_VARIANTS as given
        from name_variants.chinese_surnames import CHINESE_SURNAME_VARIANTS as table

        keys, weights = weighted(table)
        han = re.compile(r"[\u4e00-\u9fff]+")
        surnames = [
            _simplified(k, *[f for f in table[k]["forms"] if han.fullmatch(f)]) for k in keys
        ]
        chars = [_simplified(k) for k in given]

        def make_zh() -> str:
            n = 1 if rng.random() < 0.3 else 2
            return rng.choices(surnames, weights)[0] + "".join(rng.choice(chars) for _ in range(n))

        return make_zh
    if lang == "ja":
        from name_variants.japanese_given_names import JAPANESE_GIVEN_NAME_VARIANTS as given
        from name_variants.japanese_surnames import JAPANESE_SURNAME_VARIANTS as table

        keys, weights = weighted(table)
        first = list(given)

        def make_ja() -> str:
            sep = " " if rng.random() < 0.7 else ""
            return rng.choices(keys, weights)[0] + sep + rng.choice(first)

        return make_ja
    from name_variants.korean_given_names import KOREAN_GIVEN_NAME_VARIANTS as given
    from name_variants.korean_surnames import KOREAN_SURNAME_VARIANTS as table

    keys, weights = weighted(table)
    one = [g for g in given if len(g) == 1]
    two = [g for g in given if len(g) == 2]

    def make_ko() -> str:
        r = rng.random()
        if r < 0.05:
            name = rng.choice(one)
        elif r < 0.5:
            name = rng.choice(two)
        else:
            name = rng.choice(one) + rng.choice(one)
        return rng.choices(keys, weights)[0] + name

    return make_ko


def third_source_name(lang: str, seed: int):  # noqa: ANN201
    """A maker of full names in zh, ja or ko from a third source, neither Faker's nor mimesis's
    lists, read offline from the data of installed packages (all MIT): ``mingzi`` (Chinese
    surnames at its population shares, its compound surnames at 0.1%, one- and two-character
    given names), ``gimei`` (500 Japanese surnames and 13,239 given names, kanji, written
    surname, space, given name as in Faker's ja_JP) and ``korean-name-generator`` (83 Korean
    surnames at its frequencies and given-name syllables drawn from its per-jamo counts of
    real names). Only the dev split uses it."""
    import json
    from pathlib import Path as _Path

    rng = random.Random(seed)
    if lang == "zh":
        import mingzi

        data = json.loads((_Path(mingzi.__file__).parent / "data.json").read_text("utf-8"))
        surnames, weights = zip(*sorted(data["surname"].items()))
        compound = sorted(data["com_surname"])

        def make_zh() -> str:
            s = rng.choice(compound) if rng.random() < 0.001 else rng.choices(surnames, weights)[0]
            sex = rng.choice(("male", "female"))
            return s + rng.choice(data[f"{sex}_{rng.choice(('single', 'double'))}"])

        return make_zh
    if lang == "ja":
        import gimei
        import yaml

        names = yaml.safe_load((_Path(gimei.__file__).parent / "data/names.yml").read_text("utf-8"))
        last = [x[0] for x in names["last_name"]]
        first = [x[0] for sex in ("male", "female") for x in names["first_name"][sex]]
        return lambda: f"{rng.choice(last)} {rng.choice(first)}"
    from korean_name_generator import namer, trained_data

    def pick(weights: list) -> int:
        return rng.choices(range(len(weights)), [w or 0 for w in weights])[0]

    def syllable(model: list) -> str:
        cho = pick(model[0][:19])
        jung = pick((model[1][cho * 21 : cho * 21 + 21] + [0] * 21)[:21])
        tails = [
            (model[2][jung * 28 + n] if jung * 28 + n < len(model[2]) else 0)
            * (model[3][cho * 28 + n] if cho * 28 + n < len(model[3]) else 0)
            for n in range(28)
        ]
        jong = pick(tails) if any(tails) else 0
        return chr(0xAC00 + 28 * 21 * cho + 28 * jung + jong)

    def make_ko() -> str:
        model = namer.trainedData.firstNames[rng.random() < 0.5]
        i = pick(trained_data.lastNameFrequency)
        return chr(trained_data.lastNames[i] + 0xAC00) + syllable(model[0]) + syllable(model[1])

    return make_ko


def mimesis_korean_name(seed: int):  # noqa: ANN201
    """Dev's third maker of Korean names (added when dev was made harder for Korean, issue #19):
    a surname at korean-name-generator's frequencies and a given name from mimesis's Korean
    person data (the retired second held-out split's lists), half one of its 960 given names
    (native ones too: 노을, 단비, 미래), half two syllables drawn apart at their frequency in
    those names, a broader distribution than real names have."""
    import json

    import mimesis
    from korean_name_generator import trained_data

    data = json.loads((Path(mimesis.__file__).parent / "datasets/ko/person.json").read_text())
    given = [n for sex in ("female", "male") for n in data["names"][sex]]
    syllables = [ch for n in given for ch in n]
    rng = random.Random(seed)
    weights = [w or 0 for w in trained_data.lastNameFrequency]

    def make() -> str:
        i = rng.choices(range(len(weights)), weights)[0]
        surname = chr(trained_data.lastNames[i] + 0xAC00)
        if rng.random() < 0.5:
            return surname + rng.choice(given)
        return surname + rng.choice(syllables) + rng.choice(syllables)

    return make


def dev_names(lang: str, seed: int, fake) -> list:  # noqa: ANN001
    """The dev split's name makers: Faker's of the language's locale and, in zh, ja and ko, a
    third source besides (third_source_name), so that CJK names are tuned on two sources that
    are not held-out's; in ko a fourth (mimesis_korean_name). Faker and the third source write
    Japanese names with a space and Korean ones with two given syllables; Japanese text often
    writes them together (佐藤花子) and some Korean given names are one syllable, so 30% of
    Japanese names lose their space and 5% of Korean ones (of three syllables) their last."""
    makers = [fake.name]
    if lang in CJK:
        makers.append(third_source_name(lang, seed + 5))
    if lang == "ko":
        makers.append(mimesis_korean_name(seed + 11))
    if lang not in ("ja", "ko"):
        return makers
    rng = random.Random(seed + 7)

    def form(make):  # noqa: ANN001, ANN202
        def made() -> str:
            name = make()
            if lang == "ja" and rng.random() < 0.3:
                return name.replace(" ", "")
            if lang == "ko" and len(name) == 3 and rng.random() < 0.05:
                return name[:2]
            return name

        return made

    return [form(m) for m in makers]


def heldout_names(lang: str, seed: int) -> list:
    """The held-out split's name makers of one language: in zh, ja and ko name-variants's
    (``name_variants_name``); in the Latin-script languages half mimesis's, half a sibling
    Faker locale's (NAME_LOCALES). None draws from the dev split's lists."""
    from faker import Faker

    if lang in CJK:
        return [name_variants_name(lang, seed)]
    makers = [mimesis_name(lang, seed)]
    siblings = []
    for i, loc in enumerate(NAME_LOCALES.get(lang, ())):
        siblings.append(Faker(loc))
        siblings[-1].seed_instance(seed + 1 + i)
    if siblings:
        pick = random.Random(seed + 99)
        makers.append(lambda: pick.choice(siblings).name())
    return makers


def census_name(seed: int):  # noqa: ANN201
    """A maker of English full names from the US Census 1990 lists of the package ``names``
    (MIT): a given name at its share among men's or women's names, a surname at its share."""
    import names as census

    folder = Path(census.__file__).parent
    rng = random.Random(seed)

    def table(name: str) -> tuple[list[str], list[float]]:
        rows = [line.split() for line in (folder / name).read_text().splitlines() if line]
        return [r[0].title() for r in rows], [float(r[1]) for r in rows]

    first = {sex: table(f"dist.{sex}.first") for sex in ("male", "female")}
    last = table("dist.all.last")

    def make() -> str:
        given = first[rng.choice(("male", "female"))]
        return f"{rng.choices(*given)[0]} {rng.choices(*last)[0]}"

    return make


def _initial_sound_rule(syllable: str) -> str:
    """South Korea's initial sound rule (두음법칙), which a given name's first syllable follows:
    hanja's table reads 林 림 and 良 량, names write 임 and 양 there (ㄹ before i/y is ㅇ,
    else ㄴ; ㄴ before i/y is ㅇ)."""
    code = ord(syllable) - 0xAC00
    initial, vowel, final = code // 588, code % 588 // 28, code % 28
    iy = vowel in (2, 3, 6, 7, 12, 17, 20)  # ㅑ ㅒ ㅕ ㅖ ㅛ ㅠ ㅣ
    if initial == 5:  # ㄹ
        initial = 11 if iy else 2
    elif initial == 2 and iy:  # ㄴ
        initial = 11
    return chr(0xAC00 + initial * 588 + vowel * 28 + final)


def heldout4_cjk_name(lang: str, seed: int):  # noqa: ANN201
    """A maker of zh, ja or ko full names for the fourth held-out split, from sources that
    neither dev (Faker's zh_CN/ja_JP/ko_KR, mingzi, gimei, korean-name-generator), nor the
    earlier held-out splits (mimesis, name-variants), nor pii_scrub's own lists use:

    * zh: Faker's zh_TW lists (Taiwan's surnames at their shares, its given names at their
      weights), in simplified characters (zhconv), as a mainland page would print them;
    * ja: japanese-personal-name-dataset (MIT): its 1,998 surnames at their population
      counts and a given name of its curated lists (a reading, then one of its kanji forms;
      10% written in hiragana), written with a space (70%) or together (30%);
    * ko: whatsername's 44 common surnames at 1/rank, and two given-name syllables, each drawn
      at the summed count, in men's or women's Chinese given names (ngender's table, MIT), of
      the characters it is the Korean reading of (hanja's table, MIT): the Sino-Korean
      syllables names are made of, at a distribution no Korean list of the project has; 5% one
      syllable (data/heldout4_korean_names.json, scripts/build_heldout4_korean.py).
    """
    rng = random.Random(seed)
    if lang == "zh":
        import zhconv
        from faker import Faker

        fake = Faker("zh_TW")
        fake.seed_instance(seed)
        return lambda: zhconv.convert(fake.last_name() + fake.first_name(), "zh-cn")
    if lang == "ja":
        import csv

        import japanese_personal_name_dataset as jpnd

        folder = Path(jpnd.__file__).parent / "dataset"
        with (folder / "last_name_org.csv").open(encoding="utf-8") as f:
            rows = [r for r in csv.reader(f) if len(r) >= 2 and r[1].isdigit()]
        surnames, counts = [r[0] for r in rows], [int(r[1]) for r in rows]
        given = []
        for sex in ("man", "woman"):
            with (folder / f"first_name_{sex}_opti.csv").open(encoding="utf-8") as f:
                given += [(r[0], r[2:]) for r in csv.reader(f) if len(r) >= 3]

        def make_ja() -> str:
            reading, forms = rng.choice(given)
            first = reading if rng.random() < 0.1 else rng.choice(forms)
            sep = " " if rng.random() < 0.7 else ""
            return rng.choices(surnames, counts)[0] + sep + first

        return make_ja
    import json

    data = json.loads((HERE / "data" / "heldout4_korean_names.json").read_text("utf-8"))
    surnames = data["surnames"]
    ranks = [1 / (i + 1) for i in range(len(surnames))]
    syllables = list(data["syllables"])
    weights = {sex: [c[i] for c in data["syllables"].values()] for i, sex in enumerate("mf")}

    def make_ko() -> str:
        w = weights[rng.choice("mf")]
        n = 1 if rng.random() < 0.05 else 2
        given = [_initial_sound_rule(g) for g in rng.choices(syllables, w, k=n)[:1]]
        given += rng.choices(syllables, w, k=n - 1)
        return rng.choices(surnames, ranks)[0] + "".join(given)

    return make_ko


def heldout4_names(lang: str, seed: int) -> list:
    """The fourth held-out split's name makers of one language (see HELDOUT4_LOCALES,
    census_name, heldout4_cjk_name): none draws from a list that dev, the earlier held-out
    splits or pii_scrub use."""
    from faker import Faker

    if lang in CJK:
        return [heldout4_cjk_name(lang, seed)]
    if lang == "en":
        return [census_name(seed)]
    fakes = []
    for i, loc in enumerate(HELDOUT4_LOCALES[lang]):
        fakes.append(Faker(loc))
        fakes[-1].seed_instance(seed + 1 + i)
    pick = random.Random(seed + 99)

    def make() -> str:
        f = pick.choice(fakes)
        return f"{f.first_name()} {f.last_name()}"

    return [make]


# The fifth held-out split's Latin-script names: Faker locales that no other split uses, each
# used by one language only (first name, last name; no titles); Faker's de_LI, de_LU and vi_VN
# are left out (their given names are the placeholders John and Jane), so is es_CA (es_ES's
# surname list)
HELDOUT5_LOCALES = {
    "en": ("en_IN", "en_NG", "en_KE", "en_PK", "en_TH"),
    "de": ("hu_HU", "da_DK", "sk_SK", "lt_LT"),
    "fr": ("yo_NG", "ha_NG", "ig_NG"),
    "es": ("sv_SE", "fi_FI", "lv_LV"),
    "it": ("sl_SI", "sw", "et_EE"),
    "nl": ("id_ID", "tw_GH", "zu_ZA"),
}


def heldout5_cjk_name(lang: str, seed: int):  # noqa: ANN201
    """A maker of zh, ja or ko full names for the fifth held-out split. No installed package
    has CJK names that no other split (nor pii_scrub: jieba, UniDic, Kiwi) uses, so these
    join parts of the held-out splits' sources (never dev's) in ways no split printed:

    * zh: a surname of name-variants's table (as heldout3, at its figures, simplified) and a
      given name of Faker's zh_TW (as heldout4) in simplified characters (zhconv);
    * ja: a surname of japanese-personal-name-dataset (as heldout4) at the square root of its
      count (rarer surnames more often), and a given name of its original, uncurated lists
      (first_name_*_org.csv, which no split used), one of its kanji forms (15% in hiragana,
      5% in katakana), written with a space (60%) or together (40%);
    * ko: a surname of name-variants's table (as heldout3, at its census figures) and two
      given-name syllables of heldout4's data (hanja readings of ngender's characters), drawn
      at the square root of their counts (8% one syllable).
    """
    rng = random.Random(seed)
    if lang == "zh":
        import zhconv
        from faker import Faker
        from name_variants.chinese_surnames import CHINESE_SURNAME_VARIANTS as table

        least = min(v["frequency"] for v in table.values() if v.get("frequency"))
        keys = list(table)
        weights = [table[k].get("frequency") or least for k in keys]
        han = re.compile(r"[\u4e00-\u9fff]+")
        surnames = [
            _simplified(k, *[f for f in table[k]["forms"] if han.fullmatch(f)]) for k in keys
        ]
        fake = Faker("zh_TW")
        fake.seed_instance(seed)
        return lambda: (
            rng.choices(surnames, weights)[0] + zhconv.convert(fake.first_name(), "zh-cn")
        )
    if lang == "ja":
        import csv

        import japanese_personal_name_dataset as jpnd

        folder = Path(jpnd.__file__).parent / "dataset"
        with (folder / "last_name_org.csv").open(encoding="utf-8") as f:
            rows = [r for r in csv.reader(f) if len(r) >= 2 and r[1].isdigit()]
        surnames, counts = [r[0] for r in rows], [int(r[1]) ** 0.5 for r in rows]
        given = []
        for sex in ("man", "woman"):
            with (folder / f"first_name_{sex}_org.csv").open(encoding="utf-8") as f:
                given += [(r[0], r[2:]) for r in csv.reader(f) if len(r) >= 3 and r[2:]]

        def make_ja() -> str:
            reading, forms = rng.choice(given)
            r = rng.random()
            if r < 0.15:
                first = reading
            elif r < 0.2:
                first = "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in reading)
            else:
                first = rng.choice(forms)
            sep = " " if rng.random() < 0.6 else ""
            return rng.choices(surnames, counts)[0] + sep + first

        return make_ja
    import json

    from name_variants.korean_surnames import KOREAN_SURNAME_VARIANTS as table

    least = min(v["frequency"] for v in table.values() if v.get("frequency"))
    keys = list(table)
    weights = [table[k].get("frequency") or least for k in keys]
    data = json.loads((HERE / "data" / "heldout4_korean_names.json").read_text("utf-8"))
    syllables = list(data["syllables"])
    flat = [(c[0] + c[1]) ** 0.5 for c in data["syllables"].values()]

    def make_ko() -> str:
        n = 1 if rng.random() < 0.08 else 2
        given = rng.choices(syllables, flat, k=n)
        given[0] = _initial_sound_rule(given[0])
        return rng.choices(keys, weights)[0] + "".join(given)

    return make_ko


def heldout5_names(lang: str, seed: int) -> list:
    """The fifth held-out split's name makers of one language (HELDOUT5_LOCALES,
    heldout5_cjk_name)."""
    from faker import Faker

    if lang in CJK:
        return [heldout5_cjk_name(lang, seed)]
    fakes = []
    for i, loc in enumerate(HELDOUT5_LOCALES[lang]):
        fakes.append(Faker(loc))
        fakes[-1].seed_instance(seed + 1 + i)
    pick = random.Random(seed + 99)

    def make() -> str:
        f = pick.choice(fakes)
        return f"{f.first_name()} {f.last_name()}"

    return [make]


# The sixth held-out split's carrier text, which no other split nor the sample corpus reads: the
# translated descriptions of Debian's debconf templates (/var/cache/debconf/templates.dat, every
# installed package's questions; English: the untranslated ones), the translated comments of
# shared-mime-info's MIME type table, and mimesis's sample sentences and quotes (text.json) of
# each language
DEBCONF = Path("/var/cache/debconf/templates.dat")
MIME_XML = Path("/usr/share/mime/packages/freedesktop.org.xml")
_H6_LANG = {"zh": "zh_cn"}
_H6_MIME = {"zh": "zh_CN"}


def heldout6_blocks(lang: str) -> list[list[str]]:
    """The sixth held-out split's carrier text of one language: one list of paragraphs per
    source (debconf descriptions, MIME type comments in runs of eight, mimesis sentences)."""
    import json

    import mimesis

    want = _H6_LANG.get(lang, lang)
    debconf = []
    for line in DEBCONF.read_text("utf-8", "replace").split("\n"):
        m = re.match(r"^(?:Description|Extended_description)(?:-([A-Za-z_]+)\.utf-8)?: (.*)", line)
        if m and (m.group(1) or "en").lower() == want:
            for para in m.group(2).split("\\n\\n"):
                para = re.sub(r"\$\{[^}]*\}|\\n", " ", para)
                para = re.sub(r"\s+", " ", para).strip()
                if len(para) >= 20:
                    debconf.append(para)
    xml = MIME_XML.read_text("utf-8")
    if lang == "en":
        comments = re.findall(r"<comment>([^<]+)</comment>", xml)
    else:
        tag = _H6_MIME.get(lang, lang)
        comments = re.findall(rf'<comment xml:lang="{tag}">([^<]+)</comment>', xml)
    mime = ["; ".join(comments[i : i + 8]) for i in range(0, len(comments), 8)]
    data = json.loads((Path(mimesis.__file__).parent / f"datasets/{lang}/text.json").read_text())
    sentences = [s for key in ("text", "quotes") for s in data.get(key, []) if len(s) >= 20]
    if lang == "en":  # English text.json is short; its (Quora) questions are real text too
        sentences += [q for q in data.get("questions", [])[:1500] if len(q) >= 20]
    said = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
    return [debconf, mime, said]


# The sixth held-out split's Latin-script names: Faker locales and mimesis locales that no other
# split uses (heldout3 used mimesis's en de fr es it nl only); first name, last name
HELDOUT6_SOURCES = {
    "en": ("faker:ga_IE", "mimesis:AZ", "faker:uz_UZ"),
    "de": ("mimesis:HU", "mimesis:CS", "mimesis:IS"),
    "fr": ("faker:pt_BR", "mimesis:DA", "mimesis:ET"),
    "es": ("mimesis:FI", "mimesis:PL", "mimesis:PT_BR"),
    "it": ("faker:is_IS", "mimesis:HR", "mimesis:SK"),
    "nl": ("mimesis:NO", "mimesis:SV", "mimesis:TR"),
}


def heldout6_cjk_name(lang: str, seed: int):  # noqa: ANN201
    """A maker of zh, ja or ko full names for the sixth held-out split, joining sources in ways
    no split printed (data/heldout6_names.json, scripts/build_heldout6_names.py):

    * zh: a surname of mimesis's zh list (the retired second split's) at name-variants's
      figures where it has one (else its smallest), and one (25%) or two given-name
      characters of ngender's table at their counts among men's or women's names;
    * ja: a surname of mimesis's ja list (2,056) drawn evenly (rare surnames as often as
      common ones), a given name of japanese-personal-name-dataset's curated lists (one of
      its kanji forms; 20% in hiragana, 5% in katakana), with a space (35%) or together;
    * ko: a surname of mimesis's ko list at name-variants's census figures (else its
      smallest), and two (10%: one) syllables that read Faker zh_TW's given-name characters
      in Korean (hanja), at their weights.
    """
    import json

    import mimesis

    rng = random.Random(seed)
    folder = Path(mimesis.__file__).parent / "datasets"
    data = json.loads((HERE / "data" / "heldout6_names.json").read_text("utf-8"))
    person = json.loads((folder / f"{lang}/person.json").read_text("utf-8"))
    surnames = person["surnames"]
    if lang == "ja":
        import csv

        import japanese_personal_name_dataset as jpnd

        base = Path(jpnd.__file__).parent / "dataset"
        given = []
        for sex in ("man", "woman"):
            with (base / f"first_name_{sex}_opti.csv").open(encoding="utf-8") as f:
                given += [(r[0], r[2:]) for r in csv.reader(f) if len(r) >= 3]

        def make_ja() -> str:
            reading, forms = rng.choice(given)
            r = rng.random()
            if r < 0.2:
                first = reading
            elif r < 0.25:
                first = "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in reading)
            else:
                first = rng.choice(forms)
            return rng.choice(surnames) + (" " if rng.random() < 0.35 else "") + first

        return make_ja
    if lang == "zh":
        from name_variants.chinese_surnames import CHINESE_SURNAME_VARIANTS as table
    else:
        from name_variants.korean_surnames import KOREAN_SURNAME_VARIANTS as table
    figures = {k: v.get("frequency") for k, v in table.items() if v.get("frequency")}
    if lang == "zh":  # name-variants keys some surnames by their traditional form
        han = re.compile(r"[\u4e00-\u9fff]+")
        for key, v in table.items():
            forms = [f for f in v.get("forms", ()) if han.fullmatch(f)]
            if v.get("frequency"):
                figures.setdefault(_simplified(key, *forms), v["frequency"])
    least = min(figures.values())
    weights = [figures.get(s, least) for s in surnames]
    parts = data["zh_given"] if lang == "zh" else data["ko_syllables"]
    keys = list(parts)
    by_sex = [[parts[k][i] for k in keys] for i in (0, 1)]

    def make() -> str:
        w = by_sex[rng.random() < 0.5]
        n = 1 if rng.random() < (0.25 if lang == "zh" else 0.1) else 2
        given = rng.choices(keys, w, k=n)
        if lang == "ko":
            given[0] = _initial_sound_rule(given[0])
        return rng.choices(surnames, weights)[0] + "".join(given)

    return make


def heldout6_names(lang: str, seed: int) -> list:
    """The sixth held-out split's name makers of one language (HELDOUT6_SOURCES,
    heldout6_cjk_name)."""
    from faker import Faker
    from mimesis import Locale, Person
    from mimesis.enums import Gender

    if lang in CJK:
        return [heldout6_cjk_name(lang, seed)]
    rng = random.Random(seed + 99)
    makers = []
    for i, source in enumerate(HELDOUT6_SOURCES[lang]):
        kind, loc = source.split(":")
        if kind == "faker":
            f = Faker(loc)
            f.seed_instance(seed + 1 + i)
            makers.append(lambda f=f: f"{f.first_name()} {f.last_name()}")
        else:
            p = Person(Locale[loc], seed=seed + 1 + i)

            def make(p=p) -> str:  # noqa: ANN001
                g = Gender.FEMALE if rng.random() < 0.5 else Gender.MALE
                return f"{p.first_name(g)} {p.last_name(g)}"

            makers.append(make)
    return [lambda: rng.choice(makers)()]


# The seventh held-out split's carrier text, files no other split nor the sample corpus reads
# (none under /usr/share/man, /usr/share/locale, vim, GnuPG, systemd, debconf or mime): the test
# texts of chardet and charset_normalizer as the Google Cloud SDK ships them (gsutil's
# third_party: blog and news feeds, web pages and book excerpts in their legacy encodings),
# Rust by Example in the rustup toolchain's documentation (English, and its es, ja, ko and zh
# translations), Tk's message catalogs, the translated messages of the installed polkit actions,
# and spaCy's example sentences of each language
GSUTIL = Path("/usr/lib/google-cloud-sdk/platform/gsutil/third_party")
CHARDET = GSUTIL / "chardet/tests"
# chardet's folders per language (the folder names the encoding; Python's superset codec):
# English from the ascii and windows-1252 web pages, the others from feeds and excerpts
_H7_CHARDET = {
    "en": ("ascii/*", "windows-1252/_mozilla_bug421271_text.html"),
    "de": ("windows-1252/_ude_1.txt",),
    "fr": ("iso-8859-1/_ude_2.txt",),
    "es": ("iso-8859-1/_ude_5.txt",),
    "it": ("iso-8859-1/_ude_3.txt", "iso-8859-1/_ude_4.txt"),
    "nl": ("windows-1252/_ude_2.txt",),
    "zh": ("GB2312/*", "Big5/*"),
    "ja": ("EUC-JP/*", "SHIFT_JIS/*", "CP932/*", "iso-2022-jp/*"),
    "ko": ("EUC-KR/*", "CP949/*", "iso-2022-kr/*", "Johab/*"),
}
_H7_CODEC = {"GB2312": "gb18030", "Big5": "big5hkscs", "EUC-JP": "euc_jis_2004"}
_H7_CODEC |= {"SHIFT_JIS": "cp932", "EUC-KR": "cp949", "ascii": "cp1252", "iso-8859-1": "latin-1"}
_H7_CHARSET_NORMALIZER = {
    "en": ("sample-english.bom.txt",),
    "fr": ("sample-french.txt", "sample-french-1.txt"),
    "es": ("sample-spanish.txt",),
    "zh": ("sample-chinese.txt",),
    "ko": ("sample-korean.txt",),
}
_H7_TK = {"zh": "zh_cn"}
# the JDK's translated messages (javac's, the launcher's, AWT's ... resource bundles, read from
# its modules image with its own jimage): German, French, Spanish and Italian, which have little
# other text no split reads; the Debian OpenJDK first
_H7_JDK_LANGS = ("de", "fr", "es", "it")
_H7_POLKIT = {"zh": "zh_CN"}


def _markup_text(raw: str) -> list[str]:
    """Lines of text of a feed or web page: tags dropped twice (feeds escape their HTML),
    entities resolved, lines with addresses or links dropped."""
    import html

    text = html.unescape(re.sub(r"<!\[CDATA\[|\]\]>", "", re.sub(r"<[^>]+>", "\n", raw)))
    text = html.unescape(re.sub(r"<[^>]+>", "\n", text))
    lines = [re.sub(r"\s+", " ", ln).strip() for ln in text.split("\n")]
    return [ln for ln in lines if not re.search(r"https?:|www\.|@|\.(?:com|net|org)\b", ln)]


def _rust_by_example() -> Path:
    found = sorted(
        Path.home().glob(".rustup/toolchains/stable-*/share/doc/rust/html/rust-by-example")
    )
    if not found:  # heldout7 is what it is only with every source: never a smaller split
        raise FileNotFoundError("heldout7: no rustup stable toolchain documentation")
    return found[0]


def heldout7_blocks(lang: str) -> list[list[str]]:
    """The seventh held-out split's carrier text of one language: one list of paragraphs per
    source (chardet's and charset_normalizer's texts, Rust by Example, Tk's and polkit's
    messages, spaCy's examples), each paragraph at least 20 characters."""
    import ast
    import html

    import spacy

    chardet = []
    for pattern in _H7_CHARDET[lang]:
        for path in sorted(CHARDET.glob(pattern)):
            folder = path.parent.name
            raw = path.read_bytes().decode(_H7_CODEC.get(folder, folder), "replace")
            chardet += _markup_text(raw) if path.suffix in (".xml", ".html") else raw.split("\n")
    if lang == "zh":  # Big5 feeds are Taiwan's: printed in simplified characters
        import zhconv

        chardet = [zhconv.convert(b, "zh-cn") for b in chardet]
    for name in _H7_CHARSET_NORMALIZER.get(lang, ()):
        raw = (GSUTIL / "charset_normalizer/data" / name).read_bytes()
        codec = {"zh": "gb18030", "ko": "cp949"}.get(lang, "utf-8-sig")
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            text = raw.decode("cp1252", "replace")
        chardet += [ln for ln in text.split("\n") if not re.fullmatch(r"[\d:,> -]*", ln.strip())]
    book = []
    if lang in ("en", "es", "ja", "ko", "zh"):
        from heldout_text import html_blocks

        book = html_blocks(_rust_by_example() / ("" if lang == "en" else lang) / "print.html")
    tk = Path("/usr/share/tcltk/tk8.6/msgs") / f"{_H7_TK.get(lang, lang)}.msg"
    ui = []
    if tk.is_file():
        for m in re.finditer(r'mcset \S+ "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"', tk.read_text()):
            said = m.group(1) if lang == "en" else m.group(2)
            said = re.sub(r"\\u([0-9a-fA-F]{4})", lambda u: chr(int(u.group(1), 16)), said)
            ui.append(re.sub(r"\\n|%\d\$s|\\", " ", said).replace("&", ""))
    tag = _H7_POLKIT.get(lang, lang)
    for path in sorted(Path("/usr/share/polkit-1/actions").glob("*.policy")):
        xml = path.read_text("utf-8", "replace")
        pattern = (
            r"<(?:description|message)>([^<]+)<"
            if lang == "en"
            else (rf'<(?:description|message) xml:lang="{tag}">([^<]+)<')
        )
        ui += [html.unescape(m) for m in re.findall(pattern, xml)]
    tree = ast.parse((Path(spacy.__file__).parent / f"lang/{lang}/examples.py").read_text())
    examples = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "\n" not in node.value
    ]
    jdk = _jdk_messages(lang) if lang in _H7_JDK_LANGS else []
    sources = [chardet, book, ui, examples, jdk]
    sources = [[re.sub(r"\s+", " ", b).strip() for b in s] for s in sources]
    return [[b for b in s if len(b) >= 20 and _in_language(b, lang)] for s in sources]


def _in_language(text: str, lang: str) -> bool:
    """Whether a Latin-script paragraph is in ``lang`` rather than English (Rust by Example's
    translation leaves paragraphs untranslated): more of its stop words than of English's."""
    if lang in CJK or lang == "en":
        return True
    words = re.findall(r"[^\W\d_]+", text.lower())
    return sum(w in _stop_words(lang) for w in words) > sum(w in _stop_words("en") for w in words)


def _stop_words(lang: str) -> frozenset[str]:
    import importlib

    return frozenset(importlib.import_module(f"spacy.lang.{lang}.stop_words").STOP_WORDS)


def _jdk_messages(lang: str) -> list[str]:
    """The translated messages of the first installed JDK's resource bundles of ``lang``
    (placeholders such as {0} dropped), extracted with its jimage into a temporary folder."""
    import subprocess
    import tempfile

    jdks = sorted(Path("/usr/lib/jvm").glob("*/bin/jimage"), key=lambda p: "openjdk" not in str(p))
    if not jdks:
        raise FileNotFoundError("heldout7: no JDK under /usr/lib/jvm (its jimage and modules)")
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [str(jdks[0]), "extract", "--dir", tmp, "--include",
             f"regex:.*_{lang}\\.properties", str(jdks[0].parent.parent / "lib/modules")],
            check=True, capture_output=True,
        )  # fmt: skip
        for path in sorted(Path(tmp).rglob(f"*_{lang}.properties")):
            text = re.sub(r"\\\n\s*", "", path.read_text("latin-1"))
            for line in text.split("\n"):
                m = re.match(r"\s*[^#!\s][^=:]*[=:]\s*(.*)", line)
                if m:
                    said = re.sub(r"\\u([0-9a-fA-F]{4})", lambda u: chr(int(u.group(1), 16)), m[1])
                    said = re.sub(r"\s*\{\d+\}|\\[nt]|<[^>]+>|''", " ", said).replace("\\", "")
                    out.append(said)
    return out


# The seventh held-out split's Latin-script names: mimesis locales and name-variants tables no
# other split uses (given name, surname), one set per language: the given names mimesis's de-ch,
# en-ca and es-mx lists add to their language's (their surnames too in es-mx), the surnames
# de-at and nl-be add, and the romanised forms of name-variants's Arabic, Persian, Turkish,
# Greek, Indian, Indonesian, Russian and Vietnamese tables (names of those who live in these
# countries); a third of the German, Spanish and English surnames come in pairs or with a
# particle (``Meier-Rüegg``, ``García Ochoa``)
HELDOUT7_SOURCES = {
    "en": (("mimesis:en-ca", "nv:greek_names"), ("nv:indian_names_hindi", "nv:indian_names_tamil")),
    "de": (("mimesis:de-ch",), ("mimesis:de-at", "nv:russian_surnames")),
    "fr": (("nv:arabic_names", "nv:persian_names"), ("nv:vietnamese_surnames", "mimesis:de-ch")),
    "es": (("mimesis:es-mx",), ("mimesis:es-mx",)),
    "it": (
        ("nv:turkish_names", "nv:greek_names"),
        ("nv:russian_surnames", "nv:indian_names_bengali"),
    ),
    "nl": (("nv:indonesian_malay_names", "nv:arabic_names"), ("mimesis:nl-be",)),
}
_MIMESIS_BASE = {"en-ca": "en", "de-ch": "de", "de-at": "de", "es-mx": "es", "nl-be": "nl"}


def _heldout7_list(source: str, part: int) -> list[str]:
    """Given names (part 0) or surnames (part 1) of one HELDOUT7_SOURCES entry: what a mimesis
    locale adds to its base language's lists, or a name-variants table's romanised forms."""
    import importlib
    import json

    import mimesis

    kind, name = source.split(":")
    if kind == "nv":
        table = next(
            v for k, v in vars(importlib.import_module(f"name_variants.{name}")).items()
            if k.isupper() and isinstance(v, dict)
        )  # fmt: skip
        forms = {f for v in table.values() for f in v.get("forms", ()) if f.isascii()}
        return sorted(f.title() for f in forms if f.isalpha() and len(f) > 2)
    folder = Path(mimesis.__file__).parent / "datasets"

    def names(loc: str) -> set[str]:
        data = json.loads((folder / loc / "person.json").read_text("utf-8"))
        if part == 0:
            return {n for sex in ("female", "male") for n in data.get("names", {}).get(sex, ())}
        s = data.get("surnames", ())
        return set(s if isinstance(s, list) else [n for v in s.values() for n in v])

    title = re.compile(r"[A-ZÀ-Ý][^\W\d_]+(?:[ -](?:de|del|la|los|y|[A-ZÀ-Ý][^\W\d_]+))*")
    return sorted(n for n in names(name) - names(_MIMESIS_BASE[name]) if title.fullmatch(n))


def heldout7_latin_name(lang: str, seed: int):  # noqa: ANN201
    """A maker of the seventh held-out split's Latin-script full names (HELDOUT7_SOURCES)."""
    rng = random.Random(seed)
    given = sorted({n for s in HELDOUT7_SOURCES[lang][0] for n in _heldout7_list(s, 0)})
    surnames = sorted({n for s in HELDOUT7_SOURCES[lang][1] for n in _heldout7_list(s, 1)})
    joins = {"de": "-", "es": " ", "en": "-"}

    def make() -> str:
        last = rng.choice(surnames)
        if lang in joins and rng.random() < 0.33:
            last += joins[lang] + rng.choice(surnames)
        return f"{rng.choice(given)} {last}"

    return make


# Korea's two-syllable surnames (2015 census): the rarer surnames heldout7 draws besides
# name-variants's table entries that have no population figure
KO_COMPOUND_SURNAMES = ("남궁", "황보", "제갈", "선우", "독고", "사공", "서문", "동방")
# Hiragana to katakana is a fixed offset in Unicode
_KATAKANA = str.maketrans({chr(c): chr(c + 0x60) for c in range(ord("ぁ"), ord("ゖ") + 1)})


def heldout7_cjk_name(lang: str, seed: int):  # noqa: ANN201
    """A maker of zh, ja or ko full names for the seventh held-out split, joining sources in
    ways no split printed:

    * zh: a compound surname of mingzi's list (35%: 欧阳, 司马, 上官 ...) or a surname of
      name-variants's table that has no population figure (the rare ones), drawn evenly, and
      one (30%) or two given-name characters of ngender's table (data/heldout6_names.json)
      at their counts among men's and women's names together;
    * ja: half written wholly in kana, japanese-personal-name-dataset's readings of a surname
      (drawn evenly among its 1,998) and of a given name, in katakana (60%) or hiragana, with a
      space (50%) or without; half a kanji surname (drawn evenly) with a given name in katakana;
    * ko: a rare surname (one of the eight two-syllable ones, 30%, or a name-variants entry
      without a figure) and two given-name syllables of heldout4's data at their counts.
    """
    import csv
    import json

    rng = random.Random(seed)
    if lang == "ja":
        import japanese_personal_name_dataset as jpnd

        folder = Path(jpnd.__file__).parent / "dataset"
        with (folder / "last_name_org.csv").open(encoding="utf-8") as f:
            last = [(r[0], r[2]) for r in csv.reader(f) if len(r) >= 3 and r[2]]
        given = []
        for sex in ("man", "woman"):
            with (folder / f"first_name_{sex}_opti.csv").open(encoding="utf-8") as f:
                given += [r[0] for r in csv.reader(f) if r and r[0]]

        def make_ja() -> str:
            kanji, reading = rng.choice(last)
            first = rng.choice(given).translate(_KATAKANA)
            if rng.random() < 0.5:
                return kanji + (" " if rng.random() < 0.3 else "") + first
            if rng.random() < 0.6:
                reading = reading.translate(_KATAKANA)
            else:
                first = rng.choice(given)
            return reading + (" " if rng.random() < 0.5 else "") + first

        return make_ja
    if lang == "zh":
        import mingzi
        from name_variants.chinese_surnames import CHINESE_SURNAME_VARIANTS as table

        data = json.loads((Path(mingzi.__file__).parent / "data.json").read_text("utf-8"))
        compound = sorted(data["com_surname"])
        han = re.compile(r"[\u4e00-\u9fff]+")
        rare = sorted(
            _simplified(k, *[f for f in v["forms"] if han.fullmatch(f)])
            for k, v in table.items()
            if not v.get("frequency")
        )
        given = json.loads((HERE / "data/heldout6_names.json").read_text())["zh_given"]
        chars, counts = list(given), [sum(c) for c in given.values()]

        def make_zh() -> str:
            surname = rng.choice(compound if rng.random() < 0.35 else rare)
            return surname + "".join(rng.choices(chars, counts, k=1 if rng.random() < 0.3 else 2))

        return make_zh
    from name_variants.korean_surnames import KOREAN_SURNAME_VARIANTS as table

    rare = sorted(k for k, v in table.items() if not v.get("frequency"))
    data = json.loads((HERE / "data/heldout4_korean_names.json").read_text())["syllables"]
    syllables, counts = list(data), [sum(c) for c in data.values()]

    def make_ko() -> str:
        surname = rng.choice(KO_COMPOUND_SURNAMES if rng.random() < 0.3 else rare)
        given = rng.choices(syllables, counts, k=2)
        return surname + _initial_sound_rule(given[0]) + given[1]

    return make_ko


def heldout7_names(lang: str, seed: int) -> list:
    """The seventh held-out split's name makers of one language (HELDOUT7_SOURCES,
    heldout7_cjk_name)."""
    if lang in CJK:
        return [heldout7_cjk_name(lang, seed)]
    return [heldout7_latin_name(lang, seed)]


def value(entity: str, lang: str, fake, rng: random.Random, names=()) -> str:  # noqa: ANN001, C901
    if entity == "EMAIL":
        return fake.email()
    if entity == "PHONE":
        return phone(lang, rng)
    if entity == "CREDIT_CARD":
        card = fake.credit_card_number()
        return _group4(card) if len(card) == 16 and rng.random() < 0.5 else card
    if entity == "IBAN":
        iban = fake.iban()
        want = IBAN_LENGTH.get(iban[:2], len(iban))
        if len(iban) != want:  # Faker's GB IBANs outside en_GB are a digit short
            bban = (iban[4:] + "0123456789")[: want - 4]
            iban = iban[:2] + _iban_check(iban[:2], bban) + bban
        return _group4(iban) if rng.random() < 0.5 else iban
    if entity == "IP_ADDRESS":
        return fake.ipv4_public() if rng.random() < 0.7 else _global_ipv6(rng)
    if entity == "US_SSN":
        ssn = _us_ssn(rng)
        return ssn.replace("-", " ") if rng.random() < 0.3 else ssn
    if entity == "PERSON":
        return rng.choice(names)() if names else fake.name()
    if entity == "STREET_ADDRESS":
        if lang in ("zh", "ja"):
            return fake.address().split(" ")[0]
        if lang == "ko":
            return re.sub(r" \(.*\)$", "", fake.address())
        return fake.street_address().replace("\n", ", ").strip()
    if entity == "UK_NINO":
        return uk_nino(rng)
    if entity == "DE_TAX_ID":
        v = de_tax_id(rng)
        return f"{v[:2]} {v[2:5]} {v[5:8]} {v[8:]}" if rng.random() < 0.5 else v
    if entity == "FR_NIR":
        v = fr_nir(rng)
        spaced = f"{v[0]} {v[1:3]} {v[3:5]} {v[5:7]} {v[7:10]} {v[10:13]} {v[13:]}"
        return spaced if rng.random() < 0.5 else v
    if entity == "ES_NIF":
        v = es_dni(rng)
        return f"{v[:8]}-{v[8]}" if rng.random() < 0.3 else v
    if entity == "ES_NIE":
        return es_nie(rng)
    if entity == "IT_FISCAL_CODE":
        return fake.ssn()
    if entity == "NL_BSN":
        v = nl_bsn(rng)
        return f"{v[:4]}.{v[4:6]}.{v[6:]}" if rng.random() < 0.3 else v
    if entity == "JP_MY_NUMBER":
        v = jp_my_number(rng)
        return f"{v[:4]} {v[4:8]} {v[8:]}" if rng.random() < 0.5 else v
    if entity == "CN_ID":
        return fake.ssn()
    if entity == "KR_RRN":
        return kr_rrn(rng)
    raise ValueError(entity)


def _us_ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"


def _global_ipv6(rng: random.Random) -> str:
    import ipaddress

    while True:
        ip = ipaddress.IPv6Address(rng.getrandbits(128) & ~(0x1FFF << 115) | (0x2 << 124))
        if ip.is_global:
            return str(ip)


# ---------------------------------------------------------------- decoys


def decoy(lang: str, rng: random.Random) -> tuple[str, str]:
    """(kind, value) of something that looks like PII and is not."""
    kind = rng.choice(DECOY_KINDS)
    if kind == "version":
        parts = rng.choice([2, 3, 3, 4])  # four bare parts would be an IPv4 address
        v = ".".join(str(rng.randrange(0, 30)) for _ in range(parts))
        return kind, rng.choice(["v", "version "] + [""] * (parts < 4)) + v
    if kind == "dotted number":  # section numbers, OIDs: never four parts, which is an IPv4
        return kind, ".".join(str(rng.randrange(1, 20)) for _ in range(rng.choice([3, 5, 6])))
    if kind == "hash":
        h = hashlib.sha256(str(rng.random()).encode()).hexdigest()
        return kind, h[: rng.choice([7, 12, 40, 64])]
    if kind == "uuid":
        return kind, str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if kind == "isbn":
        return kind, "ISBN " + isbn13(rng)
    if kind == "price":
        amount = rng.randrange(100, 10**6) / 100
        forms = {
            "en": f"${amount:,.2f}",
            "de": f"{amount:,.2f} €".replace(",", "_").replace(".", ",").replace("_", "."),
            "fr": f"{amount:,.2f} €".replace(",", "\u202f").replace(".", ","),
            "es": f"{amount:,.2f} €".replace(",", "_").replace(".", ",").replace("_", "."),
            "it": f"€ {amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", "."),
            "nl": f"€ {amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", "."),
            "zh": f"¥{amount:,.2f}",
            "ja": f"{int(amount * 100):,}円",
            "ko": f"{int(amount * 100):,}원",
        }
        return kind, forms[lang]
    if kind == "private ip":
        return kind, rng.choice(
            [
                f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                f"192.168.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                f"172.{rng.randrange(16, 32)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                "127.0.0.1",
                "::1",
                f"fe80::{rng.randrange(1, 0xFFFF):x}:{rng.randrange(1, 0xFFFF):x}",
                f"fd{rng.randrange(256):02x}:{rng.randrange(0xFFFF):x}::{rng.randrange(1, 99)}",
            ]
        )
    if kind == "luhn-invalid card":
        body = rng.choice("45") + "".join(str(rng.randrange(10)) for _ in range(14))
        card = body + str((int(_luhn_digit(body)) + rng.randrange(1, 10)) % 10)
        return kind, _group4(card) if rng.random() < 0.5 else card
    if kind == "bad iban":
        country = rng.choice(["DE", "FR", "ES", "IT", "NL", "GB"])
        n = {"DE": 18, "FR": 23, "ES": 20, "IT": 23, "NL": 14, "GB": 18}[country]
        bban = "".join(str(rng.randrange(10)) for _ in range(n))
        if country == "NL":
            bban = "ABNA" + bban[4:]
        if country == "GB":
            bban = "NWBK" + bban[4:]
        good = int(_iban_check(country, bban))
        iban = f"{country}{(good + rng.randrange(1, 97)) % 97 + 2:02d}{bban}"
        if _iban_check(country, bban) == iban[2:4]:
            iban = f"{country}{(good + 1) % 97 + 2:02d}{bban}"
        return kind, _group4(iban) if rng.random() < 0.5 else iban
    if kind == "date":
        y, m, d = rng.randrange(1990, 2030), rng.randrange(1, 13), rng.randrange(1, 29)
        return kind, rng.choice(
            [f"{y}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y}", f"{y}年{m}月{d}日"]
        )
    if kind == "count":
        return kind, f"{rng.randrange(10**6, 10**9):,}".replace(",", rng.choice([",", ".", " "]))
    raise ValueError(kind)


DECOY_KINDS = (
    "version",
    "dotted number",
    "hash",
    "uuid",
    "isbn",
    "price",
    "private ip",
    "luhn-invalid card",
    "bad iban",
    "date",
    "count",
)


# ---------------------------------------------------------------- carrier sentences

# Per language: dev templates and labels, then heldout3's, then heldout4's (SPLIT_INDEX); "{}" is
# the value. Labels are per entity group. heldout3's set replaced the second, retired with its
# seed and names; heldout4's are new, used by no other split.
TEMPLATES = {
    "en": (
        ["Contact: {}", "Please write to {} for details.", "{}"],
        ["See also {} in the records.", "Updated by {} yesterday", "On file: {}"],
        ["Forwarded to {} on request.", "Reviewed: {}", "Questions go to {} first."],
    ),
    "de": (
        ["Kontakt: {}", "Bitte wenden Sie sich an {}.", "{}"],
        ["Siehe auch {} in den Unterlagen.", "Aktualisiert von {} gestern", "Hinterlegt: {}"],
        ["Auf Anfrage weitergeleitet an {}.", "Geprüft: {}", "Fragen bitte zuerst an {}."],
    ),
    "fr": (
        ["Contact : {}", "Veuillez écrire à {} pour plus de détails.", "{}"],
        ["Voir aussi {} dans le dossier.", "Mis à jour par {} hier", "Au dossier : {}"],
        ["Transmis à {} sur demande.", "Vérifié : {}", "Les questions vont d'abord à {}."],
    ),
    "es": (
        ["Contacto: {}", "Por favor, escriba a {} para más detalles.", "{}"],
        ["Véase también {} en el expediente.", "Actualizado por {} ayer", "En archivo: {}"],
        ["Remitido a {} a petición.", "Revisado: {}", "Las preguntas van primero a {}."],
    ),
    "it": (
        ["Contatto: {}", "Si prega di scrivere a {} per i dettagli.", "{}"],
        ["Vedi anche {} nella pratica.", "Aggiornato da {} ieri", "In archivio: {}"],
        ["Inoltrato a {} su richiesta.", "Verificato: {}", "Le domande vanno prima a {}."],
    ),
    "nl": (
        ["Contact: {}", "Schrijf naar {} voor meer informatie.", "{}"],
        ["Zie ook {} in het dossier.", "Bijgewerkt door {} gisteren", "In dossier: {}"],
        ["Op verzoek doorgestuurd naar {}.", "Gecontroleerd: {}", "Vragen eerst naar {}."],
    ),
    "zh": (
        ["联系人：{}", "详情请联系{}。", "{}"],
        ["另见档案中的{}", "昨天由{}更新", "备案：{}"],
        ["已转交{}处理", "审核：{}", "如有疑问请先找{}"],
    ),
    "ja": (
        ["連絡先：{}", "詳細は{}までお問い合わせください。", "{}"],
        ["記録の{}も参照", "昨日{}が更新", "控え：{}"],
        ["{}に転送済み", "確認：{}", "質問はまず{}へ"],
    ),
    "ko": (
        ["연락처: {}", "자세한 내용은 {}에게 문의하세요.", "{}"],
        ["기록의 {}도 참고하세요", "어제 {}이 수정함", "보관: {}"],
        ["{}에게 전달했습니다", "검토: {}", "문의는 먼저 {}에게"],
    ),
}
LABELS = {
    "en": {
        "PHONE": (
            ["Phone:", "Tel."],
            ["Call", "Mobile no."],
            ["Phone number:", "Reach me at"],
        ),
        "US_SSN": (
            ["SSN:", "Social Security number"],
            ["SSN#", "Soc. Sec. No."],
            ["SSN no.", "Social Security #"],
        ),
        "PERSON": (
            ["Name:", "Author:"],
            ["Prepared by", "Attn:"],
            ["Signed:", "Contact person:"],
        ),
        "STREET_ADDRESS": (
            ["Address:", "lives at"],
            ["Ship to:", "Located at"],
            ["Mailing address:", "Visit us at"],
        ),
        "UK_NINO": (
            ["NI number:", "National Insurance number"],
            ["NINO:", "NI no."],
            ["NI No:", "National Insurance no."],
        ),
    },
    "de": {
        "PHONE": (
            ["Telefon:", "Tel."],
            ["Rufnummer:", "Mobil"],
            ["Telefonnummer:", "erreichbar unter"],
        ),
        "US_SSN": (
            ["Sozialversicherungsnummer (USA):", "US-SSN"],
            ["SSN (Vereinigte Staaten):", "amerikanische SSN"],
            ["US-Sozialversicherungsnr.", "SSN der USA:"],
        ),
        "PERSON": (
            ["Name:", "Autor:"],
            ["Verfasst von", "z. Hd."],
            ["Ansprechpartner:", "Unterzeichnet von"],
        ),
        "STREET_ADDRESS": (
            ["Anschrift:", "wohnhaft in der"],
            ["Postanschrift:", "Adresse"],
            ["Lieferadresse:", "Besuchsadresse"],
        ),
        "DE_TAX_ID": (
            ["Steuer-ID:", "Steueridentifikationsnummer"],
            ["Steuer-Identifikationsnummer:", "IdNr."],
            ["Steuernummer (IdNr.):", "persönliche Steuer-ID"],
        ),
    },
    "fr": {
        "PHONE": (
            ["Téléphone :", "Tél."],
            ["Numéro :", "Portable"],
            ["Tél. :", "joignable au"],
        ),
        "US_SSN": (
            ["numéro de sécurité sociale américain :", "SSN"],
            ["SSN (États-Unis) :", "n° SSN"],
            ["numéro SSN :", "sécurité sociale (USA)"],
        ),
        "PERSON": (
            ["Nom :", "Auteur :"],
            ["Préparé par", "À l'attention de"],
            ["Interlocuteur :", "Signé par"],
        ),
        "STREET_ADDRESS": (
            ["Adresse :", "domicilié au"],
            ["Adresse postale :", "situé au"],
            ["Adresse de livraison :", "demeurant"],
        ),
        "FR_NIR": (
            ["N° de sécurité sociale :", "NIR"],
            ["n° de sécurité sociale", "NIR n°"],
            ["numéro de sécu :", "n° INSEE"],
        ),
    },
    "es": {
        "PHONE": (
            ["Teléfono:", "Tel."],
            ["Llamar al", "Móvil:"],
            ["Tfno.:", "llame al"],
        ),
        "US_SSN": (
            ["número de seguro social (EE. UU.):", "SSN"],
            ["SSN (EE. UU.)", "n.º de Seguro Social:"],
            ["SSN estadounidense:", "número SSN"],
        ),
        "PERSON": (
            ["Nombre:", "Autor:"],
            ["Preparado por", "A la atención de"],
            ["Persona de contacto:", "Firmado por"],
        ),
        "STREET_ADDRESS": (
            ["Dirección:", "con domicilio en"],
            ["Dirección postal:", "ubicado en"],
            ["Domicilio:", "dirección de envío"],
        ),
        "ES_NIF": (
            ["DNI:", "NIF"],
            ["D.N.I.", "NIF n.º"],
            ["NIF n.º", "documento nacional de identidad"],
        ),
        "ES_NIE": (
            ["NIE:", "número de extranjero"],
            ["N.I.E.", "tarjeta de extranjero n.º"],
            ["NIE n.º", "número de identidad de extranjero:"],
        ),
    },
    "it": {
        "PHONE": (
            ["Telefono:", "Tel."],
            ["Chiamare il", "Cellulare:"],
            ["Tel.:", "recapito telefonico"],
        ),
        "US_SSN": (
            ["numero di previdenza sociale (USA):", "SSN"],
            ["SSN (Stati Uniti):", "n. Social Security"],
            ["SSN statunitense:", "numero SSN"],
        ),
        "PERSON": (
            ["Nome:", "Autore:"],
            ["Preparato da", "All'attenzione di"],
            ["Referente:", "Firmato da"],
        ),
        "STREET_ADDRESS": (
            ["Indirizzo:", "residente in"],
            ["Indirizzo postale:", "con sede in"],
            ["Recapito:", "indirizzo di consegna"],
        ),
        "IT_FISCAL_CODE": (
            ["Codice fiscale:", "C.F."],
            ["CF", "cod. fiscale"],
            ["C.F. n.", "codice fiscale personale:"],
        ),
    },
    "nl": {
        "PHONE": (
            ["Telefoon:", "Tel."],
            ["Bel", "Mobiel:"],
            ["Telefoonnummer:", "bereikbaar op"],
        ),
        "US_SSN": (
            ["Amerikaans sofinummer (SSN):", "SSN"],
            ["SSN (Verenigde Staten):", "Amerikaans socialezekerheidsnummer"],
            ["SSN (VS):", "Amerikaans SSN-nummer"],
        ),
        "PERSON": (
            ["Naam:", "Auteur:"],
            ["Samengesteld door", "T.a.v."],
            ["Contactpersoon:", "Ondertekend door"],
        ),
        "STREET_ADDRESS": (
            ["Adres:", "woonachtig aan de"],
            ["Postadres:", "gevestigd aan de"],
            ["Bezoekadres:", "afleveradres"],
        ),
        "NL_BSN": (
            ["BSN:", "burgerservicenummer"],
            ["BSN-nummer", "sofinummer:"],
            ["Burgerservicenummer:", "BSN nr."],
        ),
    },
    "zh": {
        "PHONE": (
            ["电话：", "手机"],
            ["联系电话", "手机："],
            ["联系方式：", "手机号"],
        ),
        "US_SSN": (
            ["美国社会安全号码：", "SSN"],
            ["美国社保号", "SSN号码："],
            ["美国SSN：", "社会安全号"],
        ),
        "PERSON": (
            ["姓名：", "作者"],
            ["负责人：", "申请人"],
            ["经办人：", "签名："],
        ),
        "STREET_ADDRESS": (
            ["地址：", "住址"],
            ["通讯地址：", "收货地址"],
            ["收件地址：", "家庭住址"],
        ),
        "CN_ID": (
            ["身份证号：", "身份证"],
            ["公民身份号码", "身份证号码："],
            ["居民身份证：", "证件号码"],
        ),
    },
    "ja": {
        "PHONE": (
            ["電話：", "TEL"],
            ["電話番号", "携帯："],
            ["連絡先電話：", "携帯番号"],
        ),
        "US_SSN": (
            ["米国社会保障番号：", "SSN"],
            ["米国の社会保障番号", "SSN番号："],
            ["SSN（米国）：", "社会保障番号"],
        ),
        "PERSON": (
            ["氏名：", "作成者"],
            ["担当者：", "差出人："],
            ["記入者：", "署名："],
        ),
        "STREET_ADDRESS": (
            ["住所：", "所在地"],
            ["送付先住所：", "所在地は"],
            ["お届け先：", "現住所"],
        ),
        "JP_MY_NUMBER": (
            ["マイナンバー：", "個人番号"],
            ["個人番号（マイナンバー）：", "マイナンバーカード番号"],
            ["通知カード番号：", "マイナンバーは"],
        ),
    },
    "ko": {
        "PHONE": (
            ["전화:", "휴대폰"],
            ["전화번호:", "휴대폰 번호"],
            ["연락 번호:", "핸드폰"],
        ),
        "US_SSN": (
            ["미국 사회보장번호:", "SSN"],
            ["미국 SSN", "미국 사회보장번호는"],
            ["미국 사회보장 번호:", "SSN 번호"],
        ),
        "PERSON": (
            ["이름:", "작성자"],
            ["담당자:", "보낸 사람:"],
            ["신청인:", "받는 사람:"],
        ),
        "STREET_ADDRESS": (
            ["주소:", "소재지"],
            ["우편 주소:", "주소지"],
            ["배송지:", "거주지"],
        ),
        "KR_RRN": (
            ["주민등록번호:", "주민번호"],
            ["주민등록번호(RRN):", "RRN"],
            ["주민등록 번호:", "주민번호는"],
        ),
    },
}


# The fifth held-out split's carrier sentences and labels, used by no other split
HELDOUT5_TEMPLATES = {
    "en": ["Escalated to {} this morning.", "Owner of record: {}", "As noted by {} in the log"],
    "de": ["Eskaliert an {} heute früh.", "Zuständig laut Akte: {}", "Laut Protokoll von {}"],
    "fr": ["Transféré ce matin à {}.", "Responsable au registre : {}", "Noté par {} au journal"],
    "es": ["Escalado a {} esta mañana.", "Titular registrado: {}", "Según anotó {} en el acta"],
    "it": ["Inoltrato stamattina a {}.", "Titolare a registro: {}", "Come annotato da {} nel log"],
    "nl": ["Vanochtend geëscaleerd naar {}.", "Eigenaar volgens register: {}", "Genoteerd door {}"],
    "zh": ["今天上午已上报给{}", "登记负责人为{}", "据{}在日志中记录"],
    "ja": ["今朝{}にエスカレーション済み", "登録上の担当：{}", "ログによると{}が記録"],
    "ko": ["오늘 오전 {}에게 이관됨", "등록 담당: {}", "로그상 {} 기록"],
}
HELDOUT5_LABELS = {
    "en": {
        "PHONE": ["Daytime phone:", "Cell"],
        "US_SSN": ["Taxpayer SSN:", "social security no."],
        "PERSON": ["Requested by", "Account holder:"],
        "STREET_ADDRESS": ["Home address:", "Send invoices to"],
        "UK_NINO": ["National Insurance No.:", "NI number is"],
    },
    "de": {
        "PHONE": ["Festnetz:", "Handynummer"],
        "US_SSN": ["Social Security Number (US):", "SSN-Nummer"],
        "PERSON": ["Beantragt von", "Kontoinhaber:"],
        "STREET_ADDRESS": ["Wohnanschrift:", "Rechnungsadresse"],
        "DE_TAX_ID": ["Identifikationsnummer:", "Steuer-IdNr."],
    },
    "fr": {
        "PHONE": ["Fixe :", "Mobile"],
        "US_SSN": ["Social Security Number (US) :", "numéro SSN américain"],
        "PERSON": ["Demandé par", "Titulaire du compte :"],
        "STREET_ADDRESS": ["Adresse du domicile :", "adresse de facturation"],
        "FR_NIR": ["Numéro de sécurité sociale :", "n° de sécu"],
    },
    "es": {
        "PHONE": ["Teléfono fijo:", "Celular"],
        "US_SSN": ["Social Security (EE. UU.):", "SSN del titular"],
        "PERSON": ["Solicitado por", "Titular de la cuenta:"],
        "STREET_ADDRESS": ["Domicilio particular:", "dirección de facturación"],
        "ES_NIF": ["N.º de DNI:", "NIF del titular"],
        "ES_NIE": ["Número NIE:", "NIE del titular"],
    },
    "it": {
        "PHONE": ["Telefono fisso:", "Cell."],
        "US_SSN": ["Social Security Number (USA):", "SSN del titolare"],
        "PERSON": ["Richiesto da", "Intestatario del conto:"],
        "STREET_ADDRESS": ["Indirizzo di casa:", "indirizzo di fatturazione"],
        "IT_FISCAL_CODE": ["Cod. fiscale:", "codice fiscale del titolare"],
    },
    "nl": {
        "PHONE": ["Vast nummer:", "Mobiel nummer"],
        "US_SSN": ["Social Security Number (VS):", "SSN van de houder"],
        "PERSON": ["Aangevraagd door", "Rekeninghouder:"],
        "STREET_ADDRESS": ["Woonadres:", "factuuradres"],
        "NL_BSN": ["Burgerservicenr.:", "BSN van de houder"],
    },
    "zh": {
        "PHONE": ["座机：", "手机号码"],
        "US_SSN": ["美国社会保障号：", "美国社保号码"],
        "PERSON": ["申请人：", "账户持有人"],
        "STREET_ADDRESS": ["居住地址：", "发票寄送地址"],
        "CN_ID": ["身份证号码：", "居民身份证号"],
    },
    "ja": {
        "PHONE": ["固定電話：", "携帯電話"],
        "US_SSN": ["米国ソーシャルセキュリティ番号：", "米国SSN"],
        "PERSON": ["申請者：", "口座名義人"],
        "STREET_ADDRESS": ["自宅住所：", "請求書送付先"],
        "JP_MY_NUMBER": ["個人番号：", "マイナンバー（個人番号）"],
    },
    "ko": {
        "PHONE": ["유선전화:", "휴대전화"],
        "US_SSN": ["미국 소셜 시큐리티 번호:", "미국 SSN 번호"],
        "PERSON": ["신청자:", "예금주"],
        "STREET_ADDRESS": ["자택 주소:", "청구지 주소"],
        "KR_RRN": ["주민등록번호 :", "주민번호:"],
    },
}
# heldout5: names inside running sentences in every language, with titles, and in ja and ko with
# particles ({n} the name; Korean {은} {이} {을} {과} as in KO_PERSON_SENTENCES)
HELDOUT5_PERSON_SENTENCES = {
    "en": [
        "Yesterday {n} merged the fix into the stable branch",
        "The patch from {n} was applied unchanged",
        "Thanks go to Dr. {n} for the review",
        "Ask {n} before changing the defaults",
    ],
    "de": [
        "Gestern hat {n} den Fehler behoben",
        "Der Patch von {n} wurde übernommen",
        "Dank an Frau {n} für die Durchsicht",
        "Vor Änderungen bitte {n} fragen",
    ],
    "fr": [
        "Hier, {n} a corrigé le défaut",
        "Le correctif de {n} a été appliqué",
        "Merci à Mme {n} pour la relecture",
        "Demandez à {n} avant de modifier les valeurs",
    ],
    "es": [
        "Ayer {n} corrigió el fallo",
        "Se aplicó el parche de {n} sin cambios",
        "Gracias a la Sra. {n} por la revisión",
        "Consulte a {n} antes de cambiar los valores",
    ],
    "it": [
        "Ieri {n} ha corretto il difetto",
        "La patch di {n} è stata applicata",
        "Grazie al dott. {n} per la revisione",
        "Chiedere a {n} prima di cambiare i valori",
    ],
    "nl": [
        "Gisteren heeft {n} de fout verholpen",
        "De patch van {n} is overgenomen",
        "Dank aan mevrouw {n} voor de controle",
        "Vraag het eerst aan {n}",
    ],
    "zh": [
        "昨天{n}修复了这个问题",
        "该补丁由{n}提交",
        "感谢{n}老师的审阅",
        "修改默认值前请先咨询{n}",
        "{n}女士负责此版本的发布",
        "请联系{n}先生确认",
    ],
    "ja": [
        "昨日{n}さんが不具合を修正した",
        "このパッチは{n}氏によるものです",
        "{n}様にご確認ください",
        "{n}が作成した資料を参照",
        "{n}先生のレビューに感謝します",
        "変更前に{n}に相談すること",
    ],
    "ko": [
        "어제 {n}{이} 버그를 고쳤다",
        "이 패치는 {n} 선생님이 보냈습니다",
        "{n}{은} 기본값 변경에 반대했다",
        "{n} 교수의 검토에 감사드립니다",
        "{n}{을} 만나 의논했다",
        "{n}{과} 상의한 뒤 결정함",
    ],
}


# The sixth held-out split's carrier sentences, labels and person sentences, used by no other split
HELDOUT6_TEMPLATES = {
    "en": ["Forwarded by the front desk: {}", "Please double-check {} before release.",
           "Record on file — {}"],
    "de": ["Vom Empfang weitergeleitet: {}", "Bitte {} vor der Freigabe prüfen.",
           "Aktenvermerk — {}"],
    "fr": ["Transmis par l'accueil : {}", "Merci de vérifier {} avant la sortie.",
           "Fiche au dossier — {}"],
    "es": ["Reenviado por recepción: {}", "Verifique {} antes de publicar.",
           "Ficha archivada — {}"],
    "it": ["Inoltrato dalla reception: {}", "Verificare {} prima del rilascio.",
           "Scheda in archivio — {}"],
    "nl": ["Doorgestuurd door de balie: {}", "Controleer {} vóór de release.",
           "Dossiernotitie — {}"],
    "zh": ["前台转来：{}", "发布前请核对{}", "档案记录——{}"],
    "ja": ["受付より転送：{}", "リリース前に{}を要確認", "記録票——{}"],
    "ko": ["접수처 전달: {}", "배포 전에 {} 확인 요망", "기록 카드 — {}"],
}  # fmt: skip
HELDOUT6_LABELS = {
    "en": {
        "PHONE": ["Reach me on", "Landline no.:"],
        "US_SSN": ["SSN on file:", "Social Security #"],
        "PERSON": ["Point of contact:", "Signed,"],
        "STREET_ADDRESS": ["Mailing address:", "Ship to:"],
        "UK_NINO": ["NINO:", "NI no."],
    },
    "de": {
        "PHONE": ["Rückruf unter", "Telefonnr.:"],
        "US_SSN": ["US-Sozialversicherungsnr.:", "amerikanische SSN"],
        "PERSON": ["Ansprechperson:", "Unterzeichnet:"],
        "STREET_ADDRESS": ["Postanschrift:", "Lieferadresse"],
        "DE_TAX_ID": ["Steuer-ID:", "steuerliche IdNr."],
    },
    "fr": {
        "PHONE": ["Rappeler au", "N° de tél. :"],
        "US_SSN": ["SSN (États-Unis) :", "numéro de sécurité sociale américain"],
        "PERSON": ["Interlocuteur :", "Signé :"],
        "STREET_ADDRESS": ["Adresse postale :", "Livrer à"],
        "FR_NIR": ["NIR :", "numéro d'inscription au répertoire"],
    },
    "es": {
        "PHONE": ["Llamar al", "Tel.:"],
        "US_SSN": ["SSN (Estados Unidos):", "número de Seguro Social de EE. UU."],
        "PERSON": ["Persona de contacto:", "Firmado:"],
        "STREET_ADDRESS": ["Dirección postal:", "Enviar a"],
        "ES_NIF": ["DNI:", "documento nacional"],
        "ES_NIE": ["NIE:", "número de identidad de extranjero"],
    },
    "it": {
        "PHONE": ["Richiamare al", "Tel.:"],
        "US_SSN": ["SSN (Stati Uniti):", "numero di previdenza sociale USA"],
        "PERSON": ["Referente:", "Firmato:"],
        "STREET_ADDRESS": ["Indirizzo postale:", "Spedire a"],
        "IT_FISCAL_CODE": ["C.F.:", "codice fiscale"],
    },
    "nl": {
        "PHONE": ["Terugbellen op", "Tel.nr.:"],
        "US_SSN": ["SSN (Verenigde Staten):", "Amerikaans sofinummer"],
        "PERSON": ["Contactpersoon:", "Ondertekend:"],
        "STREET_ADDRESS": ["Postadres:", "Bezorgen op"],
        "NL_BSN": ["BSN:", "burgerservicenummer"],
    },
    "zh": {
        "PHONE": ["联系电话：", "回拨号码"],
        "US_SSN": ["美国SSN：", "美国社会安全号码"],
        "PERSON": ["联系人：", "签字人"],
        "STREET_ADDRESS": ["通讯地址：", "收货地址"],
        "CN_ID": ["身份证：", "公民身份号码"],
    },
    "ja": {
        "PHONE": ["連絡先電話番号：", "折り返し先"],
        "US_SSN": ["米国SSN番号：", "アメリカの社会保障番号"],
        "PERSON": ["担当者：", "署名"],
        "STREET_ADDRESS": ["郵送先住所：", "お届け先"],
        "JP_MY_NUMBER": ["マイナンバー：", "個人番号カードの番号"],
    },
    "ko": {
        "PHONE": ["연락처:", "회신 번호"],
        "US_SSN": ["미국 SSN:", "미국 사회보장번호"],
        "PERSON": ["담당자:", "서명인"],
        "STREET_ADDRESS": ["우편 주소:", "배송지"],
        "KR_RRN": ["주민등록번호:", "주민번호"],
    },
}
# heldout6: names inside running sentences in every language, with titles and person contexts,
# and in ja and ko with particles and honorifics, CJK with no space ({n} the name; Korean {은}
# {이} {을} {과} as in KO_PERSON_SENTENCES)
HELDOUT6_PERSON_SENTENCES = {
    "en": [
        "The release notes were signed off by Prof. {n} last week",
        "Contact {n} for access to the mirror",
        "{n} maintains the package",
        "Written by {n} and reviewed twice",
        "Mr. {n} will chair the meeting",
    ],
    "de": [
        "Die Übersetzung stammt von Herrn {n}",
        "Ansprechpartner ist {n}",
        "{n} betreut das Paket seit Jahren",
        "Geschrieben von Prof. {n}",
        "Bitte wenden Sie sich an Frau Dr. {n}",
    ],
    "fr": [
        "La traduction est due à M. {n}",
        "Contactez {n} pour obtenir l'accès",
        "{n} maintient ce paquet depuis 2019",
        "Rédigé par Mme {n} et relu deux fois",
        "Le professeur {n} présidera la réunion",
    ],
    "es": [
        "La traducción es obra del Sr. {n}",
        "Póngase en contacto con {n}",
        "{n} mantiene el paquete desde 2019",
        "Escrito por la Dra. {n}",
        "Don {n} presidirá la reunión",
    ],
    "it": [
        "La traduzione è opera del sig. {n}",
        "Per l'accesso contattare {n}",
        "{n} cura il pacchetto dal 2019",
        "Scritto dalla prof.ssa {n}",
        "L'ing. {n} presiederà la riunione",
    ],
    "nl": [
        "De vertaling is van dhr. {n}",
        "Neem contact op met {n}",
        "{n} onderhoudt het pakket sinds 2019",
        "Geschreven door mevr. {n}",
        "Prof. {n} zit de vergadering voor",
    ],
    "zh": [
        "本软件包由{n}维护",
        "翻译工作由{n}博士完成",
        "如有疑问请联系{n}同志",
        "{n}经理已批准该变更",
        "此文档的作者是{n}",
        "会议由{n}主任主持",
    ],
    "ja": [
        "本パッケージは{n}さんが保守しています",
        "翻訳は{n}氏が担当しました",
        "{n}部長の承認を得た",
        "詳細は{n}様までお問い合わせください",
        "{n}の作成した手順書に従う",
        "{n}は会議で経緯を説明した",
        "{n}を担当者に任命した",
    ],
    "ko": [
        "이 패키지는 {n}{이} 관리합니다",
        "번역은 {n} 박사가 맡았다",
        "{n} 님께 문의해 주십시오",
        "{n}{은} 회의에서 경위를 설명했다",
        "{n}{을} 담당자로 임명했다",
        "{n} 부장의 승인을 받았다",
        "{n}{과} 함께 검토함",
        "{n}씨의 요청으로 변경",
    ],
}


# The seventh held-out split's carrier sentences, labels and person sentences, used by no other
# split. Person sentences put names at the start of a sentence, in lists (each name of a list is
# a value: "{n}" is every name slot), with a role after them, and in zh, ja and ko inside the
# text with no space, Korean with its particles (as in KO_PERSON_SENTENCES)
HELDOUT7_TEMPLATES = {
    "en": ["Kindly pass {} on to the night shift.", "Noted in the margin: {}", "Next of kin — {}"],
    "de": ["Bitte an die Spätschicht weitergeben: {}", "Randnotiz: {}", "Nächste Angehörige — {}"],
    "fr": ["À transmettre à l'équipe de nuit : {}", "Note en marge : {}", "Proche à prévenir — {}"],
    "es": ["Páselo al turno de noche: {}", "Nota al margen: {}", "Familiar de contacto — {}"],
    "it": ["Da passare al turno di notte: {}", "Nota a margine: {}", "Familiare da avvisare — {}"],
    "nl": ["Graag doorgeven aan de nachtdienst: {}", "Kanttekening: {}", "Naaste familie — {}"],
    "zh": ["请转交夜班同事{}", "页边批注：{}", "紧急联络亲属——{}"],
    "ja": ["夜勤の担当へ引き継ぎ：{}", "欄外メモ：{}", "緊急連絡先の親族——{}"],
    "ko": ["야간 근무자에게 전달 바람: {}", "여백 메모: {}", "비상 연락 가족 — {}"],
}
HELDOUT7_LABELS = {
    "en": {
        "PHONE": ["After hours:", "Direct line"],
        "US_SSN": ["Employee SSN:", "SSN (last filing)"],
        "PERSON": ["Emergency contact:", "Beneficiary:"],
        "STREET_ADDRESS": ["Residence:", "Deliver c/o"],
        "UK_NINO": ["Nat. Ins. number:", "NINo"],
    },
    "de": {
        "PHONE": ["Nach Dienstschluss:", "Durchwahl"],
        "US_SSN": ["SSN des Mitarbeiters (USA):", "US-Social-Security-Nr."],
        "PERSON": ["Notfallkontakt:", "Begünstigte Person:"],
        "STREET_ADDRESS": ["Wohnort:", "zugestellt an"],
        "DE_TAX_ID": ["Steuerliche Identifikationsnr.:", "IdNr. laut Bescheid"],
    },
    "fr": {
        "PHONE": ["En dehors des heures :", "Ligne directe"],
        "US_SSN": ["SSN de l'employé (USA) :", "Social Security américain n°"],
        "PERSON": ["Contact d'urgence :", "Bénéficiaire :"],
        "STREET_ADDRESS": ["Résidence :", "chez"],
        "FR_NIR": ["N° de sécurité sociale (NIR) :", "numéro INSEE"],
    },
    "es": {
        "PHONE": ["Fuera de horario:", "Línea directa"],
        "US_SSN": ["SSN del empleado (EE. UU.):", "n.º de Social Security"],
        "PERSON": ["Contacto de emergencia:", "Beneficiario:"],
        "STREET_ADDRESS": ["Residencia:", "entregar en"],
        "ES_NIF": ["NIF del interesado:", "DNI n.º"],
        "ES_NIE": ["NIE del interesado:", "tarjeta NIE"],
    },
    "it": {
        "PHONE": ["Fuori orario:", "Linea diretta"],
        "US_SSN": ["SSN del dipendente (USA):", "n. di Social Security"],
        "PERSON": ["Contatto di emergenza:", "Beneficiario:"],
        "STREET_ADDRESS": ["Residenza:", "consegnare presso"],
        "IT_FISCAL_CODE": ["Codice fiscale dell'interessato:", "CF n."],
    },
    "nl": {
        "PHONE": ["Buiten kantooruren:", "Direct nummer"],
        "US_SSN": ["SSN van de werknemer (VS):", "Social Security-nr."],
        "PERSON": ["Contact bij nood:", "Begunstigde:"],
        "STREET_ADDRESS": ["Woonplaats:", "af te leveren op"],
        "NL_BSN": ["BSN van betrokkene:", "burgerservicenr."],
    },
    "zh": {
        "PHONE": ["下班后请拨", "直线电话："],
        "US_SSN": ["员工美国社保号：", "美国社会安全卡号"],
        "PERSON": ["紧急联系人：", "受益人"],
        "STREET_ADDRESS": ["现居住地：", "寄往"],
        "CN_ID": ["本人身份证号：", "身份证件号"],
    },
    "ja": {
        "PHONE": ["時間外の連絡先：", "直通"],
        "US_SSN": ["従業員の米国SSN：", "米国社会保障カード番号"],
        "PERSON": ["緊急連絡先：", "受取人"],
        "STREET_ADDRESS": ["居住地：", "送り先"],
        "JP_MY_NUMBER": ["本人のマイナンバー：", "個人番号は"],
    },
    "ko": {
        "PHONE": ["업무 시간 외:", "직통"],
        "US_SSN": ["직원 미국 SSN:", "미국 사회보장카드 번호"],
        "PERSON": ["비상 연락인:", "수익자"],
        "STREET_ADDRESS": ["거주지:", "보낼 곳"],
        "KR_RRN": ["본인 주민등록번호:", "주민등록번호는"],
    },
}
HELDOUT7_PERSON_SENTENCES = {
    "en": [
        "{n} signed the lease on behalf of the tenants",
        "Present: {n}, {n} and {n}",
        "{n}, head of procurement, approved the order",
        "Copies went to {n} and {n}",
        "Our thanks to {n} (treasurer) for the figures",
    ],
    "de": [
        "{n} unterschrieb den Mietvertrag für die Mieter",
        "Anwesend: {n}, {n} und {n}",
        "{n}, Leiterin des Einkaufs, gab die Bestellung frei",
        "Kopien gingen an {n} und {n}",
        "Dank an {n} (Kassenwart) für die Zahlen",
    ],
    "fr": [
        "{n} a signé le bail au nom des locataires",
        "Présents : {n}, {n} et {n}",
        "{n}, directrice des achats, a validé la commande",
        "Copies adressées à {n} et à {n}",
        "Merci à {n} (trésorier) pour les chiffres",
    ],
    "es": [
        "{n} firmó el contrato en nombre de los inquilinos",
        "Asistentes: {n}, {n} y {n}",
        "{n}, jefa de compras, aprobó el pedido",
        "Se enviaron copias a {n} y a {n}",
        "Gracias a {n} (tesorero) por las cifras",
    ],
    "it": [
        "{n} ha firmato il contratto per conto degli inquilini",
        "Presenti: {n}, {n} e {n}",
        "{n}, responsabile acquisti, ha approvato l'ordine",
        "Copie inviate a {n} e a {n}",
        "Grazie a {n} (tesoriere) per i conti",
    ],
    "nl": [
        "{n} tekende het huurcontract namens de huurders",
        "Aanwezig: {n}, {n} en {n}",
        "{n}, hoofd inkoop, keurde de bestelling goed",
        "Kopieën gingen naar {n} en {n}",
        "Met dank aan {n} (penningmeester) voor de cijfers",
    ],
    "zh": [
        "{n}代表租户签署了租约",
        "出席：{n}、{n}、{n}",
        "采购部主管{n}批准了订单",
        "抄送{n}和{n}",
        "感谢财务{n}提供的数据",
        "经{n}同意后执行",
    ],
    "ja": [
        "{n}が借主を代表して契約書に署名した",
        "出席者：{n}、{n}、{n}",
        "購買部長の{n}が発注を承認",
        "写しを{n}と{n}に送付",
        "会計担当{n}に感謝します",
        "本件は{n}より連絡あり",
    ],
    "ko": [
        "{n}{이} 세입자를 대표해 계약서에 서명했다",
        "참석자: {n}, {n}, {n}",
        "구매팀장 {n}{이} 발주를 승인했다",
        "사본을 {n}{과} {n}에게 보냄",
        "회계 담당 {n} 님께 감사드립니다",
        "{n}{을} 통해 연락이 왔다",
    ],
}


def _person_sentence(template: str, make, lang: str) -> tuple[str, list[tuple[int, str]]]:  # noqa: ANN001
    """A person sentence with a new name in each ``{n}`` slot, Korean particles after the name
    they follow, and each name's offset in it."""
    parts = template.split("{n}")
    out, found = parts[0], []
    for part in parts[1:]:
        name = make()
        found.append((len(out), name))
        out += name + (ko_sentence("{n}" + part, name)[len(name) :] if lang == "ko" else part)
    return out, found


# Korean names inside running sentences, with the particle their last syllable takes
# ({은} is 은 after a final consonant, else 는; {이} 이/가, {을} 을/를, {과} 과/와), and
# with titles: per split (a split not listed has none)
KO_PERSON_SENTENCES = {
    "dev": [
        "{n}{은} 회의에 참석했다",
        "{n}{이} 작성한 문서입니다",
        "{n}{을} 담당자로 지정했다",
        "{n}의 요청으로 변경됨",
        "{n}에게 보내 주세요",
        "{n} 과장님께 문의하세요",
        "{n} 씨가 제안했다",
        "문서 작성: {n} 연구원",
    ],
    "heldout4": [
        "{n}{은} 이번 배포를 맡았다",
        "이 패치는 {n}{이} 보냈다",
        "{n} 님이 검토했습니다",
        "{n}의 의견에 따라 수정함",
        "{n} 팀장에게 확인 바람",
        "번역: {n}",
        "{n}{과} 함께 작업했다",
    ],
}
_JOSA = {"{은}": "은는", "{이}": "이가", "{을}": "을를", "{과}": "과와"}


def ko_sentence(template: str, name: str) -> str:
    """A Korean sentence with ``name`` and the particles its last syllable takes."""
    final = (ord(name[-1]) - 0xAC00) % 28 if "가" <= name[-1] <= "힣" else 0
    out = template.replace("{n}", name)
    for key, pair in _JOSA.items():
        out = out.replace(key, pair[0] if final else pair[1])
    return out


def _place(text: str, taken: list[list[int]], rng: random.Random, own_line: bool) -> int:
    """Where a sentence goes: a line start (own line) or after a sentence end in a paragraph,
    never inside a value already there."""
    if own_line:
        cuts = [0] + [m.end() for m in re.finditer(r"\n", text)] + [len(text)]
    else:
        cuts = [m.end() for m in re.finditer(r"(?:[.!?] |[。！？])", text)] + [len(text)]
    cuts = [c for c in cuts if not any(a <= c <= b for a, b in taken)]
    return rng.choice(cuts) if cuts else len(text)


def _insert(
    text: str, spans: list[Span], pieces: list[list[int]], doc: int, entity: str, val: str,
    sentence: str, at: int, own_line: bool, lang: str,
) -> str:  # fmt: skip
    pad = "" if lang in CJK else " "
    if own_line:
        piece = sentence + "\n"
        if at and text[at - 1 : at] != "\n":
            piece = "\n" + piece
    else:
        piece = sentence + pad
        if at and not text[at - 1].isspace() and text[at - 1] not in "。！？":
            piece = "\n" + piece  # after a value at the very end
    text = text[:at] + piece + text[at:]
    offset = at + piece.index(sentence) + sentence.index(val)
    for s in spans:
        if s.doc == doc and s.start >= at:
            s.start += len(piece)
            s.end += len(piece)
    for p in pieces:
        if p[0] >= at:
            p[0] += len(piece)
            p[1] += len(piece)
    pieces.append([at, at + len(piece)])
    spans.append(Span(doc, offset, offset + len(val), entity, val))
    return text


def build(
    split: str, docs_per_lang: int | None = None, decoy_docs_per_lang: int | None = None
) -> dict:
    """``{"text", "language", "spans"}`` of one split (see the module docstring); documents per
    language: DOCS, else 160 with PII and 30 decoy-only."""
    from faker import Faker

    assert split in SEEDS, split
    asked = (docs_per_lang, decoy_docs_per_lang)
    seed = SEEDS[split]
    k = SPLIT_INDEX.get(split, 0)
    h5 = split == "heldout5"
    h6 = split == "heldout6"
    h7 = split == "heldout7"
    texts: list[str] = []
    langs: list[str] = []
    spans: list[Span] = []
    for li, lang in enumerate(LANGS):
        rng = random.Random(seed * 100 + li)
        fake = Faker(LOCALE[lang])
        fake.seed_instance(seed * 100 + li)
        default = DOCS_LANG.get((split, lang)) or DOCS.get(split, (160, 30))
        docs_per_lang = default[0] if asked[0] is None else asked[0]
        decoy_docs_per_lang = default[1] if asked[1] is None else asked[1]
        if h7:
            names = heldout7_names(lang, seed * 100 + li)
        elif h6:
            names = heldout6_names(lang, seed * 100 + li)
        elif h5:
            names = heldout5_names(lang, seed * 100 + li)
        elif split == "heldout4":
            names = heldout4_names(lang, seed * 100 + li)
        elif split == "heldout3":
            names = heldout_names(lang, seed * 100 + li)
        else:
            names = dev_names(lang, seed * 100 + li, fake)
        entities = COMMON + NATIONAL_IDS[lang]
        if h5 or h6 or h7:  # PERSON, the type that missed its target on heldout4, twice as often
            entities += ("PERSON",)
        pool = carrier_docs(lang, split, docs_per_lang + decoy_docs_per_lang, rng)
        templates = (
            HELDOUT7_TEMPLATES[lang]
            if h7
            else HELDOUT6_TEMPLATES[lang]
            if h6
            else HELDOUT5_TEMPLATES[lang]
            if h5
            else TEMPLATES[lang][k]
        )
        sep = "" if lang in ("zh", "ja") else " "
        for j, base in enumerate(pool):
            doc = len(texts)
            text = base
            pieces: list[list[int]] = []
            decoy_only = j >= docs_per_lang
            for _ in range(rng.choice([3, 4]) if decoy_only else rng.choice([2, 3])):
                own_line = rng.random() < 0.4
                if decoy_only:
                    kind, val = decoy(lang, rng)
                    sentence = rng.choice(templates).format(val)
                    entity = "DECOY"
                else:
                    entity = rng.choice(entities)
                    val = value(entity, lang, fake, rng, names)
                    if h7:
                        labels = HELDOUT7_LABELS[lang].get(entity)
                        person_sentences = HELDOUT7_PERSON_SENTENCES[lang]
                    elif h6:
                        labels = HELDOUT6_LABELS[lang].get(entity)
                        person_sentences = HELDOUT6_PERSON_SENTENCES[lang]
                    elif h5:
                        labels = HELDOUT5_LABELS[lang].get(entity)
                        person_sentences = HELDOUT5_PERSON_SENTENCES[lang]
                    else:
                        labels = LABELS[lang].get(entity)
                        labels = labels[k] if labels else None
                        person_sentences = (
                            KO_PERSON_SENTENCES.get(split, ()) if lang == "ko" else ()
                        )
                    more: list[tuple[int, str]] = []  # heldout7: the other names of a list
                    if entity == "PERSON" and h7 and rng.random() < 0.5:
                        sentence, more = _person_sentence(
                            rng.choice(person_sentences),
                            rng.choice(names),
                            lang,
                        )
                        val = more.pop(0)[1]
                    elif entity == "PERSON" and person_sentences and rng.random() < 0.5:
                        sentence = ko_sentence(rng.choice(person_sentences), val)
                    elif labels and rng.random() < 0.7:
                        label = rng.choice(labels)
                        glue = sep if label[-1].isalpha() and not label[-1].isascii() else " "
                        sentence = f"{label}{glue if label[-1] not in ':：' else sep}{val}"
                        if not own_line:
                            sentence += "。" if lang in ("zh", "ja") else "."
                    else:
                        sentence = rng.choice(templates).format(val)
                    kind = ""
                if not own_line and lang in CJK and sentence[-1] not in "。.":
                    sentence += "。" if lang != "ko" else "."
                at = _place(text, pieces, rng, own_line)
                text = _insert(text, spans, pieces, doc, entity, val, sentence, at, own_line, lang)
                spans[-1].kind = kind
                if not decoy_only and more:  # the list's other names, after the first
                    start = spans[-1].start - sentence.index(val)
                    spans += [Span(doc, start + o, start + o + len(m), entity, m) for o, m in more]
            texts.append(text)
            langs.append(lang)
    for s in spans:
        assert texts[s.doc][s.start : s.end] == s.value, (s, texts[s.doc][s.start - 5 : s.end + 5])
    return {"text": texts, "language": langs, "spans": spans}


def write(folder: Path, quick: bool = False) -> None:
    """Both splits as Parquet (text, language) plus their span tables, for inspection."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    for split in SEEDS:
        data = build(split, *((40, 8) if quick else ()))
        pq.write_table(
            pa.table(
                {"id": range(len(data["text"])), "text": data["text"], "language": data["language"]}
            ),
            folder / f"{split}.parquet",
        )
        pq.write_table(
            pa.Table.from_pylist([s.__dict__ for s in data["spans"]]),
            folder / f"{split}_spans.parquet",
        )


if __name__ == "__main__":
    import sys

    write(
        Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/pii_multilingual"), "--quick" in sys.argv
    )
