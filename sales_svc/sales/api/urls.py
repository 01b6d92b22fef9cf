"""Routes of the sales order API at the service root (the gateway adds ``/api/sales``), and the internal reads."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import CustomerOrdersView, ItemOrdersView, SalesOrderViewSet

router = SimpleRouter(trailing_slash=False)
router.register("orders", SalesOrderViewSet, basename="sales-order")

urlpatterns = [
    *router.urls,
    path("internal/items/<uuid:pk>/orders", ItemOrdersView.as_view(), name="internal-item-orders"),
    path("internal/customers/<uuid:pk>/orders", CustomerOrdersView.as_view(), name="internal-customer-orders"),
]
