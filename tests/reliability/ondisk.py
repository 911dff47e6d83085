"""A desired directory on disk in the loader's format (SPEC section 2), unique per test, and the
`python -m reconciler` subprocess runner used by the crash, lock and secrets tests."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

CODE = """function handler(event) {
  var request = event.request;
  if (request.uri.indexOf('/track/') === 0) { request.uri = '/index.html'; }
  return request;
}
"""


@dataclass
class DiskStack:
    root: Path
    tag: str
    desired: Path
    state: Path

    @property
    def distributions(self) -> dict[str, str]:
        up = self.tag.upper()
        return {"web": f"EWEB{up}", "admin": f"EADM{up}"}

    @property
    def bucket(self) -> str:
        return f"rel-{self.tag}"

    @property
    def data_bucket(self) -> str:
        return f"data-{self.tag}"

    @property
    def function(self) -> str:
        return f"fn-{self.tag}"

    def parameter(self, release: str) -> str:
        return f"/{self.tag}/{release}/version"


def write_desired(
    root: Path,
    tag: str,
    *,
    web: str = "v1",
    admin: str = "a1",
    code: str = CODE,
    status: str = "requested",
    customer: str = "Mark Marker",
    address: str = "1 Marker Street",
    notes: str | None = None,
    token: str | None = None,
) -> DiskStack:
    """Write (or rewrite) the desired directory `root/desired` of stack `tag`."""
    desired = root / "desired"
    (desired / "functions").mkdir(parents=True, exist_ok=True)
    (desired / "jobs").mkdir(parents=True, exist_ok=True)
    stack = DiskStack(root, tag, desired, root / "state")
    d = stack.distributions
    (desired / "site.yaml").write_text(
        f"""kind: Site
name: s-{tag}
region: us-east-1
distributions:
  web: {d['web']}
  admin: {d['admin']}
jobs:
  bucket: {stack.data_bucket}
  key: feeds/jobs.json
  invalidate: {{web: [/feeds/jobs.json]}}
"""
    )
    (desired / "releases.yaml").write_text(
        f"""kind: Release
name: web
parameter: {stack.parameter('web')}
version: "{web}"
bucket: {stack.bucket}
prefix: web/
require: [index.html, app.js]
invalidate: {{web: ["/*"]}}
---
kind: Release
name: admin
parameter: {stack.parameter('admin')}
version: "{admin}"
bucket: {stack.bucket}
prefix: admin/
invalidate: {{admin: ["/*"]}}
"""
    )
    (desired / "functions" / "rewrite.js").write_text(code)
    (desired / "functions" / "rewrite.yaml").write_text(
        f"""kind: Function
name: {stack.function}
runtime: cloudfront-js-2.0
comment: rewrites
code: rewrite.js
invalidate: {{web: ["/track/*"]}}
tests:
  - name: tracking link opens the app
    event: {{request: {{uri: /track/abc}}}}
    expect: {{request: {{uri: /index.html}}}}
"""
    )
    job = f"""kind: Job
id: job_{tag}
token: {token or 'tok' + tag + 'abcdefghijklmnop'}
customer: {customer}
address: {address}
price: {{amount: 600, currency: USD, all_inclusive: true}}
status: {status}
"""
    if notes:
        job += f"notes: {notes}\n"
    (desired / "jobs" / f"job_{tag}.yaml").write_text(job)
    return stack


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILER_", "AWS_"))}
    base.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        PYTHONPATH=str(REPO),
    )
    base.update(extra)
    return base


def command(stack: DiskStack, endpoint: str, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "reconciler",
        *args,
        "--desired",
        str(stack.desired),
        "--state-dir",
        str(stack.state),
        "--endpoint-url",
        endpoint,
        "--log-format",
        "json",
    ]


def reconciler(
    stack: DiskStack, endpoint: str, *args: str, timeout: float = 30, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run one command to completion."""
    return subprocess.run(
        command(stack, endpoint, *args),
        env=env(**extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=stack.root,
    )


def spawn(stack: DiskStack, endpoint: str, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command(stack, endpoint, *args),
        env=env(**extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=stack.root,
    )


def events(stdout: str) -> list[dict[str, Any]]:
    import json

    out = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out
