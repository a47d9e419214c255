"""Default banner texts shipped with consent-server, in our own words.

A site's config may override any of them; missing ones are filled from here.
One module a language, each with the same keys as English.
"""

from __future__ import annotations

from . import de, en, es, fr, it

DEFAULT_TEXTS: dict[str, dict[str, object]] = {
    "en": en.TEXTS,
    "de": de.TEXTS,
    "fr": fr.TEXTS,
    "es": es.TEXTS,
    "it": it.TEXTS,
}
