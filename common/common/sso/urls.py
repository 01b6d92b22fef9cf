"""URL patterns of single sign-on, mounted before the admin (they replace its login and logout).

``staff_sign_in_urlpatterns(prefix)`` gives the admin's ``login/`` and ``logout/`` under
``prefix`` (``"admin/"`` in a service's own URLconf, ``""`` behind the gateway) and the
OIDC client's ``oidc/`` pages beside them.
"""

from django.urls import include, path

from . import views


def staff_sign_in_urlpatterns(prefix: str) -> list:
    return [
        path(f"{prefix}login/", views.staff_login, name="sso-login"),
        path(f"{prefix}logout/", views.staff_logout, name="sso-logout"),
        path(f"{prefix}oidc/refused/", views.staff_refused, name="sso-refused"),
        path(f"{prefix}oidc/", include("mozilla_django_oidc.urls")),
    ]
