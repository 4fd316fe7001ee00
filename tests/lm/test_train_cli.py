"""`curate lm train` from the command line, and Chinese through both tokenisers."""

from __future__ import annotations

import json
import random
import shutil

import kenlm
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.cli import main
from curate.lm.normalize import normalize_lines
from curate.lm.score import KenLMScorer
from curate.lm.tokenizer import Tokenizer
from tests.conftest import stdlib_docs
from tests.man_pages import read_pages


def test_train_command_filters_language_and_writes_models(tmp_path, capsys):
    docs = stdlib_docs()[:200]
    table = pa.table(
        {
            "text": docs + ["中文文档,不应进入英文模型。"] * 10,
            "language": ["en"] * len(docs) + ["zh"] * 10,
            "domain": ["web"] * (len(docs) + 10),
        }
    )
    pq.write_table(table, tmp_path / "docs.parquet")
    out = tmp_path / "models" / "en.arpa.gz"
    code = main(
        ["lm", "train", "--input", str(tmp_path), "--lang", "en", "--domain", "web",
         "--order", "3", "--out", str(out), "--sentencepiece", "1500", "--estimator", "curate"]
    )  # fmt: skip
    assert code == 0
    info = json.loads(capsys.readouterr().out)
    assert info["documents"] == len(docs) and info["estimator"] == "curate"
    assert len(info["ngrams"]) == 3 and info["sentencepiece"].endswith("en.sp.model")
    assert (tmp_path / "models" / "en.sp.model").is_file()
    # the model of negatives made from the same text, beside it, compressed like it
    assert info["negatives"] == str(tmp_path / "models" / "en.negatives.arpa.gz")
    assert kenlm.Model(info["negatives"]).order == 3 and len(info["negatives_ngrams"]) == 3
    model = kenlm.Model(str(out))
    assert model.order == 3
    scorer = KenLMScorer(out)  # finds en.sp.model beside it
    assert scorer.tokenizer.path == str(tmp_path / "models" / "en.sp.model")
    assert (
        scorer.perplexity(pa.array(["中文文档"] * 3)).min()
        > scorer.perplexity(pa.array(docs[:3])).max()
    )


def test_train_command_reports_missing_input(tmp_path, capsys):
    code = main(["lm", "train", "--input", str(tmp_path / "nope"), "--lang", "en", "--out", "x"])
    assert code == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_whitespace_tokenizer_splits_han_and_guards_specials():
    lines = pa.array(["我爱python 和 数据", "a <s> b </s> <unk>"])
    assert Tokenizer().tokenize(lines) == ["我 爱 python 和 数 据", "a [s] b [/s] [unk]"]


@pytest.mark.parametrize("sentencepiece", ["none", "3000"])
def test_chinese_model_prefers_real_text_to_shuffled(tmp_path, sentencepiece):
    docs = read_pages("zh_CN", 160)
    random.Random(0).shuffle(docs)
    (tmp_path / "zh.txt").write_text("\n".join(docs[40:]))
    out = tmp_path / "zh.arpa"
    args = ["lm", "train", "--input", str(tmp_path / "zh.txt"), "--lang", "zh", "--out", str(out)]
    assert main([*args, "--sentencepiece", sentencepiece]) == 0
    scorer = KenLMScorer(out)
    held = docs[:40]
    rng = random.Random(1)
    shuffled = ["".join(rng.sample(d, len(d))) for d in held]
    lines, _ = normalize_lines(pa.array(held))
    assert len(lines) > 100
    assert (
        scorer.perplexity(pa.array(shuffled)) > 2 * scorer.perplexity(pa.array(held))
    ).mean() > 0.9


@pytest.mark.skipif(shutil.which("lmplz") is not None, reason="lmplz is installed here")
def test_lmplz_requested_but_missing_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "a.txt").write_text("some text\n")
    args = ["lm", "train", "--input", str(tmp_path / "a.txt"), "--lang", "en"]
    assert main([*args, "--out", str(tmp_path / "a.arpa"), "--estimator", "lmplz"]) == 2
    assert "lmplz is not on PATH" in capsys.readouterr().err


def test_bounded_and_in_memory_estimators_write_the_same_arpa(tmp_path, capsys):
    """The whole command (Parquet in batches, lines spooled, tokens encoded to disk) with the
    smallest budget, against the in-memory reference: same bytes; nothing left beside --out."""
    docs = stdlib_docs()[:300]
    pq.write_table(pa.table({"text": docs}), tmp_path / "docs.parquet", row_group_size=50)
    models = tmp_path / "models"
    outputs = {}
    for estimator, extra in (("curate", ["--memory", "1M"]), ("curate-in-memory", [])):
        out = models / f"{estimator}.arpa"
        args = ["lm", "train", "--input", str(tmp_path / "docs.parquet"), "--lang", "en",
                "--out", str(out), "--sentencepiece", "none", "--estimator", estimator]  # fmt: skip
        assert main([*args, *extra]) == 0
        captured = capsys.readouterr()
        info = json.loads(captured.out)
        progress = [line for line in captured.err.splitlines() if line.startswith("curate lm")]
        assert [line.split(":")[1].split()[0] for line in progress] == [
            "normalised", "made", "encoded", "estimated", "wrote", "encoded", "estimated", "wrote"
        ]  # fmt: skip
        assert f"encoded {info['tokens']:,} tokens" in progress[2]
        assert "encoded negatives" in progress[5]
        # more than two 1M-budget chunks of positions (10,922 each): three sorted runs or more
        assert info["documents"] == len(docs) and info["tokens"] > 2 * (2**20 // 96)
        outputs[estimator] = out.read_bytes(), (models / f"{estimator}.negatives.arpa").read_bytes()
    assert outputs["curate"] == outputs["curate-in-memory"]
    assert sorted(p.name for p in models.iterdir()) == [
        "curate-in-memory.arpa", "curate-in-memory.negatives.arpa",
        "curate.arpa", "curate.negatives.arpa",
    ]  # fmt: skip


@pytest.mark.parametrize("size", ["lots", "12Q", "100K"])
def test_memory_budget_must_be_a_size_of_at_least_a_megabyte(tmp_path, capsys, size):
    (tmp_path / "a.txt").write_text("some text\n")
    args = ["lm", "train", "--input", str(tmp_path / "a.txt"), "--lang", "en", "--out"]
    with pytest.raises(SystemExit) as exit_:
        main([*args, str(tmp_path / "a.arpa"), "--memory", size])
    assert exit_.value.code == 2
    assert "--memory" in capsys.readouterr().err


def test_sentencepiece_trains_on_a_sample_sized_to_the_budget(tmp_path, capsys):
    """SentencePiece's trainer holds its input (~20 bytes per character): a small --memory
    gives it a sample of the lines, the default budget all of them on a small corpus."""
    docs = stdlib_docs()[:300]
    pq.write_table(pa.table({"text": docs}), tmp_path / "docs.parquet")
    lines = {}
    for memory in ("1M", "1G"):
        args = ["lm", "train", "--input", str(tmp_path / "docs.parquet"), "--lang", "en",
                "--out", str(tmp_path / f"{memory}.arpa"), "--sentencepiece", "600",
                "--order", "3", "--memory", memory, "--estimator", "curate"]  # fmt: skip
        if memory == "1M":  # (lmplz refuses a 1M budget: curate's estimator either way)
            args.append("--no-negatives")
        assert main(args) == 0
        info = json.loads(capsys.readouterr().out)
        lines[memory] = (info["sentencepiece_lines"], info["lines"])
        assert (info["negatives"] is None) == (memory == "1M")
    assert not (tmp_path / "1M.negatives.arpa").exists()
    assert (tmp_path / "1G.negatives.arpa").is_file()
    sampled, total = lines["1M"]
    assert 1000 <= sampled < total / 2
    assert lines["1G"] == (total, total)
