"""Write pipelines/eval_sets/python_reference_qa.jsonl: the demo's evaluation set for
`decontaminate`, from the Python Language Reference that ships with CPython (pydoc_data.topics,
PSF licence). One item per reference topic: a templated question and, as the answer, the first
prose paragraph of the topic. Sample pages that quote the reference share 13-grams with it.

    python scripts/build_eval_set.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

OUT = (
    Path(__file__).resolve().parent.parent / "pipelines" / "eval_sets" / "python_reference_qa.jsonl"
)


def main() -> None:
    from pydoc_data.topics import topics

    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        for key in sorted(topics):
            lines = topics[key].split("\n")
            title = lines[0].strip()
            paras = [
                p.strip()
                for p in re.split(r"\n\s*\n", "\n".join(lines[2:]))
                if p.strip() and not p.startswith("   ")  # grammar and code blocks
            ]
            if paras:
                item = {
                    "id": key,
                    "question": f"In Python, what is true of {title.lower()}?",
                    "answer": " ".join(paras[0].split()),
                }
                f.write(json.dumps(item, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
