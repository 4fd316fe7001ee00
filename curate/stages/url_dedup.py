"""url_dedup: keep one document per normalised URL, within the run and across dumps (``index``).

URL normalisation (each step in `normalize_url`, the switches in the config):

* scheme and host lowercased, a trailing dot of the host dropped, an internationalised host
  written in punycode by UTS #46 / IDNA 2008 (``bücher.de`` = ``xn--bcher-kva.de``; ``faß.de``
  is ``xn--fa-hia.de``, not ``fass.de`` as IDNA 2003 had it; a name IDNA 2008 refuses keeps its
  own spelling), user:password dropped; ``http:example.com`` read as ``http://example.com``;
* the default port (80 for http, 443 for https, 21 for ftp) and the fragment (``#...``) dropped;
* dot segments resolved (``/a/./b/../c`` = ``/a/c``), percent-escapes normalised (unreserved
  characters decoded, other escapes upper-case, non-ASCII characters and spaces escaped as
  UTF-8), an empty path written ``/``;
* tracking and session parameters dropped (``utm_*``, ``fbclid``, ``gclid``, session ids, ...),
  ``;jsessionid=`` path parameters dropped, the remaining query parameters sorted; in the query
  ``+`` is a space (``%20``), a name without a value has an empty one (``?c`` = ``?c=``) and
  characters without a meaning there are decoded (``%2C`` = ``,``), as w3lib's
  ``canonicalize_url`` has it;
* ``http`` and ``https`` the same page (``ignore_scheme``), ``www.example.org`` the same site as
  ``example.org`` (``ignore_www``).

A URL that does not parse (bad port, unbalanced IPv6 bracket, no scheme or host) is kept as it
is, stripped of surrounding spaces: only the very same string is its duplicate. It is counted in
the summary, never an error. Documents without a URL are never URL duplicates.

The key is the xxh3-64 hash of the normalised URL. Which copy survives follows ``keep``
(curate.index.survivor): ``earliest`` keeps the first crawl, ``latest`` the freshest (by date,
then dump), ``longest`` the longest text. With ``index: DIR``, documents of dumps committed before
always win: they are already published.

The barrier is keyed: reduce tasks each decide one partition of the keys. With an index the
partitions are key ranges (so a task meets one slice of the committed dumps' keys), and the
tasks also number the run's documents and commit the new dumps (curate.index.keyed).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote_plus, urlsplit

import idna
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from xxhash import xxh3_64_intdigest

from curate.index.store import (
    NO_HANDLE,
    CommittedDump,
    DedupIndex,
    ReadMeter,
    key_range_part,
    lookup_partition,
)
from curate.index.survivor import Keep, group_survivor, rank_of, survival_order
from curate.stages.base import (
    ROW,
    SHARD,
    SURVIVOR,
    KeyedDedup,
    column_or_nulls,
    register,
)

# Click identifiers of ad networks and analytics, and session ids of common web stacks.
TRACKING_PARAMS = [
    "utm_*",
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "twclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "ref_src",
    "sessionid",
    "session_id",
    "sid",
    "phpsessid",
    "jsessionid",
    "aspsessionid*",
    "cfid",
    "cftoken",
    "zenid",
    "oscsid",
]
PARTITIONS = 16  # index partitions by the key's top 4 bits
# Bumped whenever a URL's normal form changes, so that an index holding keys of the old form is
# refused instead of silently missing duplicates. 2: IDNA 2008 hosts; ``+`` = ``%20``,
# ``?c`` = ``?c=``, ``%2C`` = ``,`` and ``%3F`` = ``?`` in queries; ``http:host``.
NORMALIZER_VERSION = 2
_SPECIAL_SCHEMES = ("http", "https", "ftp")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_JSESSIONID = re.compile(r";jsessionid=[^/]*", re.IGNORECASE)


@dataclass
class UrlDedupConfig:
    keep: Keep = "earliest"  # DeepSeek dedups across dumps: the first crawl stays
    ignore_scheme: bool = True  # http:// and https:// serve the same page
    ignore_www: bool = True  # www.example.org is example.org
    drop_params: list[str] = field(default_factory=lambda: list(TRACKING_PARAMS))  # fnmatch
    sort_params: bool = True  # ?b=2&a=1 is ?a=1&b=2
    index: str | None = None  # persistent cross-dump index directory


# In a query, servers form-decode names and values: only & = + ; # and % mean something
# escaped or not, so the other characters a query may hold literally are decoded (a=1%2C2 is
# a=1,2, as w3lib's canonicalize_url has it). In the path an escaped reserved character stays
# escaped (RFC 3986 6.2.2.2 decodes only unreserved ones: /a%2Fb is not /a/b).
_QUERY_LITERAL = _UNRESERVED | frozenset("/?:@!$'()*,")


def _escapes(part: str, literal: frozenset[str] = _UNRESERVED) -> str:
    def fix(m: re.Match) -> str:
        char = chr(int(m[1], 16))
        return char if char in literal else "%" + m[1].upper()

    return quote(_ESCAPE.sub(fix, part), safe="/?%:@!$&'()*+,;=-._~")


def normalize_url(
    url: str,
    ignore_scheme: bool = True,
    ignore_www: bool = True,
    drop_params: list[str] | tuple[str, ...] = tuple(TRACKING_PARAMS),
    sort_params: bool = True,
) -> str | None:
    """The normalised form of ``url``, or None when it does not parse as a URL with a host."""
    try:
        parts = urlsplit(url.strip())
        if not parts.netloc and parts.scheme.lower() in _SPECIAL_SCHEMES:
            # WHATWG: http:example.com is http://example.com
            parts = urlsplit(f"{parts.scheme}://{parts.path.lstrip('/')}?{parts.query}")
        port = parts.port
        host = parts.hostname
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not scheme or not host:
        return None
    host = host.rstrip(".")
    if not host.isascii():
        host = _idna(host)
    if ignore_www and host.startswith("www."):
        host = host[4:]
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    path = _remove_dot_segments(_escapes(_JSESSIONID.sub("", parts.path))) or "/"
    params = []
    for pair in parts.query.split("&"):
        if not pair:
            continue
        name = unquote_plus(pair.split("=", 1)[0]).lower()
        if not any(fnmatch.fnmatchcase(name, p) for p in drop_params):
            # form encoding: + is a space; a name alone is a name with an empty value
            pair = pair.replace("+", "%20")
            params.append(_escapes(pair if "=" in pair else pair + "=", _QUERY_LITERAL))
    if sort_params:
        params.sort()
    prefix = "" if ignore_scheme and scheme in ("http", "https") else f"{scheme}:"
    query = "?" + "&".join(params) if params else ""
    return f"{prefix}//{netloc}{path}{query}"


def _idna(host: str) -> str:
    """``host`` in punycode by UTS #46 non-transitional processing (IDNA 2008): ``faß.de`` and
    ``fass.de`` are two sites. A name IDNA 2008 refuses (emoji, an empty or overlong label) keeps
    its own lowercased spelling: it is then the duplicate of the very same spelling only."""
    try:
        return idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return host


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4: ``/a/./b/../c`` is ``/a/c``."""
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for seg in segments:
        if seg == "..":
            if len(out) > 1:
                out.pop()
        elif seg != ".":
            out.append(seg)
    if segments[-1] in (".", ".."):
        out.append("")
    return "/".join(out)


@register
class UrlDedup(KeyedDedup):
    name = "url_dedup"
    Config = UrlDedupConfig
    kind = "global"

    def url_keys(self, urls: pa.Array) -> tuple[pa.Array, pa.Array]:
        """(uint64 key per row, null without a URL; whether the row's URL is malformed). Each
        distinct URL of the batch is normalised once."""
        c = self.config
        enc = pc.dictionary_encode(urls)
        keys, malformed = [], np.zeros(len(enc.dictionary), bool)
        for i, url in enumerate(enc.dictionary.to_pylist()):
            norm = normalize_url(url, c.ignore_scheme, c.ignore_www, c.drop_params, c.sort_params)
            malformed[i] = norm is None
            keys.append(xxh3_64_intdigest((url.strip() if norm is None else norm).encode()))
        per_row = pa.array(np.array(keys, np.uint64)).take(enc.indices)
        bad = pc.fill_null(pa.array(malformed).take(enc.indices), False)
        return per_row, bad

    def collect(self, batch: pa.RecordBatch) -> pa.Table:
        urls = column_or_nulls(batch, "url")
        keys, malformed = self.url_keys(urls)
        return pa.table(
            {
                ROW: batch.column(ROW),
                "id": batch.column("id"),
                "dump": column_or_nulls(batch, "dump"),
                "date": column_or_nulls(batch, "date"),
                "length": pc.utf8_length(batch.column("text")),
                "key": keys,
                "malformed": malformed,
            }
        )

    def key_partitions(self, keys: np.ndarray, partitions: int) -> np.ndarray:
        """With an index, key ranges: a reduce task's keys then meet one slice of each
        committed dump's key pieces, so the barrier reads the index about once in all."""
        if not self.config.index:
            return super().key_partitions(keys, partitions)
        return key_range_part(keys, partitions)

    def indexed(self) -> bool:
        return bool(self.config.index)

    def open_index(self) -> DedupIndex | None:
        if not self.config.index:
            return None
        return DedupIndex(self.config.index, "url", self._index_params(), PARTITIONS)

    def reduce(self, keys: pa.Table) -> tuple[pa.Table, dict[str, Any]]:
        summary = self._counts(keys)
        if keys.num_rows == 0:
            return _no_removals(), {**summary, "duplicates": 0, "duplicates_of_committed_dumps": 0}
        removals, _, summary = self._decide(keys, summary, [], None, None)
        return removals, summary

    def reduce_indexed(
        self, keys: pa.Table, reference: list[CommittedDump], handles: np.ndarray, meter: ReadMeter
    ) -> tuple[pa.Table, np.ndarray, dict[str, Any]]:
        return self._decide(keys, self._counts(keys), reference, handles, meter)

    def decide(self, collected: pa.Table) -> tuple[Any, dict[str, Any]]:
        if not self.config.index:
            return super().decide(collected)
        from curate.pipeline import decide_keyed_here

        return decide_keyed_here(self, collected)  # the run's tasks, in this process

    @staticmethod
    def _counts(keys: pa.Table) -> dict[str, Any]:
        if keys.num_rows == 0:
            return {"documents": 0, "malformed_urls": 0, "without_url": 0}
        return {
            "documents": keys.num_rows,
            "malformed_urls": int(pc.sum(keys.column("malformed")).as_py() or 0),
            "without_url": keys.column("key").null_count,
        }

    def _index_params(self) -> dict[str, Any]:
        c = self.config
        return {
            "normalizer": NORMALIZER_VERSION,
            "keep": c.keep,
            "ignore_scheme": c.ignore_scheme,
            "ignore_www": c.ignore_www,
            "drop_params": sorted(c.drop_params),
            "sort_params": c.sort_params,
        }

    def _decide(
        self,
        keys: pa.Table,
        summary: dict[str, Any],
        reference: list[CommittedDump],
        handles: np.ndarray | None,
        meter: ReadMeter | None,
    ) -> tuple[pa.Table, np.ndarray, dict[str, Any]]:
        """Rows of whole keys: (removals, root handle of each row (with ``handles``), summary).
        A row's survivor is the best committed document with its key (the smallest handle in
        ``reference``), else the best row of the run with its key."""
        n = keys.num_rows
        rank = rank_of(survival_order(keys, self.config.keep))
        has_key = np.flatnonzero(keys.column("key").is_valid().to_numpy(zero_copy_only=False))
        kv = pc.fill_null(keys.column("key"), 0).to_numpy()  # only has_key rows are used
        survivor_handle = np.full(n, -1, np.int64)
        if reference:  # one index partition at a time, streamed (curate.index.store)
            part = (kv[has_key] >> np.uint64(60)).astype(np.int64)
            for p in np.unique(part):
                rows = has_key[part == p]
                survivor_handle[rows] = lookup_partition(reference, int(p), kv[rows], meter)
        in_run = has_key[survivor_handle[has_key] < 0]
        survivor_row = np.arange(n)
        if len(in_run):
            survivor_row[in_run] = in_run[group_survivor(kv[in_run], rank[in_run])]
        from_index = survivor_handle >= 0
        removed = np.flatnonzero(from_index | (survivor_row != np.arange(n)))
        # a run survivor's id here; a committed one's is read by handle range (its handle in
        # SURVIVOR, curate.index.keyed), so this task reads no committed dump's documents
        of_committed = from_index[removed]
        dup_of = keys.column("id").take(pa.array(survivor_row[removed], mask=of_committed))
        removals = pa.table(
            {
                SHARD: keys.column(SHARD).take(pa.array(removed)),
                ROW: keys.column(ROW).take(pa.array(removed)),
                "reason": pa.array(["url_duplicate"] * len(removed), pa.string()),
                "duplicate_of": dup_of.cast(pa.string()),
            }
        )
        if handles is not None:
            survivor = np.where(of_committed, survivor_handle[removed], NO_HANDLE)
            removals = removals.append_column(SURVIVOR, pa.array(survivor, pa.int64()))
        counts = pc.value_counts(keys.column("dump").take(pa.array(removed)))
        by_dump = {str(c["values"]): c["counts"] for c in counts.to_pylist()}
        summary.update(
            {
                "duplicates": len(removed),
                "duplicates_of_committed_dumps": int(from_index.sum()),
                "removed_by_dump": dict(sorted(by_dump.items())),
            }
        )
        root = np.empty(0, np.int64)
        if handles is not None:
            root = np.where(from_index, survivor_handle, handles[survivor_row])
        return removals, root, summary


def _no_removals() -> pa.Table:
    return pa.table(
        {
            SHARD: pa.array([], pa.int32()),
            ROW: pa.array([], pa.int64()),
            "reason": pa.array([], pa.string()),
            "duplicate_of": pa.array([], pa.string()),
        }
    )
