"""Object storage: ``s3://``, ``gs://`` and ``hf://`` paths beside local ones.

S3 goes through pyarrow's own S3 filesystem (credentials from the usual AWS environment and
files; ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``) points it at an S3-compatible store).
``gs://`` and ``hf://`` go through fsspec (gcsfs, huggingface_hub) when installed.

Object stores have no rename: curate never renames there. An object is written once under its
final name (a PUT is all or nothing), and a run's output folder is *published*: every object
first, then ``_manifest.json`` listing them (name, size), written last. A reader of a folder that
holds a manifest trusts only what it lists (``discover_files``), so a half-published folder
reads as the previous complete one or as nothing.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs

from curate.errors import CurateError, InputError, failpoint

SCHEMES = ("s3", "gs", "gcs", "hf")
MANIFEST = "_manifest.json"
_URL = re.compile(r"^([a-z0-9]+)://(.*)$")


def is_remote(path: str) -> bool:
    m = _URL.match(str(path))
    return bool(m and m.group(1) in SCHEMES)


def split(url: str) -> tuple[str, str]:
    """("s3", "bucket/key") of "s3://bucket/key"."""
    m = _URL.match(url)
    if not m or m.group(1) not in SCHEMES:
        raise InputError(
            f"{url}: not an object-store URL ({', '.join(s + '://' for s in SCHEMES)})"
        )
    return m.group(1), m.group(2).rstrip("/")


def join(url: str, *parts: str) -> str:
    return "/".join([url.rstrip("/"), *parts])


@lru_cache(maxsize=8)
def _filesystem(scheme: str, endpoint: str | None) -> pafs.FileSystem:
    if scheme == "s3":
        kwargs = {}
        if endpoint:
            kwargs["endpoint_override"] = endpoint
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            kwargs["region"] = region
        return pafs.S3FileSystem(**kwargs)
    try:
        if scheme in ("gs", "gcs"):
            import gcsfs

            fs = gcsfs.GCSFileSystem()
        else:
            from huggingface_hub import HfFileSystem

            fs = HfFileSystem()
    except ImportError:
        package = "huggingface_hub" if scheme == "hf" else "gcsfs"
        raise CurateError(f"{scheme}:// paths need {package} (pip install {package})") from None
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs))


def filesystem(url: str) -> tuple[pafs.FileSystem, str]:
    """(pyarrow filesystem, path in it) for an object-store URL."""
    scheme, path = split(url)
    endpoint = None
    if scheme == "s3":
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return _filesystem(scheme, endpoint), path


_DENIED = (
    "ACCESS_DENIED",
    "AccessDenied",
    "InvalidAccessKeyId",
    "INVALID_ACCESS_KEY_ID",
    "SignatureDoesNotMatch",
    "SIGNATURE_DOES_NOT_MATCH",
    "403",
)


def explain(url: str, exc: BaseException) -> str:
    """One line for a storage error: which URL, and the store's own words."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    hint = ""
    if "NO_SUCH_BUCKET" in text or "NoSuchBucket" in text:
        hint = "the bucket does not exist"
    elif any(k in text for k in _DENIED):
        hint = "access denied: check the credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...)"
    return f"{url}: {hint + ' (' + text[:300] + ')' if hint else text[:300]}"


def list_files(url: str) -> list[tuple[str, int, str]]:
    """(object url, size, logical url) of every object under ``url`` (a prefix, or a glob), in
    order. When the folder holds a manifest, only what it lists: a published object's key
    carries its run's id (``data/part-00000-<id>.parquet``), its logical name does not."""
    fs, path = filesystem(url)
    scheme = split(url)[0]
    glob_at = re.search(r"[*?\[]", path)
    base = path[: glob_at.start()].rsplit("/", 1)[0] if glob_at else path
    try:
        info = fs.get_file_info(base)
        if info.type == pafs.FileType.File and not glob_at:
            return [(url, info.size, url)]
        found = _find_manifest(fs, base)
        if found is not None:  # a published folder, or a folder inside one
            top, manifest = found
            entries = [
                (f"{top}/{obj}", size, f"{top}/{name}")
                for name, obj, size in manifest
                if f"{top}/{name}".startswith(base + "/") or f"{top}/{name}" == base
            ]
        else:
            selector = pafs.FileSelector(base, recursive=True, allow_not_found=True)
            entries = [(i.path, i.size, i.path) for i in fs.get_file_info(selector) if i.is_file]
        bucket = base.split("/", 1)[0]
        if not entries and fs.get_file_info(bucket).type == pafs.FileType.NotFound:
            raise InputError(f"{url}: the bucket {bucket} does not exist (or is not visible)")
    except (OSError, pa.ArrowException) as exc:
        raise InputError(explain(url, exc)) from None
    if glob_at:
        entries = [e for e in entries if _under_match(e[2], path)]
    return sorted(
        ((f"{scheme}://{o}", size, f"{scheme}://{n}") for o, size, n in entries),
        key=lambda e: e[2],
    )


def _under_match(key: str, pattern: str) -> bool:
    """``key`` or a folder above it matches the glob (``s3://b/dump=*`` matches its files)."""
    parts = key.split("/")
    return any(fnmatch.fnmatchcase("/".join(parts[:i]), pattern) for i in range(1, len(parts) + 1))


def _find_manifest(fs: pafs.FileSystem, base: str) -> tuple[str, list[tuple[str, str, int]]] | None:
    """The manifest of ``base`` or of the nearest folder above it (up to the bucket)."""
    parts = base.split("/")
    for i in range(len(parts), 0, -1):
        top = "/".join(parts[:i])
        manifest = _read_manifest(fs, top)
        if manifest is not None:
            return top, manifest
    return None


def _read_manifest(fs: pafs.FileSystem, base: str) -> list[tuple[str, str, int]] | None:
    if fs.get_file_info(f"{base}/{MANIFEST}").type != pafs.FileType.File:
        return None
    with fs.open_input_stream(f"{base}/{MANIFEST}") as f:
        body = json.loads(f.read())
    return [(e["name"], e["object"], int(e["size"])) for e in body["objects"]]


def open_raw(path: str | bytes):
    """A binary file, local or remote, for reading."""
    if isinstance(path, str) and is_remote(path):
        return open_input(path)
    return open(path, "rb")  # noqa: SIM115 (the caller closes it)


def open_input(url: str) -> pa.NativeFile:
    """A random-access file for an object (footers, byte ranges)."""
    fs, path = filesystem(url)
    try:
        return fs.open_input_file(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(explain(url, exc)) from None


def read_bytes(url: str) -> bytes:
    with open_input(url) as f:
        return f.read()


def write_bytes(url: str, data: bytes) -> None:
    """One object, written once: the store shows it whole or not at all."""
    fs, path = filesystem(url)
    try:
        with fs.open_output_stream(path) as f:
            f.write(data)
    except (OSError, pa.ArrowException) as exc:
        raise CurateError(explain(url, exc)) from None


def upload(local: Path, url: str) -> None:
    fs, path = filesystem(url)
    try:
        pafs.copy_files(str(local), path, destination_filesystem=fs)
    except (OSError, pa.ArrowException) as exc:
        raise CurateError(explain(url, exc)) from None


def publish(
    local: Path, url: str, run_id: str | None, skip: tuple[str, ...] = (), delete_stale: bool = True
) -> dict:
    """Upload every file under ``local`` (but names starting with ``skip``) to ``url`` under a
    name carrying ``run_id`` (written once, never overwritten, never renamed), then the manifest
    that maps each logical name to its object, last; then delete what no manifest lists any
    more (an earlier run's objects). Objects already there (a resumed publish) are not sent
    again. Returns the manifest."""
    fs, base = filesystem(url)
    try:
        present = {
            i.path[len(base) + 1 :]: i.size
            for i in fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
            if i.is_file
        }
    except (OSError, pa.ArrowException) as exc:
        raise CurateError(explain(url, exc)) from None
    if MANIFEST not in present:  # a first publish: an empty manifest first, so that a reader
        # of the half-published folder trusts nothing rather than every object it finds
        write_bytes(join(url, MANIFEST), json.dumps({"run_id": run_id, "objects": []}).encode())
    objects = []
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        name = path.relative_to(local).as_posix()
        if name.startswith(skip) or any(part.startswith(".") for part in name.split("/")):
            continue
        tag = run_id or _content_id(path)  # None: named by content, unchanged files stay
        stem, dot, ext = name.rpartition(".")
        obj = f"{stem}-{tag}.{ext}" if dot and "/" not in ext else f"{name}-{tag}"
        size = path.stat().st_size
        if present.get(obj) != size:
            failpoint("publish_object")
            upload(path, join(url, obj))
        objects.append({"name": name, "object": obj, "size": size})
    manifest = {"run_id": run_id, "objects": objects}
    write_bytes(join(url, MANIFEST), json.dumps(manifest, indent=1).encode())
    listed = {o["object"] for o in objects} | {MANIFEST}
    stale = [f"{base}/{k}" for k in present if k not in listed]
    if stale and delete_stale:
        try:
            for key in stale:
                fs.delete_file(key)
        except (OSError, pa.ArrowException):
            pass  # garbage a reader never trusts: it is in no manifest
    return manifest


def _content_id(path: Path) -> str:
    import xxhash

    digest = xxhash.xxh3_64()
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:12]


def pull(url: str, local: Path) -> int:
    """Mirror the published folder ``url`` (what its manifest lists) into ``local``; files
    already there with the same size are kept, and so are local files it does not list (a
    killed run's work, resumed from here). Returns the number of objects fetched."""
    fs, base = filesystem(url)
    try:
        found = _find_manifest(fs, base)
        if found is None or found[0] != base:
            listed = fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
            if any(i.is_file for i in listed):
                raise CurateError(
                    f"{url}: holds objects but no {MANIFEST}: not a folder curate published"
                )
            bucket = base.split("/", 1)[0]
            if fs.get_file_info(bucket).type == pafs.FileType.NotFound:
                raise CurateError(f"{url}: the bucket {bucket} does not exist")
            return 0  # a new index: nothing yet
        fetched = 0
        for name, obj, size in found[1]:
            target = local / name
            if target.exists() and target.stat().st_size == size:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            with fs.open_input_stream(f"{base}/{obj}") as src, open(tmp, "wb") as dst:
                while chunk := src.read(8 << 20):
                    dst.write(chunk)
            os.replace(tmp, target)
            fetched += 1
    except (OSError, pa.ArrowException) as exc:
        raise CurateError(explain(url, exc)) from None
    return fetched


def check_writable(url: str) -> None:
    """Fail before any work when ``url`` cannot be written: a missing bucket, refused
    credentials (a probe object is written and deleted at the bucket's top; a policy that only
    refuses the prefix shows when the run publishes)."""
    import uuid

    fs, base = filesystem(url)
    bucket = base.split("/", 1)[0]
    try:
        if fs.get_file_info(bucket).type == pafs.FileType.NotFound:
            raise CurateError(f"{url}: the bucket {bucket} does not exist")
        # at the bucket's top: deleting an object under a prefix makes pyarrow leave a folder
        # marker there
        probe = f"{bucket}/.curate-probe-{uuid.uuid4().hex[:8]}"
        with fs.open_output_stream(probe) as f:
            f.write(b"")
        fs.delete_file(probe)
    except (OSError, pa.ArrowException) as exc:
        raise CurateError(explain(url, exc)) from None


def staging_dir(url: str) -> Path:
    """Where a run whose output is ``url`` keeps its working files (``CURATE_STAGING`` or
    ~/.cache/curate/staging), one folder per output URL: a resumed run finds its work there."""
    import hashlib

    root = Path(os.environ.get("CURATE_STAGING") or Path.home() / ".cache" / "curate" / "staging")
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", url)[-80:]
    return root / f"{name}-{hashlib.sha256(url.encode()).hexdigest()[:12]}"


# stage parameters that name model files (a model's companions, <stem>.*, come with it)
MODEL_KEYS = ("models", "model", "sentencepiece", "tokenizer")


def localize_models(params: dict) -> dict:
    """``params`` with every object-store URL under a model key replaced by a local copy (in
    ``CURATE_MODEL_CACHE`` or ~/.cache/curate/models), fetched once per machine with the
    objects beside it that share its stem (``en.arpa`` brings ``en.sp.model``)."""
    if not isinstance(params, dict) or not any(k in params for k in MODEL_KEYS):
        return params
    out = dict(params)
    for key in MODEL_KEYS:
        if key in out:
            out[key] = _localize(out[key])
    return out


def _localize(value):
    if isinstance(value, dict):
        return {k: _localize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_localize(v) for v in value]
    if isinstance(value, str) and is_remote(value):
        return str(fetch_model(value))
    return value


def fetch_model(url: str) -> Path:
    """A local copy of the model at ``url`` and of its companions; objects already fetched with
    the same size are not fetched again."""
    import hashlib

    folder, _, name = url.rstrip("/").rpartition("/")
    stem = name.split(".", 1)[0]
    root = Path(
        os.environ.get("CURATE_MODEL_CACHE") or Path.home() / ".cache" / "curate" / "models"
    )
    local = root / hashlib.sha256(folder.encode()).hexdigest()[:16]
    fs, base = filesystem(folder)
    try:
        siblings = [
            i
            for i in fs.get_file_info(pafs.FileSelector(base, recursive=False))
            if i.is_file and i.base_name.split(".", 1)[0] == stem
        ]
        if not any(i.base_name == name for i in siblings):
            raise FileNotFoundError(f"no object {name} under {folder}")
        local.mkdir(parents=True, exist_ok=True)
        for info in siblings:
            target = local / info.base_name
            if target.exists() and target.stat().st_size == info.size:
                continue
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            with fs.open_input_stream(info.path) as src, open(tmp, "wb") as dst:
                while chunk := src.read(8 << 20):
                    dst.write(chunk)
            os.replace(tmp, target)  # a local rename: two workers fetching at once both win
    except (OSError, pa.ArrowException) as exc:
        raise CurateError(explain(url, exc)) from None
    return local / name
