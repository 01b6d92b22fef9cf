"""Routes of the inventory API at the service root (the gateway adds ``/api``), and the internal reads."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ItemLookupView, ItemViewSet, StockAvailabilityView

router = SimpleRouter(trailing_slash=False)
router.register("items", ItemViewSet, basename="item")

urlpatterns = [
    *router.urls,
    path("internal/items/lookup", ItemLookupView.as_view(), name="internal-items-lookup"),
    path("internal/stock/availability", StockAvailabilityView.as_view(), name="internal-stock-availability"),
]
