"""The OpenAPI document: the committed copy is what the code generates, it is valid
OpenAPI 3.1, it covers every route, and GET /v1/openapi.json serves it; answers are
built from the routes' response models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chalice import Blueprint, Chalice
from chalice.test import Client

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "openapi.json"


@pytest.fixture(scope="module")
def app():
    from app import app

    return app


@pytest.fixture(scope="module")
def generated(app):
    from functions.openapi import document

    return document(app)


def _operations(doc):
    return [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]


def _differences(committed, generated):
    """Which paths and schemas differ: the failure's message stays short."""
    out = []
    for where in ("paths", "components.schemas"):
        old, new = committed, generated
        for key in where.split("."):
            old, new = old.get(key, {}), new.get(key, {})
        out += [f"{where} {name}" for name in sorted(set(old) | set(new)) if old.get(name) != new.get(name)]
    return out


def test_the_committed_document_is_the_generated_one(generated):
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    if committed != generated:
        stale = _differences(committed, generated)
        pytest.fail(
            "docs/openapi.json differs from what the code generates; run `make openapi` and commit it. "
            f"Differences: {', '.join(stale) or 'outside paths and schemas'}",
            pytrace=False,
        )


def test_the_document_is_valid_openapi_3_1(generated):
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation import OpenAPIV31SpecValidator

    assert generated["openapi"] == "3.1.0"
    validate(generated, cls=OpenAPIV31SpecValidator)


def test_every_route_chalice_serves_is_documented(app, generated):
    served = {(path, method.lower()) for path, methods in app.routes.items() for method in methods}
    documented = {(path, method) for path, method, _ in _operations(generated)}
    assert served == documented
    assert len({op["operationId"] for _, _, op in _operations(generated)}) == len(served)


def test_an_undocumented_route_stops_the_generator():
    from functions.openapi import UndocumentedRoute, document

    bare = Chalice(app_name="bare")

    @bare.route("/v1/bare")
    def bare_view():
        return {}

    with pytest.raises(UndocumentedRoute, match="GET /v1/bare"):
        document(bare)


def test_every_operation_that_needs_a_key_documents_401(generated):
    public = set()
    for path, method, op in _operations(generated):
        if op.get("security") == []:
            public.add(f"{method.upper()} {path}")
            continue
        assert "401" in op["responses"], f"{method.upper()} {path} needs a key but does not document 401"
    dashboard = {
        f"GET /dashboard{asset}"
        for asset in (
            "",
            "/live.js",
            "/dashboard.js",
            "/dashboard.css",
            "/icon.svg",
            "/safety",
            "/safety.js",
            "/safety.css",
        )
    }
    assert public == {"GET /v1/health", "GET /v1/openapi.json", *dashboard}  # the page asks for a key itself
    catalog = generated["paths"]["/v1/catalog.jsonld"]["get"]
    assert (
        catalog["security"] == [{}, {"ApiKey": []}] and "application/ld+json" in catalog["responses"]["200"]["content"]
    )


def test_what_any_request_can_cause_is_documented(generated):
    """A body can be malformed (400) or too large (413); path and query parameters can be invalid (400)."""
    for path, method, op in _operations(generated):
        where = f"{method.upper()} {path}"
        if "requestBody" in op:
            assert {"400", "413"} <= set(op["responses"]), where
        if op.get("parameters"):
            assert "400" in op["responses"], where
        for parameter in op.get("parameters", []):
            if parameter["in"] == "path":
                assert "{" + parameter["name"] + "}" in path, where


def test_errors_share_one_schema(generated):
    for name, response in generated["components"]["responses"].items():
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, name
    assert set(generated["components"]["schemas"]["ErrorBody"]["required"]) == {"code", "message"}


def test_the_route_serves_the_generated_document(app, generated):
    with Client(app) as client:
        response = client.http.get("/v1/openapi.json")
        again = client.http.get("/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json_body == generated
    assert again.body == response.body


# -- answers built from the response models ----------------------------------------------
@pytest.fixture
def shaped_app():
    from functions.http import route

    bp = Blueprint("shape_test")
    result = {}

    @route(bp, "/v1/shape-test", methods=["GET"], summary="test", response="citybrain.core.responses:Health")
    def shape_test():
        from functions.http import respond

        return respond(result["body"])

    test_app = Chalice(app_name="shape-test")
    test_app.register_blueprint(bp)
    with Client(test_app) as client:
        yield client, result


def test_an_answer_holds_the_fields_its_model_lists(shaped_app, monkeypatch):
    client, result = shaped_app
    monkeypatch.setenv("CITYBRAIN_STRICT_RESPONSES", "0")
    result["body"] = {"status": "ok", "internal": "not for clients"}
    response = client.http.get("/v1/shape-test")
    assert response.status_code == 200 and response.json_body == {"status": "ok"}


def test_an_answer_its_model_does_not_describe_is_a_500_not_the_clients_fault(shaped_app, monkeypatch):
    client, result = shaped_app
    monkeypatch.setenv("CITYBRAIN_STRICT_RESPONSES", "0")
    result["body"] = {"status": "broken"}
    response = client.http.get("/v1/shape-test")
    assert response.status_code == 500 and response.json_body["code"] == "InternalError"
    monkeypatch.setenv("CITYBRAIN_STRICT_RESPONSES", "1")
    result["body"] = {"status": "ok", "internal": "unlisted"}
    response = client.http.get("/v1/shape-test")
    assert response.status_code == 500 and response.json_body["code"] == "InternalError"


def test_a_field_left_out_stays_out_and_a_null_stays_null():
    from citybrain.core.responses import shaped
    from citybrain.uploads.responses import Upload

    record = {
        "id": "u1",
        "filename": "a.csv",
        "department": "environment",
        "status": "pending",
        "accepted": 0,
        "rejected": 0,
        "errors": [],
        "created_at": "2026-11-27T08:30:00+08:00",
        "started_at": None,
        "finished_at": None,
    }
    assert shaped(Upload, record) == record
