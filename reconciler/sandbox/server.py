"""The sandbox server: moto's WSGI app behind `SandboxMiddleware`, threaded, on 127.0.0.1.

    with start(desired=desired) as sandbox:        # tests and `dev`: in-process, seeded
        boto3.client("cloudfront", endpoint_url=sandbox.endpoint, ...)
        sandbox.faults.fail_next("UpdateFunction", status=500)

`serve(port, desired)` is the `reconciler sandbox` command: load, start, seed, print
`endpoint http://127.0.0.1:PORT`, run until SIGTERM/SIGINT.

moto's backends are process-global: sandboxes started in one process share S3, SSM and
CloudFront distributions (each has its own CloudFront Functions store and faults).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from reconciler.core.model import Desired
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.functions import FunctionStore
from reconciler.sandbox.middleware import SandboxMiddleware

HOST = "127.0.0.1"


class Sandbox:
    """A running sandbox: `endpoint`, `faults`, `functions`; `stop()` or use as a context manager."""

    def __init__(self, server: Any, thread: threading.Thread, app: SandboxMiddleware) -> None:
        self._server = server
        self._thread = thread
        self.app = app
        self.port: int = server.server_address[1]
        self.endpoint = f"http://{HOST}:{self.port}"

    @property
    def faults(self) -> Faults:
        return self.app.faults

    @property
    def functions(self) -> FunctionStore:
        return self.app.functions

    def stop(self) -> None:
        """Stop serving and wait for the server thread (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


def _quiet() -> None:
    """No request log lines from werkzeug or moto on stdout/stderr."""
    for name in ("werkzeug", "moto"):
        logging.getLogger(name).setLevel(logging.ERROR)


def start(port: int = 0, desired: Desired | None = None) -> Sandbox:
    """Serve on 127.0.0.1:`port` (0: a free port) in a daemon thread; seed `desired` if given."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import ThreadedWSGIServer, make_server

    _quiet()

    class QuietHandler(MotoRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

        def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - werkzeug's name
            if type == "error":
                super().log(type, message, *args)

    app = SandboxMiddleware(DomainDispatcherApplication(create_backend_app))
    server = cast(ThreadedWSGIServer, make_server(HOST, port, app, threaded=True, request_handler=QuietHandler))
    server.daemon_threads = True
    thread = threading.Thread(
        target=lambda: server.serve_forever(poll_interval=0.05),
        name=f"sandbox:{server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    sandbox = Sandbox(server, thread, app)
    if desired is not None:
        from reconciler.sandbox.seeding import seed

        try:
            seed(sandbox.endpoint, desired)
        except BaseException:
            sandbox.stop()
            raise
        sandbox.faults.calls.clear()
    return sandbox


def serve(port: int, desired: Path) -> int:
    """The `reconciler sandbox` command. Exit 0 on SIGTERM/SIGINT, 1 on invalid desired state."""
    from reconciler.core.errors import InvalidDesired
    from reconciler.loading import load

    try:
        state = load(desired, run_tests=False)
    except InvalidDesired as exc:
        for line in _error_lines(exc):
            print(line, file=sys.stderr, flush=True)
        return 1
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with start(port=port, desired=state) as sandbox:
            sys.stdout.write(f"endpoint {sandbox.endpoint}\n")
            sys.stdout.flush()
            while not stop.wait(3600):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _error_lines(exc: BaseException) -> list[str]:
    """One line per error of an InvalidDesired (it may carry several)."""
    errors = getattr(exc, "errors", None)
    if errors:
        return [str(e) for e in errors]
    return [line for line in str(exc).splitlines() if line.strip()] or [type(exc).__name__]
