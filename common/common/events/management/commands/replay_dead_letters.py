from django.core.management.base import BaseCommand, CommandError

from common.events import conf
from common.events.dead_letters import replay_dead_letters
from common.events.registry import SUBSCRIPTIONS


class Command(BaseCommand):
    help = "Move messages from <consumer>.events.dlq back to <consumer>.events for another try."

    def add_arguments(self, parser):
        parser.add_argument("--consumer", default=None, help="defaults to this service's consumer, as consume_events")
        parser.add_argument("--limit", type=int, default=None, help="at most this many messages")
        parser.add_argument("--dry-run", action="store_true", help="list reasons; each stays in the DLQ")

    def handle(self, *args, consumer=None, limit=None, dry_run=False, **options):
        # The consumer's own name (ERP_EVENTS["CONSUMER"], else SERVICE_NAME): the queue consume_events reads.
        consumer = consumer or conf.consumer_name()
        if consumer not in SUBSCRIPTIONS:
            raise CommandError(f"{consumer!r} consumes no events; name one with --consumer: {sorted(SUBSCRIPTIONS)}")
        moved = replay_dead_letters(consumer=consumer, limit=limit, dry_run=dry_run, out=self.stdout.write)
        self.stdout.write(f"{'would move' if dry_run else 'moved'} {moved} message(s)")
