"""url_filter: remove documents whose URL is on a blocklist, FineWeb's first filter.

The built-in lists are the ones datatrove ships inside its installed package (read from there,
never downloaded): ``assets/url_filterblacklistsv0_3_0.tar.gz`` (UT1-derived: 4.56 million
``domains`` and 19,586 ``urls``, merged; the tarball keeps no UT1 category) and the word lists
``banned_words.txt``, ``soft_banned_words.txt`` and ``banned_subwords.txt``. User lists are
files of one entry a line (``#`` starts a comment), given per kind. The rules, in datatrove's
order (``datatrove.pipeline.filters.URLFilter``), each a removal reason:

* ``url_domain``: the host, or any parent domain of it, is a listed domain (datatrove checks the
  registered domain and the full host: a listed ``ads.example.com`` also blocks
  ``x.ads.example.com`` here);
* ``url_listed``: the URL without its scheme (and without a trailing ``/``) is a listed URL;
* ``url_banned_word``: a word of the URL (lowercase runs of ``a-z0-9``) is a banned word;
* ``url_soft_banned_words``: at least ``soft_word_threshold`` (2, datatrove's) distinct soft
  banned words are words of the URL;
* ``url_banned_subword``: a banned subword occurs in the URL with everything but ``a-z0-9``
  removed.

Domains are looked up by their 64-bit xxh3 hash in a sorted array (37 MB for the built-in list,
loaded once per worker; a false hit needs a hash collision, ~4.6e6 / 2^64 = 2.5e-13 per host).
The summary counts removals per rule (the reasons) and hits per list (``list:<name>``); a row
with no URL stays (``no_url``).

Categories. datatrove's tarball merges UT1's categories into one ``domains`` and one ``urls``
list, so its hits have no category. UT1 itself (Université Toulouse 1 Capitole's blacklists, as a
user downloads them: a folder or ``blacklists.tar.gz`` of ``<category>/domains`` and
``<category>/urls``) can be given as ``ut1: PATH``, all its categories or those in
``ut1_categories``; each category's files are lists (``ut1:<category>``, rules ``url_domain`` and
``url_listed``) and the summary counts the rows each category matched (``category:<name>``; a
row listed in two categories counts in both).
"""

from __future__ import annotations

import functools
import importlib.util
import io
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from xxhash import xxh3_64_intdigest

from curate.errors import CurateError, did_you_mean
from curate.stages.base import Stage, Verdict, register
from curate.xxh3 import xxh3_64

TARBALL = "url_filterblacklistsv0_3_0.tar.gz"
WORD_FILES = {
    "banned_words": "banned_words.txt",
    "soft_banned_words": "soft_banned_words.txt",
    "banned_subwords": "banned_subwords.txt",
}
KINDS = ("domains", "urls", "banned_words", "soft_banned_words", "banned_subwords")
REASONS = {
    "domains": "url_domain",
    "urls": "url_listed",
    "banned_words": "url_banned_word",
    "soft_banned_words": "url_soft_banned_words",
    "banned_subwords": "url_banned_subword",
}
_HOST = r"^(?:[A-Za-z][A-Za-z0-9+.-]*:)?//(?:[^@/?#]*@)?(?P<host>[^/:?#]*)"
MAX_LABELS = 10  # parent domains looked up per host (a.b.c...: deeper hosts are rare)


@dataclass
class UrlFilterConfig:
    builtin: bool = True  # datatrove's lists, from its installed package
    # user lists, files of one entry a line, per kind (each file is counted as its own list)
    domains: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    banned_words: list[str] = field(default_factory=list)
    soft_banned_words: list[str] = field(default_factory=list)
    banned_subwords: list[str] = field(default_factory=list)
    soft_word_threshold: int = 2  # datatrove: 2 soft banned words in a URL
    ut1: str | None = None  # a UT1 blacklists folder or .tar.gz: <category>/domains, urls
    ut1_categories: list[str] = field(default_factory=list)  # empty: every category

    def validate(self) -> None:
        if self.ut1 is not None:
            found = ut1_members(self.ut1)
            missing = [c for c in self.ut1_categories if c not in found]
            if missing:
                raise ValueError(
                    f"ut1_categories: {self.ut1} has no category '{missing[0]}'"
                    f"{did_you_mean(missing[0], found)}; it has {len(found)}: "
                    f"{', '.join(sorted(found)[:20])}{', ...' if len(found) > 20 else ''}"
                )
        elif self.ut1_categories:
            raise ValueError("ut1_categories: give the UT1 lists with ut1: PATH")
        for kind in KINDS:
            for path in getattr(self, kind):
                if not Path(path).is_file():
                    raise ValueError(f"{kind}: {path}: no such file")
                if not read_list(Path(path).read_text(errors="replace"), kind):
                    raise ValueError(f"{kind}: {path}: the list is empty (no entry, only comments)")
        if not self.builtin and not any(getattr(self, k) for k in KINDS) and not self.ut1:
            raise ValueError("builtin is false and no user list is given: nothing to filter on")
        if self.soft_word_threshold < 1:
            raise ValueError("soft_word_threshold: must be 1 or more")
        if self.builtin:
            datatrove_assets()


def datatrove_assets() -> Path:
    """datatrove's assets folder, found without importing datatrove."""
    spec = importlib.util.find_spec("datatrove")
    if spec is None or not spec.submodule_search_locations:
        raise CurateError(
            "url_filter's built-in lists ship inside the datatrove package (pip install "
            "datatrove, or the [quality] extra); or set builtin: false and give your own lists"
        )
    assets = Path(next(iter(spec.submodule_search_locations))) / "assets"
    for name in (TARBALL, *WORD_FILES.values()):
        if not (assets / name).is_file():
            raise CurateError(f"{assets / name}: datatrove is installed but this list is missing")
    return assets


def read_list(text: str, kind: str) -> list[str]:
    """Entries of a list file: stripped lines, ``#`` lines skipped; words and subwords are
    normalised as datatrove does (lowercase, only a-z0-9)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if kind in ("banned_words", "soft_banned_words", "banned_subwords"):
            line = _normalise(line)
        elif kind == "domains":
            line = line.lower().rstrip(".")
        out.append(line)
    return [e for e in out if e]


def _normalise(word: str) -> str:
    return "".join(c for c in word.lower() if c.isascii() and c.isalnum())


def builtin_lists() -> dict[str, bytes]:
    """datatrove's lists as raw bytes, by kind."""
    assets = datatrove_assets()
    lists: dict[str, bytes] = {}
    with tarfile.open(assets / TARBALL, "r:gz") as tar:
        for member in ("domains", "urls"):
            f = tar.extractfile(member)
            if f is None:
                raise CurateError(f"{assets / TARBALL}: no '{member}' list inside")
            lists[member] = f.read()
    for kind, name in WORD_FILES.items():
        lists[kind] = (assets / name).read_bytes()
    return lists


_UT1_MEMBER = re.compile(r"(?:^|/)([^/]+)/(domains|urls)$")


def ut1_members(path: str) -> dict[str, dict[str, str]]:
    """{category: {"domains" | "urls": member}} of a UT1 folder or tarball."""
    p = Path(path)
    if p.is_dir():
        names = [str(f.relative_to(p)) for f in sorted(p.rglob("*")) if f.is_file()]
    elif p.is_file() and tarfile.is_tarfile(p):
        with tarfile.open(p) as tar:
            names = sorted(m.name for m in tar.getmembers() if m.isfile())
    else:
        raise ValueError(f"ut1: {path}: not a folder or a tar archive of UT1's lists")
    found: dict[str, dict[str, str]] = {}
    for name in names:
        if m := _UT1_MEMBER.search(name):
            found.setdefault(m.group(1), {})[m.group(2)] = name
    if not found:
        raise ValueError(f"ut1: {path}: no <category>/domains or <category>/urls inside")
    return found


def ut1_lists(path: str, categories: list[str]) -> list[tuple[str, str, bytes]]:
    """(category, kind, raw list) of the chosen categories (all when none is chosen)."""
    found = ut1_members(path)
    chosen = categories or sorted(found)
    p = Path(path)
    out = []
    if p.is_dir():
        for cat in chosen:
            for kind, name in sorted(found[cat].items()):
                out.append((cat, kind, (p / name).read_bytes()))
        return out
    with tarfile.open(p) as tar:
        for cat in chosen:
            for kind, name in sorted(found[cat].items()):
                f = tar.extractfile(name)
                out.append((cat, kind, f.read() if f is not None else b""))
    return out


def hash_strings(values: list[str] | pa.Array) -> np.ndarray:
    """xxh3-64 of each string's UTF-8 bytes (curate.xxh3: the columnar kernel)."""
    if not isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = pa.array(values, pa.string())
    return xxh3_64(values)


def hash_entries(data: bytes, kind: str) -> np.ndarray:
    """Sorted distinct 64-bit hashes of a domains or urls list, streamed line by line (the
    built-in domains list is 124 MB of text; its hashes are 36 MB)."""
    lines = io.BytesIO(data.lower())
    strip = b" \t\r\n." if kind == "domains" else b" \t\r\n"
    hashes = np.fromiter(
        (
            xxh3_64_intdigest(e)
            for line in lines
            if (e := line.strip(strip)) and not e.startswith(b"#")
        ),
        np.uint64,
    )
    hashes.sort()  # np.unique hashes first in numpy 2.x: 50x slower here
    return hashes[np.concatenate([[True], hashes[1:] != hashes[:-1]])] if len(hashes) else hashes


@dataclass
class _List:
    name: str
    kind: str
    hashes: np.ndarray | None = None  # sorted, for domains and urls
    words: pa.Array | None = None  # for the word kinds
    pattern: str | None = None  # banned subwords: one RE2 alternation
    category: str | None = None  # UT1's category of the list


def _compile(name: str, kind: str, data: bytes) -> _List:
    if kind in ("domains", "urls"):
        return _List(name, kind, hashes=hash_entries(data, kind))
    words = sorted(set(read_list(data.decode("utf-8", "replace"), kind)))
    if kind == "banned_subwords":
        return _List(name, kind, pattern="|".join(words))
    return _List(name, kind, words=pa.array(words, pa.string()))


@functools.cache
def compiled_builtin() -> tuple[_List, ...]:
    """datatrove's lists compiled, once per process (the raw text is not kept)."""
    return tuple(
        _compile(f"datatrove:{kind}", kind, data) for kind, data in builtin_lists().items()
    )


def _in_sorted(hashes: np.ndarray, table: np.ndarray) -> np.ndarray:
    if not len(table):
        return np.zeros(len(hashes), bool)
    at = np.searchsorted(table, hashes)
    at[at == len(table)] = 0
    return table[at] == hashes


def _distinct_hits(values: pa.Array, table: np.ndarray) -> np.ndarray:
    """Per row, whether its (non-null) string hashes into ``table``; each distinct value once."""
    enc = pc.dictionary_encode(values)
    hit = _in_sorted(hash_strings(enc.dictionary), table)
    idx = enc.indices
    return np.asarray(pc.fill_null(pc.take(pa.array(hit), idx), False), dtype=bool)


@register
class UrlFilter(Stage):
    name = "url_filter"
    Config = UrlFilterConfig
    kind = "streaming"

    @classmethod
    def extra_for(cls, config: UrlFilterConfig) -> str | None:
        return "quality" if config.builtin else None  # datatrove carries the built-in lists

    def __init__(self, config: UrlFilterConfig) -> None:
        super().__init__(config)
        self._lists: list[_List] | None = None

    def lists(self) -> list[_List]:
        """Every list, compiled once per worker: built-in ones first, then the user's."""
        if self._lists is None:
            out = []
            if self.config.builtin:
                out += compiled_builtin()
            for kind in KINDS:
                for path in getattr(self.config, kind):
                    out.append(_compile(f"{kind}:{path}", kind, Path(path).read_bytes()))
            if self.config.ut1:
                for cat, kind, data in ut1_lists(self.config.ut1, self.config.ut1_categories):
                    lst = _compile(f"ut1:{cat}:{kind}", kind, data)
                    lst.category = cat
                    out.append(lst)
            self._lists = out
        return self._lists

    def process(self, batch: pa.RecordBatch) -> Verdict:
        n = batch.num_rows
        if "url" not in batch.schema.names:
            return Verdict.keep_all(batch, {"no_url": float(n)})
        url = pc.cast(batch.column("url"), pa.string())
        has_url = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(url), ""), False)
        url = pc.if_else(has_url, url, pa.scalar(None, pa.string()))
        lower = pc.utf8_lower(pc.utf8_trim_whitespace(url))
        hits = {kind: np.zeros(n, bool) for kind in KINDS}
        stats: dict[str, float] = {"no_url": float(n - (pc.sum(has_url).as_py() or 0))}
        features = _Features(lower)
        soft = np.zeros(n, np.int64)
        by_category: dict[str, np.ndarray] = {}
        for lst in self.lists():
            if lst.kind == "domains":
                mine = features.domain_hits(lst.hashes)
            elif lst.kind == "urls":
                mine = features.url_hits(lst.hashes)
            elif lst.kind == "banned_subwords":
                mine = features.subword_hits(lst.pattern)
            else:
                counts = features.word_counts(lst.words)
                if lst.kind == "soft_banned_words":
                    soft += counts
                mine = counts > 0
            stats[f"list:{lst.name}"] = float(np.count_nonzero(mine))
            if lst.category is not None:
                seen = by_category.setdefault(lst.category, np.zeros(n, bool))
                seen |= mine
            if lst.kind == "soft_banned_words":
                continue
            hits[lst.kind] |= mine
        for cat, seen in by_category.items():
            stats[f"category:{cat}"] = float(np.count_nonzero(seen))
        hits["soft_banned_words"] = soft >= self.config.soft_word_threshold
        reason = np.full(n, None, dtype=object)
        for kind in reversed(KINDS):  # the first rule in datatrove's order names the reason
            reason[hits[kind]] = REASONS[kind]
        return Verdict(batch, pa.array(reason, pa.string()), stats=stats)


class _Features:
    """What the rules look at, computed once per batch from the lowercased URLs."""

    def __init__(self, lower: pa.Array) -> None:
        self.lower = lower
        self._words: pa.ListArray | None = None

    def domain_hits(self, table: np.ndarray) -> np.ndarray:
        host = pc.struct_field(pc.extract_regex(self.lower, _HOST), "host")
        host = pc.utf8_rtrim(host, ".")
        hit = np.zeros(len(self.lower), bool)
        for k in range(MAX_LABELS):  # the host, then each parent domain with a dot in it
            parent = pc.replace_substring_regex(host, rf"^(?:[^.]+\.){{{k}}}", "") if k else host
            parent = pc.if_else(
                pc.match_substring(parent, "."), parent, pa.scalar(None, pa.string())
            )
            if k and pc.all(pc.is_null(parent)).as_py():
                break
            hit |= _distinct_hits(parent, table)
        return hit

    def url_hits(self, table: np.ndarray) -> np.ndarray:
        bare = pc.replace_substring_regex(self.lower, r"^[a-z][a-z0-9+.-]*://", "")
        trimmed = pc.utf8_rtrim(bare, "/")
        return _distinct_hits(bare, table) | _distinct_hits(trimmed, table)

    def words(self) -> pa.ListArray:
        if self._words is None:
            self._words = pc.split_pattern_regex(self.lower, r"[^a-z0-9]+")
        return self._words

    def word_counts(self, words: pa.Array) -> np.ndarray:
        """Per row, the number of distinct listed words among the URL's words."""
        lists = self.words()
        flat = pc.list_flatten(lists)
        parent = pc.list_parent_indices(lists).to_numpy()
        listed = pc.index_in(flat, value_set=words).to_numpy(zero_copy_only=False)
        ok = ~np.isnan(listed.astype(float))
        if not ok.any():
            return np.zeros(len(self.lower), np.int64)
        pairs = np.unique(np.stack([parent[ok], listed[ok].astype(np.int64)]), axis=1)
        return np.bincount(pairs[0], minlength=len(self.lower))

    def subword_hits(self, pattern: str | None) -> np.ndarray:
        if not pattern:
            return np.zeros(len(self.lower), bool)
        squashed = pc.replace_substring_regex(self.lower, r"[^a-z0-9]+", "")
        hit = pc.match_substring_regex(squashed, pattern)
        return np.asarray(pc.fill_null(hit, False), dtype=bool)
