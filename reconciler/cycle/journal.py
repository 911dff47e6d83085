"""The invalidation journal: the CloudFront invalidations this process owes, kept durably.

SPEC section 3: the intent is recorded before any change (`record`), narrowed to what actually
changed (`narrow`), issued last (`issue`) and confirmed by later reconciles (`confirm`). A process
killed between a change and its invalidation issues it after restart, exactly once: each intent
has its own CallerReference, reused only to re-issue that same intent. A bad intents file is set
aside and what it owed kept, as `/*` where it cannot be read; a state directory that cannot be
written keeps the intents in memory until it can.

Used by `reconciling.Reconciler`, once per reconcile, in that order.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from structlog.typing import FilteringBoundLogger

from reconciler import events
from reconciler.core.actions import Action, Plan
from reconciler.core.errors import ReconcilerError
from reconciler.core.invalidating import invalidations_for
from reconciler.core.model import Desired
from reconciler.core.staterecords import Created, Intent, now_iso
from reconciler.cycle import statefile, stateschema
from reconciler.cycle.statestore import StateStore

if TYPE_CHECKING:
    from reconciler.aws.session import Clients


@dataclass
class InvalidationJournal:
    store: StateStore
    log: FilteringBoundLogger
    distributions: dict[str, str] = field(default_factory=dict)
    """The Site's distributions (logical -> id) as last loaded: where owed paths are issued."""
    created: list[Created] = field(default_factory=list)
    """Invalidations created in this reconcile, confirmed from the next one on."""
    unsaved: tuple[Intent, ...] | None = None
    """Owed invalidations while the state directory cannot be written (None: the file holds them)."""

    @property
    def path(self) -> Path:
        return self.store.state_dir / statefile.INTENTS

    def read(self) -> tuple[Intent, ...]:
        """The owed invalidations; a bad file is set aside and what it owed kept, as `/*` where
        it cannot be read (on every distribution when even the distribution is unknown)."""
        if self.unsaved is not None:
            return self.unsaved  # the state directory is not writable: memory holds them
        path = self.path
        try:
            raw = statefile.read_json(path)
            return stateschema.parse_intents(raw or {}).intents
        except (statefile.Corrupt, stateschema.SchemaError) as exc:
            raw = None if isinstance(exc, statefile.Corrupt) else raw
            owed = stateschema.salvage_intents(
                raw, self.distributions, lambda: f"reconciler-{uuid.uuid4()}", now_iso()
            )
            self.store.set_aside(path, exc, "owed invalidations kept; /* where unreadable")
            self.write(owed)  # whole again; otherwise a no-change reconcile never rewrites it
            return owed

    def write(self, intents: Sequence[Intent]) -> None:
        """Durably, or (state directory read-only or full) in memory, logged once: the daemon
        keeps working and still issues what it owes; only a crash meanwhile could lose it."""
        try:
            statefile.write_json(self.path, stateschema.dump_intents(intents))
        except OSError as exc:
            self.unsaved = tuple(intents)
            self.store.write_failed(exc)
            return
        self.unsaved = None

    def flush(self) -> None:
        """Write intents kept in memory once the state directory takes writes again."""
        if self.unsaved is not None:
            self.write(self.unsaved)

    def record(self, todo: Plan) -> list[Intent]:
        """Durably record the invalidations this reconcile will owe, before any change."""
        # an id is None only for a distribution the Site does not declare (the loader refuses
        # that); `issue` forgets such an intent
        new = [_intent(a.distribution, a.distribution_id or "", a.paths) for a in todo.invalidations]
        if new:
            self.write((*self.read(), *new))
        return new

    def narrow(self, intent: Sequence[Intent], succeeded: Iterable[Action], desired: Desired) -> None:
        """After the changes, owe only what actually changed (the recorded intent is a superset)."""
        if not intent:
            return
        actual = {a.distribution: a.paths for a in invalidations_for(succeeded, desired.site.distributions)}
        mine = {i.reference for i in intent}
        kept = []
        for i in self.read():
            if i.reference in mine:
                if i.distribution not in actual:
                    continue
                i = replace(i, paths=tuple(actual[i.distribution]))
            kept.append(i)
        self.write(kept)

    def issue(self, clients: Clients) -> list[ReconcilerError]:
        """CreateInvalidation for every recorded intent (this reconcile's and any a crash left)."""
        from reconciler.aws.applying import create_invalidation

        errors: list[ReconcilerError] = []
        intents = self.read()
        if not intents:
            return []
        remaining = []
        owed: dict[str, list[str]] = {}
        for intent in intents:
            current = self.distributions.get(intent.distribution)
            if current is None:  # the Site no longer declares it: nothing there serves our files
                self.log.warning("invalidation.forgotten", distribution=intent.distribution,
                                 reason="owed on a distribution the Site no longer declares")
                continue
            intent = replace(intent, distribution_id=current)  # its id changed in git: owe it where it is now
            earlier = owed.setdefault(intent.distribution, [])
            if earlier and all(_covered(p, earlier) for p in intent.paths):
                continue  # an intent a crash left (issued now, after this reconcile's changes) covers it
            earlier.extend(intent.paths)
            paths = list(intent.paths)
            try:
                inv_id = create_invalidation(clients, intent.distribution_id, paths, intent.reference)
            except ReconcilerError as exc:
                remaining.append(intent)
                errors.append(exc)
                self.log.error(
                    events.ACTION_FAILED,
                    action="invalidate",
                    resource=f"invalidation/{intent.distribution}",
                    error=str(exc),
                )
                continue
            self.log.info(events.INVALIDATION_CREATED, distribution=intent.distribution, paths=paths, id=inv_id)
            self.created.append(Created(inv_id, intent.distribution, intent.distribution_id, intent.paths, now_iso()))
        self.write(remaining)
        return errors

    def confirm(self, clients: Clients, invalidations: Iterable[Created]) -> tuple[Created, ...]:
        """Check unconfirmed invalidations once per reconcile; drop those AWS reports completed,
        and those it does not know (NoSuchInvalidation, or a distribution the Site no longer
        declares): they can never be confirmed, and would show as pending forever. Returns the
        state's new `invalidations`: those still pending, then those created in this reconcile."""
        from reconciler.aws.applying import invalidation_status

        still = []
        declared = set(self.distributions.values())
        for inv in invalidations:
            try:
                status = "unknown" if inv.distribution_id not in declared else invalidation_status(
                    clients, inv.distribution_id, inv.id
                )
            except ReconcilerError:
                still.append(inv)
                continue
            if status == "unknown":
                self.log.warning("invalidation.forgotten", distribution=inv.distribution, id=inv.id,
                                 reason="unknown to CloudFront or to the Site; cannot be confirmed")
            elif status.lower() != "completed":
                still.append(replace(inv, status=status))
        confirmed, self.created = (*still, *self.created), []
        return confirmed


def _intent(distribution: str, distribution_id: str, paths: Iterable[str]) -> Intent:
    """One owed invalidation, with its own CallerReference (reused only to re-issue it)."""
    return Intent(f"reconciler-{uuid.uuid4()}", distribution, distribution_id, tuple(paths), now_iso())


def _covered(path: str, by: list[str]) -> bool:
    """True when invalidating `by` also invalidates `path` (same path, or a wildcard prefix)."""
    return any(p == path or (p.endswith("*") and path.startswith(p[:-1])) for p in by)
