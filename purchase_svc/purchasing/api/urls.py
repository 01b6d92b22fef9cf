"""Routes of the purchase order API at the service root (the gateway adds ``/api/purchase``)."""

from rest_framework.routers import SimpleRouter

from .views import PurchaseOrderViewSet

router = SimpleRouter(trailing_slash=False)
router.register("orders", PurchaseOrderViewSet, basename="purchase-order")

urlpatterns = router.urls
