"""One reconcile: read -> plan -> apply -> invalidate (`reconciling`); the invalidation journal
(`journal`); the typed, versioned state files (`stateschema`, `statefile`, `statestore`)."""
