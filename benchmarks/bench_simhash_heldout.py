"""Boilerplate removal on a held-out set: ``simhash_dedup`` (method minhash, its default; method
simhash; SimHash with text-dedup's parameters) against the plain baseline, in one run.

The set is built by ``benchmarks/boilerplate_heldout.py`` (real English and Chinese host text the
sample corpus does not use, boilerplate templates with slots filled per occurrence, 40% of
occurrences edited). The stage's parameters were chosen on the ``dev`` split; ``heldout`` has
other templates and other host files and was not tuned on. "SimHash, text-dedup's parameters" is
our method simhash with text-dedup's SimHash sizes (64 bits, 3-grams of words, Hamming <= 3) and
no slot masking; "text-dedup 0.4.0 SimHash" is text-dedup itself (`python -m text_dedup.simhash`
with those settings, 4 blocks, one process, in bench_simhash's virtualenv; its 3-grams are of
lower-cased characters, not words), given the split's units as a dataset, one row per unit in
document order (units under 5 characters, on which it fails, left out and kept): of each of its
clusters all but the first unit in document order are cut, and its seconds include its datasets
load and save. Baseline: a unit
(sentence or paragraph) goes when its normal form (NFKC, lowercase, punctuation, symbols, digits
and spaces deleted) occurred in an earlier document. Recall: the share of repeated boilerplate
characters (every occurrence of a template but its first) that were cut; loss: the share of
host-text characters cut (a document removed whole loses all of its characters); whitespace not
counted.
The stage runs in this process (collect, the barrier's tasks one after another, apply) on one
shard, so docs/s is one core's; units/s is the split's units (sentences or paragraphs, as the
baseline splits them) over the same seconds.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
import boilerplate_heldout  # noqa: E402
from bench_simhash import text_dedup_python  # noqa: E402

from curate.collected import CollectedTable, run_here  # noqa: E402
from curate.stages.base import ROW, SHARD  # noqa: E402
from curate.stages.simhash_dedup import SimhashDedup, SimhashDedupConfig  # noqa: E402
from curate.text import split_units  # noqa: E402

BUCKETS = boilerplate_heldout.SIMILARITY_BUCKETS
EDITS = ("none", *boilerplate_heldout.EDITS)


def run_curate(table: pa.Table, params: dict[str, Any]) -> tuple[list, set[int], float]:
    """(cut spans per document, documents removed whole, seconds) of simhash_dedup."""
    stage = SimhashDedup(SimhashDedupConfig(**params))
    table = table.append_column(ROW, pa.array(np.arange(table.num_rows), pa.int64()))
    t = time.perf_counter()
    collected = []
    for batch in table.to_batches(max_chunksize=1000):
        keys = stage.collect(batch)
        collected.append(keys.add_column(0, SHARD, pa.array(np.zeros(keys.num_rows, np.int32))))
    decision, _ = stage.barrier(CollectedTable(pa.concat_tables(collected)), run_here)
    spans = stage.decision_for_shard(decision, 0)
    removed: set[int] = set()
    for batch in table.to_batches(max_chunksize=1000):
        verdict = stage.apply(batch, spans)
        rows = batch.column(ROW).to_numpy()
        removed.update(rows[np.array(verdict.reason.is_valid())].tolist())
    seconds = time.perf_counter() - t
    cuts: list[list[tuple[int, int]]] = [[] for _ in range(table.num_rows)]
    if spans is not None:
        for row, a, b in zip(*(spans.column(c).to_pylist() for c in (ROW, "start", "end"))):
            cuts[row].append((a, b))
    return cuts, removed, seconds


def baseline_key(text: str) -> str:
    return boilerplate_heldout.baseline_key(text)


def run_baseline(table: pa.Table, level: str) -> tuple[list, set[int], float]:
    """Exact match of normalised units against earlier documents (document order)."""
    t = time.perf_counter()
    seen: set[str] = set()
    cuts = []
    for text in table.column("text").to_pylist():
        mine, keys = [], set()
        for a, b in split_units(text, level):
            key = baseline_key(text[a:b])
            if key and key in seen:
                mine.append((a, b))
            keys.add(key)
        seen |= keys
        cuts.append(mine)
    return cuts, set(), time.perf_counter() - t


TEXT_DEDUP = "text-dedup 0.4.0 SimHash"


TD_SHORT: dict[tuple[str, str], int] = {}  # (split, level) -> units too short for text-dedup
ROOTS = (
    "import json, pickle, sys; uf = pickle.load(open(sys.argv[1], 'rb')); "
    "print(json.dumps([uf.find(i) for i in range(int(sys.argv[2]))]))"
)


def run_text_dedup(table: pa.Table, level: str, tmp: Path) -> tuple[list, set[int], float]:
    """text-dedup's own SimHash (its defaults: 64 bits, 3-grams, Hamming <= 3, 4 blocks; one
    process) over the split's units, one row per unit in document order with its document and
    span (units under 5 characters, which it cannot fingerprint, are kept): of each of its
    clusters (the union-find it dumps with --debug) all but the first unit in document order are
    cut (its own filter keeps the cluster's root, not always the first).
    Seconds are the whole `python -m text_dedup.simhash` run (its datasets load and save
    included). Raises RuntimeError with the reason when text-dedup cannot run."""
    python = text_dedup_python()
    if python is None:
        raise RuntimeError("could not be installed")
    doc, start, end, units = [], [], [], []
    short = 0
    for row, text in enumerate(table.column("text").to_pylist()):
        for a, b in split_units(text, level):
            if len(text[a:b]) < 5:  # no character 3-grams for text-dedup: it fails on them
                short += 1
            else:
                doc.append(row)
                start.append(a)
                end.append(b)
                units.append(text[a:b])
    data = tmp / f"units-{level}.parquet"
    pq.write_table(pa.table({"text": units, "doc": doc, "start": start, "end": end}), data)
    out = tmp / f"td-out-{level}"
    env = dict(os.environ, HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1")
    env["HF_DATASETS_CACHE"] = str(tmp / "hf-cache")
    args = ["--path", "parquet", "--data_files", str(data), "--split", "train", "--column"]
    args += ["text", "--output", str(out), "--cache_dir", str(tmp / f"td-cache-{level}")]
    args += ["--num_proc", "1", "--ngram", "3", "--f", "64", "--bit_diff", "3", "--num_bucket", "4"]
    t = time.perf_counter()
    r = subprocess.run(
        [str(python), "-m", "text_dedup.simhash", *args, "--debug"],
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.perf_counter() - t
    if r.returncode != 0:
        raise RuntimeError(f"failed: `{(r.stderr or r.stdout).strip().splitlines()[-1][:120]}`")
    # its clusters (the union-find it dumps with --debug), each unit's root in row order
    roots = subprocess.run(
        [str(python), "-c", ROOTS, str(out / "uf.pkl"), str(len(units))],
        capture_output=True,
        text=True,
        env=env,
    )
    if roots.returncode != 0:
        raise RuntimeError(f"clusters unreadable: `{roots.stderr.strip().splitlines()[-1][:120]}`")
    cluster = json.loads(roots.stdout)
    TD_SHORT[(tmp.name, level)] = short
    seen: set[int] = set()
    cuts: list[list[tuple[int, int]]] = [[] for _ in range(table.num_rows)]
    for row, a, b, c in zip(doc, start, end, cluster):
        if c in seen:
            cuts[row].append((a, b))
        seen.add(c)
    return cuts, set(), seconds


def count_units(table: pa.Table, level: str) -> int:
    return sum(len(split_units(t, level)) for t in table.column("text").to_pylist())


def evaluate(table: pa.Table, cuts: list, removed: set[int]) -> dict[str, Any]:
    """Recall of repeated boilerplate (by language, similarity bucket, edit kind) and loss of
    host text (by language), in non-whitespace characters."""
    rep = {}  # (group) -> [cut, total]
    loss = {"en": [0, 0], "zh": [0, 0]}
    first = [0, 0]

    def add(key: tuple, cut: int, total: int) -> None:
        acc = rep.setdefault(key, [0, 0])
        acc[0] += cut
        acc[1] += total

    cols = [table.column(c).to_pylist() for c in ("text", "language", "bp_start", "bp_end")]
    cols += [table.column(c).to_pylist() for c in ("bp_edit", "bp_similarity")]
    for row, (text, lang, starts, ends, edits, sims) in enumerate(zip(*cols)):
        solid = np.frombuffer(np.array([not c.isspace() for c in text], bool).tobytes(), dtype=bool)
        cut = np.ones(len(text), bool) if row in removed else np.zeros(len(text), bool)
        for a, b in cuts[row]:
            cut[a:b] = True
        host = solid.copy()
        for a, b, edit, sim in zip(starts, ends, edits, sims):
            host[a:b] = False
            n, c = int(solid[a:b].sum()), int((solid[a:b] & cut[a:b]).sum())
            if sim < 0:
                first[0] += c
                first[1] += n
                continue
            bucket = next(f"{lo:.1f}-{hi:.1f}" for lo, hi in zip(BUCKETS, BUCKETS[1:]) if sim < hi)
            for key in (("all",), ("lang", lang), ("sim", bucket), ("edit", edit)):
                add(key, c, n)
            add(("lang-sim", lang, bucket), c, n)
        loss[lang][0] += int((host & cut).sum())
        loss[lang][1] += int(host.sum())
    return {
        "recall": {k: v[0] / max(v[1], 1) for k, v in rep.items()},
        "chars": {k: v[1] for k, v in rep.items()},
        "loss": {k: v[0] / max(v[1], 1) for k, v in loss.items()}
        | {"all": sum(v[0] for v in loss.values()) / max(sum(v[1] for v in loss.values()), 1)},
        "first_cut": first[0] / max(first[1], 1),
        "docs_removed": len(removed),
    }


# the tools of one run: the stage's default (method minhash), its method simhash (the previous
# default), SimHash at text-dedup's sizes (64 bits, 3-grams of words, Hamming <= 3, no slots
# masked: our implementation with its parameters) and the exact baseline
TOOLS = {
    "curate minhash (default)": {},
    "curate simhash": {"method": "simhash"},
    "SimHash, text-dedup's parameters": {"method": "simhash", "mask_slots": False},
}
SHORT = {
    "curate minhash (default)": "minhash",
    "curate simhash": "simhash",
    "SimHash, text-dedup's parameters": "text-dedup's parameters",
    TEXT_DEDUP: "text-dedup 0.4.0",
    "baseline": "baseline",
}


def measure(folder: Path, split: str, level: str, params: dict[str, Any]) -> dict[str, Any]:
    table = pq.read_table(folder / f"{split}.parquet")
    units = count_units(table, level)
    out: dict[str, Any] = {}
    runs: list[tuple[str, Any]] = [
        (name, functools.partial(run_curate, table, {"level": level, **params, **extra}))
        for name, extra in TOOLS.items()
    ]
    runs.append((TEXT_DEDUP, functools.partial(run_text_dedup, table, level, folder / split)))
    runs.append(("baseline", functools.partial(run_baseline, table, level)))
    (folder / split).mkdir(exist_ok=True)
    for name, fn in runs:
        try:
            cuts, removed, seconds = fn()
        except RuntimeError as e:  # text-dedup not installable or failed: say so in its row
            out[name] = {"error": str(e)}
            continue
        out[name] = evaluate(table, cuts, removed) | {
            "docs_s": table.num_rows / seconds,
            "units_s": units / seconds,
        }
    return out


def pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}"


def section(results: dict, level: str) -> list[str]:
    lines = [
        f"### {level} level",
        "",
        "| split | tool | recall % | recall en % | recall zh % | loss % | loss en % | "
        "loss zh % | first occurrences cut % | docs removed | docs/s | units/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for split in ("dev", "heldout"):
        for tool in results[(split, level)]:
            r = results[(split, level)][tool]
            if "error" in r:
                lines.append(f"| {split} | {tool} | {r['error']} |" + " |" * 9)
                continue
            rec = r["recall"]
            lines.append(
                f"| {split} | {tool} | {pct(rec[('all',)])} | {pct(rec[('lang', 'en')])} | "
                f"{pct(rec[('lang', 'zh')])} | {pct(r['loss']['all'], 2)} | "
                f"{pct(r['loss']['en'], 2)} | {pct(r['loss']['zh'], 2)} | "
                f"{pct(r['first_cut'])} | {r['docs_removed']} | "
                f"{r['docs_s']:,.0f} | {r['units_s']:,.0f} |"
            )
    buckets = [f"{lo:.1f}-{hi:.1f}" for lo, hi in zip(BUCKETS, BUCKETS[1:])]
    held, dev = results[("heldout", level)], results[("dev", level)]
    tools = [t for t in held if "error" not in held[t] and "error" not in dev[t]]
    lines += [
        "",
        "Recall % by similarity to the template's earlier occurrences (largest Jaccard of token "
        "bigrams), held-out split (dev in brackets):",
        "",
        "| similarity | lang | share of repeated chars | "
        + " | ".join(SHORT[t] for t in tools)
        + " |",
        "|---|---|---|" + "---|" * len(tools),
    ]
    total = held[tools[0]]["chars"][("all",)]
    for b in buckets:
        for lang in ("en", "zh"):
            key = ("lang-sim", lang, b)
            cells = [
                f"{pct(held[t]['recall'].get(key, 0))} ({pct(dev[t]['recall'].get(key, 0))})"
                for t in tools
            ]
            share = held[tools[0]]["chars"].get(key, 0) / max(total, 1)
            lines.append(f"| {b} | {lang} | {pct(share)} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Recall % by edit kind, held-out (dev in brackets):",
        "",
        "| edit | " + " | ".join(SHORT[t] for t in tools) + " |",
        "|---|" + "---|" * len(tools),
    ]
    for edit in EDITS:
        key = ("edit", edit)
        cells = [
            f"{pct(held[t]['recall'].get(key, 0))} ({pct(dev[t]['recall'].get(key, 0))})"
            for t in tools
        ]
        lines.append(f"| {edit} | " + " | ".join(cells) + " |")
    return lines + [""]


PARAMS: dict[str, Any] = {}  # the stage's defaults


def sample_effect(quick: bool) -> list[str]:
    """The stage on the bundled sample corpus (sentence level, alone, not after url/minhash dedup
    as in the demo), method simhash and minhash: what it cuts of the sample's injected site chrome
    (manifest/boilerplate.parquet) and of everything else."""
    files = sorted((ROOT / "sample_corpus").glob("dump=*/*.parquet"))
    if quick:
        files = [f for f in files if "2023-06" in str(f)]
    if not files:
        return []
    table = pa.concat_tables(pq.read_table(f, partitioning=None) for f in files)
    table = table.select(["id", "text", "dump", "date"])
    spans = pq.read_table(ROOT / "sample_corpus" / "manifest" / "boilerplate.parquet")
    at: dict[str, list[tuple[int, int]]] = {}
    for i, a, b in zip(*(spans.column(c).to_pylist() for c in ("id", "start", "end"))):
        at.setdefault(i, []).append((a, b))
    lines = [
        "",
        f"On the bundled sample ({table.num_rows:,} documents, sentence level, the stage alone; "
        "chrome: the injected site boilerplate listed in `sample_corpus/manifest/`, first "
        "occurrences included), slots masked:",
        "",
        "| method | units cut | chrome chars cut % | other chars cut % | docs removed | docs/s |",
        "|---|---|---|---|---|---|",
    ]
    for method in ("simhash", "minhash"):
        cuts, removed, seconds = run_curate(table, {"level": "sentence", "method": method})
        chrome, other = [0, 0], [0, 0]
        for row, (doc, text) in enumerate(zip(table["id"].to_pylist(), table["text"].to_pylist())):
            cut = np.zeros(len(text), bool)
            for a, b in cuts[row]:
                cut[a:b] = True
            if row in removed:
                cut[:] = True
            is_chrome = np.zeros(len(text), bool)
            for a, b in at.get(doc, []):
                is_chrome[a:b] = True
            chrome[0] += int((cut & is_chrome).sum())
            chrome[1] += int(is_chrome.sum())
            other[0] += int((cut & ~is_chrome).sum())
            other[1] += int((~is_chrome).sum())
        lines.append(
            f"| {method} | {sum(map(len, cuts)):,} | {pct(chrome[0] / chrome[1])} | "
            f"{pct(other[0] / other[1])} | {len(removed)} | {table.num_rows / seconds:,.0f} |"
        )
    return lines


def run(quick: bool = False) -> str:
    with tempfile.TemporaryDirectory(prefix="curate-bench-boilerplate-") as tmp:
        folder = Path(tmp)
        info = boilerplate_heldout.build(folder)
        levels = ("sentence",) if quick else ("sentence", "paragraph")
        results = {
            (split, level): measure(folder, split, level, PARAMS)
            for split in ("dev", "heldout")
            for level in levels
        }
    lines = [
        "## Boilerplate removal on a held-out set (`simhash_dedup` minhash / simhash vs exact "
        "normalised match)",
        "",
        " ".join((__doc__ or "").strip().split("\n\n")[1].split()),
        "",
        f"Set: `python benchmarks/boilerplate_heldout.py DIR`; dev {info['dev']['documents']:,} "
        f"documents with {info['dev']['occurrences']:,} boilerplate occurrences, held-out "
        f"{info['heldout']['documents']:,} with {info['heldout']['occurrences']:,}; "
        f"{len(boilerplate_heldout.DEV['en'])} English and {len(boilerplate_heldout.DEV['zh'])} "
        "Chinese templates per split. Stage parameters: the defaults (method minhash: Jaccard >= "
        "0.5 over token bigrams, CJK character bigrams, 20 bands x 3 rows, min_docs 4, "
        "max_per_doc 1.2; method simhash: Hamming <= 3 over token 3-grams, min_docs 2).",
        "",
    ]
    short = ", ".join(f"{split} {level} {n:,}" for (split, level), n in sorted(TD_SHORT.items()))
    if short:
        lines += [f"Units under 5 characters not given to text-dedup (kept): {short}.", ""]
    for level in levels:
        lines += section(results, level)
    lines += sample_effect(quick)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
