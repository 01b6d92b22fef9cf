"""Query filters of the user list (``filterset_class`` of the users admin API).

``?search=`` and ``?ordering=`` are the global backends' (common.filters), configured by the
viewset's ``search_fields`` and ``ordering_fields``. A value the filters cannot read (a role
that does not exist, an unknown ordering field) is a 400 naming the parameter, never ignored.
"""

from __future__ import annotations

import django_filters

from common.filters import BooleanFilter

from .models import ROLE_CHOICES, User

ORDERING_FIELDS = ("created_at", "email")
SEARCH_FIELDS = ("email",)


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=ROLE_CHOICES, help_text="The users holding this role.")
    is_active = BooleanFilter(help_text="`false`: the deactivated users.")

    class Meta:
        model = User
        fields = ["role", "is_active"]
