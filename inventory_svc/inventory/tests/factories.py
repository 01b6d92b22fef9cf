"""factory_boy factories of items (rows written directly, with their stock at 0 and no events)."""

from __future__ import annotations

from decimal import Decimal

import factory

from inventory.models import Item, Stock


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item
        skip_postgeneration_save = True

    sku = factory.Sequence(lambda n: f"TEST-{n:05d}")
    name = factory.Faker("catch_phrase")
    description = factory.Faker("sentence")
    unit_price = Decimal("12.50")
    reorder_level = 0
    stock = factory.RelatedFactory("inventory.tests.factories.StockFactory", factory_related_name="item")


class StockFactory(factory.django.DjangoModelFactory):
    """The item's stock row with its summary figures, as the services make it."""

    class Meta:
        model = Stock
        skip_postgeneration_save = True

    quantity = 0

    @factory.post_generation
    def summary(stock, create, extracted, **kwargs):
        if stock.summary_refresh(stock.item) and create:
            stock.save(update_fields=Stock.SUMMARY_FIELDS)
