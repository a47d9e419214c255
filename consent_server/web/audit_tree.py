"""The audit API's proofs: an event's inclusion, the tree's consistency, and
the config document a visitor was shown.

These routes belong to the audit blueprint (:mod:`.audit`): the same bearer
token, access record and rate limit.
"""

from __future__ import annotations

from flask import Response, jsonify

from ..store import sites, tree
from ..store.engine import get_db
from .audit import _check_params, bp
from .errors import ApiError
from .transparency import consistency_answer, size_param


@bp.get("/events/<event_id>/proof")
def inclusion_proof(event_id: str) -> Response:
    """The inclusion proof of one event in the tree of ``size`` leaves (by
    default the latest checkpoint's tree, or the whole tree before that one
    covers the event)."""
    _check_params({"size"})
    conn = get_db()
    with conn.begin():
        leaf_index = tree.leaf_index_of(conn, event_id)
        if leaf_index is None:
            raise ApiError(404, "unknown_event", f"no event with id {event_id!r}")
        size = tree.tree_size(conn)
        latest = tree.latest_checkpoint(conn)
        default = (
            latest.tree_size
            if latest is not None and latest.tree_size > leaf_index
            else size
        )
        wanted = size_param("size", default=default)
        if not leaf_index < wanted <= size:
            raise ApiError(
                400,
                "invalid_parameter",
                f"size must be more than the event's leaf index ({leaf_index})"
                f" and at most the tree's size ({size})",
            )
        hashes = tree.inclusion(conn, leaf_index, wanted)
    return jsonify(
        leaf_index=leaf_index,
        tree_size=wanted,
        hashes=[tree.b64(h) for h in hashes],
    )


@bp.get("/consistency")
def audit_consistency() -> Response:
    """A consistency proof between two tree sizes."""
    _check_params({"from", "to"})
    return consistency_answer()


@bp.get("/sites/<site>/revisions/<revision>")
def site_revision(site: str, revision: str) -> Response:
    """The config document of one revision, byte for byte as it was published."""
    _check_params(set())
    if not revision.isascii() or not revision.isdigit() or len(revision) > 9:
        raise ApiError(400, "invalid_parameter", "the revision is a whole number")
    document = sites.revision_document(get_db(), site, int(revision))
    if document is None:
        raise ApiError(
            404, "unknown_revision", f"site {site!r} has no revision {revision}"
        )
    return Response(document, mimetype="application/json")
