"""The desired directory's files: which are found, and how a file is read without risk.

Used by the loader (`reconciler.loading.loader`) to list and read the YAML files, and by the
assembling step (`reconciler.loading.assembling`) to read function code. Kept apart from YAML parsing
because the rules are about the filesystem, not the format: symbolic links are followed only
inside the desired directory, each real directory once (loops cannot hang a scan); FIFOs and
devices are refused without blocking, and files over their cap are refused unread.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from reconciler.loading.problems import Problem

MAX_FILE_BYTES = 1_048_576
"""A desired YAML file larger than this is refused unread."""
YAML_SUFFIXES = (".yaml", ".yml")

StatKey = tuple[int, int, int]
"""(mtime_ns, size, inode): a file whose key is unchanged is not read again by the `Loader`."""


def scan(root: Path) -> tuple[list[tuple[str, str, StatKey]], list[str]]:
    """Every `*.yaml`/`*.yml` under root (dot-names skipped), sorted, with its stat key; symlinks
    are followed only inside root, each real directory once, so loops cannot hang us. Paths are
    plain strings: a `Path` per file costs more than the stat, and only changed files need one."""
    try:
        real_root = root.resolve(strict=True)
    except (OSError, RuntimeError):
        return [], [f"{root}: desired directory not found"]
    if not real_root.is_dir():
        return [], [f"{root}: not a directory"]
    files: list[tuple[str, str, StatKey]] = []
    errors: list[str] = []
    seen_dirs: set[str] = set()

    def walk(directory: Path, shown: str) -> None:
        seen_dirs.add(os.path.realpath(directory))
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            errors.append(f"{shown}: cannot list directory: {exc.strerror}")
            return
        prefix = shown if shown.endswith(os.sep) else shown + os.sep  # os.path.join, once per directory
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = entry.path  # os.path.join(directory, entry.name)
            name = prefix + entry.name
            is_yaml = entry.name.endswith(YAML_SUFFIXES)
            try:
                if entry.is_symlink() and not inside(os.path.realpath(path), real_root):
                    if is_yaml or entry.is_dir():
                        errors.append(f"{name}: symbolic link points outside the desired directory")
                    continue
                st = entry.stat()
            except OSError:
                if is_yaml:
                    errors.append(f"{name}: broken symbolic link")
                continue
            if stat.S_ISDIR(st.st_mode):
                if os.path.realpath(path) not in seen_dirs:
                    walk(Path(path), name)
            elif is_yaml and not stat.S_ISREG(st.st_mode):
                errors.append(f"{name}: not a regular file")
            elif is_yaml:
                files.append((name, path, (st.st_mtime_ns, st.st_size, st.st_ino)))

    walk(root, str(root))
    return files, errors


def inside(real: str | Path, real_root: Path) -> bool:
    text, base = str(real), str(real_root)
    return text == base or text.startswith(base.rstrip(os.sep) + os.sep)


def read_bounded(path: str | Path, cap: int, too_large: str) -> bytes:
    """A regular file's bytes; FIFOs and devices are refused without blocking, big files unread."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Problem("not a regular file")
        if st.st_size > cap:
            raise Problem(too_large.format(size=st.st_size, cap=cap))
        chunks = []
        remaining = cap + 1
        while remaining > 0:
            chunk = os.read(fd, remaining)
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > cap:
        raise Problem(too_large.format(size=len(data), cap=cap))
    return data

