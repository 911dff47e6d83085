"""`upload`: a built site folder -> the immutable version folder `s3://<bucket>/<prefix><VERSION>/`
of a named Release, so the version can then be named in the Release's YAML.

What is uploaded: every regular file under the folder, keyed by its path relative to it.
Names starting with `.` are skipped (`.git`, `.DS_Store`, editor files), as in the desired
directory, except `.well-known/` (RFC 8615), which sites serve. A symlink is refused: a
version folder is immutable, and a link's target can change or lie outside the folder.

Immutability: the folder's objects are listed first. Same names and content (size, then MD5
ETag or the SHA-256 stored at upload) -> nothing to do. A folder holding only some of the
files, each unchanged (an interrupted upload), is completed. Anything else (a file differs,
or the folder holds files the build does not) is refused before anything is written. The
Release's `require` files go last, so `plan` and `apply` never see a half-uploaded version
as ready.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from reconciler.core.model import Release
from reconciler.core.settings import Settings

if TYPE_CHECKING:
    from reconciler.aws.session import Clients

KEEP_HIDDEN = (".well-known",)
"""Hidden names that are uploaded all the same: https://www.rfc-editor.org/rfc/rfc8615"""

WEB_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/vnd.microsoft.icon",
    ".txt": "text/plain",
    ".xml": "application/xml",
}
"""Types a site needs that Python's built-in table lacks or names differently across versions."""

_TYPES = mimetypes.MimeTypes()  # built-in table only: the same answer on every machine


class UploadError(Exception):
    """The upload is refused or failed; the message is one line."""


@dataclass(frozen=True)
class LocalFile:
    name: str
    """Path relative to the uploaded folder, with `/` separators: the key under the version folder."""
    path: Path
    size: int
    md5: str
    sha256: str

    @property
    def content_type(self) -> str:
        return content_type(self.name)


def content_type(name: str) -> str:
    """The Content-Type S3 should serve `name` with, from its extension."""
    suffix = os.path.splitext(name)[1].lower()
    return WEB_TYPES.get(suffix) or _TYPES.guess_type(name, strict=False)[0] or "application/octet-stream"


def scan(folder: Path) -> tuple[list[LocalFile], int]:
    """The files to upload (sorted by name) and how many hidden names were skipped."""
    if not folder.is_dir():
        raise UploadError(f"{folder}: not a directory")
    files: list[LocalFile] = []
    skipped = 0
    for directory, subdirs, names in os.walk(folder):
        here = Path(directory)
        for name in sorted(subdirs):
            if (here / name).is_symlink():
                raise UploadError(f"{here / name}: is a symlink; upload takes regular files only (copy it in)")
            if name.startswith(".") and name not in KEEP_HIDDEN:
                subdirs.remove(name)
                skipped += 1
        for name in names:
            path = here / name
            if name.startswith("."):
                skipped += 1
                continue
            if path.is_symlink():
                raise UploadError(f"{path}: is a symlink; upload takes regular files only (copy it in)")
            if not path.is_file():
                raise UploadError(f"{path}: not a regular file")
            files.append(_local(folder, path))
    if not files:
        raise UploadError(f"{folder}: no files to upload")
    return sorted(files, key=lambda f: f.name), skipped


def _local(folder: Path, path: Path) -> LocalFile:
    md5, sha256, size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            md5.update(chunk)
            sha256.update(chunk)
            size += len(chunk)
    name = path.relative_to(folder).as_posix()
    return LocalFile(name, path, size, md5.hexdigest(), sha256.hexdigest())


def upload_order(files: Iterable[LocalFile], release: Release) -> tuple[list[LocalFile], list[LocalFile]]:
    """(everything else, the Release's `require` files): the second batch goes only after the
    first is in, so a pointer check never passes on a half-uploaded version."""
    required = {r.lstrip("/") for r in release.require}
    ordered = sorted(files, key=lambda f: f.name)
    return [f for f in ordered if f.name not in required], [f for f in ordered if f.name in required]


@dataclass(frozen=True)
class Progress:
    """A one-line progress bar on a terminal; silent otherwise."""

    stream: TextIO
    total_files: int
    total_bytes: int

    def show(self, files: int, size: int) -> None:
        if not self.stream.isatty():
            return
        width = 30
        done = int(width * size / self.total_bytes) if self.total_bytes else width
        self.stream.write(
            f"\r[{'#' * done}{'.' * (width - done)}] {files}/{self.total_files} files, "
            f"{human(size)} of {human(self.total_bytes)}"
        )
        if files == self.total_files:
            self.stream.write("\n")
        self.stream.flush()


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


@dataclass(frozen=True)
class Uploaded:
    location: str
    files: int
    bytes: int
    written: int
    """Files written by this run; 0 when the version folder already held them all."""
    skipped_hidden: int


def upload(clients: Clients, release: Release, version: str, folder: Path, stream: TextIO = sys.stderr) -> Uploaded:
    """Put `folder` at the Release's folder for `version`; raises `UploadError` when refused."""
    from reconciler.aws import folders

    files, skipped = scan(folder)
    too_big = [f.name for f in files if f.size > folders.SINGLE_PUT_LIMIT]
    if too_big:
        raise UploadError(f"{folder / too_big[0]}: over 5 GiB, more than one PutObject may carry")
    prefix = f"{release.prefix}{version}/"
    location = f"s3://{release.bucket}/{prefix}"
    stored = folders.list_folder(clients, release.bucket, prefix)

    def same(file: LocalFile) -> bool:
        there = stored[file.name]
        if there.size != file.size:
            return False
        if there.etag == file.md5:
            return True
        return folders.stored_sha256(clients, release.bucket, prefix + file.name) == file.sha256

    differ = [f.name for f in files if f.name in stored and not same(f)]
    names = differ + sorted(set(stored) - {f.name for f in files})
    if names:
        raise UploadError(
            f"{location} already holds a different release ({len(names)} file(s) differ, e.g. {names[0]}); "
            "a version folder is immutable: upload this build as a new version"
        )
    batches = upload_order((f for f in files if f.name not in stored), release)
    todo = [f for batch in batches for f in batch]
    progress = Progress(stream, len(todo), sum(f.size for f in todo))

    def put(file: LocalFile) -> LocalFile:
        key = prefix + file.name
        written = folders.put_new_file(
            clients, release.bucket, key, file.path, file.content_type, file.md5, file.sha256
        )
        if not written and folders.stored_sha256(clients, release.bucket, key) != file.sha256:
            raise UploadError(f"s3://{release.bucket}/{key} appeared meanwhile with other content; refused")
        return file

    done_files = done_bytes = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        for batch in batches:
            for file in pool.map(put, batch):
                done_files, done_bytes = done_files + 1, done_bytes + file.size
                progress.show(done_files, done_bytes)
    return Uploaded(location, len(files), sum(f.size for f in files), len(todo), skipped)


def command(settings: Settings, release_name: str, version: str, folder: Path) -> int:
    """`reconciler upload RELEASE VERSION DIR`: exit 0 uploaded or already there, 1 error."""
    from reconciler import events
    from reconciler.aws import preflight
    from reconciler.aws.session import make_clients
    from reconciler.commands.operations import load_reporting
    from reconciler.core.errors import ReconcilerError

    events.configure(settings.log_format, sys.stdout)
    desired = load_reporting(settings)
    if desired is None:
        return 1
    releases = {r.name: r for r in desired.releases}
    release = releases.get(release_name)
    if release is None:
        known = ", ".join(sorted(releases)) or "none"
        print(f"reconciler: error: no Release named {release_name!r} in {settings.desired} (Releases: {known})",
              file=sys.stderr)
        return 1
    try:
        preflight.check(settings.aws, desired.site.region)
        done = upload(make_clients(settings.aws, desired.site.region), release, version, folder)
    except (UploadError, ReconcilerError) as exc:
        print(f"reconciler: error: {exc}", file=sys.stderr)
        return 1
    events.log().info(
        "upload.done",
        release=release.name,
        version=version,
        location=done.location,
        files=done.files,
        bytes=done.bytes,
        uploaded=done.written,
        skipped_hidden=done.skipped_hidden,
        result="uploaded" if done.written else "already_there",
    )
    return 0
