"""What a shop copies from the config page: the embed markup and the cookie table.

Both are built from a site's published config, so that what the shop pastes
names the same categories and services the banner asks about. Every value
from the config is HTML-escaped in what is built here: a service's name is
text the editor typed, and the snippet is pasted into a shop's page as is.
"""

from __future__ import annotations

import dataclasses
from html import escape

from .languages import Texts
from .site_config import Service, SiteConfig
from .texts import DEFAULT_TEXTS
from .vocabulary import NECESSARY, Category

# Where a well-known service's tag is loaded from, by the host it calls: the
# example then shows its real address, with the shop's own id left to fill in.
# An iframe's service is gated by moving ``data-src`` over, a script's by its type.
KNOWN_TAGS: dict[str, tuple[str, str]] = {
    "www.googletagmanager.com": (
        "script",
        "https://www.googletagmanager.com/gtag/js?id=YOUR-ID",
    ),
    "connect.facebook.net": (
        "script",
        "https://connect.facebook.net/en_US/fbevents.js",
    ),
    "static.hotjar.com": ("script", "https://static.hotjar.com/c/hotjar-YOUR-ID.js"),
    "www.youtube.com": ("iframe", "https://www.youtube.com/embed/VIDEO-ID"),
    "www.youtube-nocookie.com": (
        "iframe",
        "https://www.youtube-nocookie.com/embed/VIDEO-ID",
    ),
    "player.vimeo.com": ("iframe", "https://player.vimeo.com/video/VIDEO-ID"),
}
PLACEHOLDER_SRC = "https://PASTE-THE-ADDRESS-OF-THE-TAG-HERE"

# The cookie table's own words, in the languages we ship texts for; any other
# language gets the English ones (the editor can translate the pasted table).
TABLE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "service": "Service",
        "category": "Category",
        "cookies": "Cookies",
        "purpose": "Purpose",
        "none": "none",
        "prefix": "any name starting with {prefix}",
        "wildcard": "* stands for any characters",
    },
    "de": {
        "service": "Dienst",
        "category": "Kategorie",
        "cookies": "Cookies",
        "purpose": "Zweck",
        "none": "keine",
        "prefix": "jeder Name, der mit {prefix} beginnt",
        "wildcard": "* steht für beliebige Zeichen",
    },
    "fr": {
        "service": "Service",
        "category": "Catégorie",
        "cookies": "Cookies",
        "purpose": "Finalité",
        "none": "aucun",
        "prefix": "tout nom commençant par {prefix}",
        "wildcard": "* remplace n’importe quels caractères",
    },
    "es": {
        "service": "Servicio",
        "category": "Categoría",
        "cookies": "Cookies",
        "purpose": "Finalidad",
        "none": "ninguna",
        "prefix": "cualquier nombre que empiece por {prefix}",
        "wildcard": "* sustituye a cualquier carácter",
    },
    "it": {
        "service": "Servizio",
        "category": "Categoria",
        "cookies": "Cookie",
        "purpose": "Finalità",
        "none": "nessuno",
        "prefix": "qualsiasi nome che inizia con {prefix}",
        "wildcard": "* sta per qualsiasi carattere",
    },
}


def table_words(language: str) -> dict[str, str]:
    """The cookie table's headings and notes in ``language`` (else in English)."""
    return TABLE_WORDS.get(language) or TABLE_WORDS.get(
        language.split("-")[0], TABLE_WORDS["en"]
    )


@dataclasses.dataclass(frozen=True)
class Example:
    """One service's gated markup: what the shop puts in place of its tag."""

    service: str
    category: Category
    necessary: bool
    markup: str


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the cookie table, in one language."""

    service: str
    category: Category
    category_label: str
    necessary: bool
    cookies: tuple[str, ...]
    purpose: str
    hosts: tuple[str, ...]


def script_tag(script_url: str) -> str:
    """The one tag that loads the banner, to put first in the shop's ``<head>``."""
    return f'<script src="{escape(script_url)}"></script>'


def settings_link(texts: Texts) -> str:
    """A link that opens the banner's preferences again, in the texts' language."""
    return f'<a href="#" data-consent-open>{escape(texts.settings)}</a>'


def gated_markup(service: Service) -> str:
    """How ``service``'s tag is pasted so that it waits for consent.

    A strictly necessary service runs without asking: its tag stays as it is.
    """
    name = escape(service.name)
    category = escape(service.category)
    if service.category in NECESSARY:
        return (
            f"<!-- {name}: strictly necessary, runs without asking:"
            " leave its tag as it is -->"
        )
    known = next((KNOWN_TAGS[h] for h in service.hosts if h in KNOWN_TAGS), None)
    if known is not None and known[0] == "iframe":
        return (
            f"<!-- {name}: loads only once the visitor allows {category} -->\n"
            f'<iframe data-consent="{category}" data-src="{escape(known[1])}"'
            ' title="VIDEO-TITLE"></iframe>'
        )
    src = escape(known[1]) if known is not None else PLACEHOLDER_SRC
    return (
        f"<!-- {name}: runs only once the visitor allows {category} -->\n"
        f'<script type="text/plain" data-consent="{category}"\n'
        f'        src="{src}"></script>\n'
        f'<script type="text/plain" data-consent="{category}">\n'
        "  /* the tag's own code, if it has any, goes here */\n"
        "</script>"
    )


def examples(config: SiteConfig) -> list[Example]:
    """Every service's gated markup, in the config's order."""
    return [
        Example(s.name, s.category, s.category in NECESSARY, gated_markup(s))
        for s in config.services
    ]


def texts_for(config: SiteConfig, language: str) -> Texts:
    """The site's texts in ``language``, or in its default language."""
    return config.languages.get(language) or config.languages[config.default_language]


def _category_texts(texts: Texts, language: str, category: Category) -> tuple[str, str]:
    # A service may belong to a category the banner hides; its words then come
    # from the shipped texts of the language (or English).
    given = texts.categories.get(category)
    if given is not None:
        return given.label, given.description
    shipped = DEFAULT_TEXTS.get(language) or DEFAULT_TEXTS["en"]
    words: dict[str, str] = shipped["categories"][category]  # type: ignore[index]
    return words["label"], words["description"]


def declaration(config: SiteConfig, language: str) -> list[Row]:
    """The cookie table: every service, its category, cookies and purpose.

    The purpose is the service's own when it has one, else the description of
    its category that the banner shows in ``language``.
    """
    if language not in config.languages:
        language = config.default_language
    texts = config.languages[language]
    rows = []
    for service in config.services:
        label, description = _category_texts(texts, language, service.category)
        rows.append(
            Row(
                service=service.name,
                category=service.category,
                category_label=label,
                necessary=service.category in NECESSARY,
                cookies=tuple(service.cookies),
                purpose=service.purpose or description,
                hosts=tuple(service.hosts),
            )
        )
    return rows


def cookie_text(name: str, language: str) -> str:
    """A cookie name as a reader of the privacy policy understands it.

    ``_ga_*`` reads "_ga_* (any name starting with _ga_)"; a ``*`` elsewhere
    gets the general note.
    """
    if "*" not in name:
        return name
    words = table_words(language)
    if name.endswith("*") and name.count("*") == 1 and len(name) > 1:
        return f"{name} ({words['prefix'].format(prefix=name[:-1])})"
    return f"{name} ({words['wildcard']})"


def _cookies(row: Row, language: str) -> list[str]:
    return [cookie_text(c, language) for c in row.cookies]


def _category_cell(row: Row, texts: Texts) -> str:
    if row.necessary:
        return f"{row.category_label} ({texts.always_on})"
    return row.category_label


def table_html(rows: list[Row], texts: Texts, language: str) -> str:
    """The cookie table as plain HTML, every value escaped, to paste into a policy."""
    words = table_words(language)
    head = "".join(
        f'<th scope="col">{escape(words[k])}</th>'
        for k in ("service", "category", "cookies", "purpose")
    )
    lines = ["<table>", f"  <thead><tr>{head}</tr></thead>", "  <tbody>"]
    for row in rows:
        cookies = ", ".join(escape(c) for c in _cookies(row, language))
        lines.append(
            f'    <tr><th scope="row">{escape(row.service)}</th>'
            f"<td>{escape(_category_cell(row, texts))}</td>"
            f"<td>{cookies or escape(words['none'])}</td>"
            f"<td>{escape(row.purpose)}</td></tr>"
        )
    lines += ["  </tbody>", "</table>"]
    return "\n".join(lines)


# Characters Markdown would read as formatting (``_ga_*`` as emphasis, ``|``
# as the end of a cell): each is shown as itself with a backslash before it.
MARKDOWN_PUNCTUATION = frozenset("\\`*_[]|~")


def _md(text: str) -> str:
    # A cell of a Markdown table: one line, formatting and HTML kept literal.
    cell = " ".join(text.split())
    cell = "".join("\\" + c if c in MARKDOWN_PUNCTUATION else c for c in cell)
    return escape(cell, quote=False)


def table_markdown(rows: list[Row], texts: Texts, language: str) -> str:
    """The cookie table as a Markdown table, for policies kept in Markdown."""
    words = table_words(language)
    heads = [words[k] for k in ("service", "category", "cookies", "purpose")]
    lines = [
        "| " + " | ".join(_md(h) for h in heads) + " |",
        "|" + "---|" * len(heads),
    ]
    for row in rows:
        cookies = ", ".join(_cookies(row, language)) or words["none"]
        cells = [row.service, _category_cell(row, texts), cookies, row.purpose]
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return "\n".join(lines)
