"""One reconcile: read -> plan -> apply -> invalidate; the invalidation journal; the state files."""
