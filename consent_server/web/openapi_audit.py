"""The audit API's part of the OpenAPI description: its paths and response shapes.

Written by hand: these answer from the log's rows, which no request model
checks; ``tests/test_openapi.py`` validates real responses against them.
"""

from __future__ import annotations

from ..domain.vocabulary import CATEGORIES, METHODS, OPTIONAL
from .openapi_parts import BOOL_CHOICES, Schema, error, json_response, param, ref

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
RATE_LIMITED: Schema = {
    **error(
        "too many requests from this client to the audit API as a whole"
        " (CONSENT_RATELIMIT_AUDIT, counted before the token is checked)"
    ),
    "headers": {
        "Retry-After": {
            "description": "seconds until the client may ask again",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
}
AUTH_ERRORS = {
    "401": error("no token, or an unknown or revoked one"),
    "403": error("the token's scope does not cover this"),
    "429": RATE_LIMITED,
}
HEX64 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
DATE_TIME = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
EVENT_FILTERS = [
    param("site", "only this site", {"type": "string"}),
    param("consent_id", "only this visitor", {"type": "string"}),
    param("since", "recorded at or after (ISO 8601)", DATE_TIME),
    param("until", "recorded before (ISO 8601)", DATE_TIME),
    param("method", "only this method", {"enum": list(METHODS)}),
    param(
        "category",
        "only events where this category was allowed (or refused, with granted=false)",
        {"enum": list(CATEGORIES)},
    ),
    param(
        "granted",
        "with category: allowed (true, default) or refused",
        {"type": "boolean"},
    ),
]
PAGE = [
    param(
        "limit",
        "page size",
        {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
    ),
    param("cursor", "next_cursor of the previous page", {"type": "string"}),
    param(
        "format",
        "json pages, or a streamed csv/ndjson export",
        {"enum": ["json", "csv", "ndjson"], "default": "json"},
    ),
]

EXPORT_DESCRIPTION = (
    "format=csv or format=ndjson streams every event the filters match, in"
    " sequence order, then an end line: NDJSON"
    ' `{"end": {"rows": N, "hash": H}}`, CSV `#end rows=N hash=H`. N is the'
    " number of event rows before it and H the `hash` of the last one (64"
    " zeros for an empty export). An export without its end line was cut"
    " short and is incomplete. More keys may join `end` (each also a"
    " `key=value` on the CSV line); readers should ignore ones they do not"
    " know. In CSV, control characters (C0, DEL, C1, bidi controls) are"
    " shown as `\\xNN` / `\\uNNNN`, a backslash as `\\\\`, and a cell"
    " starting with `=`, `+`, `-` or `@` gets a leading `'`."
)

PATHS: Schema = {
    "/v1/audit/events": {
        "get": {
            "summary": "Filtered events, paged by cursor, or the whole export",
            "description": EXPORT_DESCRIPTION,
            "security": BEARER,
            "parameters": [*EVENT_FILTERS, *PAGE],
            "responses": {
                "200": {
                    "description": "a page (json) or the export (csv, ndjson),"
                    " ending with its end line",
                    "content": {
                        "application/json": {"schema": ref("EventPage")},
                        "text/csv": {"schema": {"type": "string"}},
                        "application/x-ndjson": {"schema": {"type": "string"}},
                    },
                },
                "400": error("bad parameter"),
                **AUTH_ERRORS,
            },
        }
    },
    "/v1/audit/consents/{consent_id}": {
        "get": {
            "summary": "The full history of one visitor's consent, oldest first",
            "security": BEARER,
            "parameters": [
                param("consent_id", "consent id", {"type": "string"}, "path")
            ],
            "responses": {
                "200": json_response(
                    ref("ConsentHistory"), "every event of this consent"
                ),
                "400": error("a query parameter, a NUL or a query that is not UTF-8"),
                "404": error("no such consent"),
                **AUTH_ERRORS,
            },
        }
    },
    "/v1/audit/verify": {
        "get": {
            "summary": "Check the log: its hash chain and its Merkle tree",
            "security": BEARER,
            "responses": {
                "200": json_response(ref("ChainReport"), "the report"),
                "400": error("a query parameter, or a query that is not UTF-8"),
                **AUTH_ERRORS,
            },
        }
    },
    "/v1/audit/stats": {
        "get": {
            "summary": "Opt-in rates per UTC day and site, by method and GPC",
            "security": BEARER,
            "description": "Tokens of scope audit or stats.",
            "parameters": [
                param("site", "only this site", {"type": "string"}),
                param("since", "first day (YYYY-MM-DD)", DATE),
                param("until", "day after the last (YYYY-MM-DD)", DATE),
            ],
            "responses": {
                "200": json_response(ref("Stats"), "one entry per day and site"),
                "400": error("bad parameter"),
                **AUTH_ERRORS,
            },
        }
    },
}

EVENT: Schema = {
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
        "texts_hash": HEX64,
        "origin": {"type": "string"},
        "path": {"type": "string", "description": "page path, never a query string"},
        "ip": {"type": "string", "description": "truncated: IPv4 /24, IPv6 /48"},
        "user_agent": {"type": "string"},
        "recorded_at": DATE_TIME,
        "prev_hash": HEX64,
        "continues": {
            "type": ["string", "null"],
            "description": "the event_id of the visitor's event this one"
            " continues; null for a first choice or a new visitor",
        },
        "hash": HEX64,
        "scan": {
            "type": "boolean",
            "description": "true for a choice the cookie scanner made (a scan"
            " event, kept out of statistics), not a visitor",
        },
        "config_hash": {
            "type": ["string", "null"],
            "pattern": "^[0-9a-f]{64}$",
            "description": "SHA-256 (hex) of the config document the visitor"
            " was shown, byte for byte as GET /v1/audit/sites/{site}/revisions/"
            "{config_revision} serves it; null on events recorded before"
            " consent-server recorded it",
        },
    },
    "additionalProperties": False,
}
EVENT["required"] = list(EVENT["properties"])
RATE = {"type": "number", "minimum": 0, "maximum": 1}
OPT_IN: Schema = {
    "type": "object",
    "properties": {k: RATE for k in OPTIONAL},
    "required": list(OPTIONAL),
}
RATES: Schema = {
    "type": "object",
    "properties": {"events": {"type": "integer"}, "opt_in": OPT_IN},
    "required": ["events", "opt_in"],
}
DAY: Schema = {
    "type": "object",
    "required": ["day", "site", "visitors", "events", "opt_in", "by_method", "by_gpc"],
    "properties": {
        "day": DATE,
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
}

SCHEMAS: Schema = {
    "Event": EVENT,
    "EventPage": {
        "type": "object",
        "required": ["events", "next_cursor"],
        "additionalProperties": False,
        "properties": {
            "events": {"type": "array", "items": ref("Event")},
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
            "events": {"type": "array", "items": ref("Event"), "minItems": 1},
        },
    },
    "ChainReport": {
        "type": "object",
        "required": [
            "ok",
            "events",
            "first_bad_seq",
            "tree_size",
            "root",
            "matches_checkpoint",
            "tree_problem",
            "documents_changed",
        ],
        "additionalProperties": False,
        "properties": {
            "ok": {"type": "boolean"},
            "events": {"type": "integer"},
            "first_bad_seq": {"type": ["integer", "null"]},
            "tree_size": {"type": "integer"},
            "root": {"type": "string", "description": "base64 root hash"},
            "matches_checkpoint": {
                "type": ["boolean", "null"],
                "description": "whether the tree rebuilt from the log holds the"
                " latest signed checkpoint's tree; null before the first",
            },
            "tree_problem": {
                "type": ["string", "null"],
                "description": "what broke in the Merkle tree, in words",
            },
            "documents_changed": {
                "type": "array",
                "items": {"type": "string"},
                "description": "published config documents that are no longer"
                " the ones events recorded being shown (their config_hash),"
                " in words; empty when all are",
            },
        },
    },
    "Stats": {
        "type": "object",
        "required": ["days"],
        "properties": {"days": {"type": "array", "items": DAY}},
    },
}
