"""quality_filter: datatrove's heuristic filters (Gopher, C4, FineWeb) run on our batches.

We reuse datatrove's well-kept filters instead of rewriting them: a small adapter wraps each row
in a datatrove ``Document``, calls the filter's ``filter_batch`` and turns the answers into a
verdict. Rules run in the order given; a document dropped by one rule is not seen by the next,
and a rule that edits text (C4 drops lines) passes the edited text on, as in a datatrove pipeline.

Rules are chosen by the row's ``language``: ``rule_sets`` names the rules of a language
(Chinese: ``cjk_repetition`` and ``cjk_quality``, character-based rules of ``curate.cjk_rules``
with FineWeb-2's Chinese thresholds), ``rules`` serve every other language in ``languages`` (the
datatrove rules were written for English prose). Rows whose ``language`` is not in
``languages`` pass through untouched (``skipped_language``), and so do rows whose ``domain`` is
not in ``domains`` when that list is given (``skipped_domain``: Gopher's rules would drop nearly
all source code).

Words: ``word_tokenizer: gopher`` (default) splits on whitespace, as the Gopher paper (Rae et al.
2021, MassiveText) defines a word; ``datatrove`` uses datatrove's spaCy tokenizer, which makes
each punctuation mark a word, so technical text fails the "80% of words contain a letter" rule far
more often, and is ~10x slower. Sentences (for C4) split after . ! ? followed by whitespace.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from curate.errors import did_you_mean
from curate.stages.base import Stage, Verdict, register

# YAML rule name -> datatrove class name (datatrove.pipeline.filters)
RULES = {
    "gopher_quality": "GopherQualityFilter",
    "gopher_repetition": "GopherRepetitionFilter",
    "c4_quality": "C4QualityFilter",
    "fineweb_quality": "FineWebQualityFilter",
}


def _all_rules() -> list[str]:
    from curate.cjk_rules import RULES as CJK_RULES

    return [*RULES, *CJK_RULES]


@dataclass
class QualityFilterConfig:
    rules: list[str] = field(default_factory=lambda: ["gopher_repetition", "gopher_quality"])
    languages: list[str] = field(default_factory=lambda: ["en"])  # rules are English heuristics
    # a language's own rules (others in `languages` get `rules`); FineWeb-2 tunes per language
    rule_sets: dict[str, list[str]] = field(
        default_factory=lambda: {"zh": ["cjk_repetition", "cjk_quality"]}
    )
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # per rule, datatrove kwargs
    domains: list[str] | None = None  # only these domains are filtered (None: all)
    word_tokenizer: Literal["gopher", "datatrove"] = "gopher"  # Rae et al. 2021: whitespace

    def validate(self) -> None:
        known = _all_rules()
        if not self.rules:
            raise ValueError("rules: give at least one of " + ", ".join(known))
        lists = {"rules": self.rules, **{f"rule_sets.{k}": v for k, v in self.rule_sets.items()}}
        for where, rules in lists.items():
            if not isinstance(rules, list) or not rules:
                raise ValueError(f"{where}: give a list of rules, e.g. [cjk_repetition]")
            for rule in rules:
                if rule not in known:
                    raise ValueError(
                        f"{where}: unknown rule '{rule}'{did_you_mean(rule, known)}; "
                        f"valid: {', '.join(known)}"
                    )
        in_use = self.in_use()
        for rule, kwargs in self.params.items():
            if rule not in in_use:
                raise ValueError(
                    f"params.{rule}: not one of the rules in use ({', '.join(in_use)})"
                    f"{did_you_mean(rule, in_use)}"
                )
            allowed = _datatrove_params(rule)
            for key in kwargs or {}:
                if key not in allowed:
                    raise ValueError(
                        f"params.{rule}: unknown parameter '{key}'{did_you_mean(key, allowed)}; "
                        f"valid: {', '.join(allowed)}"
                    )

    def in_use(self) -> list[str]:
        return list(dict.fromkeys([*self.rules, *(r for v in self.rule_sets.values() for r in v)]))


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@cache
def whitespace_tokenizer() -> Any:
    """A datatrove WordTokenizer whose words are whitespace-separated, as in the Gopher paper."""
    from datatrove.utils.word_tokenizers import WordTokenizer

    class WhitespaceTokenizer(WordTokenizer):
        def word_tokenize(self, text: str) -> list[str]:
            return text.split()

        def sent_tokenize(self, text: str) -> list[str]:
            return [s for s in _SENTENCE_END.split(text) if s.strip()]

        def span_tokenize(self, text: str) -> list[tuple[int, int]]:
            spans, pos = [], 0
            for m in _SENTENCE_END.finditer(text):
                spans.append((pos, m.start()))
                pos = m.end()
            return [*spans, (pos, len(text))] if pos < len(text) else spans

    return WhitespaceTokenizer("en")


def _datatrove_class(rule: str) -> type:
    from datatrove.pipeline import filters

    return getattr(filters, RULES[rule])


def _datatrove_params(rule: str) -> list[str]:
    if rule not in RULES:  # curate.cjk_rules: dataclass fields
        import dataclasses

        from curate.cjk_rules import RULES as CJK_RULES

        return [f.name for f in dataclasses.fields(CJK_RULES[rule])]
    sig = inspect.signature(_datatrove_class(rule).__init__)
    return [p for p in sig.parameters if p not in ("self", "exclusion_writer", "language")]


@register
class QualityFilter(Stage):
    name = "quality_filter"
    extra = "quality"
    Config = QualityFilterConfig
    kind = "streaming"

    def __init__(self, config: QualityFilterConfig) -> None:
        super().__init__(config)
        self._filters: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        """Every rule in use, built once per worker."""
        if self._filters is None:
            from curate.cjk_rules import RULES as CJK_RULES

            extra = {}
            if self.config.word_tokenizer == "gopher":
                extra["language"] = whitespace_tokenizer()
            self._filters = {}
            for rule in self.config.in_use():
                kwargs = self.config.params.get(rule) or {}
                if rule in CJK_RULES:
                    self._filters[rule] = CJK_RULES[rule](**kwargs)
                else:
                    self._filters[rule] = _datatrove_class(rule)(**extra, **kwargs)
        return self._filters

    def rules_for(self, language: str | None) -> list[str]:
        return self.config.rule_sets.get(language or "", self.config.rules)

    def process(self, batch: pa.RecordBatch) -> Verdict:
        from datatrove.data import Document

        n = batch.num_rows
        texts = batch.column("text").to_pylist()
        ids = batch.column("id").to_pylist()
        if "language" in batch.schema.names:
            in_scope = pc.fill_null(
                pc.is_in(batch.column("language"), pa.array(self.config.languages)), False
            ).to_pylist()
        else:
            in_scope = [True] * n  # no language column: assume the rules' language
        skipped_domain = 0
        if self.config.domains is not None:
            if "domain" in batch.schema.names:
                wanted = pc.fill_null(
                    pc.is_in(batch.column("domain"), pa.array(self.config.domains)), False
                ).to_pylist()
            else:
                wanted = [False] * n
            skipped_domain = sum(1 for a, w in zip(in_scope, wanted) if a and not w)
            in_scope = [a and w for a, w in zip(in_scope, wanted)]
        reasons: list[str | None] = [None] * n
        docs = {
            i: Document(text=texts[i], id=str(ids[i]), metadata={}) for i in range(n) if in_scope[i]
        }
        filters = self._load()
        languages = (
            batch.column("language").to_pylist() if "language" in batch.schema.names else [None] * n
        )
        # Document-major order: datatrove memoises word splitting of the last few texts
        # (lru_cache on split_into_parts), so the second rule reuses the first's tokens.
        for i, doc in docs.items():
            for rule in self.rules_for(languages[i]):
                flt = filters[rule]
                answer = flt.filter(doc)
                keep, why = answer if isinstance(answer, tuple) else (answer, None)
                if not keep:
                    reasons[i] = f"{rule}:{why or 'filtered'}"
                    break
        alive = [i for i in docs if reasons[i] is None]
        edited = 0
        chars_removed = 0
        new_texts = list(texts)
        for i in alive:
            if docs[i].text != texts[i]:
                edited += 1
                chars_removed += len(texts[i]) - len(docs[i].text)
                new_texts[i] = docs[i].text
        if edited:
            batch = batch.set_column(
                batch.schema.get_field_index("text"), "text", pa.array(new_texts, pa.string())
            )
        stats = {
            "skipped_language": n - sum(in_scope) - skipped_domain,
            "skipped_domain": skipped_domain,
            "docs_edited": edited,
            "chars_removed_by_edits": chars_removed,
        }
        return Verdict(batch, pa.array(reasons, pa.string()), stats=stats)
