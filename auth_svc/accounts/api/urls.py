"""Routes of the auth API at the service root (the gateway maps /api/auth/<x> to /<x>)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=False)
router.register("users", views.UserViewSet, basename="users")

urlpatterns = [
    path("register", views.RegisterView.as_view(), name="register"),
    path("login", views.LoginView.as_view(), name="login"),
    path("refresh", views.RefreshView.as_view(), name="refresh"),
    path("logout", views.LogoutView.as_view(), name="logout"),
    path("me", views.MeView.as_view(), name="me"),
    path("forgot-password", views.ForgotPasswordView.as_view(), name="forgot-password"),
    path("reset-password", views.ResetPasswordView.as_view(), name="reset-password"),
    path("service-token", views.ServiceTokenView.as_view(), name="service-token"),
    path("internal/access-withdrawals", views.AccessWithdrawalsView.as_view(), name="access-withdrawals"),
    *router.urls,
]
