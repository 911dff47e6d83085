"""Redaction of customer data and secrets from every value the reconciler prints (SPEC section 5).

A process-wide registry of values that must never be printed (tracking tokens, customer names,
addresses, notes, credentials) that only grows: a value a job used to have (before an edit or a
removal, or seen only in the live jobs object) stays registered, so it is still redacted after it
left git. `events` (the log processor), `operations` (plan, status) and `commands` (validate) call
`redact` on values only: event names, levels and keys are never passed in.

Rules, each against a defect a probe found:
- every occurrence of every registered secret is covered, overlapping ones merged into one
  marker, so a secret that contains another (or overlaps it) never leaks in part;
- a secret that is one of the reconciler's own words (`done`, `failed`, `applied`, a field name)
  is not redacted at all: replacing it would turn structure into `[redacted]` while hiding
  nothing (the word is printed by the reconciler anyway);
- a short secret (under `SUBSTRING_MIN` characters) or one that is part of a word of that
  vocabulary is replaced only where it stands as a whole word, so a customer called `Al` does
  not shred `Alert`, and a note `complete` does not shred `completed`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from functools import lru_cache

MARKER = "[redacted]"
SUBSTRING_MIN = 4
"""Secrets at least this long are replaced wherever they occur, inside words too."""

_WORDS = """
    reconcile start done validation failed action applied invalidation created drift detected
    resolved state corrupt daemon stopping stopped started status conflict lease acquired lost
    suspended probe ok write_failed write unwritable git update_failed debug info warning warn error
    critical in_sync invalid standby trigger startup change interval webhook commit result changes
    duration_ms api_calls errors resource fields file signal action create update publish delete
    invalidate function release jobs job site distribution distributions paths id reference owed
    confirmed completed inprogress in_progress pending none true false null unknown since time last
    age_seconds exit_code kind name region bucket key prefix require parameter version runtime
    comment code tests event expect token customer address price amount currency all_inclusive
    scheduled date window notes history at morning afternoon evening anytime requested delivered
    ready_for_pickup picked_up cancelled added removed replaced document before after drift_mode
    enforce ignore redacted
"""
VOCABULARY = frozenset(_WORDS.split())
"""Words the reconciler itself prints: never redacted, and never shredded by a shorter secret."""

_WORD = re.compile(r"\w+")

SECRET_FIELDS = ("token", "customer", "address", "notes")
"""A job's customer data: never printed, whatever its length (SPEC section 5)."""


def job_secrets(documents: Iterable[object]) -> list[str]:
    """The customer data of job documents (desired ones, or the live object's entries)."""
    found = []
    for document in documents:
        if isinstance(document, Mapping):
            found += [v for k in SECRET_FIELDS if isinstance(v := document.get(k), str)]
    return found


def url_credentials(url: str | None) -> list[str]:
    """The secret parts of a URL (`http://user:password@host`): the password and the pair."""
    from urllib.parse import unquote, urlsplit

    if not url:
        return []
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return [url]  # unparsable: the whole value is the safest thing to hide
    if not password:
        return []
    user = parts.username or ""
    return [password, unquote(password), f"{user}:{password}", parts.netloc.rsplit("@", 1)[0]]


class Registry:
    """Secrets seen so far in this process (thread-safe: the daemon adds while others print)."""

    def __init__(self, vocabulary: Iterable[str] = VOCABULARY) -> None:
        self._lock = threading.Lock()
        self._vocabulary = frozenset(w.lower() for w in vocabulary)
        self._parts = _parts(self._vocabulary)
        """Every substring of a vocabulary word: a secret among them is replaced as a word only."""
        self._anywhere: frozenset[str] = frozenset()
        """Secrets replaced wherever they occur."""
        self._words: frozenset[str] = frozenset()
        """Secrets replaced only as whole words (short ones, or parts of a vocabulary word)."""
        self._seen: frozenset[str] = frozenset()
        """Every value offered so far, kept or not: the fast path of `add`."""

    def add(self, values: Iterable[str]) -> None:
        """Register values (any length); the reconciler's own words are ignored."""
        values = [v for v in values if isinstance(v, str)]
        if self._seen.issuperset(values):
            return  # the daemon registers the same values every reconcile: nothing new
        anywhere, words = set(), set()
        for value in values:
            if not isinstance(value, str):
                continue
            value = value.strip()  # YAML keeps a quoted value's spaces; what is printed may not
            if not value or value.lower() in self._vocabulary:
                continue
            if value in self._anywhere or value in self._words:
                continue
            if len(value) < SUBSTRING_MIN or value.lower() in self._parts:
                words.add(value)
            else:
                anywhere.add(value)
        with self._lock:
            self._seen |= frozenset(values)
            self._anywhere |= anywhere
            self._words |= words

    def add_vocabulary(self, words: Iterable[str]) -> None:
        """Names the reconciler prints as structure (resource ids, distribution names)."""
        new = {w.lower() for w in words if isinstance(w, str)} - self._vocabulary
        if new:
            with self._lock:
                self._vocabulary |= new
                self._parts |= _parts(new)
                moved = {s for s in self._anywhere if s.lower() in self._parts}
                self._anywhere = frozenset(s for s in self._anywhere - moved if s.lower() not in new)
                self._words = self._words | moved
                self._words = frozenset(s for s in self._words if s.lower() not in new)

    def __bool__(self) -> bool:
        return bool(self._anywhere or self._words)

    def redact(self, text: str) -> str:
        """`text` with every registered secret in it replaced by one marker per covered span."""
        anywhere, words = self._anywhere, self._words  # one snapshot
        if not text or not (anywhere or words):
            return text
        spans = [s for secret in _present(text, anywhere) for s in _occurrences(text, secret)]
        if words:
            spans += [m.span() for m in _WORD.finditer(text) if m.group() in words]
            spans += [
                s
                for secret in _not_one_word(words)
                if secret in text
                for s in _occurrences(text, secret)
                if _whole(text, *s)
            ]
        if not spans:
            return text
        return _replace(text, spans)


@lru_cache(maxsize=4)
def _not_one_word(words: frozenset[str]) -> tuple[str, ...]:
    """The whole-word secrets `\\w+` cannot find as one match (`A.B`, `Jo Li`), computed once per
    registry snapshot rather than at every value redacted."""
    return tuple(w for w in words if not w.isalnum())


def _parts(words: Iterable[str]) -> frozenset[str]:
    return frozenset(w[i:j] for w in words for i in range(len(w)) for j in range(i + 1, len(w) + 1))


def _present(text: str, secrets: frozenset[str]) -> list[str]:
    """The secrets that occur in `text`; by the text's own substrings when that is cheaper."""
    n = len(text)
    if n * n // 2 < len(secrets):
        found = {text[i:j] for i in range(n) for j in range(i + SUBSTRING_MIN, n + 1)} & secrets
        return list(found)
    return [s for s in secrets if s in text]


def _occurrences(text: str, secret: str) -> list[tuple[int, int]]:
    """Every (start, end) of `secret` in `text`, overlapping ones included."""
    spans, start = [], text.find(secret)
    while start >= 0:
        spans.append((start, start + len(secret)))
        start = text.find(secret, start + 1)
    return spans


def _whole(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return not (_is_word(before) or _is_word(after))


@lru_cache(maxsize=256)
def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    """One marker per union of overlapping or touching spans."""
    out, position = [], 0
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        out.append(text[position:start])
        out.append(MARKER)
        position = end
    out.append(text[position:])
    return "".join(out)
