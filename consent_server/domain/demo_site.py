"""The ``demo`` site that ``consent-server init`` publishes, to try the banner on."""

from __future__ import annotations

from .fields import Json
from .texts import DEFAULT_TEXTS
from .vocabulary import OPTIONAL

# What the demo storefront's page loads: name, category, cookie names, the
# hosts its tags call, and what it is for.
DEMO_SERVICES = (
    ("Google Analytics", "analytics", ("_ga", "_ga_*", "_gid"),
     ("www.googletagmanager.com", "*.google-analytics.com"),
     "Counts visits and shows which pages are read."),
    ("Google Ads", "advertising", ("_gcl_*", "IDE"),
     ("www.googleadservices.com", "*.doubleclick.net"),
     "Measures which ads bring visitors to the shop."),
    ("Meta Pixel", "advertising", ("_fbp", "fr"),
     ("connect.facebook.net", "www.facebook.com"),
     "Shows our ads on Facebook and Instagram and measures them."),
    ("YouTube", "advertising", ("VISITOR_INFO1_LIVE", "YSC"),
     ("www.youtube-nocookie.com", "*.youtube.com", "*.ytimg.com"),
     "Plays the product videos."),
    ("Shop settings", "preferences", ("shop_lang", "shop_currency"), (),
     "Remembers your language and currency."),
)  # fmt: skip


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
                "name": name,
                "category": category,
                "cookies": list(cookies),
                "hosts": list(hosts),
                "purpose": purpose,
            }
            for name, category, cookies, hosts, purpose in DEMO_SERVICES
        ],
        "policy_url": "https://shop.example/privacy",
        "origins": ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        "cookie_days": 180,
        "refusal_days": 182,
        "google_consent_mode": True,
        "gpc": True,
        "theme": {"position": "bottom", "accent": "#1a56db"},
    }
