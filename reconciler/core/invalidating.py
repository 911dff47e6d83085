"""Which CloudFront paths a set of changes invalidates: one invalidation per distribution.

SPEC section 3: each changed resource names, per distribution, the paths its change makes
stale (`invalidate:` in its YAML); a plan ends with one invalidation per distribution holding
the union of those paths, collapsed (`/*` alone, wildcard-covered paths dropped). The planner
calls this for the planned changes, and the invalidation journal again for those that succeeded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconciler.core.actions import Action, InvalidationAction
from reconciler.core.model import invalidation_resource


def collapse_paths(paths: Iterable[str]) -> tuple[str, ...]:
    """`/*` alone if present; drop paths a wildcard already covers; sorted, unique."""
    unique = set(paths)
    if "/*" in unique:
        return ("/*",)
    wildcards = [p[:-1] for p in unique if p.endswith("*")]
    kept = {
        p for p in unique if not any(p != w + "*" and p.startswith(w) for w in wildcards)
    }
    return tuple(sorted(kept))


def invalidations_for(
    changes: Iterable[Action], distributions: Mapping[str, str]
) -> tuple[InvalidationAction, ...]:
    """One invalidation per distribution: the union of the paths of the changed resources."""
    by_distribution: dict[str, list[str]] = {}
    causes: dict[str, list[str]] = {}
    for action in changes:
        for logical, paths in action.invalidate.items():
            by_distribution.setdefault(logical, []).extend(paths)
            causes.setdefault(logical, []).append(action.resource)
    return tuple(
        InvalidationAction(
            "invalidate",
            invalidation_resource(logical),
            {logical: collapse_paths(paths)},
            distribution=logical,
            distribution_id=distributions.get(logical),
            paths=collapse_paths(paths),
            causes=tuple(sorted(causes[logical])),
        )
        for logical, paths in sorted(by_distribution.items())
        if paths
    )
