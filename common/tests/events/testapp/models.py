from django.db import models


class AppliedEffect(models.Model):
    """One row per handler application; deliberately not unique, so a double effect shows."""

    event_id = models.UUIDField()
    event_type = models.CharField(max_length=100)
    aggregate_id = models.CharField(max_length=100)
    seq = models.IntegerField()
    attempt = models.IntegerField()
    consumer_tag = models.CharField(max_length=50, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} seq={self.seq}"


class CustomerCopy(models.Model):
    """A consumer's copy of another service's record, kept fresh by events (see apply_if_newer)."""

    customer_id = models.UUIDField(unique=True)
    name = models.CharField(max_length=255)
    source_version = models.PositiveIntegerField(null=True)

    def __str__(self) -> str:
        return f"{self.name} v{self.source_version}"
