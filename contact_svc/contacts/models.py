"""Customers and vendors: two tables of one shape, declared once on an abstract base.

Emails are stored lower-cased (a check constraint holds every writer to it) and are
unique per kind on ``lower(email)``, so the database itself refuses a duplicate that
differs only by case, whatever path wrote it.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models.functions import Lower

# Named here because services map the IntegrityError of exactly this constraint to a 409.
EMAIL_UNIQUE_CONSTRAINT = "%(app_label)s_%(class)s_email_uniq"


def normalize_email(email: str) -> str:
    return email.strip().lower()


class Contact(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=50, blank=True, default="")
    address = models.CharField(max_length=500, blank=True, default="")
    # Archived (False): its orders still complete, but no new order may name it. A contact an
    # order uses is archived, never deleted.
    # db_default too: the release before archiving inserts contacts without it while a deploy rolls.
    active = models.BooleanField(default=True, db_default=True)
    # Grows by one with every change, in the UPDATE that makes it (an F-expression,
    # under the row lock), and travels as the events' aggregate_version.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name=EMAIL_UNIQUE_CONSTRAINT,
                violation_error_message="A contact with this email already exists.",
            ),
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")),
                name="%(app_label)s_%(class)s_email_lower",
                violation_error_message="Email must be lower-case.",
            ),
        ]
        # One per list filter / ordering; lower(email) is served by the unique index.
        indexes = [
            models.Index(fields=["created_at"], name="%(class)s_created_idx"),
            models.Index(fields=["updated_at"], name="%(class)s_updated_idx"),
            models.Index(fields=["name"], name="%(class)s_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def clean(self) -> None:
        # Runs before constraint validation in full_clean (admin forms, services), so
        # "Foo@Example.com" is stored lower-cased instead of tripping the check constraint.
        if self.email:
            self.email = normalize_email(self.email)

    @classmethod
    def email_constraint_name(cls) -> str:
        return EMAIL_UNIQUE_CONSTRAINT % {"app_label": cls._meta.app_label, "class": cls.__name__.lower()}


# Both inherit the base's Meta (ordering, constraints, indexes), names interpolated per class.
class Customer(Contact):
    pass


class Vendor(Contact):
    pass
