"""django-oauth-toolkit's validator with the platform's claims, refusing deactivated accounts."""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator

# The claim that carries the platform role; clients read it (common.sso.claims, SSO_ROLE_CLAIM).
ROLE_CLAIM = "role"


class PlatformOAuth2Validator(OAuth2Validator):
    # The role comes with the openid scope itself: every admin needs it.
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, ROLE_CLAIM: "openid"}

    def get_additional_claims(self, request):
        user = request.user
        return {"email": user.email, "email_verified": True, ROLE_CLAIM: user.role}

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        # A code issued just before the account was deactivated buys it no token.
        valid = super().validate_code(client_id, code, client, request, *args, **kwargs)
        return valid and request.user.is_active

    def validate_bearer_token(self, token, scopes, request):
        # The admins re-read userinfo every minute or so (common.sso.middleware): a
        # deactivated account's token answers 401 there, and its sessions end.
        valid = super().validate_bearer_token(token, scopes, request)
        return valid and request.user.is_active
