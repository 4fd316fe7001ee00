"""Errors a user is meant to read: each names the file, row or key at fault."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class CurateError(Exception):
    """Base class: the message is the whole story, no traceback needed."""


class ConfigError(CurateError):
    """A pipeline YAML or a stage parameter is wrong."""


class InputError(CurateError):
    """An input file cannot be used (unreadable, wrong schema, bad hive folder)."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest valid choice, or '' when nothing is close."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""
