"""The state directory as the cycle keeps it: `state.json` read (validated) and written, bad files
set aside, and a state directory that cannot be written reported once per outage.

Used by `reconciling.Reconciler` (the state document) and `journal.InvalidationJournal` (the
intents file); the file format is `stateschema`'s, the atomic writes and the lock `statefile`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from structlog.typing import FilteringBoundLogger

from reconciler.core.staterecords import State
from reconciler.cycle import statefile, stateschema


@dataclass
class StateStore:
    state_dir: Path
    log: FilteringBoundLogger
    write_failing: bool = False
    """True from a failed write until a write succeeds again (`state.write_failed` logged once)."""
    reported: set[str] = field(default_factory=set)
    """Bad state files already logged (one `state.corrupt` each, even if they cannot be moved)."""

    @property
    def state_path(self) -> Path:
        return self.state_dir / statefile.STATE

    def read_state(self) -> State:
        """The state document, validated; a bad one is set aside and rebuilt from live state."""
        path = self.state_path
        try:
            return stateschema.parse_state(statefile.read_json(path) or {})
        except (statefile.Corrupt, stateschema.SchemaError) as exc:
            self.set_aside(path, exc, "rebuilt from live state")
            return State()

    def write_state(self, state: State) -> None:
        statefile.write_json(self.state_path, stateschema.dump_state(state))

    def set_aside(self, path: Path, exc: Exception, action: str) -> None:
        """Keep a bad state file for inspection and log `state.corrupt` once for it."""
        try:
            aside: Path | None = statefile.set_aside(path)
        except OSError as err:
            aside = None
            if str(path) in self.reported:
                return
            action += f"; could not set it aside: {err.strerror or err}"
        self.reported.add(str(path))
        self.log.error("state.corrupt", file=str(path), set_aside=None if aside is None else str(aside),
                       error=str(exc), action=action)

    def write_failed(self, exc: OSError) -> None:
        """`state.write_failed` once per outage (a full disk must not fill the log too)."""
        if not self.write_failing:
            self.write_failing = True
            self.log.error("state.write_failed", dir=str(self.state_dir), error=exc.strerror or str(exc))

    def write_recovered(self) -> None:
        """After a failed write, the first complete one says so."""
        if self.write_failing:
            self.write_failing = False
            self.log.info("state.write_recovered", dir=str(self.state_dir))
