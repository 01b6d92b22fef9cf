"""Routes of the purchase API at the service root (the gateway adds ``/api/purchase``), and the internal reads."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .vendor_items import ReplenishmentNeedViewSet, VendorItemViewSet
from .views import ItemOrdersView, PurchaseOrderViewSet, VendorOrdersView

router = SimpleRouter(trailing_slash=False)
router.register("orders", PurchaseOrderViewSet, basename="purchase-order")
router.register("vendor-items", VendorItemViewSet, basename="vendor-item")
router.register("replenishment", ReplenishmentNeedViewSet, basename="replenishment")

urlpatterns = [
    *router.urls,
    path("internal/items/<uuid:pk>/orders", ItemOrdersView.as_view(), name="internal-item-orders"),
    path("internal/vendors/<uuid:pk>/orders", VendorOrdersView.as_view(), name="internal-vendor-orders"),
]
