"""Writes of vendor items: what a vendor sells an item at, and which vendor an item is reordered from.

The vendor is checked with contact_svc and the item with inventory_svc before the transaction
opens (400 naming ``vendor_id`` or ``item_id``); their names are copied. Uniqueness is the
database's: a second vendor item of one vendor and item is a 409 naming ``item_id``. Making
one preferred unsets the item's other preferred one in the same transaction; should two
become preferred at once, the partial unique index refuses the second (409 naming ``preferred``).
A vendor item's vendor and item never change (delete it and create another).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from common.db import unique_conflict
from common.exceptions import NotFound, ValidationFailed
from order_documents.parties import party_copies_rename, party_fetch_for_copy
from order_documents.references import item_fetch

from .models import VENDOR_ITEM_ONE_PREFERRED, VENDOR_ITEM_UNIQUE, VendorItem, VendorVersion
from .services import vendor_fetch

EDITABLE_FIELDS = frozenset(
    {"vendor_sku", "unit_cost", "lead_time_days", "min_order_quantity", "pack_size", "preferred"}
)
# SQLite names the columns of a violated unique index, PostgreSQL the constraint (common.db).
_DUPLICATE = (VENDOR_ITEM_UNIQUE, "purchasing_vendoritem.vendor_id, purchasing_vendoritem.item_id")
_TWO_PREFERRED = (VENDOR_ITEM_ONE_PREFERRED, "purchasing_vendoritem.item_id")


def vendor_item_create(
    *,
    vendor_id: uuid.UUID,
    item_id: uuid.UUID,
    unit_cost: Decimal,
    vendor_sku: str = "",
    lead_time_days: int = 0,
    min_order_quantity: int = 1,
    pack_size: int = 1,
    preferred: bool = False,
) -> VendorItem:
    """Create a vendor item once its vendor and item are known to their services."""
    name, version = party_fetch_for_copy(
        versions=VendorVersion, party_id=vendor_id, fetch=lambda: vendor_fetch(vendor_id=vendor_id)
    )
    item = item_fetch(item_id=item_id)
    with transaction.atomic():
        vendor_item = VendorItem(
            vendor_id=vendor_id,
            vendor_name=name,
            vendor_version=version,
            item_id=item_id,
            sku=item.sku,
            item_name=item.name,
            vendor_sku=vendor_sku,
            unit_cost=unit_cost,
            lead_time_days=lead_time_days,
            min_order_quantity=min_order_quantity,
            pack_size=pack_size,
            preferred=preferred,
        )
        _save(vendor_item)
    return vendor_item


@transaction.atomic
def vendor_item_update(*, vendor_item_id: uuid.UUID, data: Mapping[str, Any]) -> VendorItem:
    """Set the fields in ``data`` (PUT passes all, PATCH some); one that changes nothing writes nothing."""
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    vendor_item = VendorItem.objects.select_for_update().filter(pk=vendor_item_id).first()
    if vendor_item is None:
        raise NotFound()
    if any(getattr(vendor_item, field) != value for field, value in data.items()):
        for field, value in data.items():
            setattr(vendor_item, field, value)
        _save(vendor_item)
    return vendor_item


@transaction.atomic
def vendor_item_delete(*, vendor_item_id: uuid.UUID) -> None:
    """Delete a vendor item: the drafts it ordered keep their lines; its item is no longer reordered from it."""
    deleted, _ = VendorItem.objects.filter(pk=vendor_item_id).delete()
    if not deleted:
        raise NotFound()


def vendor_item_vendor_rename(*, vendor_id: uuid.UUID, name: str, version: int) -> int:
    """Copy a vendor's newer name onto its vendor items (one conditional UPDATE); return how many changed."""
    return party_copies_rename(
        copies=VendorItem.objects.filter(vendor_id=vendor_id),
        name=name,
        version=version,
        name_field="vendor_name",
        version_field="vendor_version",
    )


def vendor_item_vendor_forget(*, vendor_id: uuid.UUID) -> int:
    """Delete a deleted vendor's vendor items (contact_svc deletes a vendor no order names, whatever sells it)."""
    deleted, _ = VendorItem.objects.filter(vendor_id=vendor_id).delete()
    return deleted


def _save(vendor_item: VendorItem) -> None:
    """Validate and save, unsetting the item's other preferred vendor item first; duplicates are 409s."""
    try:
        vendor_item.full_clean(validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        raise ValidationFailed.from_django(exc) from None
    if vendor_item.preferred:
        others = VendorItem.objects.filter(item_id=vendor_item.item_id, preferred=True).exclude(pk=vendor_item.pk)
        others.update(preferred=False)
    with (
        unique_conflict(*_DUPLICATE, field="item_id", message="The vendor already has a vendor item for this item."),
        unique_conflict(
            *_TWO_PREFERRED, field="preferred", message="Another vendor item of this item was made preferred meanwhile."
        ),
    ):
        vendor_item.save()
