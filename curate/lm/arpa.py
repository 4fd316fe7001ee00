"""ARPA back-off language model files: write an estimated model, read a small one back.

The format (Doug Paul's ARPA format, as SRILM and KenLM read it): a ``\\data\\`` section with
``ngram N=count`` lines, then for each order a ``\\N-grams:`` section of lines
``log10(p) <TAB> w1 .. wN [<TAB> log10(backoff)]`` and a final ``\\end\\``. A missing backoff
means 0 (weight 1). ``<s>`` gets log10 probability -99 (it is never predicted), as lmplz writes.
KenLM ignores text before ``\\data\\``; we put a short provenance header there.

Lines are built column-wise with Arrow string kernels (the text of an n-gram is its prefix's
text, a space and its last word) and written in chunks straight from the Arrow buffers: no
Python string per line. The orders' arrays are only read by slices, so the same writer serves
the in-memory model and ``curate.lm.external``'s model on disk, holding one chunk's text (and
its contexts' texts) at a time.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.lm.kneser_ney import BOS, NGramModel

if TYPE_CHECKING:
    from curate.lm.external import DiskModel

LOG_ZERO = -99.0  # lmplz's log10 probability for <s>
CHUNK = 500_000


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")  # type: ignore[return-value]
    return open(path, encoding="utf-8")


def write_arpa(
    model: NGramModel | DiskModel,
    vocab: list[str],
    path: str | Path,
    header: list[str] | None = None,
    chunk: int = CHUNK,
) -> Path:
    """Write ``model`` (word ids index ``vocab``) as ARPA, ``chunk`` lines at a time (about 300
    bytes each while built); ``.gz`` paths are gzip-compressed."""
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
        top = len(model.orders)
        for n, o in enumerate(model.orders, start=1):
            f.write(f"\n\\{n}-grams:\n".encode())
            for start in range(0, len(o), chunk):
                part = slice(start, start + chunk)
                text = _texts(model.orders, words, n - 1, start, min(start + chunk, len(o)))
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
        f.write(b"\n\\end\\\n")
    tmp.replace(path)
    return path


def _texts(orders: list, words: pa.Array, n: int, lo: int, hi: int) -> pa.Array:
    """The text of n-grams [lo, hi) of order n + 1: its context's text, a space, its word. The
    contexts of a range are ascending, so each order below is a contiguous range too."""
    o = orders[n]
    text = pc.take(words, pa.array(o.word[lo:hi]))
    if n == 0 or hi <= lo:
        return text
    context = o.context[lo:hi]
    first = int(context[0])
    prefix = _texts(orders, words, n - 1, first, int(context[-1]) + 1)
    return pc.binary_join_element_wise(pc.take(prefix, pa.array(context - first)), text, " ")


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
