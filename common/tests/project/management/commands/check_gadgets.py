"""``manage.py check_gadgets``: a check command of the usual shape, for the integrity job's tests.

Every gadget named ``broken...`` is a difference: one line each on the error output, then exit 1.
"""

from django.core.management.base import BaseCommand, CommandError

from tests.project.models import Gadget


class Command(BaseCommand):
    help = "Report every gadget whose name starts with 'broken' (exit 1 if any)."

    def handle(self, *args, **options):
        broken = list(Gadget.objects.filter(name__startswith="broken").order_by("name"))
        for gadget in broken:
            self.stderr.write(f"{gadget.name}: differs")
        if broken:
            raise CommandError(f"{len(broken)} gadget(s) differ.")
        self.stdout.write(f"gadgets: {Gadget.objects.count()} checked, all equal")
