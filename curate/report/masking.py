"""Mask PII-looking substrings before showing corpus text in a report or a terminal."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DIGITS = re.compile(r"\d{3,}")  # phone numbers, ids, card numbers: any run of 3+ digits
_URL_USER = re.compile(r"(?<=://)[^/@\s]+@")


def mask_pii(text: str) -> str:
    """Emails -> ``<EMAIL>``, credentials in URLs -> ``***@``, runs of 3+ digits -> ``***``."""
    text = _URL_USER.sub("***@", text)
    text = _EMAIL.sub("<EMAIL>", text)
    return _DIGITS.sub("***", text)


def mask_value(value: str) -> str:
    """A removed PII value shown only by its shape: first character, then ``*`` per character."""
    return value[:1] + re.sub(r"\S", "*", value[1:])
