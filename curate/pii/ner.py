"""PERSON and LOCATION through a real spaCy NER model, batched, on name-like windows only.

presidio's default path runs the whole spaCy pipeline (tagger, parser, lemmatizer, NER) over
every document, one call per document; that is most of its cost. Here:

* only the ``ner`` component runs (plus the ``tok2vec`` it listens to, if it listens to one:
  ``en_core_web_sm``'s NER has its own embedding layer, so tok2vec is dropped too);
* only *name-like windows* are sent: English names and places are written in Title Case, so a
  window is opened around each Title Case phrase, with ``context_words`` words on each side
  (the NER's CNN sees 4 tokens either way, so a short window decides as the whole text would).
  A single Title Case word is skipped when it is a stop word, when the same word also occurs
  in lower case in the document ("Return" / "return", "Share"), and when it is an identifier
  in CamelCase (``ValueError``, ``GitHub``; ``McDonald`` and ``O'Neil`` stay), where any
  word is capitalised: at the start of a line or sentence, after an article (``die Datei``),
  and in German text, which capitalises every noun (``GERMAN_MARKERS``);
  full names, two Title Case words or more, are always sent;
* windows of a whole batch go through one ``nlp.pipe`` call, and a window seen before (the
  "Powered by" and "Skip to content" of web pages) takes its entities from a bounded cache.

Labels map as presidio maps them (PERSON -> PERSON, GPE/LOC -> LOCATION) with presidio's default
NER score of 0.85. benchmarks/bench_pii.py measures what the windows cost in recall against
presidio's full-text NER.
"""

from __future__ import annotations

import logging
from typing import Any

import regex as re

log = logging.getLogger(__name__)

LABELS = {"PERSON": "PERSON", "PER": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION"}
NER_SCORE = 0.85  # presidio NerModelConfiguration.default_score

_TITLE = r"\p{Lu}[\p{L}'’]*\p{Ll}[\p{L}'’]*"
_NAME_LIKE = re.compile(rf"(?<![\p{{L}}\p{{N}}_.@/\\])({_TITLE}(?:[ \-]{_TITLE})*)")
# a capital after a lower-case letter, unless after a surname prefix (McDonald, MacKenzie, DeVito)
_CAMEL = re.compile(r"\p{Ll}(?<!^(?:Mc|Mac|De|Di|Da|La|Le|Van|Von))\p{Lu}")
_LOWER_WORD = re.compile(r"(?<![\p{L}\p{N}_])\p{Ll}+(?![\p{L}\p{N}_])")
_WORD_REACH = 40  # a longer run of non-space characters is not a word worth more context
# A single Title Case word is no name where any word is capitalised: at the start of a line or
# sentence, and after an article (German nouns: "die Datei", "eine Option")
_SENTENCE_START = re.compile(r"(?:^|\n|[.!?][ \t]+)[\p{Ps}\p{Pi}\"'*•-]*[ \t]*$")
_WORD_BEFORE = re.compile(r"(\p{Ll}+)[ \t]+$")
_ARTICLES = (
    "the a an der die das den dem des ein eine einer einem einen eines kein keine dieser diese "
    "dieses diesen jeder jede jedes de het een le la les un une du el los las il lo gli uno una "
    "del della dello"
)
ARTICLES = frozenset(_ARTICLES.split())
# German capitalises every noun: in a text with these words a single Title Case word is a noun
# far more often than a name, and half of the windows of a mixed crawl came from German pages.
# Its single words are not sent (names of two words or more still are; the given-name lexicon
# and titles of curate/pii/names.py find "Herr Jopich").
_GERMAN = "der die das und nicht mit ist wird werden für eine oder auf sich"
GERMAN_MARKERS = frozenset(_GERMAN.split())


def _stop_words() -> frozenset[str]:
    """Stop words of the Latin-script languages of the crawl: a capitalised "Die", "Les" or
    "Het" at a sentence start is no name (the windows run on every row whatever its label)."""
    import importlib

    words: set[str] = set()
    for lang in ("en", "de", "fr", "es", "it", "nl"):
        words |= importlib.import_module(f"spacy.lang.{lang}.stop_words").STOP_WORDS
    return frozenset(words)


def _words_before(text: str, i: int, k: int) -> int:
    for _ in range(k):
        j = i
        while j > 0 and text[j - 1].isspace():
            j -= 1
        while j > 0 and not text[j - 1].isspace() and i - j < _WORD_REACH:
            j -= 1
        i = j
    return i


def _words_after(text: str, i: int, k: int) -> int:
    n = len(text)
    for _ in range(k):
        j = i
        while j < n and text[j].isspace():
            j += 1
        while j < n and not text[j].isspace() and j - i < _WORD_REACH:
            j += 1
        i = j
    return i


Spans = list[tuple[int, int, str, float]]  # (start, end, entity, score) of one text


class LazyNer:
    """What every NER of pii_scrub shares: its model is built on first use, once per worker
    (``_build``, which subclasses write), and a model that cannot be built (a package not
    installed) is remembered with ``error`` saying why, so the stage runs without it and logs
    it once. ``find`` runs ``spans`` on each text; windowed NERs override it."""

    errors: tuple[type[Exception], ...] = (ImportError, OSError, RuntimeError)

    def __init__(self) -> None:
        self._model: Any = None
        self._loaded = False
        self.error = ""

    def _build(self) -> Any:  # noqa: ANN401
        raise NotImplementedError

    def load(self) -> bool:
        """Build the model once; False (and ``error`` says why) when it cannot be."""
        if not self._loaded:
            self._loaded = True
            try:
                self._model = self._build()
            except self.errors as exc:
                first = (str(exc).splitlines() or [""])[0]
                self.error = f"{type(exc).__name__}: {first[:200]}"
        return self._model is not None

    def spans(self, text: str) -> Spans:
        raise NotImplementedError

    def find(self, texts: list[str]) -> tuple[list[Spans], int]:
        """Spans per text, and the characters read (for the stage's counters)."""
        if not self.load():
            return [[] for _ in texts], 0
        return [self.spans(t) for t in texts], sum(len(t) for t in texts)


class SpacyNer(LazyNer):
    """A spaCy NER model loaded once per worker; ``find`` runs it over name-like windows."""

    def __init__(
        self,
        model: str,
        context_words: int = 1,
        batch_size: int = 256,
        cache_size: int = 50_000,
    ) -> None:
        super().__init__()
        self.model = model
        self.context_words = context_words
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._cache: dict[str, list[tuple[int, int, str]]] = {}
        self.chars_run = 0  # chars the model actually read in this process (cache misses)
        self._stop = _stop_words()

    def _build(self) -> Any:  # noqa: ANN401
        import spacy

        nlp = spacy.load(self.model)
        keep = {"ner"}
        if "tok2vec" in nlp.pipe_names and "ner" in getattr(
            nlp.get_pipe("tok2vec"), "listening_components", []
        ):
            keep.add("tok2vec")
        nlp.select_pipes(disable=[p for p in nlp.pipe_names if p not in keep])
        return nlp

    def candidates(self, text: str) -> list[tuple[int, int]]:
        """The Title Case phrases of ``text`` that may be a name or a place."""
        out: list[tuple[int, int]] = []
        lower: set[str] | None = None
        german: bool | None = None
        for m in _NAME_LIKE.finditer(text):
            phrase = m.group(1)
            if " " not in phrase and "-" not in phrase:
                if german is None:
                    lower = set(_LOWER_WORD.findall(text))
                    german = len(GERMAN_MARKERS & lower) >= 4
                if german:
                    continue
                word = phrase.lower()
                if word in self._stop or _CAMEL.search(phrase):
                    continue
                start = m.start(1)
                if _SENTENCE_START.search(text, max(0, start - 3), start) or (
                    (before := _WORD_BEFORE.search(text, max(0, start - 20), start))
                    and before.group(1) in ARTICLES
                ):
                    continue  # "Return the ...", "die Datei": capitalised as a word, no name
                if lower is None:
                    lower = set(_LOWER_WORD.findall(text))
                if word in lower:
                    continue
            out.append(m.span(1))
        return out

    def windows(self, text: str) -> list[tuple[int, int]]:
        """Each candidate with ``context_words`` words either side; overlapping windows merge."""
        out: list[tuple[int, int]] = []
        k = self.context_words
        for start, end in self.candidates(text):
            a, b = _words_before(text, start, k), _words_after(text, end, k)
            if out and a <= out[-1][1]:
                out[-1] = (out[-1][0], max(b, out[-1][1]))
            else:
                out.append((a, b))
        return out

    def find(self, texts: list[str]) -> tuple[list[list[tuple[int, int, str, float]]], int]:
        """(start, end, entity, score) per text from NER over its windows, and the chars of the
        batch's distinct windows: what the model reads without the cache. The cache saves work
        but must not move a report counter, which would then depend on what the worker saw
        before (the other shards it ran, or none after a resume)."""
        found: list[list[tuple[int, int, str, float]]] = [[] for _ in texts]
        jobs = [(i, a, texts[i][a:b]) for i, t in enumerate(texts) for a, b in self.windows(t)]
        if not jobs or not self.load():
            return found, 0
        cache = self._cache
        pieces = list(dict.fromkeys(piece for _, _, piece in jobs))
        if len(cache) + len(pieces) > self.cache_size:
            cache.clear()  # bounded: forgotten wholesale, refilled by the windows of this batch
        todo = [piece for piece in pieces if piece not in cache]
        self.chars_run += sum(len(piece) for piece in todo)
        for piece, doc in zip(todo, self._model.pipe(todo, batch_size=self.batch_size)):
            cache[piece] = [
                (e.start_char, e.end_char, LABELS[e.label_]) for e in doc.ents if e.label_ in LABELS
            ]
        for i, a, piece in jobs:
            found[i] += [(a + s, a + e, entity, NER_SCORE) for s, e, entity in cache[piece]]
        return found, sum(len(piece) for piece in pieces)
