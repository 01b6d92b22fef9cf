"""factory_boy factories of the accounts models."""

import factory

from common.roles import INVENTORY_MANAGER

from ..models import User

PASSWORD = "Sturdy-Passw0rd!"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    role = INVENTORY_MANAGER
    password = factory.django.Password(PASSWORD)
