"""Customers and vendors in and out as CSV (contract §5): the import, keyed by email, and the export.

An import is all or nothing. Every cell is checked first, by the API's own serializer fields,
and every problem is reported at once (``rows.<line>.<column>``); then, in one transaction,
the rows go through :func:`contact_update_many` and :func:`contact_create_many`, which check,
write and announce each contact as ``contact_update`` and ``contact_create`` (one ``PATCH`` or
``POST``) would: the rows, versions and ``contact.*`` events are those of one-by-one entry (an
unchanged contact writes nothing and sends nothing), in a few statements. A dry run runs
exactly that and rolls it back.

An empty cell means "not given": a new contact takes the API's default (blank), an existing one
keeps its value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from rest_framework import serializers

from common.csvfiles import CsvRow, Problems, cells_validated, csv_rows, csv_stream, duplicate_keys, require_column

from .api.serializers import ContactSerializer
from .kinds import ContactKind
from .models import Contact, normalize_email
from .services import contact_create_many, contact_update_many

COLUMNS = ("name", "email", "phone", "address")


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    dry_run: bool


@dataclass(frozen=True)
class _Row:
    line: int
    email: str
    data: dict[str, Any]  # the fields given (not empty), validated; email included


def _rows_checked(rows: list[CsvRow]) -> list[_Row]:
    fields: dict[str, serializers.Field] = dict(ContactSerializer().fields)
    problems = Problems()
    require_column(rows, "email")
    checked = []
    for row in rows:
        values = cells_validated(row, fields=fields, key="email", problems=problems)
        email = normalize_email(values.get("email", ""))
        checked.append(_Row(line=row.line, email=email, data={**values, "email": email}))
    duplicate_keys(rows, column="email", key=normalize_email, problems=problems)
    problems.raise_any()
    return checked


def contact_import(*, kind: ContactKind, data: bytes, dry_run: bool = False) -> ImportResult:
    """Import a CSV file of ``kind`` (see the module docstring): all rows or none; a dry run writes nothing."""
    rows = _rows_checked(csv_rows(data, columns=COLUMNS))
    with transaction.atomic():
        existing = dict(kind.model.objects.filter(email__in=[row.email for row in rows]).values_list("email", "pk"))
        problems = Problems()
        for row in rows:
            if row.email not in existing and "name" not in row.data:
                problems.add(f"rows.{row.line}.name", f"Required for a new {kind.name}.")
        problems.raise_any()
        updates = {existing[row.email]: row.data for row in rows if row.email in existing}
        changed = contact_update_many(kind=kind, data_by_id=updates)
        contact_create_many(kind=kind, rows=[row.data for row in rows if row.email not in existing])
        if dry_run:
            transaction.set_rollback(True)
    return ImportResult(
        created=len(rows) - len(updates),
        updated=len(changed),
        unchanged=len(updates) - len(changed),
        dry_run=dry_run,
    )


def contact_export(*, contacts: Iterable[Contact]) -> Iterator[bytes]:
    """Yield the CSV file of ``contacts``, which imported back changes nothing."""
    return csv_stream(
        columns=COLUMNS, rows=([contact.name, contact.email, contact.phone, contact.address] for contact in contacts)
    )
