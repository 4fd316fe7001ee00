"""From detected spans to scrubbed text: overlap resolution, then one of three replacements.

* ``placeholder`` (default): ``<EMAIL>``, ``<PHONE>``, ``<PERSON>`` ... the entity name in angle
  brackets, the convention of presidio-anonymizer's ``replace`` operator.
* ``mask``: the value's characters become ``*`` (length kept, so offsets of what follows in the
  line stay put; whitespace inside the value is kept).
* ``hash``: ``<EMAIL:3f9a0c27d1e4>``, an HMAC-SHA256 of the value under a salt: the same value
  gives the same token everywhere in a run (across workers, since the salt is configuration),
  and without the salt the token cannot be matched against a list of guessed values. The value
  is hashed folded (curate/pii/fold.py), so a full-width number and its ASCII spelling agree.
"""

from __future__ import annotations

import hashlib
import hmac

from curate.pii.fold import fold

Span = tuple[int, int, str, float]  # (start, end, entity, score)


def resolve(spans: list[Span]) -> list[Span]:
    """Overlapping spans merge into their union (scrub the most, leak nothing at the edges),
    typed by the longest member, then the highest score; sorted by start."""
    if len(spans) < 2:
        return list(spans)
    out: list[Span] = []
    best: Span | None = None
    for span in sorted(spans):
        if out and span[0] < out[-1][1]:
            start, end, _, score = out[-1]
            if (span[1] - span[0], span[3]) > (best[1] - best[0], best[3]):
                best = span
            out[-1] = (start, max(end, span[1]), best[2], max(score, span[3]))
        else:
            best = span
            out.append(span)
    return out


def token(value: str, entity: str, mode: str, salt: bytes = b"") -> str:
    if mode == "placeholder":
        return f"<{entity}>"
    if mode == "mask":
        return "".join(ch if ch.isspace() else "*" for ch in value)
    # folded: ``１３８...`` and ``138...`` are one value, so they get one token
    digest = hmac.new(salt, f"{entity}\0{fold(value)}".encode(), hashlib.sha256).hexdigest()
    return f"<{entity}:{digest[:12]}>"


def scrub(text: str, spans: list[Span], mode: str, salt: bytes = b"") -> str:
    """``text`` with each (non-overlapping, sorted) span replaced."""
    if not spans:
        return text
    out, pos = [], 0
    for start, end, entity, _ in spans:
        out.append(text[pos:start])
        out.append(token(text[start:end], entity, mode, salt))
        pos = end
    out.append(text[pos:])
    return "".join(out)
