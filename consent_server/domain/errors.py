"""One family of errors for every rule of the product.

Each carries a stable ``code`` for programs and a ``message`` for people. The
subclass says what kind of problem it is; only the web floor turns that kind
into an HTTP status (:mod:`consent_server.web.errors`), and the command line
into one plain line.
"""

from __future__ import annotations


class ConsentError(Exception):
    """Base class: something asked of the product breaks one of its rules."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InvalidInput(ConsentError):
    """What was sent cannot be accepted as it is."""


class ConfigError(InvalidInput):
    """A site config document is invalid; ``field`` names where (``languages.de``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__("invalid_config", f"{field}: {message}")
        self.field = field
        self.message = message


class StaleRevision(ConsentError):
    """The visitor was shown a banner that is no longer current: reload it."""


class NotAllowed(ConsentError):
    """The caller may not do this (an origin a site does not list, say)."""


class UnknownSite(ConsentError, LookupError):
    """No published config exists for this site id (or that revision of it)."""

    def __init__(self, site: str) -> None:
        super().__init__("unknown_site", f"there is no site {site!r}")
        self.site = site
