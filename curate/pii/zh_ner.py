"""PERSON and LOCATION in Chinese text, from jieba's part-of-speech tags (nr: person, ns: place).

jieba (pypi ``jieba``) carries its dictionary and HMM inside the package, so nothing is
downloaded. Its tags alone are too noisy for scrubbing: on technical text dictionary words carry
them (格式化 "format" is nr, 日志 "log" and 长度 "length" are ns), about 0.6 false hits per 1,000
characters each. A tag is therefore only a candidate:

* PERSON: an nr word (nr, nrfg, nrt) of 2-3 Han characters, or 3-4 after a two-character
  surname, that starts with one of the common surnames below. A one-character surname that
  jieba tags nr on its own is joined with the one or two Han characters after it (jieba splits
  unseen given names: 廖 + 婷婷).
* PERSON too: a run of Han text of a surname and one or two characters standing alone
  between punctuation, Latin text or line ends (``姓名：苗洋。``, ``？黄想。``) that jieba's
  dictionary does not hold as a word (方法, 文件 and 时间 start with surnames; nor, of three
  characters, its first or last two: 方法名, 高性能): jieba tags unseen given names as verbs or
  adjectives (苗 + 洋); and an nr word of a surname and one character followed by one more
  Han character alone before punctuation (王梓 + 涵 + 。).
* PERSON too: a word of a surname and one or two characters that jieba's HMM made up (no
  dictionary word: 关帅, or 宗淑 + one more character alone, 宗淑华) and that ends a phrase
  (punctuation or a line's end after it), when no character of it nor the one before it is a
  function word (角色和域, 读取方在 are no names).
* PERSON too, inside a sentence: after a word that governs a person (由, 被, 给, 感谢, 联系
  ...: _BEFORE_PERSON) a surname and a given name jieba does not know (由 + 柴宁, 由龙伟 as
  one word, 感谢 + 黄 + 丹丹); an unseen word of a surname and one or two characters first in
  its clause (after punctuation or a line's end) before a verb or adverb, when jieba tags the
  surname character as a name (韩东 + 同意; not 单 + 次 + 执行).
* PERSON too: a (compound) surname and one or two characters right before a title or form of
  address (先生 女士 老师 经理 ...: TITLES), no dictionary word (count 20 or more), no function
  character, not started by a common word (项目经理, 高级工程师).
* LOCATION: an ns word that ends in an administrative or country suffix (省 市 县 区 ...), or
  is followed by one (合肥 + 县), or is a province-level name (北京, 广东 ...).

Only windows around a surname, a place suffix or a province name are tagged (about 40% of the
Han characters of technical text), joined by newlines, which jieba never segments across.

jieba builds its prefix dictionary once per process and caches it as a file; the cache goes to
``$XDG_CACHE_HOME/curate/jieba`` (``~/.cache/curate/jieba``), not the shared temp directory.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import regex as re

from curate.pii.ner import NER_SCORE, LazyNer

log = logging.getLogger(__name__)

# The most common Chinese surnames, by population (Ministry of Public Security ranking), and the
# common two-character ones.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关"
    "兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻"
    "祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿"
    "桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝萧赖鞠芮洪"
    # rarer ones written almost only as surnames (锺: the variant of 钟 that names keep; not
    # 甯, which text decoded with the wrong charset is full of: 甯镐笌)
    "锺丘鄢郁匡谌胥冀奚冼郜蔺阚仝栗"
)
COMPOUND_SURNAMES = frozenset(
    ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "令狐"]
)
_SUFFIXES = "省|市|县|区|州|镇|乡|村|国|岛|自治区|特别行政区"
PLACE_SUFFIX = re.compile(rf"(?:{_SUFFIXES})$")
PROVINCES = frozenset(
    [
        "北京",
        "天津",
        "上海",
        "重庆",
        "河北",
        "山西",
        "辽宁",
        "吉林",
        "黑龙江",
        "江苏",
        "浙江",
        "安徽",
        "福建",
        "江西",
        "山东",
        "河南",
        "湖北",
        "湖南",
        "广东",
        "海南",
        "四川",
        "贵州",
        "云南",
        "陕西",
        "甘肃",
        "青海",
        "台湾",
        "内蒙古",
        "广西",
        "西藏",
        "宁夏",
        "新疆",
        "香港",
        "澳门",
    ]
)
_HAN = re.compile(r"\p{Han}+")
_ALONE = re.compile(r"(?<!\p{Han})\p{Han}{2,3}(?!\p{Han})")
# characters that end a word or phrase, not a given name (曾是, 段名, 时中)
_FUNCTION = frozenset("是的了在和与或为等名时中上下内外个之其所以也都而及")
# what may follow a name that ends a phrase: its punctuation, a line's end, the text's end
_END = frozenset(["", "\n", "。", "，", "；", "！", "？", "、", ",", ";"])
# jieba's tags of a surname character that reads as a name or a name's morpheme
_NAME_TAGS = frozenset(["nr", "nrt", "nrfg", "zg", "j", "ng", "nz"])
# what ends a sentence or clause before a name that starts the next
_CLAUSE_END = frozenset("\n。，；！？：、")
# words that govern a person right after them: the prepositions of an agent or recipient (由 X
# 编写, 给 X, 向 X, 被 X) and verbs of thanking and contacting (感谢 X, 联系 X, 发给 X)
_BEFORE_PERSON = frozenset(
    ["由", "被", "给", "向", "跟", "让", "叫", "感谢", "谢谢", "联系", "发给", "交给", "转给"]
)
_TRIGGER = re.compile(
    "["
    + "".join(sorted(SURNAMES))
    + "]|"
    + "|".join(sorted(COMPOUND_SURNAMES | PROVINCES))
    + "|"
    + _SUFFIXES
)
# a name after a label of a person (姓名：夏珺), whatever its surname (花, 揭 are rare ones) when
# a colon follows the label, else with a known one (作者的许可 is a phrase): two or three
# characters (four with a compound surname) up to punctuation, a space or the line's end, not
# a common word of the dictionary (作者信息: 信息)
NAME_LABELS = ("姓名", "联系人", "经办人", "负责人", "作者")
_LABELLED = re.compile(
    rf"(?:{'|'.join(NAME_LABELS)})(?P<colon>[：:])?(\p{{Han}}{{2,4}})(?=[\s\p{{P}}]|$)"
)
# a name before a title or form of address (王芳先生, 陈淑惠女士, 欧阳磊平老师): a (compound)
# surname and one or two Han characters right before it, the name no word of the dictionary
# (项目经理, 高级工程师, 常务主任 are words and a title)
TITLES = (
    "先生", "女士", "小姐", "老师", "教授", "博士", "同志", "经理", "主任", "医生", "律师",
    "院士", "工程师", "部长", "局长", "处长", "科长", "校长", "院长", "所长", "书记", "主席",
    "董事长", "总裁", "师傅",
)  # fmt: skip
_TITLED = re.compile(rf"(?=(?:{'|'.join(TITLES)}))")
# a Japanese full name in kanji with a space between surname and given name, alone between
# other characters than Han and kana, and no third spaced Han word on either side (a list of
# Chinese words: 名称 解释 设置)
_SPACED_NAME = re.compile(
    r"(?<![\p{Han}\p{Hiragana}\p{Katakana}]|\p{Han}[ \u3000])(\p{Han}{1,3})[ \u3000](\p{Han}{1,3})"
    r"(?![\p{Han}\p{Hiragana}\p{Katakana}]|[ \u3000]\p{Han})"
)
# window: a place name before its suffix, a (compound) surname and its given name after it
_BEFORE, _AFTER = 4, 4


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "curate" / "jieba"


# a character of given names (_given_name_chars): at least this share of the dictionary's
# words that hold it are full names (surname + it + one more, tagged nr) that hold it after
# the surname, and at least GIVEN_MIN of them (淑 32 of 70, 斌 76 of 78; 件 1 of 724, 法 181 of
# 2,256, 数 16 of 1,869)
GIVEN_SHARE, GIVEN_MIN = 0.2, 10


def given_name_chars(tags: dict, freq: dict) -> frozenset[str]:
    """The characters of given names in jieba's own dictionary: its 62,000 full names of three
    characters (a surname and two, tagged nr) against all its words (GIVEN_SHARE, GIVEN_MIN).
    Learnt from the dictionary the tagger reads, not from a list of test names."""
    import collections

    named: collections.Counter = collections.Counter()
    every: collections.Counter = collections.Counter()
    for word, count in freq.items():
        if count:
            every.update(set(word))
    for word, tag in tags.items():
        if len(word) == 3 and tag.startswith("nr") and word[0] in SURNAMES:
            named.update(set(word[1:]))
    return frozenset(
        c
        for c, k in named.items()
        if k >= GIVEN_MIN and k >= GIVEN_SHARE * every[c] and c not in _FUNCTION
    )


def _is_name(word: str) -> bool:
    if not _HAN.fullmatch(word):
        return False
    if word[:2] in COMPOUND_SURNAMES:
        return 3 <= len(word) <= 4
    return word[0] in SURNAMES and 2 <= len(word) <= 3


def _is_place(word: str) -> bool:
    return (
        len(word) >= 2
        and bool(_HAN.fullmatch(word))
        and (word in PROVINCES or PLACE_SUFFIX.search(word) is not None)
    )


class JiebaNer(LazyNer):
    """jieba's POS tagger, loaded once per worker; ``find`` gives PERSON/LOCATION spans."""

    def _build(self) -> Any:  # noqa: ANN401
        import jieba
        import jieba.posseg

        jieba.setLogLevel(logging.WARNING)  # it prints "Building prefix dict" otherwise
        tokenizer = jieba.Tokenizer()
        folder = cache_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tokenizer.tmp_dir = str(folder)
        except OSError:
            log.info("pii_scrub: %s not writable; jieba caches in the temp directory", folder)
        posseg = jieba.posseg.POSTokenizer(tokenizer)
        posseg.tokenizer.check_initialized()
        self._words = posseg.tokenizer.FREQ
        self._given_chars = given_name_chars(posseg.word_tag_tab, self._words)
        return posseg

    def _alone(self, text: str) -> list[tuple[int, int, str, float]]:
        """Surname + given name alone between non-Han characters, not a dictionary word; with
        a two-character given name, neither its first two nor its last two characters are
        one either (方法名: 方法; 高性能: 性能)."""
        out = []
        for m in _ALONE.finditer(text):
            word = m.group()
            if not _is_name(word) or word[1] in _FUNCTION or self._words.get(word):
                continue
            if len(word) == 3 and (
                word[2] in _FUNCTION or self._words.get(word[:2]) or self._words.get(word[1:])
            ):
                continue
            out.append((m.start(), m.end(), "PERSON", NER_SCORE))
        return out

    def spans(self, text: str) -> list[tuple[int, int, str, float]]:
        """(start, end, entity, score) of the names and places in ``text``, tagging windows."""
        windows: list[tuple[int, int]] = []
        for m in _TRIGGER.finditer(text):
            a, b = max(0, m.start() - _BEFORE), min(len(text), m.end() + _AFTER)
            if windows and a <= windows[-1][1]:
                windows[-1] = (windows[-1][0], b)
            else:
                windows.append((a, b))
        digest = "\n".join(text[a:b] for a, b in windows)
        joins, d = set(), -1  # the newlines that join windows
        for a, b in windows[:-1]:
            d += b - a + 1
            joins.add(d)
        out, d = [], 0
        found = iter(sorted(self._tag(digest, joins)))
        hit = next(found, None)
        for a, b in windows:  # digest offsets -> text offsets, window by window
            while hit is not None and hit[0] < d + b - a:
                if hit[1] <= d + b - a:
                    out.append((hit[0] - d + a, hit[1] - d + a, hit[2], hit[3]))
                hit = next(found, None)
            d += b - a + 1
        for m in _LABELLED.finditer(text):
            word = m.group(2)
            common = self._words.get(word, 0) >= 20  # 信息 12,256; 夏珺 5 (tagged v)
            if word[0] in _FUNCTION or not (m.group("colon") or _is_name(word)):
                continue  # 作者的许可: a phrase, not a label
            if any(a == m.start(2) and b == m.end(2) for a, b, _, _ in out):
                continue
            if 2 <= len(word) <= 3 + (word[:2] in COMPOUND_SURNAMES) and not (
                common and self._model.word_tag_tab.get(word) != "nr"
            ):
                out.append((*m.span(2), "PERSON", NER_SCORE))
        out += self._titled(text, out)
        out += self._spaced_japanese(text, out)
        seen = {(a, b) for a, b, _, _ in out}
        return out + [h for h in self._alone(text) if (h[0], h[1]) not in seen]

    def _spaced_japanese(self, text: str, out: list) -> list[tuple[int, int, str, float]]:
        """A Japanese name written in kanji with a space (山本 洋介, 三浦 七夏) in a row with no
        kana (an English or Chinese page; rows with kana go to fugashi): MeCab (fugashi,
        unidic-lite) reads the first word as a surname and the second as a given name or as
        single characters it has no word for. Chinese puts no space inside a name, and two
        spaced words of Chinese text are no surname and given name to MeCab (名称 解释, 高 性能)."""
        found: list[tuple[int, int, str, float]] = []
        for m in _SPACED_NAME.finditer(text):
            if any(a < m.end() and m.start() < b for a, b, _, _ in out):
                continue
            tagger = self._kanji_tagger()
            if tagger is None:
                break
            words = [(w.surface, w.feature) for w in tagger(m.group())]
            if not words or words[0][0] != m.group(1):
                continue
            f = words[0][1]
            if (f.pos2, f.pos3, f.pos4) != ("固有名詞", "人名", "姓"):
                continue
            given = words[1:]
            named = len(given) == 1 and given[0][1].pos3 == "人名"
            if named or (len(given) > 1 and all(len(w) == 1 for w, _ in given)):
                found.append((m.start(), m.end(), "PERSON", NER_SCORE))
        return found

    def _kanji_tagger(self) -> Any:  # noqa: ANN401
        """fugashi's MeCab with unidic-lite, loaded on the first spaced kanji pair; None when
        fugashi is not installed."""
        if not hasattr(self, "_mecab"):
            try:
                import fugashi

                self._mecab = fugashi.Tagger()
            except (ImportError, RuntimeError):
                self._mecab = None
        return self._mecab

    def _titled(self, text: str, out: list) -> list[tuple[int, int, str, float]]:
        """A (compound) surname and one or two Han characters right before a title (TITLES):
        the longest such name that is no dictionary word and holds no function character."""
        found = []
        for m in _TITLED.finditer(text):
            t = m.start()
            if any(a < t <= b for a, b, _, _ in out):
                continue  # a name found already ends here
            for n in (4, 3, 2):
                a = t - n
                if a < 0 or not _HAN.fullmatch(text, a, t):
                    continue
                name = text[a:t]
                surname = 2 if name[:2] in COMPOUND_SURNAMES else 1
                if (n == 4) != (surname == 2) or name[0] not in SURNAMES and surname == 1:
                    continue
                if set(name) & _FUNCTION or self._words.get(name, 0) >= 20:
                    continue
                if surname == 1 and self._words.get(name[:2], 0) >= 200:
                    continue  # 项目, 高级: a common word starts it
                found.append((a, t, "PERSON", NER_SCORE))
                break
        return found

    def _single_given(self, words: list, i: int) -> int:
        """The length of a given name of one or two single characters after the surname at
        word ``i``, up to punctuation or the end (_END), that with the surname makes no word
        of the dictionary, none of them a character the dictionary counts 5,000 times or more
        as a word of its own (字 20,380; 梅 1,462, 蒨 2); else 0."""
        k = i + 1
        while k < len(words) and k - i <= 2:
            w, flag = words[k]
            if len(w) != 1 or not _HAN.fullmatch(w) or w in _FUNCTION or flag[0] in "upcrdmqfx":
                break
            if self._words.get(w, 0) >= 5000:
                break  # 连 + 字, 按 + 南: a character used as a word, not a given name
            k += 1
        n = k - i - 1
        if not n or (words[k][0] if k < len(words) else "") not in _END:
            return 0
        name = "".join(w for w, _ in words[i:k])
        return 0 if self._words.get(name) or (n == 2 and self._words.get(name[1:])) else n

    @staticmethod
    def _person_slot(
        text: str, words: list, i: int, start: int, _joins: set[int], tags: dict
    ) -> bool:
        """Word ``i`` stands where a person does: after a word that governs one (由, 感谢,
        给: _BEFORE_PERSON), or first in its sentence or clause (after its punctuation or a
        line's end, not a space: ``LANG 包来获得``) with a verb or adverb of two characters or
        more after it (韩东 + 同意) when the dictionary tags its surname character as a name
        or a name's morpheme (not 单 + 次 + 执行, 应 + 视 + 使用: 单 a noun, 应 a verb). A
        window's start is no line's start (``_joins``)."""
        if i and words[i - 1][0] in _BEFORE_PERSON:
            return True
        first = start > 0 and text[start - 1] in _CLAUSE_END and start - 1 not in _joins
        nxt = words[i + 1] if i + 1 < len(words) else ("", "")
        surname = words[i][0][:2] if words[i][0][:2] in COMPOUND_SURNAMES else words[i][0][0]
        return (
            first
            and nxt[1][:1] in "vd"
            and len(nxt[0]) >= 2
            and (len(surname) == 2 or tags.get(surname) in _NAME_TAGS)
        )

    def _given_after(self, words: list, i: int) -> int:
        """The length of a given name after the surname at word ``i``: one word of one or two
        Han characters the dictionary counts fewer than 200 times (丹丹 3, 依彤 0; not 发布),
        or two single characters under 5,000 each (悠 123 + ...); none a function word or
        particle, the name no dictionary word; else 0."""
        k, n = i + 1, 0
        while k < len(words) and n < 2:
            w, flag = words[k]
            if not _HAN.fullmatch(w) or set(w) & _FUNCTION or flag[0] in "upcrmqfx":
                break
            if n + len(w) > 2 or self._words.get(w, 0) >= (200 if len(w) == 2 else 5000):
                break
            n += len(w)
            k += 1
            if len(w) == 2:
                break
        name = "".join(w for w, _ in words[i:k])
        return 0 if not n or self._words.get(name) else n

    def _tag(self, text: str, joins: set[int]) -> list[tuple[int, int, str, float]]:
        """Names and places in ``text``, windows joined by newlines (at ``joins``)."""
        words = [(w.word, w.flag) for w in self._model.cut(text)]
        out: list[tuple[int, int, str, float]] = []
        pos = 0
        for i, (word, flag) in enumerate(words):
            start, pos = pos, pos + len(word)
            if (
                3 <= len(word) <= 5
                and word[0] in _BEFORE_PERSON
                and word not in self._words
                and _is_name(word[1:])
            ):
                # 由龙伟: jieba's HMM made one word of a preposition and the name after it
                start, word, flag = start + 1, word[1:], "nr"
            if flag.startswith("nr"):
                if len(word) == 1 and word in SURNAMES and i + 1 < len(words):
                    given = words[i + 1][0]
                    if 1 <= len(given) <= 2 and _HAN.fullmatch(given):
                        word += given
                elif (
                    len(word) == 2
                    and i + 2 < len(words)
                    and len(words[i + 1][0]) == 1
                    and _HAN.fullmatch(words[i + 1][0])
                    and words[i + 1][0] not in _FUNCTION
                    and words[i + 1][1][0] not in "upcrdmqf"
                    and not _HAN.match(words[i + 2][0])
                ):  # 王梓 + 涵 + 。: a given name's second character jieba left alone
                    word += words[i + 1][0]
                elif (
                    flag.startswith("nr")
                    and len(word) <= 2
                    and i
                    and words[i - 1][0] in SURNAMES
                    and words[i - 1][1] in ("a", "n", "ng", "nr", "nz", "zg", "t", "j")
                    and not (i > 1 and words[i - 2][1].startswith("nr"))
                ):  # 黄 + 海燕: a surname jieba tagged otherwise (周 as a week: t, 苏 as an
                    # abbreviation: j), then a given name
                    start, word = start - 1, words[i - 1][0] + word
                elif (
                    flag.startswith("nr")
                    and len(word) == 2
                    and i
                    and len(words[i - 1][0]) == 2
                    and words[i - 1][0][0] in _BEFORE_PERSON
                    and words[i - 1][0][1] in SURNAMES
                ):  # 由池 + 淑芬: jieba joined the preposition and the surname
                    start, word = start - 1, words[i - 1][0][1] + word
                if _is_name(word):
                    out.append((start, start + len(word), "PERSON", NER_SCORE))
            elif (
                len(word) == 2
                and word[0] == word[1]
                and flag in ("z", "ns", "nz", "n")
                and i
                and words[i - 1][0] in SURNAMES
                and words[i - 1][1] in ("a", "n", "ng", "nr", "nz", "zg")
                and (words[i + 1][0] if i + 1 < len(words) else "") in _END
            ):
                # 黄 + 婷婷 + 。, 刘 + 丹丹: a surname and a doubled given name jieba tags as a
                # word of another kind, ending a phrase
                out.append((start - 1, start + 2, "PERSON", NER_SCORE))
            elif (
                word not in self._words
                and _is_name(word)
                and not flag.startswith("m")
                and not set(word) & _FUNCTION
                and not (i and words[i - 1][0][-1] in _FUNCTION)
            ):
                # a word jieba's HMM made of unseen characters (关帅), surname first, ending a
                # phrase: alone before punctuation, or with one more character alone (宗淑 + 华)
                nxt = words[i + 1][0] if i + 1 < len(words) else ""
                after = words[i + 2][0] if i + 2 < len(words) else ""
                if nxt in _END or self._person_slot(
                    text, words, i, start, joins, self._model.word_tag_tab
                ):
                    out.append((start, start + len(word), "PERSON", NER_SCORE))
                elif (
                    len(word) == 2
                    and len(nxt) == 1
                    and _HAN.fullmatch(nxt)
                    and nxt not in _FUNCTION
                    and words[i + 1][1][0] not in "upcrdmqf"
                    and after in _END
                ):
                    out.append((start, start + 3, "PERSON", NER_SCORE))
            elif (
                not self._words.get(word)
                and _is_name(word)
                and not flag.startswith("m")
                and not set(word) & _FUNCTION
                and not (i and words[i - 1][0][-1] in _FUNCTION)
                and self._person_slot(text, words, i, start, joins, self._model.word_tag_tab)
            ):
                # 韩东 + 同意: the same, of a word the dictionary holds only as the start of a
                # longer one (count 0), where a person stands
                out.append((start, start + len(word), "PERSON", NER_SCORE))
            elif (
                len(word) == 1
                and word in SURNAMES
                and flag in ("n", "ng", "nr", "nz", "zg")
                and i
                and _HAN.fullmatch(words[i - 1][0])
                and words[i - 1][1][:1] != "m"
                and words[i - 1][0][-1] not in _FUNCTION
                and (given := self._single_given(words, i))
            ):
                # 联系 + 林 + 蒨 + 。: a surname jieba reads as a noun or morpheme after a word,
                # and one or two characters it leaves alone (no word of its dictionary), ending
                # a phrase; not 和 + 组 (a conjunction), 太 + 满 (an adverb), nor at a window's
                # start, where jieba sees the character without the word it ends (命 + 令列)
                out.append((start, start + 1 + given, "PERSON", NER_SCORE))
            elif (
                i
                and words[i - 1][0] in _BEFORE_PERSON
                and word in SURNAMES
                and word not in _FUNCTION
                and (given := self._given_after(words, i))
            ):
                # 由 + 林 + 玥, 感谢 + 黄 + 丹丹, 由 + 姜 + 依彤: after a word that governs a
                # person, a surname jieba reads as another word and a given name it does not know
                out.append((start, start + 1 + given, "PERSON", NER_SCORE))
            elif flag == "ns":
                if i + 1 < len(words) and PLACE_SUFFIX.fullmatch(words[i + 1][0]):
                    word += words[i + 1][0]  # 合肥 + 县
                if _is_place(word):
                    out.append((start, start + len(word), "LOCATION", NER_SCORE))
        out += self._name_shaped(text, words, out)
        return out

    def _name_shaped(self, text: str, words: list, out: list) -> list[tuple[int, int, str, float]]:
        """A surname and two characters of given names (``given_name_chars``) that jieba cuts
        apart from the words around them (陈淑 + 惠 between 与 and 联系, 叶家 + 铭): a word
        starts at the surname and one ends after the third character, the three are no word of
        the dictionary other than a name, the surname is no function word (和, 时) and the
        given name no common word (继承 2,580 times; 淑珍 4, as a name), and the name overlaps
        no span found already."""
        bounds, pos = {0}, 0
        for w, _ in words:
            pos += len(w)
            bounds.add(pos)
        found = []
        for a in sorted(bounds):
            b = a + 3
            if b not in bounds or text[a : a + 1] not in SURNAMES or not _HAN.fullmatch(text, a, b):
                continue
            name = text[a:b]
            if name[0] in _FUNCTION or not (
                name[1] in self._given_chars and name[2] in self._given_chars
            ):
                continue  # 和 + 刚才, 时 + 继承: a conjunction or a function word first
            given = self._model.word_tag_tab.get(name[1:], "")
            if self._words.get(name[1:], 0) >= 100 and not given.startswith("nr"):
                continue  # 段 + 继承, 景 + 太郎: a common word after the surname
            if self._words.get(name) and not self._model.word_tag_tab.get(name, "").startswith(
                "nr"
            ):
                continue
            if any(x < b and a < y for x, y, _, _ in out):
                continue
            found.append((a, b, "PERSON", NER_SCORE))
        return found
