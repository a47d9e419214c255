"""The OpenAPI 3.1 description of the public and audit HTTP APIs.

Kept by hand beside the views; ``tests/test_openapi.py`` validates it and
checks real responses against its schemas, so it cannot drift silently.
"""

from __future__ import annotations

from typing import Any

from ..domain.site_config import PublishedConfig
from ..domain.vocabulary import CATEGORIES, MAX_DAYS, METHODS, OPTIONAL


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _param(
    name: str,
    description: str,
    schema: dict[str, Any],
    where: str = "query",
    required: bool = False,
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "description": description,
        "schema": schema,
    }


BOOL_CHOICES: dict[str, Any] = {
    "type": "object",
    "properties": {k: {"type": "boolean"} for k in OPTIONAL},
    "required": list(OPTIONAL),
    "additionalProperties": False,
}
EVENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "seq": {"type": "integer", "minimum": 1},
        "event_id": {"type": "string"},
        "consent_id": {"type": "string"},
        "site": {"type": "string"},
        "consent_revision": {"type": "integer"},
        "config_revision": {"type": "integer"},
        **{k: {"type": "boolean"} for k in CATEGORIES},
        "method": {"enum": list(METHODS)},
        "gpc": {"type": "boolean"},
        "language": {"type": "string"},
        "texts_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "origin": {"type": "string"},
        "path": {"type": "string", "description": "page path, never a query string"},
        "ip": {"type": "string", "description": "truncated: IPv4 /24, IPv6 /48"},
        "user_agent": {"type": "string"},
        "recorded_at": {"type": "string", "format": "date-time"},
        "prev_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    },
    "additionalProperties": False,
}
EVENT["required"] = list(EVENT["properties"])
OPT_IN: dict[str, Any] = {
    "type": "object",
    "properties": {k: {"type": "number", "minimum": 0, "maximum": 1} for k in OPTIONAL},
    "required": list(OPTIONAL),
}
RATES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "events": {"type": "integer"},
        "opt_in": {
            "type": "object",
            "properties": {
                k: {"type": "number", "minimum": 0, "maximum": 1} for k in OPTIONAL
            },
            "required": list(OPTIONAL),
        },
    },
    "required": ["events", "opt_in"],
}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
AUTH_ERRORS = {
    "401": _error("no token, or an unknown or revoked one"),
    "403": _error("the token's scope does not cover this"),
    "429": _error("rate limited"),
}
EVENT_FILTERS = [
    _param("site", "only this site", {"type": "string"}),
    _param("consent_id", "only this visitor", {"type": "string"}),
    _param(
        "since",
        "recorded at or after (ISO 8601)",
        {"type": "string", "format": "date-time"},
    ),
    _param(
        "until", "recorded before (ISO 8601)", {"type": "string", "format": "date-time"}
    ),
    _param("method", "only this method", {"enum": list(METHODS)}),
    _param(
        "category",
        "only events where this category was allowed (or refused, with granted=false)",
        {"enum": list(CATEGORIES)},
    ),
    _param(
        "granted",
        "with category: allowed (true, default) or refused",
        {"type": "boolean"},
    ),
]

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "consent-server",
        "version": "1",
        "description": "Cookie consent recording, token verification and the consent "
        'log\'s audit API. Errors are always {"error": {"code", "message"}}.',
    },
    "paths": {
        "/s/{site}/consent.js": {
            "get": {
                "summary": "The banner, with the site's published config built in",
                "parameters": [_param("site", "site id", {"type": "string"}, "path")],
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
                "parameters": [_param("site", "site id", {"type": "string"}, "path")],
                "responses": {
                    "200": {
                        "description": "CSS",
                        "content": {"text/css": {"schema": {"type": "string"}}},
                    },
                    "304": {"description": "not modified"},
                },
            }
        },
        "/v1/sites/{site}/config": {
            "get": {
                "summary": "The site's published config",
                "parameters": [_param("site", "site id", {"type": "string"}, "path")],
                "responses": {
                    "200": _json(_ref("SiteConfig"), "the config document"),
                    "304": {"description": "not modified"},
                    "404": _error("unknown site"),
                },
            }
        },
        "/v1/consent": {
            "post": {
                "summary": "Record a visitor's choice",
                "description": "201 only once the log row is committed. Only the site's"
                " allowed origins may post (CORS); a missing Origin is refused.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("ConsentRequest")}},
                },
                "responses": {
                    "201": _json(_ref("ConsentRecorded"), "recorded"),
                    "400": _error("bad input; nothing written"),
                    "403": _error("origin not allowed for the site"),
                    "404": _error("unknown site"),
                    "409": _error(
                        "revision is not the site's current consent revision"
                    ),
                    "413": _error("body over 4 KB"),
                    "415": _error("not application/json"),
                    "429": _error("rate limited"),
                },
            },
            "options": {
                "summary": "CORS preflight",
                "responses": {
                    "204": {"description": "origin allowed"},
                    "403": _error("origin not allowed"),
                },
            },
        },
        "/v1/consent/verify": {
            "post": {
                "summary": "Check a consent token (for storefront backends)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["token"],
                                "properties": {
                                    "token": {"type": "string"},
                                    "site": {
                                        "type": "string",
                                        "description": "the site the token must be for",
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        _ref("Verification"),
                        "the verdict; never an error for a bad token",
                    ),
                    "400": _error("no token field"),
                    "413": _error("body over 4 KB"),
                    "415": _error("not application/json"),
                    "429": _error("rate limited"),
                },
            }
        },
        "/v1/audit/events": {
            "get": {
                "summary": "Filtered events, paged by cursor, or the whole export",
                "security": BEARER,
                "parameters": [
                    *EVENT_FILTERS,
                    _param(
                        "limit",
                        "page size",
                        {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 1000,
                            "default": 100,
                        },
                    ),
                    _param(
                        "cursor", "next_cursor of the previous page", {"type": "string"}
                    ),
                    _param(
                        "format",
                        "json pages, or a streamed csv/ndjson export",
                        {"enum": ["json", "csv", "ndjson"], "default": "json"},
                    ),
                ],
                "responses": {
                    "200": {
                        "description": "a page (json) or the export (csv, ndjson)",
                        "content": {
                            "application/json": {"schema": _ref("EventPage")},
                            "text/csv": {"schema": {"type": "string"}},
                            "application/x-ndjson": {"schema": {"type": "string"}},
                        },
                    },
                    "400": _error("bad parameter"),
                    **AUTH_ERRORS,
                },
            }
        },
        "/v1/audit/consents/{consent_id}": {
            "get": {
                "summary": "The full history of one visitor's consent, oldest first",
                "security": BEARER,
                "parameters": [
                    _param("consent_id", "consent id", {"type": "string"}, "path")
                ],
                "responses": {
                    "200": _json(_ref("ConsentHistory"), "every event of this consent"),
                    "404": _error("no such consent"),
                    **AUTH_ERRORS,
                },
            }
        },
        "/v1/audit/verify": {
            "get": {
                "summary": "Walk the log's hash chain",
                "security": BEARER,
                "responses": {
                    "200": _json(_ref("ChainReport"), "the report"),
                    **AUTH_ERRORS,
                },
            }
        },
        "/v1/audit/stats": {
            "get": {
                "summary": "Opt-in rates per UTC day and site, by method and GPC",
                "security": [{"bearer": []}],
                "description": "Tokens of scope audit or stats.",
                "parameters": [
                    _param("site", "only this site", {"type": "string"}),
                    _param(
                        "since",
                        "first day (YYYY-MM-DD)",
                        {"type": "string", "format": "date"},
                    ),
                    _param(
                        "until",
                        "day after the last (YYYY-MM-DD)",
                        {"type": "string", "format": "date"},
                    ),
                ],
                "responses": {
                    "200": _json(_ref("Stats"), "one entry per day and site"),
                    "400": _error("bad parameter"),
                    **AUTH_ERRORS,
                },
            }
        },
        "/healthz": {
            "get": {
                "summary": "Liveness and a database round trip",
                "responses": {
                    "200": _json(_ref("Health"), "up"),
                    "503": _json(_ref("Health"), "database unreachable"),
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
    },
    "components": {
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "consent-server create-token NAME --scope audit|stats",
            }
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                        },
                    }
                },
            },
            "ConsentRequest": {
                "type": "object",
                "required": ["site", "choices", "method", "revision", "language"],
                "additionalProperties": False,
                "properties": {
                    "site": {"type": "string"},
                    "previous": {
                        "type": "string",
                        "description": "the visitor's current "
                        "token; continues their history only if it verifies",
                    },
                    "choices": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {k: {"type": "boolean"} for k in CATEGORIES},
                        "description": "every optional category the site shows;"
                        " strictly necessary ones may be omitted or true",
                    },
                    "method": {"enum": list(METHODS)},
                    "revision": {
                        "type": "integer",
                        "description": "consent revision shown",
                    },
                    "language": {"type": "string"},
                    "url": {
                        "type": "string",
                        "description": "page URL; only origin and path are kept",
                    },
                    "gpc": {
                        "type": "boolean",
                        "description": "Global Privacy Control; Sec-GPC: 1 counts too",
                    },
                },
            },
            "ConsentRecorded": {
                "type": "object",
                "required": ["id", "token", "recorded_at", "expires_at"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string"},
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
                        ]
                    },
                },
            },
            "Event": EVENT,
            "EventPage": {
                "type": "object",
                "required": ["events", "next_cursor"],
                "additionalProperties": False,
                "properties": {
                    "events": {"type": "array", "items": _ref("Event")},
                    "next_cursor": {"type": ["string", "null"]},
                },
            },
            "ConsentHistory": {
                "type": "object",
                "required": ["id", "site", "current", "events"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string"},
                    "site": {"type": "string"},
                    "current": BOOL_CHOICES,
                    "events": {"type": "array", "items": _ref("Event"), "minItems": 1},
                },
            },
            "ChainReport": {
                "type": "object",
                "required": ["ok", "events", "first_bad_seq"],
                "additionalProperties": False,
                "properties": {
                    "ok": {"type": "boolean"},
                    "events": {"type": "integer"},
                    "first_bad_seq": {"type": ["integer", "null"]},
                },
            },
            "Stats": {
                "type": "object",
                "required": ["days"],
                "properties": {
                    "days": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": [
                                "day",
                                "site",
                                "visitors",
                                "events",
                                "opt_in",
                                "by_method",
                                "by_gpc",
                            ],
                            "properties": {
                                "day": {"type": "string", "format": "date"},
                                "site": {"type": "string"},
                                "visitors": {"type": "integer"},
                                "events": {"type": "integer"},
                                "opt_in": OPT_IN,
                                "by_method": {
                                    "type": "object",
                                    "propertyNames": {"enum": list(METHODS)},
                                    "additionalProperties": RATES,
                                },
                                "by_gpc": {
                                    "type": "object",
                                    "propertyNames": {"enum": ["on", "off"]},
                                    "additionalProperties": RATES,
                                },
                            },
                        },
                    }
                },
            },
            "SiteConfig": {
                "type": "object",
                "required": list(PublishedConfig.model_fields),
                "properties": {
                    "site": {"type": "string"},
                    "revision": {"type": "integer"},
                    "consent_revision": {"type": "integer"},
                    "default_language": {"type": "string"},
                    "languages": {"type": "object"},
                    "categories": {"type": "array", "items": {"enum": list(OPTIONAL)}},
                    "services": {"type": "array"},
                    "policy_url": {"type": "string"},
                    "origins": {"type": "array", "items": {"type": "string"}},
                    "cookie_days": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_DAYS,
                    },
                    "google_consent_mode": {"type": "boolean"},
                    "gpc": {"type": "boolean"},
                    "theme": {"type": "object"},
                },
            },
            "Health": {
                "type": "object",
                "required": ["status", "database"],
                "properties": {
                    "status": {"enum": ["ok", "error"]},
                    "database": {"enum": ["ok", "unreachable"]},
                },
            },
        },
    },
}
