"""Default banner texts shipped with consent-server, in our own words.

A site's config may override any of them; missing ones are filled from here.
"""

from __future__ import annotations

DEFAULT_TEXTS: dict[str, dict[str, object]] = {
    "en": {
        "title": "Your privacy, your choice",
        "description": (
            "Some cookies are needed for the shop to work. Optional ones for "
            "preferences, analytics and advertising stay off unless you turn them on. "
            "You can change this anytime."
        ),
        "accept_all": "Accept all",
        "reject_all": "Reject all",
        "customize": "Customize",
        "save": "Save choices",
        "preferences_title": "Cookie preferences",
        "policy_link": "Privacy policy",
        "always_on": "Always on",
        "settings": "Cookie settings",
        "close": "Close",
        "placeholder": (
            "This content from {service} may set cookies in the “{category}” category."
        ),
        "allow_and_play": "Allow and play",
        "saving": "Saving…",
        "retrying": "Not saved yet. Trying again…",
        "categories": {
            "authentication": {
                "label": "Sign-in and cart",
                "description": (
                    "Keep you signed in and hold your cart. The shop can’t work "
                    "without them."
                ),
            },
            "security": {
                "label": "Security",
                "description": (
                    "Help protect your account and the shop against fraud, bots and "
                    "misuse."
                ),
            },
            "preferences": {
                "label": "Preferences",
                "description": (
                    "Remember your language, currency and display settings between "
                    "visits."
                ),
            },
            "analytics": {
                "label": "Analytics",
                "description": (
                    "Help us count visits and see how pages perform, so we can improve "
                    "the shop."
                ),
            },
            "advertising": {
                "label": "Advertising",
                "description": (
                    "Let us and our ad partners show and measure ads here and on other "
                    "sites."
                ),
            },
        },
    },
    "de": {
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
    },
    "fr": {
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
                    "Protègent votre compte et la boutique contre fraude, robots et "
                    "abus."
                ),
            },
            "preferences": {
                "label": "Préférences",
                "description": (
                    "Mémorisent langue, devise et affichage pour vos prochaines "
                    "visites."
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
                    "Affichage et mesure d’annonces, ici et ailleurs, avec nos "
                    "partenaires."
                ),
            },
        },
    },
    "es": {
        "title": "Su privacidad, su decisión",
        "description": (
            "La tienda necesita algunas cookies. Las opcionales (preferencias, "
            "estadísticas, publicidad) están desactivadas salvo que usted las active. "
            "Puede cambiarlo cuando quiera."
        ),
        "accept_all": "Aceptar todas",
        "reject_all": "Rechazar todas",
        "customize": "Personalizar",
        "save": "Guardar selección",
        "preferences_title": "Preferencias de cookies",
        "policy_link": "Política de privacidad",
        "always_on": "Siempre activas",
        "settings": "Configuración de cookies",
        "close": "Cerrar",
        "placeholder": "{service} puede usar cookies de la categoría «{category}».",
        "allow_and_play": "Permitir y reproducir",
        "saving": "Guardando…",
        "retrying": "Aún no se ha guardado. Reintentando…",
        "categories": {
            "authentication": {
                "label": "Sesión y carrito",
                "description": (
                    "Mantienen su sesión y su carrito. Sin ellas, la tienda no "
                    "funciona."
                ),
            },
            "security": {
                "label": "Seguridad",
                "description": (
                    "Protegen su cuenta y la tienda frente a fraudes, bots y abusos."
                ),
            },
            "preferences": {
                "label": "Preferencias",
                "description": (
                    "Recuerdan su idioma, moneda y ajustes de visualización entre "
                    "visitas."
                ),
            },
            "analytics": {
                "label": "Estadísticas",
                "description": (
                    "Nos ayudan a contar visitas y medir el rendimiento para mejorar "
                    "la tienda."
                ),
            },
            "advertising": {
                "label": "Publicidad",
                "description": (
                    "Muestran y miden anuncios nuestros y de socios, aquí y en otros "
                    "sitios."
                ),
            },
        },
    },
    "it": {
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
                    "Contano le visite e misurano le prestazioni per migliorare il "
                    "negozio."
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
    },
}
