"""Routes of the purchase API at the service root (the gateway adds ``/api/purchase``)."""

from rest_framework.routers import SimpleRouter

from .vendor_items import ReplenishmentNeedViewSet, VendorItemViewSet
from .views import PurchaseOrderViewSet

router = SimpleRouter(trailing_slash=False)
router.register("orders", PurchaseOrderViewSet, basename="purchase-order")
router.register("vendor-items", VendorItemViewSet, basename="vendor-item")
router.register("replenishment", ReplenishmentNeedViewSet, basename="replenishment")

urlpatterns = router.urls
