"""The checks every service passes: health, schema, docs, envelopes, request ids, logs, metrics, admin roles.

One test, parametrised over :data:`erp_testkit.service_checks.EVERY_SERVICE_CHECK`, the one home of
what each check asserts (``-k health`` runs one).
"""

import pytest

from erp_testkit.service_checks import EVERY_SERVICE_CHECK


@pytest.mark.django_db
@pytest.mark.parametrize(("assertion", "fixtures"), EVERY_SERVICE_CHECK)
def test_the_service_passes(assertion, fixtures, request):
    assertion(*(request.getfixturevalue(name) for name in fixtures))
