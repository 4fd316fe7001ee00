"""Train a perplexity model the CCNet way: normalise, SentencePiece, 5-gram modified Kneser-Ney.

CCNet (Wenzek et al., LREC 2020) trains, per language, a SentencePiece model (vocabulary 65,536)
and a 5-gram KenLM model (``lmplz -o 5 --discount_fallback``) on Wikipedia, both on normalised
text. ``train_model`` does the same on any clean reference text:

1. read documents (Parquet ``text`` column, optionally filtered on ``language``/``domain``
   columns, or plain ``.txt`` files) and normalise them line by line (``curate.lm.normalize``);
2. train SentencePiece on those lines, or reuse a given model, or split on whitespace;
3. estimate the n-gram model with ``lmplz`` when it is on PATH, else with
   ``curate.lm.external`` (the same estimator, in numpy, in bounded memory), and write ARPA;
4. unless ``negatives=False``: make negatives of the same lines (``curate.lm.negatives``:
   truncations, shuffles, joined headings, number tables, typos) and estimate a second model of them
   the same way, ``<stem>.negatives.arpa``: perplexity_filter's ``negatives_llr`` contrasts the
   two.

Only the vocabulary grows in memory with the corpus: lines, tokens and n-grams go through files
in a temporary directory beside the output (``temp_dir``), removed at the end.

The SentencePiece model is saved beside the ARPA file as ``<stem>.sp.model`` and the negatives
model as ``<stem>.negatives.arpa`` (``.arpa.gz`` for a ``.gz`` output), which is where
``perplexity_filter`` looks for them.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.errors import CurateError, InputError
from curate.lm.arpa import CHUNK as ARPA_CHUNK
from curate.lm.arpa import write_arpa
from curate.lm.external import Column, DiskModel, estimate_external
from curate.lm.kneser_ney import SPECIALS, NGramModel, estimate
from curate.lm.negatives import negatives as make_negatives
from curate.lm.normalize import normalize_lines
from curate.lm.tokenizer import Tokenizer, train_sentencepiece

MODEL_SUFFIXES = (".arpa.gz", ".arpa", ".binary", ".bin", ".klm")
DEFAULT_MEMORY = 1 << 30  # bytes for the estimator (curate lm train --memory)
# SentencePiece's unigram trainer peaked at 13-19 bytes per character of its input here (10 MB
# of man-page lines: +130 MB; 108 MB: 2.2 GB); its sample of lines is sized to the budget
SENTENCEPIECE_BYTES_PER_CHAR = 24
SENTENCEPIECE_MAX_LINES = 2_000_000


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


def negatives_path(model: str | Path) -> Path:
    """Where the negatives model of a KenLM model lives: ``models/en.arpa`` ->
    ``models/en.negatives.arpa`` (``.arpa.gz`` -> ``.negatives.arpa.gz``)."""
    model = Path(model)
    sp = sentencepiece_path(model).name.removesuffix(".sp.model")
    suffix = ".arpa.gz" if model.name.endswith(".gz") else ".arpa"
    return model.with_name(f"{sp}.negatives{suffix}")


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
    sentencepiece_lines: int | None = None  # lines SentencePiece trained on (a sample)
    negatives: Path | None = None  # the model of machine-made negatives (curate.lm.negatives)
    negatives_ngrams: list[int] | None = None


def read_texts(
    inputs: list[str | Path],
    language: str | None = None,
    domain: str | None = None,
    text_column: str = "text",
) -> Iterator[tuple[Path, pa.Array]]:
    """(file, text array) from Parquet files (a row group's batch at a time, filtered on
    language/domain when those columns exist) and .txt files (blocks of whole lines), from files
    or directories."""
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
            yield from ((f, block) for block in _text_blocks(f))
            continue
        try:
            parquet = pq.ParquetFile(f)
            names = parquet.schema_arrow.names
            if text_column not in names:
                raise InputError(f"{f}: no '{text_column}' column")
            filters = [(n, v) for n, v in (("language", language), ("domain", domain)) if v]
            filters = [(n, v) for n, v in filters if n in names]
            columns = [text_column, *(n for n, _ in filters)]
            for batch in parquet.iter_batches(batch_size=TEXT_BATCH, columns=columns):
                for name, value in filters:
                    batch = batch.filter(pc.equal(batch[name], value))
                yield f, batch[text_column]
        except (pa.ArrowException, OSError) as e:
            raise InputError(f"{f}: cannot read Parquet: {e}") from e


TEXT_BATCH = 2_000  # documents per Parquet batch
TEXT_BLOCK = 1 << 22  # characters per block of a .txt file


def _text_blocks(path: Path) -> Iterator[pa.Array]:
    """A .txt file as one document, read in blocks that end at a line break."""
    carry = ""
    with open(path, encoding="utf-8", errors="replace") as f:
        while block := f.read(TEXT_BLOCK):
            block = carry + block
            cut = block.rfind("\n") + 1
            carry = block[cut:]
            if cut:
                yield pa.array([block[:cut]], pa.string())
    yield pa.array([carry], pa.string())


def train_model(
    inputs: list[str | Path],
    out: str | Path,
    language: str = "en",
    domain: str | None = None,
    order: int = 5,  # CCNet
    sentencepiece: int | str | None = 65536,  # CCNet vocabulary; a path reuses a model
    estimator: str = "auto",
    text_column: str = "text",
    memory: int = DEFAULT_MEMORY,
    temp_dir: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    negatives: bool = True,
) -> TrainResult:
    """Train SentencePiece + an n-gram model on ``inputs``; write ``out`` (ARPA, .gz allowed).

    Nothing grows with the corpus in memory except the vocabulary: normalised lines are spooled
    to ``temp_dir`` (default: beside ``out``), tokens are encoded to files there, and the
    estimator works within ``memory`` bytes (curate.lm.external). ``estimator``: ``auto``
    (lmplz when on PATH, else ``curate``), ``curate``, ``curate-in-memory`` (the reference,
    linear in memory) or ``lmplz``. ``progress`` gets a line after each phase."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if estimator == "lmplz" and not shutil.which("lmplz"):
        raise InputError("--estimator lmplz: lmplz is not on PATH (KenLM's build, not the pip one)")
    parent = Path(temp_dir or out.parent)
    try:
        scratch = tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=parent)
    except OSError as e:
        raise CurateError(f"temporary directory in {parent}: {e.strerror}") from None
    with scratch as tmp:
        work = Path(tmp)
        try:
            return _train(
                inputs, out, work, language, domain, order, sentencepiece, estimator,
                text_column, memory, progress or (lambda _: None), negatives,
            )  # fmt: skip
        except OSError as e:  # e.g. the disk holding the temporary files or --out is full
            where = e.filename or work
            raise CurateError(f"curate lm train: {where}: {e.strerror or e}") from None


def _train(
    inputs: list[str | Path],
    out: Path,
    work: Path,
    language: str,
    domain: str | None,
    order: int,
    sentencepiece: int | str | None,
    estimator: str,
    text_column: str,
    memory: int,
    say: Callable[[str], None],
    negatives: bool,
) -> TrainResult:
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    spool = work / "lines.arrows"
    texts = read_texts(inputs, language, domain, text_column)
    documents, n_lines, n_chars = _spool_lines(texts, spool)
    if n_lines == 0:
        raise InputError(f"no text for language={language} domain={domain} in the input")
    pa.default_memory_pool().release_unused()  # mimalloc keeps freed pages otherwise
    seconds["normalize"] = time.perf_counter() - t
    docs = f"{documents:,} document{'s' * (documents != 1)}"
    say(f"normalised {docs} into {n_lines:,} lines ({seconds['normalize']:.1f} s)")

    t = time.perf_counter()
    sp_path: Path | None = None
    sp_lines = None
    if isinstance(sentencepiece, int):
        prefix = sentencepiece_path(out).with_suffix("")  # models/en.sp
        # SentencePiece holds its sample of lines; size the sample to the budget
        sample = max(1000, memory // SENTENCEPIECE_BYTES_PER_CHAR * n_lines // n_chars)
        sample = SENTENCEPIECE_MAX_LINES if sample >= n_lines else sample
        sp_lines = min(n_lines, sample)
        sp_path = train_sentencepiece(
            _python_lines(spool),
            prefix,
            vocab_size=sentencepiece,
            language=language,
            max_sentences=sample,
        )
    elif sentencepiece:
        sp_path = Path(sentencepiece)
        target = sentencepiece_path(out)
        if sp_path.resolve() != target.resolve():
            shutil.copyfile(sp_path, target)
        sp_path = target
    seconds["train_sentencepiece"] = time.perf_counter() - t
    if sp_lines is not None:
        say(
            f"SentencePiece ({sentencepiece:,} pieces) trained on {sp_lines:,} of {n_lines:,} "
            f"lines ({seconds['train_sentencepiece']:.1f} s)"
        )

    tokenizer = Tokenizer(sp_path)
    header = [
        f"curate lm train: language={language} domain={domain or '*'} order={order}",
        f"tokenizer: {tokenizer.describe()}",
    ]
    negatives_out = negatives_path(out) if negatives else None
    if negatives_out is not None:
        t = time.perf_counter()
        n_negatives = _spool_negatives(spool, work / "negatives.arrows")
        seconds["negatives"] = time.perf_counter() - t
        say(
            f"made {n_negatives:,} negative lines from the reference ({seconds['negatives']:.1f} s)"
        )
    model = _estimate(
        _tokenized(tokenizer, spool), out, order, estimator, work, memory, header, seconds, say
    )
    spool.unlink()
    negatives_model = None
    if negatives_out is not None:
        header = [*header[:2], "negatives: curate.lm.negatives of the reference text"]
        lines = _tokenized(tokenizer, work / "negatives.arrows")
        negatives_model = _estimate(
            lines, negatives_out, order, estimator, work, memory, header, seconds, say, "negatives"
        )
    return TrainResult(
        out,
        sp_path,
        model["estimator"],
        documents,
        n_lines,
        model["tokens"],
        model["vocabulary"],
        model["ngrams"],
        model["discounts"],
        {k: round(v, 3) for k, v in seconds.items()},
        sp_lines,
        negatives_out,
        negatives_model["ngrams"] if negatives_model else None,
    )


def _estimate(
    token_lines: Iterator[pa.Array],
    out: Path,
    order: int,
    estimator: str,
    work: Path,
    memory: int,
    header: list[str],
    seconds: dict[str, float],
    say: Callable[[str], None],
    what: str = "",
) -> dict[str, Any]:
    """Estimate an n-gram model of ``token_lines`` and write it to ``out`` as ARPA."""
    tag = f"{what} " if what else ""
    use_lmplz = estimator == "lmplz" or (estimator == "auto" and shutil.which("lmplz"))
    if use_lmplz:
        t = time.perf_counter()
        tokens = _run_lmplz(token_lines, out, order, work, memory)
        seconds[f"{tag}tokenize+lmplz".replace(" ", "_")] = time.perf_counter() - t
        say(f"lmplz estimated {tag}{tokens:,} tokens ({time.perf_counter() - t:.1f} s)")
        ngrams = _arpa_counts(out)
        vocab = ngrams[0] if ngrams else 0
        return {"estimator": "lmplz", "tokens": tokens, "vocabulary": vocab, "ngrams": ngrams,
                "discounts": []}  # fmt: skip
    key = f"{what}_" if what else ""
    t = time.perf_counter()
    ids, lengths = Column(work / "ids.i32", np.int32), Column(work / "lengths.i64", np.int64)
    vocab = _encode(token_lines, ids, lengths)
    pa.default_memory_pool().release_unused()
    seconds[f"{key}tokenize"] = time.perf_counter() - t
    tokens_in = len(ids) + len(lengths)  # </s> included, as the summary counts
    say(
        f"encoded {tag}{tokens_in:,} tokens, vocabulary {len(vocab):,} "
        f"({seconds[f'{key}tokenize']:.1f} s)"
    )
    t = time.perf_counter()
    model: NGramModel | DiskModel
    if estimator == "curate-in-memory":
        model = estimate(ids[:], lengths[:], len(vocab), order)
    else:
        model = estimate_external(ids, lengths, len(vocab), order, work, memory)
    ids.remove()
    lengths.remove()
    seconds[f"{key}estimate"] = time.perf_counter() - t
    budget = "in memory" if estimator == "curate-in-memory" else f"--memory {memory >> 20}M"
    say(
        f"estimated {tag}{sum(len(o) for o in model.orders):,} n-grams of orders 1-{order}, "
        f"{budget} ({seconds[f'{key}estimate']:.1f} s)"
    )
    t = time.perf_counter()
    header = [
        *header,
        "discounts: " + "; ".join(" ".join(f"{d:.4f}" for d in ds) for ds in model.discounts),
    ]
    write_arpa(model, vocab, out, header, chunk=min(ARPA_CHUNK, max(memory // 512, 1024)))
    seconds[f"{key}write"] = time.perf_counter() - t
    say(f"wrote {out} ({seconds[f'{key}write']:.1f} s)")
    return {"estimator": "curate", "tokens": model.tokens, "vocabulary": len(model.orders[0]),
            "ngrams": [len(o) for o in model.orders], "discounts": model.discounts}  # fmt: skip


LINES_PER_CHUNK = 100_000


def _spool_lines(texts: Iterator[tuple[Path, pa.Array]], spool: Path) -> tuple[int, int, int]:
    """Normalise every text into lines (curate.lm.normalize) and write them to an Arrow stream
    file; returns (documents, lines, characters). A .txt file counts as one document."""
    documents = lines_written = chars = 0
    txt_files: set[Path] = set()
    schema = pa.schema([("line", pa.string())])
    with pa.OSFile(str(spool), "wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
        for path, text in texts:
            if path.suffix == ".txt":
                documents += path not in txt_files
                txt_files.add(path)
            else:
                documents += len(text) - text.null_count
            lines, _ = normalize_lines(text)
            for start in range(0, len(lines), LINES_PER_CHUNK):
                part = lines.slice(start, LINES_PER_CHUNK)
                writer.write_batch(pa.record_batch([part], schema=schema))
            lines_written += len(lines)
            chars += int(pc.sum(pc.utf8_length(lines)).as_py() or 0)
    return documents, lines_written, chars


def _spool_negatives(spool: Path, out: Path) -> int:
    """Negatives of every spooled batch of lines (curate.lm.negatives), spooled the same way."""
    written = 0
    schema = pa.schema([("line", pa.string())])
    with pa.OSFile(str(out), "wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
        for i, lines in enumerate(_spooled(spool)):
            negative = make_negatives(lines, seed=i)
            writer.write_batch(pa.record_batch([negative], schema=schema))
            written += len(negative)
    return written


def _spooled(spool: Path) -> Iterator[pa.Array]:
    with pa.OSFile(str(spool), "rb") as source:
        for batch in pa.ipc.open_stream(source):
            yield batch.column(0)


def _python_lines(spool: Path) -> Iterator[str]:
    for lines in _spooled(spool):
        yield from lines.to_pylist()


def _tokenized(tokenizer: Tokenizer, spool: Path) -> Iterator[pa.Array]:
    """Space-joined token lines, one spooled batch at a time."""
    for lines in _spooled(spool):
        yield pa.array(tokenizer.tokenize(lines), pa.string())


def _encode(token_lines: Iterator[pa.Array], ids: Column, lengths: Column) -> list[str]:
    """Append word ids (in order of first appearance, after the specials) and sentence lengths
    to the columns; returns the vocabulary."""
    index: dict[str, int] = {}
    for lines in token_lines:
        split = pc.split_pattern(lines, " ")
        lengths.append(pc.list_value_length(split).to_numpy().astype(np.int64))
        encoded = pc.dictionary_encode(pc.list_flatten(split))
        local = np.fromiter(
            (index.setdefault(w, len(index)) for w in encoded.dictionary.to_pylist()),
            dtype=np.int32,
        )
        ids.append(local[encoded.indices.to_numpy()] + len(SPECIALS))
    return [*SPECIALS, *index]


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


def _run_lmplz(
    token_lines: Iterator[pa.Array], out: Path, order: int, work: Path, memory: int
) -> int:
    """Feed the token lines to ``lmplz -o N --discount_fallback`` (CCNet's flags) with ``-S``
    the same memory budget and ``-T work``, through a file in ``work``; returns the number of
    tokens (``</s>`` included, as curate counts)."""
    tokens = 0
    text_path = work / "tokens.txt"
    with open(text_path, "wb") as text:
        for lines in token_lines:
            words = pc.add(pc.count_substring(lines, " "), 2)  # + </s>
            tokens += int(pc.sum(words).as_py() or 0)
            text.write(("\n".join(lines.to_pylist()) + "\n").encode("utf-8"))
    tmp = out.with_name(f".{out.name}.tmp")
    opener = gzip.open if out.suffix == ".gz" else open
    with open(text_path, "rb") as text, opener(tmp, "wb") as f:
        proc = subprocess.Popen(
            [
                "lmplz",
                "-o",
                str(order),
                "--discount_fallback",
                "-T",
                str(work),
                "-S",
                f"{max(memory >> 20, 1)}M",
            ],  # fmt: skip
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
