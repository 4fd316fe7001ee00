"""CollectedFiles.take against Table.take on the same rows, and what it reads."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.collected import CollectedFiles

SIZES = [0, 700, 1, 2500, 300]  # rows per shard file (shard 0 empty, one file missing below)


def _files(tmp_path):
    paths, tables, at = [], [], 0
    for shard, n in enumerate(SIZES):
        rows = np.arange(at, at + n)
        table = pa.table(
            {
                "hash": pa.array(rows.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)),
                "id": pa.array([f"doc-{r}" for r in rows], pa.string()),
                "shingles": pa.array([list(range(r % 5)) for r in rows], pa.list_(pa.uint32())),
            }
        )
        path = tmp_path / f"part-{shard:05d}.parquet"
        paths.append(path)
        pq.write_table(table, path, row_group_size=256)  # several row groups a file
        tables.append(table)
        at += n
    paths.append(tmp_path / "part-00005.parquet")  # a shard that wrote nothing
    return CollectedFiles(paths, tmp_path / "scratch"), pa.concat_tables(tables)


@pytest.mark.parametrize("how", ["random", "sorted", "span", "one", "all", "reversed"])
def test_take_is_table_take(tmp_path, how):
    files, whole = _files(tmp_path)
    n = whole.num_rows
    rng = np.random.default_rng(len(how))
    rows = {
        "random": rng.integers(0, n, 2000),  # any order, with repeats
        "sorted": np.sort(rng.choice(n, 300, replace=False)),
        "span": np.arange(650, 1900),  # crosses files and row groups
        "one": np.array([n - 1]),
        "all": np.arange(n),
        "reversed": np.arange(n)[::-1],
    }[how]
    for columns in (["hash", "id", "shingles"], ["shingles"], ["id", "hash"]):
        got = files.take(columns, rows)
        assert got.equals(whole.select(columns).take(pa.array(rows)))


def test_take_reads_only_the_row_groups_it_needs(tmp_path):
    """A row group whose pages are garbage can't be read; rows elsewhere still can."""
    files, whole = _files(tmp_path)
    path = tmp_path / "part-00003.parquet"  # rows 701 .. 3200, row groups of 256
    meta = pq.read_metadata(path)
    data = bytearray(path.read_bytes())
    for c in range(meta.num_columns):
        chunk = meta.row_group(0).column(c)
        start = chunk.dictionary_page_offset or chunk.data_page_offset
        data[start : start + chunk.total_compressed_size] = b"\xff" * chunk.total_compressed_size
    path.write_bytes(bytes(data))
    with pytest.raises((OSError, pa.ArrowException)):
        files.take(["id"], np.array([701]))
    rows = np.array([5, 701 + 256, 3000, 3300])
    assert files.take(["id", "shingles"], rows).equals(
        whole.select(["id", "shingles"]).take(pa.array(rows))
    )


def test_take_nothing(tmp_path):
    files, _ = _files(tmp_path)
    assert files.take(["id"], np.array([], np.int64)).num_rows == 0
