"""The commands behind the CLI: each takes `Settings` (plus its options) and returns an exit code.

`files` (validate, new-job: files only) and `operations` (plan, apply, status: AWS or the state
directory). `run` is the daemon's (`daemon.watching.run`). Heavy modules are imported inside each
command so `validate` starts fast.
"""
