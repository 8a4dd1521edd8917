"""The OpenAPI 3.1 document of the HTTP API, generated from the routes' descriptions
(functions.http.route) and their pydantic models: the models the answers are built
from, the request body models the handlers validate with, and the query models of
functions.request_models. Served at GET /v1/openapi.json; committed as docs/openapi.json:

    python -m functions.openapi docs/openapi.json     (make openapi; no path: standard output)

Loaded by that route and by the command only, never at a function's cold start.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
from http import HTTPStatus
from typing import Any

from pydantic.json_schema import JsonSchemaMode, models_json_schema

from functions.http import ERROR_MODEL, OPERATIONS, Operation, model_of

TITLE = "City Brain API"
VERSION = "1"
REF = "#/components/schemas/{model}"
SECURITY_SCHEME = "ApiKey"
METHOD_ORDER = ("GET", "PUT", "POST", "PATCH", "DELETE")

DESCRIPTION = """\
The hub between the district's departments: the IoT sensing network, alerts, and the
exchange of data between departments under grants and audit.

Every route but `/v1/health`, `/v1/openapi.json` and the dashboard's page and assets
(`/dashboard…`) needs the header `X-Api-Key` (`/v1/catalog.jsonld` takes one
optionally: it then shows every dataset). A missing or unknown key is a 401, a known key
not allowed to do something a 403. Bodies are UTF-8 JSON of at most 6 MB nested at most
32 levels. Errors are JSON: a `code`, a human `message`, and for validation errors the
offending fields with their paths. Listings are paged: pass a page's `next_cursor` back
as `cursor`; cursors are opaque."""

TAGS = {
    "service": "The API itself",
    "departments": "Departments and their API keys",
    "devices": "The device registry and the readings of each device",
    "readings": "Readings sent by gateways",
    "uploads": "Files of readings or of a dataset's records, PUT to a presigned URL",
    "alerts": "Alerts raised by the rules on the readings",
    "exchange": "The data exchange: catalog, records, access requests, grants, audit, statistics",
    "dashboard": "The live operations dashboard (城市运行总览): its public page and assets, and the overview it reads",
}

ERRORS = {
    400: ("BadRequest", "The request is invalid (the fields at fault are listed in `errors`)"),
    401: ("Unauthorized", "Missing or unknown X-Api-Key"),
    403: ("Forbidden", "The key is known but may not do this"),
    404: ("NotFound", "No such resource (or none the caller may see)"),
    409: ("Conflict", "The resource's state does not allow this, or it changed meanwhile"),
    413: ("PayloadTooLarge", "The body, or its list of items, is too large"),
}


class UndocumentedRoute(RuntimeError):
    """A route Chalice serves that no `route(...)` description covers."""


def operations(app) -> list[Operation]:
    """The descriptions of every route `app` serves, in path and method order; raises for a route without one."""
    served = [(path, method) for path, methods in app.routes.items() for method in methods]
    missing = sorted(f"{method} {path}" for path, method in served if (path, method) not in OPERATIONS)
    if missing:
        raise UndocumentedRoute(
            f"routes without a description (declare them with functions.http.route): {', '.join(missing)}"
        )
    found = [OPERATIONS[key] for key in served]
    return sorted(found, key=lambda op: (op.path, METHOD_ORDER.index(op.method) if op.method in METHOD_ORDER else 99))


def document(app) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `app`."""
    ops = operations(app)
    names = [op.name for op in ops]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"views sharing a name (the operationId): {', '.join(repeated)}")

    wanted: dict[tuple[Any, JsonSchemaMode], None] = {(model_of(ERROR_MODEL), "serialization"): None}
    for op in ops:
        uses: tuple[tuple[Any, JsonSchemaMode], ...] = (
            (op.body, "validation"),
            (op.query, "validation"),
            (op.response, "serialization"),
        )
        for ref, mode in uses:
            if ref is not None:
                wanted[(model_of(ref), mode)] = None
    pairs = sorted(wanted, key=lambda pair: (pair[0].__module__, pair[0].__qualname__, pair[1]))
    refs, definitions = models_json_schema(pairs, ref_template=REF)
    schemas: dict[str, Any] = definitions.get("$defs", {})

    def ref_of(ref: Any, mode: JsonSchemaMode) -> dict[str, Any]:
        return refs[(model_of(ref), mode)]

    query_models = {_name(ref_of(op.query, "validation")) for op in ops if op.query is not None}
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, ref_of, schemas)

    # Query models are spelled out as parameters; their own schemas go unless something else points to them.
    rest = json.dumps([paths, {k: v for k, v in schemas.items() if k not in query_models}])
    for name in query_models:
        if f'"{REF.format(model=name)}"' not in rest:
            schemas.pop(name, None)

    used_errors = sorted({code for op in ops for code in op.errors})
    tags = sorted({op.tag for op in ops})
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "servers": [{"url": "..", "description": "the API's root, relative to where this document is served"}],
        "security": [{SECURITY_SCHEME: []}],
        "tags": [{"name": tag, **({"description": TAGS[tag]} if tag in TAGS else {})} for tag in tags],
        "paths": paths,
        "components": {
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Api-Key",
                    "description": "a department's key (POST /v1/departments shows it once)",
                }
            },
            "responses": {
                ERRORS[code][0]: {
                    "description": ERRORS[code][1],
                    "content": {"application/json": {"schema": ref_of(ERROR_MODEL, "serialization")}},
                }
                for code in used_errors
            },
            "schemas": schemas,
        },
    }


def _name(ref: dict[str, Any]) -> str:
    return ref["$ref"].rpartition("/")[2]


def _operation(op: Operation, ref_of, schemas: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.name, "summary": op.summary, "tags": [op.tag]}
    if op.description:
        out["description"] = op.description
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            "description": f"the {name.removesuffix('_id').replace('_', ' ')}'s id",
        }
        for name in op.path_params
    ]
    if op.query is not None:
        parameters += _query_parameters(model_of(op.query), schemas[_name(ref_of(op.query, "validation"))])
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = {
            "required": op.body_required,
            "content": {"application/json": {"schema": ref_of(op.body, "validation")}},
        }
    responses: dict[str, Any] = {
        str(op.status): {
            "description": HTTPStatus(op.status).phrase,
            "content": {op.content_type: {"schema": ref_of(op.response, "serialization")}},
        }
    }
    for code in op.errors:
        responses[str(code)] = {"$ref": f"#/components/responses/{ERRORS[code][0]}"}
    out["responses"] = responses
    if op.optional_key:
        out["security"] = [{}, {SECURITY_SCHEME: []}]
    elif op.public:
        out["security"] = []
    return out


def _query_parameters(model: Any, schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        prop.pop("title", None)
        description = prop.pop("description", None)
        if prop.get("default", 0) is None:
            prop.pop("default")
        variants = prop.pop("anyOf", None)
        if variants is not None:
            kept = [v for v in variants if v != {"type": "null"}]
            if len(kept) == 1:
                prop.update(kept[0])
            else:
                prop["anyOf"] = kept
        if name not in required:
            # Every listing reads an empty optional parameter (`?town=`) as one not given.
            prop = {"anyOf": [prop, {"type": "string", "const": ""}]}
            description = f"{description}; empty: not given" if description else "empty: not given"
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    if model.model_config.get("extra") == "allow":
        parameters.append(
            {
                "name": "filters",
                "in": "query",
                "required": False,
                "style": "form",
                "explode": True,
                "schema": {"type": "object", "additionalProperties": {"type": "string"}},
                "description": " ".join((model.__doc__ or "other parameters").split()),
            }
        )
    return parameters


@functools.cache
def served(app) -> dict[str, Any]:
    """The document as GET /v1/openapi.json serves it: built once per process."""
    return document(app)


def render(doc: dict[str, Any]) -> str:
    """The document as committed: sorted keys, two-space indent, UTF-8 text, a final newline."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    from app import app

    doc = document(app)
    text = render(doc)
    if not argv:
        sys.stdout.write(text)
        return 0
    target = argv[0]
    directory = os.path.dirname(os.path.abspath(target))
    os.makedirs(directory, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, delete=False, suffix=".tmp") as out:
        out.write(text)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(out.name, 0o666 & ~umask)  # as an ordinary file, not tempfile's 0600
    os.replace(out.name, target)
    print(f"wrote {target}: {sum(len(item) for item in doc['paths'].values())} operations", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
