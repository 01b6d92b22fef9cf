"""Single sign-on for every service's Django admin (OpenID Connect, mozilla-django-oidc).

Staff sign in once at the identity provider (auth_svc, or a business's own: Keycloak,
Entra ID ...) and every admin opens without a password. What lives where:

- :mod:`.conf`: the values of a service's admin settings (cookies, client id, ``SSO``), which
  :mod:`common.settings.service` and each ``config/settings.py`` assign by name.
- :mod:`.claims`: what a sign-in's claims say (email, role, time zone), read one way.
- :mod:`.staff`: the local staff user kept in step with the account on each sign-in and
  re-check (no second account table: Django's user, flags and one role group).
- :mod:`.backends`: the authentication backend (token checks, then :mod:`.staff`).
- :mod:`.middleware`: the gateway's mount point (``/admin/<service>/``) as script prefix, and
  the periodic re-check with the provider that ends a session the provider no longer backs.
- :mod:`.views`, :mod:`.urls`, :mod:`.gateway_urls`: sign-in, callback, sign-out, refusal.
"""
