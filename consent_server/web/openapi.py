"""The OpenAPI 3.1 description of the public and audit HTTP APIs.

The schemas of the request bodies and of the site config come from the
pydantic models that check them (``models_json_schema``, their ``$defs`` moved
to ``components/schemas``), so the description cannot drift from the checks.
Paths, parameters and the response shapes are written here and in
:mod:`.openapi_audit`; ``tests/test_openapi.py`` validates the document, checks
real responses against it and sends bodies that break each request schema.
"""

from __future__ import annotations

import functools

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from ..domain.choices import ConsentRequest
from ..domain.site_config import PublishedConfig
from . import openapi_audit, openapi_log
from .consent import VerifyRequest
from .openapi_parts import (
    BOOL_CHOICES,
    ERROR,
    HEALTH,
    Schema,
    error,
    json_body,
    json_response,
    param,
    ref,
)
from .transparency import ReceiptRequest

# The models whose schemas the document shows: requests as they are checked,
# the config as it is served.
MODELS: list[tuple[type[BaseModel], JsonSchemaMode]] = [
    (ConsentRequest, "validation"),
    (VerifyRequest, "validation"),
    (ReceiptRequest, "validation"),
    (PublishedConfig, "serialization"),
]
SITE = param("site", "site id", {"type": "string"}, "path")
LANG = param("lang", "language code", {"type": "string"}, "path")
TOO_LARGE = error("body over 4 KB")
NOT_JSON = error("not application/json")
LIMITED = error("rate limited")
PREFLIGHT: Schema = {
    "summary": "CORS preflight",
    "responses": {
        "204": {"description": "origin allowed"},
        "403": error("origin not allowed"),
    },
}


def _without_origins(config: Schema) -> Schema:
    """The published config as the public sees it: without its allowed origins."""
    public = dict(config)
    public["properties"] = {
        k: v for k, v in config["properties"].items() if k != "origins"
    }
    public["required"] = [k for k in config.get("required", []) if k != "origins"]
    return public


def _storefront(models: dict[type[BaseModel], Schema]) -> Schema:
    """The paths a storefront, its visitors' browsers and its backend use."""
    return {
        "/s/{site}/consent.js": {
            "get": {
                "summary": "The banner, with the site's published config built in",
                "parameters": [SITE],
                "responses": {
                    "200": {
                        "description": "JavaScript; ETag, gzip",
                        "content": {"text/javascript": {"schema": {"type": "string"}}},
                    },
                    "304": {"description": "not modified"},
                    "404": {"description": "unknown site (a JavaScript comment)"},
                },
            }
        },
        "/s/{site}/consent.css": {
            "get": {
                "summary": "The banner's styles alone, for strict CSPs",
                "parameters": [SITE],
                "responses": {
                    "200": {
                        "description": "CSS",
                        "content": {"text/css": {"schema": {"type": "string"}}},
                    },
                    "304": {"description": "not modified"},
                },
            }
        },
        "/s/{site}/texts/{lang}.json": {
            "get": {
                "summary": "One language's banner texts",
                "description": "Fetched by the banner when a page asks for a language"
                " the script does not carry (it carries the site's default and the"
                " best match for Accept-Language).",
                "parameters": [
                    SITE,
                    LANG,
                    param(
                        "revision",
                        "the config revision whose texts to give (default: the"
                        " current one)",
                        {"type": "integer", "minimum": 1},
                        "query",
                        required=False,
                    ),
                ],
                "responses": {
                    "200": json_response(ref("Texts"), "the texts"),
                    "304": {"description": "not modified"},
                    "400": error("revision is not a whole number"),
                    "404": error("unknown site, revision or language"),
                },
            }
        },
        "/v1/sites/{site}/config": {
            "get": {
                "summary": "The site's published config",
                "parameters": [SITE],
                "responses": {
                    "200": json_response(models[PublishedConfig], "the config"),
                    "304": {"description": "not modified"},
                    "404": error("unknown site"),
                },
            }
        },
        "/v1/consent": {
            "post": {
                "summary": "Record a visitor's choice",
                "description": "201 only once the log row is committed. Only the site's"
                " allowed origins may post (CORS); a missing Origin is refused."
                " The cookie scanner (consent-server scan --token) sends a bearer"
                " token of scope scan: its choice is recorded as a scan event, kept"
                " out of statistics and visitors' histories, and its token expires"
                " within minutes and verifies as reason scan. Without an"
                " Authorization header a choice is a visitor's.",
                "security": [{}, {"bearer": []}],
                "requestBody": json_body(models[ConsentRequest]),
                "responses": {
                    "201": json_response(ref("ConsentRecorded"), "recorded"),
                    "400": error("bad input; nothing written"),
                    "401": error("bearer token unknown or revoked; nothing written"),
                    "403": error(
                        "origin not allowed for the site, or a bearer token of"
                        " another scope than scan; nothing written"
                    ),
                    "404": error("unknown site"),
                    "409": error("revision is not the site's current consent revision"),
                    "413": TOO_LARGE,
                    "415": NOT_JSON,
                    "429": LIMITED,
                },
            },
            "options": PREFLIGHT,
        },
        "/v1/consent/verify": {
            "post": {
                "summary": "Check a consent token",
                "description": "For storefront backends, and for the banner where"
                " the browser cannot check the public-key signature itself (CORS"
                " for the origins a site allows).",
                "requestBody": json_body(models[VerifyRequest]),
                "responses": {
                    "200": json_response(
                        ref("Verification"),
                        "the verdict; never an error for a bad token",
                    ),
                    "400": error("no token field, or a site that is not a string"),
                    "413": TOO_LARGE,
                    "415": NOT_JSON,
                    "429": LIMITED,
                },
            },
            "options": PREFLIGHT,
        },
    }


META: Schema = {
    "/": {
        "get": {
            "summary": "The front page: what this service is, links onward",
            "responses": {
                "200": {
                    "description": "an HTML page",
                    "content": {"text/html": {}},
                }
            },
        }
    },
    "/healthz": {
        "get": {
            "summary": "Liveness and a database round trip",
            "responses": {
                "200": json_response(ref("Health"), "up"),
                "503": json_response(ref("Health"), "database unreachable"),
            },
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1",
                    "content": {"application/json": {}},
                }
            },
        }
    },
    "/docs": {
        "get": {
            "summary": "This document rendered for people",
            "responses": {
                "200": {
                    "description": "an HTML page; every file it loads is ours",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                }
            },
        }
    },
}
RESPONSES: Schema = {
    "Error": ERROR,
    "Health": HEALTH,
    "ConsentRecorded": {
        "type": "object",
        "required": ["id", "event_id", "token", "recorded_at", "expires_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "description": "the visitor's consent id"},
            "event_id": {
                "type": "string",
                "description": "the logged event this choice was recorded as",
            },
            "token": {"type": "string"},
            "recorded_at": {"type": "string", "format": "date-time"},
            "expires_at": {"type": "string", "format": "date-time"},
        },
    },
    "Verification": {
        "type": "object",
        "required": ["valid", "id", "site", "choices", "revision", "reason"],
        "additionalProperties": False,
        "properties": {
            "valid": {"type": "boolean"},
            "id": {"type": ["string", "null"]},
            "site": {"type": ["string", "null"]},
            "choices": {"oneOf": [BOOL_CHOICES, {"type": "null"}]},
            "revision": {"type": ["integer", "null"]},
            "reason": {
                "enum": [
                    None,
                    "malformed",
                    "bad_signature",
                    "expired",
                    "other_site",
                    "old_revision",
                    "superseded",
                    "scan",
                ],  # fmt: skip
                "description": "why the token is not valid: malformed (not a"
                " token), bad_signature (not signed by this service), expired,"
                " other_site, old_revision (the site has since asked every"
                " visitor again), superseded (the visitor made a newer choice),"
                " scan (the token of a choice the cookie scanner made, never a"
                " visitor's consent; it wins over expired and superseded)",
            },
        },
    },
}


@functools.cache
def document() -> Schema:
    """The whole description, built once per process."""
    refs, generated = models_json_schema(
        MODELS, ref_template="#/components/schemas/{model}"
    )
    models = {model: refs[(model, mode)] for model, mode in MODELS}
    # The config is served without its allowed origins.
    served = models[PublishedConfig]["$ref"].rsplit("/", 1)[1]
    public = _without_origins(generated["$defs"][served])
    models[PublishedConfig] = {"$ref": "#/components/schemas/PublicConfig"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "consent-server",
            "version": "1",
            "description": "Cookie consent recording, token verification and the"
            ' consent log\'s audit API. Errors are always {"error": {"code",'
            ' "message"}}.',
        },
        "paths": {
            **_storefront(models),
            **openapi_log.paths(models[ReceiptRequest]),
            **openapi_audit.PATHS,
            **META,
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "consent-server create-token NAME"
                    " --scope audit|stats|scan",
                }
            },
            "schemas": {
                **generated["$defs"],
                "PublicConfig": public,
                **RESPONSES,
                **openapi_audit.SCHEMAS,
                **openapi_log.SCHEMAS,
            },
        },
    }
