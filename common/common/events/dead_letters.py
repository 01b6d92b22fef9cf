"""This service's dead letters, listed for the admin: the events the back office's home counts, one by one.

Read as ``replay_dead_letters --dry-run`` reads them, so looking uses up none of a letter's
deliveries: each letter is taken and put back at the queue's tail as a fresh copy (confirmed, then
the original acked). At most :data:`LISTED` are read per look; when the queue holds more, those
listed go behind the rest, as ``--dry-run --limit`` moves them (a letter is never lost: a copy not
confirmed leaves its original in the queue).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import conf
from .consumer import ATTEMPT, ROUTING_KEY
from .management.commands.replay_dead_letters import dead_letter_reason, replay_dead_letters
from .registry import SUBSCRIPTIONS

LISTED = 100


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    event_type: str
    reason: str
    failed_at: str
    attempts: int | None
    replays: int


def consumes_events() -> bool:
    """True if this service consumes events (and so has a dead-letter queue)."""
    return conf.consumer_name() in SUBSCRIPTIONS


def dead_letters_list(*, limit: int = LISTED) -> list[DeadLetter]:
    """Return the first ``limit`` letters of this service's dead-letter queue, oldest first (see the module)."""
    letters: list[DeadLetter] = []

    def seen(message, headers: dict) -> None:
        letters.append(
            DeadLetter(
                message_id=str(message.properties.get("message_id") or ""),
                event_type=str(headers.get(ROUTING_KEY) or ""),
                reason=dead_letter_reason(headers),
                failed_at=str(headers.get("x-erp-failed-at") or ""),
                attempts=headers.get(ATTEMPT),
                replays=int(headers.get("x-erp-replayed") or 0),
            )
        )

    replay_dead_letters(consumer=conf.consumer_name(), limit=limit, dry_run=True, out=lambda line: None, seen=seen)
    return letters
