"""A Hugging Face Hub endpoint on 127.0.0.1 for the part of the Hub's HTTP API that
huggingface_hub's ``HfFileSystem`` reads a dataset repository through and ``HfApi.create_commit``
writes it through (as moto's server is an S3 endpoint): point ``HF_ENDPOINT`` at it. One branch
(``main``) per repository, whose files are those of a local folder ``root/<namespace>/<name>/``;
reads are served at ``main`` or at its head commit.

The routes and response shapes follow huggingface_hub 2.4's client code (``HfApi.dataset_info``,
``HfApi.list_repo_tree``, ``HfApi.get_paths_info``, ``HfFileSystemFile._fetch_range``,
``hf_raise_for_status``):

- ``GET /api/datasets/{repo}`` and ``/api/datasets/{repo}/revision/{rev}``: the repository's info
  (``id``, ``sha``, ``siblings``...), or 404 with ``X-Error-Code: RepoNotFound`` /
  ``RevisionNotFound``;
- ``GET /api/datasets/{repo}/tree/{rev}[/{path}]?recursive=&expand=``: the entries under a folder
  (``type`` file/directory, ``oid``, ``size``, ``path``; a file's oid is its git blob hash),
  one page (the Hub pages by ``Link`` headers past 1000 entries; not needed here), or 404
  ``EntryNotFound``;
- ``POST /api/datasets/{repo}/paths-info/{rev}`` (form ``paths``, ``expand``): the entries of
  the paths that exist;
- ``GET``/``HEAD /datasets/{repo}/resolve/{rev}/{path}``: the file, whole or the asked ``Range``
  (206), with ``ETag`` and ``X-Repo-Commit``; 404 ``EntryNotFound``.

The write path (``HfApi.preupload_lfs_files``, ``post_lfs_batch_info``, ``lfs_upload``,
``_send_commit``):

- ``POST /api/datasets/{repo}/preupload/{rev}`` (JSON ``files``: path, sample, size): each file's
  ``uploadMode``, ``regular`` below ``lfs_from`` bytes and ``lfs`` from there, and the ``oid`` of
  the file already at that path (git blob sha1, or sha256 for an LFS file) so unchanged files
  are dropped from the commit;
- ``POST /datasets/{repo}.git/info/lfs/objects/batch`` (git LFS batch API, ``basic`` transfer):
  an ``upload`` action per object not yet stored, a ``PUT /lfs/{oid}`` here, which checks the
  sha256 of the body;
- ``POST /api/datasets/{repo}/commit/{rev}`` (NDJSON: ``header`` with ``summary`` and
  ``parentCommit``, ``file`` base64, ``lfsFile`` by oid, ``deletedFile``, ``deletedFolder``): one
  commit, applied whole under a lock or not at all; 412 "A commit has happened since" when
  ``parentCommit`` is not the branch's head (as the Hub answers); each commit gets a new head
  sha. Paths given to ``deletedFile`` that are not there: 404 ``EntryNotFound``.

With a ``token``, writes need ``Authorization: Bearer <token>`` (401 otherwise) and any request
carrying another token gets 401 "Invalid credentials in Authorization header". Not the Hub
itself: no Xet storage (huggingface_hub uploads LFS files through Xet when ``hf_xet`` is
installed: tests set ``HF_HUB_DISABLE_XET=1``), no multipart LFS, no pagination past 1000
entries, no pull requests or other branches.

Every request is recorded (method, path) so a test can show what went over HTTP, and every
commit (repository, summary, paths added, paths deleted) in ``commits``."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

REVISION = "main"


def _blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Hub:
    def __init__(self, root: Path, token: str | None = None, lfs_from: int = 64 << 10) -> None:
        self.root = Path(root)
        self.token = token
        self.lfs_from = lfs_from
        self.heads: dict[str, str] = {}  # repo id -> head commit, once a commit was made
        self.lfs: dict[str, bytes] = {}  # sha256 -> content uploaded through the LFS batch API
        self.commits: list[dict] = []
        # files another writer commits just before the next commit request is applied (after
        # its client read the head): a test's way to move the branch under a commit
        self.interleave: list[dict[str, bytes]] = []
        self.refused = 0  # commits answered 412
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Hub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------ the repository
    def repo(self, repo_id: str) -> Path | None:
        folder = self.root / repo_id
        return folder if repo_id.count("/") == 1 and folder.is_dir() else None

    def sha(self, folder: Path) -> str:
        """The head commit: a new sha per commit, or (before any) one of the folder's files."""
        repo_id = folder.relative_to(self.root).as_posix()
        if repo_id in self.heads:
            return self.heads[repo_id]
        digest = hashlib.sha1()
        for f in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(
                f.relative_to(folder).as_posix().encode() + _blob_oid(f.read_bytes()).encode()
            )
        return digest.hexdigest()

    def commit_files(self, repo_id: str, files: dict[str, bytes]) -> None:
        """A commit by another writer, made on the server's side: the files, a new head."""
        folder = self.root / repo_id
        for name, data in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        self.heads[repo_id] = hashlib.sha1(
            f"{self.sha(folder)} {sorted(files)}".encode()
        ).hexdigest()
        self.commits.append({"repo": repo_id, "summary": "another writer",
                             "added": sorted(files), "deleted": []})  # fmt: skip

    def entry(self, folder: Path, path: Path) -> dict:
        rel = path.relative_to(folder).as_posix()
        if path.is_dir():
            return {"type": "directory", "oid": hashlib.sha1(rel.encode()).hexdigest(), "path": rel}
        data = path.read_bytes()
        return {"type": "file", "oid": _blob_oid(data), "size": len(data), "path": rel}

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _json(self, value, status: int = 200, headers: dict | None = None) -> None:
                body = json.dumps(value).encode()
                self._send(status, body, {"Content-Type": "application/json", **(headers or {})})

            def _error(self, code: str, message: str) -> None:
                self._json(
                    {"error": message}, 404, {"X-Error-Code": code, "X-Error-Message": message}
                )

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                url = urlparse(self.path)
                hub.requests.append((self.command, url.path))
                if not self._authorized(write=False):
                    return
                path = unquote(url.path)
                m = re.fullmatch(r"/api/datasets/([^/]+/[^/]+)(?:/revision/([^/]+))?", path)
                if m:
                    return self._info(m.group(1), m.group(2) or REVISION)
                m = re.fullmatch(r"/api/datasets/([^/]+/[^/]+)/tree/([^/]+)(?:/(.*))?", path)
                if m:
                    query = parse_qs(url.query)
                    recursive = query.get("recursive", ["False"])[0].lower() == "true"
                    return self._tree(m.group(1), m.group(2), m.group(3) or "", recursive)
                m = re.fullmatch(r"/datasets/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
                if m:
                    return self._resolve(m.group(1), m.group(2), m.group(3))
                self._error("EntryNotFound", f"no route {path}")

            def _authorized(self, write: bool) -> bool:
                """False (and 401 sent) when the token is wrong, or missing for a write."""
                if hub.token is None:
                    return True
                given = self.headers.get("Authorization") or ""
                if given and given != f"Bearer {hub.token}":
                    message = "Invalid credentials in Authorization header"
                elif write and not given:
                    message = "You must be authenticated to write"
                else:
                    return True
                self._json({"error": message}, 401, {"X-Error-Message": message})
                return False

            def do_PUT(self) -> None:
                url = urlparse(self.path)
                hub.requests.append((self.command, url.path))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                m = re.fullmatch(r"/lfs/([0-9a-f]{64})", url.path)
                if not m:
                    return self._error("EntryNotFound", f"no route {url.path}")
                if hashlib.sha256(body).hexdigest() != m.group(1):
                    return self._json({"error": "sha256 does not match"}, 400)
                hub.lfs[m.group(1)] = body
                self._send(200, b"")

            def do_POST(self) -> None:
                url = urlparse(self.path)
                hub.requests.append((self.command, url.path))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                path = unquote(url.path)
                m = re.fullmatch(r"/api/datasets/([^/]+/[^/]+)/(preupload|commit)/([^/]+)", path)
                if m:
                    if not self._authorized(write=True):
                        return
                    folder = self._repo(m.group(1), m.group(3))
                    if folder is None:
                        return
                    if m.group(2) == "preupload":
                        return self._preupload(folder, json.loads(raw))
                    return self._commit(m.group(1), folder, raw)
                m = re.fullmatch(r"/datasets/([^/]+/[^/]+)\.git/info/lfs/objects/batch", path)
                if m:
                    if not self._authorized(write=True):
                        return
                    if self._repo(m.group(1), REVISION) is None:
                        return
                    return self._lfs_batch(json.loads(raw))
                if not self._authorized(write=False):
                    return
                form = parse_qs(raw.decode())
                m = re.fullmatch(r"/api/datasets/([^/]+/[^/]+)/paths-info/([^/]+)", path)
                if not m:
                    return self._error("EntryNotFound", f"no route {url.path}")
                folder = self._repo(m.group(1), m.group(2))
                if folder is None:
                    return
                found = []
                for p in form.get("paths", []):
                    target = folder / p.strip("/")
                    if p.strip("/") and target.exists():
                        found.append(hub.entry(folder, target))
                self._json(found)

            def _preupload(self, folder: Path, body: dict) -> None:
                files = []
                for f in body["files"]:
                    lfs = f["size"] >= hub.lfs_from
                    target = folder / f["path"]
                    oid = None
                    if target.is_file():
                        data = target.read_bytes()
                        oid = hashlib.sha256(data).hexdigest() if lfs else _blob_oid(data)
                    files.append(
                        {
                            "path": f["path"],
                            "uploadMode": "lfs" if lfs else "regular",
                            "shouldIgnore": False,
                            "oid": oid,
                        }
                    )
                self._json({"files": files, "commitOid": hub.sha(folder)})

            def _lfs_batch(self, body: dict) -> None:
                objects = []
                for o in body["objects"]:
                    entry = {"oid": o["oid"], "size": o["size"]}
                    if o["oid"] not in hub.lfs:
                        href = f"{hub.url}/lfs/{o['oid']}"
                        entry["actions"] = {"upload": {"href": href, "header": {}}}
                    objects.append(entry)
                body = json.dumps({"transfer": "basic", "objects": objects}).encode()
                self._send(200, body, {"Content-Type": "application/vnd.git-lfs+json"})

            def _commit(self, repo_id: str, folder: Path, raw: bytes) -> None:
                lines = [json.loads(x) for x in raw.decode().splitlines() if x.strip()]
                header = next((x["value"] for x in lines if x["key"] == "header"), {})
                with hub.lock:  # one commit at a time per server, applied whole or not at all
                    if hub.interleave:
                        hub.commit_files(repo_id, hub.interleave.pop(0))
                    parent = header.get("parentCommit")
                    if parent is not None and parent != hub.sha(folder):
                        hub.refused += 1
                        message = "A commit has happened since. Please refresh and try again."
                        return self._json({"error": message}, 412, {"X-Error-Message": message})
                    writes: dict[Path, bytes] = {}
                    deletes: list[Path] = []
                    for x in lines:
                        v = x["value"]
                        if x["key"] == "file":
                            writes[folder / v["path"]] = base64.b64decode(v["content"])
                        elif x["key"] == "lfsFile":
                            if v["oid"] not in hub.lfs:
                                message = f"LFS object {v['oid']} was not uploaded"
                                return self._json({"error": message}, 422)
                            writes[folder / v["path"]] = hub.lfs[v["oid"]]
                        elif x["key"] in ("deletedFile", "deletedFolder"):
                            target = folder / v["path"]
                            if not target.exists():
                                return self._error(
                                    "EntryNotFound", "A file with this name doesn't exist"
                                )
                            deletes.append(target)
                    for target in deletes:
                        if target.is_dir():
                            shutil.rmtree(target)
                        else:
                            target.unlink()
                    for target, data in writes.items():
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(data)
                    for target in deletes:  # folders left empty: git has no empty folders
                        for up in target.parents:
                            if up == folder or any(up.iterdir()):
                                break
                            up.rmdir()
                    sha = hashlib.sha1((hub.sha(folder) + str(len(hub.commits))).encode() + raw)
                    hub.heads[repo_id] = sha.hexdigest()
                    hub.commits.append(
                        {
                            "repo": repo_id,
                            "summary": header.get("summary"),
                            "added": sorted(p.relative_to(folder).as_posix() for p in writes),
                            "deleted": sorted(p.relative_to(folder).as_posix() for p in deletes),
                        }
                    )
                self._json(
                    {
                        "commitUrl": f"{hub.url}/datasets/{repo_id}/commit/{sha.hexdigest()}",
                        "commitOid": sha.hexdigest(),
                        "success": True,
                    }
                )

            def _repo(self, repo_id: str, revision: str) -> Path | None:
                folder = hub.repo(repo_id)
                if folder is None:
                    self._error("RepoNotFound", "Repository not found")
                    return None
                if revision not in (REVISION, hub.sha(folder)):
                    self._error("RevisionNotFound", "Invalid rev id: " + revision)
                    return None
                return folder

            def _info(self, repo_id: str, revision: str) -> None:
                folder = self._repo(repo_id, revision)
                if folder is None:
                    return
                files = sorted(p for p in folder.rglob("*") if p.is_file())
                self._json(
                    {
                        "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24],
                        "id": repo_id,
                        "author": repo_id.split("/")[0],
                        "sha": hub.sha(folder),
                        "private": False,
                        "gated": False,
                        "disabled": False,
                        "downloads": 0,
                        "likes": 0,
                        "tags": [],
                        "lastModified": "2026-01-01T00:00:00.000Z",
                        "createdAt": "2026-01-01T00:00:00.000Z",
                        "siblings": [
                            {"rfilename": f.relative_to(folder).as_posix()} for f in files
                        ],
                    }
                )

            def _tree(self, repo_id: str, revision: str, sub: str, recursive: bool) -> None:
                folder = self._repo(repo_id, revision)
                if folder is None:
                    return
                base = folder / sub.strip("/")
                if not base.is_dir():
                    return self._error("EntryNotFound", f"{sub} does not exist on {revision}")
                children = base.rglob("*") if recursive else base.iterdir()
                self._json([hub.entry(folder, p) for p in sorted(children)])

            def _resolve(self, repo_id: str, revision: str, sub: str) -> None:
                folder = self._repo(repo_id, revision)
                if folder is None:
                    return
                target = folder / sub
                if not target.is_file():
                    return self._error("EntryNotFound", f"{sub} does not exist on {revision}")
                data = target.read_bytes()
                headers = {
                    "ETag": f'"{_blob_oid(data)}"',
                    "X-Repo-Commit": hub.sha(folder),
                    "Accept-Ranges": "bytes",
                    "Content-Type": "application/octet-stream",
                }
                asked = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
                if not asked:
                    return self._send(200, data, headers)
                start = int(asked.group(1))
                end = min(int(asked.group(2)) if asked.group(2) else len(data) - 1, len(data) - 1)
                if start >= len(data):
                    return self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                self._send(206, data[start : end + 1], headers)

        return Handler
