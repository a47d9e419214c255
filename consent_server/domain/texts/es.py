"""The shipped Spanish banner texts."""

from __future__ import annotations

TEXTS: dict[str, object] = {
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
    "gpc_honoured": (
        "Su navegador envía la señal Global Privacy "
        "Control y la respetamos: la publicidad sigue desactivada."
    ),
    "categories": {
        "authentication": {
            "label": "Sesión y carrito",
            "description": (
                "Mantienen su sesión y su carrito. Sin ellas, la tienda no funciona."
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
                "Recuerdan su idioma, moneda y ajustes de visualización entre visitas."
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
}
