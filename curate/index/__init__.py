"""Persistent cross-dump dedup indexes: commit each dump's keys once, dedup later dumps on them."""

from curate.index.store import CommittedDump, DedupIndex, index_info
from curate.index.survivor import survival_order

__all__ = ["CommittedDump", "DedupIndex", "index_info", "survival_order"]
