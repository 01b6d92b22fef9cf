"""auth_svc as the back office's OpenID Connect provider (django-oauth-toolkit), and its own admin's client.

- :mod:`.validators`: the claims it issues (``sub`` = the user's id, ``email``, ``role``) and
  the refusal of a deactivated account's code or access token;
- :mod:`.views`: the sign-in page (the API login's lockout and throttles, through
  ``services.auth_credentials_check``), sign-out, and who is signed in (the gateway's index);
- :mod:`.clients`: the admins' OIDC applications, registered from the environment;
- :mod:`.staff`: in auth_svc the platform user *is* the local staff user (common.sso.staff's
  two functions for this model);
- :mod:`.urls`, :mod:`.gateway_urls`: the provider at ``/sso/`` on the service, and under the
  gateway's ``/admin/auth/`` beside the admin.
"""
