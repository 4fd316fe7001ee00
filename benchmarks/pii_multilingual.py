"""A multilingual PII test set (en de fr es it nl zh ja ko) from text the sample corpus lacks.

``build(split)`` returns documents of real carrier text in nine languages with PII values put in
at known offsets, each in its country's surface form, and decoy-only documents (values that look
like PII and are not: versions, hashes, UUIDs, ISBNs, prices, private IPs, Luhn-invalid cards,
IBANs with bad check digits ...). Two splits that share no carrier file, template or seed:

* ``dev``: what pii_scrub's multilingual recognizers were tuned on; its names are Faker's and,
  in zh, ja and ko, half from a third source, neither Faker's nor mimesis's (the data of the
  packages mingzi, gimei and korean-name-generator; third_source_name);
* ``heldout``: measured, never tuned on: other carrier files, other carrier sentences and
  labels, other Faker seeds, and names from other lists than dev's: dev's names are Faker's
  lists of the language's locale (en_US, de_DE, ... zh_CN, ja_JP, ko_KR); held-out's are, in
  en de fr es it nl, half from sibling Faker locales (en_GB, en_AU, de_AT, fr_CA, es_MX,
  nl_BE ...) and half from mimesis's person data of the language, and in zh, ja and ko all from
  mimesis's (its own surname and given-name lists: 438 and 1,408 distinct Chinese, 2,028 and
  271 Japanese, 262 and 924 Korean, against Faker's 399 / 131, 50 / 51 and 44 / 121; 1%, 3%
  and 8% of mimesis's given names are also Faker's; Chinese and Korean surnames at their
  census shares for the 20 most common, see SURNAME_SHARES). Its sentences,
  labels and seed were replaced after a session had read the earlier ones (issue #19), and its
  names after a session had found that zh, ja and ko drew them from dev's lists.

Carrier text, per language: translated man pages under ``/usr/share/man/<lang>`` (Debian's
manpages-de and manpages-fr, and the translations shipped by dpkg, apt, passwd, man-db ...;
manpages-zh is left out, the sample corpus reads it) and the translated messages of gettext
catalogs under ``/usr/share/locale/<locale>/LC_MESSAGES`` (English: their msgids). The sample
corpus (scripts/build_sample_corpus.py) reads English and manpages-zh man pages, info manuals
and HTML documentation, none of these. Each file goes wholly to one split, by a hash of its path.

Values: Faker in each locale (dev's names, addresses, e-mails, cards, IBANs), mimesis (MIT) and
sibling Faker locales for held-out names, phone numbers made from
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
# sibling Faker locale) all from mimesis's (MIMESIS_LOCALE)
NAME_LOCALES = {
    "en": ("en_GB", "en_AU", "en_IE", "en_NZ", "en_CA"),
    "de": ("de_AT", "de_CH"),
    "fr": ("fr_CA", "fr_CH", "fr_BE"),
    "es": ("es_MX", "es_AR", "es_CO", "es_CL"),
    "it": ("it_CH",),
    "nl": ("nl_BE",),
}
MIMESIS_LOCALE = {"en": "en", "de": "de", "fr": "fr", "es": "es", "it": "it", "nl": "nl"}
MIMESIS_LOCALE |= {"zh": "zh", "ja": "ja", "ko": "ko"}
CJK = ("zh", "ja", "ko")
SEEDS = {"dev": 19, "heldout": 7727}
DOC_CHARS = 600


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
    return [p for p in dict.fromkeys(paths) if _split_of(str(p)) == split]


def carrier_docs(lang: str, split: str, n: int, rng: random.Random) -> list[str]:
    """``n`` documents of about DOC_CHARS characters of real text, paragraphs on lines."""
    files = carrier_files(lang, split)
    rng.shuffle(files)
    docs: list[str] = []
    for path in files:
        blocks = _man_text(path) if path.suffix == ".gz" else _mo_text(path, lang)
        if lang in CJK:  # a translated page may be mostly untranslated: keep CJK blocks
            blocks = [b for b in blocks if len(re.findall(r"[\u3040-\u9fff\uac00-\ud7af]", b)) > 5]
        cur: list[str] = []
        size = 0
        for block in blocks[:600]:
            cur.append(block[:DOC_CHARS])
            size += len(cur[-1])
            if size >= DOC_CHARS:
                docs.append("\n".join(cur))
                cur, size = [], 0
        if len(docs) >= n * 2:
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


# Chinese and Korean surnames are few and very unequal: the 20 most common hold about half of
# China's people and three quarters of Korea's. Held-out names draw these at their census
# shares in percent (China's 2020 census, Statistics Korea's 2015 census, as publicly reported;
# rounded) and spread the rest of the population uniformly over mimesis's other surnames (which
# still makes rare ones, 과 or 仲孙, far more frequent than they are in a population).
SURNAME_SHARES = {
    "zh": dict(
        zip(
            "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗",
            (7.1, 7.0, 6.7, 5.1, 4.6, 3.2, 2.5, 2.0, 2.0, 1.9, 1.5, 1.4, 1.3, 1.3, 1.2, 1.1, 1.1)
            + (1.1, 1.0, 1.0),
        )
    ),
    "ko": dict(
        zip(
            "김이박최정강조윤장임한오서신권황안송류전",
            (21.5, 14.7, 8.4, 4.7, 4.3, 2.3, 2.1, 2.1, 2.0, 1.7, 1.5, 1.5, 1.5, 1.4, 1.4, 1.4)
            + (1.4, 1.3, 1.2, 1.1),
        )
    ),
}


def mimesis_name(lang: str, seed: int):  # noqa: ANN201
    """A maker of full names from mimesis's person data of ``lang`` (given names and surnames
    of its own lists, not Faker's), in the language's order: given name first in Latin script;
    surname first in Chinese and Korean (written together) and in Japanese (a space between, as
    Faker's ja_JP writes them). Surnames as mimesis draws them (uniformly from its list), but in
    zh and ko at SURNAME_SHARES."""
    from mimesis import Locale, Person
    from mimesis.enums import Gender

    person = Person(Locale(MIMESIS_LOCALE[lang]), seed=seed)
    rng = random.Random(seed)
    shares = SURNAME_SHARES.get(lang, {})
    listed = person._dataset["surnames"]  # noqa: SLF001 (its list, for the shares' remainder)
    rest = [x for x in (listed if isinstance(listed, list) else []) if x not in shares]
    surnames = list(shares) + rest
    each = (100 - sum(shares.values())) / max(len(rest), 1)
    weights = list(shares.values()) + [each] * len(rest)

    def make() -> str:
        g = Gender.FEMALE if rng.random() < 0.5 else Gender.MALE
        given = person.first_name(g)
        surname = rng.choices(surnames, weights)[0] if shares else person.last_name(g)
        if lang in ("zh", "ko"):
            return surname + given
        if lang == "ja":
            return f"{surname} {given}"
        return f"{given} {surname}"

    return make


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


def dev_names(lang: str, seed: int, fake) -> list:  # noqa: ANN001
    """The dev split's name makers: Faker's of the language's locale and, in zh, ja and ko, a
    third source besides (third_source_name), so that CJK names are tuned on two sources that
    are not held-out's (mimesis)."""
    makers = [fake.name]
    if lang in CJK:
        makers.append(third_source_name(lang, seed + 5))
    return makers


def heldout_names(lang: str, seed: int) -> list:
    """The held-out split's name makers of one language (see NAME_LOCALES): none draws from the
    dev split's Faker locale."""
    from faker import Faker

    makers = [mimesis_name(lang, seed)]
    siblings = []
    for i, loc in enumerate(NAME_LOCALES.get(lang, ())):
        siblings.append(Faker(loc))
        siblings[-1].seed_instance(seed + 1 + i)
    if siblings:
        pick = random.Random(seed + 99)
        makers.append(lambda: pick.choice(siblings).name())
    return makers


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

# Per language: dev templates and labels, then held-out ones; "{}" is the value. Labels are
# per entity group; "*" is the generic one (used for every type).
TEMPLATES = {
    "en": (
        ["Contact: {}", "Please write to {} for details.", "{}"],
        ["Questions go to {} on weekdays.", "Reported by {} last week", "Owner of record: {}"],
    ),
    "de": (
        ["Kontakt: {}", "Bitte wenden Sie sich an {}.", "{}"],
        ["Ansprechpartner ist {} (werktags).", "Gemeldet von {} am Montag", "Eingetragen: {}"],
    ),
    "fr": (
        ["Contact : {}", "Veuillez écrire à {} pour plus de détails.", "{}"],
        [
            "Les questions vont à {} en semaine.",
            "Signalé par {} la semaine dernière",
            "Enregistré : {}",
        ],
    ),
    "es": (
        ["Contacto: {}", "Por favor, escriba a {} para más detalles.", "{}"],
        [
            "Las preguntas van a {} entre semana.",
            "Informado por {} la semana pasada",
            "Registrado: {}",
        ],
    ),
    "it": (
        ["Contatto: {}", "Si prega di scrivere a {} per i dettagli.", "{}"],
        [
            "Le domande vanno a {} nei giorni feriali.",
            "Segnalato da {} la settimana scorsa",
            "Registrato: {}",
        ],
    ),
    "nl": (
        ["Contact: {}", "Schrijf naar {} voor meer informatie.", "{}"],
        ["Vragen gaan naar {} op werkdagen.", "Gemeld door {} vorige week", "Geregistreerd: {}"],
    ),
    "zh": (
        ["联系人：{}", "详情请联系{}。", "{}"],
        ["工作日请找{}处理", "上周由{}报告", "登记信息{}"],
    ),
    "ja": (
        ["連絡先：{}", "詳細は{}までお問い合わせください。", "{}"],
        ["平日は{}が対応します", "先週{}より報告", "登録情報{}"],
    ),
    "ko": (
        ["연락처: {}", "자세한 내용은 {}에게 문의하세요.", "{}"],
        ["평일에는 {}이 담당합니다", "지난주 {}가 보고함", "등록 정보 {}"],
    ),
}
LABELS = {
    "en": {
        "PHONE": (["Phone:", "Tel."], ["Ring", "Cell #"]),
        "US_SSN": (["SSN:", "Social Security number"], ["Social Security #", "SSN -"]),
        "PERSON": (["Name:", "Author:"], ["Regards,", "Reviewed by"]),
        "STREET_ADDRESS": (["Address:", "lives at"], ["Mail to", "Residence:"]),
        "UK_NINO": (
            ["NI number:", "National Insurance number"],
            ["National Insurance no:", "NI #"],
        ),
    },
    "de": {
        "PHONE": (["Telefon:", "Tel."], ["Erreichbar unter", "Handy"]),
        "US_SSN": (
            ["Sozialversicherungsnummer (USA):", "US-SSN"],
            ["US-Sozialversicherungsnr.", "Social Security Number (USA)"],
        ),
        "PERSON": (["Name:", "Autor:"], ["Mit freundlichen Grüßen", "Bearbeiter:"]),
        "STREET_ADDRESS": (["Anschrift:", "wohnhaft in der"], ["Lieferanschrift", "Sitz:"]),
        "DE_TAX_ID": (
            ["Steuer-ID:", "Steueridentifikationsnummer"],
            ["Steuer-IdNr", "Identifikationsnummer (Steuer)"],
        ),
    },
    "fr": {
        "PHONE": (["Téléphone :", "Tél."], ["Joignable au", "Mobile"]),
        "US_SSN": (
            ["numéro de sécurité sociale américain :", "SSN"],
            ["Social Security (USA)", "numéro SSN américain"],
        ),
        "PERSON": (["Nom :", "Auteur :"], ["Cordialement,", "Rédigé par"]),
        "STREET_ADDRESS": (["Adresse :", "domicilié au"], ["Envoyer à", "Siège :"]),
        "FR_NIR": (["N° de sécurité sociale :", "NIR"], ["numéro de sécu", "N° INSEE :"]),
    },
    "es": {
        "PHONE": (["Teléfono:", "Tel."], ["Contacte al", "Celular"]),
        "US_SSN": (
            ["número de seguro social (EE. UU.):", "SSN"],
            ["Seguro Social de EE. UU.", "SSN de EE.UU.:"],
        ),
        "PERSON": (["Nombre:", "Autor:"], ["Atentamente,", "Redactado por"]),
        "STREET_ADDRESS": (["Dirección:", "con domicilio en"], ["Enviar a", "Sede:"]),
        "ES_NIF": (["DNI:", "NIF"], ["NIF:", "número de DNI"]),
        "ES_NIE": (["NIE:", "número de extranjero"], ["NIE nº", "identidad de extranjero:"]),
    },
    "it": {
        "PHONE": (["Telefono:", "Tel."], ["Raggiungibile al", "Cell."]),
        "US_SSN": (
            ["numero di previdenza sociale (USA):", "SSN"],
            ["Social Security (USA)", "SSN americano:"],
        ),
        "PERSON": (["Nome:", "Autore:"], ["Cordiali saluti,", "Redatto da"]),
        "STREET_ADDRESS": (["Indirizzo:", "residente in"], ["Inviare a", "Domicilio:"]),
        "IT_FISCAL_CODE": (["Codice fiscale:", "C.F."], ["codice fiscale n.", "C.F.:"]),
    },
    "nl": {
        "PHONE": (["Telefoon:", "Tel."], ["Bereikbaar op", "GSM"]),
        "US_SSN": (
            ["Amerikaans sofinummer (SSN):", "SSN"],
            ["Social Security (VS)", "Amerikaans SSN:"],
        ),
        "PERSON": (["Naam:", "Auteur:"], ["Met vriendelijke groet,", "Opgesteld door"]),
        "STREET_ADDRESS": (["Adres:", "woonachtig aan de"], ["Verzenden naar", "Vestiging:"]),
        "NL_BSN": (["BSN:", "burgerservicenummer"], ["BSN nr.", "Burgerservicenummer:"]),
    },
    "zh": {
        "PHONE": (["电话：", "手机"], ["请拨打", "手机号码"]),
        "US_SSN": (["美国社会安全号码：", "SSN"], ["美国社会保障号", "美国SSN："]),
        "PERSON": (["姓名：", "作者"], ["经办人", "审核："]),
        "STREET_ADDRESS": (["地址：", "住址"], ["寄送至", "公司地址"]),
        "CN_ID": (["身份证号：", "身份证"], ["居民身份证号", "证件号码："]),
    },
    "ja": {
        "PHONE": (["電話：", "TEL"], ["お電話は", "連絡電話"]),
        "US_SSN": (["米国社会保障番号：", "SSN"], ["ソーシャルセキュリティ番号", "米国SSN："]),
        "PERSON": (["氏名：", "作成者"], ["記入者", "確認："]),
        "STREET_ADDRESS": (["住所：", "所在地"], ["お届け先", "本社所在地"]),
        "JP_MY_NUMBER": (
            ["マイナンバー：", "個人番号"],
            ["マイナンバー（個人番号）", "個人番号は"],
        ),
    },
    "ko": {
        "PHONE": (["전화:", "휴대폰"], ["휴대전화", "연락 번호:"]),
        "US_SSN": (["미국 사회보장번호:", "SSN"], ["미국 사회보장 번호", "SSN 번호:"]),
        "PERSON": (["이름:", "작성자"], ["작성:", "확인자"]),
        "STREET_ADDRESS": (["주소:", "소재지"], ["배송 주소:", "본사"]),
        "KR_RRN": (["주민등록번호:", "주민번호"], ["주민등록 번호", "주민번호는"]),
    },
}


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


def build(split: str, docs_per_lang: int = 160, decoy_docs_per_lang: int = 30) -> dict:
    """``{"text", "language", "spans"}`` of one split (see the module docstring)."""
    from faker import Faker

    assert split in SEEDS, split
    seed = SEEDS[split]
    k = 0 if split == "dev" else 1
    texts: list[str] = []
    langs: list[str] = []
    spans: list[Span] = []
    for li, lang in enumerate(LANGS):
        rng = random.Random(seed * 100 + li)
        fake = Faker(LOCALE[lang])
        fake.seed_instance(seed * 100 + li)
        if split == "heldout":
            names = heldout_names(lang, seed * 100 + li)
        else:
            names = dev_names(lang, seed * 100 + li, fake)
        entities = COMMON + NATIONAL_IDS[lang]
        pool = carrier_docs(lang, split, docs_per_lang + decoy_docs_per_lang, rng)
        templates = TEMPLATES[lang][k]
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
                    labels = LABELS[lang].get(entity)
                    if labels and rng.random() < 0.7:
                        label = rng.choice(labels[k])
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
        data = build(split, *((40, 8) if quick else (160, 30)))
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
