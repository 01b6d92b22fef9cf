"""Keep the party's name copied on orders fresh from the contact service's events.

Events arrive at least once and in any order, so a name is applied only if the
event is newer than the copy (``aggregate_version`` of the contact, kept per order
in ``<kind>_version``), in one conditional UPDATE (``common.events.apply_if_newer``):
a late, older event changes nothing, and two handlers racing cannot leave the older
name behind. A deleted
contact leaves its orders as they are, name included.
"""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from common.events import apply_if_newer

from .models import OrderDocument


def party_name_apply(*, model: type[OrderDocument], party_id, name: str, version: int) -> int:
    """Set the name of ``party_id`` on every order of ``model`` that holds an older copy; return how many."""
    party = model.PARTY
    return apply_if_newer(
        model.objects.filter(**{party.id_field: party_id}),
        version=version,
        values={party.name_field: name, "revision": F("revision") + 1, "updated_at": timezone.now()},
        version_field=party.version_field,
    )
