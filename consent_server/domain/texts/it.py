"""The shipped Italian banner texts."""

from __future__ import annotations

TEXTS: dict[str, object] = {
    "title": "La sua privacy, la sua scelta",
    "description": (
        "Il negozio ha bisogno di alcuni cookie. Quelli facoltativi (preferenze, "
        "statistiche, pubblicità) restano disattivati finché non li attiva. Può "
        "cambiare idea quando vuole."
    ),
    "accept_all": "Accetta tutti",
    "reject_all": "Rifiuta tutti",
    "customize": "Personalizza",
    "save": "Salva le scelte",
    "preferences_title": "Preferenze sui cookie",
    "policy_link": "Informativa sulla privacy",
    "always_on": "Sempre attivi",
    "settings": "Impostazioni cookie",
    "close": "Chiudi",
    "placeholder": "{service} può usare cookie della categoria «{category}».",
    "allow_and_play": "Consenti e riproduci",
    "saving": "Salvataggio…",
    "retrying": "Scelta non ancora salvata. Nuovo tentativo…",
    "gpc_honoured": (
        "Il suo browser invia il segnale Global Privacy "
        "Control e lo rispettiamo: la pubblicità resta disattivata."
    ),
    "categories": {
        "authentication": {
            "label": "Accesso e carrello",
            "description": (
                "Mantengono l’accesso e il carrello. Senza di essi il negozio non "
                "funziona."
            ),
        },
        "security": {
            "label": "Sicurezza",
            "description": (
                "Proteggono il suo account e il negozio da frodi, bot e abusi."
            ),
        },
        "preferences": {
            "label": "Preferenze",
            "description": (
                "Ricordano lingua, valuta e visualizzazione per le prossime visite."
            ),
        },
        "analytics": {
            "label": "Statistiche",
            "description": (
                "Contano le visite e misurano le prestazioni per migliorare il negozio."
            ),
        },
        "advertising": {
            "label": "Pubblicità",
            "description": (
                "Per mostrarle annunci nostri e dei partner, qui e altrove, e "
                "misurarli."
            ),
        },
    },
}
