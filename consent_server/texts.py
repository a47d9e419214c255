"""Default banner texts shipped with consent-server, in our own words.

A site's config may override any of them; missing ones are filled from here.
"""

from __future__ import annotations

DEFAULT_TEXTS: dict[str, dict[str, object]] = {
    "en": {
        "title": "Your privacy, your choice",
        "description": (
            "We use some cookies because the shop needs them to work, for example "
            "for your cart, sign-in and security. Others are optional: for your "
            "preferences, analytics and advertising. They stay off unless you turn "
            "them on. You can change your choice anytime in “Cookie settings”."
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
            "This content is provided by {service}, which may set cookies "
            "in the “{category}” category."
        ),
        "allow_and_play": "Allow and play",
        "saving": "Saving…",
        "retrying": "Couldn’t save your choice yet. Trying again…",
        "categories": {
            "authentication": {
                "label": "Sign-in and cart",
                "description": (
                    "Keep you signed in and hold on to your cart until checkout. "
                    "The shop can’t work without them."
                ),
            },
            "security": {
                "label": "Security",
                "description": (
                    "Help protect your account and the shop against fraud, bots "
                    "and misuse."
                ),
            },
            "preferences": {
                "label": "Preferences",
                "description": (
                    "Remember your language, currency and display settings, so you "
                    "don’t have to choose them again on every visit."
                ),
            },
            "analytics": {
                "label": "Analytics",
                "description": (
                    "Help us count visits and see how pages perform, so we can fix "
                    "problems and improve the shop."
                ),
            },
            "advertising": {
                "label": "Advertising",
                "description": (
                    "Let us and our ad partners show you ads here and on other "
                    "sites, and measure whether an ad led to a purchase."
                ),
            },
        },
    },
    "de": {
        "title": "Ihre Privatsphäre, Ihre Wahl",
        "description": (
            "Einige Cookies braucht unser Shop zum Funktionieren, etwa für "
            "Warenkorb, Anmeldung und Sicherheit. Optional sind Cookies für "
            "Präferenzen, Statistik und Werbung. Diese bleiben aus, solange Sie sie "
            "nicht einschalten. Ihre Wahl können Sie jederzeit unter "
            "„Cookie-Einstellungen“ ändern."
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
        "placeholder": (
            "Dieser Inhalt wird von {service} bereitgestellt. Dabei können "
            "Cookies der Kategorie „{category}“ gesetzt werden."
        ),
        "allow_and_play": "Zulassen und abspielen",
        "saving": "Wird gespeichert …",
        "retrying": "Ihre Wahl konnte noch nicht gespeichert werden. Neuer Versuch …",
        "categories": {
            "authentication": {
                "label": "Anmeldung und Warenkorb",
                "description": (
                    "Damit bleiben Sie angemeldet und Ihr Warenkorb bleibt bis zur "
                    "Bestellung erhalten. Ohne diese Cookies funktioniert der Shop "
                    "nicht."
                ),
            },
            "security": {
                "label": "Sicherheit",
                "description": (
                    "Diese Cookies schützen Ihr Konto und unseren Shop vor Betrug, "
                    "Bots und Missbrauch."
                ),
            },
            "preferences": {
                "label": "Präferenzen",
                "description": (
                    "Diese Cookies merken sich Sprache, Währung und Darstellung, damit "
                    "Sie diese nicht bei jedem Besuch neu wählen müssen."
                ),
            },
            "analytics": {
                "label": "Statistik",
                "description": (
                    "Damit zählen wir Besuche und messen, wie schnell und gut unsere "
                    "Seiten funktionieren, um den Shop zu verbessern."
                ),
            },
            "advertising": {
                "label": "Werbung",
                "description": (
                    "Damit zeigen wir und unsere Werbepartner Ihnen Anzeigen hier "
                    "und auf anderen Websites und messen, ob eine Anzeige zu einem "
                    "Kauf geführt hat."
                ),
            },
        },
    },
    "fr": {
        "title": "Votre vie privée, votre choix",
        "description": (
            "Certains cookies sont indispensables à la boutique (panier, connexion, "
            "sécurité). D’autres sont facultatifs : préférences, mesure d’audience "
            "et publicité. Ils restent désactivés sauf si vous les activez. Vous "
            "pouvez changer d’avis à tout moment via « Paramètres des cookies »."
        ),
        "accept_all": "Tout accepter",
        "reject_all": "Tout refuser",
        "customize": "Personnaliser",
        "save": "Enregistrer les choix",
        "preferences_title": "Préférences de cookies",
        "policy_link": "Politique de confidentialité",
        "always_on": "Toujours actifs",
        "settings": "Paramètres des cookies",
        "close": "Fermer",
        "placeholder": (
            "Ce contenu est fourni par {service}, qui peut déposer des cookies "
            "de la catégorie « {category} »."
        ),
        "allow_and_play": "Autoriser et lire",
        "saving": "Enregistrement…",
        "retrying": "Votre choix n’a pas encore pu être enregistré. Nouvel essai…",
        "categories": {
            "authentication": {
                "label": "Connexion et panier",
                "description": (
                    "Ils gardent votre session ouverte et conservent votre panier "
                    "jusqu’à la commande. Sans eux, la boutique ne fonctionne pas."
                ),
            },
            "security": {
                "label": "Sécurité",
                "description": (
                    "Ils protègent votre compte et la boutique contre la fraude, "
                    "les robots et les abus."
                ),
            },
            "preferences": {
                "label": "Préférences",
                "description": (
                    "Ils mémorisent votre langue, votre devise et vos réglages "
                    "d’affichage, pour que vous n’ayez pas à les choisir à chaque "
                    "visite."
                ),
            },
            "analytics": {
                "label": "Mesure d’audience",
                "description": (
                    "Ils nous aident à compter les visites et à mesurer les "
                    "performances des pages, afin d’améliorer la boutique."
                ),
            },
            "advertising": {
                "label": "Publicité",
                "description": (
                    "Nos partenaires publicitaires et nous les utilisons pour "
                    "afficher des annonces ici et ailleurs, et mesurer si une "
                    "annonce a mené à un achat."
                ),
            },
        },
    },
    "es": {
        "title": "Su privacidad, su decisión",
        "description": (
            "Algunas cookies son necesarias para que la tienda funcione (carrito, "
            "inicio de sesión, seguridad). Otras son opcionales: preferencias, "
            "estadísticas y publicidad. Permanecen desactivadas salvo que usted las "
            "active. Puede cambiar su elección cuando quiera en «Configuración de "
            "cookies»."
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
        "placeholder": (
            "Este contenido lo ofrece {service}, que puede usar cookies de la "
            "categoría «{category}»."
        ),
        "allow_and_play": "Permitir y reproducir",
        "saving": "Guardando…",
        "retrying": "Aún no se ha podido guardar su elección. Reintentando…",
        "categories": {
            "authentication": {
                "label": "Inicio de sesión y carrito",
                "description": (
                    "Mantienen su sesión iniciada y conservan su carrito hasta "
                    "finalizar la compra. Sin ellas, la tienda no funciona."
                ),
            },
            "security": {
                "label": "Seguridad",
                "description": (
                    "Protegen su cuenta y la tienda frente al fraude, los bots y el "
                    "uso indebido."
                ),
            },
            "preferences": {
                "label": "Preferencias",
                "description": (
                    "Recuerdan su idioma, su moneda y sus ajustes de visualización "
                    "para que no tenga que elegirlos en cada visita."
                ),
            },
            "analytics": {
                "label": "Estadísticas",
                "description": (
                    "Nos ayudan a contar las visitas y a medir el rendimiento de "
                    "las páginas para mejorar la tienda."
                ),
            },
            "advertising": {
                "label": "Publicidad",
                "description": (
                    "Nosotros y nuestros socios publicitarios las usamos para "
                    "mostrarle anuncios aquí y en otros sitios, y medir si un "
                    "anuncio llevó a una compra."
                ),
            },
        },
    },
    "it": {
        "title": "La sua privacy, la sua scelta",
        "description": (
            "Alcuni cookie sono necessari al funzionamento del negozio, ad esempio "
            "per il carrello, l’accesso e la sicurezza. Altri sono facoltativi: "
            "preferenze, statistiche e pubblicità. Restano disattivati finché non "
            "li attiva. Può cambiare idea in qualsiasi momento da "
            "«Impostazioni cookie»."
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
        "placeholder": (
            "Questo contenuto è fornito da {service}, che può usare cookie della "
            "categoria «{category}»."
        ),
        "allow_and_play": "Consenti e riproduci",
        "saving": "Salvataggio…",
        "retrying": (
            "Non è stato ancora possibile salvare la scelta. Nuovo tentativo…"
        ),
        "categories": {
            "authentication": {
                "label": "Accesso e carrello",
                "description": (
                    "Mantengono attivo l’accesso al suo account e conservano il "
                    "carrello fino all’acquisto. Senza di essi il negozio non "
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
                    "Ricordano lingua, valuta e impostazioni di visualizzazione, "
                    "così non deve sceglierle a ogni visita."
                ),
            },
            "analytics": {
                "label": "Statistiche",
                "description": (
                    "Ci aiutano a contare le visite e a misurare le prestazioni "
                    "delle pagine per migliorare il negozio."
                ),
            },
            "advertising": {
                "label": "Pubblicità",
                "description": (
                    "Li usiamo noi e i nostri partner pubblicitari per mostrarle "
                    "annunci qui e su altri siti, e per misurare se un annuncio ha "
                    "portato a un acquisto."
                ),
            },
        },
    },
}
