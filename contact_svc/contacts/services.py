"""Writes of customers and vendors: create, update (replace or amend, archive) and delete.

Each runs in one transaction that also writes its event to the outbox. Email
uniqueness is left to the database's unique index on lower(email), whose violation
(recognised by the constraint's name, common.db) is a 409, so two concurrent creates
cannot both pass a check. Errors are common.exceptions only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F

from common.db import unique_conflict
from common.exceptions import NotFound, ValidationFailed
from common.uses import Users, delete_refuse_if_used

from .events import contact_event_data, contact_event_publish
from .kinds import ContactKind, kind_of
from .models import Contact, normalize_email

EDITABLE_FIELDS = frozenset({"name", "email", "phone", "address", "active"})


@transaction.atomic
def contact_create(
    *, kind: ContactKind, name: str, email: str, phone: str = "", address: str = "", active: bool = True
) -> Contact:
    contact = kind.model(name=name, email=normalize_email(email), phone=phone, address=address, active=active)
    _save(contact)
    contact_event_publish(contact=contact, change="created", version=contact.version)
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, data: Mapping[str, Any]) -> Contact:
    """Set the fields in ``data`` and return the saved contact.

    PUT passes every field (a replacement), PATCH only those given. The row is locked
    and re-read first so the event carries what was committed, not a stale copy. An
    update that changes nothing saves nothing and sends no event (retries are free).
    """
    unknown = sorted(set(data) - EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed({field: ["This field cannot be changed."] for field in unknown})
    locked = _lock(contact)
    changes = {field: normalize_email(value) if field == "email" else value for field, value in data.items()}
    if all(getattr(locked, field) == value for field, value in changes.items()):
        return locked
    for field, value in changes.items():
        setattr(locked, field, value)
    # Bumped in the UPDATE itself, under the row lock: no two changes share a version.
    locked.version = F("version") + 1
    _save(locked)
    locked.refresh_from_db(fields=["version"])
    contact_event_publish(contact=locked, change="updated", version=locked.version)
    return locked


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
    # Constraints are left to the database: checking them here too would cost a
    # query and still race; the field checks catch callers that skip the serializer.
    try:
        # ``version`` may hold the F-expression of an update, which is no value to validate.
        contact.full_clean(exclude=["version"], validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        raise ValidationFailed.from_django(exc) from None
    message = f"A {kind_of(contact).name} with this email already exists."
    with unique_conflict(type(contact).email_constraint_name(), field="email", message=message):
        contact.save()
