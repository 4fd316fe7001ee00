"""quality_filter's Chinese rules (curate/cjk_rules.py) on the sample corpus and on man pages.

    python benchmarks/run.py --only cjk_rules

Two measurements, both with the deepseek pipeline's settings (``rule_sets: {zh: [cjk_repetition,
cjk_quality]}``, thresholds from FineWeb-2's ``cmn_Hani`` config, not tuned here but for
``min_cjk_ratio``, set below the 1st percentile of the sample's clean zh pages):

* the sample corpus's Chinese pages: removal of clean pages per domain and of each kind of
  injected low-quality page (``manifest/truth.parquet`` -> ``lowq_kind``), with the reasons;
* Debian's zh_CN man pages (300 pages of section 1, macros dropped; the sample corpus reads the
  same package, so this is not held out), as they are and made into four kinds of garbage;
* held out (``benchmarks/cjk_heldout.py``): Chinese the sample does not read (gettext catalogs,
  Vim's Chinese tutor and messages), files split whole into dev and held-out, clean documents
  (loss of good) and six kinds of garbage made from each split's own documents (removal of bad:
  truncations, repeated lines, menus, number tables, GBK and Latin-1 mojibake), both splits.

Speed: documents per CPU second of the stage on the sample's Chinese pages (one batch).
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))


def stage():
    from curate.stages.quality_filter import QualityFilter, QualityFilterConfig

    return QualityFilter(QualityFilterConfig(languages=["zh"]))


def sample_pages() -> pa.Table:
    files = sorted((REPO / "sample_corpus").glob("dump=*/*.parquet"))
    docs = pq.read_table(files, columns=["id", "text", "language", "domain"], partitioning=None)
    truth = pq.read_table(REPO / "sample_corpus" / "manifest" / "truth.parquet")
    docs = docs.join(truth.select(["id", "lowq_kind"]), "id")
    return docs.filter(pc.equal(docs["language"], "zh")).combine_chunks()


def heldout_rows(s) -> list[str]:
    """The rules on benchmarks/cjk_heldout.py's dev and held-out splits, side by side."""
    import cjk_heldout

    splits = cjk_heldout.build()
    rates: dict[str, dict[str, str]] = {}
    for split, table in splits.items():
        reasons = s.process(table.to_batches(max_chunksize=table.num_rows)[0]).reason.to_pylist()
        groups: dict[str, list] = {}
        for kind, source, why in zip(
            table["kind"].to_pylist(), table["source"].to_pylist(), reasons
        ):
            groups.setdefault(f"clean ({source})" if kind == "clean" else kind, []).append(why)
            if kind == "clean":
                groups.setdefault("clean (all)", []).append(why)
        for name, got in groups.items():
            gone = [r for r in got if r]
            top = ", ".join(f"{r} {n}" for r, n in Counter(gone).most_common(2))
            rates.setdefault(name, {})[split] = f"{100 * len(gone) / len(got):.1f}% of {len(got)}"
            rates[name][split + " top"] = top
    out = [
        "",
        "Held out (`benchmarks/cjk_heldout.py`: Chinese the sample does not read, gettext "
        "catalogs and Vim's Chinese tutor, files split whole into dev and held-out; garbage made "
        "from each split's own documents). Clean rows: loss of good; the other rows: removal of "
        "bad. Thresholds not tuned on either split.",
        "",
        "| documents | dev removed | held-out removed | held-out top reasons |",
        "|---|---|---|---|",
    ]
    order = ["clean (all)", "clean (catalog)", "clean (tutor)", "clean (man)", *cjk_heldout.KINDS]
    for name in [n for n in order if n in rates]:
        r = rates[name]
        out.append(
            f"| {name} | {r.get('dev', '-')} | {r.get('heldout', '-')} | "
            f"{r.get('heldout top', '')} |"
        )
    return out


def run(quick: bool) -> str:
    from tests.man_pages import read_pages
    from tests.test_cjk_rules import keyword_spam, numbers, prose, repeated_lines, shuffled_chars

    out = ["## Chinese heuristic rules (`quality_filter` with `rule_sets: {zh: [...]}`)", ""]
    docs = sample_pages()
    s = stage()
    batch = docs.to_batches()[0]
    t = time.process_time()
    reasons = s.process(batch).reason.to_pylist()
    rate = batch.num_rows / (time.process_time() - t)
    kinds = docs["lowq_kind"].to_pylist()
    domains = docs["domain"].to_pylist()
    groups: dict[str, list] = {}
    for kind, dom, why in zip(kinds, domains, reasons):
        groups.setdefault(f"clean {dom}" if kind is None else kind, []).append(why)
    out += [
        f"Sample corpus, {docs.num_rows:,} Chinese pages ({rate:,.0f} docs/CPU s):",
        "",
        "| pages | count | removed | top reasons |",
        "|---|---|---|---|",
    ]
    for name in sorted(groups, key=lambda g: (not g.startswith("clean"), g)):
        got = groups[name]
        gone = [r for r in got if r]
        top = ", ".join(f"{r} {n}" for r, n in Counter(gone).most_common(3))
        out.append(f"| {name} | {len(got):,} | {100 * len(gone) / len(got):.1f}% | {top} |")
    pages = [prose(p) for p in read_pages("zh_CN", 200, limit=300)]
    pages = [p for p in pages if len(p) >= 200]
    rng = random.Random(0)
    made = {
        "man pages as they are": pages,
        "characters of each line shuffled": [shuffled_chars(p, rng) for p in pages],
        "three lines repeated": [repeated_lines(p, rng) for p in pages],
        "keyword spam": [keyword_spam(p, rng) for p in pages],
        "number tables": [numbers(p, rng) for p in pages],
    }
    out += ["", f"zh_CN man pages ({len(pages)}) and garbage made from them:", ""]
    out += ["| pages | removed | top reasons |", "|---|---|---|"]
    for name, texts in made.items():
        n = len(texts)
        b = pa.record_batch(
            {"id": [str(i) for i in range(n)], "text": texts, "language": ["zh"] * n}
        )
        gone = [r for r in s.process(b).reason.to_pylist() if r]
        top = ", ".join(f"{r} {c}" for r, c in Counter(gone).most_common(3))
        out.append(f"| {name} | {100 * len(gone) / n:.1f}% | {top} |")
    out += heldout_rows(s)
    out += [
        "",
        "No peer row: datatrove ships no Chinese rule set (FineWeb-2 passes its per-language "
        "thresholds to datatrove's filters over words of a word tokenizer); the rules here "
        "count characters.",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    print(run("--quick" in sys.argv))
