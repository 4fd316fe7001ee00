"""Errors a user is meant to read: each names the file, row or key at fault."""

from __future__ import annotations

import difflib
import errno
import os
import signal
import sys
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


# ---------------------------------------------------------------- failpoints (test hook)
# CURATE_FAILPOINT=name:n[:action] makes the n-th hit of ``failpoint(name)`` in a process fail:
# ``kill`` (default) SIGKILLs the run as a dead machine would (its whole session when the run
# leads one, as the crash harness starts it with start_new_session; else this process), ``enospc``
# raises OSError(ENOSPC) as a full disk would, ``die-once:<file>`` SIGKILLs only the process
# that hits it (a worker dying mid-task; the executor retries the task), in the first process
# to create <file>, so that the retry, in whatever process or node, runs through. Any value
# counts every point's hits in _HITS (set it to "" to only count). Read once at import; unset,
# a hit costs one comparison.
_FAILPOINT = os.environ.get("CURATE_FAILPOINT")
_HITS: dict[str, int] = {}
# CURATE_FAILPOINT_COUNTS=<folder>: count the hits over every process of the run instead (a byte
# appended to <folder>/<name> per hit), so that the n-th hit is the run's whatever process hits
# it and however long the pool's workers live (the local pool ends them between phases)
_COUNTS = os.environ.get("CURATE_FAILPOINT_COUNTS")


def failpoint(name: str) -> None:
    if _FAILPOINT is None:
        return
    _HITS[name] = _HITS.get(name, 0) + 1
    target, _, rest = _FAILPOINT.partition(":")
    nth, _, action = rest.partition(":")
    if name != target:
        return
    hit = _HITS[name]
    if _COUNTS:
        fd = os.open(os.path.join(_COUNTS, name), os.O_CREAT | os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, b".")  # O_APPEND: the offset after it is this hit's number in the run
            hit = os.lseek(fd, 0, os.SEEK_CUR)
        finally:
            os.close(fd)
    if hit != int(nth or 1):
        return
    if action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC) + f" (failpoint {name})")
    if action.startswith("die-once:"):
        try:
            os.close(os.open(action.partition(":")[2], os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdout.flush()
    if os.getsid(0) in (os.getpid(), os.getppid()):  # the run (or its worker) leads a session
        os.killpg(os.getsid(0), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
