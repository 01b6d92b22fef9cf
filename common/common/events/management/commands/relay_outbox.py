from django.core.management.base import BaseCommand

from common.events.relay import Relay
from common.events.shutdown import stop_on_signals


class Command(BaseCommand):
    help = "Publish pending outbox events to the broker; runs until SIGTERM (or once with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--sweep-interval", type=float, default=None, help="seconds between sweeps")
        parser.add_argument("--once", action="store_true", help="publish what is pending, then exit")

    def handle(self, *args, batch_size=None, sweep_interval=None, once=False, **options):
        relay = Relay(batch_size=batch_size, sweep_interval=sweep_interval, listen=not once)
        if once:
            total = 0
            while count := relay.relay_batch():
                total += count
            relay.close()
            self.stdout.write(f"published {total}")
            return
        with stop_on_signals(relay.stop, interruptible=lambda: relay.waiting_on_broker):
            relay.run_forever()
