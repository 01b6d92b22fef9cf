"""Request and response shapes of the auth API (CONTRACT §5 Auth); no logic beyond parsing."""

from __future__ import annotations

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


class UserRoleSerializer(serializers.Serializer):
    role = StrictChoiceField(choices=ROLE_CHOICES)


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
