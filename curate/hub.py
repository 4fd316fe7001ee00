"""Writing to the Hugging Face Hub (``hf://``): a repository changes by commits, not by objects.

A Hub commit is atomic (every file it adds or deletes appears at once, or none does) and can be
conditional: ``parent_commit`` makes it fail (HTTP 412, "A commit has happened since") when the
branch moved since that commit. That is a compare-and-swap over the whole repository, which is
what curate's commits rest on:

- ``commit``: one commit of many files, against the head this process read; when the head moved
  meanwhile, the check and the commit are done again against the new head. With ``absent``, the
  commit is made only if none of those paths exists at the head it is made against: a
  create-once (``create_once``: an index's ``_lock.json``, each dump's ``meta.json``).
- A run whose ``--output`` is ``hf://`` stages its files in a local folder (``staging``,
  ``CURATE_HF_STAGING``), where it runs, resumes and renames as any local run, and publishes
  them with one commit (``publish_run``): every file under its plain name plus
  ``_manifest.json`` listing them, and the deletion of what the previous manifest listed and
  this one does not. A reader sees the previous run's output or this one's, never a mix.
- An ``index:`` on the Hub is read in place; a dump's pieces are staged in a local folder by the
  barrier's tasks and committed with its ``meta.json`` in one commit, created only if that
  ``meta.json`` is absent (``curate.index.store``).

Tokens come from ``HF_TOKEN`` (or ``hf auth login``), the endpoint from ``HF_ENDPOINT``, as for
every huggingface_hub client.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from curate.errors import CurateError, failpoint

ATTEMPTS = 8  # commits tried against a moving head before giving up
MANIFEST = "_manifest.json"


@dataclass(frozen=True)
class Target:
    """Where an ``hf://`` URL points: ``hf://datasets/user/name[@rev]/path``."""

    url: str
    repo_type: str  # "dataset", "model", "space"
    repo_id: str
    revision: str | None
    path: str  # in the repository, "" for its root

    def under(self, *parts: str) -> str:
        return "/".join(p for p in (self.path, *parts) if p)


def parse(url: str) -> Target:
    if not url.startswith("hf://"):
        raise CurateError(f"{url}: not an hf:// URL")
    parts = url[len("hf://") :].strip("/").split("/")
    repo_type = {"datasets": "dataset", "spaces": "space"}.get(parts[0], "model")
    if repo_type != "model":
        parts = parts[1:]
    if len(parts) < 2:
        raise CurateError(f"{url}: not a repository URL (hf://datasets/USER/NAME/...)")
    name, _, revision = parts[1].partition("@")
    return Target(url, repo_type, f"{parts[0]}/{name}", revision or None, "/".join(parts[2:]))


def _api():
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise CurateError("hf:// paths need huggingface_hub (pip install 'curate[s3]')") from None
    return HfApi()


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def explain(t: Target, exc: BaseException) -> str:
    """One line for an error of the Hub: which URL, what to check, the Hub's own words."""
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    kind = {"dataset": "datasets/", "space": "spaces/"}.get(t.repo_type, "")
    if isinstance(exc, RevisionNotFoundError):
        return f"{t.url}: the repository {kind}{t.repo_id} has no revision {t.revision or 'main'}"
    if isinstance(exc, RepositoryNotFoundError) or _status(exc) == 404:
        return (
            f"{t.url}: the repository {kind}{t.repo_id} does not exist (or is not visible with "
            f"this token, HF_TOKEN); curate does not create repositories: hf repo create "
            f"{t.repo_id} --repo-type {t.repo_type}"
        )
    if _status(exc) in (401, 403):
        return (
            f"{t.url}: access denied: check the token (HF_TOKEN, or hf auth login) and that it "
            f"may write to {kind}{t.repo_id} ({text[:200]})"
        )
    return f"{t.url}: {text[:300]}"


def _errors() -> tuple[type[BaseException], ...]:
    from huggingface_hub.errors import HfHubHTTPError

    try:
        import httpx

        return (HfHubHTTPError, OSError, ValueError, httpx.HTTPError)
    except ImportError:
        return (HfHubHTTPError, OSError, ValueError)


def invalidate() -> None:
    """Forget this process's listings of the Hub: HfFileSystem caches each folder it lists, and
    a commit of ours (or of a run before us) changes them."""
    from curate import storage

    storage.filesystem("hf://datasets/x/y")[0].handler.fs.invalidate_cache()


def head(t: Target) -> str:
    """The commit the branch points at now."""
    try:
        return _api().repo_info(t.repo_id, repo_type=t.repo_type, revision=t.revision).sha
    except _errors() as exc:
        raise CurateError(explain(t, exc)) from None


def existing(t: Target, paths: list[str], revision: str) -> set[str]:
    """Which of ``paths`` (in the repository) are files at ``revision``."""
    try:
        found = _api().get_paths_info(t.repo_id, paths, repo_type=t.repo_type, revision=revision)
    except _errors() as exc:
        raise CurateError(explain(t, exc)) from None
    return {f.path for f in found}


def commit(
    url: str,
    adds: dict[str, bytes | Path] | None = None,
    deletes: list[str] | None = None,
    absent: list[str] | None = None,
    message: str = "curate",
    plan=None,
) -> bool:
    """One commit to the repository of ``url``: ``adds`` (path under ``url`` -> content or a
    local file), ``deletes`` (paths under ``url``; a path ending in ``/`` is a folder), made
    against the head read here (``parent_commit``). When the head moved meanwhile (412), read
    it again, check again, commit again. False, with nothing committed, when a path of
    ``absent`` exists at the head (create-once lost). ``plan(head) -> (adds, deletes)`` instead
    computes them from the head (a publish that deletes what the previous manifest listed)."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    t = parse(url)
    api = _api()
    for attempt in range(ATTEMPTS):
        invalidate()
        sha = head(t)
        if absent and existing(t, [t.under(p) for p in absent], sha):
            return False
        if plan is not None:
            adds, deletes = plan(sha)
        ops = [
            CommitOperationAdd(t.under(p), data if isinstance(data, bytes) else str(data))
            for p, data in sorted((adds or {}).items())
        ]
        ops += [
            CommitOperationDelete(t.under(p.rstrip("/")), is_folder=p.endswith("/"))
            for p in deletes or []
        ]
        try:
            api.create_commit(
                t.repo_id,
                ops,
                commit_message=message,
                repo_type=t.repo_type,
                revision=t.revision,
                parent_commit=sha,
            )
        except _errors() as exc:
            if _status(exc) in (409, 412):  # the head moved: again, against the new head
                time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
                continue
            raise CurateError(explain(t, exc)) from None
        finally:
            invalidate()
        return True
    raise CurateError(
        f"{url}: the repository kept changing while curate committed to it ({ATTEMPTS} tries); "
        "run again"
    )


def create_once(url: str, data: bytes) -> bool:
    """The file ``url`` committed only if absent at the head it is committed against."""
    t = parse(url)
    root, _, name = url.rpartition("/")
    return commit(root, {name: data}, absent=[name], message=f"curate: create {t.path}")


def delete(url: str) -> None:
    """The file ``url`` deleted by a commit (none when it is not there)."""
    root, _, name = url.rpartition("/")
    t = parse(url)

    def plan(sha: str):
        return {}, [name] if existing(t, [t.path], sha) else []

    commit(root, plan=plan, message=f"curate: delete {t.path}")


def check_writable(url: str) -> None:
    """Fail before any work when ``url``'s repository is missing or the token cannot write
    there: the repository's info, then the Hub's pre-upload check of one path (what a commit
    asks first; it needs write access and commits nothing)."""
    from huggingface_hub import get_token

    t = parse(url)
    if not get_token():
        raise CurateError(
            f"{url}: writing to the Hugging Face Hub needs a token with write access: set "
            "HF_TOKEN (or run hf auth login)"
        )
    head(t)
    try:
        from huggingface_hub import CommitOperationAdd

        probe = CommitOperationAdd(t.under(".curate-probe"), b"")
        _api().preupload_lfs_files(t.repo_id, [probe], repo_type=t.repo_type, revision=t.revision)
    except _errors() as exc:
        raise CurateError(explain(t, exc)) from None


# ---------------------------------------------------------------- staging


def staging(url: str) -> Path:
    """The local folder where what curate commits to ``url`` is staged: ``CURATE_HF_STAGING``
    (default ``~/.cache/curate/hf-staging``), one folder per URL. On a cluster of several
    nodes it must be a folder every node shares."""
    root = os.environ.get("CURATE_HF_STAGING") or Path.home() / ".cache" / "curate" / "hf-staging"
    return Path(root) / hashlib.sha256(url.rstrip("/").encode()).hexdigest()[:16]


def begin_run(url: str, resume: bool) -> str:
    """The local folder a run into ``url`` writes to (and ``--resume`` continues in): its
    staging folder; without ``resume`` emptied first."""
    check_writable(url)
    folder = staging(url)
    if not resume:
        shutil.rmtree(folder, ignore_errors=True)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CurateError(
            f"{folder.parent}: cannot stage the run there ({exc.strerror}); set "
            "CURATE_HF_STAGING to a folder that can be written"
        ) from None
    return str(folder)


def publish_run(url: str, staged: str | Path, work: str = "_work") -> dict:
    """Commit the finished run in ``staged`` to ``url``, in one commit: every file but its work
    folder under its plain name, ``_manifest.json`` listing them (name, object, size), and the
    deletion of what the previous manifest listed that this run did not write. Then the staging
    folder is removed."""
    staged = Path(staged)
    files = {
        p.relative_to(staged).as_posix(): p
        for p in sorted(staged.rglob("*"))
        if p.is_file() and not p.relative_to(staged).as_posix().startswith((work + "/", "."))
    }
    objects = [{"name": n, "object": n, "size": p.stat().st_size} for n, p in files.items()]
    manifest = {"run_id": uuid.uuid4().hex[:12], "objects": objects}
    body = json.dumps(manifest, indent=1).encode()
    t = parse(url)

    def plan(sha: str):
        old = _manifest_at(t, sha)
        gone = sorted({o["name"] for o in old.get("objects", [])} - set(files))
        present = existing(t, [t.under(n) for n in gone], sha) if gone else set()
        return {**files, MANIFEST: body}, [n for n in gone if t.under(n) in present]

    failpoint("publish_manifest")
    commit(url, plan=plan, message=f"curate: publish run {manifest['run_id']}")
    shutil.rmtree(staged, ignore_errors=True)
    return manifest


def _manifest_at(t: Target, sha: str) -> dict:
    """The manifest at the branch (read by name: when the branch is no longer at ``sha``, the
    commit made against ``sha`` fails and the plan is made again)."""
    if not existing(t, [t.under(MANIFEST)], sha):
        return {}
    from curate import storage

    return json.loads(storage.read_bytes(f"{t.url.rstrip('/')}/{MANIFEST}"))
