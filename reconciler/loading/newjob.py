"""`new-job`: a new Job document with a random id and a cryptographically random tracking token,
checked by the loader's own per-file rules before it is written. Called by `commands.new_job`.
"""

from __future__ import annotations

import os
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from reconciler.loading.loader import check_text
from reconciler.loading.schemachecking import schema

CURRENCY = "USD"


class NewJobError(Exception):
    """An option was refused; the message is one line without customer data."""


def parse_price(text: str) -> int | float:
    """A price amount: a finite number >= 0 with at most 2 decimals, as int when whole."""
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        raise NewJobError(f"--price must be a number, e.g. 600 or 59.90 (got {text!r})") from None
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise NewJobError(f"--price must be a number >= 0 with at most 2 decimals (got {text!r})")
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def check_status(status: str) -> str:
    """A status the Job schema accepts."""
    statuses = schema("Job")["$defs"]["status"]["enum"]
    if status not in statuses:
        raise NewJobError(f"--status must be one of {', '.join(statuses)} (got {status!r})")
    return status


def job_document(customer: str, address: str, price: str, status: str) -> dict[str, object]:
    """The new Job: random id (`job_` + 16 hex: 64 bits, SPEC section 4) and a 192-bit URL-safe token."""
    check_status(status)
    if not customer.strip() or not address.strip():
        raise NewJobError("--customer and --address must not be empty")
    return {
        "kind": "Job",
        "id": f"job_{secrets.token_hex(8)}",
        "token": _token(),
        "customer": customer,
        "address": address,
        "price": {"amount": parse_price(price), "currency": CURRENCY},
        "status": status,
    }


def _token() -> str:
    """192 random bits, URL-safe; never starting with '-' so it cannot pass for a CLI option."""
    while (token := secrets.token_urlsafe(24)).startswith("-"):
        pass
    return token


def write_job(desired: Path, customer: str, address: str, price: str, status: str) -> tuple[Path, str]:
    """Write `<desired>/jobs/<id>.yaml` atomically and exclusively; returns its path and the token."""
    document = job_document(customer, address, price, status)
    directory = desired / "jobs"
    path = directory / f"{document['id']}.yaml"
    text = _header(desired) + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    errors = check_text(text, str(path))
    if errors:
        raise NewJobError(errors[0].split(": ", 1)[-1])
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f".{document['id']}.yaml.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(temporary, path)  # fails rather than overwrite an existing job
    finally:
        temporary.unlink(missing_ok=True)
    return path, str(document["token"])


def _header(desired: Path) -> str:
    """The editor's schema comment, when the checkout's schemas/ sits beside the desired directory."""
    schema_file = desired.resolve().parent / "schemas" / "job.json"
    if not schema_file.exists():
        return ""
    return f"# yaml-language-server: $schema={os.path.relpath(schema_file, desired.resolve() / 'jobs')}\n"
