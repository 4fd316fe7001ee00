"""tldextract without the network.

presidio's email recognizer validates the domain with ``tldextract.extract``, whose default
extractor downloads the public suffix list on first use (and writes a cache in $HOME). Here the
extractor reads only the snapshot bundled inside the tldextract package: no URL, no cache dir.
"""

from __future__ import annotations

import functools

import tldextract


@functools.cache
def extractor() -> tldextract.TLDExtract:
    """A process-wide extractor on tldextract's bundled snapshot (no download, no disk cache)."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def has_public_suffix(host_or_email: str) -> bool:
    """True when the domain ends in a known public suffix (``a@b.com`` yes, ``a@b.local`` no)."""
    return extractor()(host_or_email).fqdn != ""
