"""The last result of each integrity check the nightly job ran (one row per check, replaced each run)."""

from django.db import models


class IntegrityCheck(models.Model):
    """What the last run of one check command found: /metrics reports it, the admin shows it."""

    command = models.CharField(max_length=100, unique=True)
    ran_at = models.DateTimeField()
    passed = models.BooleanField()
    # One line of the command's error output per difference found (0 when it passed).
    differences = models.PositiveIntegerField(default=0)
    report = models.TextField(blank=True)

    class Meta:
        ordering = ["command"]

    def __str__(self) -> str:
        return f"{self.command}: {'passed' if self.passed else f'{self.differences} difference(s)'}"
