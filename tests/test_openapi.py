import json

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from consent_server.store.accounts import create_token
from consent_server.store.engine import get_db
from tests.conftest import ORIGIN
from tests.helpers import count_events, fill_log


@pytest.fixture
def spec(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_document_is_valid_openapi(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.1")


def test_document_describes_every_route(app, spec):
    routes = {
        rule.rule.replace("<", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        # The config page's forms are for people, not part of the API.
        if rule.endpoint != "static" and not rule.rule.startswith("/admin/")
    }
    assert routes == set(spec["paths"])


def check(spec, response, path, method="get"):
    # The response must be one the document lists, with a body its schema accepts.
    status = str(response.status_code)
    listed = spec["paths"][path][method]["responses"]
    assert status in listed, (
        f"{method.upper()} {path} answered {status}, not documented"
    )
    content = listed[status].get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if response.mimetype == "application/json" and schema:
        # Refs point at #/components/...: give the schema the document's components.
        validator = Draft202012Validator({**schema, "components": spec["components"]})
        errors = sorted(validator.iter_errors(response.get_json()), key=str)
        assert not errors, f"{method.upper()} {path} {status}: {errors[0].message}"


def test_responses_match_the_document(app, client, consent, spec):
    with app.app_context():
        token = create_token(get_db(), "openapi", "audit")
    auth = {"Authorization": f"Bearer {token}"}

    recorded = consent.post()
    check(spec, recorded, "/v1/consent", "post")
    check(spec, consent.post(method="maybe"), "/v1/consent", "post")
    check(spec, consent.post(origin="https://evil.example"), "/v1/consent", "post")
    check(spec, consent.post(revision=9), "/v1/consent", "post")
    check(
        spec,
        client.options("/v1/consent", headers={"Origin": ORIGIN}),
        "/v1/consent",
        "options",
    )
    token_value = recorded.get_json()["token"]
    check(spec, consent.verify(token_value), "/v1/consent/verify", "post")
    check(spec, consent.verify("garbage"), "/v1/consent/verify", "post")
    check(spec, client.get("/v1/sites/demo/config"), "/v1/sites/{site}/config")
    check(spec, client.get("/v1/sites/nope/config"), "/v1/sites/{site}/config")
    check(spec, client.get("/healthz"), "/healthz")
    check(spec, client.get("/s/demo/consent.js"), "/s/{site}/consent.js")
    check(spec, client.get("/s/demo/consent.css"), "/s/{site}/consent.css")
    check(spec, client.get("/s/demo/texts/de.json"), "/s/{site}/texts/{lang}.json")

    fill_log(app.extensions["consent_db"], 5)
    page = client.get("/v1/audit/events?limit=2", headers=auth)
    check(spec, page, "/v1/audit/events")
    assert page.get_json()["next_cursor"] is not None
    check(
        spec, client.get("/v1/audit/events?limit=0", headers=auth), "/v1/audit/events"
    )
    check(spec, client.get("/v1/audit/events"), "/v1/audit/events")
    consent_id = recorded.get_json()["id"]
    check(
        spec,
        client.get(f"/v1/audit/consents/{consent_id}", headers=auth),
        "/v1/audit/consents/{consent_id}",
    )
    check(
        spec,
        client.get("/v1/audit/consents/nobody", headers=auth),
        "/v1/audit/consents/{consent_id}",
    )
    check(spec, client.get("/v1/audit/verify", headers=auth), "/v1/audit/verify")
    check(spec, client.get("/v1/audit/stats", headers=auth), "/v1/audit/stats")
    check(spec, client.get("/openapi.json"), "/openapi.json")


# A value of another JSON type than each schema type allows.
WRONG_TYPE = {
    "string": 12,
    "integer": "1",
    "boolean": "yes",
    "object": ["x"],
    "array": {"x": 1},
}


DROP = object()


def resolve(spec, schema):
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def breaks(spec, schema, valid, path=()):
    # Every body that breaks one rule the schema states: a required field left
    # out, a wrong type, a value outside an enum, const, minimum or maxLength,
    # an unknown key.
    # Yields (the field named, body).
    schema = resolve(spec, schema)

    def put(value, key=None):
        body = json.loads(json.dumps(valid))
        target = body
        for part in path:
            target = target[part]
        if key is None:
            return body
        if value is DROP:
            target.pop(key)
        else:
            target[key] = value
        return body

    for name in schema.get("required", []):
        yield name, put(DROP, name)
    if schema.get("additionalProperties") is False:
        yield "unexpected", put(True, "unexpected")
    for name, prop in schema.get("properties", {}).items():
        prop = resolve(spec, prop)
        options = [resolve(spec, p) for p in prop.get("anyOf", [prop])]
        types = {o.get("type") for o in options} - {None, "null"}
        for kind in types:
            yield name, put(WRONG_TYPE[kind], name)
        for option in options:
            if "enum" in option:
                yield name, put("not-" + option["enum"][0], name)
            if "const" in option:
                yield name, put(not option["const"], name)
            if "minimum" in option:
                yield name, put(option["minimum"] - 1, name)
            if "maxLength" in option:
                yield name, put("a" * (option["maxLength"] + 1), name)
            if option.get("type") == "object" and "properties" in option:
                yield from breaks(spec, option, valid, (*path, name))


@pytest.mark.parametrize(
    ("path", "valid"),
    (
        ("/v1/consent", None),
        ("/v1/consent/verify", {"token": "a.b.c", "site": "demo"}),
    ),
)
def test_bodies_that_break_the_schema_get_a_documented_400(
    client, consent, engine, spec, path, valid
):
    operation = spec["paths"][path]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    valid = consent.body() if valid is None else valid
    broken = list(breaks(spec, schema, valid))
    assert broken
    for field, body in broken:
        response = client.post(path, json=body, headers={"Origin": ORIGIN})
        # The answer is one the document lists, with the error shape.
        check(spec, response, path, "post")
        assert response.status_code == 400, (field, body, response.get_json())
        assert field in response.get_json()["error"]["message"], (field, body)
    assert count_events(engine) == 0


def test_the_transparency_log_answers_as_documented(app, client, consent, spec):
    with app.app_context():
        token = create_token(get_db(), "openapi", "audit")
    auth = {"Authorization": f"Bearer {token}"}
    recorded = consent.post().get_json()
    consent.post()
    check(spec, client.get("/v1/log/consistency?from=1&to=2"), "/v1/log/consistency")
    check(spec, client.get("/v1/log/consistency?from=3&to=2"), "/v1/log/consistency")
    receipt = client.post("/v1/consent/receipt", json={"token": recorded["token"]})
    check(spec, receipt, "/v1/consent/receipt", "post")
    bad = client.post("/v1/consent/receipt", json={"token": "nope"})
    check(spec, bad, "/v1/consent/receipt", "post")
    proof = f"/v1/audit/events/{recorded['event_id']}/proof"
    check(
        spec,
        client.get(proof + "?size=2", headers=auth),
        "/v1/audit/events/{event_id}/proof",
    )
    check(
        spec,
        client.get(proof + "?size=0", headers=auth),
        "/v1/audit/events/{event_id}/proof",
    )
    check(
        spec,
        client.get("/v1/audit/consistency?from=1&to=2", headers=auth),
        "/v1/audit/consistency",
    )
    revision = "/v1/audit/sites/{site}/revisions/{revision}"
    check(spec, client.get("/v1/audit/sites/demo/revisions/1", headers=auth), revision)
    check(spec, client.get("/v1/audit/sites/demo/revisions/x", headers=auth), revision)
    check(spec, client.get("/v1/audit/sites/demo/revisions/7", headers=auth), revision)
