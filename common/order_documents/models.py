"""Abstract models of an order document and its lines.

A concrete order declares its own party fields (``customer_id``, ``customer_name``,
``customer_version``) and ``status``; a concrete line declares
``order = ForeignKey(<order>, related_name="lines")``, a concrete status change
``order = ForeignKey(<order>, related_name="status_changes")``.
``revision`` grows with every change of an order: it is the events' ``aggregate_version``
and lets a service notice that an order changed between a check and its lock.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from common.money import MoneyField

# What one order may hold: lines, and units on a line (CONTRACT §5: 1 to 100 lines, quantity 1 to 1,000,000).
MAX_LINES = 100
MAX_QUANTITY = 1_000_000


class PartyVersion(models.Model):
    """The newest version of a party this service has heard of, from the contact events.

    A name event may be applied before any order of its party exists; an order created
    later starts from this version, so a late, older event cannot undo a newer name.
    """

    party_id = models.UUIDField(primary_key=True)
    version = models.BigIntegerField()
    # The name that version carries: an order created while the event was applied takes it.
    name = models.CharField(max_length=255, default="")

    class Meta:
        abstract = True


class OrderDocument(models.Model):
    """An order's header: status, exact total, revision and timestamps common to both kinds."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    total_amount = MoneyField(default=0)
    revision = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.id} ({self.status})"


class OrderLine(models.Model):
    """One line: the item (id, and sku/name copied at the time), quantity, price and subtotal.

    The database holds every writer to a positive quantity and a price not below zero;
    ``subtotal`` is computed in Decimal by the services (a CHECK on the product would
    compare floats on SQLite, the local run's default). ``position`` keeps the lines in
    the order they were given.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    position = models.PositiveSmallIntegerField()
    item_id = models.UUIDField(db_index=True)
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    unit_price = MoneyField()
    subtotal = MoneyField()

    class Meta:
        abstract = True
        ordering = ("position",)
        constraints = [
            models.UniqueConstraint(fields=("order", "position"), name="%(app_label)s_%(class)s_position_uniq"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="%(app_label)s_%(class)s_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="%(app_label)s_%(class)s_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku} @ {self.unit_price}"


class OrderStatusChange(models.Model):
    """One transition of an order: from which status to which, when, and who asked.

    Written by :func:`order_documents.machine.transition_apply` in the transition's own
    transaction, so the history holds exactly the transitions that committed; nothing
    else writes it (the admin shows it read-only).
    """

    id = models.BigAutoField(primary_key=True)
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    actor = models.CharField(max_length=255, help_text="Who asked: a user's email, a staff member, or a command.")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        abstract = True
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"{self.from_status} -> {self.to_status}"
