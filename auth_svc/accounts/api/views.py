"""Views of the auth API: parse with a serializer, call one service, render.

Public endpoints (login, refresh, forgot/reset password, service token, and register
of a non-admin role while open registration is on) have no authenticators, so a stale ``Authorization``
header cannot block a login. The others go through common's ``RolePermission``.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from common.exceptions import Unauthorized
from common.roles import FINANCE_MANAGER, INVENTORY_MANAGER, roles_for
from common.views import ServiceCreateMixin, ServiceUpdateMixin, UUIDLookupMixin

from .. import selectors, services
from ..filters import ORDERING_FIELDS, SEARCH_FIELDS, UserFilter
from ..throttling import client_ip
from ..tokens import access_lifetime_seconds
from . import serializers as s

JWT_AUTH = [{"jwtAuth": []}]
# Every process that verifies tokens polls the withdrawn access: the services and the gateway.
ACCESS_WITHDRAWAL_READERS = frozenset({"contact", "inventory", "sales", "purchase", "gateway"})
# An empty requirement overrides the document's global bearer requirement: no token needed.
# (``auth=[]`` would leave the operation without ``security`` and so inherit the global one.)
PUBLIC = [{}]
ADMIN_ONLY = f"Roles: {', '.join(roles_for('users.manage'))}. Service tokens: 403."
ANY_ROLE = f"Roles: {', '.join(roles_for('self'))} (any user). Service tokens: 403."


def _detail(message: str, code: int = status.HTTP_200_OK) -> Response:
    response = Response({"detail": message}, status=code)
    response.envelope_message = message
    return response


def _open_registration() -> bool:
    # Read per request (not at import) so the switch can be flipped in settings and tests.
    return bool(settings.ACCOUNTS["OPEN_REGISTRATION"])


# The roles anybody may give themselves while open registration is on. Any other valid
# role (admin, and any role added later) always needs an admin token.
SELF_SERVICE_ROLES = (INVENTORY_MANAGER, FINANCE_MANAGER)


def _needs_token_while_open(role: str) -> bool:
    """True if, with registration open, registering ``role`` still needs an admin's token.

    Judged on the *validated* role only: the raw body may hold anything (a list, an
    uploaded file whose name is ``admin``...), and a decision taken on it is a decision
    about something else than what is then saved.
    """
    return role not in SELF_SERVICE_ROLES


class PublicAPIView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]


class RegisterView(APIView):
    required_permissions = {"post": "users.manage"}

    def perform_authentication(self, request):
        # Lazy: the token is read only when ``check_permissions`` needs it, so a stale
        # ``Authorization`` header cannot block an anonymous self-service registration.
        pass

    def check_permissions(self, request):
        # Read once per request: ``post`` must decide under the same switch as this check.
        self.registration_open = _open_registration()
        # While registration is open the decision needs the validated role: ``post`` takes it.
        if not self.registration_open:
            super().check_permissions(request)

    @extend_schema(
        operation_id="auth_register",
        summary="Register a user",
        description=(
            "While `AUTH_OPEN_REGISTRATION` is on, anyone may register (no token needed) with the role "
            f"`{INVENTORY_MANAGER}` or `{FINANCE_MANAGER}`; registering an `admin` always needs an admin token: "
            "without a (valid) token 401 `unauthorized`, with a token of another role 403 `forbidden`. "
            f"While it is off (production), registering any role needs an admin token: {ADMIN_ONLY} "
            "Duplicate email: 409."
        ),
        request=s.UserCreateSerializer,
        responses={
            201: s.UserSerializer,
            401: OpenApiResponse(
                description="No valid token, and registration is closed or the role asked for is `admin`."
            ),
            403: OpenApiResponse(
                description="The caller is not an admin, and registration is closed or the role is `admin`."
            ),
        },
        auth=[*JWT_AUTH, {}],
    )
    def post(self, request):
        payload = s.UserCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if self.registration_open and _needs_token_while_open(payload.validated_data["role"]):
            super().check_permissions(request)
        user = services.user_create(**payload.validated_data)
        return Response(s.UserSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginView(PublicAPIView):
    # The answer carries live tokens: never store it for Idempotency-Key replays.
    idempotency_exempt = True

    @extend_schema(
        operation_id="auth_login",
        summary="Log in",
        description=(
            "Public. Unknown email, wrong password and inactive user all answer the same 401. "
            "Repeated failures for one email from one client (`AUTH_LOGIN_MAX_FAILURES`), or many failures "
            "from one client whatever the emails (`AUTH_LOGIN_MAX_FAILURES_PER_IP`), are locked out with 429 "
            "`rate_limited` and `Retry-After`."
        ),
        request=s.LoginSerializer,
        responses={
            200: s.LoginResponseSerializer,
            401: OpenApiResponse(description="Invalid email or password."),
            429: OpenApiResponse(description="Too many failed logins; see `Retry-After`."),
        },
        auth=PUBLIC,
    )
    def post(self, request):
        payload = s.LoginSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user, pair = services.auth_login(**payload.validated_data, client_ip=client_ip(request))
        body = {**vars(pair), "user": s.UserSerializer(user).data}
        return Response(s.LoginResponseSerializer(body).data)


class RefreshView(PublicAPIView):
    # The answer carries live tokens: never store it for Idempotency-Key replays.
    idempotency_exempt = True

    @extend_schema(
        operation_id="auth_refresh",
        summary="Rotate a refresh token",
        description=(
            "Public. Returns a new access/refresh pair carrying the user's current role; the presented "
            "refresh token is revoked (a second use is 401)."
        ),
        request=s.RefreshTokenSerializer,
        responses={200: s.TokenPairSerializer, 401: OpenApiResponse(description="Invalid or revoked token.")},
        auth=PUBLIC,
    )
    def post(self, request):
        payload = s.RefreshTokenSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        pair = services.auth_token_refresh(**payload.validated_data)
        return Response(s.TokenPairSerializer(vars(pair)).data)


class LogoutView(APIView):
    required_permissions = {"post": "self"}

    @extend_schema(
        operation_id="auth_logout",
        summary="Log out",
        description=f"Revokes the caller's refresh token (access tokens expire on their own). {ANY_ROLE}",
        request=s.RefreshTokenSerializer,
        responses={200: s.DetailSerializer},
        auth=JWT_AUTH,
    )
    def post(self, request):
        payload = s.RefreshTokenSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.auth_logout(**payload.validated_data, user_id=request.user.id)
        return _detail("Logged out.")


class MeView(APIView):
    required_permissions = {"get": "self"}

    @extend_schema(
        operation_id="auth_me",
        summary="The current user",
        description=f"{ANY_ROLE} A token of a user since deactivated or deleted: 401.",
        responses={200: s.UserSerializer},
        auth=JWT_AUTH,
    )
    def get(self, request):
        user = selectors.user_get(user_id=request.user.id)
        if user is None or not user.is_active:
            raise Unauthorized("The user of this token no longer exists or is inactive.")
        return Response(s.UserSerializer(user).data)


class ForgotPasswordView(PublicAPIView):
    @extend_schema(
        operation_id="auth_forgot_password",
        summary="Ask for a password reset token",
        description=(
            "Public. Always the same 200, whether the email is registered or not; the token is mailed to "
            "the user (never returned), valid for one hour and usable once. Throttled per client IP and per "
            "email (`AUTH_RESET_MAX_REQUESTS` requests per `AUTH_RESET_WINDOW` seconds, default 5 per hour), "
            "registered or not: beyond that 429 `rate_limited` with `Retry-After`."
        ),
        request=s.ForgotPasswordSerializer,
        responses={
            200: s.DetailSerializer,
            429: OpenApiResponse(description="Too many reset requests from this client or for this email."),
        },
        auth=PUBLIC,
    )
    def post(self, request):
        payload = s.ForgotPasswordSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.password_reset_request(**payload.validated_data, client_ip=client_ip(request))
        return _detail("If an account with this email exists, a reset token has been sent to it.")


class ResetPasswordView(PublicAPIView):
    @extend_schema(
        operation_id="auth_reset_password",
        summary="Set a new password with a reset token",
        description=(
            "Public. An unknown, used or expired token is a 400 on `reset_token`. Success revokes every "
            "refresh token of the user, and their access tokens are refused everywhere within seconds."
        ),
        request=s.ResetPasswordSerializer,
        responses={200: s.DetailSerializer},
        auth=PUBLIC,
    )
    def post(self, request):
        payload = s.ResetPasswordSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.password_reset_confirm(**payload.validated_data)
        return _detail("Password changed.")


class ServiceTokenView(PublicAPIView):
    # The answer carries live tokens: never store it for Idempotency-Key replays.
    idempotency_exempt = True

    @extend_schema(
        operation_id="auth_service_token",
        summary="Issue a service token (internal)",
        description=(
            "For services only, not routed by the gateway. The service proves the secret configured for it "
            "in `SERVICE_SECRETS`; unknown service or wrong secret: 401. The token has `type: service`, "
            "`user_id` = the service name and no role."
        ),
        request=s.ServiceTokenRequestSerializer,
        responses={200: s.ServiceTokenSerializer, 401: OpenApiResponse(description="Unknown service or wrong secret.")},
        auth=PUBLIC,
    )
    def post(self, request):
        payload = s.ServiceTokenRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        token = services.service_token_issue(**payload.validated_data)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": access_lifetime_seconds()}
        return Response(s.ServiceTokenSerializer(body).data)


@extend_schema_view(
    list=extend_schema(
        operation_id="users_list",
        summary="List users",
        description=f"Newest first; `search` matches part of the email; filter by `role`, `is_active`. {ADMIN_ONLY}",
        responses={200: s.AdminUserSerializer(many=True)},
        auth=JWT_AUTH,
    ),
    retrieve=extend_schema(
        operation_id="users_retrieve",
        summary="Get a user",
        description=ADMIN_ONLY,
        responses={200: s.AdminUserSerializer},
        auth=JWT_AUTH,
    ),
    create=extend_schema(
        operation_id="users_create",
        summary="Create a user with a role",
        description=f"Duplicate email: 409. {ADMIN_ONLY}",
        request=s.UserCreateSerializer,
        responses={201: s.AdminUserSerializer},
        auth=JWT_AUTH,
    ),
    partial_update=extend_schema(
        operation_id="users_change_role",
        summary="Change a user's role",
        description=(
            "Takes effect in the user's next token; their tokens of the old role are refused everywhere within "
            "seconds. "
            f"Demoting the last active admin: 409. {ADMIN_ONLY}"
        ),
        request=s.UserRoleSerializer,
        responses={200: s.AdminUserSerializer},
        auth=JWT_AUTH,
    ),
    deactivate=extend_schema(
        operation_id="users_deactivate",
        summary="Deactivate a user",
        description=(
            "The user can no longer log in or refresh; their refresh tokens are revoked and their access tokens "
            "refused everywhere within seconds. "
            f"Deactivating the last active admin: 409. {ADMIN_ONLY}"
        ),
        request=None,
        responses={200: s.AdminUserSerializer},
        auth=JWT_AUTH,
    ),
)
class UserViewSet(
    UUIDLookupMixin,
    ServiceCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    ServiceUpdateMixin,
    viewsets.GenericViewSet,
):
    """Users admin API (role admin only): no PUT (a PATCH changes the role), no DELETE (deactivate)."""

    serializer_class = s.AdminUserSerializer
    required_permissions = {
        "list": "users.manage",
        "retrieve": "users.manage",
        "create": "users.manage",
        "partial_update": "users.manage",
        "deactivate": "users.manage",
    }
    filterset_class = UserFilter
    search_fields = SEARCH_FIELDS
    ordering_fields = ORDERING_FIELDS
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.user_list()

    def get_serializer_class(self):
        if self.action == "create":
            return s.AdminUserCreateSerializer
        if self.action == "partial_update":
            return s.UserRoleSerializer
        return self.serializer_class

    def perform_create(self, serializer):
        serializer.instance = services.user_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.user_change_role(user=serializer.instance, **serializer.validated_data)

    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        user = services.user_deactivate(user=self.get_object())
        return Response(s.AdminUserSerializer(user).data)


class AccessWithdrawalsView(APIView):
    """Internal: the users whose access was withdrawn within the last access token lifetime (common.withdrawals)."""

    required_permissions: ClassVar[dict[str, str]] = {}  # no user token, whatever its role
    service_actions: ClassVar[dict[str, frozenset[str]]] = {"get": ACCESS_WITHDRAWAL_READERS}

    @extend_schema(
        operation_id="auth_access_withdrawals",
        summary="Withdrawn access (internal)",
        description=(
            "Every user whose access tokens were withdrawn (deactivated, role changed, password or email set) "
            "within the access token lifetime: a token of theirs whose `access_version` claim (absent: 0) is below "
            "`access_version` is refused. Polled by every service and the gateway: the whole window first, then "
            "with `since` set to the last answer's `next_since`, only what was stamped from then on. "
            "Service tokens of those callers only (not routed by the gateway)."
        ),
        parameters=[s.AccessWithdrawalsQuerySerializer],
        responses={200: s.AccessWithdrawalsSerializer},
        auth=JWT_AUTH,
    )
    def get(self, request):
        request._request.access_log_quiet = True  # polled by every process every 2 s (common.access_log)
        query = s.AccessWithdrawalsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        window = selectors.access_withdrawals_since(since=query.validated_data.get("since"))
        return Response(s.AccessWithdrawalsSerializer(window).data)
