"""The transparency log's part of the OpenAPI description: checkpoints,
proofs, receipts and published revisions."""

from __future__ import annotations

from .openapi_audit import AUTH_ERRORS
from .openapi_parts import Schema, error, json_response, param, ref

BASE64_HASH = {
    "type": "string",
    "pattern": "^[A-Za-z0-9+/]{43}=$",
    "description": "a SHA-256 hash in standard base64",
}
HASHES = {"type": "array", "items": BASE64_HASH}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
LOG_AUTH: Schema = {
    "401": error("the operator keeps the log to auditors (CONSENT_LOG_PUBLIC=false)"),
    "403": error("the token's scope is not audit"),
}
SIZES = [
    param(
        "from", "the older tree size", {"type": "integer", "minimum": 0}, required=True
    ),
    param(
        "to", "the newer tree size", {"type": "integer", "minimum": 0}, required=True
    ),
]
CONSISTENCY: Schema = {
    "parameters": SIZES,
    "responses": {
        "200": json_response(ref("ConsistencyProof"), "RFC 9162 section 2.1.4"),
        "400": error(
            "a size missing, not a whole number, from > to, or to past the tree"
        ),
    },
}


def paths(receipt_request: Schema) -> Schema:
    """The paths, given the receipt request's generated schema."""
    return {
        "/v1/log/checkpoint": {
            "get": {
                "summary": "The latest signed checkpoint",
                "description": "A C2SP tlog-checkpoint (origin, tree size, base64"
                " root hash) in a C2SP signed note, Ed25519. Check it with the"
                " log's verifier key; witnesses fetch it to follow the log.",
                "responses": {
                    "200": {
                        "description": "the signed note",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **LOG_AUTH,
                    "503": error("no checkpoint signed yet"),
                },
            }
        },
        "/v1/log/consistency": {
            "get": {
                "summary": "Proof that a larger tree extends a smaller one",
                **CONSISTENCY,
                "responses": {**CONSISTENCY["responses"], **LOG_AUTH},
            }
        },
        "/v1/log/cosignature": {
            "post": {
                "summary": "A witness's cosignature of one of the log's checkpoints",
                "description": "The body is the checkpoint's signed note with the"
                " witness's C2SP cosignature/v1 line added (what `consent-server"
                " witness --sign-key` sends). The log keeps the cosignatures of"
                " the witnesses its operator names (CONSENT_LOG_WITNESSES) and"
                " hands them out in receipts.",
                "requestBody": {
                    "required": True,
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                "responses": {
                    "201": json_response(
                        {
                            "type": "object",
                            "properties": {
                                "tree_size": {"type": "integer"},
                                "cosigned_by": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                },
                            },
                        },
                        "kept",
                    ),
                    "400": error(
                        "not a checkpoint this log signed, or no valid cosignature"
                        " by a witness it names"
                    ),
                    **LOG_AUTH,
                    "404": error("the log names no witnesses"),
                    "409": error("the log's tree does not have that checkpoint"),
                    "413": error("body over 16 KB"),
                    "429": error("rate limited"),
                },
            }
        },
        "/v1/consent/receipt": {
            "post": {
                "summary": "A visitor's receipt: their latest event, its inclusion"
                " proof and the signed checkpoint it is in",
                "description": "Checked offline with `consent-server verify-receipt"
                " FILE --key VERIFIER_KEY [--witness WITNESS_KEY]`. `event` is the"
                " event's log entry: its leaf hash is SHA-256(0x00 || canonical"
                " JSON of event). The checkpoint is the largest one a witness"
                " cosigned that holds the event, with the cosignatures, when there"
                " is one; else the newest.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": receipt_request}},
                },
                "responses": {
                    "200": json_response(ref("Receipt"), "the receipt"),
                    "202": {
                        **json_response(
                            ref("ReceiptPending"),
                            "no checkpoint covers the event yet: ask again after"
                            " Retry-After seconds",
                        ),
                        "headers": {
                            "Retry-After": {"schema": {"type": "integer"}},
                        },
                    },
                    "400": error("no token, or a token this service did not sign"),
                    "404": error("the log holds no event of this visitor (erased)"),
                    "413": error("body over 4 KB"),
                    "415": error("not application/json"),
                    "429": error("rate limited"),
                },
            },
            "options": {
                "summary": "CORS preflight",
                "responses": {
                    "204": {"description": "origin allowed"},
                    "403": error("origin not allowed"),
                },
            },
        },
        "/v1/audit/events/{event_id}/proof": {
            "get": {
                "summary": "An event's inclusion proof",
                "security": BEARER,
                "parameters": [
                    param("event_id", "event id", {"type": "string"}, "path"),
                    param(
                        "size",
                        "tree size (default: the latest checkpoint's, when it"
                        " holds the event, else the whole tree)",
                        {"type": "integer", "minimum": 1},
                    ),
                ],
                "responses": {
                    "200": json_response(ref("InclusionProof"), "RFC 9162 2.1.3"),
                    "400": error("a size the event is not in, or past the tree"),
                    "404": error("no such event"),
                    **AUTH_ERRORS,
                },
            }
        },
        "/v1/audit/consistency": {
            "get": {
                "summary": "Proof that a larger tree extends a smaller one",
                "security": BEARER,
                **CONSISTENCY,
                "responses": {**CONSISTENCY["responses"], **AUTH_ERRORS},
            }
        },
        "/v1/audit/sites/{site}/revisions/{revision}": {
            "get": {
                "summary": "A config document exactly as published",
                "description": "What a visitor was shown: an event's"
                " config_revision names it.",
                "security": BEARER,
                "parameters": [
                    param("site", "site id", {"type": "string"}, "path"),
                    param("revision", "config revision", {"type": "integer"}, "path"),
                ],
                "responses": {
                    "200": json_response({"type": "object"}, "the document"),
                    "400": error("a revision that is not a whole number"),
                    "404": error("no such site or revision"),
                    **AUTH_ERRORS,
                },
            }
        },
    }


SCHEMAS: Schema = {
    "ConsistencyProof": {
        "type": "object",
        "required": ["from", "to", "hashes"],
        "additionalProperties": False,
        "properties": {
            "from": {"type": "integer"},
            "to": {"type": "integer"},
            "hashes": HASHES,
        },
    },
    "InclusionProof": {
        "type": "object",
        "required": ["leaf_index", "tree_size", "hashes"],
        "additionalProperties": False,
        "properties": {
            "leaf_index": {"type": "integer", "minimum": 0},
            "tree_size": {"type": "integer", "minimum": 1},
            "hashes": HASHES,
        },
    },
    "Receipt": {
        "type": "object",
        "required": ["event", "leaf_index", "tree_size", "inclusion", "checkpoint"],
        "additionalProperties": False,
        "properties": {
            "event": {
                "type": "object",
                "required": ["v"],
                "properties": {"v": {"enum": [1, 2]}},
                "description": "the event's log entry: version 2 (with"
                " config_hash, the hash of the config document shown) for"
                " events recorded since it exists, version 1 before",
            },
            "leaf_index": {"type": "integer", "minimum": 0},
            "tree_size": {"type": "integer", "minimum": 1},
            "inclusion": HASHES,
            "checkpoint": {"type": "string", "description": "signed note"},
        },
    },
    "ReceiptPending": {
        "type": "object",
        "required": ["pending", "leaf_index"],
        "properties": {
            "pending": {"const": True},
            "leaf_index": {"type": "integer"},
        },
    },
}
