"""A tiny TCP proxy in front of the sandbox that breaks connections and adds latency.

The sandbox's own hooks (`sandbox.faults.fail_next`, `throttle_next`) answer with HTTP errors;
this proxy adds the faults HTTP cannot express:

    proxy = FaultProxy(sandbox.port)                # endpoint: proxy.endpoint
    proxy.reset_next(b"AmazonSSM.PutParameter")     # RST before the request reaches the sandbox
    proxy.reset_next(b"PUT /bucket/key", after=True)  # request applied, the answer is lost (RST)
    proxy.delay(0.3, b"/invalidation")              # latency before forwarding
    proxy.close()

A rule matches when its bytes occur in the head of a request (request line and headers), so
`b"X-Amz-Target: AmazonSSM.PutParameter"`, `b"POST /2020-05-31/function"` or a bucket/key work.
Requests are recognised at the start of a read from the client (botocore does not pipeline),
which is enough for the sandbox's HTTP/1.1 traffic. Thread per connection; tests only.
"""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass

_REQUEST = re.compile(rb"^(GET|PUT|POST|DELETE|HEAD|PATCH) /")


@dataclass
class Rule:
    kind: str  # "reset" | "delay"
    match: bytes
    remaining: int
    after: bool = False
    seconds: float = 0.0


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self.hits: list[tuple[str, bytes]] = []
        """(kind, matched bytes) of every fault applied, in order."""
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._closed = False
        threading.Thread(target=self._accept, name=f"faultproxy:{self.port}", daemon=True).start()

    # -- rules -----------------------------------------------------------------------------------

    def reset_next(self, match: bytes = b"", times: int = 1, after: bool = False) -> None:
        """Reset the connection of the next `times` matching requests (after=True: once answered)."""
        with self._lock:
            self._rules.append(Rule("reset", match, times, after=after))

    def delay(self, seconds: float, match: bytes = b"", times: int = 1) -> None:
        """Hold the next `times` matching requests for `seconds` before forwarding them."""
        with self._lock:
            self._rules.append(Rule("delay", match, times, seconds=seconds))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self.hits.clear()

    def pending(self) -> int:
        with self._lock:
            return sum(r.remaining for r in self._rules)

    def _take(self, head: bytes) -> list[Rule]:
        taken = []
        with self._lock:
            for rule in list(self._rules):
                if rule.match in head:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                    taken.append(rule)
                    self.hits.append((rule.kind, rule.match))
        return taken

    # -- plumbing --------------------------------------------------------------------------------

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=30)
        except OSError:
            _reset(client)
            return
        drop_answer = threading.Event()
        threading.Thread(target=self._answers, args=(upstream, client, drop_answer), daemon=True).start()
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                if _REQUEST.match(data):
                    head = data.split(b"\r\n\r\n", 1)[0]
                    for rule in self._take(head):
                        if rule.kind == "delay":
                            time.sleep(rule.seconds)
                        elif rule.after:
                            drop_answer.set()
                        else:
                            _reset(client)
                            _reset(upstream)
                            return
                upstream.sendall(data)
        except OSError:
            pass
        _close(upstream)
        _close(client)

    @staticmethod
    def _answers(upstream: socket.socket, client: socket.socket, drop_answer: threading.Event) -> None:
        try:
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                if drop_answer.is_set():  # the request was applied; its answer is lost
                    _reset(client)
                    _reset(upstream)
                    return
                client.sendall(data)
        except OSError:
            pass
        _close(client)


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0): the peer sees `Connection reset by peer`.

    `shutdown(SHUT_RD)` first wakes the other thread blocked in `recv` on this socket (a bare
    `close` would not while that call holds the file), so the last close really sends the RST."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()
