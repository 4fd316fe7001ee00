"""The pre-screen against brute force: recognizers on the digest == recognizers on the full text."""

from __future__ import annotations

import pyarrow as pa
import regex as re

from curate.pii.fold import fold
from curate.pii.prescreen import Digester, column_mask, to_text_offsets, trigger_regex
from curate.pii.recognizers import PATTERN_ENTITIES, analyze, build_recognizers
from tests.pii.fixtures import DECOYS, full_width, make_docs


def _full(text, recs):
    return {(r.start, r.end, r.entity_type, r.score) for r in analyze(text, recs)}


def _via_digest(text, recs, digester):
    digest, offsets = digester.digest(text)
    out = set()
    for r in analyze(digest, recs):
        pos = to_text_offsets(offsets, r.start, r.end)
        if pos is not None:
            out.add((pos[0], pos[1], r.entity_type, r.score))
    return out


def test_digest_finds_exactly_what_the_full_text_gives():
    texts, langs, _ = make_docs(n_en=120, n_zh=60, seed=7, per_doc=3)
    texts += DECOYS
    langs += ["en"] * len(DECOYS)
    # and the same documents typed in full-width forms (widened triggers, folded recognizers)
    texts += [full_width(t) for t in texts[::4]]
    langs += langs[::4]
    digester = Digester(trigger_regex(PATTERN_ENTITIES))
    recs = {lang: build_recognizers(lang, PATTERN_ENTITIES) for lang in ("en", "zh")}
    digest_chars = 0
    for text, lang in zip(texts, langs):
        assert _via_digest(text, recs[lang], digester) == _full(text, recs[lang])
        digest_chars += len(digester.digest(text)[0])
    assert digest_chars < 0.6 * sum(map(len, texts))  # and it is worth doing


def test_column_mask_agrees_with_python_regex():
    texts, _, _ = make_docs(n_en=60, n_zh=20, seed=3, per_doc=1)
    texts += ["plain words only", "", "no digits, no at sign", None, "电话１３８１２３４５６７８"]
    pattern = trigger_regex(PATTERN_ENTITIES)
    mask = column_mask(pa.array(texts, pa.string()), pattern).to_pylist()
    expected = [bool(t) and re.search(pattern, fold(t)) is not None for t in texts]
    assert mask == expected
    assert not all(mask)


def test_offsets_crossing_a_separator_are_dropped():
    spans = [(0, 10, 5), (7, 40, 5)]  # digest "aaaaa\n\nbbbbb"
    assert to_text_offsets(spans, 1, 4) == (11, 14)
    assert to_text_offsets(spans, 3, 9) is None
    assert to_text_offsets(spans, 8, 12) == (41, 45)


def test_national_id_triggers_skip_ordinary_words():
    """A trigger that fires on long words sends prose to the recognizers: a first Italian
    fiscal-code trigger of nine characters doubled the text they saw on the sample."""
    from curate.pii.prescreen import TRIGGERS

    text = (
        "Internationalization, responsibilities, counterproductive misunderstandings and "
        "INTERNATIONALLY recognised characteristics."
    )
    for entity in ("UK_NINO", "ES_NIF", "ES_NIE", "IT_FISCAL_CODE", "KR_RRN"):
        assert not re.search(TRIGGERS[entity], text), entity
        assert not re.search(TRIGGERS[entity], text.lower()), entity


def _results(results):
    return [(r.start, r.end, r.entity_type, r.score) for r in results]


def test_gate_skips_only_recognizers_that_find_nothing():
    """analyze with the trigger gate == analyze running every recognizer, and the gate skips
    recognizers (else it is not worth its searches)."""
    from curate.pii.prescreen import TriggerGate

    texts, langs, _ = make_docs(n_en=120, n_zh=60, seed=11, per_doc=3)
    texts += DECOYS + [full_width(t) for t in texts[::4]]
    langs += ["en"] * len(DECOYS) + langs[::4]
    # an all-caps table row the US/UK street pattern takes though the street trigger does not
    # fire (ascii(7) in the sample corpus): STREET_ADDRESS is never gated
    texts.append("Oct Dec Hex Char Description\n200 128 80 BOX DRAWINGS LIGHT HORIZONTAL\n")
    langs.append("en")
    gate = TriggerGate(PATTERN_ENTITIES)
    recs = {lang: build_recognizers(lang, PATTERN_ENTITIES) for lang in ("en", "zh")}
    skipped = 0
    for text, lang in zip(texts, langs):
        assert _results(analyze(text, recs[lang], gate)) == _results(analyze(text, recs[lang]))
        skipped += len(recs[lang]) - sum(
            r.supported_entities[0] in gate.present(fold(text)) for r in recs[lang]
        )
    assert any(r.entity_type == "STREET_ADDRESS" for r in analyze(texts[-1], recs["en"], gate))
    assert skipped > len(texts)


def test_pattern_results_are_presidios():
    """pattern_results (presidio's pattern loop without its clock reads, logs and explanation
    objects) returns what PatternRecognizer.analyze returns, in the same order."""
    from presidio_analyzer import PatternRecognizer

    from curate.pii.recognizers import pattern_results

    texts, langs, _ = make_docs(n_en=80, n_zh=40, seed=5, per_doc=4)
    texts += DECOYS
    langs += ["en"] * len(DECOYS)
    recs = {lang: build_recognizers(lang, PATTERN_ENTITIES) for lang in ("en", "zh", "ja")}
    compared = 0
    for text, lang in zip(texts, langs):
        text = fold(text)
        for r in recs[lang] + recs["ja"]:
            if isinstance(r, PatternRecognizer) and type(r).__name__ != "IbanRecognizer":
                want = PatternRecognizer.analyze(r, text, r.supported_entities, None)
                assert _results(pattern_results(r, text)) == _results(want), type(r).__name__
                compared += len(want)
    assert compared > 200
