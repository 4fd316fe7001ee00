"""Broken inputs, built at test time from real text (the standard library's docstrings).

Each case and what curate must do with it (`on_error: quarantine`, the default; with
`on_error: fail` every file-level case stops the run with exit 2 and the file named instead):

- truncated Parquet (dump=A/truncated.parquet), not Parquet at all (dump=A/not-parquet.parquet):
  the file is listed in report.json quarantine.files with "not a readable Parquet file", and
  has a record (path, error, size, rows its footer declares) in quarantine/_bad_files/.
- no `text` column (dump=A/no-text.parquet), `text` of type int64 (dump=A/int-text.parquet): the
  file is listed and recorded the same way, and its rows go to quarantine/ with an error naming
  the file and the problem.
- null, empty and blank text (rows.parquet ids null-*, empty-*): rows in quarantine/ with
  "text is null" / "text is empty".
- invalid UTF-8 and lone surrogates in text, in a string and in a binary column (ids bad-ff,
  bad-surrogate, bin-bad): rows in quarantine/ with "text is not valid UTF-8 (byte N)".
- a lone surrogate in the url (id bad-url): row in quarantine/ with "url is not valid UTF-8".
- a 20 MB document (dump=B/big.parquet): processed like any other, whole, in data/.
- duplicate ids across shards (ids dup-* in both dumps): every copy accounted for exactly once.
- a corrupt data page in the middle of a file, found by its CRC (dump=B/corrupt-page.parquet):
  rows of the intact row groups processed; the damaged group's 20 rows counted as rows_unread.

Cases that stop the run (exit 2, one line naming the path, no traceback) are built by the tests
themselves: a hive folder that does not parse, an empty input directory, an output directory
that cannot be written, a full disk.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.conftest import stdlib_docs

BIG_BYTES = 20 * 1024 * 1024
CORRUPT_GROUP = 6  # of 10 row groups of 20 rows: corruption found after 120 rows were read
CORRUPT_ROWS = (10, 20)  # row groups, rows per group


def lone_surrogate(text: str) -> bytes:
    """UTF-8 bytes of ``text`` with a lone surrogate in the middle (as CESU-8 would write it)."""
    half = len(text) // 2
    return (text[:half] + "\ud800" + text[half:]).encode("utf-8", "surrogatepass")


def as_string_column(values: list[bytes | None]) -> pa.Array:
    """A string-typed column holding arbitrary bytes: Arrow does not check UTF-8 on write."""
    return pa.array(values, pa.binary()).view(pa.string())


def build_dirty_corpus(root: Path) -> dict:
    """Write every row- and file-level case under ``root``; return what the tests expect."""
    docs = stdlib_docs()
    a, b = root / "dump=A", root / "dump=B"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    expect: dict = {"quarantined": {}, "files": {}, "kept_or_removed": set(), "rows_in": 0}

    # ---- row-level cases, one shard per dump (plus duplicate ids across the two)
    rows_a = [
        ("good-a0", docs[0].encode(), "https://a.example/0"),
        ("good-a1", docs[1].encode(), "https://a.example/1"),
        ("null-1", None, "https://a.example/null"),
        ("empty-1", b"", "https://a.example/empty"),
        ("empty-2", b" \n\t ", "https://a.example/blank"),
        ("bad-ff", docs[2].encode() + b"\xff\xfe", "https://a.example/ff"),
        ("bad-surrogate", lone_surrogate(docs[3]), "https://a.example/sur"),
        ("bad-url", docs[4].encode(), lone_surrogate("https://a.example/url")),
        ("dup-1", docs[5].encode(), "https://a.example/dup1"),
        ("dup-2", docs[6].encode(), "https://a.example/dup2"),
    ]
    texts = [r[1] for r in rows_a]
    pq.write_table(
        pa.table(
            {
                "id": [r[0] for r in rows_a],
                "text": as_string_column(texts),
                "url": as_string_column(
                    [r[2].encode() if isinstance(r[2], str) else r[2] for r in rows_a]
                ),
            }
        ),
        a / "rows.parquet",
    )
    expect["quarantined"].update(
        {
            "null-1": "text is null",
            "empty-1": "text is empty",
            "empty-2": "text is empty",
            "bad-ff": "text is not valid UTF-8",
            "bad-surrogate": "text is not valid UTF-8",
            "bad-url": "url is not valid UTF-8",
        }
    )
    expect["kept_or_removed"] |= {"good-a0", "good-a1", "dup-1", "dup-2"}
    # the same invalid bytes in a binary-typed text column
    pq.write_table(
        pa.table(
            {
                "id": ["bin-good", "bin-bad"],
                "text": pa.array([docs[7].encode(), lone_surrogate(docs[8])], pa.binary()),
            }
        ),
        a / "binary-text.parquet",
    )
    expect["quarantined"]["bin-bad"] = "text is not valid UTF-8"
    expect["kept_or_removed"].add("bin-good")
    # dump B: the same ids again with other texts, and a 20 MB document
    big = "\n\n".join(docs)
    big = "\n\n".join([big] * (BIG_BYTES // len(big.encode()) + 1))
    pq.write_table(
        pa.table(
            {
                "id": ["dup-1", "dup-2", "good-b0"],
                "text": [docs[9], docs[10], docs[11]],
                "url": ["https://b.example/1", "https://b.example/2", "https://b.example/0"],
            }
        ),
        b / "rows.parquet",
    )
    pq.write_table(
        pa.table({"id": ["big"], "text": [big], "url": ["https://b.example/big"]}),
        b / "big.parquet",
    )
    expect["kept_or_removed"] |= {"good-b0", "big"}
    expect["rows_in"] += len(rows_a) + 2 + 3 + 1

    # ---- file-level cases
    groups, per_group = CORRUPT_ROWS
    corrupt = b / "corrupt-page.parquet"
    write_corrupt_page_file(corrupt, [docs[20 + i % 200] for i in range(groups * per_group)])
    expect["files"][str(corrupt)] = ("row group 6 unreadable after row 120", per_group)
    expect["kept_or_removed"] |= {f"page-{i}" for i in range(groups * per_group)} - {
        f"page-{i}" for i in range(CORRUPT_GROUP * per_group, (CORRUPT_GROUP + 1) * per_group)
    }
    expect["rows_in"] += (groups - 1) * per_group

    full = a / "truncated.parquet"
    pq.write_table(pa.table({"id": ["t0", "t1"], "text": docs[30:32]}), full)
    data = full.read_bytes()
    full.write_bytes(data[: len(data) // 2])
    expect["files"][str(full)] = ("not a readable Parquet file", 0)

    (a / "not-parquet.parquet").write_text(docs[32])
    expect["files"][str(a / "not-parquet.parquet")] = ("not a readable Parquet file", 0)

    pq.write_table(
        pa.table({"id": ["nt-0", "nt-1", "nt-2"], "body": docs[33:36]}), a / "no-text.parquet"
    )
    expect["files"][str(a / "no-text.parquet")] = ("no 'text' column (columns: id, body)", 0)
    for i in range(3):
        expect["quarantined"][f"nt-{i}"] = "no-text.parquet: no 'text' column"

    pq.write_table(pa.table({"id": ["it-0", "it-1"], "text": [1, 2]}), a / "int-text.parquet")
    expect["files"][str(a / "int-text.parquet")] = ("column 'text' has type int64", 0)
    for i in range(2):
        expect["quarantined"][f"it-{i}"] = "int-text.parquet: column 'text' has type int64"
    expect["rows_in"] += 3 + 2
    return expect


def write_corrupt_page_file(path: Path, texts: list[str]) -> None:
    """Row groups with page CRCs, then a flipped run of bytes inside row group CORRUPT_GROUP's
    text page: the footer stays intact, so the damage shows only while streaming."""
    groups, per_group = CORRUPT_ROWS
    table = pa.table({"id": [f"page-{i}" for i in range(len(texts))], "text": texts})
    pq.write_table(
        table,
        path,
        row_group_size=per_group,
        write_page_checksum=True,
        compression="none",
        use_dictionary=False,
    )
    chunk = pq.ParquetFile(path).metadata.row_group(CORRUPT_GROUP).column(1)
    data = bytearray(path.read_bytes())
    middle = chunk.data_page_offset + chunk.total_compressed_size // 2
    data[middle : middle + 8] = b"CORRUPT!"
    path.write_bytes(bytes(data))
    # the damage is real and silent without CRCs: pyarrow's default reader returns all rows
    assert pq.read_table(path).num_rows == groups * per_group
