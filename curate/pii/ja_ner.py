"""Japanese PERSON and LOCATION from a MeCab dictionary's proper-noun tags (fugashi + unidic-lite).

``fugashi`` (pypi) wraps MeCab and ``unidic-lite`` bundles the UniDic dictionary inside the
package, so nothing is downloaded. UniDic tags proper nouns by kind (``名詞,固有名詞,人名,姓``
for a surname, ``...,人名,名`` for a given name, ``...,地名`` for a place). A lone name tag is
too weak (many ordinary words carry a rare given-name reading), so:

* PERSON: a surname followed by a given name (with or without a space between: 木村 陽一,
  佐藤花子; the given name over the pieces MeCab cuts it into, 葵 + 乃, up to three kanji
  that end the word; written together in a sentence also when MeCab reads no given name but
  single characters, before a particle, an honorific or punctuation: 岡崎 + 良 + 佳 + まで;
  after the space also one to three kanji ending the word, or two to four
  kana up to punctuation or a space, not starting with a particle: 山本 あずみ; a surname
  MeCab reads as a place or a noun, 長島, 松下, with a space and a given name it tags as one
  or cuts into single characters: 松下 知映), or a surname or given name followed by an
  honorific (さん 様 氏 君 先生 殿); written together before an honorific also a surname MeCab
  reads as a place and one to three kanji however it reads them (鶴田穏花さん), and before a
  case particle a surname and a two-kanji given name it reads as one common noun (黒木 + 彗百
  + が);
* LOCATION: a place name of two or more characters followed by an administrative suffix
  (都 道 府 県 市 区 町 村 郡), the suffix included (渋谷区, 東京都);
* PERSON also: a surname, a space and a given name after a label of a person (作成者, 氏名 ...,
  ``_LABELLED``), which MeCab may read together with the label, or a name written together
  there or on a line of its own (``_ALONE``) when MeCab reads a surname where it starts.

Only rows with kana run it (or rows labelled ``ja``): Japanese is the language that writes kana.
"""

from __future__ import annotations

from typing import Any

import regex as re

from curate.pii.ner import NER_SCORE, LazyNer

HONORIFICS = frozenset(["さん", "様", "さま", "氏", "君", "くん", "先生", "殿", "ちゃん"])
PLACE_SUFFIXES = frozenset("都道府県市区町村郡")
_NAME_CHARS = re.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]+")
# a surname MeCab reads as a place or a common noun (長島, 松下): two or three kanji
_SURNAME_LIKE = re.compile(r"\p{Han}{2,3}")
_GIVEN = re.compile(r"\p{Han}{1,3}(?!\p{Han})")
_BOUNDARY = re.compile(r"[\s\p{P}]")
# case particles after a name in a sentence (が, を, に, と, の, は, も, まで: their first kana)
_CASE_PARTICLES = frozenset("がをにとのはもま")
_KANA_GIVEN = re.compile(r"[\p{Hiragana}\p{Katakana}ー]{2,4}(?=[\s\p{P}]|$)")
# last kanji of the common surnames that are also places (宮崎, 千葉, 中野, 平野): a place so
# written before a space and a given name is a surname (東京 駅, 大阪 府 are no names)
_SURNAME_END = frozenset("田野川山本崎藤村井木島沢澤原谷口部橋林森岡上内松葉尾宮元池浦坂石瀬堀")
# after a surname and a space, a given name in kana of one script (ハルト, かなで) before a
# particle of a sentence (に in によると, から, と, の ...) or an honorific: the space after a
# surname is the mark of a name in Japanese text, whatever particle follows
_KANA_GIVEN_SENTENCE = re.compile(
    r"(?:[\p{Katakana}ー]{2,6}|\p{Hiragana}{2,4})"
    r"(?=が|を|に|と|の|は|も|まで|から|へ|より|や|さん|様|さま|氏|くん|先生|殿|ちゃん)"
)
# a name in a name position: after a label of a person (氏名, 作成者 ..., with or without a
# colon, which MeCab may read together with the surname: 作成者長島), a surname of one to three
# kanji, a space and a given name of one to three kanji or two to four kana, up to punctuation,
# a space or the line's end; or, written together, two to five kanji (and a katakana given
# name) when MeCab reads a surname where they start, or a proper noun and more (長島 + 眞都, as
# places); 氏名：不明 or 作成者：情報処理 is no name
NAME_LABELS = ("氏名", "名前", "作成者", "記入者", "担当者", "著者", "執筆者", "確認者", "連絡先")
_LABELLED = re.compile(
    rf"(?:{'|'.join(NAME_LABELS)})[：:]?[ \u3000]?"
    r"(?P<name>\p{Han}{1,3}[ \u3000](?:\p{Han}{1,3}|[\p{Hiragana}\p{Katakana}ー]{2,4})"
    r"|\p{Han}{2,5}(?:[\p{Katakana}ー]{2,4})?)"
    r"(?=[\s\p{P}]|$)"
)
# a line of its own (a signature, an entry of a list): a name written together, three to five
# kanji that MeCab reads as a surname and a given name or single characters (田畑 + 稀 + 結;
# not 山田 + 研究所)
_ALONE = re.compile(r"^[ \u3000]*(?P<name>\p{Han}{3,5})[ \u3000]*[。.]?[ \u3000]*$", re.M)


# the surname-and-given-name rule (``_before_honorific_or_particle``): a given name of one to
# three kanji that ends at a non-kanji or at an honorific written in kanji (河野飛流先生,
# 高橋慈乃様), or of two to four kana before an honorific or a case particle and then a kanji,
# punctuation or a space (斎藤あつおに連絡)
_KANJI_HONORIFIC = "先生|様|氏|殿|君"
_GIVEN_KANJI = re.compile(rf"\p{{Han}}{{1,3}}?(?=(?:{_KANJI_HONORIFIC})|(?!\p{{Han}}))")
# last characters of the names of places and institutions (研究所, 事務局, 本社 ...)
_INSTITUTION = frozenset("所局社院園館場店部課室会校庁署都道府県市区町村郡")
_HONORIFIC_AT = re.compile(r"さん|様|さま|氏|君|くん|先生|殿|ちゃん")
_GIVEN_KANA = re.compile(
    r"[\p{Hiragana}\p{Katakana}ー]{2,4}?(?=さん|様|さま|氏|くん|先生|殿|ちゃん"
    r"|[がをにとのはも](?:[\p{Han}\p{Katakana}\s\p{P}]|$))"
)


class FugashiNer(LazyNer):
    """MeCab (fugashi, unidic-lite) loaded once per worker; ``find`` gives PERSON/LOCATION."""

    def _build(self) -> Any:  # noqa: ANN401
        import fugashi

        return fugashi.Tagger()  # unidic-lite's bundled dictionary

    @staticmethod
    def _given(text: str, words: list, j: int) -> int:
        """The end of a given name of one to three kanji that starts at word ``j`` and is
        made of whole words and ends the word there (no kanji after it); else 0."""
        start = words[j][0]
        m = _GIVEN.match(text, start)
        if not m:
            return 0
        stop = start
        while j < len(words) and words[j][0] == stop and words[j][1] <= m.end():
            stop = words[j][1]
            j += 1
        return stop if stop == m.end() else 0

    @staticmethod
    def _unread(words: list, j: int, stop: int) -> bool:
        """The given name from word ``j`` to ``stop`` is tagged a given name, or MeCab cut it
        into single characters (no word of its dictionary)."""
        if words[j][2] == "mei":
            return True
        if any(w[2] == "mei" for w in words[j + 1 :] if w[1] <= stop):
            return True  # 紗 + 衣子: a given name's last piece tagged a given name
        k = j
        while k < len(words) and words[k][1] <= stop:
            if words[k][1] - words[k][0] != 1:
                return False
            k += 1
        return k > j + 1

    @staticmethod
    def _has_suffix(words: list, j: int, stop: int) -> bool:
        """A place suffix (都 道 府 県 市 ...) among the words from ``j`` to ``stop``."""
        return any(w[2] == "suffix" for w in words[j:] if w[1] <= stop)

    @staticmethod
    def _boundary(text: str, i: int, at_word: dict) -> bool:
        """Position ``i`` ends a word: a particle, an auxiliary or an honorific starts there, or
        punctuation, a space or the text's end."""
        if i >= len(text) or at_word.get(i) in ("func", "honor"):
            return True
        return bool(_BOUNDARY.match(text, i))

    @staticmethod
    def _before_honorific_or_particle(text: str, words: list, at_word: dict, out: list) -> None:
        """A surname and a given name, written together or with a space, before an honorific
        (さん 様 氏 先生 ...) or a case particle, however MeCab reads the given name: one to
        three kanji (河野 + 飛流 + 先生, 木下 + 月 + は, 千葉 + 月 + に) or two to four kana
        that do not start with a particle (斎藤 + あつお + に, 北條 ゆずる先生). Before an
        honorific the surname may be one MeCab reads as a place or a noun, with a space (高山
        朝陽様; 管理 + 者 + 様 is no name); before a
        particle it must be one it reads as a surname, and the given name no word of places
        (都 県 市 ...) nor a verb or particle."""
        covered = [(a, b) for a, b, _, _ in out]
        index = {start: k for k, (start, _, _) in enumerate(words)}
        for start, end, kind in words:
            if kind not in ("sei", "place", "noun") or any(a <= start < b for a, b in covered):
                continue
            if not _SURNAME_LIKE.fullmatch(text, start, end) and kind != "sei":
                continue
            g = end + 1 if text[end : end + 1] in (" ", "\u3000") else end
            if g not in index or at_word.get(g) == "func" or kind != "sei" and g == end:
                continue  # a place or noun written together with more: 管理 + 者 + 様
            stop = 0
            if m := _GIVEN_KANJI.match(text, g):
                stop = m.end()
                honored = bool(_HONORIFIC_AT.match(text, stop))
                # before a particle: one or two kanji, not ending as a place or an institution
                # does (山田 + 研究所 + に); a verb or particle inside only before an honorific
                # (浜田 + 颯/adverb + 先生, 高橋 慈 + 乃 + 様)
                bad = ("suffix", "honor") if honored else ("suffix", "honor", "func", "other")
                if not honored and (stop - g > 2 or text[stop - 1] in _INSTITUTION):
                    stop = 0
                k = index[g]
                while stop and k < len(words) and words[k][1] <= stop:
                    if words[k][2] in bad:
                        stop = 0  # 東京都様
                    k += 1
                if stop and k < len(words) and words[k - 1][1] != stop and words[k][0] < stop:
                    stop = 0  # the given name ends inside a word of MeCab
            elif m := _GIVEN_KANA.match(text, g):
                stop = m.end()
            if not stop:
                continue
            honored = bool(_HONORIFIC_AT.match(text, stop))
            if honored or kind == "sei" and text[stop : stop + 1] in _CASE_PARTICLES:
                out.append((start, stop, "PERSON", NER_SCORE))
                covered.append((start, stop))

    def spans(self, text: str) -> list[tuple[int, int, str, float]]:
        proper: set[int] = set()  # where a proper noun starts (本田: 固有名詞, 一般)
        words = []  # (start, end, kind) with kind: sei, mei, place, suffix-place, honor, other
        pos = 0
        for w in self._model(text):
            surface = w.surface
            start = text.find(surface, pos) if surface else pos
            if start < 0:
                start = pos
            end = start + len(surface)
            pos = end
            f = w.feature
            if f.pos2 == "固有名詞" and f.pos3 == "人名":
                kind = "sei" if f.pos4 == "姓" else "mei"
            elif f.pos2 == "固有名詞" and f.pos3 == "地名":
                kind = "place"
            elif surface in HONORIFICS:
                kind = "honor"
            elif surface in PLACE_SUFFIXES:
                kind = "suffix"
            elif f.pos1 in ("名詞", "接頭辞", "接尾辞") and _NAME_CHARS.fullmatch(surface):
                kind = "noun"  # part of a given name after a surname and a space? (七 + 夏)
            elif f.pos1 in ("助詞", "助動詞"):
                kind = "func"  # a particle or auxiliary: 田中 です, 田中 の
            else:
                kind = "other"
            words.append((start, end, kind))
            if f.pos2 == "固有名詞":
                proper.add(start)
        out: list[tuple[int, int, str, float]] = []
        at_word = {start: kind for start, _, kind in words}
        for i, (start, end, kind) in enumerate(words):
            nxt = words[i + 1] if i + 1 < len(words) else None
            spaced = bool(nxt) and nxt[0] - end == 1 and text[end] in " \u3000"
            given = self._given(text, words, i + 1) if nxt and (nxt[0] == end or spaced) else 0
            surname_like = kind in ("place", "noun") and _SURNAME_LIKE.fullmatch(text, start, end)
            if kind == "sei" and nxt and nxt[2] == "mei" and (nxt[0] == end or spaced):
                # the given name goes on over the pieces MeCab cut it into (咲 + 明, 葵 + 乃)
                out.append((start, max(given, nxt[1]), "PERSON", NER_SCORE))
            elif kind == "sei" and spaced and given:
                # 佐藤 零, 井上 七夏: Japanese text puts no space after a surname, except before
                # a given name: one to three kanji that end the word there
                out.append((start, given, "PERSON", NER_SCORE))
            elif surname_like and spaced and given and self._unread(words, i + 1, given):
                # a surname MeCab reads as a place or a noun (長島, 松下) and a given name it
                # reads as a given name or cannot read (知 + 映 as symbols: no word)
                out.append((start, given, "PERSON", NER_SCORE))
            elif (
                kind == "sei"
                and nxt is not None
                and nxt[0] == end
                and given
                and self._unread(words, i + 1, given)
                and self._boundary(text, given, at_word)
            ):
                # 岡崎良佳まで, 黒木紗未が: a surname and a given name written together in a
                # sentence, which MeCab cuts into single characters, before a particle, an
                # honorific, punctuation or the text's end
                out.append((start, given, "PERSON", NER_SCORE))
            elif (
                kind in ("sei", "place")
                and _SURNAME_LIKE.fullmatch(text, start, end)
                and nxt is not None
                and nxt[0] == end
                and given
                and at_word.get(given) == "honor"
                and not self._has_suffix(words, i + 1, given)
            ):
                # 鶴田穏花さん, 中野紗帆さん: a surname MeCab reads as a surname or a place and
                # one to three kanji written together before an honorific, however MeCab reads
                # them (not 東京都様: a place and its suffix)
                out.append((start, given, "PERSON", NER_SCORE))
            elif (
                kind == "sei"
                and nxt is not None
                and nxt[0] == end
                and given == nxt[1] == end + 2
                and nxt[2] == "noun"
                and at_word.get(given) == "func"
                and text[given : given + 1] in _CASE_PARTICLES
            ):
                # 黒木 + 彗百 + が: a surname and a given name of two kanji MeCab reads as one
                # common noun, written together before a case particle
                out.append((start, given, "PERSON", NER_SCORE))
            elif kind == "sei" and spaced and nxt[2] != "func" and _KANA_GIVEN.match(text, end + 1):
                # 山本 あずみ, 佐藤 ノエル: a given name in kana, which MeCab splits into
                # particles and verb endings, ends at punctuation, a space or the text's end
                out.append((start, _KANA_GIVEN.match(text, end + 1).end(), "PERSON", NER_SCORE))
            elif (
                (kind == "sei" or kind == "place" and text[end - 1] in _SURNAME_END)
                and spaced
                and (kana := _KANA_GIVEN_SENTENCE.match(text, end + 1))
                and (nxt[2] != "func" or kana.end() - end > 3)
            ):
                # 岡田 ハルトによると, 西田 かなでから: a surname, a space and a given name in
                # kana before a particle or an honorific (one that MeCab reads as particles,
                # か + な + で, of three kana or more: not 田中 です)
                out.append((start, kana.end(), "PERSON", NER_SCORE))
            elif (
                kind in ("place", "noun")
                and start in proper
                and _SURNAME_LIKE.fullmatch(text, start, end)
                and text[end - 1] in _SURNAME_END
                and spaced
                and given
                and given - end <= 4
                and at_word.get(given) == "func"
                and text[given : given + 1] in _CASE_PARTICLES
                and not self._has_suffix(words, i + 1, given)
            ):
                # 宮崎 剣の, 千葉 月に, 本田 比砂子と: a surname MeCab reads as a place or
                # another proper noun (_SURNAME_END), a space and one to three kanji before a
                # case particle, however MeCab reads them
                out.append((start, given, "PERSON", NER_SCORE))
            elif kind in ("sei", "mei") and nxt and nxt[2] == "honor" and nxt[0] == end:
                if not (kind == "mei" and i and words[i - 1][2] == "sei"):
                    out.append((start, end, "PERSON", NER_SCORE))
            elif kind == "place" and nxt and nxt[2] == "suffix" and nxt[0] == end >= start + 2:
                out.append((start, nxt[1], "LOCATION", NER_SCORE))
        self._before_honorific_or_particle(text, words, at_word, out)
        seen = {(a, b) for a, b, _, _ in out}
        at = {start: (end, kind) for start, end, kind in words}
        index = {start: k for k, (start, _, _) in enumerate(words)}
        for m in [*_LABELLED.finditer(text), *_ALONE.finditer(text)]:
            a, b = m.span("name")
            end, kind = at.get(a, (0, ""))
            after = at.get(end, (0, ""))[1]
            spaced = " " in m.group("name") or "\u3000" in m.group("name")
            if (a, b) in seen:
                continue
            if m.re is _ALONE:
                if (
                    kind == "sei"
                    and end < b
                    and end in index
                    and self._unread(words, index[end], b)
                ):
                    out.append((a, b, "PERSON", NER_SCORE))
            elif spaced or kind == "sei" or kind == "place" and end < b and after != "suffix":
                out.append((a, b, "PERSON", NER_SCORE))
        return out
