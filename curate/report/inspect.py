"""What a stage removed, document by document: `curate inspect OUT --stage STAGE`.

Removed rows live in ``OUT/removed/<stage>/`` with their ``reason``; dedup stages add
``duplicate_of``, found again in ``data/`` or another stage's ``removed/``. ``pii_scrub`` rewrites
text in place and keeps no original, so its documents are read from ``data/`` and compared with
the run's input when that is still where the report says.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.errors import CurateError
from curate.report import load_report
from curate.report.masking import mask_value

RED, GREEN, DIM, RESET = "\033[31m", "\033[32m", "\033[2m", "\033[0m"
_TOKEN = re.compile(r"\s+|[\u3400-\u9fff\uf900-\ufaff]|\w+|[^\w\s]")  # CJK: one char a word
_PLACEHOLDER = re.compile(r"<[A-Z_]+>")


def _parts(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.parquet") if not p.name.startswith((".", "_")))


def removed_stages(out: Path) -> list[str]:
    """Stages with removed rows on disk."""
    root = out / "removed"
    if not root.is_dir():
        return []
    return sorted(d.name for d in root.iterdir() if d.is_dir() and _parts(d))


def _rows(files: list[Path], where: pa.compute.Expression | None, n: int) -> Iterator[dict]:
    """First ``n`` rows of ``files`` matching ``where``, read one file at a time."""
    for f in files:
        if n <= 0:
            return
        table = pq.read_table(f)
        if where is not None:
            table = table.filter(where)
        for row in table.slice(0, n).to_pylist():
            n -= 1
            yield row


def removed_rows(out: Path, stage: str, reason: str | None, n: int) -> list[dict]:
    files = _parts(out / "removed" / stage)
    reasons: dict[str, int] = {}
    for f in files:
        counts = pc.value_counts(pq.read_table(f, columns=["reason"])["reason"]).to_pylist()
        for c in counts:
            reasons[c["values"]] = reasons.get(c["values"], 0) + c["counts"]
    if reason is not None and reason not in reasons:
        raise CurateError(
            f"{out / 'removed' / stage}: no rows with reason '{reason}'; reasons here: "
            + ", ".join(f"{k} ({v:,})" for k, v in sorted(reasons.items()))
        )
    where = pc.field("reason") == reason if reason else None
    return list(_rows(files, where, n))


def find_documents(out: Path, ids: set[str]) -> dict[str, tuple[dict, str]]:
    """Rows of ``ids`` in data/ or any removed/<stage>/, with where each was found."""
    found: dict[str, tuple[dict, str]] = {}
    folders = [out / "data"] + [out / "removed" / s for s in removed_stages(out)]
    for folder in folders:
        for f in _parts(folder):
            missing = ids - found.keys()
            if not missing:
                return found
            table = pq.read_table(f)
            hit = table.filter(pc.is_in(table["id"], pa.array(sorted(missing))))
            where = str(folder.relative_to(out))
            for row in hit.to_pylist():
                found.setdefault(row["id"], (row, where))
    return found


def word_diff(old: str, new: str, color: bool, context: int = 12) -> str:
    """``old`` -> ``new`` word by word: [-only in old-] {+only in new+} (or red/green).

    Runs of more than 2 x ``context`` unchanged words are shortened to `` ... ``.
    """
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            same = a[i1:i2]
            if len(same) > 2 * context:
                gap = f" {DIM}...{RESET} " if color else " ... "
                same = same[:context] + [gap] + same[-context:]
            out.append("".join(same))
            continue
        if i2 > i1:
            out.append(_mark("".join(a[i1:i2]), "-", color))
        if j2 > j1:
            out.append(_mark("".join(b[j1:j2]), "+", color))
    return "".join(out)


def _mark(s: str, sign: str, color: bool) -> str:
    if color:
        return (RED if sign == "-" else GREEN) + s + RESET
    return f"[-{s}-]" if sign == "-" else f"{{+{s}+}}"


def pii_replacements(original: str, scrubbed: str) -> list[tuple[str, str]]:
    """(masked original value, placeholder) for each span the scrubber replaced."""
    a, b = _TOKEN.findall(original), _TOKEN.findall(scrubbed)
    pairs = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        new = "".join(b[j1:j2])
        if op == "replace" and _PLACEHOLDER.search(new):
            pairs.append((mask_value(" ".join("".join(a[i1:i2]).split())), new.strip()))
    return pairs


def _clip(text: str, chars: int) -> str:
    text = text.strip()
    return text if len(text) <= chars else text[:chars] + f" ... [{len(text) - chars:,} more chars]"


def _head(k: int, n: int, row: dict) -> list[str]:
    meta = ", ".join(f"{c} {row[c]}" for c in ("dump", "domain", "language") if row.get(c))
    reason = f"  reason: {row['reason']}" if row.get("reason") else ""
    lines = [f"[{k}/{n}] {row['id']}{reason}  ({meta})"]
    if row.get("url"):
        lines.append(f"  url: {row['url']}")
    return lines


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def inspect_stage(
    out: str | Path, stage: str, reason: str | None, n: int, color: bool, chars: int = 600
) -> str:
    out = Path(out)
    report = load_report(out)
    by_name = {s["name"]: s for s in report["stages"]}
    if stage not in by_name:
        raise CurateError(
            f"{out}: no stage '{stage}' in this run; stages with removed documents: "
            + (", ".join(removed_stages(out)) or "none")
        )
    if by_name[stage].get("stage") == "pii_scrub":
        return _inspect_pii(out, report, by_name[stage], n, color, chars)
    if stage not in removed_stages(out):
        raise CurateError(
            f"{out}: stage '{stage}' removed no documents; stages with removed documents: "
            + (", ".join(removed_stages(out)) or "none")
        )
    rows = removed_rows(out, stage, reason, n)
    originals = {r["duplicate_of"] for r in rows if r.get("duplicate_of")}
    found = find_documents(out, originals) if originals else {}
    lines = []
    for k, row in enumerate(rows, 1):
        lines += _head(k, len(rows), row)
        if row.get("perplexity") is not None:
            threshold = row.get("perplexity_threshold")
            line = (
                f"  perplexity {row['perplexity']:,.1f} > threshold {threshold:,.1f}"
                if threshold is not None
                else f"  perplexity {row['perplexity']:,.1f}"
            )
            if row.get("perplexity_ccnet") is not None:  # the score's parts
                line += f" (CCNet's {row['perplexity_ccnet']:,.1f}"
                if row.get("line_end_surprisal") is not None:
                    line += f", line-end surprisal {row['line_end_surprisal']:.2f}"
                if row.get("negatives_llr") is not None:
                    line += f", negatives llr {row['negatives_llr']:+.2f}"
                line += ")"
            lines.append(line)
        dup = row.get("duplicate_of")
        if dup and dup in found:
            other, where = found[dup]
            lines.append(f"  duplicate of {dup}, stored in {where}/ after the later stages' edits")
            lines.append(f"  its url: {other.get('url') or '-'}")
            legend = "red: only in this document, green: only in the one kept" if color else (
                "[-only in this document-] {+only in the one kept+}"
            )  # fmt: skip
            lines.append(f"  differences ({legend}):")
            diff = word_diff(row["text"], other["text"], color)
            lines.append(_indent(diff if diff.strip() else "(identical text)"))
        else:
            if dup:
                lines.append(f"  duplicate of {dup} (not found in data/ or removed/)")
            lines.append(_indent(_clip(row["text"], chars)))
        lines.append("")
    return "\n".join(lines)


def _inspect_pii(out: Path, report: dict, stage: dict, n: int, color: bool, chars: int) -> str:
    """pii_scrub keeps only scrubbed text: show it, its counts, and the replaced values masked."""
    rows = []
    for folder in [out / "data", out / "removed" / stage["name"]]:
        files = _parts(folder)
        if files and "pii_counts" in pq.read_schema(files[0]).names:
            rows += [r for r in _rows(files, None, 50 * n) if any((r["pii_counts"] or {}).values())]
        if len(rows) >= n:
            break
    rows = rows[:n]
    if not rows:
        return f"{stage['name']}: no document with PII in {out}/data"
    originals = _input_texts(report, {r["id"] for r in rows})
    lines = [
        f"{stage['name']} rewrites text in place; the original is not kept in {out}. "
        + (
            "Originals read from the input "
            f"({', '.join(report['input']['paths'])}); replaced values masked."
            if originals
            else "The input is not where the report says, so only the scrubbed text is shown."
        ),
        "",
    ]
    for k, row in enumerate(rows, 1):
        lines += _head(k, len(rows), row)
        counts = {e: c for e, c in row["pii_counts"].items() if c}
        lines.append("  pii_counts: " + ", ".join(f"{e} {c}" for e, c in counts.items()))
        if row["id"] in originals:
            for old, new in pii_replacements(originals[row["id"]], row["text"]):
                lines.append(f"    {_mark(old, '-', color)} -> {_mark(new, '+', color)}")
        lines.append("  after:")
        after = _clip(row["text"], chars)
        if color:
            after = _PLACEHOLDER.sub(lambda m: GREEN + m.group(0) + RESET, after)
        lines.append(_indent(after))
        lines.append("")
    return "\n".join(lines)


def _input_texts(report: dict[str, Any], ids: set[str]) -> dict[str, str]:
    """Original text of ``ids`` from the run's input shards, or {} when they are gone."""
    from curate.io import InputError, discover_shards, read_input_shard

    try:
        shards = discover_shards(report["input"]["paths"])
    except InputError:
        return {}
    found: dict[str, str] = {}
    for shard in shards:
        for rb in read_input_shard(shard, 4096):
            batch = pa.Table.from_batches([rb.batch])
            hit = batch.filter(pc.is_in(batch["id"], pa.array(sorted(ids))))
            found.update(zip(hit["id"].to_pylist(), hit["text"].to_pylist()))
            if len(found) == len(ids):
                return found
    return found
