"""What changed between two site config documents, in sentences an editor reads.

``German title: 'A' → 'B'``, ``service added: Hotjar``, ``categories:
analytics removed``, ``button and link colour: #1a56db → #aa0000``. Plain data in,
plain lines out: the history, the publish warning and the draft's summary
all say changes this way.
"""

from __future__ import annotations

from typing import Any

# Languages by their English names; other codes are shown as they are.
LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pt": "Portuguese",
    "pl": "Polish",
    "sv": "Swedish",
    "da": "Danish",
}
# The banner's texts, as an editor knows them.
TEXT_NAMES = {
    "title": "title",
    "description": "text",
    "accept_all": "'Accept all' button",
    "reject_all": "'Reject all' button",
    "customize": "'Customize' button",
    "save": "'Save choices' button",
    "preferences_title": "title of the second layer",
    "policy_link": "privacy policy link",
    "always_on": "'always on' label",
    "settings": "'Cookie settings' button",
    "close": "'Close' button",
    "placeholder": "placeholder of a blocked video",
    "allow_and_play": "'Allow and play' button",
    "saving": "'saving' message",
    "retrying": "'retrying' message",
    "gpc_honoured": "Global Privacy Control notice",
}
# The look's settings, named as the config page labels them.
THEME_NAMES = {
    "position": "banner position",
    "accent": "button and link colour",
    "background": "background colour",
    "text": "text colour",
    "floating": "'Cookie settings' button after the choice",
}
SETTING_NAMES = {
    "site": "site id",
    "default_language": "default language",
    "policy_url": "privacy policy address",
    "cookie_days": "days a choice is kept",
    "refusal_days": "days a refusal is kept",
    "cookie_domain": "cookie domain",
    "google_consent_mode": "Google Consent Mode",
    "gpc": "Global Privacy Control honoured",
}


def language_name(code: str) -> str:
    """``de`` as ``German``; a code we have no name for as itself."""
    return LANGUAGE_NAMES.get(code, code)


def _show(value: Any, quote: bool = False) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str):
        return f"'{value}'" if quote or not value else value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "none"
    return str(value)


def _changed(what: str, old: Any, new: Any, quote: bool = False) -> list[str]:
    if old == new:
        return []
    return [f"{what}: {_show(old, quote)} → {_show(new, quote)}"]


def _texts(lang: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    name = language_name(lang)
    lines: list[str] = []
    for key in sorted(set(old) | set(new), key=lambda k: (k not in TEXT_NAMES, k)):
        if key == "categories":
            continue
        what = f"{name} {TEXT_NAMES.get(key, key)}"
        lines += _changed(what, old.get(key), new.get(key), quote=True)
    old_cats, new_cats = old.get("categories", {}), new.get("categories", {})
    for cat in sorted(set(old_cats) & set(new_cats)):
        for part in ("label", "description"):
            lines += _changed(
                f"{name} {cat} {part}",
                old_cats[cat].get(part),
                new_cats[cat].get(part),
                quote=True,
            )
    return lines


def _services(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    before = {s["name"]: s for s in old}
    after = {s["name"]: s for s in new}
    lines = [f"service added: {n}" for n in after if n not in before]
    lines += [f"service removed: {n}" for n in before if n not in after]
    for name in (n for n in after if n in before):
        a, b = before[name], after[name]
        for key in sorted((set(a) | set(b)) - {"name"}):
            lines += _changed(f"service {name} {key}", a.get(key), b.get(key))
    return lines


def _added_removed(what: str, old: list[Any], new: list[Any]) -> list[str]:
    added = [str(v) for v in new if v not in old]
    removed = [str(v) for v in old if v not in new]
    lines = []
    if added:
        lines.append(f"{what}: {', '.join(added)} added")
    if removed:
        lines.append(f"{what}: {', '.join(removed)} removed")
    return lines


def describe(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    consent_bumped: bool = False,
) -> list[str]:
    """Each change from ``old`` to ``new`` in one line; ``old`` None for a first
    revision. ``consent_bumped`` says the consent revision went up."""
    if old is None:
        lines = ["first revision"]
    else:
        lines = []
        for key in ("site", "default_language"):
            lines += _changed(SETTING_NAMES[key], old.get(key), new.get(key))
        old_langs, new_langs = old.get("languages", {}), new.get("languages", {})
        lines += [
            f"language added: {language_name(code)}"
            for code in new_langs
            if code not in old_langs
        ]
        lines += [
            f"language removed: {language_name(code)}"
            for code in old_langs
            if code not in new_langs
        ]
        for code in (c for c in new_langs if c in old_langs):
            lines += _texts(code, old_langs[code], new_langs[code])
        lines += _added_removed(
            "categories", old.get("categories", []), new.get("categories", [])
        )
        lines += _services(old.get("services", []), new.get("services", []))
        lines += _added_removed(
            "allowed origins", old.get("origins", []), new.get("origins", [])
        )
        old_theme, new_theme = old.get("theme", {}), new.get("theme", {})
        for key in sorted(set(old_theme) | set(new_theme)):
            name = THEME_NAMES.get(key, f"look: {key}")
            lines += _changed(name, old_theme.get(key), new_theme.get(key))
        known = {"languages", "categories", "services", "origins", "theme"}
        for key in sorted((set(old) | set(new)) - known - {"site", "default_language"}):
            if key in ("revision", "consent_revision"):
                continue
            lines += _changed(SETTING_NAMES.get(key, key), old.get(key), new.get(key))
    if consent_bumped:
        lines.append("every visitor is asked again")
    return lines
