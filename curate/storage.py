"""Object storage: ``s3://``, ``gs://`` and ``hf://`` paths beside local ones.

S3 goes through pyarrow's own S3 filesystem (credentials from the usual AWS environment and
files; ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``) points it at an S3-compatible store).
``gs://`` and ``hf://`` go through fsspec (gcsfs, huggingface_hub) when installed.

Object stores have no rename: curate never renames there. ``RemotePath`` gives a key the parts
of ``pathlib.Path`` the runner uses, so a run whose output is in a bucket writes every file
(outputs, markers, collect and exchange files, decisions) straight there from the process that
makes it, each as one object under the run's own prefix (``URL/_runs/<id>/``, ``begin_run``);
the driver then writes ``_manifest.json``, listing them (name, object, size), last
(``publish_run``). A reader of a folder that holds a manifest trusts only what it lists
(``list_files``), so a half-written folder reads as the previous complete one or as nothing.
A cross-dump index in a bucket is read and written in place (curate.index.store): its lock and
each dump's commit are objects created only if absent (``create_once``: S3's ``If-None-Match: *``,
GCS's ``ifGenerationMatch=0``). The Hub (``hf://``) is written by commits (curate.hub): a run's
output is staged locally and published by one commit; create-once is a commit made against the
head at which the path is absent (``parent_commit``).
"""

from __future__ import annotations

import fnmatch
import io
import json
import os
import re
from functools import lru_cache
from pathlib import Path, PurePosixPath

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
            fs = _gcs_filesystem()
        else:
            from huggingface_hub import HfFileSystem

            fs = HfFileSystem()
    except ImportError:
        package = "huggingface_hub" if scheme == "hf" else "gcsfs"
        raise CurateError(f"{scheme}:// paths need {package} (pip install {package})") from None
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs))


def _gcs_filesystem():
    """gcsfs's plain filesystem (its default, with experimental zonal/hierarchical bucket
    support, asks a gRPC control API for every bucket's type, which an emulator or a firewalled
    network answers only after minutes of retries), opening files with a read-ahead cache: its
    default background prefetcher, on files pyarrow opens from other threads, hung runs here."""
    from gcsfs.core import GCSFileSystem

    class ReadAhead(GCSFileSystem):
        def _open(self, path, mode="rb", **kwargs):
            if "r" in mode:
                kwargs["cache_type"] = kwargs.get("cache_type") or "readahead"
            return super()._open(path, mode, **kwargs)

    # no listings cache: other processes (workers, other nodes) write the objects this one lists
    return ReadAhead(use_listings_cache=False)


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
    if url.startswith("hf://"):
        if any(k in text for k in ("401", "403", "Unauthorized", "Forbidden")):
            hint = "access denied: check the token (HF_TOKEN, or hf auth login)"
        elif "Repository Not Found" in text or "RepositoryNotFound" in text:
            hint = "the repository does not exist (or is not visible with this token, HF_TOKEN)"
    elif "NO_SUCH_BUCKET" in text or "NoSuchBucket" in text:
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
        found = _find_manifest(fs, base, _container(scheme, base))
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
        bucket = _container(scheme, base)
        if not entries and fs.get_file_info(bucket).type == pafs.FileType.NotFound:
            what = "repository" if scheme == "hf" else "bucket"
            raise InputError(f"{url}: the {what} {bucket} does not exist (or is not visible)")
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


def _container(scheme: str, key: str) -> str:
    """The bucket of a key (``corpus`` of ``corpus/in/a.parquet``); on the Hub, the repository
    (``datasets/user/name`` of ``datasets/user/name/data/a.parquet``, a model's ``user/name``),
    above which there are no files."""
    parts = key.split("/")
    if scheme != "hf":
        return parts[0]
    return "/".join(parts[: 3 if parts[0] in ("datasets", "spaces") else 2])


def _find_manifest(
    fs: pafs.FileSystem, base: str, top: str | None = None
) -> tuple[str, list[tuple[str, str, int]]] | None:
    """The manifest of ``base`` or of the nearest folder above it (up to ``top``, the bucket)."""
    parts = base.split("/")
    lowest = len(top.split("/")) if top else 1
    for i in range(len(parts), lowest - 1, -1):
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


def open_raw(path: str | bytes | os.PathLike | RemotePath):
    """A binary file, local or remote, for reading."""
    if isinstance(path, RemotePath):
        return open_input(path.url)
    if isinstance(path, str) and is_remote(path):
        return open_input(path)
    return open(path, "rb")  # noqa: SIM115 (the caller closes it)


def open_input(url: str) -> pa.NativeFile:
    """A random-access file for an object (footers, byte ranges); FileNotFoundError when there
    is no such object."""
    fs, path = filesystem(url)
    try:
        if isinstance(fs, pafs.PyFileSystem):  # an fsspec store: ranged reads, no open file
            return _ranged(fs.handler.fs, path)
        return fs.open_input_file(path)
    except FileNotFoundError:
        raise FileNotFoundError(url) from None
    except (OSError, pa.ArrowException) as exc:
        raise InputError(explain(url, exc)) from None


class _RangeReader(io.RawIOBase):
    """An object read by byte ranges (``cat_file(path, start, end)``, one request each, done
    when it returns): gcsfs's open files finish closing in a background thread and, read by
    pyarrow, left their HTTP connections taken until none was left (runs hung)."""

    def __init__(self, fs, path: str) -> None:
        self.fs, self.path, self.pos = fs, path, 0
        self.size = int(fs.size(path))

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: 0, 1: self.pos, 2: self.size}[whence] + offset
        return self.pos

    def readinto(self, buffer) -> int:
        end = min(self.pos + len(buffer), self.size)
        if end <= self.pos:
            return 0
        data = self.fs.cat_file(self.path, start=self.pos, end=end)
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)


def _ranged(fs, path: str) -> pa.NativeFile:
    return pa.PythonFile(io.BufferedReader(_RangeReader(fs, path), 1 << 20), mode="r")


def read_bytes(url: str) -> bytes:
    with open_input(url) as f:
        return f.read()


def write_bytes(url: str, data: bytes) -> None:
    """One object, written once: the store shows it whole or not at all (on the Hub: one
    commit, so this is for the odd small file; runs and indexes batch theirs, curate.hub)."""
    if split(url)[0] == "hf":
        from curate import hub

        root, _, name = url.rpartition("/")
        hub.commit(root, {name: data}, message=f"curate: write {name}")
        return
    fs, path = filesystem(url)
    try:
        if isinstance(fs, pafs.PyFileSystem):  # an fsspec store: one upload, done on return
            # (gcsfs may finish a file's upload in a background thread after close())
            fs.handler.fs.pipe_file(path, data)
        else:
            with fs.open_output_stream(path) as f:
                f.write(data)
    except (OSError, pa.ArrowException) as exc:
        raise CurateError(explain(url, exc)) from None


def create_once(url: str, data: bytes) -> bool:
    """Write the object ``url`` only if no object is there: True when this call created it,
    False when one already was (the store decides, atomically: S3's conditional PUT with
    ``If-None-Match: *`` through boto3, GCS's ``ifGenerationMatch=0`` through gcsfs, on the Hub
    a commit against the head at which the path is absent, ``parent_commit``). What an index's
    lock and its commits rest on."""
    scheme, path = split(url)
    if scheme == "hf":
        from curate import hub

        return hub.create_once(url, data)
    if scheme == "s3":
        try:
            from botocore.exceptions import BotoCoreError, ClientError
        except ImportError:
            raise CurateError(
                f"{url}: an index in an S3 bucket needs boto3 (pip install boto3)"
            ) from None
        bucket, _, key = path.partition("/")
        try:
            _s3_client().put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*")
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (
                409,
                412,
            ):
                return False
            raise CurateError(explain(url, exc)) from None
        except BotoCoreError as exc:
            raise CurateError(explain(url, exc)) from None
        return True
    if scheme in ("gs", "gcs"):
        fs = filesystem(url)[0].handler.fs
        try:
            fs.pipe_file(path, data, mode="create")
        except FileExistsError:
            return False
        except OSError as exc:
            if "412" in str(exc) or "conditionNotMet" in str(exc):
                return False
            raise CurateError(explain(url, exc)) from None
        return True
    raise CurateError(f"{url}: {scheme}:// has no write-if-absent")


@lru_cache(maxsize=4)
def _s3_client_for(endpoint: str | None, region: str | None):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name=region)


def _s3_client():
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return _s3_client_for(endpoint, region)


def upload(local: Path, url: str) -> None:
    if split(url)[0] == "hf":
        from curate import hub

        root, _, name = url.rpartition("/")
        hub.commit(root, {name: Path(local)}, message=f"curate: write {name}")
        return
    fs, path = filesystem(url)
    try:
        if isinstance(fs, pafs.PyFileSystem):  # an fsspec store (gs://, hf://): its own upload,
            # in this thread (pyarrow's copy_files deadlocks on gcsfs's event loop)
            fs.handler.fs.put_file(str(local), path)
        else:
            pafs.copy_files(str(local), path, destination_filesystem=fs)
    except (OSError, pa.ArrowException) as exc:
        raise CurateError(explain(url, exc)) from None


def check_writable(url: str) -> None:
    """Fail before any work when ``url`` cannot be written: a missing bucket, refused
    credentials (a probe object is written and deleted at the bucket's top; a policy that only
    refuses the prefix shows when the run publishes)."""
    import uuid

    if split(url)[0] == "hf":
        from curate import hub

        return hub.check_writable(url)
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


# ---------------------------------------------------------------- a run's folder in the bucket


class _Stat:
    __slots__ = ("st_size",)

    def __init__(self, size: int) -> None:
        self.st_size = size


class RemotePath:
    """An object-store key with the parts of ``pathlib.Path`` the runner uses (``/``, ``name``,
    ``parent``, ``exists``, ``glob``, ``read_text``, ``unlink``...), so that the same code
    writes a run's files into a local folder or straight into a bucket. A "folder" is a key
    prefix; ``mkdir`` does nothing. It has no ``__fspath__`` on purpose: code that would
    ``open()`` it as a local file fails loudly instead of writing a local file named ``s3:``."""

    __slots__ = ("url",)

    def __init__(self, url: str) -> None:
        split(url)  # an object-store URL, or a clear error
        self.url = url.rstrip("/")

    def __truediv__(self, other: str | os.PathLike) -> RemotePath:
        return RemotePath(f"{self.url}/{os.fspath(other)}" if str(other) else self.url)

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"RemotePath({self.url!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemotePath) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)

    def __lt__(self, other: RemotePath) -> bool:
        return self.url < other.url

    @property
    def name(self) -> str:
        return self.url.rsplit("/", 1)[1]

    @property
    def parent(self) -> RemotePath:
        return RemotePath(self.url.rsplit("/", 1)[0])

    @property
    def suffix(self) -> str:
        name = self.name
        return name[name.rfind(".") :] if "." in name.lstrip(".") else ""

    @property
    def stem(self) -> str:
        return self.name[: len(self.name) - len(self.suffix)]

    def with_name(self, name: str) -> RemotePath:
        return self.parent / name

    def with_suffix(self, suffix: str) -> RemotePath:
        return self.parent / (self.stem + suffix)

    def _fs(self) -> tuple[pafs.FileSystem, str]:
        return filesystem(self.url)

    def _info(self) -> pafs.FileInfo:
        fs, key = self._fs()
        try:
            return fs.get_file_info(key)
        except (OSError, pa.ArrowException) as exc:
            raise CurateError(explain(self.url, exc)) from None

    def exists(self) -> bool:
        return self._info().type != pafs.FileType.NotFound

    def is_file(self) -> bool:
        return self._info().type == pafs.FileType.File

    def is_dir(self) -> bool:
        return self._info().type == pafs.FileType.Directory

    def is_symlink(self) -> bool:
        return False

    def stat(self) -> _Stat:
        info = self._info()
        if info.type == pafs.FileType.NotFound:
            raise FileNotFoundError(self.url)
        return _Stat(info.size or 0)

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        """Nothing to do: a prefix exists once an object is written under it."""

    def read_bytes(self) -> bytes:
        try:
            with open_input(self.url) as f:
                return f.read()
        except FileNotFoundError:
            raise
        except (OSError, pa.ArrowException) as exc:
            if self._info().type == pafs.FileType.NotFound:
                raise FileNotFoundError(self.url) from None
            raise CurateError(explain(self.url, exc)) from None

    def read_text(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return self.read_bytes().decode(encoding, errors)

    def write_bytes(self, data: bytes) -> None:
        write_bytes(self.url, data)

    def unlink(self, missing_ok: bool = False) -> None:
        if split(self.url)[0] == "hf":  # a commit (none when the file is not there)
            from curate import hub

            if not missing_ok and not self.exists():
                raise FileNotFoundError(self.url)
            return hub.delete(self.url)
        fs, key = self._fs()
        try:
            fs.delete_file(key)
        except FileNotFoundError:
            if not missing_ok:
                raise
        except (OSError, pa.ArrowException) as exc:
            if self._info().type == pafs.FileType.NotFound:
                if missing_ok:
                    return
                raise FileNotFoundError(self.url) from None
            raise CurateError(explain(self.url, exc)) from None

    def _list(self, recursive: bool) -> list[pafs.FileInfo]:
        fs, key = self._fs()
        selector = pafs.FileSelector(key, recursive=recursive, allow_not_found=True)
        try:
            return fs.get_file_info(selector)
        except (OSError, pa.ArrowException) as exc:
            raise CurateError(explain(self.url, exc)) from None

    def _child(self, info: pafs.FileInfo) -> RemotePath:
        key = self._fs()[1]
        return self / info.path[len(key) + 1 :]

    def iterdir(self) -> list[RemotePath]:
        return sorted(self._child(i) for i in self._list(False))

    def glob(self, pattern: str) -> list[RemotePath]:
        """Children whose name matches ``pattern`` (one level, as ``Path.glob`` without ``/``)."""
        return [p for p in self.iterdir() if fnmatch.fnmatchcase(p.name, pattern)]

    def rglob(self, pattern: str) -> list[RemotePath]:
        """Objects at any depth whose name matches ``pattern``."""
        found = [self._child(i) for i in self._list(True) if i.is_file]
        return sorted(p for p in found if fnmatch.fnmatchcase(p.name, pattern))

    def relative_to(self, other: RemotePath) -> PurePosixPath:
        if not self.is_relative_to(other):
            raise ValueError(f"{self.url} is not under {other}")
        return PurePosixPath(self.url[len(other.url) + 1 :])

    def resolve(self) -> RemotePath:
        return self

    def is_relative_to(self, other: object) -> bool:
        return isinstance(other, RemotePath) and (
            self.url == other.url or self.url.startswith(other.url + "/")
        )


def path(where: str | os.PathLike | RemotePath, *parts: str) -> Path | RemotePath:
    """``Path(where, *parts)``, or a ``RemotePath`` when ``where`` is an object-store URL."""
    if not isinstance(where, RemotePath):
        text = os.fspath(where)
        if not is_remote(text):
            return Path(text, *parts)
        where = RemotePath(text)
    for part in parts:
        where = where / part
    return where


def source(where: str | os.PathLike | RemotePath):
    """What pyarrow's readers take: the local path itself, or for an object a random-access
    file that holds no connection between reads (callers hand it to ``pq.read_table`` and
    forget it)."""
    url = where.url if isinstance(where, RemotePath) else where
    if not (isinstance(url, str) and is_remote(url)):
        return where
    return open_input(url)


def rmtree(where: str | os.PathLike | RemotePath) -> None:
    """Delete a folder (a key prefix) and everything under it; a missing one is fine."""
    import shutil

    if isinstance(where, RemotePath) or (isinstance(where, str) and is_remote(where)):
        if split(str(where))[0] == "hf":  # a commit deleting the folder, when it is there
            from curate import hub

            if RemotePath(str(where)).is_dir():
                root, _, name = str(where).rstrip("/").rpartition("/")
                hub.commit(root, deletes=[name + "/"], message=f"curate: delete {name}")
            return
        fs, key = filesystem(str(where))
        try:
            fs.delete_dir(key)
        except FileNotFoundError:
            pass
        except (OSError, pa.ArrowException):
            pass  # left-over objects in a run's work folder are never read as output
        return
    shutil.rmtree(where, ignore_errors=True)


def upload_file(local: str | os.PathLike, where: RemotePath) -> None:
    """A local file sent as one object: whole, or (killed half way) not at all."""
    failpoint("upload_object")
    upload(Path(local), where.url)


# A run whose output is in a bucket writes straight there, under a prefix of its own:
#   URL/_runs/<run id>/data/part-00000.parquet ...   written by the workers that make them
#   URL/_runs/<run id>/_work/...                      markers, collect files, decisions
#   URL/_run.json                                     {"run_id"}: the run --resume continues
#   URL/_manifest.json                                written last: logical name -> object
RUNS = "_runs"
CURRENT = "_run.json"


def begin_run(url: str, resume: bool, work: str = "_work") -> str:
    """The prefix a run writes its output under: the interrupted run's with ``resume`` (when
    there is one), else a new one. The first run into an empty folder writes an empty manifest
    first, so that a reader of the folder while the run writes trusts nothing."""
    import uuid

    if split(url)[0] == "hf":  # staged in a local folder, committed in one commit
        from curate import hub

        return hub.begin_run(url, resume)
    check_writable(url)
    current = RemotePath(join(url, CURRENT))
    run_id = None
    if resume:
        try:
            run_id = json.loads(current.read_bytes())["run_id"]
        except FileNotFoundError:
            run_id = None
    if run_id is None:
        run_id = uuid.uuid4().hex[:12]
        if not RemotePath(join(url, MANIFEST)).exists():
            write_bytes(join(url, MANIFEST), json.dumps({"run_id": None, "objects": []}).encode())
        write_bytes(current.url, json.dumps({"run_id": run_id}).encode())
    return join(url, RUNS, run_id)


def publish_run(url: str, run_url: str, work: str = "_work") -> dict:
    """Publish the finished run under ``run_url``: ``_manifest.json`` listing every object it
    wrote outside its work folder, written last (one PUT: readers switch from the previous
    run's output to this one's at once); then the objects of earlier runs are deleted. On the
    Hub, the run was staged locally and is published by one commit (curate.hub)."""
    if split(url)[0] == "hf":
        from curate import hub

        return hub.publish_run(url, run_url, work)
    fs, base = filesystem(url)
    run_key = filesystem(run_url)[1]
    run_id = run_key.rsplit("/", 1)[1]
    try:
        found = fs.get_file_info(pafs.FileSelector(run_key, recursive=True, allow_not_found=True))
    except (OSError, pa.ArrowException) as exc:
        raise CurateError(explain(url, exc)) from None
    objects = []
    for info in sorted(found, key=lambda i: i.path):
        name = info.path[len(run_key) + 1 :]
        if not info.is_file or name.startswith(work + "/") or name.endswith("/"):
            continue
        objects.append({"name": name, "object": f"{RUNS}/{run_id}/{name}", "size": info.size})
    failpoint("publish_manifest")
    manifest = {"run_id": run_id, "objects": objects}
    write_bytes(join(url, MANIFEST), json.dumps(manifest, indent=1).encode())
    # what no manifest lists any more: earlier runs, and objects of the older layout
    try:
        for info in fs.get_file_info(pafs.FileSelector(base, recursive=False)):
            name = info.path[len(base) + 1 :]
            if name in (MANIFEST, CURRENT):
                continue
            if name == RUNS:
                for run in fs.get_file_info(pafs.FileSelector(info.path, recursive=False)):
                    if run.base_name != run_id:
                        rmtree(f"{split(url)[0]}://{run.path}")
            elif info.is_file:
                fs.delete_file(info.path)
            elif name in ("data", "removed", "quarantine"):
                fs.delete_dir(info.path)
    except (OSError, pa.ArrowException):
        pass  # garbage a reader never trusts: it is in no manifest
    return manifest
