"""The state directory: created 0700, JSON files written atomically, a lock per desired directory.

A torn or unreadable file is reported, set aside (`set_aside`, kept for inspection) and rebuilt:
every record in it can be rebuilt from live state (baselines) or re-derived on the next
reconcile, and owed invalidations fall back to `/*` (`stateschema.salvage_intents`). The shape
of the documents is `stateschema`'s.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import time
from pathlib import Path

from reconciler.core.jsonvalue import JSON, JSONObject

STATE = "state.json"
INTENTS = "intents.json"
LOCK = "lock"


class Corrupt(Exception):
    """A state file exists but is not valid JSON of the expected shape."""


def ensure_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):
        os.chmod(path, 0o700)
    return path


def read_json(path: Path) -> JSONObject | None:
    """The parsed file, None when absent; raises `Corrupt` when torn."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:  # a directory in its place, unreadable: as bad as torn, and set aside alike
        raise Corrupt(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise Corrupt(f"{path}: {exc}") from exc
    if not isinstance(value, dict):
        raise Corrupt(f"{path}: not a JSON object")
    return value


def set_aside(path: Path, now: float | None = None) -> Path:
    """Rename a bad file to `<name>.corrupt-<UTC time>` beside it, kept for inspection; returns
    the new path. Never overwrites an earlier one set aside in the same second."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    os.replace(path, target)
    return target


def unwritable(directory: Path) -> str | None:
    """Why a file cannot be written in `directory` now (read-only, full, gone), or None. Probes
    with a real write and fsync: `os.access` says yes on a full disk or a read-only mount."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".probe.", dir=directory)
    except OSError as exc:
        return exc.strerror or str(exc)
    try:
        os.write(fd, b"probe\n")
        os.fsync(fd)
    except OSError as exc:
        return exc.strerror or str(exc)
    finally:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
    return None


def write_json(path: Path, value: JSON) -> None:
    """Write-then-rename with fsync, so a crash leaves the old file or the new one, never half."""
    ensure_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(value, fh, sort_keys=True, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class Locked(Exception):
    """Another reconciler holds the lock of this state directory."""


class StateLock:
    """An exclusive, non-blocking flock on `<state>/lock`; released when the process dies."""

    def __init__(self, state_dir: Path):
        self.path = ensure_dir(state_dir) / LOCK
        self._fd: int | None = None

    def acquire(self) -> StateLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip()
            os.close(fd)
            raise Locked(
                f"another reconciler (pid {holder or '?'}) is using state directory {self.path.parent}"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> StateLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
