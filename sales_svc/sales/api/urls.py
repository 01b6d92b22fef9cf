"""Routes of the sales order API at the service root (the gateway adds ``/api/sales``)."""

from rest_framework.routers import SimpleRouter

from .views import SalesOrderViewSet

router = SimpleRouter(trailing_slash=False)
router.register("orders", SalesOrderViewSet, basename="sales-order")

urlpatterns = router.urls
