"""ARPA back-off language model files: write an estimated model, read a small one back.

The format (Doug Paul's ARPA format, as SRILM and KenLM read it): a ``\\data\\`` section with
``ngram N=count`` lines, then for each order a ``\\N-grams:`` section of lines
``log10(p) <TAB> w1 .. wN [<TAB> log10(backoff)]`` and a final ``\\end\\``. A missing backoff
means 0 (weight 1). ``<s>`` gets log10 probability -99 (it is never predicted), as lmplz writes.
KenLM ignores text before ``\\data\\``; we put a short provenance header there.

Lines are built column-wise with Arrow string kernels (the text of an n-gram is its prefix's
text, a space and its last word) and written in chunks straight from the Arrow buffers: no
Python string per line, and only the text of one order is held at a time.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.lm.kneser_ney import BOS, NGramModel

LOG_ZERO = -99.0  # lmplz's log10 probability for <s>
CHUNK = 500_000


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")  # type: ignore[return-value]
    return open(path, encoding="utf-8")


def write_arpa(
    model: NGramModel, vocab: list[str], path: str | Path, header: list[str] | None = None
) -> Path:
    """Write ``model`` (word ids index ``vocab``) as ARPA; ``.gz`` paths are gzip-compressed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    words = pa.array(vocab, pa.string())
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(tmp, "wb") as f:
        for line in header or []:
            f.write(f"# {line}\n".encode())
        f.write(b"\n\\data\\\n")
        for n, o in enumerate(model.orders, start=1):
            f.write(f"ngram {n}={len(o)}\n".encode())
        previous: pa.Array | None = None  # text of every n-gram of the order below
        top = len(model.orders)
        for n, o in enumerate(model.orders, start=1):
            f.write(f"\n\\{n}-grams:\n".encode())
            texts = []
            for start in range(0, len(o), CHUNK):
                part = slice(start, start + CHUNK)
                text = pc.take(words, pa.array(o.word[part]))
                if previous is not None:
                    prefix = pc.take(previous, pa.array(o.context[part]))
                    text = pc.binary_join_element_wise(prefix, text, " ")
                with np.errstate(divide="ignore"):
                    logp = np.round(np.log10(o.prob[part].astype(np.float64)), 6)
                if n == 1:
                    logp = np.where(o.word[part] == BOS, LOG_ZERO, logp)
                columns = [pc.cast(pa.array(logp), pa.string()), text]
                if n < top:
                    # no backoff column for n-grams that are never a context (weight 1)
                    backoff = o.backoff[part].astype(np.float64)
                    logb = pa.array(np.round(np.log10(backoff), 6), mask=backoff == 1.0)
                    columns.append(pc.cast(logb, pa.string()))
                lines = pc.binary_join_element_wise(*columns, "\t", null_handling="skip")
                f.write(_concatenated(pc.binary_join_element_wise(lines, "\n", "")))
                if n < top:
                    texts.append(text)
            previous = pa.concat_arrays(texts) if texts else None
        f.write(b"\n\\end\\\n")
    tmp.replace(path)
    return path


def _concatenated(strings: pa.Array) -> bytes:
    """The UTF-8 bytes of all values of a string array, back to back (its data buffer)."""
    offsets = np.frombuffer(
        strings.buffers()[1], dtype=np.int32, count=len(strings) + 1, offset=strings.offset * 4
    )
    return strings.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]]


def read_arpa(path: str | Path) -> list[dict[tuple[str, ...], tuple[float, float]]]:
    """Small ARPA files into ``[{words: (log10 p, log10 backoff)} per order]``."""
    orders: list[dict[tuple[str, ...], tuple[float, float]]] = []
    current: dict[tuple[str, ...], tuple[float, float]] | None = None
    with _open_text(Path(path)) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith("\\") and line.endswith("-grams:"):
                current = {}
                orders.append(current)
            elif line == "\\end\\":
                current = None
            elif current is not None and line:
                parts = line.split("\t")
                backoff = float(parts[2]) if len(parts) > 2 else 0.0
                current[tuple(parts[1].split(" "))] = (float(parts[0]), backoff)
    return orders
