"""Reports: the plan as text, JSON and markdown; the status of the state directory. Pure."""
