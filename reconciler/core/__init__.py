"""The pure core: the model, settings, errors with their retry policy, the planner and the drift rules; no I/O."""
