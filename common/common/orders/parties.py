"""Keep the party's name copied on orders fresh from the contact service's events.

Events arrive at least once and in any order, so a name is applied only if the
event is newer than the copy (``aggregate_version`` of the contact, kept per order
in ``<kind>_version``), in one conditional UPDATE (``common.events.apply_if_newer``):
a late, older event changes nothing, and two handlers racing cannot leave the older
name behind. The newest version heard of is kept per party too, so an order created
after an event was applied starts from it. A deleted contact leaves its orders as they
are, name included.
"""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from common.events import apply_if_newer

from .models import OrderDocument


def party_name_apply(*, model: type[OrderDocument], party_id, name: str, version: int) -> int:
    """Set the name of ``party_id`` on every order of ``model`` that holds an older copy; return how many.

    The version is also remembered for the party (:func:`party_version_known` gives it to
    orders created later).
    """
    party = model.PARTY
    known, created = model.PARTY_VERSIONS.objects.get_or_create(party_id=party_id, defaults={"version": version})
    if not created:
        apply_if_newer(
            model.PARTY_VERSIONS.objects.filter(pk=known.pk), version=version, values={}, version_field="version"
        )
    return apply_if_newer(
        model.objects.filter(**{party.id_field: party_id}),
        version=version,
        values={party.name_field: name, "revision": F("revision") + 1, "updated_at": timezone.now()},
        version_field=party.version_field,
    )


def party_version_known(*, model: type[OrderDocument], party_id) -> int | None:
    """Return the newest version of ``party_id`` heard of from events, or None."""
    return model.PARTY_VERSIONS.objects.filter(pk=party_id).values_list("version", flat=True).first()
