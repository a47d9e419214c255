import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from consent_server.store.accounts import create_token
from consent_server.store.engine import get_db
from tests.conftest import ORIGIN
from tests.helpers import fill_log


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
        if rule.endpoint != "static"
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
