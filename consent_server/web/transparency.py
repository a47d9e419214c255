"""The transparency log on the web: checkpoints, consistency proofs and receipts.

- ``GET /v1/log/checkpoint``: the latest signed checkpoint, for witnesses.
- ``GET /v1/log/consistency?from=M&to=N``: the proof that the tree of ``N``
  leaves extends that of ``M``.
- ``POST /v1/log/cosignature``: a witness hands the log its cosignature of
  a checkpoint (:mod:`..domain.cosignature`); the log keeps those of the
  witnesses its operator names (``CONSENT_LOG_WITNESSES``).
- ``POST /v1/consent/receipt``: a visitor's receipt (:mod:`..domain.receipt`),
  in the largest cosigned checkpoint that holds the event, with the
  cosignatures, when a witness cosigned one.

Both ``/v1/log/`` paths are public unless ``CONSENT_LOG_PUBLIC`` is false;
then they need a bearer token of scope ``audit``, like the audit API.

Checkpoints are signed by whichever process is recording (at most one each
:data:`CHECKPOINT_INTERVAL` seconds, after a batch of appends is committed,
and not when another process signed one within that time),
and on demand when someone asks for one while the newest does not cover the
tree: so there is a new checkpoint within a second or two of any event.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import Connection

from .. import log_key
from ..domain.cosignature import Witness, cosigned_by, with_cosignatures
from ..domain.entry import entry_object
from ..domain.fields import input_error
from ..domain.note import Checkpoint, NoteError, Signer, open_note
from ..domain.receipt import build
from ..store import accounts, cosignatures, tree
from ..store.engine import get_db
from ..tokens import verify_token
from .body import json_body
from .errors import ApiError
from .limits import limiter, setting

bp = Blueprint("transparency", __name__)


class Checkpointer:
    """Signs this process's checkpoints, at most one per ``interval`` seconds."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._last = -math.inf

    def due(self) -> bool:
        """Whether this process may sign again now."""
        return time.monotonic() - self._last >= self.interval

    def sign(self, app: Flask, *, unless_signed_lately: bool = False) -> None:
        """Sign a checkpoint of the tree now, unless one was signed here in
        the last ``interval`` seconds or another thread is signing.

        With ``unless_signed_lately``, not if another process signed one in
        the last ``interval`` seconds either (with the log's key of now):
        each of a server's processes would sign one a second, each a write
        of the log's head and two roots of the tree, where one will do.
        """
        if not self.due() or not self._lock.acquire(blocking=False):
            return
        try:
            if not self.due():
                return
            self._last = time.monotonic()
            engine = app.extensions["consent_db"]
            signer = app.extensions["consent_log_signer"]
            with engine.connect() as conn:
                if unless_signed_lately and self._signed_lately(conn, signer):
                    return
                tree.sign_checkpoint(conn, signer)
        except tree.TreeMismatch as exc:
            app.logger.error("%s", exc)
        except Exception as exc:  # noqa: BLE001
            # The consent is committed already: its answer must not become an
            # error because a checkpoint could not be signed now. The next
            # one signs the tree with this event in it.
            app.logger.error("could not sign a checkpoint: %s", exc)
        finally:
            self._lock.release()

    def _signed_lately(self, conn: Connection, signer: Signer) -> bool:
        with conn.begin():
            latest = tree.latest_checkpoint(conn)
        if latest is None:
            return False
        age = dt.datetime.now(dt.UTC) - latest.signed_at
        return age.total_seconds() < self.interval and tree.signed_by(latest, signer)


def checkpointer(app: Flask | None = None) -> Checkpointer:
    """The app's :class:`Checkpointer` in this process."""
    app = app or current_app
    found: Checkpointer | None = app.extensions.get("consent_checkpointer")
    if found is None:
        found = app.extensions.setdefault(
            "consent_checkpointer", Checkpointer(app.config["CHECKPOINT_INTERVAL"])
        )
    return found


def after_append() -> None:
    """Called once a recorded consent is committed: sign if one is due."""
    worker = checkpointer()
    if worker.due():
        worker.sign(current_app, unless_signed_lately=True)


def current_checkpoint(conn: Any) -> tree.StoredCheckpoint | None:
    """The newest checkpoint, signing a new one first when the tree has
    grown past it or the log's key changed since (and this process may sign
    now)."""
    with conn.begin():
        latest = tree.latest_checkpoint(conn)
        size = tree.tree_size(conn)
    signer = current_app.extensions["consent_log_signer"]
    if latest is None or latest.tree_size < size or not tree.signed_by(latest, signer):
        checkpointer().sign(current_app)
        with conn.begin():
            latest = tree.latest_checkpoint(conn)
    return latest


def _require_log_access() -> None:
    if current_app.config["LOG_PUBLIC"]:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    found = (
        accounts.find_token(get_db(), token.strip())
        if scheme.lower() == "bearer" and token.strip()
        else None
    )
    if found is None:
        raise ApiError(
            401,
            "unauthorized",
            "this log is not public: send Authorization: Bearer TOKEN",
        )
    if found.scope != "audit":
        raise ApiError(
            403, "forbidden", f"a token with scope {found.scope!r} cannot read this"
        )


def size_param(name: str, *, default: int | None = None) -> int:
    """A tree size from the query string: a whole number."""
    raw = request.args.get(name)
    if raw is None:
        if default is None:
            raise ApiError(400, "invalid_parameter", f"{name} is required")
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ApiError(400, "invalid_parameter", f"{name} must be a whole number")
    return int(raw)


def consistency_answer() -> Response:
    """``{"from", "to", "hashes"}`` for the query's two sizes."""
    conn = get_db()
    with conn.begin():
        size = tree.tree_size(conn)
        old, new = size_param("from"), size_param("to")
        if old > new:
            raise ApiError(400, "invalid_parameter", "from must not be larger than to")
        if new > size:
            raise ApiError(
                400, "invalid_parameter", f"to is larger than the tree ({size} leaves)"
            )
        hashes = tree.consistency(conn, old, new) if old else []
    return jsonify({"from": old, "to": new, "hashes": [tree.b64(h) for h in hashes]})


@bp.get("/v1/log/checkpoint")
def checkpoint() -> Response:
    """The latest signed checkpoint, as a signed note."""
    _require_log_access()
    latest = current_checkpoint(get_db())
    if latest is None:
        raise ApiError(503, "no_checkpoint", "the log has signed no checkpoint yet")
    response = Response(latest.note, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/v1/log/consistency")
def log_consistency() -> Response:
    """A consistency proof between two tree sizes."""
    _require_log_access()
    return consistency_answer()


# The most a cosigned checkpoint may weigh: a few signature lines.
MAX_COSIGNED = 16 * 1024


@bp.post("/v1/log/cosignature")
@limiter.limit(lambda: setting("RATELIMIT_VERIFY"))
def cosignature() -> tuple[Response, int]:
    """Keep a witness's cosignature of one of this log's checkpoints: the
    body is the checkpoint's note with the witness's signature line added."""
    _require_log_access()
    witnesses = [Witness.from_key(k) for k in current_app.config["LOG_WITNESSES"]]
    if not witnesses:
        raise ApiError(
            404,
            "no_witnesses",
            "this log keeps the cosignatures of the witnesses its operator names"
            " (CONSENT_LOG_WITNESSES), and names none",
        )
    body = request.get_data(cache=False)
    if len(body) > MAX_COSIGNED:
        raise ApiError(
            413, "too_large", f"a cosigned checkpoint is {MAX_COSIGNED} bytes at most"
        )
    verifier = log_key.signer().verifier
    try:
        opened = open_note(body, [verifier])
        checkpoint = Checkpoint.parse(opened.text)
    except NoteError as exc:
        raise ApiError(
            400, "invalid_note", f"not a checkpoint this log signed: {exc.message}"
        ) from None
    if checkpoint.origin != verifier.name:
        raise ApiError(400, "invalid_note", "a checkpoint of another log")
    if checkpoint.size == 0:
        raise ApiError(400, "invalid_note", "an empty tree proves nothing")
    # A time past this clock's (give or take its slack) is no witness's now.
    latest = time.time() + cosignatures.CLOCK_SLACK.total_seconds()
    found = {
        k: (when, line)
        for k, (when, line) in cosigned_by(opened, witnesses).items()
        if when <= latest
    }
    if not found:
        raise ApiError(
            400,
            "no_cosignature",
            "the note holds no valid cosignature of now by a witness this log names",
        )
    conn = get_db()
    with conn.begin():
        size = tree.tree_size(conn)
        if (
            checkpoint.size > size
            or tree.root(conn, checkpoint.size) != checkpoint.root
        ):
            # Signed by this log's key, yet not its tree: the key signed
            # another history. The witness has the evidence; say so.
            current_app.logger.error(
                "a witness cosigned a checkpoint of %d leaves this log's tree"
                " does not have",
                checkpoint.size,
            )
            raise ApiError(
                409,
                "not_this_tree",
                "this log's tree does not have that checkpoint's root",
            )
        for witness in witnesses:
            if witness.id in found:
                when, line = found[witness.id]
                cosignatures.keep(conn, checkpoint.size, witness, when, line)
    named = sorted({w.name for w in witnesses if w.id in found})
    answer = jsonify(tree_size=checkpoint.size, cosigned_by=named)
    answer.headers["Cache-Control"] = "no-store"
    return answer, 201


def receipt_checkpoint(conn: Any, leaf_index: int) -> tuple[int, str] | None:
    """The tree size and note a receipt of ``leaf_index`` is given in: the
    largest checkpoint that a witness cosigned and that holds the leaf, with
    the cosignatures, else the newest checkpoint (None if it lacks the leaf)."""
    named = [Witness.from_key(k).id for k in current_app.config["LOG_WITNESSES"]]
    with conn.begin():
        size = cosignatures.largest_covering(conn, leaf_index, named)
        signed = tree.checkpoint_at(conn, size) if size is not None else None
        # Under the log's key of now only: after a change of key, receipts
        # are checked with the new one.
        if signed is not None and tree.signed_by(signed, log_key.signer()):
            lines = [
                c.line for c in cosignatures.of_size(conn, signed.tree_size, named)
            ]
            return signed.tree_size, with_cosignatures(signed.note, lines)
    covering = current_checkpoint(conn)
    if covering is None or covering.tree_size <= leaf_index:
        return None
    return covering.tree_size, covering.note


class ReceiptRequest(BaseModel):
    """The body of ``POST /v1/consent/receipt``; other keys are ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    token: Any = Field(description="the visitor's consent token (cookie value)")

    @model_validator(mode="before")
    @classmethod
    def _has_token(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "token" not in data:
            raise PydanticCustomError("invalid_body", 'send {"token": "..."}')
        return data


@bp.post("/v1/consent/receipt")
@limiter.limit(lambda: setting("RATELIMIT_VERIFY"))
def consent_receipt() -> Response | tuple[Response, int]:
    """The visitor's latest event, its inclusion proof and its checkpoint."""
    try:
        body = ReceiptRequest.model_validate(json_body())
    except ValidationError as exc:
        raise input_error(exc) from None
    found = verify_token(body.token, current_app.config["CONSENT_KEYS"])
    # An expired or superseded token still names its visitor: the receipt
    # is of their latest event, whatever it is.
    if found.id is None:
        raise ApiError(400, "invalid_token", f"the token is not ours ({found.reason})")
    conn = get_db()
    with conn.begin():
        latest = tree.latest_of(conn, found.id)
    if latest is None or latest.get("leaf_index") is None:
        raise ApiError(404, "no_event", "the log holds no event of this visitor")
    if latest["leaf_index"] < 0:
        raise ApiError(
            409, "not_in_tree", "the visitor's latest event is not in the log's tree"
        )
    covering = receipt_checkpoint(conn, latest["leaf_index"])
    if covering is None:
        interval = current_app.config["CHECKPOINT_INTERVAL"]
        response = jsonify(pending=True, leaf_index=latest["leaf_index"])
        response.headers["Retry-After"] = str(max(1, math.ceil(interval)))
        response.headers["Cache-Control"] = "no-store"
        return response, 202
    with conn.begin():
        try:
            proof = tree.inclusion(conn, latest["leaf_index"], covering[0])
        except (KeyError, ValueError):
            raise ApiError(
                409,
                "not_in_tree",
                "the log's tree cannot prove this event: run consent-server verify-log",
            ) from None
    response = jsonify(
        build(
            entry_object(latest),
            latest["leaf_index"],
            covering[0],
            proof,
            covering[1],
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask, require_key: bool = True) -> None:
    """Load the log signing key (see :func:`.log_key.configure`)."""
    log_key.configure(app, required=require_key)
