"""The commands behind the CLI: each takes `Settings` (plus its options) and returns an exit code.

`files` (validate, new-job: files only), `operations` (plan, apply, status: AWS or the state
directory), `uploading` (upload: a built site into a release's version folder) and `importing`
(import: desired files from what is live). `run` is the daemon's (`daemon.watching.run`). Heavy
modules are imported inside each command so `validate` starts fast.
"""
