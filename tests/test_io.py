from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.errors import InputError
from curate.io import (
    BadFile,
    InputFile,
    auto_shard_rows,
    discover_files,
    discover_shards,
    parse_hive,
    plan_shards,
    read_footer,
    read_input_file,
    read_input_shard,
)


def write(path, **columns):
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return path


def test_parse_hive():
    assert parse_hive("dump=CC-MAIN-2023-06/lang=en/p.parquet") == (
        ("dump", "CC-MAIN-2023-06"),
        ("lang", "en"),
    )
    assert parse_hive("plain/p.parquet") == ()
    with pytest.raises(InputError, match="'dump=' looks like a hive partition"):
        parse_hive("dump=/p.parquet")


def test_discovery_recurses_sorts_and_globs(tmp_path):
    for d in ("b", "a"):
        write(tmp_path / f"dump={d}" / "x.parquet", text=["t"])
    (tmp_path / "notes.txt").write_text("not parquet")
    shards = discover_files([str(tmp_path)])
    assert [s.relpath for s in shards] == ["dump=a/x.parquet", "dump=b/x.parquet"]
    assert shards[0].hive == (("dump", "a"),)
    globbed = discover_files([str(tmp_path / "dump=*")])
    assert [s.relpath for s in globbed] == [s.relpath for s in shards]


def test_discovery_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        discover_shards([str(tmp_path / "missing")])
    with pytest.raises(InputError, match="no \\*.parquet or \\*.jsonl"):
        discover_shards([str(tmp_path)])


def test_hive_columns_added_and_ids_derived_deterministically(tmp_path):
    write(tmp_path / "dump=D1" / "p.parquet", text=["a", "b", "c"], extra=[1, 2, 3])
    shard = discover_shards([str(tmp_path)])[0]
    batches = list(read_input_shard(shard, batch_size=2))
    table = pa.Table.from_batches([b.batch for b in batches])
    assert table["dump"].to_pylist() == ["D1"] * 3
    assert table["extra"].to_pylist() == [1, 2, 3]  # carried through
    ids = table["id"].to_pylist()
    assert len(set(ids)) == 3
    # same input (even copied elsewhere, read in other batch sizes) -> same ids
    write(tmp_path / "copy" / "dump=D1" / "p.parquet", text=["a", "b", "c"], extra=[1, 2, 3])
    other = discover_shards([str(tmp_path / "copy")])[0]
    again = [b.batch for b in read_input_shard(other, batch_size=3)]
    assert pa.Table.from_batches(again)["id"].to_pylist() == ids


def test_existing_dump_column_wins_over_folder(tmp_path):
    write(tmp_path / "dump=FOLDER" / "p.parquet", text=["a"], dump=["COLUMN"])
    shard = discover_shards([str(tmp_path)])[0]
    (rb,) = read_input_shard(shard, 10)
    assert rb.batch.column("dump").to_pylist() == ["COLUMN"]


def test_null_empty_and_invalid_utf8_are_quarantined(tmp_path):
    path = tmp_path / "p.parquet"
    pq.write_table(
        pa.table({"text": pa.array([b"good", None, b"  \n", b"\xff\xfe bad"], pa.binary())}), path
    )
    shard = discover_shards([str(path)])[0]
    (rb,) = read_input_shard(shard, 10)
    assert rb.batch.column("text").to_pylist() == ["good"]
    q = rb.quarantined
    assert q["error"].to_pylist() == [
        "text is null",
        "text is empty",
        "text is not valid UTF-8 (byte 0)",
    ]
    assert q["_source_row"].to_pylist() == [1, 2, 3]
    assert set(q["source_file"].to_pylist()) == {str(path)}


def test_unreadable_and_schema_errors_name_the_file(tmp_path):
    bad = tmp_path / "corrupt.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(BadFile, match="corrupt.parquet: not a readable Parquet file"):
        list(read_input_file(InputFile(str(bad), bad.name), 10))
    notext = write(tmp_path / "notext.parquet", body=["x"])
    with pytest.raises(BadFile, match="notext.parquet: no 'text' column \\(columns: body\\)") as e:
        list(read_input_file(InputFile(str(notext), notext.name), 10))
    assert e.value.table.num_rows == 1  # rows are kept for quarantine
    wrong = write(tmp_path / "int.parquet", text=[1, 2])
    with pytest.raises(BadFile, match="int.parquet: column 'text' has type int64"):
        list(read_input_file(InputFile(str(wrong), wrong.name), 10))


def test_truncated_file(tmp_path):
    path = write(tmp_path / "full.parquet", text=["x" * 100] * 1000)
    data = path.read_bytes()
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadFile, match="cut.parquet: not a readable Parquet file"):
        list(read_input_file(InputFile(str(cut), cut.name), 10))


# ---------------------------------------------------------------- shards: the unit of parallel work


def plan(paths_root, shard_rows):
    files = discover_files([str(paths_root)])
    return plan_shards(files, [read_footer(f) for f in files], shard_rows)


def spans(shards):
    """Each shard as [(relpath, row_groups, first_row)]."""
    return [[(f.relpath, f.row_groups, f.first_row) for f in s.files] for s in shards]


def test_a_large_file_is_cut_at_row_group_boundaries(tmp_path):
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"text": [f"doc {i}" for i in range(1000)]}), path, row_group_size=100)
    assert spans(plan(tmp_path, 250)) == [
        [("big.parquet", (0, 2), 0)],
        [("big.parquet", (2, 4), 200)],
        [("big.parquet", (4, 6), 400)],
        [("big.parquet", (6, 8), 600)],
        [("big.parquet", (8, 10), 800)],
    ]
    # a row group bigger than the target is a shard of its own; a file that fits stays whole
    assert spans(plan(tmp_path, 60)) == [[("big.parquet", (g, g + 1), g * 100)] for g in range(10)]
    assert spans(plan(tmp_path, 1000)) == [[("big.parquet", None, 0)]]
    # ids and rows read do not depend on the cut: they count from the file's first row
    whole = [rb.batch for rb in read_input_shard(plan(tmp_path, 1000)[0], 64)]
    cut = [rb.batch for s in plan(tmp_path, 250) for rb in read_input_shard(s, 64)]
    assert pa.Table.from_batches(cut).equals(pa.Table.from_batches(whole))
    assert len(set(pa.Table.from_batches(cut)["id"].to_pylist())) == 1000


def test_small_files_are_grouped_in_order(tmp_path):
    for i, rows in enumerate([30, 30, 30, 50, 10, 80]):
        write(tmp_path / f"f{i}.parquet", text=["t"] * rows)
    names = [[f for f, _, _ in s] for s in spans(plan(tmp_path, 100))]
    assert names == [
        ["f0.parquet", "f1.parquet", "f2.parquet"],
        ["f3.parquet", "f4.parquet"],
        ["f5.parquet"],
    ]
    assert [s.index for s in plan(tmp_path, 100)] == [0, 1, 2]
    assert len(plan(tmp_path, 1)) == 6  # one row group each: never cut, never grouped


def test_auto_shard_rows():
    assert auto_shard_rows(24_061) == 376  # the sample: its 30 row groups, one shard each
    assert auto_shard_rows(10) == 1
    assert auto_shard_rows(3_000_000_000) == 100_000


def test_read_footer_once_for_fingerprint_and_plan(tmp_path):
    path = tmp_path / "many.parquet"  # a footer over 64 KiB: read in a second seek
    pq.write_table(pa.table({"text": ["x"] * 3000, "n": range(3000)}), path, row_group_size=1)
    footer = read_footer(InputFile(str(path), path.name, size=path.stat().st_size))
    assert pq.read_metadata(path).serialized_size > 64 << 10
    assert footer.group_rows == (1,) * 3000 and footer.splittable
    again = read_footer(InputFile(str(path), path.name, size=path.stat().st_size))
    assert again.fingerprint == footer.fingerprint
    pq.write_table(pa.table({"text": ["y"] * 3000, "n": range(3000)}), path, row_group_size=1)
    changed = read_footer(InputFile(str(path), path.name, size=path.stat().st_size))
    assert changed.fingerprint != footer.fingerprint  # same size, other statistics
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"PAR1 not parquet at all")
    bad = read_footer(InputFile(str(junk), junk.name, size=junk.stat().st_size))
    assert bad.group_rows == () and not bad.splittable and bad.fingerprint.startswith("23:")
    notext = write(tmp_path / "notext" / "p.parquet", body=["x"] * 10)
    pq.write_table(pa.table({"body": ["x"] * 10}), notext, row_group_size=2)
    assert not read_footer(InputFile(str(notext), "p", size=notext.stat().st_size)).splittable


def test_dictionary_only_where_values_repeat(tmp_path):
    """Lists (shingle sets) and 64-bit integers (hashes, band keys) are written plainly, other
    leaves (strings, small ints, struct and map fields) with a dictionary; the data round-trips."""
    import numpy as np

    from curate.io import AtomicParquetWriter, dictionary_columns

    table = pa.table(
        {
            "_row": pa.array(np.arange(2000, dtype=np.int64)),
            "dump": pa.array(["CC-MAIN-2023-06", "CC-MAIN-2023-14"] * 1000),
            "length": pa.array(np.arange(2000, dtype=np.int32) % 7),
            "band_00": pa.array(np.arange(2000, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)),
            "shingles": pa.array([[i, i + 1, i * 7] for i in range(2000)], pa.list_(pa.uint32())),
            "pii": pa.array(
                [{"email": i % 3, "phone": 0} for i in range(2000)],
                pa.struct([("email", pa.int32()), ("phone", pa.int32())]),
            ),
            "counts": pa.array(
                [[("a", i % 2)] for i in range(2000)], pa.map_(pa.string(), pa.int32())
            ),
        }
    )
    assert dictionary_columns(table.schema) == [
        "dump",
        "length",
        "pii.email",
        "pii.phone",
        "counts.key_value.key",
        "counts.key_value.value",
    ]
    writer = AtomicParquetWriter(tmp_path / "keys.parquet")
    writer.write(table)
    writer.close()
    assert pq.read_table(tmp_path / "keys.parquet").equals(table)
    meta = pq.read_metadata(tmp_path / "keys.parquet").row_group(0)
    dictionary = {
        meta.column(i).path_in_schema
        for i in range(meta.num_columns)
        if "RLE_DICTIONARY" in meta.column(i).encodings
    }
    assert dictionary == set(dictionary_columns(table.schema))
