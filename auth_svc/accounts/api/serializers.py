"""Request and response shapes of the auth API (contract §5 Auth); no logic beyond parsing."""

from __future__ import annotations

import math

from rest_framework import serializers

from common.fields import StrictChoiceField

from ..models import ROLE_CHOICES, User


class UserSerializer(serializers.ModelSerializer):
    """The contract's user shape (register, login, me)."""

    class Meta:
        model = User
        fields = ["id", "email", "role", "created_at", "updated_at"]
        read_only_fields = fields


class AdminUserSerializer(serializers.ModelSerializer):
    """The user as the users admin API shows it: with ``is_active``."""

    class Meta:
        model = User
        fields = ["id", "email", "role", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class UserCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    role = StrictChoiceField(choices=ROLE_CHOICES)


class AnswersAsAdminUser:
    # A request serializer of the users admin API: the viewset's hook puts the service's user in
    # ``instance``, and the answer is that user as AdminUserSerializer shows it. (Comments, not
    # docstrings, on these serializers: drf-spectacular would publish a docstring.)

    def to_representation(self, instance):
        return AdminUserSerializer(instance, context=self.context).data


class AdminUserCreateSerializer(AnswersAsAdminUser, UserCreateSerializer):
    # ``POST /users``: what /register takes, answered with ``is_active``.
    pass


class UserRoleSerializer(AnswersAsAdminUser, serializers.Serializer):
    # ``PATCH /users/{id}`` changes the role and nothing else: the role is required even though
    # a PATCH validates partially (DRF would skip a missing field).
    role = StrictChoiceField(choices=ROLE_CHOICES)

    def validate(self, attrs):
        if "role" not in attrs:
            raise serializers.ValidationError({"role": [self.fields["role"].error_messages["required"]]})
        return attrs


class LoginSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class RefreshTokenSerializer(serializers.Serializer):
    refresh_token = serializers.CharField()


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.CharField(help_text='Always "Bearer".')
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")


class LoginResponseSerializer(TokenPairSerializer):
    user = UserSerializer()


class ForgotPasswordSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class ResetPasswordSerializer(serializers.Serializer):
    reset_token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class ServiceTokenRequestSerializer(serializers.Serializer):
    service_name = serializers.CharField(max_length=64)
    service_secret = serializers.CharField(max_length=256, trim_whitespace=False)


class ServiceTokenSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField(help_text='Always "Bearer".')
    expires_in = serializers.IntegerField(help_text="Seconds until the token expires.")


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class AccessWithdrawalSerializer(serializers.Serializer):
    user_id = serializers.UUIDField()
    access_version = serializers.IntegerField(help_text="This user's tokens with a lower `access_version`: refused.")
    withdrawn_at_epoch = serializers.FloatField(source="withdrawn_at", help_text="When, in seconds since the epoch.")


class AccessWithdrawalsSerializer(serializers.Serializer):
    withdrawals = AccessWithdrawalSerializer(many=True)
    next_since = serializers.FloatField(
        help_text="Pass as `since` on the next poll: a minute before this answer was read, so nothing is skipped."
    )


# Year 9999: a `since` beyond it is no time a clock will read (and no datetime can hold it).
LAST_EPOCH_SECOND = 253402300799.0


class AccessWithdrawalsQuerySerializer(serializers.Serializer):
    since = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=LAST_EPOCH_SECOND,
        help_text="Epoch seconds: only the withdrawals stamped from then on (the `next_since` of the last answer). "
        "Absent: the whole window.",
    )

    def validate_since(self, value: float) -> float:
        if math.isnan(value):  # NaN passes every comparison with the bounds
            raise serializers.ValidationError("A valid number is required.")
        return value
