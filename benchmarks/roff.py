"""The benchmarks' one reader of man-page roff source: paragraphs of text, macros dropped.

Two corpora are built with it and must not change: the held-out text sets
(``heldout_text.man_blocks``: ``prose=True``) and bench_minhash's man-page corpus (also read by
bench_perplexity: ``prose=False``)."""

from __future__ import annotations

import re

COMMENTS = ('.\\"', "'\\\"", '.\\\\"')
BREAKS = (".SH", ".SS", ".PP", ".P", ".LP", ".TP", ".IP", ".sp", ".br")
PROSE_BREAKS = (*BREAKS, ".HP", ".RS", ".RE")  # indents start a block too
FONT_MACROS = (".B", ".I", ".BR", ".IR", ".RB", ".BI", ".IB")  # their arguments are text
_FONTS_AND_STRINGS = [
    (re.compile(r"\\f(\[[^\]]*\]|\(..|.)"), ""),
    (re.compile(r"\\\*(\[[^\]]*\]|\(..|.)"), ""),
]
ESCAPES = [  # prose=False: zero-width and spacing escapes become a space
    *_FONTS_AND_STRINGS,
    (re.compile(r"\\\(em|\\\(en"), "-"),
    (re.compile(r"\\\(..|\\\[[^\]]*\]"), ""),
    (re.compile(r"\\[-e]"), "-"),
    (re.compile(r"\\[&/,%|^~ 0]"), " "),
    (re.compile(r"\\s[-+]?\d"), ""),
]
PROSE_ESCAPES = [  # prose=True: quotes and dashes by name too, zero-width escapes removed
    *_FONTS_AND_STRINGS,
    (re.compile(r"\\\(em|\\\(en|\\\[em\]|\\\[en\]"), "-"),
    (re.compile(r"\\\(aq|\\\[aq\]"), "'"),
    (re.compile(r"\\\((lq|rq|dq)|\\\[(lq|rq|dq)\]"), '"'),
    (re.compile(r"\\\(..|\\\[[^\]]*\]"), ""),
    (re.compile(r"\\[-e]"), "-"),
    (re.compile(r"\\[&/,%|^~ 0:]"), ""),
    (re.compile(r"\\s[-+]?\d"), ""),
]


def roff_blocks(src: str, prose: bool = False) -> list[str]:
    """Paragraphs of a man page's roff source: comments and macro lines dropped, the arguments
    of font macros kept, escapes resolved.

    ``prose=True`` (the held-out text sets) also drops no-fill and example blocks (``.nf`` ..
    ``.fi``, ``.EX`` .. ``.EE``: synopses and code), breaks at indents, makes each heading a block
    of its own in title case, and leaves each block's spacing as it was. ``prose=False``: a
    heading starts the next paragraph, spacing is squeezed and empty paragraphs dropped."""
    breaks = PROSE_BREAKS if prose else BREAKS
    blocks: list[str] = []
    cur: list[str] = []
    skip = False
    for line in src.splitlines():
        if prose and line.startswith((".nf", ".EX")):
            skip = True
        elif prose and line.startswith((".fi", ".EE")):
            skip = False
            continue
        if skip or line.startswith(COMMENTS):
            continue
        if line.startswith(breaks):
            if cur:
                blocks.append(" ".join(cur))
                cur = []
            parts = line.split(None, 1)
            if len(parts) == 2 and line.startswith((".SH", ".SS")):
                heading = parts[1].strip('"')
                if prose:
                    blocks.append(heading.title())
                else:
                    cur.append(heading)
            continue
        if line.startswith((".", "'")):
            parts = line.split(None, 1)
            if len(parts) == 2 and parts[0] in FONT_MACROS:
                cur.append(parts[1].replace('"', ""))
            continue
        cur.append(line)
    if cur:
        blocks.append(" ".join(cur))
    out = []
    for block in blocks:
        for rx, rep in PROSE_ESCAPES if prose else ESCAPES:
            block = rx.sub(rep, block)
        if not prose:
            block = " ".join(block.split())
        if prose or block:
            out.append(block)
    return out
