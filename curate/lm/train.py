"""Train a perplexity model the CCNet way: normalise, SentencePiece, 5-gram modified Kneser-Ney.

CCNet (Wenzek et al., LREC 2020) trains, per language, a SentencePiece model (vocabulary 65,536)
and a 5-gram KenLM model (``lmplz -o 5 --discount_fallback``) on Wikipedia, both on normalised
text. ``train_model`` does the same on any clean reference text:

1. read documents (Parquet ``text`` column, optionally filtered on ``language``/``domain``
   columns, or plain ``.txt`` files) and normalise them line by line (``curate.lm.normalize``);
2. train SentencePiece on those lines, or reuse a given model, or split on whitespace;
3. estimate the n-gram model with ``lmplz`` when it is on PATH, else with
   ``curate.lm.kneser_ney`` (the same estimator, in numpy), and write ARPA.

The SentencePiece model is saved beside the ARPA file as ``<stem>.sp.model``, which is where
``perplexity_filter`` looks for it.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.errors import InputError
from curate.lm.arpa import write_arpa
from curate.lm.kneser_ney import SPECIALS, estimate
from curate.lm.normalize import normalize_lines
from curate.lm.tokenizer import Tokenizer, train_sentencepiece

MODEL_SUFFIXES = (".arpa.gz", ".arpa", ".binary", ".bin", ".klm")


def sentencepiece_path(model: str | Path) -> Path:
    """Where the SentencePiece model of a KenLM model lives: ``models/en.arpa`` ->
    ``models/en.sp.model``."""
    model = Path(model)
    name = model.name
    for suffix in MODEL_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return model.with_name(f"{name}.sp.model")


@dataclass
class TrainResult:
    arpa: Path
    sentencepiece: Path | None
    estimator: str
    documents: int
    lines: int
    tokens: int
    vocabulary: int
    ngrams: list[int]
    discounts: list[tuple[float, float, float]]
    seconds: dict[str, float]


def read_texts(
    inputs: list[str | Path],
    language: str | None = None,
    domain: str | None = None,
    text_column: str = "text",
) -> Iterator[pa.Array]:
    """Text arrays from Parquet files (filtered on language/domain when those columns exist)
    and .txt files (one array per file), from files or directories."""
    files: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            files += sorted(
                f for f in p.rglob("*") if f.suffix in (".parquet", ".txt") and f.is_file()
            )
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or directory")
    if not files:
        raise InputError(f"no .parquet or .txt files in {', '.join(map(str, inputs))}")
    for f in files:
        if f.suffix == ".txt":
            yield pa.array([f.read_text(encoding="utf-8", errors="replace")], pa.string())
            continue
        table = pq.read_table(f)
        if text_column not in table.column_names:
            raise InputError(f"{f}: no '{text_column}' column")
        for name, value in (("language", language), ("domain", domain)):
            if value is not None and name in table.column_names:
                table = table.filter(pc.equal(table[name], value))
        yield table[text_column].combine_chunks()


def train_model(
    inputs: list[str | Path],
    out: str | Path,
    language: str = "en",
    domain: str | None = None,
    order: int = 5,  # CCNet
    sentencepiece: int | str | None = 65536,  # CCNet vocabulary; a path reuses a model
    estimator: str = "auto",
    text_column: str = "text",
) -> TrainResult:
    """Train SentencePiece + an n-gram model on ``inputs``; write ``out`` (ARPA, .gz allowed)."""
    out = Path(out)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    documents = 0
    chunks = []
    for text in read_texts(inputs, language, domain, text_column):
        documents += len(text) - text.null_count
        lines, _ = normalize_lines(text)
        chunks.append(lines)
    n_lines = sum(len(c) for c in chunks)
    if n_lines == 0:
        raise InputError(f"no text for language={language} domain={domain} in the input")
    seconds["normalize"] = time.perf_counter() - t

    t = time.perf_counter()
    sp_path: Path | None = None
    if isinstance(sentencepiece, int):
        out.parent.mkdir(parents=True, exist_ok=True)
        prefix = sentencepiece_path(out).with_suffix("")  # models/en.sp
        sp_path = train_sentencepiece(
            _python_lines(chunks), prefix, vocab_size=sentencepiece, language=language
        )
    elif sentencepiece:
        sp_path = Path(sentencepiece)
        target = sentencepiece_path(out)
        if sp_path.resolve() != target.resolve():
            shutil.copyfile(sp_path, target)
        sp_path = target
    seconds["train_sentencepiece"] = time.perf_counter() - t

    tokenizer = Tokenizer(sp_path)
    header = [
        f"curate lm train: language={language} domain={domain or '*'} order={order}",
        f"tokenizer: {tokenizer.describe()}",
    ]
    if estimator == "lmplz" and not shutil.which("lmplz"):
        raise InputError("--estimator lmplz: lmplz is not on PATH (KenLM's build, not the pip one)")
    use_lmplz = estimator == "lmplz" or (estimator == "auto" and shutil.which("lmplz"))
    token_chunks = _tokenized(tokenizer, chunks)  # frees each normalised chunk once tokenised
    if use_lmplz:
        t = time.perf_counter()
        tokens = _run_lmplz(token_chunks, out, order)
        seconds["tokenize+lmplz"] = time.perf_counter() - t
        result_ngrams = _arpa_counts(out)
        discounts: list[tuple[float, float, float]] = []
        vocab_size = result_ngrams[0] if result_ngrams else 0
        name = "lmplz"
    else:
        t = time.perf_counter()
        ids, lengths, vocab = _encode(token_chunks)
        seconds["tokenize"] = time.perf_counter() - t
        t = time.perf_counter()
        model = estimate(ids, lengths, len(vocab), order)
        del ids, lengths
        seconds["estimate"] = time.perf_counter() - t
        t = time.perf_counter()
        discounts = model.discounts
        header.append(
            "discounts: " + "; ".join(" ".join(f"{d:.4f}" for d in ds) for ds in discounts)
        )
        write_arpa(model, vocab, out, header)
        result_ngrams = [len(o) for o in model.orders]
        vocab_size = len(model.orders[0])
        tokens = model.tokens
        name = "curate"
        seconds["write"] = time.perf_counter() - t
    return TrainResult(
        out,
        sp_path,
        name,
        documents,
        n_lines,
        tokens,
        vocab_size,
        result_ngrams,
        discounts,
        {k: round(v, 3) for k, v in seconds.items()},
    )


LINES_PER_CHUNK = 100_000


def _python_lines(chunks: list[pa.Array | None]) -> Iterator[str]:
    for chunk in chunks:
        for start in range(0, len(chunk), LINES_PER_CHUNK):
            yield from chunk.slice(start, LINES_PER_CHUNK).to_pylist()


def _tokenized(tokenizer: Tokenizer, chunks: list[pa.Array | None]) -> Iterator[pa.Array]:
    """Space-joined token lines, LINES_PER_CHUNK at a time; drops each normalised chunk after."""
    for i, chunk in enumerate(chunks):
        for start in range(0, len(chunk), LINES_PER_CHUNK):
            part = chunk.slice(start, LINES_PER_CHUNK)
            yield pa.array(tokenizer.tokenize(part), pa.string())
        chunks[i] = None


def _encode(token_chunks: Iterator[pa.Array]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Word ids (in order of first appearance, after the specials) and sentence lengths."""
    index: dict[str, int] = {}
    ids, lengths = [], []
    for token_lines in token_chunks:
        split = pc.split_pattern(token_lines, " ")
        lengths.append(pc.list_value_length(split).to_numpy().astype(np.int64))
        encoded = pc.dictionary_encode(pc.list_flatten(split))
        local = np.fromiter(
            (index.setdefault(w, len(index)) for w in encoded.dictionary.to_pylist()),
            dtype=np.int32,
        )
        ids.append(local[encoded.indices.to_numpy()] + len(SPECIALS))
    vocab = [*SPECIALS, *index]
    return np.concatenate(ids), np.concatenate(lengths), vocab


def _arpa_counts(path: Path) -> list[int]:
    """The ``ngram N=count`` lines of an ARPA file's header."""
    counts = []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("ngram "):
                counts.append(int(line.split("=")[1]))
            elif line.startswith("\\1-grams:"):
                break
    return counts


def _run_lmplz(token_chunks: Iterator[pa.Array], out: Path, order: int) -> int:
    """Feed the token lines to ``lmplz -o N --discount_fallback`` (CCNet's flags) through a
    temporary file; returns the number of tokens (``</s>`` included, as curate counts)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tokens = 0
    with tempfile.TemporaryFile() as text:
        for token_lines in token_chunks:
            words = pc.add(pc.count_substring(token_lines, " "), 2)  # + </s>
            tokens += int(pc.sum(words).as_py() or 0)
            text.write(("\n".join(token_lines.to_pylist()) + "\n").encode("utf-8"))
        text.seek(0)
        tmp = out.with_name(f".{out.name}.tmp")
        opener = gzip.open if out.suffix == ".gz" else open
        with opener(tmp, "wb") as f:
            proc = subprocess.Popen(
                ["lmplz", "-o", str(order), "--discount_fallback"],
                stdin=text,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            assert proc.stdout is not None
            shutil.copyfileobj(proc.stdout, f, 1 << 20)
            stderr = proc.stderr.read() if proc.stderr else b""
            proc.wait()
    if proc.returncode:
        tmp.unlink(missing_ok=True)
        raise InputError(f"lmplz failed: {stderr.decode(errors='replace')[-2000:]}")
    tmp.replace(out)
    return tokens
