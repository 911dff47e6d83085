"""What the state directory says, read and validated: for `status` and the daemon's SIGUSR1.

No AWS call: both files are parsed through `stateschema` (a bad shape is one line, never a
traceback, and nothing is moved: only a reconcile sets a bad file aside), then turned into the
`reports.status` value. Recorded errors may quote AWS echoing job data, so the desired jobs'
secrets are registered first (best effort: status must answer when desired/ is invalid).
"""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.core.jsonvalue import JSONObject
from reconciler.core.settings import Settings
from reconciler.cycle import statefile, stateschema
from reconciler.reports import status as report
from reconciler.reports.sanitizing import clean, register


def current_status(settings: Settings, load_secrets: bool = True) -> report.Status | str:
    """The `Status` of the state directory, or one line saying why there is none. The daemon
    passes `load_secrets=False`: its reconciles registered the jobs' secrets already, and a
    signal must not make it load the desired directory (function code compiled) once more."""
    where = settings.state_dir
    try:
        state = statefile.read_json(where / statefile.STATE)
        intents = statefile.read_json(where / statefile.INTENTS)
        parsed = stateschema.parse_state(state or {})
        owed = stateschema.parse_intents(intents or {})
    except (statefile.Corrupt, stateschema.SchemaError) as exc:
        return f"state file is unreadable (torn or edited?): {exc}; the next reconcile sets it aside and rebuilds it"
    except OSError as exc:
        return f"cannot read state directory {where}: {exc.strerror or exc}"
    current = report.status_of(parsed, owed.intents, now=datetime.now(UTC))
    if current is None:
        return f"no reconcile has run yet for {settings.desired} (no state in {where})"
    if load_secrets:
        _register_job_secrets(settings)
    return current


def read_status(settings: Settings) -> tuple[JSONObject | None, str | None]:
    """The `status --json` document (redacted, escaped) or None and why; for `daemon.status`."""
    current = current_status(settings, load_secrets=False)
    if isinstance(current, str):
        return None, clean(current)
    return report.as_dict(report.shown(current, clean)), None


def _register_job_secrets(settings: Settings) -> None:
    try:
        from reconciler.loading import load

        register(load(settings.desired, run_tests=False))
    except Exception:  # noqa: BLE001 - status must answer even when desired/ is invalid or absent
        pass
