"""The banner files a storefront loads: ``consent.js`` with its config built in,
and ``consent.css`` for pages whose CSP forbids injected styles."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState
from werkzeug.http import quote_etag
from werkzeug.utils import get_content_type

from ..domain.errors import UnknownSite
from ..domain.site_config import PublishedConfig
from ..store import sites
from ..store.engine import get_db
from ..tokens import public_keys
from . import banner, replay, sessions
from .errors import ApiError

bp = Blueprint("files", __name__)


@bp.record_once
def _init_app(state: BlueprintSetupState) -> None:
    # Registered after the config page set up its sessions (web/sessions.py);
    # the replay of public answers (web/replay.py) goes in front of the app.
    app = cast(Flask, state.app)
    sessions.init_app(app)
    replay.init_app(app)


# Built files kept per process; more sites than this and the cache starts over.
MAX_CACHED = 1000
# Short enough that a published change reaches visitors within minutes; the
# ETag makes the revalidation after that a small 304.
FILE_MAX_AGE = 300
# The encodings we send, best first, and how each one's ETag is marked.
ENCODINGS = (("br", "-br"), ("gzip", "-gz"), ("identity", ""))


@dataclasses.dataclass(frozen=True)
class Answer:
    """One public answer (a file in one encoding, a JSON body), with every
    header of its 200 and of its 304 worked out once, not per request."""

    body: bytes
    etag: str  # quoted, as sent and as If-None-Match repeats it
    headers: tuple[tuple[str, str], ...]
    not_modified: tuple[tuple[str, str], ...]


def make_answer(
    body: bytes,
    etag: str,
    mimetype: str,
    max_age: int,
    extra: tuple[tuple[str, str], ...] = (),
) -> Answer:
    """The :class:`Answer` of ``body``, public for ``max_age`` seconds."""
    quoted = quote_etag(etag)
    # What a 304 repeats of the 200 (RFC 9110 15.4.5): no body's headers.
    shared = (
        ("ETag", quoted),
        ("Cache-Control", f"public, max-age={max_age}"),
        *extra,
    )
    content_type = get_content_type(mimetype, "utf-8")
    return Answer(body, quoted, (("Content-Type", content_type), *shared), shared)


def _file_answers(built: banner.Built, mimetype: str, vary: str) -> dict[str, Answer]:
    """A built file's answers, one per encoding."""
    bodies = {"br": built.brotli, "gzip": built.gzipped, "identity": built.body}
    answers = {}
    for encoding, mark in ENCODINGS:
        extra: tuple[tuple[str, str], ...] = (
            ("Vary", vary),
            ("Cross-Origin-Resource-Policy", "cross-origin"),
            ("X-Content-Type-Options", "nosniff"),
        )
        if encoding != "identity":
            extra = (("Content-Encoding", encoding), *extra)
        answers[encoding] = make_answer(
            bodies[encoding], built.etag + mark, mimetype, FILE_MAX_AGE, extra
        )
    return answers


# Raw Accept-Encoding headers seen and the encoding each one gets; browsers
# send one of a handful, so this is a lookup instead of a parse per request.
_encodings: dict[str | None, str] = {}


def _encoding() -> str:
    """The encoding this request gets: Brotli where the client takes it,
    else gzip, else none (``q=0`` refuses one)."""
    header = request.environ.get("HTTP_ACCEPT_ENCODING")
    found = _encodings.get(header)
    if found is None:
        accepted = request.accept_encodings
        found = next(
            (name for name, _ in ENCODINGS[:-1] if accepted[name] > 0), "identity"
        )
        if len(_encodings) >= MAX_CACHED:
            _encodings.clear()
        _encodings[header] = found
    return found


def respond(answer: Answer) -> Response:
    """Send ``answer``: a 304 when If-None-Match names it, else the 200.

    A request with any other condition (If-Modified-Since, a Range) takes
    werkzeug's ``make_conditional``, which is what every answer took before.
    """
    environ = request.environ
    if not any(name in environ for name in replay.OTHER_CONDITIONS):
        match = environ.get("HTTP_IF_NONE_MATCH")
        if match is None:
            headers = [*answer.headers, ("Date", replay.date_now())]
            return Response(answer.body, headers=headers)
        if match == answer.etag:
            headers = [*answer.not_modified, ("Date", replay.date_now())]
            return Response(status=304, headers=headers)
    response = Response(answer.body, headers=list(answer.headers))
    response.make_conditional(request)
    return response


def published(site: str) -> PublishedConfig:
    """The site's published config from this process's cache, which asks the
    database at most about once a second per site (see
    :class:`~consent_server.store.sites.ConfigCache`); a request served from
    the cache checks out no database connection.

    :raise UnknownSite: if the site was never published.
    """
    cache: sites.ConfigCache | None = current_app.extensions.get("consent_configs")
    if cache is None:
        cache = current_app.extensions.setdefault(
            "consent_configs", sites.ConfigCache()
        )
    return cache.get(get_db, site)


def public_json(value: Any, max_age: int) -> Response:
    """JSON anyone may cache for ``max_age`` seconds, revalidated by ETag."""
    body = jsonify(value).get_data()
    etag = hashlib.sha256(body).hexdigest()[:32]
    return respond(make_answer(body, etag, "application/json", max_age))


def cached_json(
    key: tuple[Any, ...], build: Callable[[], Any], max_age: int
) -> Response:
    """:func:`public_json` of ``build()``, encoded once per ``key`` in this
    process (a key must name everything the value depends on)."""
    cache = current_app.extensions.setdefault("consent_json", {})
    found: Answer | None = cache.get(key)
    if found is None:
        body = jsonify(build()).get_data()
        etag = hashlib.sha256(body).hexdigest()[:32]
        found = make_answer(body, etag, "application/json", max_age)
        if len(cache) >= MAX_CACHED:
            cache.clear()
        cache[key] = found
    return respond(found)


def _static() -> Path:
    return Path(current_app.static_folder or "static")


# (Accept-Language, the site's languages, its default) seen, and the
# languages the script carries for them: a lookup instead of a parse.
_languages_for: dict[tuple[str | None, tuple[str, ...], str], list[str]] = {}


def _languages(config: PublishedConfig) -> list[str]:
    """The site's default language, and the best match for Accept-Language."""
    default = config.default_language
    header = request.environ.get("HTTP_ACCEPT_LANGUAGE")
    key = (header, tuple(config.languages), default)
    found = _languages_for.get(key)
    if found is None:
        wanted = request.accept_languages.best_match(list(config.languages))
        found = [default] if wanted is None or wanted == default else [default, wanted]
        if len(_languages_for) >= MAX_CACHED:
            _languages_for.clear()
        _languages_for[key] = found
    return found


@bp.get("/s/<site>/consent.js")
def banner_script(site: str) -> Response:
    """The banner: code, styles and the site's published config in one response."""
    try:
        config = published(site)
    except UnknownSite:
        return Response(f"/* consent-server: no site {site!r} */\n", 404,
                        mimetype="text/javascript")  # fmt: skip
    languages = _languages(config)
    cache = current_app.extensions.setdefault("consent_banner", {})
    key = (site, config.revision, config.consent_revision, *languages)
    answers = cache.get(key)
    if answers is None:
        if len(cache) > MAX_CACHED:
            cache.clear()
        keys = public_keys(current_app.config["CONSENT_KEYS"])
        built = banner.build_script(_static(), config, keys, languages)
        vary = "Accept-Encoding, Accept-Language"
        answers = cache[key] = _file_answers(built, "text/javascript", vary)
    replay.replayable(site, config)
    return respond(answers[_encoding()])


@bp.get("/s/<site>/texts/<lang>.json")
def banner_texts(site: str, lang: str) -> Response:
    """One language's banner texts, for a page in a language the script lacks.

    ``?revision=N`` gives that config revision's texts, so a cached script
    shows (and the log records) the texts of the revision it was built from.
    """
    revision = None
    if "revision" in request.args:
        revision = request.args.get("revision", type=int)
        if revision is None or revision < 1:
            raise ApiError(400, "bad_revision", "revision must be a whole number")
    config = sites.current_config(get_db(), site, revision)
    if lang not in config.languages:
        message = f"site {site!r} has no language {lang!r}"
        raise ApiError(404, "unknown_language", message)
    # A given revision never changes: it may be kept for a day.
    texts = config.languages[lang].model_dump(mode="json")
    return public_json(texts, 300 if revision is None else 86400)


@bp.get("/s/<site>/consent.css")
def banner_styles(site: str) -> Response:
    """The banner's styles alone, for pages whose CSP forbids injected styles."""
    cache = current_app.extensions.setdefault("consent_banner", {})
    answers = cache.get("css")
    if answers is None:
        built = banner.build_styles(_static())
        answers = cache["css"] = _file_answers(built, "text/css", "Accept-Encoding")
    replay.replayable(None, None)
    return respond(answers[_encoding()])
