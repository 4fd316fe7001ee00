"""Latin-script PERSON names from a lexicon of given names (``Ana Sofía Rey Puente``) and titles.

spaCy's English model, which reads the name windows of every row (curate/pii/ner.py), misses
many names in German, Spanish, Italian and Dutch text: it has not seen ``Temistocle
Caccioppoli`` or ``Quinn van de Weterink``. This finder does not need to have seen the surname:

* a given name of the lexicon in Title Case, followed by one to three Title Case words (the
  surnames, and middle names), with the particles of surnames between them (``de``, ``del``,
  ``di``, ``van der``, ``von``, ``y`` ...): the whole run is a PERSON;
* an honorific or title (``Herr``, ``Frau``, ``Sr.``, ``Sra.``, ``Sig.``, ``Dott.``, ``Mme``,
  ``Dhr.``, ``Dr.`` ...) followed by Title Case words: those words are a PERSON;
* a label of a person (``Name:``, ``Nome:``, ``Auteur :`` ...) followed by two to four Title
  Case words up to punctuation or the line's end, the first not a common word of the page;
* a person context (``written by``, ``contact``, ``geschrieben von``, ``scritto da``, ``neem
  contact op met`` ...: PERSON_CONTEXTS) followed by exactly two Title Case words, or a title
  written in lower case inside a sentence (``dhr.``, ``sig.``, ``don``, ``professeur``) followed
  by one to three, even when no lexicon lists them (``Eral Yorulmaz``): none a common word of
  the page, a word that starts places and products, or a word of a team's or company's name
  (``Debian Developers``), and no further Title Case word after them (a product).

A word is no surname when it is a stop word of en/de/fr/es/it/nl, or when it also occurs in
lower case in the same document (German nouns are capitalised, but a noun used twice is
usually also seen inside a compound or in lower case less often than one would hope, so the
first rule also needs the given name itself not to be a stop word or a lower-case word of the
document: ``Bitte wenden Sie`` is no name though ``Bitte`` is one in Sweden).

The lexicon is the first-name dictionary of Jörg Michael's ``gender`` program (about 48,000
given names of 55 countries, GFDL), as shipped in the ``gender-guesser`` package's data file:
nothing is downloaded. A second lexicon adds the given names of nomquamgender's reference data
(names with their counts in 36 sources, MIT; those listed by two sources or more, about 81,700
less stop words and words that start place names), kept in the repository
(data/nomquamgender_given_names.txt.gz, built by scripts/build_given_names.py). Both are
independent of the generators of the test names (benchmarks/pii_multilingual.py takes them from
Faker's and mimesis's person lists).
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from pathlib import Path

import regex as re

from curate.pii.ner import _SENTENCE_START, NER_SCORE, LazyNer, _stop_words

log = logging.getLogger(__name__)

# surname particles between the given name and the surname (lower case, or capitalised: Le Grand)
# (Dutch: the old genitive article of place-derived names, 's Gravensande, 't Hooft, and its
# combinations van 't, van 's, in 't)
PARTICLES = (
    "de la|de las|de los|del|de|di|da|dal|dalla|della|dei|degli|van der|van den|van de|van 't|"
    "van ’t|van 's|van ’s|in 't|in ’t|in de|op de|op 't|op ’t|uit de|uit den|van het|"
    "van|von der|von dem|von|zu|vom|den|ten|ter|te|le|la|du|des|dos|das|do|y|i|e|'s|’s|'t|’t|"
    "Le|La|De|Di|Da|Del|Van|Von|Du"
)
# honorifics and titles that come before a name (abbreviations with their dot)
HONORIFICS = (
    r"Herr|Herrn|Frau|Fräulein|Mr\.|Mrs\.|Ms\.|Miss|Mme\.?|Mlle\.?|Monsieur|Madame|M\.|Sr\.|"
    r"Sra\.|Srta\.|Señor|Señora|Don|Doña|Dña\.|Sig\.|Sig\.ra|Sig\.na|Signor|Signora|Dott\.|"
    r"Dott\.ssa|Dr\.|Dra\.|Prof\.|Prof\.ssa|Ing\.|Avv\.|Dhr\.|Mevr\.|Mw\.|Mevrouw|Meneer"
)
# Rey, Águila-Tur, O'Neil, McDonald; Dutch double surnames: Scholten-de Kale, Lagerweij-van de Veen
# (a capital after a surname prefix, as curate/pii/ner.py's _CAMEL allows: McDonald, DeVito)
# (and the elided articles of Italian, French and Irish surnames: D’Imperio, D'Arco, O'Brien)
_PART = r"(?:Mc|Mac|De|Di|Da|La|Le|Van|Von|[DO]['’])?\p{Lu}[\p{Ll}'’]*\p{Ll}"
_WORD = rf"{_PART}(?:-(?:(?:{PARTICLES})[ \t])?{_PART})?"
_TAIL = rf"(?:[ \t](?:(?:{PARTICLES})[ \t])?{_WORD}){{1,3}}"
# (not inside O'Reilly, D’Arco: a letter and an apostrophe before the run)
_GIVEN_RUN = re.compile(
    rf"(?<![\p{{L}}\p{{N}}_@/.\-])(?<!\p{{L}}['’])({_WORD})({_TAIL})(?![\p{{L}}\p{{N}}_@])"
)
_HONORED = re.compile(
    rf"(?<![\p{{L}}\p{{N}}_])(?:{HONORIFICS})[ \t]((?:{_WORD})(?:[ \t](?:(?:{PARTICLES})[ \t])?"
    rf"{_WORD}){{0,2}})(?![\p{{L}}\p{{N}}_@])"
)
# the titles written in lower case inside a sentence (Italian, Dutch and Spanish write them so:
# "il sig. Rossi", "dhr. Jansen", "don Pedro") and title words; any case of their first letter
_LOWER_TITLES = (
    r"sig\.|sig\.ra|sig\.na|signor|signora|dott\.|dott\.ssa|prof\.|prof\.ssa|ing\.|avv\.|"
    r"dhr\.|mevr\.|mw\.|mevrouw|meneer|de heer|señor|señora|don|doña|sr\.|sra\.|dr\.|dra\.|"
    r"monsieur|madame|professor|professeur|profesor|profesora|professore|professoressa|doktor"
)
# phrases after which a person is named (the person-context rule): "written by", "contact",
# and their usual forms in the crawl's Latin-script languages, any case of the first letter
PERSON_CONTEXTS = (
    r"written by|signed by|reviewed by|maintained by|authored by|reported by|translated by|"
    r"created by|approved by|contact|contacting|questions to|thanks to|ask|according to|"
    r"geschrieben von|übersetzt von|erstellt von|verfasst von|gemeldet von|kontakt|"
    r"kontaktieren sie|wenden sie sich an|fragen an|dank an|laut|"
    r"écrit par|rédigé par|traduit par|signalé par|créé par|contacter|contactez|questions à|"
    r"merci à|demandez à|selon|"
    r"escrito por|traducido por|firmado por|creado por|contactar con|contacte con|"
    r"en contacto con|preguntas a|gracias a|consulte a|según|"
    r"scritto da|tradotto da|firmato da|creato da|contattare|contatta|contattate|domande a|"
    r"grazie a|chiedere a|secondo|"
    r"geschreven door|vertaald door|ondertekend door|gemaakt door|contact op met|vragen aan|"
    r"dank aan|volgens"
)
# a surname or given name in the person-context rule: Title Case, letters of any script that
# has case, apostrophes and one hyphen (Şahin, Ó'Brien, Nikkilä-Ojala), no CamelCase
_ANY_WORD = r"\p{Lu}[\p{Ll}'’]*\p{Ll}(?:-\p{Lu}[\p{Ll}'’]*\p{Ll})?"
# the person contexts and titles as words, looked up in the few words before each Title Case
# run (a regex searched back from every run cost as much as the rest of this finder)
_CONTEXT_SET = frozenset(PERSON_CONTEXTS.split("|"))
_TITLE_SET = frozenset(t.replace("\\", "") for t in _LOWER_TITLES.split("|"))  # any case
_HONORIFIC_SET = frozenset(
    t.replace("\\", "").replace(".?", v) for t in HONORIFICS.split("|") for v in ("", ".")
)  # as written; Mme\.? is Mme and Mme.
_EDGE_PUNCT = "([{\"'«“‘¿¡"
_NAME_AT = re.compile(
    rf"(?P<name>{_ANY_WORD}(?:[ \t](?:(?:{PARTICLES})[ \t])?{_ANY_WORD}){{0,2}})"
    rf"(?![\p{{L}}\p{{N}}_@])"
)
# a Title Case word after a dot and a space: after an abbreviated title (dhr. Jansen) maybe
_AFTER_DOT = re.compile(r"\.[ \t]+(?=\p{Lu})")
_NEXT_WORD = re.compile(r"[ \t]+(\p{L}+)")
# words of the names of teams, projects and companies ("Thanks to Debian Developers", "contact
# Acme Support"): never part of a name after a person context
_ORG = (
    "team teams project projects developers developer maintainers contributors authors users "
    "members community foundation support group software systems system inc ltd llc gmbh corp "
    "corporation company university institute labs services service center centre department "
    "committee office desk network council association society club server servers "
    "policy privacy terms "
    "projekt entwickler gruppe stiftung verein équipe equipo gruppo stichting"
)
_ORG_WORDS = frozenset(_ORG.split())
# a name after a label of a person (Name: Hans D. Radisch; Autore: Michelotto Cherubini-Barese):
# two to four Title Case words (an initial between them) up to punctuation or the line's end,
# the first no common word of the document
LABELS = r"Name|Nome|Nom|Nombre|Naam|Author|Autor|Autore|Auteur"
_LABELLED = re.compile(
    rf"(?<![\p{{L}}\p{{N}}_])(?:{LABELS})[ \t]?:[ \t]*((?:{_WORD})(?:[ \t](?:\p{{Lu}}\.[ \t])?"
    rf"(?:(?:{PARTICLES})[ \t])?{_WORD}){{1,3}})(?=[ \t]*(?:[.,;]|$))",
    re.M,
)
# given names that are also words of technical text or start a place name (``General Public
# License``, ``Free Software``, ``San Andrés``, ``Sun Type``, ``Thu Mar``): never a given name
_NOT_GIVEN = (
    "General Free Long Art Rand San Santa Sankt Saint Sainte Sun Mon Tue Wed Thu Fri Sat Mar "
    "Marca Máximo Pista Zona Christ Fan File Trinity Linux Page Mark Will Case Gay Major Royal "
    "Summer Winter Paris London Florence Sydney Victoria Georgia Virginia Carolina Nevada "
    "Dakota Montana Jersey Vienna Lorraine Holland Red"
)
NOT_GIVEN = frozenset(_NOT_GIVEN.split())
# given names of the first lexicon that are also stop words of a crawl language (Dutch uwe,
# Italian sara and otto, Spanish ella, German elke ...), so left out of it: checked by
# hand to be common given names first; a name only mid-sentence, before a surname
_STOP_WORD_GIVEN = "Allen Anders Anni Ben Bent Dan Elke Ella Gia Mia Mila Otto Sara Sean Sue Uwe"
STOP_WORD_GIVEN = frozenset(_STOP_WORD_GIVEN.split())
# words the second lexicon lists (its sources scraped handles and nicknames too) that start
# place names and product names in the dev split's carrier text (North East Lincolnshire, São
# Nicolau, Sir Ceredigion, Java Virtual Machine, Wide Area Information Servers, Live Server)
_NOT_EXTRA = (
    "north south east west northern southern eastern western central upper lower greater new "
    "old great little saint sao san santa sir lord lady virgin minor area live cache java valor "
    "shell canon dez mega apple coma breezy muslim trust blue wide hewlett red green black white "
    "grand mount lake port fort cape isla ile"
)
# words that follow a given name in Title Case and are never its surname: the articles,
# conjunctions, prepositions and personal pronouns of the crawl's Latin-script languages (a
# heading, a sentence start after a name: "Maria Die Datei", "Anna Sie", "Ana Y Luis"); not
# verbs, and not "es" (German "it", but a surname too)
_NOT_SURNAMES = (
    "the a an and or of to in on at by for with from it he she we they you i my his her our "
    "der die das den dem des ein eine einer und oder mit von zu sie er wir ihr ich du "
    "le la les un une et ou avec pour il elle nous vous je tu "
    "el los las uno una y o con para por él ella yo "
    "il lo gli uno una e o con per lui lei io noi voi "
    "de het een en of met voor hij zij wij jij ik"
)
NOT_SURNAMES = frozenset(_NOT_SURNAMES.split())
_NOT_EXTRA_WORDS = frozenset(_NOT_EXTRA.split())
# no word of a name after a person context or a title (_context_name), built once
_NOT_CONTEXT_NAME = _NOT_EXTRA_WORDS | _ORG_WORDS
_PARTICLE_WORDS = frozenset(w for p in PARTICLES.split("|") for w in p.lower().split())
_SPLIT = re.compile(r"[ \t]+")
# the English article right before a Title Case run: an event, a work or a product follows
_AFTER_THE = re.compile(r"(?<![\p{L}\p{N}_])[Tt]he[ \t]+$")
_WORD_BEFORE = re.compile(r"(?<![\p{L}\p{N}_])(\p{L}+)[ \t]+$")
_LOWER_WORD = re.compile(r"(?<![\p{L}\p{N}_])\p{Ll}[\p{Ll}'’]*(?![\p{L}\p{N}_])")


def lexicon_path() -> Path | None:
    try:
        import gender_guesser
    except ImportError:
        return None
    return Path(gender_guesser.__file__).parent / "data" / "nam_dict.txt"


# The second lexicon, kept in the repository: nomquamgender's given names listed by at least two
# of its sources 20 times in all (below that its entries are mostly words and handles of the
# scraped sources: ``software``), built by scripts/build_given_names.py (MIT, data/NOTICE). The
# package itself is not a dependency: it requires pandas, which pyarrow then imports in every
# worker (~35 MB each).
EXTRA_LEXICON = Path(__file__).resolve().parent / "data" / "nomquamgender_given_names.txt.gz"


@functools.cache
def extra_given_names() -> frozenset[str]:
    """Given names of nomquamgender's reference data (given names with their counts in 36
    sources: censuses, national registers, author lists; MIT), lower case and unaccented, as
    kept in EXTRA_LEXICON, less the stop words of the crawl's languages and NOT_GIVEN; empty
    when the file is missing."""
    import gzip

    if not EXTRA_LEXICON.is_file():
        return frozenset()
    with gzip.open(EXTRA_LEXICON, "rt", encoding="utf-8") as f:
        names = [line.strip() for line in f if not line.startswith("#")]
    stop = _stop_words()
    not_given = {w.lower() for w in NOT_GIVEN} | set(_NOT_EXTRA.split())
    return frozenset(n for n in names if n and n not in stop and n not in not_given)


@functools.cache
def given_names() -> frozenset[str]:
    """The given names of the lexicon, as written (``Plácido``, ``Jean-Pierre``), less the
    stop words of the crawl's Latin-script languages; empty when the package is missing."""
    path = lexicon_path()
    if path is None or not path.is_file():
        return frozenset()
    names: set[str] = set()
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line[:1] in "#=" or len(line) < 4:
                continue
            parts = line.split()
            if len(parts) < 2:
                continue
            name = parts[1]
            if "+" in name:  # Jean+Pierre: Jean-Pierre, Jean Pierre (two words, both listed)
                names.add(name.replace("+", "-"))
                names.update(name.split("+"))
            else:
                names.add(name)
    stop = _stop_words()
    kept = {
        n
        for n in names
        if len(n) >= 2 and n.lower() not in stop and n[0].isupper() and n not in NOT_GIVEN
    }
    return frozenset(kept | {unaccented(n) for n in kept})


def unaccented(word: str) -> str:
    """``Pía`` -> ``Pia``: a name is looked up without its accents too (the dictionary writes
    many names in one spelling only)."""
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def _before_name(text: str, s: int) -> int:
    """What stands right before position ``s``: 2 a person context (maybe and a title), 1 a
    title, 3 a title after which one word is not enough, 0 neither. A person context written
    in Title Case without a colon after another Title Case word is an item of a navigation
    menu (Home Contact Privacy Policy): 0."""
    seg = text[max(0, s - 60) : s]
    if not seg or seg[-1] not in " \t":
        return 0
    words = seg.split()[1 if s > 60 else 0 :]  # the first may be cut
    words = [w for w in words[-6:] if w not in (":", "：")]
    rest = words
    titled = 0
    last = words[-1].lstrip(_EDGE_PUNCT) if words else ""
    if last in _HONORIFIC_SET:
        titled, rest = 1, words[:-1]
    elif last.lower() in _TITLE_SET:
        # a title in lower case with a dot may end a sentence (argument sig. Unlike ...): one
        # word after it is a name only after an article or preposition (il sig., van dhr.)
        before = words[-2] if len(words) > 1 else ""
        short = before.isalpha() and len(before) <= 5
        titled, rest = 1 if not last.endswith(".") or short else 3, words[:-1]
    elif len(words) >= 2 and " ".join(words[-2:]).lower() == "de heer":
        titled, rest = 1, words[:-2]
    for k in (1, 2, 3, 4, 5):
        if len(rest) < k:
            break
        phrase = " ".join(rest[-k:])
        colon = phrase.endswith((":", "："))
        key = phrase.rstrip(":：").lower().lstrip(_EDGE_PUNCT)
        if key in _CONTEXT_SET and not phrase.isupper():  # not ASK: (an acronym)
            before = rest[-k - 1] if len(rest) > k else ""
            if phrase[:1].isupper() and not colon and before[:1].isupper():
                return titled
            return 2
    return titled


class GivenNameNer(LazyNer):
    """PERSON from the given-name lexicon and honorifics, on every row (Latin script only)."""

    _looked_up = 0  # characters of the runs looked up in the lexicon, this batch

    def _build(self) -> frozenset[str]:
        names = given_names()
        if not names:
            raise ImportError("gender-guesser (the given-name lexicon) is not installed")
        import spacy.lang.en.stop_words

        self._stop = _stop_words()
        self._en_stop = frozenset(spacy.lang.en.stop_words.STOP_WORDS)
        self._extra = extra_given_names()
        return names

    def _surname_word(self, given: str, word: str, after: list[str], common) -> bool:  # noqa: ANN001
        """A common word right after a given name that is still its surname: the given name
        is in the first lexicon (the second, scraped from many sources, holds words such as
        power and method), the word is a stop word of a language other than English (Durante,
        Vos, Es; English ones follow names in headings and product names: Core Next, Bourne
        Again), not an article, conjunction, preposition or pronoun, and no common Title Case
        word follows it. A content word used in lower case elsewhere in the page is not a
        surname (Apache License, Sublime Text, Matrix Normal: a product or a term)."""
        w = word.lower()
        if w not in self._stop or w in self._en_stop or w in NOT_SURNAMES:
            return False
        first = given.split("-")[0]
        if not any(g in self._model or unaccented(g) in self._model for g in (given, first)):
            return False
        return not any(x[:1].isupper() and common(x) for x in after[:1])

    def _stop_word_given(self, text: str, m, common) -> bool:  # noqa: ANN001
        """A given name that is also a stop word (STOP_WORD_GIVEN: Uwe, Sara, Otto) is one
        mid-sentence (not at a line's or sentence's start), not written in lower case elsewhere
        in the document, not after a stop word written in Title Case (a heading in Title Case:
        ``Die Von Allen Versionen Unterstützt Werden``), and before a Title Case word that is
        no common word: its surname (``Autor: Uwe Wieloch``; not ``Otto Bit``, ``Una Volta`` at
        a sentence start)."""
        start = m.start(1)
        if start == 0 or _SENTENCE_START.search(text, max(0, start - 3), start):
            return False
        if m.group(1).lower() in set(_LOWER_WORD.findall(text)):
            return False
        before = _WORD_BEFORE.search(text, max(0, start - 40), start)
        if before and before.group(1)[:1].isupper() and before.group(1).lower() in self._stop:
            return False
        surname = _SPLIT.split(m.group(2).strip())[0]
        return surname[:1].isupper() and not common(surname)

    def _known(self, word: str) -> bool:
        plain = unaccented(word)
        return word in self._model or plain in self._model or plain.lower() in self._extra

    def find(self, texts: list[str]) -> tuple[list[list[tuple[int, int, str, float]]], int]:
        """Spans per text, and the characters of the runs looked up in the lexicon (like the
        spaCy windows: the scan for Title Case runs is not counted)."""
        self._looked_up = 0
        found, _ = super().find(texts)
        return found, self._looked_up

    def spans(self, text: str) -> list[tuple[int, int, str, float]]:
        out: list[tuple[int, int, str, float]] = []
        lower: set[str] | None = None

        def common(word: str) -> bool:
            nonlocal lower
            w = word.lower()
            if w in self._stop:
                return True
            if lower is None:
                lower = set(_LOWER_WORD.findall(text))
            return w in lower

        # overlapped: in "Kontakt Gesche Ehlert" the run from "Kontakt" fails, the one from
        # "Gesche" must still be tried
        starts = [m.end() for m in _AFTER_DOT.finditer(text)]
        for m in _GIVEN_RUN.finditer(text, overlapped=True):
            starts.append(m.start(1))
            given = m.group(1)
            self._looked_up += m.end(1) - m.start(1)
            first = given.split("-")[0]
            if given in NOT_GIVEN or _AFTER_THE.search(text, max(0, m.start(1) - 4), m.start(1)):
                continue  # At The Second O'Reilly Open Source Convention: a title, no person
            if given in STOP_WORD_GIVEN:
                if not self._stop_word_given(text, m, common):
                    continue
            elif not (self._known(given) or self._known(first)) or common(given):
                continue
            # keep the Title Case words after the given name up to the first common one; the
            # first of them is a surname even when it is a stop word (Lucia Durante, Ans Vos,
            # Pilar Es), unless it is an article or pronoun (Maria Die ..., Anna Sie) or the
            # run goes on with another common Title Case word (a heading: Rose The Book)
            end, pos = m.end(1), m.end(1)
            words = _SPLIT.split(m.group(2).strip())
            for k, w in enumerate(words):
                pos = text.index(w, pos) + len(w)
                if w.lower() in _PARTICLE_WORDS:
                    continue  # Cornelia Le Grand, Quinn van de Weterink, Rik 's Gravensande
                if w[:1].isupper():
                    if common(w) and not (
                        end == m.end(1) and self._surname_word(given, w, words[k + 1 :], common)
                    ):
                        break
                    end = pos
            if end > m.end(1):
                out.append((m.start(1), end, "PERSON", NER_SCORE))
        seen = {(a, b) for a, b, _, _ in out}
        for m in _LABELLED.finditer(text):
            if m.span(1) not in seen and not common(_SPLIT.split(m.group(1))[0]):
                out.append((m.start(1), m.end(1), "PERSON", NER_SCORE))
        for m in _HONORED.finditer(text):
            words = _SPLIT.split(m.group(1))
            if len(words) > 1 or not common(words[0]):  # Frau Nada Walter; Herr Jopich
                out.append((m.start(1), m.end(1), "PERSON", NER_SCORE))
        taken = [(a, b) for a, b, _, _ in out]
        for s in sorted(set(starts)):
            before = _before_name(text, s)
            if not before:
                continue
            m = _NAME_AT.match(text, s)
            found = m and self._context_name(text, m, common, before)
            if found and not any(a <= found[0] < b for a, b in taken):
                taken.append(found)
                out.append((*found, "PERSON", NER_SCORE))
        return out

    @staticmethod
    def _context_name(text: str, m, common, before: int) -> tuple[int, int] | None:  # noqa: ANN001
        """After a person context (two words) or a title (one to three): Title Case
        words are a name whatever the lexicons say (Eral Yorulmaz, dhr. Jansen), up to the
        first common word; none may be a word that starts places and products (Free Software,
        San José) or names a team or company (Debian Developers), and no other Title Case word
        that is no common one may follow (a product: Contact Acme Cloud Console)."""
        start, end = m.span("name")
        kept, pos = [], start
        for w in _SPLIT.split(m.group("name")):
            at = text.index(w, pos)
            if w in ("y", "e", "i"):
                break  # a conjunction: Mozilla e Firefox
            particle = w.lower() in _PARTICLE_WORDS
            if particle and (kept or w[:1].islower()):
                pos = at + len(w)
                continue
            if common(w) and not particle:  # a particle first is a given name: Della Nava
                break
            kept.append(w)
            pos = end = at + len(w)
        else:
            nxt = _NEXT_WORD.match(text, end)
            if nxt and nxt.group(1)[:1].isupper() and not common(nxt.group(1)):
                return None
        if not kept or before == 2 and len(kept) != 2 or before == 3 and len(kept) < 2:
            return None  # three words after "contact" are a product more often than a name
        if any(w in NOT_GIVEN or w.lower() in _NOT_CONTEXT_NAME for w in kept):
            return None
        return start, end
