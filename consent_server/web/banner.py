"""Building the banner script a storefront embeds: code, styles and config in one file.

The script's source is ``static/consent.js``; what is served is its minified
build ``static/consent.min.js`` (``npm run build``; a test checks that it is
up to date). The site's published config and the styles are written into it,
so a first visit costs one request. Of the site's languages, the script
carries the default and the visitor's best match. Built once per config
revision and language and kept in memory, plain, gzipped and in Brotli.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import brotli

from ..domain.site_config import PublishedConfig
from ..domain.vocabulary import NECESSARY, OPTIONAL

# The parts of a site config the browser needs; origins and the rest stay home.
# (The cookie's lifetime comes with each recorded choice.)
BROWSER_KEYS = (
    "site", "revision", "consent_revision", "default_language", "languages",
    "categories", "policy_url", "cookie_domain",
    "google_consent_mode", "gpc", "theme",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Built:
    """One served file, plain and in each encoding, with the plain body's
    entity tag (each encoding's tag is made from it)."""

    body: bytes
    gzipped: bytes
    brotli: bytes
    etag: str


def script_json(value: Any) -> str:
    """JSON that is safe inside a script: no ``</script>``, no line separators."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def compact_css(source: str) -> str:
    """Drop comments and needless whitespace from our own stylesheet."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    source = re.sub(r"\s+", " ", source)
    # Not before a colon: "#a :focus" (descendant) differs from "#a:focus".
    source = re.sub(r"\s*([{};,>])\s*", r"\1", source)
    return re.sub(r":\s+", ":", source).replace(";}", "}").strip()


def _built(text: str) -> Built:
    body = text.encode()
    digest = hashlib.sha256(body).hexdigest()[:32]
    # The slowest settings of both: compressed once per build, sent many times.
    return Built(
        body,
        gzip.compress(body, 9, mtime=0),
        brotli.compress(body, quality=11),
        digest,
    )


def build_script(
    static: Path, config: PublishedConfig, keys: list[str], languages: list[str]
) -> Built:
    """The banner script for one site, its config and styles built in.

    ``keys`` are the public keys (newest first) the script checks a consent
    cookie's public-key signature with, before anything runs. Only the texts
    of ``languages`` are carried; the script fetches another one of the
    site's languages when a page asks for it.
    """
    data = config.model_dump(mode="json")
    # A setting left unset is left out: the script reads it as not set.
    browser = {k: data[k] for k in BROWSER_KEYS if data[k] is not None}
    browser["languages"] = {k: data["languages"][k] for k in languages}
    if not config.gpc or "advertising" not in config.categories:
        # Shown only when the site honours Global Privacy Control.
        for texts in browser["languages"].values():
            del texts["gpc_honoured"]
    browser["language_codes"] = list(data["languages"])
    # Service names, hosts and purposes are for people on the config page; the
    # script needs only which cookies belong to which optional category (to
    # delete them when it is refused). Not named "services", which a fetched
    # config (after a 409) would overwrite with the whole list.
    cookies: dict[str, list[str]] = {}
    for service in config.services:
        if service.category in OPTIONAL:
            names = cookies.setdefault(service.category, [])
            names.extend(n for n in service.cookies if n not in names)
    browser["cookies"] = cookies
    # The category vocabulary, so that the script never restates it.
    browser["necessary"], browser["optional"] = NECESSARY, OPTIONAL
    browser["keys"] = keys
    code = (static / "consent.min.js").read_text()
    css = compact_css((static / "consent.css").read_text())
    # Plain replacement, not a template language: the script is JavaScript.
    # One pass, so a placeholder's name inside a text is never replaced.
    values = {"__CONFIG__": script_json(browser), "__CSS__": script_json(css)}
    text = re.sub("__CONFIG__|__CSS__", lambda m: values[m.group()], code, count=2)
    return _built(text)


def build_styles(static: Path) -> Built:
    """The banner styles alone, for sites whose CSP forbids injected styles."""
    return _built(compact_css((static / "consent.css").read_text()))
