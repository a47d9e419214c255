"""The words and limits of the product, each written once.

Categories, methods and lifetimes are named here and nowhere else: the config
checks, the log, the token, the audit filters, the API description and the
banner script (which gets them inside its built-in config) all read them here.
"""

from __future__ import annotations

from typing import Literal, get_args

# Strictly necessary: always on, shown locked so the visitor knows.
NecessaryCategory = Literal["authentication", "security"]
# Opt-in: never pre-ticked, each may be hidden by a site that does not use it.
OptionalCategory = Literal["preferences", "analytics", "advertising"]
Category = Literal[NecessaryCategory, OptionalCategory]
NECESSARY: tuple[NecessaryCategory, ...] = get_args(NecessaryCategory)
OPTIONAL: tuple[OptionalCategory, ...] = get_args(OptionalCategory)
CATEGORIES: tuple[Category, ...] = NECESSARY + OPTIONAL

# How a choice was made on the banner.
Method = Literal["accept_all", "reject_all", "custom", "withdraw"]
METHODS: tuple[Method, ...] = get_args(Method)

# Cookie lifetimes in days. No consent (and no token) outlives MAX_DAYS: about
# 13 months, the longest that European regulators accept.
MAX_DAYS = 395
DEFAULT_COOKIE_DAYS = 180
MAX_AGE_SECONDS = MAX_DAYS * 86400

# Sizes of what a visitor's browser may send.
MAX_BODY = 4096
MAX_TOKEN = 1024
MAX_URL = 2048
MAX_LANGUAGE = 35
MAX_ORIGIN = 255
MAX_USER_AGENT = 512
MAX_SITE_ID = 63

# People on the config page and machines on the audit API.
ROLES = ("admin", "editor", "auditor")
SCOPES = ("audit", "stats", "scan")

# How long the token of a choice the cookie scanner made (a POST with a
# bearer token of scope scan) lasts: long enough for the scan to load the
# page again with the choice in place, too short to pass for a visitor's.
SCAN_TOKEN_MINUTES = 10
