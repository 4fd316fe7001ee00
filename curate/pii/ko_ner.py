"""Korean PERSON from Kiwi's part-of-speech tags (kiwipiepy), filtered to the shape of a name.

``kiwipiepy`` (pypi, with ``kiwipiepy-model``) is a Korean morphological analyser that ships its
model inside the package: nothing is downloaded. It tags proper nouns ``NNP`` but does not say
whether a person or a place, and splits unseen names (박영 + 길). A name is therefore a run of
nouns written together (no space) that starts with a proper noun whose first syllable is a
common surname and is three syllables long (Korean full names mostly are), or two to four
before an honorific or title (씨 님 선생 교수 ...); a run ending in an administrative suffix (시
도 구 군 동 ...) is a place, not a name.

Only the words that start with a surname syllable are tagged (each alone, cached), one Kiwi call
per batch.
"""

from __future__ import annotations

from typing import Any

import regex as re

from curate.pii.ner import NER_SCORE

# the most common Korean surnames (Statistics Korea, 2015 census), about 95% of the population
SURNAMES = frozenset(
    "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진지엄채원"
    "천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부가복태목"
)
HONORIFICS = ("씨", "님", "선생", "교수", "과장", "부장", "대리", "사장", "회장", "군", "양")
PLACE_SUFFIX = frozenset("시도구군동읍면리로길가")
_CANDIDATE = re.compile(
    rf"(?<!\p{{Hangul}})[{''.join(sorted(SURNAMES))}]\p{{Hangul}}{{1,6}}(?!\p{{Hangul}})"
)


class KiwiNer:
    """Kiwi loaded once per worker; ``find`` gives PERSON spans."""

    def __init__(self) -> None:
        self._kiwi: Any = None
        self._cache: dict[str, list[tuple[int, int]]] = {}  # word -> name spans, bounded
        self._loaded = False
        self.error = ""

    def load(self) -> bool:
        if not self._loaded:
            self._loaded = True
            try:
                from kiwipiepy import Kiwi

                self._kiwi = Kiwi()
            except (ImportError, OSError, RuntimeError) as exc:
                self.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        return self._kiwi is not None

    @staticmethod
    def windows(text: str) -> list[tuple[int, int]]:
        """Hangul words of 2 to 7 syllables (a name and a particle or title) that start with a
        surname syllable. Kiwi's neural model reads about 30,000 characters a CPU second, so it
        reads these words alone, not the text."""
        return [m.span() for m in _CANDIDATE.finditer(text)]

    def _names(self, tokens: list) -> list[tuple[int, int]]:  # noqa: ANN001
        out = []
        i = 0
        while i < len(tokens):
            t = tokens[i]
            if t.tag != "NNP" or t.form[0] not in SURNAMES:
                i += 1
                continue
            start, end, j = t.start, t.start + t.len, i + 1
            while (
                j < len(tokens)
                and tokens[j].tag in ("NNP", "NNG")
                and tokens[j].start == end
                and end - start < 4
            ):
                end = tokens[j].start + tokens[j].len
                j += 1
            length = end - start
            honored = j < len(tokens) and tokens[j].form.startswith(HONORIFICS)
            place = j == i + 1 and t.form[-1] in PLACE_SUFFIX  # 강남구, 서울시: one word
            if (length == 3 or (honored and 2 <= length <= 4)) and not place:
                out.append((start, end))
            i = j
        return out

    def find(self, texts: list[str]) -> tuple[list[list[tuple[int, int, str, float]]], int]:
        found: list[list[tuple[int, int, str, float]]] = [[] for _ in texts]
        jobs = [(i, a, b) for i, t in enumerate(texts) for a, b in self.windows(t)]
        if not jobs or not self.load():
            return found, 0
        pieces = [texts[i][a:b] for i, a, b in jobs]
        distinct = list(dict.fromkeys(pieces))
        if len(self._cache) + len(distinct) > 50_000:
            self._cache.clear()
        todo = [p for p in distinct if p not in self._cache]
        for piece, tokens in zip(todo, self._kiwi.tokenize(todo)):
            self._cache[piece] = self._names(tokens)
        for (i, a, _), piece in zip(jobs, pieces):
            found[i] += [(a + s, a + e, "PERSON", NER_SCORE) for s, e in self._cache[piece]]
        return found, sum(len(p) for p in distinct)
