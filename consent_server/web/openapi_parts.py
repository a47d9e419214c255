"""Small builders for the OpenAPI description, shared by its two parts."""

from __future__ import annotations

from typing import Any

from ..domain.vocabulary import OPTIONAL

Schema = dict[str, Any]


def ref(name: str) -> dict[str, str]:
    """A reference to one of the document's component schemas."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema: Schema, description: str) -> Schema:
    """A response with a JSON body."""
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


def json_body(schema: Schema) -> Schema:
    """A required JSON request body."""
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def error(description: str) -> Schema:
    """An error response: always ``{"error": {"code", "message"}}``."""
    return json_response(ref("Error"), description)


def param(
    name: str,
    description: str,
    schema: Schema,
    where: str = "query",
    required: bool = False,
) -> Schema:
    """A query or path parameter (path parameters are always required)."""
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "description": description,
        "schema": schema,
    }


ERROR: Schema = {
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
}
HEALTH: Schema = {
    "type": "object",
    "required": ["status", "database"],
    "properties": {
        "status": {"enum": ["ok", "error"]},
        "database": {"enum": ["ok", "unreachable"]},
    },
}
# The optional categories and whether each is allowed, as tokens and the log say.
BOOL_CHOICES: Schema = {
    "type": "object",
    "properties": {k: {"type": "boolean"} for k in OPTIONAL},
    "required": list(OPTIONAL),
    "additionalProperties": False,
}
