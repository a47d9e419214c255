"""The shipped English banner texts."""

from __future__ import annotations

TEXTS: dict[str, object] = {
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
    "gpc_honoured": (
        "Your browser’s Global Privacy Control "
        "signal was honoured: advertising stays off."
    ),
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
                "Help protect your account and the shop against fraud, bots and misuse."
            ),
        },
        "preferences": {
            "label": "Preferences",
            "description": (
                "Remember your language, currency and display settings between visits."
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
}
