"""The OpenAPI document of contact_svc: valid, complete, and derived from the role table."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from common.roles import roles_for
from contacts.kinds import KINDS


@pytest.fixture(scope="module")
def schema():
    response = APIClient().get("/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_validates(schema):
    validate(schema)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.plural)
def test_every_operation_is_documented(schema, kind):
    paths = schema["paths"]
    collection, item, lookup = f"/{kind.plural}", f"/{kind.plural}/{{id}}", f"/{kind.plural}/lookup"
    assert set(paths[collection]) == {"get", "post"}
    assert set(paths[item]) - {"parameters"} == {"get", "put", "patch", "delete"}
    assert set(paths[lookup]) == {"get"}
    operations = [paths[collection]["get"], paths[collection]["post"], paths[lookup]["get"]]
    operations += [paths[item][method] for method in ("get", "put", "patch", "delete")]
    for operation in operations:
        assert operation["summary"]
        assert "Roles: " in operation["description"]
        assert {"400", "401", "403"} <= set(operation["responses"])


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.plural)
def test_roles_in_descriptions_come_from_common_roles(schema, kind):
    paths = schema["paths"]
    delete = paths[f"/{kind.plural}/{{id}}"]["delete"]["description"]
    create = paths[f"/{kind.plural}"]["post"]["description"]
    lookup = paths[f"/{kind.plural}/lookup"]["get"]["description"]
    assert f"Roles: {', '.join(roles_for('contacts.delete'))}." in delete
    assert "inventory_manager" not in delete
    assert f"Roles: {', '.join(roles_for('contacts.write'))}." in create
    assert "Service tokens of sales and purchase are accepted" in lookup


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.plural)
def test_create_has_an_example_and_enveloped_responses(schema, kind):
    create = schema["paths"][f"/{kind.plural}"]["post"]
    examples = create["requestBody"]["content"]["application/json"]["examples"]
    assert len(examples) == 1
    [example] = examples.values()
    assert set(example["value"]) == {"name", "email", "phone", "address"}
    created = create["responses"]["201"]["content"]["application/json"]["schema"]
    assert created["properties"]["data"] == {"$ref": f"#/components/schemas/{kind.title}"}
    assert create["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"
    }


def test_lookup_requires_ids(schema):
    parameters = schema["paths"]["/customers/lookup"]["get"]["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in parameters] == [("ids", "query", True)]


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.plural)
def test_import_takes_csv_and_export_answers_csv(schema, kind):
    paths = schema["paths"]
    imports, export = paths[f"/{kind.plural}/import"]["post"], paths[f"/{kind.plural}/export"]["get"]
    assert list(imports["requestBody"]["content"]) == ["text/csv"]
    assert {parameter["name"] for parameter in imports["parameters"]} >= {"dry_run", "Idempotency-Key"}
    assert f"Roles: {', '.join(roles_for('contacts.write'))}." in imports["description"]
    assert {"400", "403", "413"} <= set(imports["responses"])
    assert list(export["responses"]["200"]["content"]) == ["text/csv"]
    assert f"Roles: {', '.join(roles_for('contacts.read'))}." in export["description"]
    # the list's filters, search and ordering, and no page
    assert {p["name"] for p in export["parameters"]} == {
        "active",
        "created_after",
        "created_before",
        "email",
        "ordering",
        "search",
    }
