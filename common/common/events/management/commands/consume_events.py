from django.core.management.base import BaseCommand

from common.events.consumer import EventConsumer
from common.events.shutdown import stop_on_signals


class Command(BaseCommand):
    help = 'Consume this service\'s event queue with the handlers of ERP_EVENTS["HANDLERS"]; runs until SIGTERM.'

    def add_arguments(self, parser):
        parser.add_argument("--consumer", default=None, help='defaults to ERP_EVENTS["CONSUMER"], else SERVICE_NAME')
        parser.add_argument("--handlers", default=None, help='dotted path; defaults to ERP_EVENTS["HANDLERS"]')
        parser.add_argument("--prefetch", type=int, default=None)

    def handle(self, *args, consumer=None, handlers=None, prefetch=None, **options):
        worker = EventConsumer(consumer=consumer, handlers=handlers, prefetch=prefetch)
        with stop_on_signals(worker.stop, interruptible=lambda: worker.interruptible):
            worker.run()
