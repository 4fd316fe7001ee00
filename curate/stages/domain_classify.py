"""domain_classify: give every document a domain (web, code, math, ...) and say who decided it.

Sources, in order of trust; the first that answers wins, and ``domain_source`` records which:

1. ``input``: the row's own ``domain`` column, when present and not null (``trust_input``);
2. ``url``: ``url_rules`` from the YAML, ``pattern: domain``. A pattern is a host, matched
   exactly or as a parent domain (``github.com`` matches ``gist.github.com``), optionally
   followed by a path prefix (``docs.python.org/3/library/``). The longest matching pattern wins;
3. ``classifier``: a fastText model trained by ``curate classifier train`` (``model``), when its
   probability reaches ``min_score``;
4. ``default``: ``default`` (web, the bulk of a crawl).

The stage annotates only: ``domain``, ``domain_source`` and ``domain_score`` (the classifier's
probability, null where another source decided). Remixing decides later, on the domain column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.fasttext_model import FastTextModel, classifier_features
from curate.stages.base import Stage, Verdict, register

# scheme://user@HOST:port/PATH?query#fragment
_URL = r"^(?:[A-Za-z][A-Za-z0-9+.-]*:)?//(?:[^@/?#]*@)?(?P<host>[^/:?#]*)(?::\d*)?(?P<path>[^?#]*)"


@dataclass
class DomainClassifyConfig:
    url_rules: dict[str, str] = field(default_factory=dict)  # {"github.com": code, ...}
    model: str | None = None  # fastText model from `curate classifier train`
    min_score: float = 0.5  # below this the classifier abstains and `default` applies
    default: str = "web"  # most of a web crawl is web text
    trust_input: bool = True  # an upstream label (the crawl's metadata) beats our guesses
    max_chars: int = 2000  # prefix the classifier reads

    def validate(self) -> None:
        for pattern, domain in self.url_rules.items():
            if not isinstance(domain, str) or not domain:
                raise ValueError(f"url_rules.{pattern}: the domain must be a name, got {domain!r}")
            host = str(pattern).split("/", 1)[0]
            if not host or "://" in str(pattern):
                raise ValueError(
                    f"url_rules: pattern {pattern!r} should be a host with an optional path "
                    "prefix, e.g. github.com or docs.python.org/3/library/"
                )
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"min_score: {self.min_score} is not a probability in [0, 1]")
        if self.model and not Path(self.model).is_file():
            raise ValueError(
                f"model: {self.model}: no such file; train it with `curate classifier train "
                f"--input LABELLED --label-column domain --out {self.model}`"
            )


def url_domains(urls: pa.Array, rules: dict[str, str]) -> pa.Array:
    """Domain from the longest matching URL rule, null where none matches (vectorised)."""
    n = len(urls)
    out = pa.nulls(n, pa.string())
    if not rules or n == 0:
        return out
    parts = pc.extract_regex(pc.fill_null(pc.cast(urls, pa.string()), ""), _URL)
    host = pc.fill_null(pc.utf8_lower(pc.struct_field(parts, "host")), "")
    path = pc.fill_null(pc.struct_field(parts, "path"), "")
    path = pc.if_else(pc.equal(path, ""), "/", path)
    # Apply shorter patterns first so that a longer (more specific) match overwrites them.
    for pattern in sorted(rules, key=lambda p: (len(p), p)):
        rule_host, _, rule_path = pattern.lower().partition("/")
        hit = pc.or_(pc.equal(host, rule_host), pc.ends_with(host, "." + rule_host))
        if rule_path:
            hit = pc.and_(hit, pc.starts_with(path, "/" + rule_path))
        out = pc.if_else(hit, rules[pattern], out)
    return out


@register
class DomainClassify(Stage):
    name = "domain_classify"
    Config = DomainClassifyConfig
    kind = "streaming"
    adds_columns = ("domain", "domain_source", "domain_score")

    @classmethod
    def extra_for(cls, config: DomainClassifyConfig) -> str | None:
        return "lid" if config.model else None  # hints and URL rules need nothing

    def __init__(self, config: DomainClassifyConfig) -> None:
        super().__init__(config)
        self._model: FastTextModel | None = None

    def _load(self) -> FastTextModel:
        if self._model is None:  # once per worker process
            self._model = FastTextModel(self.config.model)
        return self._model

    def process(self, batch: pa.RecordBatch) -> Verdict:
        n = batch.num_rows
        names = batch.schema.names
        domain = pa.nulls(n, pa.string())
        source = pa.nulls(n, pa.string())
        if self.config.trust_input and "domain" in names:
            domain = pc.cast(batch.column("domain"), pa.string())
            source = pc.if_else(pc.is_valid(domain), "input", source)
        if self.config.url_rules and "url" in names:
            by_url = url_domains(batch.column("url"), self.config.url_rules)
            take = pc.and_(pc.is_null(domain), pc.is_valid(by_url))
            domain = pc.if_else(take, by_url, domain)
            source = pc.if_else(take, "url", source)
        score = pa.nulls(n, pa.float32())
        todo = np.flatnonzero(pc.is_null(domain).to_numpy(zero_copy_only=False))
        if self.config.model and len(todo):
            texts = pc.take(batch.column("text"), pa.array(todo))
            label, prob = self._load().predict(classifier_features(texts, self.config.max_chars))
            confident = prob >= self.config.min_score
            guess = pc.if_else(pa.array(confident), label, pa.scalar(None, pa.string()))
            scores = np.full(n, np.nan, dtype=np.float32)
            scores[todo] = prob
            score = pa.array(scores, pa.float32(), mask=np.isnan(scores))
            domain = _scatter(domain, todo, guess)
            source = _scatter(
                source,
                todo,
                pc.if_else(pc.is_valid(guess), "classifier", pa.scalar(None, pa.string())),
            )
            stats_abstained = int(len(todo) - confident.sum())
        else:
            stats_abstained = 0
        source = pc.fill_null(source, "default")
        domain = pc.fill_null(domain, self.config.default)
        stats: dict[str, float] = {"classifier_abstained": stats_abstained}
        for key, values in (("source", source), ("domain", domain)):
            counts = pc.value_counts(values)
            for value, count in zip(counts.field(0).to_pylist(), counts.field(1).to_pylist()):
                stats[f"{key}:{value}"] = count
        for name, column in (
            ("domain", domain),
            ("domain_source", source),
            ("domain_score", score),
        ):
            i = batch.schema.get_field_index(name)
            batch = (
                batch.append_column(name, column) if i < 0 else batch.set_column(i, name, column)
            )
        return Verdict.keep_all(batch, stats)


def _scatter(base: pa.Array, positions: np.ndarray, values: pa.Array) -> pa.Array:
    """``base`` with ``values`` written at ``positions`` where ``values`` is not null."""
    index = np.full(len(base), -1, dtype=np.int64)
    index[positions] = np.arange(len(positions))
    spread = pc.take(values, pa.array(index, mask=index < 0))
    return pc.coalesce(spread, base)
