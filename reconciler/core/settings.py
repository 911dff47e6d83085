"""One frozen `Settings` value, built only by the CLI, read by everything else."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reconciler.core.retrying import RetryPolicy


@dataclass(frozen=True)
class AwsSettings:
    endpoint_url: str | None = None
    profile: str | None = None
    region: str | None = None
    max_attempts: int = 8
    """botocore adaptive retries: throttling and 5xx are retried with backoff up to this."""


@dataclass(frozen=True)
class WatchSettings:
    interval: float = 60.0
    """Seconds between drift checks (and git fetches with --git-pull)."""
    debounce_ms: int = 100
    self_heal: bool = False
    git_pull: bool = False
    drift_repeat: float = 3600.0
    """While drift lasts, `drift.detected` is logged again after this many seconds."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    """How long to wait after a failed reconcile: transient failures back off, permanent ones go slow."""


@dataclass(frozen=True)
class Settings:
    desired: Path
    state_dir: Path
    log_format: str = "json"
    aws: AwsSettings = AwsSettings()
    watch: WatchSettings = WatchSettings()

    @staticmethod
    def default_state_dir(desired: Path) -> Path:
        """SPEC: `.reconciler/` beside the desired directory."""
        return desired.resolve().parent / ".reconciler"
