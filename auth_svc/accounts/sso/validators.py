"""django-oauth-toolkit's validator with the platform's claims, refusing deactivated accounts.

It also answers ``prompt=none`` (OIDC Core §3.1.2.1), which django-oauth-toolkit leaves to
oauthlib's abstract validator (a 500 otherwise), and records what each code bought, so a
replay revokes it (:mod:`accounts.sso.codes`).
"""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator

from .codes import code_redeemed_record, code_replay_revoke

# The claim that carries the platform role; clients read it (common.sso.claims, SSO_ROLE_CLAIM).
ROLE_CLAIM = "role"


class PlatformOAuth2Validator(OAuth2Validator):
    # The role comes with the openid scope itself: every admin needs it.
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, ROLE_CLAIM: "openid"}

    def get_additional_claims(self, request):
        user = request.user
        return {"email": user.email, "email_verified": True, ROLE_CLAIM: user.role}

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        valid = super().validate_code(client_id, code, client, request, *args, **kwargs)
        if not valid:
            code_replay_revoke(code=code, application_id=client.pk)
            return False
        # A code issued just before the account was deactivated buys it no token.
        return request.user.is_active

    # oauthlib saves the tokens, then invalidates the code: the two hooks below see both.
    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        request.erp_access_token_id = access_token.pk
        return access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        refresh_token = super()._create_refresh_token(request, refresh_token_code, access_token, previous_refresh_token)
        request.erp_token_family = refresh_token.token_family
        return refresh_token

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)
        code_redeemed_record(
            code=code,
            application_id=request.client.pk,
            token_family=getattr(request, "erp_token_family", None),
            access_token_id=getattr(request, "erp_access_token_id", None),
        )

    def validate_bearer_token(self, token, scopes, request):
        # In the Authorization header only, never in a query string that proxies and logs
        # keep (RFC 9700 §4.3.2): oauthlib's userinfo endpoint would take either.
        scheme, _, credentials = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or credentials.strip() != token:
            return False
        # The admins re-read userinfo every minute or so (common.sso.middleware): a
        # deactivated account's token answers 401 there, and its sessions end.
        valid = super().validate_bearer_token(token, scopes, request)
        return valid and request.user.is_active

    def validate_silent_login(self, request) -> bool:
        # The authorize view runs only for a signed-in browser (django-oauth-toolkit sends
        # any other to the sign-in page first), so with prompt=none there is a login.
        return True

    def validate_silent_authorization(self, request) -> bool:
        # No consent screen is shown only to the platform's own admins (accounts.sso.clients);
        # any other application answers consent_required to prompt=none.
        return bool(request.client.skip_authorization)
