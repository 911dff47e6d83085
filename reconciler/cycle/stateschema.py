"""The state directory's two documents, versioned and validated on read.

`state.json` and `intents.json` as `core.staterecords` values (`State`, `Intents`); both carry
`version`. `parse_state` / `parse_intents` turn parsed JSON into frozen values or raise
`SchemaError` naming the first wrong field (a list instead of an object, a missing key, a wrong
type); `dump_*` turn the values back into JSON documents. Files written before `version` existed
are read as version 1. A file of a newer version is refused like a corrupt one: set aside, never
half-understood.

Pure: the `statestore`, the `journal` and `statusreading` do the reading, setting aside and logging.
`salvage_intents` keeps what can be kept of a bad intents document, so no owed invalidation
is ever dropped: a broken entry becomes `/*` on its distribution, or on every distribution when
even that is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from reconciler.core.jsonvalue import JSON
from reconciler.core.staterecords import VERSION, Baseline, Created, DriftRecord, Intent, Intents, Last, State

T = TypeVar("T")


class SchemaError(ValueError):
    """A state document that is valid JSON but not of the shape this reconciler writes."""


# -- reading ---------------------------------------------------------------------------------


def parse_state(raw: JSON) -> State:
    doc = _document(raw, "state")
    return State(
        baselines=_mapping(doc, "baselines", _baseline),
        drift=_mapping(doc, "drift", _drift),
        invalidations=_items(doc, "invalidations", _created),
        last=None if doc.get("last") is None else _last(_object(doc["last"], "last")),
        version=VERSION,
    )


def parse_intents(raw: JSON) -> Intents:
    doc = _document(raw, "intents")
    return Intents(_items(doc, "intents", _intent), VERSION)


def salvage_intents(raw: JSON, distributions: Mapping[str, str], reference: Callable[[], str],
                    now: str) -> tuple[Intent, ...]:
    """What is owed according to a bad intents document: every entry that parses, `/*` on the
    distribution of each entry that does not (when it names a known one), and `/*` on every
    distribution when anything cannot be attributed. Never fewer paths than were owed."""
    entries = raw.get("intents") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        return _everywhere(distributions, reference, now)
    kept: list[Intent] = []
    lost: set[str] = set()
    for entry in entries:
        try:
            kept.append(_intent(_object(entry, "intents[]"), "intents[]"))
            continue
        except SchemaError:
            pass
        name = entry.get("distribution") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name not in distributions:
            return _everywhere(distributions, reference, now)
        lost.add(name)
    return (*kept, *(Intent(reference(), n, distributions[n], ("/*",), now) for n in sorted(lost)))


def _everywhere(distributions: Mapping[str, str], reference: Callable[[], str], now: str) -> tuple[Intent, ...]:
    return tuple(Intent(reference(), n, d, ("/*",), now) for n, d in sorted(distributions.items()))


def _document(raw: Any, name: str) -> dict[str, Any]:
    doc = _object(raw, name)
    version = doc.get("version", 1)
    if type(version) is not int:
        raise SchemaError(f"{name}.version: must be an integer")
    if version != VERSION:
        raise SchemaError(f"{name}.version: {version} is not {VERSION} (written by another reconciler version)")
    return doc


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SchemaError(f"{where}: must be an object, not {_type(value)}")
    return value


def _type(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "true/false",
            type(None): "null", dict: "an object"}.get(type(value), type(value).__name__)


def _mapping(doc: dict[str, Any], key: str, parse: Callable[[dict[str, Any], str], T]) -> dict[str, T]:
    value = doc.get(key, {})
    return {str(k): parse(_object(v, f"{key}.{k}"), f"{key}.{k}") for k, v in _object(value, key).items()}


def _items(doc: dict[str, Any], key: str, parse: Callable[[dict[str, Any], str], T]) -> tuple[T, ...]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise SchemaError(f"{key}: must be a list, not {_type(value)}")
    return tuple(parse(_object(v, f"{key}[{i}]"), f"{key}[{i}]") for i, v in enumerate(value))


def _str(doc: dict[str, Any], key: str, where: str) -> str:
    if key not in doc:
        raise SchemaError(f"{where}.{key}: missing")
    value = doc[key]
    if not isinstance(value, str):
        raise SchemaError(f"{where}.{key}: must be a string, not {_type(value)}")
    return value


def _opt_str(doc: dict[str, Any], key: str, where: str) -> str | None:
    return None if doc.get(key) is None else _str(doc, key, where)


def _number(doc: dict[str, Any], key: str, where: str, default: float = 0) -> float:
    value = doc.get(key, default)
    if type(value) not in (int, float):
        raise SchemaError(f"{where}.{key}: must be a number, not {_type(value)}")
    return float(value)


def _strings(doc: dict[str, Any], key: str, where: str, required: bool = False) -> tuple[str, ...]:
    if required and key not in doc:
        raise SchemaError(f"{where}.{key}: missing")
    value = doc.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SchemaError(f"{where}.{key}: must be a list of strings")
    return tuple(value)


def _paths(doc: dict[str, Any], where: str) -> tuple[str, ...]:
    paths = _strings(doc, "paths", where, required=True)
    if not paths or not all(p.startswith("/") for p in paths):
        raise SchemaError(f"{where}.paths: must be a non-empty list of paths starting with '/'")
    return paths


def _baseline(doc: dict[str, Any], where: str) -> Baseline:
    return Baseline(_str(doc, "desired", where), _opt_str(doc, "live", where))


def _drift(doc: dict[str, Any], where: str) -> DriftRecord:
    return DriftRecord(_str(doc, "since", where), _opt_str(doc, "live", where), _strings(doc, "fields", where),
                       _number(doc, "logged_at", where))


def _created(doc: dict[str, Any], where: str) -> Created:
    return Created(_str(doc, "id", where), _str(doc, "distribution", where), _str(doc, "distribution_id", where),
                   _paths(doc, where), _opt_str(doc, "created_at", where), _opt_str(doc, "status", where))


def _last(doc: dict[str, Any]) -> Last:
    return Last(_opt_str(doc, "time", "last"), _str(doc, "result", "last"), _opt_str(doc, "commit", "last"),
                int(_number(doc, "changes", "last")), int(_number(doc, "duration_ms", "last")),
                _strings(doc, "errors", "last"))


def _intent(doc: dict[str, Any], where: str) -> Intent:
    return Intent(_str(doc, "reference", where), _str(doc, "distribution", where),
                  _str(doc, "distribution_id", where), _paths(doc, where), _opt_str(doc, "recorded_at", where))


# -- writing ---------------------------------------------------------------------------------


def dump_state(state: State) -> dict[str, JSON]:
    out: dict[str, JSON] = {
        "version": VERSION,
        "baselines": {k: {"desired": b.desired, "live": b.live} for k, b in sorted(state.baselines.items())},
        "drift": {k: {"since": d.since, "live": d.live, "fields": list(d.fields), "logged_at": d.logged_at}
                  for k, d in sorted(state.drift.items())},
        "invalidations": [_without_none({**vars(c), "paths": list(c.paths)}) for c in state.invalidations],
    }
    if state.last is not None:
        out["last"] = {**vars(state.last), "errors": list(state.last.errors)}
    return out


def dump_intents(intents: Iterable[Intent]) -> dict[str, JSON]:
    return {"version": VERSION, "intents": [dump_intent(i) for i in intents]}


def dump_intent(intent: Intent) -> dict[str, JSON]:
    return _without_none({**vars(intent), "paths": list(intent.paths)})


def _without_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}
