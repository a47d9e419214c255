"""The audit API: prove what a visitor agreed to, export the log, check the chain.

Every request needs a bearer token (``consent-server create-token``): scope
``audit`` reads everything here, scope ``stats`` only ``/v1/audit/stats``.
Each request, allowed or not, is written to the ``audit_access`` table
(repeated refusals counted on one row), and each client may make
``RATELIMIT_AUDIT`` requests here in all, whatever the path.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy.engine import Connection, Engine

from ..domain.export import as_json, csv_lines, object_lines
from ..domain.privacy import truncate_ip
from ..domain.vocabulary import CATEGORIES, METHODS, OPTIONAL
from ..store import accounts, sites, stats, tree, tree_export
from ..store import events as event_store
from ..store.engine import get_db, get_engine
from ..store.verify import verify_log
from .errors import DATABASE_DOWN, ApiError, database_down
from .limits import limiter, setting

bp = Blueprint("audit", __name__, url_prefix="/v1/audit")
# One count per client over every audit path: checked before the token, so a
# client without one is held back too, and a flood is answered 429 cheaply.
limiter.shared_limit(lambda: setting("RATELIMIT_AUDIT"), scope="audit")(bp)

MAX_LIMIT = 1000
_Row = TypeVar("_Row")
EVENT_PARAMS = {
    "site",
    "consent_id",
    "since",
    "until",
    "method",
    "category",
    "granted",
    "limit",
    "cursor",
    "format",
}


@bp.before_request
def _authenticate() -> None:
    if "\x00" in request.path or any(
        "\x00" in k + v for k, v in request.args.items(multi=True)
    ):
        raise ApiError(400, "invalid_parameter", "the request contains a NUL character")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401, "unauthorized", "send the header Authorization: Bearer TOKEN"
        )
    found = accounts.find_token(get_db(), token.strip())
    if found is None:
        raise ApiError(401, "unauthorized", "the token is unknown or was revoked")
    g.audit_token = found
    allowed = (
        ("audit", "stats") if request.endpoint == "audit.daily_stats" else ("audit",)
    )
    if found.scope not in allowed:
        raise ApiError(
            403, "forbidden", f"a token with scope {found.scope!r} cannot read this"
        )


@bp.after_request
def _record_access(response: Response) -> Response:
    token: accounts.Token | None = g.get("audit_token")
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="consent-server audit"'
    if g.get("database_down"):
        return response  # nowhere to record it; the error log has it
    try:
        with _cheap_commit(get_db()):
            accounts.record_access(
                get_db(),
                token,
                method=request.method,
                path=_logged_path(),
                route=request.url_rule.rule if request.url_rule else request.path,
                status=response.status_code,
                ip=truncate_ip(request.remote_addr),
            )
    except DATABASE_DOWN as exc:
        # An answer that cannot be logged is not given: audit reads are
        # only ever handed out on the record.
        if response.status_code < 400:
            return database_down(exc)
        return response
    response.headers["Cache-Control"] = "no-store"
    return response


@contextlib.contextmanager
def _cheap_commit(conn: Connection) -> Iterator[None]:
    """Commit the access row without waiting for the disk, then wait again.

    The row is written to the database (SQLite's write-ahead log, or
    PostgreSQL's) before the answer goes out, so a killed or crashed server
    keeps it; only a power cut or an operating system crash in the moment
    before the log next reaches the disk (the next consent, every one of
    which waits for it, or a checkpoint) could lose it. Waiting for the disk
    on every audit read was most of its time: a history answered in about
    2 ms waited 5 to 15 ms more for the flush.
    """
    driver: Any = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        driver.execute("PRAGMA synchronous=NORMAL")
        try:
            yield
        finally:
            driver.execute("PRAGMA synchronous=FULL")
        return
    yield


def _logged_path() -> str:
    """The path and query as logged: raw bytes escaped (the store cuts it short)."""
    query = request.query_string.decode("utf-8", "backslashreplace")
    full = f"{request.path}?{query}" if query else request.path
    return full.replace("\x00", "\\0")


def _arg(name: str, parse: Callable[[str], Any]) -> Any:
    """A query parameter parsed, or None; a bad value is a 400 naming it."""
    value = request.args.get(name)
    if value is None or value == "":
        return None
    try:
        return parse(value)
    except (ValueError, OverflowError):
        raise ApiError(
            400, "invalid_parameter", f"{name}: {value!r} is not valid"
        ) from None


def _datetime(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    # Out-of-range in UTC (year 0 or 10000) raises OverflowError here.
    return parsed.astimezone(dt.UTC)


def _sequence(value: str) -> int:
    number = int(value)
    if not 0 <= number < 2**63:
        raise ValueError(value)
    return number


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in options:
            raise ValueError(value)
        return value

    return parse


def _boolean(value: str) -> bool:
    if value not in ("true", "false"):
        raise ValueError(value)
    return value == "true"


def _check_params(known: set[str]) -> None:
    unknown = set(request.args) - known
    if unknown:
        raise ApiError(
            400, "unknown_parameter", f"{sorted(unknown)[0]} is not a parameter here"
        )


def _filter() -> event_store.EventFilter:
    granted = _arg("granted", _boolean)
    if granted is not None and request.args.get("category") is None:
        raise ApiError(400, "invalid_parameter", "granted needs a category")
    return event_store.EventFilter(
        site=_arg("site", str),
        consent_id=_arg("consent_id", str),
        since=_arg("since", _datetime),
        until=_arg("until", _datetime),
        method=_arg("method", _choice(METHODS)),
        category=_arg("category", _choice(CATEGORIES)),
        granted=True if granted is None else granted,
    )


@bp.get("/events")
def events() -> Response:
    """Filtered events, a page at a time, or the whole filtered log as CSV/NDJSON."""
    _check_params(EVENT_PARAMS)
    where = _filter()
    fmt = _arg("format", _choice(("json", "csv", "ndjson"))) or "json"
    if fmt != "json":
        # Both end with a line stating the rows and the last hash; a cut
        # stream lacks it.
        if fmt == "csv":
            facts, start = tree_export.tree_facts()
            rows = _export(
                get_engine(),
                where,
                lambda conn, where: event_store.iter_csv_rows(conn, where, start),
            )
            lines, mimetype = csv_lines(rows, facts), "text/csv"
        else:
            records = _export(get_engine(), where, tree_export.records)
            lines, mimetype = object_lines(records), "application/x-ndjson"
        response = Response(lines, mimetype=mimetype)
        response.headers["Content-Disposition"] = (
            f"attachment; filename=consent-log.{fmt}"
        )
        return response
    limit = _arg("limit", int)
    limit = 100 if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, "invalid_parameter", f"limit must be 1 to {MAX_LIMIT}")
    after = _arg("cursor", _sequence) or 0
    page, cursor = event_store.page_events(get_db(), where, after=after, limit=limit)
    return jsonify(
        events=[as_json(r) for r in page],
        next_cursor=str(cursor) if cursor is not None else None,
    )


def _export(
    engine: Engine,
    where: event_store.EventFilter,
    read: Callable[[Connection, event_store.EventFilter], Iterator[_Row]],
) -> Iterator[_Row]:
    # Its own connection: the stream outlives the request's connection.
    with engine.connect() as conn:
        yield from read(conn, where)


@bp.get("/consents/<consent_id>")
def consent_history(consent_id: str) -> Response:
    """Every event of one visitor's consent, oldest first."""
    _check_params(set())
    rows = [as_json(r) for r in event_store.history(get_db(), consent_id)]
    if not rows:
        raise ApiError(404, "unknown_consent", f"no consent with id {consent_id!r}")
    current = rows[-1]
    return jsonify(
        id=consent_id,
        site=current["site"],
        current={k: current[k] for k in OPTIONAL},
        events=rows,
    )


@bp.get("/verify")
def verify() -> Response:
    """Walk the hash chain of the whole log."""
    _check_params(set())
    conn = get_db()
    with conn.begin():
        latest = tree.latest_checkpoint(conn)
    report, found = verify_log(conn, [latest.tree_size] if latest else [])
    with conn.begin():
        changed = sites.changed_documents(conn)
    matches = (
        None if latest is None else found.roots.get(latest.tree_size) == latest.root
    )
    return jsonify(
        ok=report.ok and found.ok and matches is not False and not changed,
        documents_changed=changed,
        events=report.events,
        first_bad_seq=report.first_bad_seq,
        tree_size=found.tree_size,
        root=tree.b64(found.root),
        matches_checkpoint=matches,
        tree_problem=found.problem,
    )


@bp.get("/stats")
def daily_stats() -> Response:
    """Opt-in rates per day and site, split by method and GPC."""
    _check_params({"site", "since", "until"})
    return jsonify(
        days=stats.daily(
            get_db(),
            site=_arg("site", str),
            since=_arg("since", dt.date.fromisoformat),
            until=_arg("until", dt.date.fromisoformat),
        )
    )
