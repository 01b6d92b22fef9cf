"""Keep the party's name copied on orders fresh from the contact service's events.

Events arrive at least once and in any order, so a name is applied only if the
event is newer than the copy (``aggregate_version`` of the contact, kept per order
in ``<kind>_version``), in one conditional UPDATE: a late, older event changes
nothing, and two handlers racing cannot leave the older name behind. A deleted
contact leaves its orders as they are, name included.
"""

from __future__ import annotations

from django.db.models import F, Q
from django.utils import timezone

from common.events import Event

from .models import OrderDocument


def contact_event_version(event: Event) -> int:
    """Return the order of ``event`` among the events of its contact.

    The contact service publishes under the contact's row lock, so ``occurred_at``
    grows with every change of one contact; it is used (in microseconds) until the
    envelope carries ``aggregate_version``.
    """
    return int(event.occurred_at.timestamp() * 1_000_000)


def party_name_apply(*, model: type[OrderDocument], party_id, name: str, version: int) -> int:
    """Set the name of ``party_id`` on every order of ``model`` that holds an older copy; return how many."""
    party = model.PARTY
    older = Q(**{f"{party.version_field}__lt": version}) | Q(**{f"{party.version_field}__isnull": True})
    return model.objects.filter(Q(**{party.id_field: party_id}) & older).update(
        **{party.name_field: name, party.version_field: version},
        revision=F("revision") + 1,
        updated_at=timezone.now(),
    )
