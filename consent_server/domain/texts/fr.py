"""The shipped French banner texts."""

from __future__ import annotations

TEXTS: dict[str, object] = {
    "title": "Votre vie privée, votre choix",
    "description": (
        "La boutique a besoin de certains cookies. Les autres (préférences, "
        "audience, publicité) restent désactivés sauf si vous les activez. "
        "Modifiez vos choix à tout moment."
    ),
    "accept_all": "Tout accepter",
    "reject_all": "Tout refuser",
    "customize": "Personnaliser",
    "save": "Enregistrer les choix",
    "preferences_title": "Préférences de cookies",
    "policy_link": "Confidentialité",
    "always_on": "Toujours actifs",
    "settings": "Paramètres des cookies",
    "close": "Fermer",
    "placeholder": (
        "{service} peut déposer des cookies de la catégorie « {category} »."
    ),
    "allow_and_play": "Autoriser et lire",
    "saving": "Enregistrement…",
    "retrying": "Pas encore enregistré. Nouvel essai…",
    "gpc_honoured": (
        "Votre navigateur envoie le signal Global Privacy Control : nous le "
        "respectons, la publicité reste désactivée."
    ),
    "categories": {
        "authentication": {
            "label": "Connexion et panier",
            "description": (
                "Maintiennent votre connexion et votre panier. Indispensables à la "
                "boutique."
            ),
        },
        "security": {
            "label": "Sécurité",
            "description": (
                "Protègent votre compte et la boutique contre fraude, robots et abus."
            ),
        },
        "preferences": {
            "label": "Préférences",
            "description": (
                "Mémorisent langue, devise et affichage pour vos prochaines visites."
            ),
        },
        "analytics": {
            "label": "Mesure d’audience",
            "description": (
                "Mesurent la fréquentation et les performances pour améliorer la "
                "boutique."
            ),
        },
        "advertising": {
            "label": "Publicité",
            "description": (
                "Affichage et mesure d’annonces, ici et ailleurs, avec nos partenaires."
            ),
        },
    },
}
