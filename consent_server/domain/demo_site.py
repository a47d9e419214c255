"""The ``demo`` site that ``consent-server init`` publishes, to try the banner on."""

from __future__ import annotations

from .fields import Json
from .texts import DEFAULT_TEXTS
from .vocabulary import OPTIONAL


def demo_config() -> dict[str, Json]:
    """The ``demo`` site's document: every category, our default texts, loopback
    origins. Plain JSON, as ``sites import`` reads it, to be checked on publish."""
    return {
        "site": "demo",
        "default_language": "en",
        "languages": {lang: {} for lang in DEFAULT_TEXTS},
        "categories": [*OPTIONAL],
        "services": [
            {
                "name": "Google Analytics",
                "category": "analytics",
                "cookies": ["_ga", "_ga_*", "_gid"],
            },
            {
                "name": "Google Ads",
                "category": "advertising",
                "cookies": ["_gcl_*", "IDE"],
            },
            {
                "name": "Meta Pixel",
                "category": "advertising",
                "cookies": ["_fbp", "fr"],
            },
            {
                "name": "YouTube",
                "category": "advertising",
                "cookies": ["VISITOR_INFO1_LIVE", "YSC"],
            },
            {
                "name": "Shop settings",
                "category": "preferences",
                "cookies": ["shop_lang", "shop_currency"],
            },
        ],
        "policy_url": "https://shop.example/privacy",
        "origins": ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        "cookie_days": 180,
        "google_consent_mode": True,
        "gpc": True,
        "theme": {"position": "bottom", "accent": "#1a56db"},
    }
