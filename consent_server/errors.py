"""The one JSON error shape of the HTTP API: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from flask import Response, jsonify


class ApiError(Exception):
    """An error answered as JSON with a fitting status and a stable code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str) -> Response:
    """Build the JSON error response."""
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    return response
