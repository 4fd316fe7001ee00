from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.errors import InputError
from curate.io import BadFile, Shard, discover_shards, parse_hive, read_input_shard


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
    shards = discover_shards([str(tmp_path)])
    assert [s.relpath for s in shards] == ["dump=a/x.parquet", "dump=b/x.parquet"]
    assert shards[0].hive == (("dump", "a"),)
    globbed = discover_shards([str(tmp_path / "dump=*")])
    assert [s.relpath for s in globbed] == [s.relpath for s in shards]


def test_discovery_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        discover_shards([str(tmp_path / "missing")])
    with pytest.raises(InputError, match="no \\*.parquet files"):
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
        list(read_input_shard(Shard(0, str(bad), bad.name), 10))
    notext = write(tmp_path / "notext.parquet", body=["x"])
    with pytest.raises(BadFile, match="notext.parquet: no 'text' column \\(columns: body\\)") as e:
        list(read_input_shard(Shard(0, str(notext), notext.name), 10))
    assert e.value.table.num_rows == 1  # rows are kept for quarantine
    wrong = write(tmp_path / "int.parquet", text=[1, 2])
    with pytest.raises(BadFile, match="int.parquet: column 'text' has type int64"):
        list(read_input_shard(Shard(0, str(wrong), wrong.name), 10))


def test_truncated_file(tmp_path):
    path = write(tmp_path / "full.parquet", text=["x" * 100] * 1000)
    data = path.read_bytes()
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadFile, match="cut.parquet: not a readable Parquet file"):
        list(read_input_shard(Shard(0, str(cut), cut.name), 10))
