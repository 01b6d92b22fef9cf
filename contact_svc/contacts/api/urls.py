"""Routes of the contact API at the service root (the gateway adds ``/api``)."""

from rest_framework.routers import SimpleRouter

from contacts.kinds import CUSTOMER, VENDOR

from .views import CustomerViewSet, VendorViewSet

router = SimpleRouter(trailing_slash=False)
router.register(CUSTOMER.plural, CustomerViewSet, basename=CUSTOMER.name)
router.register(VENDOR.plural, VendorViewSet, basename=VENDOR.name)

urlpatterns = router.urls
