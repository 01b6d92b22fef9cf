"""common's system checks: permissions named by views exist in the role matrix; a JWT key is configured."""

import pytest
from django.urls import path
from rest_framework.views import APIView

from common.checks import check_jwt_public_key, check_service_actions, check_view_permissions


class TypoView(APIView):
    required_permissions = {"get": "items.read", "post": "items.wirte"}


class AnyCallerView(APIView):
    # The form before issue 26: actions without their callers.
    required_permissions = {}
    service_actions = ("post",)


urlpatterns = [path("typo", TypoView.as_view()), path("any-caller", AnyCallerView.as_view())]


def test_the_test_project_names_only_known_permissions():
    assert check_view_permissions() == []


@pytest.mark.urls("tests.test_checks")
def test_a_permission_missing_from_the_role_matrix_is_an_error():
    # when
    errors = check_view_permissions()

    # then
    assert [(error.id, error.msg, error.obj) for error in errors] == [
        (
            "common.E001",
            "tests.test_checks.TypoView.required_permissions['post'] names 'items.wirte', "
            "which common.roles.PERMISSIONS does not hold.",
            TypoView,
        )
    ]


def test_the_test_project_names_the_callers_of_its_service_actions():
    assert check_service_actions() == []


@pytest.mark.urls("tests.test_checks")
def test_service_actions_without_their_callers_are_an_error():
    # when
    errors = check_service_actions()

    # then: a start that fails, not a request that would 500 (or let any caller in)
    assert [(error.id, error.obj) for error in errors] == [("common.E003", AnyCallerView)]
    assert "tests.test_checks.AnyCallerView.service_actions" in errors[0].msg


def test_a_missing_public_key_is_a_warning(settings):
    # given
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "VERIFYING_KEY": None}

    # when
    warnings = check_jwt_public_key()

    # then
    assert [warning.id for warning in warnings] == ["common.W001"]


def test_a_configured_public_key_passes():
    assert check_jwt_public_key() == []
