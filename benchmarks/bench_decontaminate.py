"""decontaminate on the sample corpus: speed, index memory, and agreement with brute force.

    python benchmarks/run.py --only decontaminate

Evaluation sets: the demo's (``pipelines/eval_sets/python_reference_qa.jsonl``, 79 items) and a
larger one made the same way from every paragraph of the Python Language Reference
(``pydoc_data.topics``, 79 topics whole). The stage reads the sample corpus's 24,000 documents in
batches of 2,000 (documents per CPU second, index build excluded); the index is measured by its
arrays' bytes. Brute force: the exact sets of n-gram strings (``curate.minhash.tokens`` joined by
spaces) for every document the stage removes and 2,000 seeded others.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))


def grams(text: str, n: int) -> set[str]:
    from curate.minhash import tokens

    toks = tokens(pa.array([text]))[0].as_py() or []
    return {" ".join(toks[i : i + n]) for i in range(max(len(toks) - n + 1, 1))} if toks else set()


def run(quick: bool) -> str:
    from pydoc_data.topics import topics

    from curate.stages.decontaminate import Decontaminate, DecontaminateConfig, read_eval_texts

    files = sorted((REPO / "sample_corpus").glob("dump=*/*.parquet"))
    docs = pq.read_table(files, columns=["text"], partitioning=None)["text"].combine_chunks()
    out = ["## Decontamination (`decontaminate`, 13-grams, on the sample corpus)", ""]
    out += [
        "| evaluation set | items | n-grams | index bytes | build s | docs/CPU s | removed | "
        "brute force agrees |",
        "|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        whole = Path(tmp) / "python_reference_full.jsonl"
        whole.write_text(
            "".join(json.dumps({"question": k, "answer": v}) + "\n" for k, v in topics.items())
        )
        sets = [REPO / "pipelines" / "eval_sets" / "python_reference_qa.jsonl", whole]
        for path in sets:
            config = DecontaminateConfig(eval_sets=[str(path)])
            stage = Decontaminate(config)
            t = time.process_time()
            table, owner, _ = stage.index()
            build = time.process_time() - t
            removed = np.zeros(len(docs), bool)
            t = time.process_time()
            for a in range(0, len(docs), 2000):
                v = stage.process(pa.record_batch({"text": docs[a : a + 2000]}))
                removed[a : a + 2000] = np.asarray(v.reason.is_valid())
            rate = len(docs) / (time.process_time() - t)
            texts = read_eval_texts(str(path), config.fields)
            eval_grams = set().union(*(grams(x, 13) for x in texts))
            rng = random.Random(0)
            check = sorted(set(np.flatnonzero(removed)) | set(rng.sample(range(len(docs)), 2000)))
            agree = sum(bool(grams(docs[i].as_py(), 13) & eval_grams) == removed[i] for i in check)
            items = len(path.read_text().splitlines())
            out.append(
                f"| {path.name} | {items} | {len(table):,} | {table.nbytes + owner.nbytes:,} | "
                f"{build:.2f} | {rate:,.0f} | {int(removed.sum())} | {agree:,} of {len(check):,} |"
            )
        out += [
            "",
            "`mode: span` (GPT-3's cut: 200 characters of margin, pieces under 200 characters "
            "dropped, more than 10 pieces removes the document):",
            "",
            "| evaluation set | docs/CPU s | docs cut | removed whole | spans | characters cut "
            "(spans + short pieces) | share of the cut docs' text | cut docs still "
            "holding an eval n-gram |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for path in sets:
            stage = Decontaminate(DecontaminateConfig(eval_sets=[str(path)], mode="span"))
            stage.index()
            texts = read_eval_texts(str(path), ["question", "answer"])
            eval_grams = set().union(*(grams(x, 13) for x in texts))
            stats: dict[str, float] = {}
            whole = flagged_chars = 0
            cut_texts = []
            t = time.process_time()
            for a in range(0, len(docs), 2000):
                v = stage.process(pa.record_batch({"text": docs[a : a + 2000]}))
                for k, val in v.stats.items():
                    stats[k] = stats.get(k, 0) + val
                whole += int(np.count_nonzero(np.asarray(v.reason.is_valid())))
                spans = np.asarray(v.batch["eval_spans"])
                flagged = np.flatnonzero(spans > 0)
                cut_texts += v.batch["text"].take(pa.array(flagged)).to_pylist()
                flagged_chars += sum(len(docs[a + i].as_py()) for i in flagged)
            rate = len(docs) / (time.process_time() - t)
            chars = sum(v for k, v in stats.items() if k.startswith("span_chars:"))
            chars += stats.get("short_piece_chars", 0)
            left = sum(bool(grams(x, 13) & eval_grams) for x in cut_texts)
            out.append(
                f"| {path.name} | {rate:,.0f} | {int(stats.get('docs_cut', 0))} | {whole} | "
                f"{int(sum(v for k, v in stats.items() if k.startswith('spans:')))} | "
                f"{int(chars):,} | {chars / max(flagged_chars, 1):.1%} | {left} |"
            )
    out += [
        "",
        "No peer row: datatrove's `NGramsDecontFilter` builds its index from lighteval tasks "
        "(lighteval is not installed here, and its tasks download their datasets).",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    print(run("--quick" in sys.argv))
