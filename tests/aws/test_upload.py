"""`upload` against the sandbox over HTTP: a version folder is written once, then immutable."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.aws.session import make_clients
from reconciler.commands.uploading import Progress, UploadError, content_type, scan, upload, upload_order
from reconciler.core.model import Release
from tests.aws.conftest import Stack

PROJECT = Path(__file__).resolve().parents[2]


def site(root: Path, **files: str) -> Path:
    """A built site folder: `name=content`, `__` in a name standing for `/`."""
    folder = root / "dist"
    for name, content in files.items():
        path = folder / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return folder


def keys(stack: Stack, release: Release, version: str) -> dict[str, str]:
    """Key under the version folder -> its Content-Type."""
    folder = f"{release.prefix}{version}/"
    listed = stack.s3.list_objects_v2(Bucket=release.bucket, Prefix=folder).get("Contents", [])
    return {
        o["Key"][len(folder) :]: stack.s3.head_object(Bucket=release.bucket, Key=o["Key"])["ContentType"]
        for o in listed
    }


class TestContentAndFiles:
    """Pure parts: which files, in which order, with which Content-Type."""

    @pytest.mark.parametrize(
        ("name", "expected"),
        [("index.html", "text/html"), ("a/app.js", "text/javascript"), ("s.css", "text/css"),
         ("f.woff2", "font/woff2"), ("logo.svg", "image/svg+xml"), ("data.json", "application/json"),
         ("photo.JPG", "image/jpeg"), ("blob", "application/octet-stream")],
    )
    def test_content_type_from_the_file_name(self, name: str, expected: str) -> None:
        """The extension decides, the same on every machine; unknown is application/octet-stream."""
        assert content_type(name) == expected

    def test_hidden_names_skipped_but_well_known_kept(self, tmp_path: Path) -> None:
        """`.git/`, `.DS_Store` are skipped and counted; `.well-known/` is a site's and goes up."""
        folder = site(tmp_path, **{"index.html": "i", ".DS_Store": "x", ".git__HEAD": "ref",
                                   ".well-known__security.txt": "s", "a__.swp": "e"})
        files, skipped = scan(folder)
        assert [f.name for f in files] == [".well-known/security.txt", "index.html"]
        assert skipped == 3

    def test_symlink_refused(self, tmp_path: Path) -> None:
        """A link's target could change or lie outside the folder: refused, naming the link."""
        folder = site(tmp_path, **{"index.html": "i"})
        (folder / "current.html").symlink_to(folder / "index.html")
        with pytest.raises(UploadError, match=r"current\.html: is a symlink"):
            scan(folder)

    def test_required_files_go_last(self, tmp_path: Path) -> None:
        """The Release's `require` files are a second batch, after everything else."""
        files, _ = scan(site(tmp_path, **{"index.html": "i", "app.js": "a", "z.css": "z", "b.png": "b"}))
        release = Release("web", "/p", "v1", "bucket", require=("index.html", "app.js"))
        first, last = upload_order(files, release)
        assert [f.name for f in first] == ["b.png", "z.css"]
        assert [f.name for f in last] == ["app.js", "index.html"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class TestProgress:
    """A progress bar on a terminal only."""

    def test_bar_on_a_terminal(self) -> None:
        """Each step redraws one line (carriage return); the last ends it."""
        screen = Terminal()
        bar = Progress(screen, 2, 2048)
        bar.show(1, 1024)
        bar.show(2, 2048)
        lines = screen.getvalue().split("\r")[1:]
        assert lines[0] == "[" + "#" * 15 + "." * 15 + "] 1/2 files, 1.0 KB of 2.0 KB"
        assert lines[1] == "[" + "#" * 30 + "] 2/2 files, 2.0 KB of 2.0 KB\n"

    def test_silent_otherwise(self) -> None:
        """Piped or logged: nothing at all (the summary event says it)."""
        stream = io.StringIO()
        Progress(stream, 1, 10).show(1, 10)
        assert stream.getvalue() == ""


class TestUpload:
    """Against the sandbox: uploaded once, the same again is a no-op, different content is refused."""

    def test_uploads_every_file_with_its_content_type(self, stack: Stack, tmp_path: Path) -> None:
        """Each file lands at <prefix><version>/<name> with the type its name implies."""
        release = stack.desired.releases[0]
        folder = site(tmp_path, **{"index.html": "<h1>v2</h1>", "app.js": "go()", "css__site.css": "b{}"})
        done = upload(make_clients(stack.settings().aws, "us-east-1"), release, "v2", folder)
        assert (done.files, done.written, done.bytes) == (3, 3, 11 + 4 + 3)
        assert done.location == f"s3://{release.bucket}/{release.prefix}v2/"
        assert keys(stack, release, "v2") == {
            "index.html": "text/html", "app.js": "text/javascript", "css/site.css": "text/css"
        }

    def test_the_same_content_again_writes_nothing(self, stack: Stack, tmp_path: Path) -> None:
        """A second upload of the same build is a no-op: no PutObject at all."""
        release = stack.desired.releases[0]
        folder = site(tmp_path, **{"index.html": "same", "app.js": "x"})
        upload(make_clients(stack.settings().aws, "us-east-1"), release, "v3", folder)
        clients = make_clients(stack.settings().aws, "us-east-1")
        again = upload(clients, release, "v3", folder)
        assert again.written == 0 and again.files == 2
        assert "PutObject" not in clients.counter.operations

    def test_different_content_is_refused_and_nothing_is_written(self, stack: Stack, tmp_path: Path) -> None:
        """One changed file refuses the whole upload; a file new to the build is not added either."""
        release = stack.desired.releases[0]
        folder = site(tmp_path, **{"index.html": "one", "app.js": "x"})
        upload(make_clients(stack.settings().aws, "us-east-1"), release, "v4", folder)
        (folder / "app.js").write_text("y")
        (folder / "new.txt").write_text("n")
        with pytest.raises(UploadError, match=r"already holds a different release .*app\.js.*immutable"):
            upload(make_clients(stack.settings().aws, "us-east-1"), release, "v4", folder)
        assert sorted(keys(stack, release, "v4")) == ["app.js", "index.html"]
        body = stack.s3.get_object(Bucket=release.bucket, Key=f"{release.prefix}v4/app.js")["Body"].read()
        assert body == b"x"

    def test_a_folder_with_files_the_build_lacks_is_refused(self, stack: Stack, tmp_path: Path) -> None:
        """An object in the version folder that the build does not have: not the same release."""
        release = stack.desired.releases[0]
        stack.s3.put_object(Bucket=release.bucket, Key=f"{release.prefix}v5/old.js", Body=b"o")
        folder = site(tmp_path, **{"index.html": "i"})
        with pytest.raises(UploadError, match=r"old\.js"):
            upload(make_clients(stack.settings().aws, "us-east-1"), release, "v5", folder)

    def test_an_interrupted_upload_is_completed(self, stack: Stack, tmp_path: Path) -> None:
        """Some files already there with the same content (a killed upload): only the rest go up."""
        release = stack.desired.releases[0]
        stack.s3.put_object(Bucket=release.bucket, Key=f"{release.prefix}v6/app.js", Body=b"a")
        folder = site(tmp_path, **{"index.html": "i", "app.js": "a"})
        done = upload(make_clients(stack.settings().aws, "us-east-1"), release, "v6", folder)
        assert done.written == 1 and sorted(keys(stack, release, "v6")) == ["app.js", "index.html"]

    def test_same_content_recognised_by_stored_checksum_when_etag_is_not_md5(
        self, stack: Stack, tmp_path: Path
    ) -> None:
        """With SSE-KMS or multipart an ETag is no MD5: the sha256 stored at upload decides."""
        release = stack.desired.releases[0]
        folder = site(tmp_path, **{"index.html": "i"})
        upload(make_clients(stack.settings().aws, "us-east-1"), release, "v7", folder)
        clients = make_clients(stack.settings().aws, "us-east-1")
        real = clients.s3.list_objects_v2

        def kms_like(**kwargs: object) -> dict[str, object]:
            page: dict[str, object] = real(**kwargs)
            for item in page.get("Contents", []):  # type: ignore[attr-defined]
                item["ETag"] = '"0123456789abcdef0123456789abcdef"'
            return page

        clients.s3.list_objects_v2 = kms_like
        assert upload(clients, release, "v7", folder).written == 0
        (folder / "index.html").write_text("j")  # same size, other content
        with pytest.raises(UploadError, match=r"index\.html"):
            upload(clients, release, "v7", folder)


class TestUploadCommand:
    """`reconciler upload` as a process: exit codes and one line on errors."""

    def test_exit_codes(self, stack: Stack, tmp_path: Path) -> None:
        """0 uploaded, 0 already there, 1 refused (one line), 1 unknown Release, 64 bad version."""
        release = stack.desired.releases[0]
        desired = tmp_path / "desired"
        desired.mkdir()
        (desired / "site.yaml").write_text(
            "kind: Site\nname: up-test\nregion: us-east-1\ndistributions: {web: EUPTEST0001}\n"
        )
        (desired / "release.yaml").write_text(
            f"kind: Release\nname: web\nparameter: /up/web\nversion: v1\nbucket: {release.bucket}\n"
            "prefix: cmd/\ninvalidate: {web: ['/*']}\n"
        )
        folder = site(tmp_path, **{"index.html": "i"})
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(PYTHONPATH=str(PROJECT), HOME=str(tmp_path))

        def reconciler(*args: str) -> subprocess.CompletedProcess[str]:
            argv = [sys.executable, "-m", "reconciler", "upload", *args, "--desired", str(desired),
                    "--endpoint-url", stack.sandbox.endpoint, "--log-format", "json"]
            return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)

        first = reconciler("web", "20270101-0900", str(folder))
        assert first.returncode == 0, first.stderr
        assert '"result": "uploaded"' in first.stdout and '"files": 1' in first.stdout
        assert reconciler("web", "20270101-0900", str(folder)).returncode == 0
        (folder / "index.html").write_text("changed")
        refused = reconciler("web", "20270101-0900", str(folder))
        assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1
        assert "immutable" in refused.stderr
        unknown = reconciler("nope", "v9", str(folder))
        assert unknown.returncode == 1 and "no Release named 'nope'" in unknown.stderr
        bad = reconciler("web", "../v9", str(folder))
        assert bad.returncode == 64 and "argument VERSION" in bad.stderr
