"""sd_notify over `$NOTIFY_SOCKET`, in a few lines of Python (no libsystemd, no C dependency).

systemd's `Type=notify` waits for `READY=1`; `WatchdogSec=` restarts the daemon unless
`WATCHDOG=1` arrives at least every `WATCHDOG_USEC`; `STATUS=` is what `systemctl status`
shows. Outside systemd (no `NOTIFY_SOCKET`) every call is a no-op, so the daemon never needs
to know how it was started. Called by `watching.py`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


class Notifier:
    """One service manager connection, read from the environment once."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = _address(env.get("NOTIFY_SOCKET", ""))
        self.watchdog_interval = _watchdog_seconds(env)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *assignments: str) -> bool:
        """Send `KEY=value` lines in one datagram; False (never an exception) when it fails."""
        if self.address is None:
            return False
        payload = "\n".join(a.replace("\n", " ") for a in assignments).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(payload, self.address)
        except OSError:
            return False  # the manager went away: the daemon keeps working
        return True

    def ready(self, status: str = "") -> bool:
        return self.send("READY=1", *((f"STATUS={status}",) if status else ()))

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self, status: str = "") -> bool:
        return self.send("STOPPING=1", *((f"STATUS={status}",) if status else ()))


def _address(value: str) -> str | bytes | None:
    """`/run/...` is a path; `@name` is Linux's abstract namespace (a leading NUL byte)."""
    if not value:
        return None
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None  # vsock and other forms are not for us


def _watchdog_seconds(env: Mapping[str, str]) -> float | None:
    """`WATCHDOG_USEC` in seconds, when it is meant for this process (`WATCHDOG_PID`)."""
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None
    return int(usec) / 1_000_000
