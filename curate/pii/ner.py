"""PERSON and LOCATION through a real spaCy NER model, batched, on name-like windows only.

presidio's default path runs the whole spaCy pipeline (tagger, parser, lemmatizer, NER) over
every document, one call per document; that is most of its cost. Here:

* only the ``ner`` component runs (plus the ``tok2vec`` it listens to, if it listens to one:
  ``en_core_web_sm``'s NER has its own embedding layer, so tok2vec is dropped too);
* only *name-like windows* are sent: English names and places are written in Title Case, so a
  window is opened around each Title Case token that is not a stop word and, when it starts a
  sentence, is not also written in lower case elsewhere in the document ("Return" / "return");
* windows of a whole batch go through one ``nlp.pipe`` call.

Labels map as presidio maps them (PERSON -> PERSON, GPE/LOC -> LOCATION) with presidio's default
NER score of 0.85. The benchmark measures what the windows cost in recall against full-text NER.
"""

from __future__ import annotations

import logging
from typing import Any

import regex as re

from curate.pii.prescreen import _back_to_space, _forward_to_space

log = logging.getLogger(__name__)

LABELS = {"PERSON": "PERSON", "PER": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION"}
NER_SCORE = 0.85  # presidio NerModelConfiguration.default_score

_TITLE = r"\p{Lu}[\p{L}'’]*\p{Ll}[\p{L}'’]*"
_NAME_LIKE = re.compile(rf"(?<![\p{{L}}\p{{N}}_.@/\\])({_TITLE}(?:[ \-]{_TITLE})*)")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n\s*|[\"'(]\s*)$")


def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


class SpacyNer:
    """A spaCy NER model loaded once per worker; ``find`` runs it over name-like windows."""

    def __init__(self, model: str, margin: int = 20, batch_size: int = 256) -> None:
        self.model = model
        self.margin = margin
        self.batch_size = batch_size
        self._nlp: Any = None
        self._loaded = False
        self.error = ""
        self._stop = _stop_words()

    def load(self) -> bool:
        """Load the model; False (and ``error`` says why) when it is not installed."""
        if not self._loaded:
            self._loaded = True
            try:
                import spacy

                nlp = spacy.load(self.model)
            except (OSError, ImportError) as exc:
                self.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                return False
            keep = {"ner"}
            if "tok2vec" in nlp.pipe_names and "ner" in getattr(
                nlp.get_pipe("tok2vec"), "listening_components", []
            ):
                keep.add("tok2vec")
            nlp.select_pipes(disable=[p for p in nlp.pipe_names if p not in keep])
            self._nlp = nlp
        return self._nlp is not None

    def windows(self, text: str) -> list[tuple[int, int]]:
        """Windows around the Title Case tokens that may be a name or a place."""
        out: list[tuple[int, int]] = []
        lower: set[str] | None = None
        for m in _NAME_LIKE.finditer(text):
            phrase = m.group(1)
            if " " not in phrase and "-" not in phrase:
                word = phrase.lower()
                if word in self._stop:
                    continue
                if _SENTENCE_START.search(text, max(0, m.start() - 4), m.start()):
                    if lower is None:
                        lower = set(re.findall(r"\b\p{Ll}+\b", text))
                    if word in lower:
                        continue
            a = _back_to_space(text, max(0, m.start() - self.margin), 24)
            b = _forward_to_space(text, min(len(text), m.end() + self.margin), 24)
            if out and a <= out[-1][1]:
                out[-1] = (out[-1][0], max(b, out[-1][1]))
            else:
                out.append((a, b))
        return out

    def find(self, texts: list[str]) -> tuple[list[list[tuple[int, int, str, float]]], int]:
        """(start, end, entity, score) per text from NER over its windows, and chars sent."""
        found: list[list[tuple[int, int, str, float]]] = [[] for _ in texts]
        jobs = [(i, a, texts[i][a:b]) for i, t in enumerate(texts) for a, b in self.windows(t)]
        sent = sum(len(piece) for _, _, piece in jobs)
        if not jobs or not self.load():
            return found, 0
        docs = self._nlp.pipe((piece for _, _, piece in jobs), batch_size=self.batch_size)
        for (i, a, _), doc in zip(jobs, docs):
            for ent in doc.ents:
                entity = LABELS.get(ent.label_)
                if entity:
                    found[i].append((a + ent.start_char, a + ent.end_char, entity, NER_SCORE))
        return found, sent
