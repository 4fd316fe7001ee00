"""Korean PERSON from Kiwi's part-of-speech tags (kiwipiepy), filtered to the shape of a name.

``kiwipiepy`` (pypi, with ``kiwipiepy-model``) is a Korean morphological analyser that ships its
model inside the package: nothing is downloaded. It tags proper nouns ``NNP`` but does not say
whether a person or a place; it reads an unseen name as one unknown noun (윤영호) or splits it
(김 + 은 + 영). Korean full names are mostly three syllables, a common surname and two given-name
syllables, so a name is:

* a run of nouns written together that starts with a surname-initial proper noun, two to four
  syllables before an honorific or title (씨 님 선생 교수 ...), or three in two pieces (김 + 경희);
* else the first three syllables of a word when they are a surname and two syllables of given
  names, read by Kiwi as one unknown noun, one proper noun it knows (이현우), or a surname and
  short pieces ending there, with only particles, endings or an honorific after them; one known
  common noun (정보 + 를), a known place (강동구) or a technical term (문자열) is no name.

Only the words that start with a surname syllable are tagged (each alone, cached), one Kiwi call
per batch.
"""

from __future__ import annotations

from typing import Any

import regex as re

from curate.pii.ner import NER_SCORE, LazyNer

# the most common Korean surnames (Statistics Korea, 2015 census), about 95% of the population
# (나, about 0.3%, was missing: as the pronoun "I" it starts many words, which the given-name
# syllables and Kiwi's dictionary keep apart: 나에게, 나중에, 나머지)
SURNAMES = frozenset(
    "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진지엄채원"
    "천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부가복태목나"
    # the rarer ones of the census's list of Korean-origin surnames (each well under 0.1%)
    "라형계피감음빈동온호범좌팽승간상시갈단견당화창옹순빙묵근매야즙판궉엽평곡초내돈뇌교대수포"
    "궁만환해춘운"
)
# rarer still (杜 두, 盧 written 로, 武 무, 獨 독), and syllables that start many words of
# technical text (두자리, 로캘, 로우수, 무시): a name only where a person stands, after a label,
# before a title or before a particle only people take (두민준 씨, 로지호에게)
RARE_SURNAMES = frozenset("두로무독")
# Syllables of Korean given names (the common ones, from general knowledge of Korean naming,
# not from any generator's list): loanwords and compounds of technical text (인코더, 하이픈,
# 명령행, 심볼릭) are written with others, so an unknown word made of a surname and two of
# these is taken for a name.
GIVEN_SYLLABLES = frozenset(
    "가각간갑강건걸겸경계고곤관광교구국군권규균근금기길나남녀노누늘다단달담덕도돈동두득라란람"
    "랑래량려련렬령례록룡류륜률리린림립마만말매면명모목묘무미민밀바박반방배백범법벽별병보복본"
    "봉부분비빈빛산삼상새샘서석선설섭성세소솔송수숙순술슬승시식신실심아악안애야양억언엄여연열"
    "염엽영예오옥온완왕요용우욱운웅원월위유육윤율융은을음응의이익인일임자작장재전점정제조종주"
    "준중지직진찬창채천철청초춘충치태택평표풍필하학한함해향허헌혁현협형혜호홍화환활황회효후훈"
    "휘희흠름늘봄보"
)
# proper nouns of technical text that a surname and two given-name syllables spell
NOT_NAMES = frozenset(
    ["문자열", "백분율", "정수형", "연산자", "변환자", "지정자", "구분자", "한정자"]
)
# particles Kiwi may tag as nouns after an unknown word (김민 + 준 + 로/NNG)
PARTICLES = frozenset(
    ["로", "으로", "에게", "께", "은", "는", "이", "가", "을", "를", "의", "와", "과", "도", "에"]
)
# particles only people (and animals) take: a word before them is a person or a pronoun
PERSON_PARTICLES = ("에게서", "에게", "께서", "께", "한테서", "한테")
STEM_PARTICLES = (
    "은", "는", "이", "가", "을", "를", "의", "와", "과", "도", "로", "으로", "만", "이나", "나",
    "하고", "이랑", "랑",
)  # fmt: skip
_PARTICLE_TAIL = re.compile(
    rf"(\p{{Hangul}}{{2,3}}?)({'|'.join(PERSON_PARTICLES + STEM_PARTICLES)})"
)
_EU = 18  # the vowel ㅡ, index among the 21 medial vowels


def _vowel(syllable: str) -> int:
    return (ord(syllable) - 0xAC00) % 588 // 28


# particles that follow nouns only (a verb's form ends otherwise: 사용하는, 지정한): before
# them a word Kiwi misreads as a verb (안 + 하 + 은 + 이, 이 + 아리 + ㄴ + 의) is still a noun
NOUN_PARTICLES = frozenset(["을", "를", "의", "가", "과", "와", "로", "으로"])
NOMINAL_TAGS = frozenset(["NNG", "NNP", "NNB", "NR", "MM", "XPN", "XSN", "XR"])
# one-syllable suffixes and nouns that end words of technical text (호환성, 압축률, 초기화,
# 정상적, 변환기, 서명자; 기본값, 경로명, 정규식, 시작점, 사용법, 한계치, 최상위, 정방향,
# 선택권): never a given-name syllable there (names that Kiwi cuts so, 장경 + 자, are lost)
TECH_SUFFIXES = frozenset("성률율화적기형식용상별제계자")
TECH_NOUNS = frozenset("값식명점법형률율량표문선체부층판항행열란어치단위향권본")
HONORIFICS = ("씨", "님", "선생", "교수", "과장", "부장", "대리", "사장", "회장", "군", "양")
PLACE_SUFFIX = frozenset("시도구군동읍면리로길가")
# one-syllable nouns that end compounds of technical text (사용법, 도움말, 구성원, 변환기)
SUFFIX_NOUNS = frozenset("법말원기자형값용식표문선명수율량시간본일")
# surnames of two syllables (census; 남궁 and 황보 are the common ones): a 4-syllable name
TWO_SYLLABLE_SURNAMES = frozenset(["남궁", "황보", "제갈", "선우", "독고", "사공", "서문", "동방"])
# name positions: after a label of a person (이름: 홍길동), before a title or honorific (홍길동 씨,
# 김철수 교수님), or a line of its own (a signature, an entry of a list of contacts)
NAME_LABELS = ("이름", "성명", "성함", "담당자", "작성자", "확인자", "연락처", "작성", "저자")
TITLES = HONORIFICS + ("대표", "기자", "팀장", "박사", "원장", "실장")
# more titles written after a name (job titles and professions of address: 김민수 차장, 이영희
# 연구원, 박지훈 변호사); not 양 and 군 alone, which HONORIFICS has
TITLES += ("차장", "이사", "상무", "전무", "주임", "연구원", "위원", "위원장", "국장", "총장")
TITLES += ("장관", "의원", "작가", "감독", "변호사", "교사", "목사", "신부", "간호사", "선수")
_PARTICLE = "(?:은|는|이|가|을|를|의|에게|께서|께|도|와|과|로|으로)?"
_POSITIONS = re.compile(
    rf"(?:{'|'.join(NAME_LABELS)})(?:[ \t]*[:：][ \t]*|[ \t]+)(\p{{Hangul}}{{2,4}})(?!\p{{Hangul}})"
    rf"|(?<!\p{{Hangul}})(\p{{Hangul}}{{2,4}}?) ?(?:{'|'.join(TITLES)})님?{_PARTICLE}"
    r"(?!\p{Hangul})"
    r"|^[ \t]*(\p{Hangul}{2,4})[ \t]*[.,]?[ \t]*$"
    r"|(?<!\p{Hangul})(\p{Hangul}{2,4}?)에 ?(?:따르면|의하면)",
    re.M,
)
# Sino-Korean numerals and a unit (백만원, 오천원, 이천년, 삼백개): an amount, not a surname
# (이 오 백 천 만) and given-name syllables
_AMOUNT = re.compile("[일이삼사오육칠팔구십백천만억조]{2,}[원년개번명회차권]?")
_CANDIDATE = re.compile(
    rf"(?<!\p{{Hangul}})[{''.join(sorted(SURNAMES | RARE_SURNAMES))}]\p{{Hangul}}{{1,6}}"
    r"(?!\p{Hangul})"
)


def self_name_pieces(head: list, stem: str) -> bool:  # noqa: ANN001
    """A surname and two given-name syllables before a particle that Kiwi cuts into nouns and
    noun suffixes (민 + 문 + 용, 정박 + 생): a name unless Kiwi reads the three syllables as one
    word it knows, as a known word of two syllables and a suffix or technical noun (전경 +
    화, 서민 + 문, 정박 + 생 stay out: 정규 + 화, 사용 + 법), or as a verb or adverb."""
    if any(t.tag not in ("NNG", "NNP", "XSN", "NNB") for t in head):
        return False
    if head[0].len == 3:
        return head[0].id in (2, 3) or head[0].tag == "NNP"
    known_pair = head[0].len == 2 and head[0].tag == "NNG" and head[0].id not in (2, 3)
    if known_pair:
        return False  # a known two-syllable word and a third syllable: 전경 + 화, 서민 + 문
    if head[0].len == 1 and head[0].tag != "NNP" and len(head) == 2 and head[1].len == 2:
        known = head[1].tag == "NNG" and head[1].id not in (2, 3)
        if known:
            return False  # a prefix or a syllable and a known word: 최 + 국경, 이 + 조개
    return stem[-1] not in TECH_SUFFIXES and stem[-1] not in TECH_NOUNS


class KiwiNer(LazyNer):
    """Kiwi loaded once per worker; ``find`` gives PERSON spans."""

    def __init__(self) -> None:
        super().__init__()
        self._cache: dict[str, list[tuple[int, int]]] = {}  # word -> name spans, bounded

    def _build(self) -> Any:  # noqa: ANN401
        from kiwipiepy import Kiwi

        return Kiwi()

    @staticmethod
    def windows(text: str) -> list[tuple[int, int]]:
        """Hangul words of 2 to 7 syllables (a name and a particle or title) that start with a
        surname syllable. Kiwi's neural model reads about 30,000 characters a CPU second, so it
        reads these words alone, not the text."""
        return [m.span() for m in _CANDIDATE.finditer(text)]

    def _names(self, tokens: list, piece: str) -> list[tuple[int, int]]:  # noqa: ANN001
        """Name spans of one word: a run of nouns from a surname-initial proper noun, three
        syllables in two or more pieces (김 + 경희; one known word, 기본값 or 문자열, is no
        name), or two to four syllables before an honorific or title; else a three-syllable
        name that Kiwi does not know (``_unseen_name``)."""
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
            honored = j < len(tokens) and tokens[j].form.startswith(HONORIFICS)
            place = j == i + 1 and t.form[-1] in PLACE_SUFFIX  # 강남구, 서울시: one word
            three = j - i > 1 and end - start == 3  # 김 + 경희: surname, given name Kiwi knows
            if (three and not place) or (honored and 2 <= end - start <= 4):
                out.append((start, end))
            i = j
        if not out:
            unseen = (
                self._unseen_name(tokens, piece)
                or self._split_name(tokens, piece)
                or self._particle_name(tokens, piece)
            )
            if unseen:
                out.append(unseen)
        return out

    @staticmethod
    def _split_name(tokens: list, piece: str) -> tuple[int, int] | None:  # noqa: ANN001
        """A three-syllable word of a surname and two given-name syllables that Kiwi splits
        into known pieces because they spell words (이 + 지원, 구 + 성훈, 강성 + 민): its
        pieces end at the third syllable, none is a particle, an ending, a suffix or a verb
        (명령 + 이, 지정 + 하: a copula or a verb; a single
        jamo like the ㄴ of 영화 + ㄴ is), and only particles, endings, punctuation or an
        honorific follow."""
        word = piece[:3]
        if len(word) < 3 or word[0] not in SURNAMES or word in NOT_NAMES:
            return None
        if word[1] not in GIVEN_SYLLABLES or word[2] not in GIVEN_SYLLABLES:
            return None
        head = [t for t in tokens if t.start < 3]
        if len(head) < 2 or head[0].start != 0 or any(t.start + t.len > 3 for t in head):
            return None
        for t in head:
            jamo = len(t.form) == 1 and "\u1100" <= t.form <= "\u11ff"
            if t.tag[0] in "JEXV" and not jamo or t.tag in ("SL", "SN", "SH"):
                return None
            if t.tag == "NNB" and t.start:
                return None  # a word and a bound noun: 대기 + 중
        if head[0].len == 2 and head[1].len == 1 and head[1].form in SUFFIX_NOUNS:
            return None  # 사용 + 법, 도움 + 말: a word and a bound noun
        for u in tokens[len(head) :]:
            if not (u.tag[0] in "JSE" or u.form in PARTICLES or u.form.startswith(HONORIFICS)):
                return None
        return 0, 3

    @staticmethod
    def _particle_name(tokens: list, piece: str) -> tuple[int, int] | None:  # noqa: ANN001
        """A name before a particle, however Kiwi cuts it (이 + 수 + 민 + 에게, 전경 + 수 + 에게,
        김 + 봉 + 주의): the word is a name and one particle of PERSON_PARTICLES or
        STEM_PARTICLES, written together.

        * before a particle only people take (에게, 께서, 한테: 김규에게, 전윤에게, 정성 + 이 +
          에게), a surname and one or two syllables that are not one word Kiwi knows other
          than as a proper noun (고객에게, 자신에게, 서로에게, 사용자에게);
        * before any other particle (은, 이, 를, 의, 도 ...), a surname and two given-name
          syllables that Kiwi reads as nouns, never one known common noun (사용자가, 구성원은),
          a verb (이현 + 하 + ㄴ) or a word and a suffix of technical text (호환 + 성, 압축 +
          률, 기본 + 값, 경로 + 명); Kiwi may read the particle into one unseen word with
          the name (류재베와);
        * before any other particle also a surname and one syllable: a surname Kiwi reads as a
          proper noun alone and a given-name syllable (김 + 동 + 과), or one proper noun of
          two syllables it has not seen (김겅 + 과)."""
        m = _PARTICLE_TAIL.fullmatch(piece)
        if (
            not m
            or piece[0] not in SURNAMES
            and not (piece[0] in RARE_SURNAMES and m.group(2) in PERSON_PARTICLES)
        ):
            return None
        stem, particle = m.group(1), m.group(2)
        n = len(stem)
        if stem in NOT_NAMES or stem[-1] in "님씨":
            return None  # 교수님께, 사장님께: a title, the name is before it
        first = tokens[0] if tokens else None
        if (
            n == 3
            and first is not None
            and (first.start, first.len, first.tag, first.id) == (0, 3, "NNP", 3)
            and stem[-1] not in PLACE_SUFFIX | TECH_NOUNS | TECH_SUFFIXES
            and any(ch in GIVEN_SYLLABLES for ch in stem[1:])
        ):
            # a proper noun Kiwi has not seen (차파금) with a given-name syllable, even with the
            # ㅡ of loanwords (금); not 인코더 (no given-name syllable), 명령행 (a technical noun)
            return 0, 3
        if particle in PERSON_PARTICLES:
            whole = [t for t in tokens if t.start == 0 and t.len == n]
            if whole and whole[0].tag != "NNP" and whole[0].id not in (2, 3):
                return None  # a word Kiwi knows: 고객, 자신, 사용자 + 에게
            if n == 2 and not whole and stem[1] not in GIVEN_SYLLABLES:
                return None
            return 0, n
        head = [t for t in tokens if t.start < n]
        if not head or head[0].start != 0:
            return None
        if n == 2:
            # 김 + 동 + 과, 김겅 + 과: a surname Kiwi reads as a proper noun alone and a
            # given-name syllable, or one proper noun it has not seen
            first = head[0]
            if len(head) == 2 and first.tag == "NNP" and first.len == 1:
                return (
                    (0, 2) if head[1].tag in ("NNG", "NNP") and stem[1] in GIVEN_SYLLABLES else None
                )
            return (0, 2) if first.len == 2 and first.tag == "NNP" and first.id in (2, 3) else None
        if n != 3:
            return None
        # a word Kiwi has not seen, also with the particle read into it (류재베와 as one word)
        unknown = head[0].len in (n, len(piece)) and head[0].id in (2, 3)
        given = sum(ch in GIVEN_SYLLABLES for ch in stem[1:])
        if given == 2 and self_name_pieces(head, stem):
            return 0, 3
        if given < n - 1 and not (unknown and given):
            return None  # an unseen word needs one given-name syllable: 인코더, 심볼릭 have none
        if given < n - 1 and any(_vowel(ch) == _EU for ch in stem[1:]):
            return None  # 하이픈, 스크립트: the ㅡ of loanwords
        if unknown and (stem[-1] in TECH_NOUNS or stem[-1] in TECH_SUFFIXES):
            return None  # 장치명: a word of technical text Kiwi has not seen
        verbal = any(t.tag not in NOMINAL_TAGS for t in head)
        if verbal and (particle not in NOUN_PARTICLES or given < n - 1):
            return None  # 이현 + 하 + ㄴ: a verb, unless a particle only nouns take follows
        if any(t.tag in ("ETN", "XSV", "XSA") for t in head):
            return None  # 설정 + 이 + ㅁ, 모호 + 하 + ㅁ: a verb made a noun
        whole = head[0].len >= n
        if whole and head[0].tag != "NNP" and head[0].id != 2:
            return None  # one word Kiwi knows: 사용자, 고객, 차례
        if whole and head[0].tag == "NNP" and head[0].form[-1:] in PLACE_SUFFIX:
            return None  # 강동구
        last = head[-1]
        tech = last.form in TECH_SUFFIXES or last.form in TECH_NOUNS
        if not whole and last.start + last.len == n and last.len == 1 and tech:
            return None  # 호환 + 성, 압축 + 률, 설정 + 치, 기본 + 값, 경로 + 명
        known = [t for t in head if t.tag == "NNG" and t.id not in (2, 3) and t.len >= 2]
        if head[0].tag == "XPN" and known and known[0].start == 1:
            return None  # 최 + 상위, 정 + 방향, 고 + 해상도: a prefix and a word
        return 0, n

    @staticmethod
    def _unseen_name(tokens: list, piece: str) -> tuple[int, int] | None:  # noqa: ANN001
        """The word's first three syllables as a name: a surname and two given-name syllables
        that Kiwi reads as one unknown noun (its id 2: 윤영호), or as a surname and short
        pieces ending at the third syllable (김 + 은 + 영 + 에게, 최영 + 식, 윤 + 은지); never one
        known word (기본값, 문자열) or a known word and a particle (이상 + 은, 정보 + 를).
        After the third syllable only particles, endings, punctuation or an honorific."""
        if not tokens or tokens[0].start != 0:
            return None
        word = piece[:3]  # the text: Kiwi's forms are lemmas (김 + 짓 + 은 for 김지은)
        if len(word) < 3 or word[0] not in SURNAMES:
            return None
        if word[1] not in GIVEN_SYLLABLES or word[2] not in GIVEN_SYLLABLES or word[2] == "의":
            return None  # 범위 + 의, read alone as one unknown word: a genitive, not a name
        t = tokens[0]
        if t.len == 3:
            # unknown (id 2), or a proper noun Kiwi knows (김경희, 이현우; 문자열 too)
            if not (t.id == 2 and t.tag == "NNG" or t.tag == "NNP") or t.form in NOT_NAMES:
                return None
            if t.id != 2 and t.form[-1] in PLACE_SUFFIX:
                return None  # 강동구, 고양시, 경기도: a known place
            rest = 1
        elif t.tag == "NNP" and t.len <= 2:
            rest = 1
            while rest < len(tokens) and tokens[rest].start < 3:
                u = tokens[rest]
                if u.len > 2 or (t.len == 2 and u.tag[0] in "JE"):
                    return None  # 위젯 + 이, 지우 + 는: a word and its particle
                rest += 1
            last = tokens[rest - 1]
            if last.start + last.len != 3:
                return None
        else:
            return None
        for u in tokens[rest:]:
            if not (u.tag[0] in "JSE" or u.form in PARTICLES or u.form.startswith(HONORIFICS)):
                return None
        return 0, 3

    @staticmethod
    def positions(text: str) -> list[tuple[int, int, int]]:
        """Hangul words of 2 to 4 syllables in a name position, and which: 1 after a label
        (NAME_LABELS), 2 before a title (TITLES), 3 a line of its own, 4 before "according
        to" (에 따르면, 에 의하면)."""
        out = []
        for m in _POSITIONS.finditer(text):
            g = next(k for k in (1, 2, 3, 4) if m.group(k))
            out.append((*m.span(g), g))
        return out

    @staticmethod
    def _placed_name(tokens: list, word: str, position: int = 3) -> bool:  # noqa: ANN001
        """A word in a name position is a name: a known surname and one given-name syllable
        (2 syllables), a known surname and two more (3), or a two-syllable surname and two
        more (4); never one word Kiwi knows as a common noun, a verb or a place (사용법,
        도움말, 고객, 서울시), nor a known noun and an honorific suffix (고객 + 님). After a
        label or before a title (``position`` 1 or 2) a name Kiwi knows whose last syllable
        ends place names too (이영길: 길 is a road) is still a name; before a title, so is a
        three-syllable common noun of a surname and given-name syllables (이재민 과장님): no
        one calls a thing 과장님, and nouns of technical text (관리자 님) end otherwise (two
        syllables are too often a word and a suffix: 마음씨)."""
        n = len(word)
        if position == 4:
            return KiwiNer._according_name(tokens, word)
        if n == 4:
            if word[:2] not in TWO_SYLLABLE_SURNAMES:
                return False
        elif (
            word in NOT_NAMES
            or word[0] not in SURNAMES
            and not (word[0] in RARE_SURNAMES and position < 3)
        ):
            return False
        if n == 2 and word[1] not in GIVEN_SYLLABLES and position != 2:
            return False  # before a title any syllable, unless Kiwi knows the word (장소 교수)
        if not tokens or tokens[0].start != 0:
            return False
        t = tokens[0]
        if t.len == n:  # one word of the dictionary, or an unknown one (id 2)
            if t.id == 2:
                return True
            if t.tag == "NNG" and position == 2 and n == 3:
                tech = word[-1] in TECH_SUFFIXES or word[-1] in TECH_NOUNS
                return not tech and all(ch in GIVEN_SYLLABLES for ch in word[1:])
            if t.tag != "NNP":
                return False
            placed = position < 3 and n == 3 and word[2] in "길가리"
            return t.form[-1] not in PLACE_SUFFIX or placed
        if t.len >= 2 and t.tag == "NNG" and len(tokens) == 2 and tokens[1].form in ("님", "씨"):
            return False  # 고객 + 님
        return all(u.tag[0] != "S" for u in tokens)

    @staticmethod
    def _according_name(tokens: list, word: str) -> bool:  # noqa: ANN001
        """A word before "according to" (에 따르면) is a name when it has a name's shape: a
        common surname and one given-name syllable that Kiwi reads as one proper or unknown
        noun, or two given-name syllables that Kiwi reads as one such noun or cuts into nouns
        (``self_name_pieces``: not 기본 + 값, 사용 + 법); documents and rules come there too
        (문서, 설명서, 규칙, 정의, 기본값)."""
        n = len(word)
        if n not in (2, 3) or word[0] not in SURNAMES or word in NOT_NAMES:
            return False
        if not tokens or tokens[0].start != 0 or word[-1] in PLACE_SUFFIX:
            return False
        if not all(ch in GIVEN_SYLLABLES for ch in word[1:]):
            return False
        t = tokens[0]
        if t.len == n and (t.id == 2 or t.tag == "NNP"):
            return True
        return n == 3 and self_name_pieces(tokens, word)

    def find(self, texts: list[str]) -> tuple[list[list[tuple[int, int, str, float]]], int]:
        found: list[list[tuple[int, int, str, float]]] = [[] for _ in texts]
        jobs = [(i, a, b) for i, t in enumerate(texts) for a, b in self.windows(t)]
        placed = [(i, a, b, k) for i, t in enumerate(texts) for a, b, k in self.positions(t)]
        if not (jobs or placed) or not self.load():
            return found, 0
        pieces = [texts[i][a:b] for i, a, b in jobs]
        words = [f"@{k}" + texts[i][a:b] for i, a, b, k in placed]
        distinct = list(dict.fromkeys(pieces))
        if len(self._cache) + len(distinct) + len(words) > 50_000:
            self._cache.clear()
        todo = [p for p in distinct if p not in self._cache]
        for piece, tokens in zip(todo, self._model.tokenize(todo)):
            self._cache[piece] = self._names(tokens, piece)
        todo = [w for w in dict.fromkeys(words) if w not in self._cache]
        for key, tokens in zip(todo, self._model.tokenize([w[2:] for w in todo])):
            word = key[2:]
            named = self._placed_name(tokens, word, int(key[1]))
            self._cache[key] = [(0, len(word))] if named else []
        for (i, a, _), piece in zip(jobs, pieces):
            found[i] += [
                (a + s, a + e, "PERSON", NER_SCORE)
                for s, e in self._cache[piece]
                if not _AMOUNT.fullmatch(piece, s, e)
            ]
        for (i, a, _, _), key in zip(placed, words):
            for s, e in self._cache[key]:
                if not any(x == a + s and y == a + e for x, y, _, _ in found[i]):
                    found[i].append((a + s, a + e, "PERSON", NER_SCORE))
        return found, sum(len(p) for p in distinct) + sum(len(w) - 2 for w in set(words))
