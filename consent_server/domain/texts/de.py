"""The shipped German banner texts."""

from __future__ import annotations

TEXTS: dict[str, object] = {
    "title": "Ihre Privatsphäre, Ihre Wahl",
    "description": (
        "Einige Cookies braucht der Shop. Optionale für Präferenzen, Statistik und "
        "Werbung bleiben aus, solange Sie sie nicht aktivieren. Ihre Wahl können "
        "Sie jederzeit ändern."
    ),
    "accept_all": "Alle akzeptieren",
    "reject_all": "Alle ablehnen",
    "customize": "Anpassen",
    "save": "Auswahl speichern",
    "preferences_title": "Ihre Cookie-Auswahl",
    "policy_link": "Datenschutzerklärung",
    "always_on": "Immer aktiv",
    "settings": "Cookie-Einstellungen",
    "close": "Schließen",
    "placeholder": "{service} kann Cookies der Kategorie „{category}“ setzen.",
    "allow_and_play": "Zulassen und abspielen",
    "saving": "Wird gespeichert …",
    "retrying": "Noch nicht gespeichert. Neuer Versuch …",
    "gpc_honoured": (
        "Ihr Browser sendet das Signal „Global Privacy "
        "Control“. Wir respektieren es: Werbung bleibt aus."
    ),
    "categories": {
        "authentication": {
            "label": "Anmeldung und Warenkorb",
            "description": (
                "Nötig für Anmeldung und Warenkorb. Ohne sie funktioniert der Shop "
                "nicht."
            ),
        },
        "security": {
            "label": "Sicherheit",
            "description": (
                "Schutz Ihres Kontos und des Shops vor Betrug, Bots und Missbrauch."
            ),
        },
        "preferences": {
            "label": "Präferenzen",
            "description": (
                "Merken sich Sprache, Währung und Darstellung für Ihren nächsten "
                "Besuch."
            ),
        },
        "analytics": {
            "label": "Statistik",
            "description": (
                "Damit zählen wir Besuche und messen, wie gut unsere Seiten "
                "funktionieren."
            ),
        },
        "advertising": {
            "label": "Werbung",
            "description": (
                "Für Werbung von uns und Partnern, auch auf anderen Websites, samt "
                "Messung."
            ),
        },
    },
}
