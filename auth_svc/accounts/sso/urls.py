"""The provider's endpoints, mounted at ``sso/`` on auth_svc and under the gateway's ``/admin/auth/sso/``.

Only what the back office uses of django-oauth-toolkit: authorize, token, revocation,
userinfo, the discovery document and the JWKS, plus the platform's sign-in, sign-out and
session pages. None of its application-management or dynamic-registration views: the
admins' applications come from the environment (accounts.sso.clients).
"""

from django.urls import include, path, re_path
from oauth2_provider import views as oauth_views

from . import views

provider_patterns = (
    [
        path("authorize/", oauth_views.AuthorizationView.as_view(), name="authorize"),
        path("token/", views.TokenView.as_view(), name="token"),
        path("revoke_token/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
        path("userinfo/", oauth_views.UserInfoView.as_view(), name="user-info"),
        re_path(
            r"^\.well-known/openid-configuration/?$",
            views.DiscoveryView.as_view(),
            name="oidc-connect-discovery-info",
        ),
        path(".well-known/jwks.json", oauth_views.JwksInfoView.as_view(), name="jwks-info"),
    ],
    "oauth2_provider",  # the namespace django-oauth-toolkit reverses its own views in
)

urlpatterns = [
    path("signin/", views.signin, name="sso-signin"),
    path("signout/", views.signout, name="sso-signout"),
    path("session", views.session, name="sso-session"),
    path("", include(provider_patterns)),
]
