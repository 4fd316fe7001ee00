"""A Hugging Face Hub endpoint on 127.0.0.1 for the part of the Hub's HTTP API that
huggingface_hub's ``HfFileSystem`` reads a dataset repository through (as moto's server is an S3
endpoint): point ``HF_ENDPOINT`` at it. Read-only; one revision (``main``) per repository, the
files of a local folder ``root/<namespace>/<name>/``.

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

Every request is recorded (method, path) so a test can show what went over HTTP."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

REVISION = "main"


def _blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Hub:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
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
        digest = hashlib.sha1()
        for f in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(
                f.relative_to(folder).as_posix().encode() + _blob_oid(f.read_bytes()).encode()
            )
        return digest.hexdigest()

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

            def do_POST(self) -> None:
                url = urlparse(self.path)
                hub.requests.append((self.command, url.path))
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                m = re.fullmatch(
                    r"/api/datasets/([^/]+/[^/]+)/paths-info/([^/]+)", unquote(url.path)
                )
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
