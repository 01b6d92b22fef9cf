"""Keep the party's name copied on orders fresh from the contact service's events.

Events arrive at least once and in any order, so a name is applied only if the event is
newer than the copy (``aggregate_version`` of the contact, kept per order in the service's
``<party>_version`` field), in one conditional UPDATE of the service's orders
(:func:`party_rename`, on :func:`common.events.apply_if_newer`): a late, older event
changes nothing, and two handlers racing cannot leave the older name behind. The newest
version heard of (and its name) is kept per party too (:func:`party_version_remember`, in
the service's :class:`~order_documents.models.PartyVersion` model), so an order created
after an event was applied starts from it, and one created while an event was applied
takes that event's name (:func:`party_name_for_new_order`). A deleted contact leaves its
orders as they are, name included.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import F, QuerySet
from django.utils import timezone

from common.events import apply_if_newer

from .models import OrderDocument, PartyVersion


def party_rename(
    *,
    versions: type[PartyVersion],
    orders: QuerySet[OrderDocument],
    party_id,
    name: str,
    version: int,
    name_field: str,
    version_field: str,
) -> int:
    """Copy ``version`` of a party's ``name`` onto ``orders`` (its orders) where it is newer; return how many changed.

    One conditional UPDATE sets ``name_field`` and ``version_field`` and bumps each changed
    order's revision; ``version`` (and its name) is also remembered in ``versions``, for orders
    created later.
    """
    party_version_remember(versions=versions, party_id=party_id, name=name, version=version)
    return apply_if_newer(
        orders,
        version=version,
        values={name_field: name, "revision": F("revision") + 1, "updated_at": timezone.now()},
        version_field=version_field,
    )


def party_version_remember(*, versions: type[PartyVersion], party_id, name: str, version: int) -> None:
    """Remember ``version`` (and its ``name``) of ``party_id`` in ``versions``, unless a newer one is known."""
    known, created = versions.objects.get_or_create(party_id=party_id, defaults={"version": version, "name": name})
    if not created:
        apply_if_newer(
            versions.objects.filter(pk=known.pk), version=version, values={"name": name}, version_field="version"
        )


def party_version_known(*, versions: type[PartyVersion], party_id) -> int | None:
    """Return the newest version of ``party_id`` heard of from events, or None."""
    return versions.objects.filter(pk=party_id).values_list("version", flat=True).first()


def party_name_for_new_order(
    *, versions: type[PartyVersion], party_id, fetched_name: str, version_before: int | None
) -> tuple[str, int | None]:
    """Return the ``(name, version)`` an order created now copies.

    ``fetched_name`` was read from contact_svc after ``version_before`` was heard of, so
    it is at least that new. If a newer event was applied meanwhile, the name read may
    be older than it, and that event will not come again for this order: take its name
    and version instead (any later change still arrives as an event).
    """
    known = versions.objects.filter(pk=party_id).values_list("version", "name").first()
    if known is not None and (version_before is None or known[0] > version_before):
        return known[1], known[0]
    return fetched_name, version_before


def party_fetch_for_copy(
    *, versions: type[PartyVersion], party_id, fetch: Callable[[], dict]
) -> tuple[str, int | None]:
    """Fetch a party for a new copy of its name that is not an order (a vendor's price list); return (name, version).

    The steps of :func:`~order_documents.documents.order_create`: the version known is read
    before ``fetch()`` (which raises for an unknown party), and an event applied in between wins.
    """
    version_before = party_version_known(versions=versions, party_id=party_id)
    fetched = fetch()
    return party_name_for_new_order(
        versions=versions, party_id=party_id, fetched_name=fetched["name"], version_before=version_before
    )


def party_copies_rename(*, copies: QuerySet, name: str, version: int, name_field: str, version_field: str) -> int:
    """Copy a newer ``name`` onto ``copies`` that are not orders (no revision to bump); return how many changed."""
    return apply_if_newer(copies, version=version, values={name_field: name}, version_field=version_field)
