"""The systemd template unit: required directives always; systemd-analyze's exposure when installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "systemd"
UNIT = DEPLOY / "reconciler@.service"
MAX_EXPOSURE = 2.5


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> every value assigned (systemd allows repeats), comments dropped."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"directive outside a section: {line}"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.fixture(scope="module")
def service() -> dict[str, list[str]]:
    return parse_unit(UNIT)["Service"]


def one(service: dict[str, list[str]], key: str) -> str:
    values = service.get(key)
    assert values, f"{key}= is missing"
    return values[-1]


class TestUnitDirectives:
    def test_is_a_notify_service_with_a_watchdog(self, service: dict[str, list[str]]) -> None:
        """Type=notify (READY=1 after the first reconcile) and a WatchdogSec."""
        assert one(service, "Type") == "notify"
        assert re.fullmatch(r"\d+(s|min)?", one(service, "WatchdogSec"))
        assert one(service, "NotifyAccess") == "main"

    def test_restarts_on_failure(self, service: dict[str, list[str]]) -> None:
        """A crash restarts the daemon; a clean SIGTERM exit does not."""
        assert one(service, "Restart") == "on-failure"

    def test_one_state_directory_and_env_file_per_instance(self, service: dict[str, list[str]]) -> None:
        """%i selects the env file and the state directory, which is passed as --state-dir."""
        assert one(service, "StateDirectory") == "reconciler/%i"
        assert one(service, "EnvironmentFile") == "/etc/reconciler/%i.env"
        exec_start = one(service, "ExecStart")
        assert " run " in exec_start
        assert "--state-dir ${STATE_DIRECTORY}" in exec_start
        assert "--desired ${DESIRED}" in exec_start

    @pytest.mark.parametrize(
        ("key", "value"),
        [
            ("DynamicUser", "yes"),
            ("ProtectSystem", "strict"),
            ("ProtectHome", "yes"),
            ("PrivateTmp", "yes"),
            ("PrivateDevices", "yes"),
            ("NoNewPrivileges", "yes"),
            ("CapabilityBoundingSet", ""),
            ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
            ("ProtectKernelTunables", "yes"),
            ("ProtectKernelModules", "yes"),
            ("ProtectControlGroups", "yes"),
            ("RestrictNamespaces", "yes"),
            ("RestrictSUIDSGID", "yes"),
            ("LockPersonality", "yes"),
            ("SystemCallArchitectures", "native"),
        ],
    )
    def test_hardening_directive(self, service: dict[str, list[str]], key: str, value: str) -> None:
        """Each hardening directive is set to its strict value."""
        assert one(service, key) == value

    def test_system_calls_are_limited_to_the_service_set(self, service: dict[str, list[str]]) -> None:
        """SystemCallFilter allows @system-service and denies @privileged."""
        filters = service.get("SystemCallFilter", [])
        assert "@system-service" in filters
        assert any(f.startswith("~") and "@privileged" in f for f in filters)

    def test_v8_jit_keeps_writable_executable_memory(self, service: dict[str, list[str]]) -> None:
        """MemoryDenyWriteExecute would kill mini-racer's JIT; it is unset, with the reason in a comment."""
        assert "MemoryDenyWriteExecute" not in service
        assert "MemoryDenyWriteExecute= is deliberately NOT set" in UNIT.read_text()

    def test_env_example_sets_desired(self) -> None:
        """The example env file names the desired directory."""
        example = (DEPLOY / "reconciler.env.example").read_text()
        assert re.search(r"^DESIRED=/\S+", example, re.M)


class TestSecurityExposure:
    def test_systemd_analyze_rates_exposure_at_most_2_5(self, tmp_path: Path) -> None:
        """`systemd-analyze security --offline=true` rates the unit 2.5 or lower."""
        analyze = shutil.which("systemd-analyze")
        if analyze is None:
            pytest.skip("systemd-analyze not installed (apt-get install systemd); directives checked above")
        shutil.copy(UNIT, tmp_path / UNIT.name)
        done = subprocess.run(
            [analyze, "security", "--offline=true", "--no-pager", "reconciler@x.service"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        match = re.search(r"Overall exposure level for reconciler@x\.service: (\d+\.\d+)", done.stdout)
        assert match, done.stdout[-2000:] + done.stderr
        assert float(match.group(1)) <= MAX_EXPOSURE
