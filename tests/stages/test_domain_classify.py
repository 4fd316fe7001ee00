from __future__ import annotations

import json
import random
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pytest

from curate.cli import main
from curate.commands.classifier import train
from curate.errors import ConfigError, InputError
from curate.stages.base import make_stage
from curate.stages.domain_classify import url_domains
from tests.stages.domain_texts import domain_texts, write_domain_corpus

REPO = Path(__file__).resolve().parents[2]
FAST = {"dim": 16, "bucket": 20_000, "quantize": False}  # seconds, not minutes, in tests


def url_domain_reference(url: str | None, rules: dict[str, str]) -> str | None:
    """The rule semantics, spelled out with urllib: host or parent host, then path prefix."""
    if not url:
        return None
    parts = urlsplit(url)
    host, path = (parts.hostname or "").lower(), parts.path or "/"
    best = None
    for pattern, domain in rules.items():
        rule_host, _, rule_path = pattern.lower().partition("/")
        if host != rule_host and not host.endswith("." + rule_host):
            continue
        if rule_path and not path.startswith("/" + rule_path):
            continue
        if best is None or (len(pattern), pattern) > (len(best[0]), best[0]):
            best = (pattern, domain)
    return best[1] if best else None


def test_url_rules_match_the_reference_on_random_urls():
    rules = {
        "github.com": "code",
        "gist.github.com": "snippets",
        "arxiv.org": "math",
        "arxiv.org/abs/cs": "cs",
        "docs.python.org/3/library/": "code",
        "python.org": "web",
        "stackexchange.com": "qa",
        "math.stackexchange.com": "math",
    }
    rng = random.Random(5)
    hosts = [
        "github.com",
        "GitHub.com",
        "gist.github.com",
        "notgithub.com",
        "arxiv.org",
        "export.arxiv.org",
        "docs.python.org",
        "www.python.org",
        "math.stackexchange.com",
        "stackexchange.com.evil.net",
        "example.org",
    ]
    paths = ["", "/", "/abs/cs.CL/1", "/abs/math/2", "/3/library/os.html", "/3/tutorial/", "/x"]
    urls = []
    for _ in range(2000):
        scheme = rng.choice(["https://", "http://", "//", "https://user@"])
        port = rng.choice(["", ":8080"])
        tail = rng.choice(["", "?q=1", "#frag"])
        urls.append(scheme + rng.choice(hosts) + port + rng.choice(paths) + tail)
    urls += [None, "", "not a url", "mailto:someone@example.org"]
    got = url_domains(pa.array(urls, pa.string()), rules).to_pylist()
    assert got == [url_domain_reference(u, rules) for u in urls]


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("domain") / "corpus"
    write_domain_corpus(root, {"web": 200, "code": 200, "math": 200})
    out = str(root.parent / "domain.bin")
    metrics = train([str(root)], out, **FAST)
    assert metrics["accuracy"] >= 0.9
    return out


def test_sources_in_order_of_trust(model):
    texts = domain_texts(seed=1)  # other texts than those the model was trained on first
    batch = pa.record_batch(
        {
            "text": [texts["web"][-1], texts["web"][-2], texts["math"][-1], texts["code"][-1]],
            "url": [
                "https://github.com/a/b",  # input label wins over the URL rule
                "https://github.com/c/d",  # URL rule
                "https://example.org/1",  # classifier
                None,  # classifier
            ],
            "domain": ["web", None, None, None],
        }
    )
    stage = make_stage(
        "domain_classify", {"url_rules": {"github.com": "code"}, "model": model}, "t"
    )
    v = stage.process(batch)
    assert v.reason.null_count == batch.num_rows  # annotate only
    assert v.batch.column("domain").to_pylist() == ["web", "code", "math", "code"]
    assert v.batch.column("domain_source").to_pylist() == ["input", "url", "classifier"] + [
        "classifier"
    ]
    scores = v.batch.column("domain_score").to_pylist()
    assert scores[0] is None and scores[1] is None and scores[2] > 0.5
    assert v.stats["source:classifier"] == 2 and v.stats["domain:code"] == 2


def test_classifier_abstains_below_min_score_and_default_applies(model):
    texts = domain_texts(seed=2)
    batch = pa.record_batch(
        {"text": ["hello", "zzz qqq", "x = 1", texts["web"][0], texts["math"][0], "∫ dx"]}
    )
    stage = make_stage(
        "domain_classify", {"model": model, "min_score": 0.9, "default": "misc"}, "t"
    )
    v = stage.process(batch)
    scores = v.batch.column("domain_score").to_pylist()
    assert None not in scores  # the score is kept, for reports, even where the model abstains
    sources = v.batch.column("domain_source").to_pylist()
    domains = v.batch.column("domain").to_pylist()
    for score, source, domain in zip(scores, sources, domains):
        assert (source == "classifier") == (score >= 0.9)
        assert (domain == "misc") == (source == "default")
    assert v.stats["classifier_abstained"] == sources.count("default")
    assert 0 < sources.count("default") < len(sources)


def test_no_model_no_rules_means_input_or_default():
    batch = pa.record_batch({"text": ["a", "b"], "domain": ["math", None]})
    v = make_stage("domain_classify", {"trust_input": True}, "t").process(batch)
    assert v.batch.column("domain").to_pylist() == ["math", "web"]
    assert v.batch.column("domain_source").to_pylist() == ["input", "default"]
    v = make_stage("domain_classify", {"trust_input": False}, "t").process(batch)
    assert v.batch.column("domain_source").to_pylist() == ["default", "default"]


def test_train_command_prints_held_out_accuracy(tmp_path, capsys):
    root = tmp_path / "corpus"
    write_domain_corpus(root, {"web": 150, "code": 150, "math": 150}, null_share=0.3)
    out = tmp_path / "m" / "domain.bin"
    code = main(
        ["classifier", "train", "--input", str(root), "--label-column", "domain"]
        + ["--out", str(out), "--no-quantize", "--dim", "16", "--bucket", "20000"]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "held-out accuracy" in printed
    metrics = json.loads(Path(f"{out}.json").read_text())
    assert metrics["accuracy"] >= 0.9 > metrics["majority_baseline"]
    # the 30% unlabelled rows are not trained or tested on
    assert metrics["train_docs"] + metrics["test_docs"] < 450 * 0.8
    assert set(metrics["per_label"]) == {"web", "code", "math"}


def test_train_refuses_a_missing_label_column(tmp_path):
    root = tmp_path / "corpus"
    write_domain_corpus(root, {"web": 5, "code": 5})
    code = main(
        ["classifier", "train", "--input", str(root), "--label-column", "topic"]
        + ["--out", str(tmp_path / "m.bin")]
    )
    assert code == 2


def test_train_names_an_unreadable_input_file(tmp_path, capsys):
    root = tmp_path / "corpus"
    write_domain_corpus(root, {"web": 5, "code": 5})
    bad = root / "dump=CC-MAIN-2023-01" / "part-bad.parquet"
    bad.write_bytes(b"PAR1 not parquet at all PAR1")
    code = main(["classifier", "train", "--input", str(root), "--out", str(tmp_path / "m.bin")])
    assert code == 2
    err = capsys.readouterr().err
    assert "part-bad.parquet" in err and "not a readable Parquet file" in err
    assert "Traceback" not in err


def test_train_reads_s3_like_local(tmp_path, monkeypatch):
    """The same labelled shards from a real S3 endpoint (moto on 127.0.0.1) and from disk give
    the same model metrics."""
    moto_server = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        for key, value in {
            "AWS_ACCESS_KEY_ID": "curate-test",
            "AWS_SECRET_ACCESS_KEY": "curate-test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        }.items():
            monkeypatch.setenv(key, value)
        root = tmp_path / "corpus"
        write_domain_corpus(root, {"web": 60, "code": 60, "math": 60}, null_share=0.2)
        client = boto3.client("s3")
        client.create_bucket(Bucket="labelled")
        for path in sorted(root.rglob("*.parquet")):
            client.upload_file(str(path), "labelled", f"in/{path.relative_to(root).as_posix()}")
        local = train([str(root)], str(tmp_path / "local.bin"), **FAST)
        remote = train(["s3://labelled/in"], str(tmp_path / "remote.bin"), **FAST)
        for key in ("train_docs", "test_docs", "accuracy", "per_label"):
            assert remote[key] == local[key], key
        assert local["train_docs"] + local["test_docs"] > 100
        with pytest.raises(InputError, match="s3://labelled/in/dump=CC-MAIN-2023-00/bad.parquet"):
            client.put_object(
                Bucket="labelled", Key="in/dump=CC-MAIN-2023-00/bad.parquet", Body=b"not parquet"
            )
            train(["s3://labelled/in"], str(tmp_path / "bad.bin"), **FAST)
    finally:
        server.stop()


def test_sample_corpus_held_out_accuracy(tmp_path, capsys):
    """The shipped recipe: `make models/domain.bin` trains on the sample corpus's labelled rows."""
    parts = sorted((REPO / "sample_corpus").glob("dump=*/*.parquet"))
    if not parts:
        pytest.skip("sample_corpus/ not built (make sample-corpus)")
    metrics = train([str(p) for p in parts], str(tmp_path / "domain.bin"))
    assert metrics["accuracy"] >= 0.9, metrics
    assert metrics["model_bytes"] < 2_000_000


@pytest.mark.parametrize(
    "params, message",
    [
        ({"url_rules": {"https://github.com": "code"}}, "should be a host"),
        ({"url_rules": {"github.com": ""}}, "must be a name"),
        ({"min_score": 2.0}, "probability"),
        ({"model": "models/nonexistent.bin"}, "curate classifier train"),
    ],
)
def test_config_errors(params, message):
    with pytest.raises(ConfigError, match=message):
        make_stage("domain_classify", params, "t")
