"""The fold against its definitions, and widened triggers against the fold (brute force)."""

from __future__ import annotations

import unicodedata

import pyarrow as pa
import pytest
import regex as re
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.pii.fold import FOLD, FOLDABLE, FULLWIDTH, KEPT, fold, widen
from curate.pii.prescreen import TRIGGERS, column_mask


def test_fold_is_nfkc_on_full_width_forms_and_the_digit_value_elsewhere():
    for cp in [*FULLWIDTH, 0x3000]:
        if chr(cp) in KEPT:
            assert cp not in FOLD
        else:
            assert chr(FOLD[cp]) == unicodedata.normalize("NFKC", chr(cp)), hex(cp)
    digits = [cp for cp in FOLD if cp not in FULLWIDTH and cp != 0x3000]
    assert len(digits) > 600  # every script's 0-9
    for cp in digits:
        assert unicodedata.category(chr(cp)) == "Nd" and int(chr(cp)) == FOLD[cp] - 48
    assert all(FOLDABLE.match(chr(cp)) for cp in FOLD)  # the shortcut skips nothing it changes


def test_fold_keeps_length_and_leaves_the_rest_alone():
    text = "电话：１３８－１２３４　５６７８，邮箱ａｂｃ＠ｅｘａｍｐｌｅ．ｃｏｍ。٣٤ ①½ café"
    folded = fold(text)
    assert folded == "电话：138-1234 5678，邮箱abc@example.com。34 ①½ café"
    assert len(folded) == len(text)
    ascii_text = "Call 555-0100, mail a@b.com."
    assert fold(ascii_text) is ascii_text  # ASCII text is not even copied


# Text made of what the triggers look at, in both spellings, and what they never match.
ASCII = [chr(c) for c in range(0x20, 0x7F)]
ALPHABET = (
    ASCII
    + [chr(c) for c in FULLWIDTH]
    + ["\u3000", "٣", "३", "০", "𝟗", "\n", "路", "丁", "目", "é", "ß", "，", "。"]
)
# digits, separators and letters often enough that the triggers fire
TEXTS = st.lists(
    st.one_of(
        st.sampled_from(ALPHABET),
        st.sampled_from("0123456789０１２３４５６７８９ -－　.．@＠:："),
        st.sampled_from(["Main St", "ｗｗｗ．", "://", "路３", "丁目", " rue ", "straße ４"]),
        st.text("0123456789０１２３４５６７８９٣३ -－　.．()（）/／+＋", min_size=7, max_size=16),
    ),
    max_size=40,
).map("".join)


@pytest.mark.parametrize("entity", sorted(TRIGGERS))
@settings(max_examples=150, deadline=None)
@given(texts=st.lists(TEXTS, min_size=1, max_size=8))
def test_widened_trigger_on_text_is_trigger_on_folded_text(entity, texts):
    pattern = TRIGGERS[entity]
    wide = re.compile(widen(pattern))
    for text in texts:
        expect = [m.span() for m in re.finditer(pattern, fold(text))]
        assert [m.span() for m in wide.finditer(text)] == expect, (text, fold(text))
    # and RE2, which runs the widened trigger over the Arrow column, agrees
    mask = column_mask(pa.array(texts), pattern).to_pylist()
    assert mask == [re.search(pattern, fold(t)) is not None for t in texts]


@pytest.mark.parametrize("pattern", [r"\d{3}", "[^@]", "1[0-9]", "[0-5]", r"\bx", "(?<!a)b"])
def test_widen_refuses_what_it_cannot_widen(pattern):
    with pytest.raises(ValueError, match="widen"):
        widen(pattern)
