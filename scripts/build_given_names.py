"""Build curate/pii/data/nomquamgender_given_names.txt.gz, pii_scrub's second given-name lexicon.

nomquamgender (MIT, Ian Van Buskirk) ships ``name_data.json``: given names with the number of
its 36 sources (censuses, national registers, author lists) that list each and their counts.
Installing the package pulls pandas (which pyarrow then imports in every worker), and
pii_scrub needs its data only, so the names it uses are kept in the repository instead: those
listed by at least MIN_SOURCES sources MIN_COUNT times in all, two letters or more, letters
only; lower case and unaccented as nomquamgender writes them. The stop words of the crawl's
languages and the words that start place names are left out when the lexicon is loaded
(curate/pii/names.py), not here.

    pip download --no-deps nomquamgender==0.1.4 -d /tmp/nqg
    python scripts/build_given_names.py /tmp/nqg/nomquamgender-0.1.4-py3-none-any.whl

The argument may also be the ``name_data.json`` file itself; without one, the installed
package's file. The output is deterministic (sorted names, gzip without a timestamp).
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import sys
import zipfile
from pathlib import Path

MIN_SOURCES = 2
MIN_COUNT = 20
OUT = Path(__file__).resolve().parents[1] / "curate" / "pii" / "data"
NAME = "nomquamgender_given_names.txt.gz"
HEADER = (
    "# Given names of nomquamgender 0.1.4's name_data.json"
    " (https://github.com/ianvanbuskirk/nomquamgender)\n"
    f"# listed by >= {MIN_SOURCES} of its sources >= {MIN_COUNT} times in all;"
    " built by scripts/build_given_names.py\n"
    "# nomquamgender: Copyright (c) 2022 Ian Van Buskirk, MIT License (curate/pii/data/NOTICE)\n"
)


def _load(arg: str | None) -> dict:
    if arg is None:
        spec = importlib.util.find_spec("nomquamgender")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("give the nomquamgender wheel or its name_data.json (not installed)")
        arg = str(Path(next(iter(spec.submodule_search_locations))) / "name_data.json")
    path = Path(arg)
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as z:
            return json.loads(z.read("nomquamgender/name_data.json"))
    return json.loads(path.read_text(encoding="utf-8"))


def build(data: dict) -> list[str]:
    return sorted(
        n
        for n, v in data.items()
        if v[0] >= MIN_SOURCES and v[1] >= MIN_COUNT and len(n) >= 2 and n.isalpha()
    )


def main() -> None:
    names = build(_load(sys.argv[1] if len(sys.argv) > 1 else None))
    OUT.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0, filename="") as f:
        f.write((HEADER + "\n".join(names) + "\n").encode("utf-8"))
    (OUT / NAME).write_bytes(buf.getvalue())
    print(f"{OUT / NAME}: {len(names):,} names, {len(buf.getvalue()):,} bytes")


if __name__ == "__main__":
    main()
