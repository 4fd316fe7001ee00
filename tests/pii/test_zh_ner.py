"""Chinese NER with jieba: recall on Faker zh_CN names and places inside real Chinese text,
false names per 1,000 characters of clean text, offsets, and no download or shared-/tmp cache."""

from __future__ import annotations

import random
import re
import socket

import pytest
from faker import Faker

from curate.pii.zh_ner import JiebaNer
from tests.pii.fixtures import chinese_docs

CARRIERS = ["请联系{}。", "负责人：{}，", "{}的用户", "来自{}的报告。"]


@pytest.fixture(scope="module")
def docs():
    out = chinese_docs(limit=120)
    assert len(out) >= 100, "too few Chinese man pages with prose: is manpages-zh installed?"
    return out


@pytest.fixture(scope="module")
def ner():
    ner = JiebaNer()
    assert ner.load(), ner.error
    return ner


def _recall(ner, docs, make, n=150, seed=0):
    rng = random.Random(seed)
    hit = 0
    for i in range(n):
        value, doc = make(), docs[i % len(docs)]
        cuts = [m.end() for m in re.finditer("。|\n", doc)] or [len(doc)]
        at = rng.choice(cuts)
        text = doc[:at] + rng.choice(CARRIERS).format(value) + doc[at:]
        for a, b, _, _ in sorted(ner.spans(text), reverse=True):
            text = text[:a] + "<X>" + text[b:]
        hit += value not in text
    return hit / n


def test_person_and_location_recall_floors(ner, docs):
    fake = Faker("zh_CN")
    fake.seed_instance(8)
    rng = random.Random(8)
    # measured 0.94 and 0.61 (countries without 国, e.g. 秘鲁, are missed)
    assert _recall(ner, docs, fake.name) >= 0.85
    places = [fake.city, fake.province, fake.country]
    assert _recall(ner, docs, lambda: rng.choice(places)()) >= 0.5


def test_few_false_names_on_clean_chinese_text(ner, docs):
    chars = sum(len(d) for d in docs)
    persons = sum(1 for d in docs for s in ner.spans(d) if s[2] == "PERSON")
    # measured ~0.19 per 1k chars on these man pages (高亮 "highlight", 安静 "quiet"; a third
    # are the translators' real names); the raw nr tag gives ~0.6
    assert persons * 1000 / chars < 0.4


def test_spans_are_offsets_into_the_text(ner):
    text = "本手册由张伟翻译，联系地址为湖北省武汉市。Bug 报告请发给李娜。"
    found = {(text[a:b], e) for a, b, e, _ in ner.spans(text)}
    assert ("张伟", "PERSON") in found and ("李娜", "PERSON") in found
    assert any(e == "LOCATION" and "湖北省" in v for v, e in found)


def test_offline_and_cache_in_a_private_folder(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network used at run time")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    ner = JiebaNer()
    assert ner.load()
    assert ner.spans("请联系王芳。")
    assert list((tmp_path / "curate" / "jieba").glob("jieba*.cache"))


def test_a_surname_and_given_name_alone_between_punctuation(ner):
    """jieba tags unseen given names as verbs or adjectives (苗 + 洋); a two-character run of
    surname + character alone between punctuation is a name unless jieba knows it as a word."""
    for text, name in [("姓名：苗洋。请查看", "苗洋"), ("拒绝一次（R） ？黄想。", "黄想")]:
        assert name in {text[a:b] for a, b, e, _ in ner.spans(text) if e == "PERSON"}
    for text in ["方法：文件。", "时间：高级。", "曾是，其他"]:
        assert [s for s in ner.spans(text) if s[2] == "PERSON"] == []


def test_a_two_character_given_name_jieba_splits(ner):
    """A surname and two characters alone between punctuation, neither half a dictionary word
    (郭晟睿), and an nr word of surname + one character before one more character alone before
    punctuation (王梓 + 涵 + 。); words whose halves are words stay (方法名, 高性能)."""
    for text, name in [("姓名：郭晟睿\n这是", "郭晟睿"), ("详情请联系王梓涵。这是", "王梓涵")]:
        assert name in {text[a:b] for a, b, e, _ in ner.spans(text) if e == "PERSON"}
    for text in ["方法名：\n高性能。\n", "参数：\n时间点。"]:
        assert [s for s in ner.spans(text) if s[2] == "PERSON"] == []


def test_an_unseen_word_that_starts_with_a_surname_and_ends_a_phrase(ner):
    """jieba's HMM joins an unseen name into one word that its dictionary lacks (关帅, or 宗淑 +
    华): a name when it ends a phrase; never when a character of it or the one before it is a
    function word (角色和域, 读取方在, 包名)."""
    for text, name in [("详情请联系关帅。\n请挑选", "关帅"), ("作者宗淑华。 通过运行", "宗淑华")]:
        assert name in {text[a:b] for a, b, e, _ in ner.spans(text) if e == "PERSON"}
    for text in ["用户具有的角色和域。权限", "1. 读取方在 epoll 实例中", "否则会被当作包名：\n"]:
        assert [s for s in ner.spans(text) if s[2] == "PERSON"] == []


def test_a_name_after_a_person_label_whatever_its_surname(ner):
    """After 姓名： and the like two or three characters are a name though the surname is a
    rare one (花, 揭) or jieba knows the word only as a rare one (夏珺); without a colon only
    with a known surname, and never a phrase (作者的许可) or a common word (信息)."""
    for text, name in [
        ("姓名：花玉兰。\n", "花玉兰"),
        ("姓名：揭薇\n", "揭薇"),
        ("姓名：夏珺\n更新", "夏珺"),
    ]:
        assert name in {text[a:b] for a, b, e, _ in ner.spans(text) if e == "PERSON"}
    for text in ["来自出版社和作者的其他书籍。", "作者信息。", "姓名：信息\n"]:
        found = {text[a:b] for a, b, e, _ in ner.spans(text) if e == "PERSON"}
        assert not found & {"的其他", "信息"}, text


def test_a_surname_jieba_tags_otherwise_and_single_given_characters(ner):
    """A surname jieba tags as a morpheme (刘/zg) before a given name it tags nr (红梅); a
    surname and one or two characters jieba leaves alone before punctuation (林 + 蒨 + 。);
    never a character that is a common word of its own (连 + 字: 字 is counted 20,380 times)
    nor a numeral's measure word (一张)."""
    for text, name in [("详情请联系刘红梅。这是", "刘红梅"), ("详情请联系林蒨。这是", "林蒨")]:
        assert name in {text[a:b] for a, b, e, _ in ner.spans(text) if e == "PERSON"}
    for text in ["为零宽不连字，第三", "买了一张。", "这是张。", "请按南。"]:
        assert [s for s in ner.spans(text) if s[2] == "PERSON"] == [], text


def test_doubled_given_names_and_no_conjunction_or_adverb_taken_for_a_surname(ner):
    """A surname and a doubled given name jieba tags otherwise (黄 + 婷婷/z, 刘 + 丹丹/ns);
    never a conjunction, an adverb or a verb before one character and punctuation (用户和组，
    太满了。 值加二。), nor a word's end jieba sees alone at a window's start (命令列。): the
    false names the sample corpus's Chinese man pages showed."""
    for text, name in [
        ("详情请联系黄婷婷。路径", "黄婷婷"),
        ("详情请联系刘丹丹。档案", "刘丹丹"),
        ("详情请联系林蒨。这是", "林蒨"),
    ]:
        assert name in {text[a:b] for a, b, e, _ in ner.spans(text) if e == "PERSON"}
    for text in [
        "每一张智能卡，执行",
        "包括数据库用户和组，以及适用于整个",
        "某些分区可能太满了。要扩充",
        "它向这个变量的值加二。尽管",
        "把 5，6交给核心命令列。\n任何",
        "修正它并不算太迟；renice",
        "使用恰当的过程和宏。例如",
    ]:
        assert [s for s in ner.spans(text) if s[2] == "PERSON"] == [], text


def test_a_name_where_a_person_stands_in_a_sentence(ner):
    """Inside a sentence (not ending a phrase): after a word that governs a person (由, 感谢,
    发给), a surname and a given name jieba does not know, however it cuts them (由 + 柴宁/ns,
    由龙伟 as one word, 由 + 林/ng + 玥/zg, 感谢 + 黄/a + 丹丹/ns, 由 + 周/t + 淑英); first in a
    sentence before a verb or adverb (韩东 + 同意), when jieba tags the surname as a name."""
    for text, name in [
        ("本版本由柴宁发布。", "柴宁"),
        ("大部分测试由龙伟编写。", "龙伟"),
        ("大部分测试由林玥编写。", "林玥"),
        ("我们感谢黄丹丹报告问题。", "黄丹丹"),
        ("大部分测试由周淑英编写。", "周淑英"),
        ("无法创建文件\n韩东同意了这个修改。", "韩东"),
    ]:
        assert name in {text[a:b] for a, b, e, _ in ner.spans(text) if e == "PERSON"}, text


def test_no_name_from_a_morpheme_or_a_conjunction_in_a_person_slot(ner):
    """Not first in a clause when the surname character is a noun or verb of the dictionary (单
    + 次 + 执行, 应 + 视 + 使用), nor after a space (``LANG 包来获得``), nor a conjunction after
    被 (被 + 和 + 字节码): the false names these rules made on the sample corpus before they
    were narrowed."""
    for text in [
        "只是在系统启动后，单次执行一个命令，可",
        "fce-desktop。应视使用情况安装一些",
        "npages-LANG 包来获得本地化 man",
        "它会被和字节码在一起的 di",
        "这个问题是由于 tty 任然是执行 su 命令",
    ]:
        assert [s for s in ner.spans(text) if s[2] == "PERSON"] == [], text


def test_rarer_surnames_written_almost_only_as_surnames(ner):
    """锺 (the variant of 钟 that names keep), 郜, 冼 start names; 甯 stays out of the list:
    UTF-8 text decoded as GBK is full of it (a mojibake line of the sample corpus)."""
    for text, name in [
        ("详情请联系锺浦宇。", "锺浦宇"),
        ("本人郜秀珍，身份证号", "郜秀珍"),
        ("联系人：冼志强。", "冼志强"),
    ]:
        assert name in {text[a:b] for a, b, e, _ in ner.spans(text) if e == "PERSON"}, text
    text = "鏂囦欢鐨勮В鏋愮粨鏋.甯镐笌 -m 涓璧蜂"
    assert [s for s in ner.spans(text) if s[2] == "PERSON"] == []


def test_a_name_before_a_title(ner):
    """A surname and one or two characters right before a title (先生 女士 老师 经理 ...),
    compound surnames too; not a word and a title (项目经理, 高级工程师, 常务主任), not a
    conjunction before the title's word (和版本经理), nor a title alone (这位先生)."""

    def names(text):
        (spans,), _ = ner.find([text])
        return [text[a:b] for a, b, e, _ in spans if e == "PERSON"]

    for text, name in [
        ("输入框的快。施淑慧先生已确认。", "施淑慧"),
        ("石明天先生已确认。", "石明天"),
        ("陆心先生已确认。", "陆心"),
        ("请与欧阳磊平老师联系", "欧阳磊平"),
    ]:
        assert name in names(text), text
    for text in ["项目经理负责", "高级工程师", "常务主任", "这位先生", "主要编辑和版本经理。"]:
        assert names(text) == [], text


def test_a_surname_and_two_given_name_characters_jieba_cuts_apart(ner):
    """A surname and two characters of given names learnt from jieba's own full names (淑 惠
    铭 珍), however jieba cuts them (陈淑 + 惠, 叶家 + 铭, 苏/j + 淑珍, 由池 + 淑芬), in
    running sentences with no title; not words of technical text made of a surname character
    and two others (文件名, 方法名, 高性能, 时间戳, 数据库) nor characters rarely in names."""

    def names(text):
        return {text[a:b] for a, b, e, _ in ner.spans(text) if e == "PERSON"}

    for text, name in [
        ("字符串无效。请与陈淑惠联系。", "陈淑惠"),
        ("请与叶家铭联系。", "叶家铭"),
        ("已给定 苏淑珍表示同意。", "苏淑珍"),
        ("由池淑芬负责审核。", "池淑芬"),
        ("曾淑慧昨天回复了邮件。", "曾淑慧"),
    ]:
        assert name in names(text), text
    for text in [
        "请检查文件名和方法名。",
        "高性能的时间戳。",
        "由于文件丢失，给定的参数无效。",
        "请与管理员联系。",
        "数据库连接失败，请与系统管理员联系。",
        "提示使用 installer 用户名和刚才您提供的密码登录。",
        "• shell 启动时继承的打开的文件",
        "可浏览标志是从[global]段继承来的,而不是[homes]段.",
        "如果新表的字段名列表中包括和继承的字段同名的，",
    ]:
        assert names(text) == set(), text
    assert {"淑", "斌", "琪"} <= ner._given_chars
    assert not {"件", "法", "数", "据", "间"} & ner._given_chars


def test_a_japanese_name_with_a_space_in_a_row_without_kana(ner):
    """A Japanese name in kanji with a space (山本 洋介) on an English or Chinese page, which
    fugashi never reads (no kana): MeCab reads a surname and a given name, or single
    characters; spaced Chinese words are not names (名称 解释, 高 性能, 设置 时间)."""

    def names(text):
        return {text[a:b] for a, b, e, _ in ner.spans(text) if e == "PERSON"}

    for text, name in [
        ("Tokyo office: 山本 洋介, Hyogo", "山本 洋介"),
        ("Thanks to 松本 和也 <k@example.com> for the fix.", "松本 和也"),
        ("Tokyo office: 三浦 七夏, Hyogo", "三浦 七夏"),
        ("作者：王 芳。", "王 芳"),
    ]:
        assert name in names(text), text
    for text in [
        "将每个 名称 解释 为",
        "支持 高 性能 计算",
        "设置 时间",
        "中文 字体",
        "名称 解释 设置",
    ]:
        assert names(text) == set(), text
