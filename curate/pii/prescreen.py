"""The fast pre-screen: send presidio only the text that can contain a match.

Every pattern entity has a *trigger* that each of its matches must contain: ``@`` for an email,
a run of seven digits for a phone, card or id number, ``d.d`` or ``h:h`` for an IP, a house
number before a Capitalised word or a street keyword for an address. Two levels use them:

1. per column: one RE2 scan of the whole Arrow ``text`` column (``pc.match_substring_regex``)
   says which documents have any trigger at all; the others never reach Python;
2. per document: each trigger hit is widened by ``margin`` characters and then out to the next
   whitespace (at most ``reach`` more), overlapping windows merge, and the windows are joined
   into one short *digest* string. Recognizers run on the digest; hits map back to the document.

Full-width forms and other scripts' digits (``１３８１２３４``, ``abc＠example.com``) count as
their ASCII selves: the triggers are written in ASCII and run on the document folded to ASCII
(curate/pii/fold.py; same length, so same offsets), as the recognizers do on the digest. RE2
cannot fold a column, so level 1 runs the triggers *widened* instead (``@`` becomes ``[@＠]``,
``[0-9]`` becomes ``\\p{Nd}``), which match the text exactly where the triggers match its fold.

Why this loses nothing: a window ends at whitespace, so a match made of one whitespace-free token
(email, IP, card, URL) lies inside its window whole, and multi-token values (phones, addresses)
are covered by the trigger plus the margin. The separator is a blank line, which no recognizer
matches across; a hit that would cross it is dropped. tests/pii/test_prescreen.py checks digest
results against full-text results on Faker-filled documents.
"""

from __future__ import annotations

import bisect
import functools
import re as std_re
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc
import regex as re

from curate.pii.fold import fold, widen

# RE2-compatible (used by pyarrow) and Python-regex-compatible at once: no lookarounds. ASCII
# only: full-width forms are folded (windows) or widened (column_mask), see curate/pii/fold.py.
_DIGITS = r"[0-9](?:[ ().\-/]{0,3}[0-9]){6,}"  # phones have 7+ digits, ids and cards more
TRIGGERS: dict[str, str] = {
    "EMAIL": r"@",
    "PHONE": _DIGITS + r"|\+[0-9]",
    "CREDIT_CARD": _DIGITS,
    "US_SSN": _DIGITS,
    "CN_ID": _DIGITS,
    "UK_NINO": r"[A-Za-z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-Da-d]",
    "ES_NIF": _DIGITS,  # 7-8 digits and a letter: the window around the digits holds it
    "ES_NIE": _DIGITS,
    # all 16 characters: six letters, then digits or their omocodia letters around the month
    # letter, checksum letter (shorter, any long English word would trigger)
    "IT_FISCAL_CODE": (
        r"[A-Za-z]{6}[0-9LMNP-Vlmnp-v]{2}[A-EHLMPR-Ta-ehlmpr-t][0-9LMNP-Vlmnp-v]{2}[A-Za-z]"
        r"[0-9LMNP-Vlmnp-v]{3}[A-Za-z]"
    ),
    "KR_RRN": _DIGITS,
    "DE_TAX_ID": _DIGITS,
    "FR_NIR": _DIGITS,
    "NL_BSN": _DIGITS,
    "JP_MY_NUMBER": _DIGITS,
    "IBAN": r"[A-Za-z]{2}[0-9]{2}",
    "IP_ADDRESS": r"[0-9]\.[0-9]|[0-9A-Fa-f]:[0-9A-Fa-f:]|::",
    "STREET_ADDRESS": (
        r"[0-9][A-Z]?,? [A-Z][a-z]|[0-9],? (?:rue|avenue|av\.|boulevard|bd|chemin|place|allée|"
        r"impasse|quai|route|cours|passage) |(?i:straße|strasse|str\.|weg|gasse|platz|allee|"
        r"ring|damm|ufer|steig|pfad|chaussee) [0-9]|(?:路|街|道|巷|胡同)[A-Za-z0-9]|丁目"
        # ES/IT street types before a name, FR ones before a name without a number, NL
        # suffixes and KR road names before the number
        r"|(?:Calle|C/|Avenida|Avda|Paseo|Plaza|Camino|Carretera|Ronda|Travesía|Glorieta|Cañada|"
        r"Pasaje|Rambla|Vía|Callejón|Acceso|Alameda|Cuesta|Pasadizo|Urbanización|Calleja|Carrer|"
        r"Passeig|Plaça|Rúa|Rua|Via|Viale|Piazza|Piazzale|Piazzetta|Corso|Contrada|Vicolo|Largo|"
        r"Strada|Stretto|Borgo|Rotonda|Canale|Incrocio|Vico|Lungomare|Lungotevere|Salita|"
        r"Traversa|rue|avenue|boulevard|chemin|place|allée|impasse|quai|route|cours|passage|C\.) "
        r"(?:[a-z]{1,5} )?[A-Z]|(?:straat|laan|weg|plein|gracht|kade|dijk|singel|pad|steeg|hof|"
        r"park|dreef|baan|"
        r"ring|markt|plantsoen|boulevard|erf|wal|veld|haven|dam|burg|kwartier|dal|zijde|hoven) "
        r"[0-9]|(?:로|길|가|거리) (?:지하)?[0-9]"
    ),
    "URL": r"://|(?i:www\.)|[A-Za-z0-9]\.[A-Za-z]{2}",
}
SEP = "\n\n"


def trigger_regex(entities: Iterable[str]) -> str:
    """One alternation of the triggers of ``entities`` (deduplicated, order kept)."""
    parts = dict.fromkeys(TRIGGERS[e] for e in entities if e in TRIGGERS)
    return "|".join(f"(?:{p})" for p in parts)


def column_mask(texts: pa.Array, pattern: str) -> pa.Array:
    """Vectorised level: which documents contain any trigger, in ASCII or full-width forms
    (RE2 over the Arrow column)."""
    if not pattern:
        return pa.array([False] * len(texts))
    return pc.fill_null(pc.match_substring_regex(texts, _widened(pattern)), False)


@functools.cache
def _widened(pattern: str) -> str:
    return widen(pattern)


def compile_trigger(pattern: str):  # noqa: ANN201
    """The trigger alternation compiled by RE2 (``google-re2``: linear time, about 30x faster
    than ``regex`` on these alternations of literal words, which a backtracking engine tries at
    every position), or by ``regex`` where RE2 is not installed. The triggers are RE2 syntax
    already (the column level runs them in pyarrow's RE2) and both engines take the leftmost
    alternative first, so the matches are the same."""
    try:
        import re2
    except ImportError:
        return re.compile(pattern)
    return re2.compile(pattern)


# Entities whose recognizers can match where their trigger does not, which the gate always runs:
# the US/UK street pattern takes all-caps words (``80 BOX DRAWINGS LIGHT`` in the sample corpus's
# ascii(7) tables, ``RFC 1870 SIZE extension``) and the French one needs no number; presidio's URL
# patterns were not checked against the URL trigger
UNGATED = frozenset({"STREET_ADDRESS", "URL"})


class TriggerGate:
    """Per-digest level: the entities whose own trigger a (folded) text holds, one search per
    distinct trigger. A recognizer of an entity whose trigger the digest lacks can match
    nothing there (each match contains its entity's trigger; UNGATED ones excepted), so it is
    not run: a digest opened by an ``@`` no longer goes through the eleven recognizers of
    digit runs."""

    def __init__(self, entities: Iterable[str]) -> None:
        by_trigger: dict[str, list[str]] = {}
        self.always: set[str] = set()
        for e in entities:
            if e in TRIGGERS and e not in UNGATED:
                by_trigger.setdefault(TRIGGERS[e], []).append(e)
            else:
                self.always.add(e)
        # RE2 for the alternations of words (street keywords: ``regex`` tries each at every
        # position), Python's re for the short ones (RE2's wrapper costs more per call than
        # they take to run on a digest)
        self.triggers = [
            (compile_trigger(p) if len(p) > 200 else std_re.compile(p), tuple(es))
            for p, es in by_trigger.items()
        ]

    def present(self, folded: str) -> set[str]:
        """The entities whose trigger occurs in ``folded`` (text already folded to ASCII)."""
        out = set(self.always)
        for regex, entities in self.triggers:
            if regex.search(folded):
                out.update(entities)
        return out


class Digester:
    """Per-document level: candidate windows of a text joined into a digest."""

    def __init__(self, pattern: str, margin: int = 32, reach: int = 64) -> None:
        self.regex = compile_trigger(pattern) if pattern else None
        self.margin = margin
        self.reach = reach

    def windows(self, text: str) -> list[tuple[int, int]]:
        if self.regex is None:
            return []
        text = fold(text)  # full-width forms trigger as ASCII; same length, same offsets
        n, margin, reach = len(text), self.margin, self.reach
        out: list[tuple[int, int]] = []
        for m in self.regex.finditer(text):
            a, b = m.start() - margin, m.end() + margin
            if out and a <= out[-1][1]:  # inside the last window: widen it only if needed
                if b <= out[-1][1]:
                    continue
                a = out[-1][0]
            a = 0 if a <= 0 else _back_to_space(text, a, reach)
            b = n if b >= n else _forward_to_space(text, b, reach)
            if out and a <= out[-1][1]:
                out[-1] = (out[-1][0], max(b, out[-1][1]))
            else:
                out.append((a, b))
        return out

    def digest(self, text: str) -> tuple[str, list[tuple[int, int, int]]]:
        """(digest text, [(digest_start, text_start, length)]) for ``text``."""
        pieces, spans, pos = [], [], 0
        for a, b in self.windows(text):
            pieces.append(text[a:b])
            spans.append((pos, a, b - a))
            pos += b - a + len(SEP)
        return SEP.join(pieces), spans


def to_text_offsets(
    spans: list[tuple[int, int, int]], start: int, end: int
) -> tuple[int, int] | None:
    """Map a digest hit back to document offsets; None when it crosses a separator."""
    i = bisect.bisect_right(spans, (start, float("inf"), 0)) - 1
    if i < 0:
        return None
    d0, t0, length = spans[i]
    if end > d0 + length:
        return None
    return t0 + (start - d0), t0 + (end - d0)


def _back_to_space(text: str, a: int, reach: int) -> int:
    lo = max(0, a - reach)
    cut = max(text.rfind(" ", lo, a), text.rfind("\n", lo, a), text.rfind("\t", lo, a))
    return cut + 1 if cut >= 0 else lo


def _forward_to_space(text: str, b: int, reach: int) -> int:
    hi = min(len(text), b + reach)
    cuts = [c for c in (text.find(" ", b, hi), text.find("\n", b, hi), text.find("\t", b, hi))]
    cuts = [c for c in cuts if c >= 0]
    return min(cuts) if cuts else hi
