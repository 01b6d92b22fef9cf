"""Writes of customers and vendors: create, update (replace or amend, archive) and delete.

Each runs in one transaction that also writes its event to the outbox. Email
uniqueness is left to the database's unique index on lower(email), whose violation
(recognised by the constraint's name, common.db) is a 409, so two concurrent creates
cannot both pass a check. Errors are common.exceptions only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from common.db import changes_assign, rows_update, unique_conflict
from common.events import publish_events
from common.exceptions import NotFound, ValidationFailed
from common.uses import Users, delete_refuse_if_used

from .events import contact_event, contact_event_data, contact_event_publish
from .kinds import ContactKind, kind_of
from .models import Contact, normalize_email

EDITABLE_FIELDS = frozenset({"name", "email", "phone", "address", "active"})
# Rows per multi-row INSERT/UPDATE of the *_many functions (the imports).
BULK_BATCH_SIZE = 1000


@transaction.atomic
def contact_create(
    *, kind: ContactKind, name: str, email: str, phone: str = "", address: str = "", active: bool = True
) -> Contact:
    contact = _new(kind=kind, name=name, email=email, phone=phone, address=address, active=active)
    _save(contact)
    contact_event_publish(contact=contact, change="created", version=contact.version)
    return contact


@transaction.atomic
def contact_create_many(*, kind: ContactKind, rows: Sequence[Mapping[str, Any]]) -> list[Contact]:
    """Create many contacts of ``kind`` as :func:`contact_create` would one by one (the imports).

    The same checks, rows and ``created`` events, in a few multi-row INSERTs; a duplicate
    email (even a concurrent one) is a 409 and nothing is created. Inserted in email order: each
    new email holds its unique index entry until the commit, so two imports of the same new
    emails in different orders would otherwise deadlock instead of the second getting its 409.
    """
    contacts = sorted((_new(kind=kind, **row) for row in rows), key=lambda contact: contact.email)
    for contact in contacts:
        _validate(contact)
    with unique_conflict(kind.model.email_constraint_name(), field="email", message=_duplicate_message(kind)):
        kind.model.objects.bulk_create(contacts, batch_size=BULK_BATCH_SIZE)
    publish_events([contact_event(contact=c, change="created", version=c.version) for c in contacts])
    return contacts


def _new(
    *, kind: ContactKind, name: str, email: str, phone: str = "", address: str = "", active: bool = True
) -> Contact:
    return kind.model(name=name, email=normalize_email(email), phone=phone, address=address, active=active)


@transaction.atomic
def contact_update(*, contact: Contact, data: Mapping[str, Any]) -> Contact:
    """Set the fields in ``data`` and return the saved contact.

    PUT passes every field (a replacement), PATCH only those given. The row is locked
    and re-read first so the event carries what was committed, not a stale copy. An
    update that changes nothing saves nothing and sends no event (retries are free).
    """
    _check_editable(data)
    locked = _lock(contact)
    if not _change(locked, data):
        return locked
    # Bumped in the UPDATE itself, under the row lock: no two changes share a version.
    locked.version = F("version") + 1
    _save(locked)
    locked.refresh_from_db(fields=["version"])
    contact_event_publish(contact=locked, change="updated", version=locked.version)
    return locked


@transaction.atomic
def contact_update_many(*, kind: ContactKind, data_by_id: Mapping[uuid.UUID, Mapping[str, Any]]) -> list[Contact]:
    """Update many contacts of ``kind`` as :func:`contact_update` would one by one (the imports).

    The rows are locked in ascending id in one statement; those that change get their
    version bumped under that lock, are validated and written in a few multi-row UPDATEs,
    with one ``updated`` event each; an unchanged one writes and sends nothing. Returns the
    contacts that changed. A contact deleted since the caller read it is a 404, nothing changes.
    """
    for data in data_by_id.values():
        _check_editable(data)
    locked = list(kind.model.objects.select_for_update().filter(pk__in=list(data_by_id)).order_by("pk"))
    if len(locked) != len(data_by_id):
        raise NotFound(f"A {kind.name} of the file no longer exists.")
    now = timezone.now()
    changed = [contact for contact in locked if _change(contact, data_by_id[contact.pk])]
    for contact in changed:
        contact.version += 1  # under the row lock, as the single update's F() expression
        contact.updated_at = now  # what auto_now sets on save(); rows_update does not
        _validate(contact)
    fields = sorted({field for data in data_by_id.values() for field in data} | {"version", "updated_at"})
    with unique_conflict(kind.model.email_constraint_name(), field="email", message=_duplicate_message(kind)):
        rows_update(kind.model, changed, fields, batch_size=BULK_BATCH_SIZE)
    publish_events([contact_event(contact=c, change="updated", version=c.version) for c in changed])
    return changed


def _check_editable(data: Mapping[str, Any]) -> None:
    unknown = sorted(set(data) - EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed({field: ["This field cannot be changed."] for field in unknown})


def _change(contact: Contact, data: Mapping[str, Any]) -> bool:
    """Set the fields in ``data`` on ``contact``; False (and nothing set) if none of them differs."""
    return changes_assign(contact, {field: normalize_email(v) if field == "email" else v for field, v in data.items()})


def contact_delete(*, contact: Contact) -> None:
    """Delete a contact no order uses; otherwise 409 naming the orders (archive it instead).

    The service whose orders name this kind (sales for customers, purchase for vendors) is
    asked first, outside the transaction; if it cannot answer, the contact is kept (503).
    """
    kind = kind_of(contact)
    delete_refuse_if_used(
        what=kind.name, users=[Users(kind.orders_service, f"/internal/{kind.plural}/{contact.pk}/orders")]
    )
    _contact_delete_unused(contact=contact)


@transaction.atomic
def _contact_delete_unused(*, contact: Contact) -> None:
    locked = _lock(contact)
    data = contact_event_data(kind=kind_of(locked), contact=locked)
    locked.delete()
    # The deletion is the record's last change: one version past the last update.
    contact_event_publish(contact=locked, change="deleted", version=locked.version + 1, data=data)


def _lock(contact: Contact) -> Contact:
    locked = type(contact).objects.select_for_update().filter(pk=contact.pk).first()
    if locked is None:  # deleted since the caller read it
        raise NotFound(f"This {kind_of(contact).name} no longer exists.")
    return locked


def _save(contact: Contact) -> None:
    """Validate and save, turning a duplicate email (even a concurrent one) into a 409."""
    _validate(contact)
    message = _duplicate_message(kind_of(contact))
    with unique_conflict(type(contact).email_constraint_name(), field="email", message=message):
        contact.save()


def _validate(contact: Contact) -> None:
    # Constraints are left to the database: checking them here too would cost a
    # query and still race; the field checks catch callers that skip the serializer.
    try:
        # ``version`` may hold the F-expression of an update, which is no value to validate.
        contact.full_clean(exclude=["version"], validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        raise ValidationFailed.from_django(exc) from None


def _duplicate_message(kind: ContactKind) -> str:
    return f"A {kind.name} with this email already exists."
