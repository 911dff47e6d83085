"""Files -> model: the desired directory read, checked and assembled into one `Desired`.

The door of this room: `load` (one pass), `Loader` (the daemon's, re-parsing only changed files),
`check_text` and `schema` (for `new-job`), `MAX_CODE_BYTES`, and the job id strength
(`weak_id`, `id_bits`, `ID_BITS`) that `validate` warns about. The steps live in `loader`,
`desiredfiles`, `yamlreading`, `schemachecking`, `assembling` and `problems`.
"""

from reconciler.loading.assembling import MAX_CODE_BYTES
from reconciler.loading.documentrules import ID_BITS, id_bits, weak_id
from reconciler.loading.loader import Loader, check_text, load
from reconciler.loading.schemachecking import schema

__all__ = ["ID_BITS", "MAX_CODE_BYTES", "Loader", "check_text", "id_bits", "load", "schema", "weak_id"]
