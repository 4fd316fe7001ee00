"""Progress bars on a terminal, silence otherwise."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


def progress(total: int, desc: str) -> Any:
    return tqdm(
        total=total,
        desc=desc,
        unit="shard",
        disable=not sys.stderr.isatty(),
        leave=False,
        dynamic_ncols=True,
    )
